/**
 * Resume reproduces every output byte, not only the weights, through the real CLI (`train` as a
 * subprocess, tiny DIS run, wasm): a run killed with SIGKILL at several points and resumed each time, and a
 * finished run resumed, end with the results.json, report.md, plots and model of an uninterrupted run; a
 * metrics.jsonl that was deleted, emptied or cut short is refused with exit 2 naming the file, since the
 * checkpoint cannot rebuild the evaluation points it held; a resume on another backend is refused with exit 2
 * unless `--allow-backend-change`, and then run.json lists both backends.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, type CliResult, cliResult } from "../cli/_testing.ts";
import { exists } from "../lib/io/mod.ts";

/** Eight steps, a log, an evaluation and a checkpoint every two: every kill point has eval points before it. */
const ARGS = [
  "train",
  "fixtures/train/dis_tiny.yaml",
  ...["--set", "train.steps=8", "--set", "train.log_interval=2", "--set", "train.eval_interval=2"],
  ...["--set", "train.checkpoint_interval=2", "--set", "train.warmup_steps=2"],
  ...["--set", "eval.max_examples=8", "--set", "eval.batch_size=8"],
];
const OUTPUTS = ["results.json", "report.md", "accuracy.svg", "train_loss.svg", "model.safetensors"];

function train(out: string, ...extra: string[]): Deno.Command {
  return cliCommand([...ARGS, "--out", out, "--backend", "wasm", ...extra]);
}

async function run(out: string, ...extra: string[]): Promise<CliResult> {
  return cliResult(await train(out, ...extra).output());
}

async function latestStep(dir: string): Promise<number> {
  try {
    return Number((await Deno.readTextFile(join(dir, "checkpoints", "latest"))).trim().slice("step-".length));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}

/** Starts `train` (resuming when the folder has a checkpoint) and SIGKILLs it once a checkpoint at `step` or later appears. */
async function killAt(out: string, step: number): Promise<number> {
  const resume = (await latestStep(out)) > 0 ? ["--resume"] : [];
  const child = train(out, ...resume).spawn();
  const output = child.output();
  const t0 = performance.now();
  while ((await latestStep(out)) < step) {
    if (performance.now() - t0 > 120_000) throw new Error(`no checkpoint at step ${step} within 120 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill("SIGKILL");
  const r = cliResult(await output);
  assert.notEqual(r.code, 0, `the run finished before the kill at step ${step}`);
  return await latestStep(out);
}

async function assertSameOutputs(dir: string, reference: string, what: string): Promise<void> {
  for (const f of OUTPUTS) {
    const [a, b] = [await Deno.readFile(join(dir, f)), await Deno.readFile(join(reference, f))];
    // Text files compared as text, so a failure shows the lines that moved.
    if (f.endsWith(".safetensors")) assert.ok(a.length === b.length && a.every((x, i) => x === b[i]), `${what}: ${f}`);
    else assert.equal(new TextDecoder().decode(a), new TextDecoder().decode(b), `${what}: ${f} differs`);
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

const root = await Deno.makeTempDir({ prefix: "resume_outputs_test_" });
const straight = join(root, "straight");
const killed = join(root, "killed");
// The uninterrupted reference and a run killed at its first checkpoint (the fixture of the refusals below).
const [straightRun, firstKill] = await Promise.all([run(straight), killAt(killed, 2)]);
assert.equal(straightRun.code, 0, straightRun.stderr);
const stopped = join(root, "stopped");
await copyTree(killed, stopped);

Deno.test("train: killed at several points and resumed each time, the outputs are those of an uninterrupted run", async () => {
  const steps = [firstKill, await killAt(killed, 4), await killAt(killed, 6)];
  assert.ok(steps.every((s, i) => s < 8 && (i === 0 || s > steps[i - 1])), `killed at steps ${steps}`);
  const resumed = await run(killed, "--resume");
  assert.equal(resumed.code, 0, resumed.stderr);
  await assertSameOutputs(killed, straight, `killed at steps ${steps.join(", ")}`);
});

Deno.test("train: resuming a finished run rewrites the same outputs", async () => {
  const again = join(root, "again");
  await copyTree(straight, again);
  const r = await run(again, "--resume");
  assert.equal(r.code, 0, r.stderr);
  await assertSameOutputs(again, straight, "a finished run resumed");
});

Deno.test("train: resume refuses a metrics.jsonl that was deleted, emptied or cut short (exit 2, naming it)", async () => {
  const text = await Deno.readTextFile(join(stopped, "metrics.jsonl"));
  const cases: [string, (file: string) => Promise<void>][] = [
    ["deleted", (f) => Deno.remove(f)],
    ["emptied", (f) => Deno.writeTextFile(f, "")],
    ["cut short", (f) => Deno.writeTextFile(f, text.split("\n")[0] + "\n")],
  ];
  await Promise.all(cases.map(async ([what, damage], i) => {
    const dir = join(root, `metrics-${i}`);
    await copyTree(stopped, dir);
    const file = join(dir, "metrics.jsonl");
    await damage(file);
    const r = await run(dir, "--resume");
    assert.equal(r.code, 2, `${what}:\n${r.stderr}`);
    assert.ok(r.stderr.includes(`"${file}" does not hold the metrics up to step ${firstKill}`), `${what}: ${r.stderr}`);
    assert.equal(await exists(join(dir, "results.json")), false, `${what}: the run went on`);
  }));
});

Deno.test("train: resume on another backend is refused (exit 2) unless --allow-backend-change, which run.json records", async () => {
  const dir = join(root, "backend");
  await copyTree(straight, dir);
  const refused = await run(dir, "--resume", "--backend", "cpu");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /Cannot resume ".*" on backend "cpu(\+openblas)?": its checkpoint at step 8 was trained on "wasm/,
  );
  assert.ok(refused.stderr.includes("--allow-backend-change"), refused.stderr);
  const allowed = await run(dir, "--resume", "--backend", "cpu", "--allow-backend-change");
  assert.equal(allowed.code, 0, allowed.stderr);
  const used = JSON.parse(await Deno.readTextFile(join(dir, "run.json"))).extra.backendsUsed as string[];
  assert.deepEqual(used.map((b) => b.replace(/\+openblas$/, "")), ["wasm", "cpu"]);
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
