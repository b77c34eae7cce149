/**
 * Ctrl-C for real: `train` runs as a subprocess, gets SIGINT (or SIGTERM) once its first checkpoint is
 * written, and must exit 130 (143) with one stderr line naming the command that resumes it; that command,
 * run as printed, then finishes the run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, cliResult } from "../cli/_testing.ts";
import { exists } from "../lib/io/mod.ts";

const PREFIX = "To resume: deno task cli ";

async function interrupt(signal: "SIGINT" | "SIGTERM", out: string): Promise<{ code: number; resume: string[] }> {
  const args = ["train", "fixtures/train/dis_tiny.yaml", "--set", "train.steps=48", "--out", out, "--backend", "wasm"];
  const child = cliCommand(args).spawn();
  const t0 = performance.now();
  while (!(await exists(join(out, "checkpoints", "latest")))) {
    if (performance.now() - t0 > 120_000) throw new Error("no checkpoint appeared within 120 s");
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill(signal);
  const r = cliResult(await child.output());
  assert.equal(await exists(join(out, "results.json")), false, "the run finished before the signal");
  const lines = r.stderr.split("\n").filter((l) => l.includes(PREFIX));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^Interrupted \\(${signal}\\); the last checkpoint is kept\\. `));
  const resume = lines[0].slice(lines[0].indexOf(PREFIX) + PREFIX.length).split(" ");
  assert.deepEqual(resume, [...args, "--resume"]);
  return { code: r.code, resume };
}

Deno.test({
  name: "train: SIGINT exits 130 and SIGTERM 143, each naming the --resume command, which then finishes the run",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "interrupt_test_" });
    try {
      const [int, term] = await Promise.all([
        interrupt("SIGINT", join(root, "int")),
        interrupt("SIGTERM", join(root, "term")),
      ]);
      assert.equal(int.code, 130);
      assert.equal(term.code, 143);
      const resumed = cliResult(await cliCommand(int.resume).output());
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok(await exists(join(root, "int", "results.json")));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
