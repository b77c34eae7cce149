/**
 * What an output path may be, for real (issue 13, classes 1, 2 and 8), through the CLI as a subprocess:
 *
 * - every command that writes a folder refuses a folder of the user's files and a regular file with exit 2,
 *   naming the path, and leaves them as they were; `--out .` writes into an empty working folder and leaves
 *   no temporary;
 * - a folder being written is locked: a second writer gets exit 2 naming the folder and the holder; a stale
 *   lock (a dead pid) is taken over with a message; SIGTERM releases the lock;
 * - the temporaries a killed process left are swept by the next run of the same command, and a live
 *   process's never are.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, type CliResult, cliResult, ROOT } from "../cli/_testing.ts";
import { exists, LOCK_FILE, OUTPUT_MARKER, tempName } from "../lib/io/mod.ts";
import { deadPid } from "../lib/io/_testing.ts";
import { InputError } from "../lib/errors.ts";
import { moveAside } from "../lib/experiment/mod.ts";

const TINY = "fixtures/train/dis_tiny.yaml";

async function cli(args: string[]): Promise<CliResult> {
  return cliResult(await cliCommand(args, { unset: ["TRM_DIS_DATA_DIR"] }).output());
}

/** Every command that writes a folder, with its output at `out`. */
function folderWriters(out: string, scratch: string): Record<string, string[]> {
  return {
    "data nqueens": ["data", "nqueens", "--out", out],
    "data arc": ["data", "arc", "--augmentations", "1", "--data-dir", join(ROOT, "fixtures", "data"), "--out", out],
    "train": ["train", TINY, "--set", "train.steps=2", "--backend", "wasm", "--out", out],
    "reproduce": ["reproduce", "nqueens", "--profile", "smoke", "--backend", "wasm", "--out", out],
    "reproduce --seeds": [
      "reproduce",
      "nqueens",
      "--profile",
      "smoke",
      "--seeds",
      "0",
      "--backend",
      "wasm",
      "--out",
      out,
    ],
    "analyze": ["analyze", join(scratch, "no-run"), "--out", out],
    "verify": ["verify", "--only", "nqueens", "--out", out],
  };
}

Deno.test("every folder-writing command refuses a folder of the user's files and a regular file (exit 2)", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const file = join(root, "notes.txt");
    await Deno.writeTextFile(file, "the user's file");
    const user = join(root, "mine");
    await Deno.mkdir(join(user, "sub"), { recursive: true });
    await Deno.writeTextFile(join(user, "thesis.tex"), "the user's work");
    const cases = [
      ...Object.entries(folderWriters(user, root)).map(([name, args]) => ({ name, args, out: user })),
      ...Object.entries(folderWriters(file, root)).map(([name, args]) => ({ name: `${name} (file)`, args, out: file })),
      { name: "data manifest (folder)", args: ["data", "manifest", "--data-dir", root, "--out", user], out: user },
    ];
    const results = await Promise.all(cases.map((c) => cli(c.args)));
    for (const [i, c] of cases.entries()) {
      const r = results[i];
      assert.equal(r.code, 2, `${c.name}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`"${c.out}"`), `${c.name} names the path: ${r.stderr}`);
      if (c.out === user && !c.name.startsWith("data manifest")) assert.match(r.stderr, /thesis\.tex/, c.name);
    }
    assert.equal(await Deno.readTextFile(file), "the user's file");
    assert.deepEqual([...Deno.readDirSync(user)].map((e) => e.name).sort(), ["sub", "thesis.tex"]);
    assert.equal(await Deno.readTextFile(join(user, "thesis.tex")), "the user's work");
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["mine", "notes.txt"], "no temporary");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** `data nqueens --out .` run in `cwd`. */
async function buildHere(cwd: string): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", join(ROOT, "mod.ts"), "data", "nqueens", "--out", "."],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return cliResult(out);
}

Deno.test("data --out .: an empty working folder gets the dataset, one with user files is refused; no temporary either way", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const here = join(root, "here");
    await Deno.mkdir(here);
    const built = await buildHere(here);
    assert.equal(built.code, 0, built.stderr);
    assert.deepEqual([...Deno.readDirSync(here)].map((e) => e.name).sort(), [
      OUTPUT_MARKER,
      "nqueens.json",
      "summary.json",
    ]);
    assert.equal((await buildHere(here)).code, 0, "an earlier dataset is replaced");
    const mine = join(root, "mine");
    await Deno.mkdir(mine);
    await Deno.writeTextFile(join(mine, "notes.txt"), "mine");
    const refused = await buildHere(mine);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /Cannot build N-Queens in "\.": it holds files that are not an earlier dataset/);
    assert.deepEqual([...Deno.readDirSync(mine)].map((e) => e.name), ["notes.txt"]);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["here", "mine"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a data build sweeps a killed build's temporary beside its output, never a live process's", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const stale = tempName("ds", await deadPid(), 1);
    const live = tempName("ds", Deno.pid, 1);
    for (const t of [stale, live, `${tempName("other", await deadPid(), 1)}`]) {
      await Deno.mkdir(join(root, t));
      await Deno.writeTextFile(join(root, t, "nqueens.json"), "half written");
    }
    const r = await cli(["data", "nqueens", "--out", join(root, "ds")]);
    assert.equal(r.code, 0, r.stderr);
    const left = [...Deno.readDirSync(root)].map((e) => e.name);
    assert.ok(!left.includes(stale), "the dead build's temporary is gone");
    assert.ok(left.includes(live), "a live process's temporary is kept");
    assert.equal(left.length, 3, `only the output's own kind is swept: ${left.join(", ")}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "train: a second writer of a run folder is refused (exit 2, naming the holder); SIGTERM releases the lock",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
    try {
      // Two writers of one run folder.
      const run = join(root, "run");
      const args = ["train", TINY, "--set", "train.steps=5000", "--backend", "wasm", "--out", run];
      const first = cliCommand(args).spawn();
      const t0 = performance.now();
      while (!(await exists(join(run, "checkpoints", "latest")))) {
        if (performance.now() - t0 > 120_000) throw new Error("no checkpoint appeared within 120 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      const holder = JSON.parse(await Deno.readTextFile(join(run, LOCK_FILE)));
      assert.equal(holder.pid, first.pid);
      const second = await cli([...args, "--resume"]);
      first.kill("SIGTERM");
      const firstOut = cliResult(await first.output());
      assert.equal(firstOut.code, 143, firstOut.stderr);
      assert.equal(second.code, 2, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `Cannot write "${run}": it is being written by process ${first.pid} on host "[^"]+", started \\d{4}-`,
        ),
      );
      assert.equal(await exists(join(run, LOCK_FILE)), false, "SIGTERM released the lock");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("train: a stale lock is taken over with a message; what a killed run left is swept, a live pid's kept", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const run = join(root, "run");
    await Deno.mkdir(run);
    const dead = await deadPid();
    const stale = { pid: dead, host: Deno.hostname(), started: "2026-01-01T00:00:00.000Z", command: ["train"] };
    await Deno.writeTextFile(join(run, LOCK_FILE), JSON.stringify(stale));
    const top = [join(run, tempName("metrics.jsonl", dead, 2)), join(run, tempName("config.yaml", Deno.pid, 2))];
    for (const p of top) await Deno.writeTextFile(p, "half written");
    const args = ["train", TINY, "--set", "train.steps=2", "--backend", "wasm", "--out", run];
    const fresh = await cli(args);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(
      fresh.stderr,
      new RegExp(`Took over the stale lock of "${run}": process ${dead} .* no longer running`),
    );
    assert.deepEqual([await exists(top[0]), await exists(top[1])], [false, true], "dead swept, live kept");
    assert.equal(JSON.parse(await Deno.readTextFile(join(run, OUTPUT_MARKER))).kind, "run");
    assert.equal(await exists(join(run, LOCK_FILE)), false, "released at the end");
    // A kill during the checkpoint pointer's write leaves .latest.tmp-*: the next run of the folder sweeps it.
    const ckpt = join(run, "checkpoints");
    const pointer = [join(ckpt, tempName("latest", dead, 7)), join(ckpt, tempName("latest", Deno.pid, 7))];
    for (const p of pointer) await Deno.writeTextFile(p, "step-0");
    const resumed = await cli([...args, "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual([await exists(pointer[0]), await exists(pointer[1])], [false, true], "dead swept, live kept");
    assert.equal(await exists(join(run, LOCK_FILE)), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("reproduce: an experiment folder locked by a live process is refused with exit 2, nothing written", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const exp = join(root, "exp");
    await Deno.mkdir(exp);
    const live = { pid: Deno.pid, host: Deno.hostname(), started: "2026-01-01T00:00:00.000Z", command: ["reproduce"] };
    await Deno.writeTextFile(join(exp, LOCK_FILE), JSON.stringify(live));
    const args = ["reproduce", "nqueens", "--profile", "smoke", "--backend", "wasm", "--set", "common.train.steps=2"];
    const r = await cli([...args, "--out", exp]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`Cannot write "${exp}": it is being written by process ${Deno.pid} on host`));
    assert.deepEqual([...Deno.readDirSync(exp)].map((e) => e.name), [LOCK_FILE], "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Every lock file under `dir`. */
async function locksUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.name === LOCK_FILE) found.push(p);
    else if (e.isDirectory) found.push(...await locksUnder(p));
  }
  return found;
}

Deno.test("reproduce --jobs 2: the parent's lock does not block its row processes; --force moves the marked folder aside", async () => {
  const root = await Deno.makeTempDir({ prefix: "outputs_test_" });
  try {
    const exp = join(root, "exp");
    const args = ["reproduce", "nqueens", "--profile", "smoke", "--backend", "wasm", "--set", "common.train.steps=2"];
    const r = await cli([...args, "--jobs", "2", "--out", exp]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rows trained now: trm, dis/);
    for (const [dir, kind] of [[exp, "experiment"], [join(exp, "rows", "dis"), "run"]]) {
      assert.equal(JSON.parse(await Deno.readTextFile(join(dir, OUTPUT_MARKER))).kind, kind, dir);
    }
    assert.deepEqual(await locksUnder(root), [], "every lock released");
    const forced = await cli([...args, "--rows", "dis", "--force", "--out", exp]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(await exists(join(`${exp}.old-1`, "rows", "trm", "results.json")), "the old folder is kept whole");
    assert.equal(JSON.parse(await Deno.readTextFile(join(exp, OUTPUT_MARKER))).kind, "experiment");
    assert.deepEqual(await locksUnder(root), [], "every lock released, the moved one too");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("reproduce --force cannot move the working folder aside: exit 2 instead of a raw rename error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "outputs_test_" });
  const here = Deno.cwd();
  try {
    Deno.chdir(dir);
    await assert.rejects(
      moveAside("."),
      (e: Error) => e instanceof InputError && /it is the working folder/.test(e.message),
    );
    assert.equal(Deno.cwd(), dir);
  } finally {
    Deno.chdir(here);
    await Deno.remove(dir, { recursive: true });
  }
});
