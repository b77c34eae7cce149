/**
 * The measurement: the real trainers (lib/method's DisTrainer / TrmTrainer with lib/train's optimisers and
 * the puzzle-embedding sign-SGD) and the real inference (`predict`), on synthetic batches of the preset's
 * shapes, timed after warm-up; the median of the repeats counts.
 *
 * Units: a DIS training unit is one full DIS step (N_sup supervision steps, each with its optimiser step),
 * after which every sample of the batch has been trained through its whole path; a TRM unit is one trainer
 * step (one ACT supervision step). samples/s = B / unit time. Inference runs all N_sup steps of B samples.
 * Each unit ends with one readback of the step's metrics, so a GPU has finished its work when the clock
 * stops; within a DIS unit the other steps' metrics are not read (the cadence a training loop should use).
 *
 * @module
 */
import { tf } from "../backend/mod.ts";
import { Rng, stream } from "../random/mod.ts";
import { predict, RecursiveModel } from "../model/mod.ts";
import { DisTrainer, rngExploration, type StepBatch, TrmTrainer } from "../method/mod.ts";
import { createOptimizer, SparseSignSGD } from "../train/mod.ts";
import type { BenchSpec } from "./presets.ts";
import { countGpuWork, type GpuCounters } from "./gpu_counters.ts";
import { type KernelProfile, profileKernels } from "./profile.ts";

/** Options of {@linkcode runBenchmark}. */
export interface BenchOptions {
  /** Batch size B. */
  batch: number;
  /** Timed repeats of each unit (default 3); the median is reported. */
  repeats?: number;
  /** Untimed units before (default 1). */
  warmup?: number;
  /** Also time inference (default true). */
  infer?: boolean;
  /** Also profile one extra training unit's kernels (see profile.ts). */
  profile?: boolean;
  /** A second implementation to time one unit of, after each of ours (the PyTorch reference). */
  alongside?: { run(unit: "train" | "infer", record?: boolean): Promise<number> };
  /** Seed of the weights, batches and paths (default 0). */
  seed?: number;
  /** Where the trainer keeps the puzzle table: `host` (default) or `device` (webgpu only). */
  puzzleTable?: "host" | "device";
  /** Progress lines. */
  onProgress?: (message: string) => void;
}

/** One benchmark result. */
export interface BenchMeasurement {
  /** The benchmark preset's name (one of `BENCH_PRESETS`). */
  preset: string;
  /** The tfjs backend it ran on. */
  backend: string;
  /** Samples per batch (B). */
  batch: number;
  /** What one training unit is. */
  trainUnit: string;
  /** Median time of a training unit. */
  trainUnitMs: number;
  /** Training throughput, samples per second, from the median unit time. */
  trainSamplesPerS: number;
  /** Median time of inference on B samples (null when not measured). */
  inferMs: number | null;
  /** Inference throughput, samples per second (null when not measured). */
  inferSamplesPerS: number | null;
  /** Every timed repeat, in order. */
  trainTimesMs: number[];
  /** Every timed inference repeat, in order (empty when not measured). */
  inferTimesMs: number[];
  /** Peak resident memory of the process (Linux VmHWM; elsewhere the largest RSS sampled). */
  peakRssBytes: number;
  /** Largest GPU memory held by tfjs during the run, where the backend reports it (webgpu). */
  gpuPeakBytes: number | null;
  /** Kernel times of one extra training unit, when asked for. */
  profile?: KernelProfile;
  /**
   * On webgpu: the host-side cost of a training unit and of an inference call (gpu_counters.ts), each field
   * the median over the timed repeats; null elsewhere.
   */
  gpuTrain: GpuCounters | null;
  /** As `gpuTrain`, for an inference call. */
  gpuInfer: GpuCounters | null;
}

/** Field by field, the median of counter records (null when there are none). */
export function medianCounters(xs: GpuCounters[]): GpuCounters | null {
  if (xs.length === 0) return null;
  const out = { ...xs[0] };
  for (const k of Object.keys(out) as (keyof GpuCounters)[]) {
    if (k !== "clock") (out as Record<string, unknown>)[k] = median(xs.map((x) => x[k] as number));
  }
  return out;
}

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The process's peak resident set size: Linux's VmHWM, else the current RSS. */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux, or /proc is not readable: the sampled RSS below stands in.
  }
  return Deno.memoryUsage().rss;
}

function gpuBytes(): number | null {
  const m = tf.memory() as unknown as { numBytesInGPUAllocated?: number; numBytesInGPU?: number };
  return m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? null;
}

/** Synthetic batches of the preset's shape from a seeded stream: random tokens, labels, puzzle ids. */
function syntheticSource(spec: BenchSpec, batch: number, rng: Rng): { next(): StepBatch } {
  const { vocabSize, seqLen, numPuzzleIds } = spec.data;
  return {
    next(): StepBatch {
      const inputs = new Int32Array(batch * seqLen).map(() => rng.int(vocabSize));
      const labels = new Int32Array(batch * seqLen).map(() => rng.int(vocabSize));
      const puzzleIds = new Int32Array(batch).map(() => rng.int(numPuzzleIds));
      return { inputs, labels, puzzleIds };
    },
  };
}

/**
 * Times training and inference of a preset on the current backend.
 *
 * @example
 * ```ts ignore
 * import { initBackend } from "../backend/mod.ts";
 * import { benchSpec, runBenchmark } from "./mod.ts";
 * await initBackend("wasm");
 * const m = await runBenchmark(benchSpec("dis-compact-nqueens"), { batch: 64 });
 * m.trainSamplesPerS;
 * ```
 */
export async function runBenchmark(spec: BenchSpec, opts: BenchOptions): Promise<BenchMeasurement> {
  const { batch } = opts;
  if (!(Number.isInteger(batch) && batch > 0)) {
    throw new RangeError(`Cannot benchmark: batch must be >= 1, got ${batch}`);
  }
  const repeats = opts.repeats ?? 3, warmup = opts.warmup ?? 1, seed = opts.seed ?? 0;
  if (!(Number.isInteger(repeats) && repeats >= 1)) {
    throw new RangeError(`Cannot benchmark: repeats must be >= 1, got ${repeats}`);
  }
  const say = opts.onProgress ?? (() => {});
  const method = spec.method;
  const model = new RecursiveModel(spec.backbone, { rng: stream(seed, "init"), scope: `bench.${spec.name}.` });
  const optimizer = createOptimizer(spec.optimizer, model.trainableVariables(), {
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: 0.1,
  });
  const puzzleOptimizer = new SparseSignSGD(model.puzzleTable, spec.backbone.hidden, { weightDecay: 0.1 });
  const base = { batchSize: batch, optimizer, puzzleOptimizer, puzzleTable: opts.puzzleTable };
  const trainer = method.method === "dis"
    ? new DisTrainer(model, method, { ...base, rng: stream(seed, "targets") })
    : new TrmTrainer(model, method, { ...base, exploration: rngExploration(stream(seed, "halting")) });
  const source = syntheticSource(spec, batch, stream(seed, "data"));
  const rates = { lr: 1e-4, puzzleLr: 1e-2 };
  const stepsPerUnit = method.method === "dis" ? method.nSup : 1;
  let gpuPeak = gpuBytes();
  const sample = () => {
    const g = gpuBytes();
    if (g !== null) gpuPeak = Math.max(gpuPeak ?? 0, g);
  };
  const unit = async () => {
    for (let i = 0; i < stepsPerUnit; i++) {
      const r = await trainer.step(source, rates);
      sample();
      if (i === stepsPerUnit - 1) await r.read();
      else r.dispose();
    }
  };
  try {
    for (let i = 0; i < warmup; i++) {
      const t0 = performance.now();
      await unit();
      say(`train warm-up ${i + 1}/${warmup}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      if (opts.alongside) {
        say(`  reference warm-up: ${((await opts.alongside.run("train", false)) / 1000).toFixed(2)} s`);
      }
    }
    const trainTimesMs: number[] = [];
    const trainCounters: GpuCounters[] = [];
    // On webgpu each timed unit also counts its GPU traffic and host time; elsewhere this is the unit alone.
    const counted = async (f: () => Promise<unknown>, into: GpuCounters[]) => {
      const c = await countGpuWork(f);
      if (c) into.push(c);
    };
    for (let i = 0; i < repeats; i++) {
      const k0 = tf.memory().numTensors;
      const t0 = performance.now();
      await counted(unit, trainCounters);
      const ms = performance.now() - t0;
      trainTimesMs.push(ms);
      // The first unit ever run allocates the optimiser moments and the trainer's carry, which stay.
      if (warmup + i > 0 && tf.memory().numTensors !== k0) {
        throw new Error(`Cannot benchmark: tensors leaked (${k0} -> ${tf.memory().numTensors})`);
      }
      say(`train ${i + 1}/${repeats}: ${(ms / 1000).toFixed(2)} s`);
      if (opts.alongside) say(`  reference: ${((await opts.alongside.run("train")) / 1000).toFixed(2)} s`);
    }
    const inferTimesMs: number[] = [];
    const inferCounters: GpuCounters[] = [];
    if (opts.infer ?? true) {
      const input = source.next();
      for (let i = 0; i < warmup + repeats; i++) {
        const t0 = performance.now();
        await counted(() => predict(model, method, input), i >= warmup ? inferCounters : []);
        sample();
        const ms = performance.now() - t0;
        if (i >= warmup) inferTimesMs.push(ms);
        say(`infer ${i < warmup ? "warm-up" : `${i - warmup + 1}/${repeats}`}: ${(ms / 1000).toFixed(2)} s`);
        if (opts.alongside) {
          say(`  reference: ${((await opts.alongside.run("infer", i >= warmup)) / 1000).toFixed(2)} s`);
        }
      }
    }
    let profile: KernelProfile | undefined;
    if (opts.profile) {
      profile = await profileKernels(unit);
      say(`profiled one more training unit: ${(profile.wallMs / 1000).toFixed(2)} s, ${profile.launches} kernels`);
    }
    const trainUnitMs = median(trainTimesMs);
    const inferMs = inferTimesMs.length ? median(inferTimesMs) : null;
    return {
      preset: spec.name,
      backend: tf.getBackend(),
      batch,
      trainUnit: method.method === "dis"
        ? `DIS step (${method.nSup} supervision steps)`
        : "TRM step (1 supervision step)",
      trainUnitMs,
      trainSamplesPerS: batch / (trainUnitMs / 1000),
      inferMs,
      inferSamplesPerS: inferMs === null ? null : batch / (inferMs / 1000),
      trainTimesMs,
      inferTimesMs,
      peakRssBytes: peakRss(),
      gpuPeakBytes: gpuPeak,
      profile,
      gpuTrain: medianCounters(trainCounters),
      gpuInfer: medianCounters(inferCounters),
    };
  } finally {
    trainer.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
