import assert from "node:assert/strict";
import { join } from "node:path";
import { Command } from "commander";
import { runCli } from "./_common.ts";
import { makeCommand } from "./data.ts";
import { arcIndexFromJson } from "../lib/data/mod.ts";
import { FIXTURES, realDataDir } from "../lib/data/_testing.ts";

/** Runs `trm-dis data ...` in-process, capturing what it prints. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const program = new Command("trm-dis").option("--verbose").addCommand(makeCommand());
    const code = await runCli(program, ["data", ...args]);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const data = realDataDir();

Deno.test("data nqueens writes the chosen format and prints counts, hashes, overlap and ceiling", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run(
      "nqueens",
      "--variant",
      "released-code",
      "--seed",
      "3",
      "--out",
      join(dir, "nq"),
      "--format",
      "trm",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /train: 7200 examples in 800 groups/);
    assert.match(r.out, /test: {2}200 examples/);
    assert.match(r.out, /hashes: set [0-9a-f]{64}/);
    assert.match(r.out, /overlap: \d+ of 200 test inputs also occur in train/);
    assert.match(r.out, /test exact-match ceiling: 0\.\d{4}/);
    const summary = JSON.parse(await Deno.readTextFile(join(dir, "nq", "summary.json")));
    assert.equal(summary.splits.train.examples, 7200);
    assert.ok(summary.files["train/all__inputs.npy"].sha256);
    const again = await run(
      "nqueens",
      "--variant",
      "released-code",
      "--seed",
      "3",
      "--out",
      join(dir, "nq2"),
      "--format",
      "trm",
    );
    assert.deepEqual(
      await Deno.readFile(join(dir, "nq2", "train", "all__inputs.npy")),
      await Deno.readFile(join(dir, "nq", "train", "all__inputs.npy")),
    );
    assert.equal(again.code, 0);
    const bad = await run("nqueens", "--variant", "bogus", "--out", join(dir, "x"));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /error: Cannot build N-Queens: unknown variant "bogus"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data arc: a bad task file or an unknown set is exit 2 with the file and task named, and no output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A data directory whose ARC-AGI-1 training folder holds one good and one non-rectangular task.
    const training = join(dir, "data", "arc-agi-1", "training");
    await Deno.mkdir(training, { recursive: true });
    await Deno.copyFile(join(FIXTURES, "tasks", "flip.json"), join(training, "flip.json"));
    await Deno.copyFile(join(FIXTURES, "bad", "not_rectangular.json"), join(training, "0badbad0.json"));
    const out = join(dir, "out");
    const r = await run("arc", "--data-dir", join(dir, "data"), "--augmentations", "2", "--out", out);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /error: Cannot load task "0badbad0" from ".*0badbad0\.json": grid "train\[0\]\.input" is not rectangular/,
    );
    assert.ok(!(await Array.fromAsync(Deno.readDir(dir))).some((e) => e.name === "out" || e.name.startsWith(".out")));
    const unknown = await run("arc", "--set", "arc-agi-3", "--out", out);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown set "arc-agi-3"/);
    const fetchBad = await run("fetch", "--set", "nope", "--cache", join(dir, "cache"));
    assert.equal(fetchBad.code, 2);
    assert.match(fetchBad.err, /Cannot fetch: unknown set "nope"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "data arc builds the ARC-AGI-1 index and prints counts and hashes",
  ignore: data === null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const r = await run("arc", "--set", "arc-agi-1", "--augmentations", "2", "--data-dir", data!, "--out", dir);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /tasks: training 400, evaluation 400, concept 160; test subset evaluation/);
      assert.match(r.out, /test: 400 groups/);
      assert.match(r.out, /augmentation hash [0-9a-f]{64}/);
      const index = arcIndexFromJson(JSON.parse(await Deno.readTextFile(join(dir, "index.json"))), "index.json");
      assert.equal(index.tasks.length, 960);
      assert.match(r.out, new RegExp(index.augmentationHash));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("data arc --canvas leaves out and counts the tasks that do not fit; --counts tabulates them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const root = join(dir, "data");
    const put = async (sub: string, name: string) => {
      await Deno.mkdir(join(root, sub), { recursive: true });
      await Deno.copyFile(join(FIXTURES, "tasks", `${name}.json`), join(root, sub, `${name}.json`));
    };
    await put("arc-agi-1/training", "flip");
    await put("arc-agi-1/evaluation", "grow");
    await put("arc-agi-1/evaluation", "big");
    await put("concept-arc/Copy", "mono2x3");
    const out = join(dir, "out");
    const r = await run("arc", "--data-dir", root, "--augmentations", "2", "--canvas", "6", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /6x6 canvas/);
    assert.match(r.out, /left out \(a grid larger than 6x6\): 1 tasks \(evaluation 1\)/);
    assert.match(r.out, /tasks: training 1, evaluation 1, concept 1/);
    const index = arcIndexFromJson(JSON.parse(await Deno.readTextFile(join(out, "index.json"))), "index.json");
    assert.equal(index.canvas, 6);
    assert.deepEqual(index.excluded.map((x) => [x.id, x.h, x.w]), [["big", 1, 30]]);
    const c = await run("arc", "--data-dir", root, "--counts");
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /\| evaluation \| 2 \(3\) \| 1 \(2\) \| 1 \(2\) \| 1 \(2\) \|/);
    const bad = await run("arc", "--data-dir", root, "--canvas", "31", "--out", out);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Cannot use an ARC canvas of side 31/);
    const noOut = await run("arc", "--data-dir", root);
    assert.equal(noOut.code, 2);
    assert.match(noOut.err, /--out <dir> is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
