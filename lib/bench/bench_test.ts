/**
 * The benchmark library on a tiny model: presets and their PyTorch twin's table agree, a measurement has
 * every field the CLI prints and leaks nothing, the profiler restores the kernels it wraps, and (where a
 * Python with torch exists) the reference runs and reports figures.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { backboneFor } from "../model/mod.ts";
import {
  BENCH_PRESETS,
  BENCH_REF_SCRIPT,
  benchRecord,
  type BenchSpec,
  benchSpec,
  benchTable,
  findTorchPython,
  median,
  parseBenchPreset,
  profileKernels,
  referenceConfig,
  ReferenceSession,
  runBenchmark,
} from "./mod.ts";

/** A DIS and a TRM preset shrunk to run in well under a second per unit. */
function tiny(kind: "dis" | "trm"): BenchSpec {
  const base = benchSpec(kind === "dis" ? "dis-compact-nqueens" : "trm-compact-nqueens");
  const method = kind === "dis" ? { ...base.method, nSup: 2 } : { ...base.method, nSup: 2, hCycles: 2, lCycles: 1 };
  const data = { vocabSize: 3, seqLen: 6, numPuzzleIds: 2 };
  return {
    ...base,
    name: `tiny-${kind}`,
    data,
    method,
    backbone: backboneFor(
      { hidden: 16, heads: 2, layers: 1, expansion: 4, mlpMultiple: 16, puzzleEmbLen: 2 },
      data,
      method,
    ),
  };
}

Deno.test("benchmark presets have the shapes of their data and models", () => {
  const nq = benchSpec("dis-compact-nqueens");
  assert.deepEqual([nq.backbone.hidden, nq.backbone.layers, nq.backbone.seqLen], [256, 1, 64]);
  assert.equal(nq.backbone.vocabSize, 4, "DIS's mask variant adds the mask token to N-Queens' 3 tokens");
  assert.deepEqual([nq.method.nSup, nq.method.hCycles, nq.method.lCycles], [6, 1, 2]);
  const trm = benchSpec("trm-compact-nqueens");
  assert.deepEqual([trm.method.method, trm.method.nSup, trm.method.hCycles, trm.method.lCycles], ["trm", 16, 3, 6]);
  const arc = benchSpec("dis-medium-arc");
  assert.deepEqual([arc.backbone.hidden, arc.backbone.layers, arc.backbone.seqLen, arc.optimizer], [
    512,
    2,
    900,
    "adamw",
  ]);
  assert.throws(() => parseBenchPreset("nope"), /Unknown benchmark preset "nope"/);
});

Deno.test("bench_ref.py's preset table is the one lib/bench builds", async (t) => {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", { args: [BENCH_REF_SCRIPT, "--print-presets"], stdout: "piped" }).output();
  } catch {
    await t.step({ name: "python3 present", ignore: true, fn: () => {} });
    return;
  }
  assert.equal(out.code, 0);
  const table = JSON.parse(new TextDecoder().decode(out.stdout));
  for (const name of BENCH_PRESETS) {
    const { name: _, ...ours } = referenceConfig(benchSpec(name));
    assert.deepEqual(ours, table[name], name);
  }
});

Deno.test("median of odd and even lists", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

Deno.test("a measurement on a tiny model has every field, a profile, and leaks nothing", async () => {
  await initBackend("cpu");
  const before = tf.memory().numTensors;
  const progress: string[] = [];
  for (const kind of ["dis", "trm"] as const) {
    const m = await runBenchmark(tiny(kind), {
      batch: 3,
      repeats: 2,
      profile: kind === "dis",
      onProgress: (s) => progress.push(s),
    });
    assert.equal(m.trainTimesMs.length, 2);
    assert.equal(m.inferTimesMs.length, 2);
    assert.ok(m.trainSamplesPerS > 0 && Number.isFinite(m.trainSamplesPerS));
    assert.ok(m.inferSamplesPerS! > 0);
    assert.ok(m.peakRssBytes > 1e6);
    assert.equal(m.gpuPeakBytes, null);
    assert.equal(m.trainUnit, kind === "dis" ? "DIS step (2 supervision steps)" : "TRM step (1 supervision step)");
    const rec = benchRecord(m, null, { date: "x" }, "no torch");
    for (const key of ["preset", "backend", "batch", "train_samples_per_s", "infer_samples_per_s", "peak_rss_bytes"]) {
      assert.ok(key in rec, key);
    }
    assert.equal(rec.reference, "no torch");
    const table = benchTable(m, {
      python: "p",
      torch: "1.0",
      threads: 2,
      device: "cpu",
      trainStepMs: 10,
      trainSamplesPerS: m.trainSamplesPerS / 2,
      inferSamplesPerS: m.inferSamplesPerS! / 4,
    });
    assert.match(table, /ratio ours \/ torch\s+2\.00x\s+4\.00x/);
    if (kind === "dis") {
      assert.ok(m.profile && m.profile.kernels.some((k) => k.name === "BatchMatMul"));
      assert.match(table, /profile of one training unit on cpu/);
    }
  }
  assert.ok(progress.some((s) => s.startsWith("train 2/2")));
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("the kernel profiler attributes own time and puts every kernel back", async () => {
  await initBackend("cpu");
  const original = tf.getKernel("BatchMatMul", "cpu");
  const p = await profileKernels(() => tf.tidy(() => void tf.matMul(tf.ones([4, 4]), tf.ones([4, 4]))));
  assert.equal(tf.getKernel("BatchMatMul", "cpu"), original);
  const mm = p.kernels.find((k) => k.name === "BatchMatMul");
  assert.equal(mm?.count, 1);
  assert.ok(p.kernelMs <= p.wallMs + 1e-6);
});

Deno.test("the PyTorch reference alternates units with ours on the same tiny configuration", async (t) => {
  const py = await findTorchPython();
  if (py.python === null) {
    console.log(`skipped: ${py.reason}`);
    await t.step({ name: "torch present", ignore: true, fn: () => {} });
    return;
  }
  await initBackend("cpu");
  for (const kind of ["dis", "trm"] as const) {
    const session = await ReferenceSession.start(py.python, tiny(kind), { batch: 3, threads: 1 });
    try {
      const m = await runBenchmark(tiny(kind), { batch: 3, repeats: 2, alongside: session });
      assert.deepEqual([session.trainTimesMs.length, session.inferTimesMs.length], [2, 2]);
      const r = session.summary(3);
      assert.equal(r.threads, 1);
      assert.ok(r.trainSamplesPerS > 0 && r.inferSamplesPerS! > 0 && r.trainStepMs > 0, JSON.stringify(r));
      assert.ok("train_ratio" in benchRecord(m, r));
    } finally {
      await session.close();
    }
  }
});
