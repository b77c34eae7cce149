/**
 * The training loop in-process on the wasm backend with tiny N-Queens runs (fixtures/train): determinism of
 * every byte-stable output, the metrics log, evaluation points, forward-pass accounting, divergence, the
 * refusals, and no leaked tensors. Killing and resuming a run is tested through the CLI in
 * tests/resume_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../backend/mod.ts";
import { CheckpointError, InputError } from "../errors.ts";
import { stableJson } from "../report/mod.ts";
import { findLatestCheckpoint, loadCheckpoint } from "./checkpoint.ts";
import { loadTrainConfig } from "./config.ts";
import { NonFiniteError } from "./grad.ts";
import { runTraining } from "./loop.ts";

await initBackend("wasm");

const FIXTURES = new URL("../../fixtures/train/", import.meta.url).pathname;

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "loop_test_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** A file's SHA-256: comparing digests keeps assert from diffing large byte arrays. */
async function digest(dir: string, file: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(join(dir, file)));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("two runs of one config give byte-identical results.json, report.md, plots and model files", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), { overrides: ["train.steps=12"] });
  const before = tf.memory().numTensors;
  const out = await runTraining(loaded, { runDir: a.dir });
  assert.equal(tf.memory().numTensors, before, "runTraining leaked tensors");
  await runTraining(loaded, { runDir: b.dir });
  for (const f of ["results.json", "report.md", "train_loss.svg", "accuracy.svg", "model.safetensors", "config.yaml"]) {
    assert.equal(await digest(a.dir, f), await digest(b.dir, f), f);
  }
  assert.equal(await Deno.readTextFile(join(a.dir, "config.yaml")), loaded.resolvedYaml);
  // The other seed trains other weights.
  await using c = await tempDir();
  const other = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), { overrides: ["train.steps=12", "seed=1"] });
  await runTraining(other, { runDir: c.dir });
  assert.notEqual(await digest(a.dir, "model.safetensors"), await digest(c.dir, "model.safetensors"));

  assert.equal(out.step, 12);
  assert.equal(out.resumedFrom, null);
  assert.equal(out.throughput.steps, 12);
  assert.ok(out.throughput.samplesPerSecond > 0);
  const results = JSON.parse(await Deno.readTextFile(join(a.dir, "results.json")));
  assert.deepEqual(results.results, JSON.parse(stableJson(out.results)));
  const fp = results.results.forward_passes;
  assert.equal(fp.per_sample_inference, 18);
  assert.equal(fp.training.mean_per_completed_sample, 18);
  assert.equal(fp.training.optimizer_steps, 12);
  assert.equal(fp.training.samples_completed, 2 * 16);
  assert.equal(results.results.params.puzzle_emb_bytes, 32 * 4);
  assert.equal(results.results.eval.examples, 32);
  assert.equal(results.results.eval.summary.count, 32);
});

Deno.test("checkpoints by time (train.checkpoint_minutes) change no output byte, and a resume from one is exact", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  const base = [
    "train.steps=10",
    "train.eval_interval=5",
    "train.log_interval=3",
    "train.checkpoint_interval=0",
    "train.keep_checkpoints=100",
  ];
  const off = await loadTrainConfig(join(FIXTURES, "trm_tiny.yaml"), {
    overrides: [...base, "train.checkpoint_minutes=0"],
  });
  // 6 ms: on this tiny run, a checkpoint after nearly every step.
  const often = await loadTrainConfig(join(FIXTURES, "trm_tiny.yaml"), {
    overrides: [...base, "train.checkpoint_minutes=0.0001"],
  });
  assert.equal(often.hash, off.hash, "checkpoint_minutes is not part of the config hash");
  assert.ok(!("checkpoint_minutes" in (await loadTrainConfig(join(FIXTURES, "trm_tiny.yaml"))).config.train));
  await runTraining(off, { runDir: a.dir });
  await runTraining(often, { runDir: b.dir });
  const steps = async (dir: string) => {
    const names: string[] = [];
    for await (const e of Deno.readDir(join(dir, "checkpoints"))) if (e.isDirectory) names.push(e.name);
    return names.sort();
  };
  assert.deepEqual(await steps(a.dir), ["step-000010"]);
  const timed = await steps(b.dir);
  assert.ok(timed.length >= 3, `expected checkpoints by time, got ${timed.join(", ")}`);
  const outputs = ["results.json", "report.md", "model.safetensors", "ema.safetensors", "metrics.jsonl"];
  const same = async (dir: string) => {
    for (const f of outputs) {
      const got = f === "metrics.jsonl" ? withoutSpeed(await Deno.readTextFile(join(dir, f))) : await digest(dir, f);
      const want = f === "metrics.jsonl"
        ? withoutSpeed(await Deno.readTextFile(join(a.dir, f)))
        : await digest(a.dir, f);
      assert.equal(got, want, `${f} of ${dir}`);
    }
  };
  await same(b.dir);
  // Resume from the earliest time checkpoint before the end, with time checkpoints now off.
  const from = timed.find((n) => n !== "step-000010")!;
  for (const n of timed) if (n !== from) await Deno.remove(join(b.dir, "checkpoints", n), { recursive: true });
  await Deno.writeTextFile(join(b.dir, "checkpoints", "latest"), `${from}\n`);
  const again = await runTraining(off, { runDir: b.dir, resume: true });
  assert.equal(again.resumedFrom, Number(from.slice("step-".length)));
  await same(b.dir);
});

/** metrics.jsonl without its wall-clock field. */
function withoutSpeed(text: string): string {
  return text.trim().split("\n").map((l) => {
    const { samples_per_s: _, ...r } = JSON.parse(l);
    return JSON.stringify(r);
  }).join("\n");
}

Deno.test("metrics.jsonl: a train record every log_interval steps, eval records at eval_interval and the end", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "trm_tiny.yaml"), {
    overrides: ["train.steps=10", "train.eval_interval=4", "train.log_interval=3"],
  });
  const evals: number[] = [];
  const out = await runTraining(loaded, { runDir: t.dir, onEval: (p) => evals.push(p.step) });
  const lines = (await Deno.readTextFile(join(t.dir, "metrics.jsonl"))).trim().split("\n").map((l) => JSON.parse(l));
  const train = lines.filter((r) => r.kind === "train");
  assert.deepEqual(train.map((r) => r.step), [3, 6, 9, 10]);
  assert.deepEqual(train.map((r) => r.window), [3, 3, 3, 1]);
  for (const r of train) {
    for (
      const k of ["lr", "loss", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps", "count", "samples_per_s"]
    ) {
      assert.ok(k in r, `record at step ${r.step} lacks ${k}`);
    }
    assert.equal(r.lr, 0.001 * Math.min(1, r.step / 4));
  }
  assert.deepEqual(lines.filter((r) => r.kind === "eval").map((r) => r.step), [4, 8, 10]);
  assert.deepEqual(evals, [4, 8, 10]);
  assert.deepEqual(out.evalCurve.map((p) => p.step), [4, 8, 10]);
  assert.equal(out.evalCurve[2].summary.exact, out.finalEval?.summary.exact);
  // EMA is on: the final checkpoint holds the shadow, and the folder an ema.safetensors.
  const state = await loadCheckpoint((await findLatestCheckpoint(t.dir))!);
  assert.equal(state.step, 10);
  assert.ok(state.ema && Object.keys(state.ema).includes("lm_head.weight"));
  await Deno.stat(join(t.dir, "ema.safetensors"));
  // Reopening the finished run redoes no step and logs nothing twice.
  const again = await runTraining(loaded, { runDir: t.dir, resume: true });
  assert.equal(again.resumedFrom, 10);
  assert.equal(again.throughput.steps, 0);
  assert.deepEqual(
    (await Deno.readTextFile(join(t.dir, "metrics.jsonl"))).trim().split("\n").map((l) => JSON.parse(l)).length,
    lines.length,
  );
});

Deno.test("TRM with T=3, n=6, N_sup=16 counts 336 network applications per sample at inference", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "trm_tiny.yaml"), {
    overrides: [
      "model.h_cycles=3",
      "model.l_cycles=6",
      "model.n_sup=16",
      "train.steps=2",
      "train.batch_size=4",
      "eval.at_end=false",
    ],
  });
  const out = await runTraining(loaded, { runDir: t.dir });
  const fp = out.results.forward_passes as Record<string, unknown>;
  assert.equal(fp.per_sample_inference, 336);
  assert.equal(fp.per_step, 21);
  assert.equal(fp.with_grad_per_step, 7);
  assert.deepEqual(fp.training, {
    optimizer_steps: 2,
    net_calls: 2 * 4 * 21,
    net_calls_with_grad: 2 * 4 * 7,
    samples_completed: 0,
    mean_per_completed_sample: 0,
  });
  assert.equal(out.finalEval, null);
});

Deno.test("a diverging run (lr 1e30) stops with NonFiniteError naming the step and keeps its last good checkpoint", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
    overrides: ["train.lr=1e30", "train.warmup_steps=0", "train.checkpoint_interval=1"],
  });
  const before = tf.memory().numTensors;
  await assert.rejects(runTraining(loaded, { runDir: t.dir }), (e) => {
    assert.ok(e instanceof NonFiniteError);
    assert.equal(e.step, 2);
    assert.match(e.message, /^Cannot continue training at step 2: non-finite values/);
    assert.ok(
      e.message.endsWith(`the checkpoint at step 1 in "${t.dir}" holds the last good weights`),
      e.message,
    );
    return true;
  });
  assert.equal(tf.memory().numTensors, before, "a failed run leaked tensors");
  const latest = await findLatestCheckpoint(t.dir);
  assert.equal(latest, join(t.dir, "checkpoints", "step-000001"));
  const state = await loadCheckpoint(latest!, { expectedConfigHash: loaded.hash });
  for (const [name, x] of Object.entries(state.model)) {
    assert.ok(x.data.every((v) => Number.isFinite(v)), `${name} holds a non-finite value`);
  }
});

Deno.test("a run diverging before its first checkpoint says that there is none to go back to", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
    overrides: ["train.lr=1e30", "train.warmup_steps=0", "train.checkpoint_interval=0"],
  });
  await assert.rejects(runTraining(loaded, { runDir: t.dir }), (e) => {
    assert.ok(e instanceof NonFiniteError);
    assert.match(e.message, /has no checkpoint yet, so the run starts over/);
    assert.doesNotMatch(e.message, /holds the last good weights/);
    return true;
  });
  assert.equal(await findLatestCheckpoint(t.dir), null);
});

Deno.test("refused: a fresh run into a folder with checkpoints, a resume under another config", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
    overrides: ["train.steps=3", "eval.at_end=false"],
  });
  await runTraining(loaded, { runDir: t.dir });
  await assert.rejects(
    runTraining(loaded, { runDir: t.dir }),
    (e) => e instanceof InputError && /already holds checkpoints \(pass --resume/.test(e.message),
  );
  const other = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
    overrides: ["train.steps=4", "eval.at_end=false"],
  });
  await assert.rejects(
    runTraining(other, { runDir: t.dir, resume: true }),
    (e) => e instanceof CheckpointError && /config\.yaml differs/.test(e.message),
  );
});

Deno.test("validation boards are evaluated at every evaluation point and reported apart from the test curve", async () => {
  await using a = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
    overrides: ["train.steps=8", "train.eval_interval=4", "data.validation=16"],
  });
  const evalProgress: { done: number; total: number }[] = [];
  await runTraining(loaded, {
    runDir: a.dir,
    onProgress: (p) => p.label === "eval" && evalProgress.push({ done: p.done, total: p.total }),
  });
  // One progress count per evaluation point, the validation boards after the test boards (one bar, not two).
  assert.deepEqual(evalProgress, [32, 48, 32, 48].map((done) => ({ done, total: 48 })));
  const results = JSON.parse(await Deno.readTextFile(join(a.dir, "results.json"))).results;
  assert.deepEqual(results.validation_curve.map((p: { step: number }) => p.step), [4, 8]);
  assert.deepEqual(results.eval_curve.map((p: { step: number }) => p.step), [4, 8]);
  assert.equal(results.validation_curve[0].count, 16);
  assert.equal(results.data.validation_examples, 16);
  const evals = (await Deno.readTextFile(join(a.dir, "metrics.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l)).filter((r) => r.kind === "eval");
  assert.deepEqual(evals.map((r) => typeof r.validation_exact), ["number", "number"]);
  // Without validation boards nothing changes: no curve, no count.
  await using b = await tempDir();
  await runTraining(await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), { overrides: ["train.steps=4"] }), {
    runDir: b.dir,
  });
  const plain = JSON.parse(await Deno.readTextFile(join(b.dir, "results.json"))).results;
  assert.equal(plain.validation_curve, undefined);
  assert.equal(plain.data.validation_examples, undefined);
});
