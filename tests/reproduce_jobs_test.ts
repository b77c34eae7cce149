/**
 * `reproduce --jobs N` for real, as a subprocess: a signal to the parent stops its row subprocesses too
 * (none survives it), it exits 130 (SIGINT) or 143 (SIGTERM) naming the command that resumes it, and that
 * command finishes the experiment; and a row that fails gives the same exit code and message at `--jobs 1`
 * and `--jobs 2` (2 for a bad config value, which only the row's own run can see).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, type CliResult, cliResult } from "../cli/_testing.ts";
import { exists } from "../lib/io/mod.ts";

const PREFIX = "To resume: deno task cli ";

/** Tiny N-Queens rows: a checkpoint every 2 steps, so a signal finds both rows mid-run. */
const TINY = ["--set", "common.train.steps=8", "--set", "common.train.checkpoint_interval=2"];

/** The pids of the live children of `pid` (Linux: /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(e.name));
    } catch {
      // The process exited while the folder was read.
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function interruptJobs(signal: "SIGINT" | "SIGTERM", out: string): Promise<{ code: number; resume: string[] }> {
  const args = ["reproduce", "nqueens", "--profile", "smoke", ...TINY, "--jobs", "2", "--backend", "wasm"];
  const child = cliCommand([...args, "--out", out]).spawn();
  const output = child.output();
  const t0 = performance.now();
  const latest = (id: string) => exists(join(out, "rows", id, "checkpoints", "latest"));
  while (!(await latest("trm")) || !(await latest("dis"))) {
    if (performance.now() - t0 > 120_000) throw new Error("no checkpoint of both rows appeared within 120 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  const rows = await childrenOf(child.pid);
  try {
    assert.equal(rows.length, 2, `expected two row processes, found ${rows.length}`);
    child.kill(signal);
    const r: CliResult = cliResult(await output);
    assert.deepEqual(rows.filter(alive), [], `row processes still running after the parent exited:\n${r.stderr}`);
    assert.equal(await exists(join(out, "results.json")), false, "the experiment finished before the signal");
    const lines = r.stderr.split("\n").filter((l) => l.includes(PREFIX));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^Interrupted \\(${signal}\\); the last checkpoint is kept\\. `));
    const resume = lines[0].slice(lines[0].indexOf(PREFIX) + PREFIX.length).split(" ");
    return { code: r.code, resume };
  } finally {
    for (const pid of rows.filter(alive)) Deno.kill(pid, "SIGKILL");
  }
}

Deno.test({
  name: "reproduce --jobs 2: SIGINT (130) and SIGTERM (143) stop the row processes too; --resume finishes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "reproduce_jobs_test_" });
    try {
      const [int, term] = await Promise.all([
        interruptJobs("SIGINT", join(root, "int")),
        interruptJobs("SIGTERM", join(root, "term")),
      ]);
      assert.equal(int.code, 130);
      assert.equal(term.code, 143);
      assert.equal(int.resume.at(-1), "--resume");
      const resumed = cliResult(await cliCommand(int.resume).output());
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok(await exists(join(root, "int", "results.json")));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** A bad value only the row's run sees: epochs too few for one optimiser step, found once the data is loaded. */
const BAD_ROW = ["--set", "rows.trm.train.steps=null", "--set", "rows.trm.train.epochs=0.00001"];

Deno.test("reproduce: a row's bad config value exits 2 with the row's message at --jobs 1 and --jobs 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "reproduce_jobs_test_" });
  try {
    const run = async (jobs: number) =>
      cliResult(
        await cliCommand([
          "reproduce",
          "nqueens",
          "--profile",
          "smoke",
          "--set",
          "common.train.steps=2",
          ...BAD_ROW,
          "--jobs",
          String(jobs),
          "--backend",
          "wasm",
          "--out",
          join(root, `jobs-${jobs}`),
        ]).output(),
      );
    const [one, two] = await Promise.all([run(1), run(2)]);
    const message = "0.00001 epochs of 7200 groups at batch size 8 give no optimiser step";
    for (const [jobs, r] of [[1, one], [2, two]] as const) {
      assert.equal(r.code, 2, `--jobs ${jobs}:\n${r.stderr}`);
      const last = r.stderr.trimEnd().split("\n").at(-1)!;
      assert.match(last, /^error: /, `--jobs ${jobs}`);
      assert.ok(last.includes(message), `--jobs ${jobs}: ${last}`);
    }
    assert.ok(two.stderr.trimEnd().split("\n").at(-1)!.includes(`row "trm" exited 2`), two.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
