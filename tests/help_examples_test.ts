/**
 * Every example in `reproduce --help` and `train --help` works when copied: each is run through the real
 * CLI (in-process) with `--print-config` added, which parses every option, loads the profile or config with
 * the `--set` overrides, resolves every row, and stops before training. A key that a command rejects (the old
 * help's `--set model.hidden_size=512`) fails here.
 */
import assert from "node:assert/strict";
import { main } from "../cli/main.ts";
import { REPRODUCE_EXAMPLES } from "../cli/reproduce.ts";
import { TRAIN_EXAMPLES } from "../cli/train.ts";

/** The argument lists of the `deno task ...` lines of a help text, after the task (`cli` dropped). */
function examples(help: string, task: string): string[][] {
  return help.split("\n").map((l) => l.trim()).filter((l) => l.startsWith(`deno task ${task} `))
    .map((l) => l.slice(`deno task ${task} `.length).split(/\s+/));
}

async function quietly(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  const log = console.log;
  const err = console.error;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await f(), out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = err;
  }
}

Deno.test("every reproduce --help example is accepted, and --print-config prints each row's config", async () => {
  const list = examples(REPRODUCE_EXAMPLES, "reproduce");
  assert.ok(list.length >= 5, "examples found");
  for (const args of list) {
    const argv = [
      "reproduce",
      ...args,
      ...(args.includes("--print-config") || args.includes("--list") ? [] : ["--print-config"]),
    ];
    const r = await quietly(() => main(argv));
    assert.equal(r.code, 0, `${argv.join(" ")}:\n${r.out}`);
    if (args.includes("--list")) assert.match(r.out, /nqueens/);
    else assert.match(r.out, /# row dis \(DIS\): the training-run config it resolves to/);
  }
  const steps = await quietly(() =>
    main(["reproduce", "nqueens", "--profile", "smoke", "--set", "common.train.steps=4", "--print-config"])
  );
  assert.match(steps.out, /steps: 4\n/);
  const bad = await quietly(() =>
    main(["reproduce", "nqueens", "--profile", "smoke", "--set", "model.hidden_size=512", "--print-config"])
  );
  assert.equal(bad.code, 2, "the old help's example is rejected");
});

Deno.test("every train --help example is accepted", async () => {
  const list = examples(TRAIN_EXAMPLES, "cli train");
  assert.equal(list.length, 3);
  for (const args of list) {
    const argv = ["train", ...args.filter((a) => a !== "--resume"), "--print-config"];
    const r = await quietly(() => main(argv));
    assert.equal(r.code, 0, `${argv.join(" ")}:\n${r.out}`);
    assert.match(r.out, /preset: nqueens-(dis|trm)-paper/);
  }
});
