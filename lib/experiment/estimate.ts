/**
 * Compute estimates for a row before it runs: optimiser steps, matmul FLOPs (counted from the model's
 * shapes), and the expected time on the current backend, extrapolated from a few measured steps.
 *
 * FLOPs count the matrix products only (2 per multiply-add), as the reference measurements do
 * (measurements.md): per network application and sample, each block does the fused QKV and output
 * projections (8·L·D²), attention scores and values (4·L²·D) and the SwiGLU (6·L·D·I), with L = sequence
 * length + puzzle prefix and I the SwiGLU width; the output head adds 2·L·D·V per supervision step. A
 * training step runs T·(n+1) applications per row, of which the last n+1 are under gradient and cost 3×
 * (forward + backward); evaluation runs N_sup·T·(n+1) forward applications per example.
 *
 * The measurement trains the row's own config for a few steps at a reduced batch (default 4) in a
 * scratch folder and takes the median step time after the first, so the estimate assumes the time per
 * step grows linearly with the batch, which holds on the CPU and underestimates a GPU's advantage at
 * large batches.
 *
 * @module
 */
import { join } from "node:path";
import { type ProgressFn } from "../report/mod.ts";
import { forwardPasses, swigluHidden } from "../model/mod.ts";
import {
  backboneConfig,
  type LoadedTrainConfig,
  loadRunData,
  methodConfig,
  resolveTrainConfig,
  runTraining,
  totalSteps,
  type TrainConfig,
  type TrainConfigInput,
} from "../train/mod.ts";

/** The shape facts the FLOP count needs. */
export interface FlopShape {
  /** Model width D. */
  hidden: number;
  /** Transformer blocks per network application. */
  layers: number;
  /** SwiGLU expansion. */
  expansion: number;
  /** SwiGLU width is rounded up to a multiple of this. */
  mlpMultiple: number;
  /** Sequence length without the puzzle prefix. */
  seqLen: number;
  /** Puzzle-prefix positions P, added to the sequence. */
  puzzleEmbLen: number;
  /** Vocabulary size V, the output head's width. */
  vocabSize: number;
}

/**
 * Matmul FLOPs of one network application (the block stack) for one sample.
 *
 * @example
 * ```ts
 * import { callFlops } from "./estimate.ts";
 * // N-Queens compact: D = 256, 1 layer, L = 64 + 16
 * callFlops({ hidden: 256, layers: 1, expansion: 4, mlpMultiple: 256, seqLen: 64, puzzleEmbLen: 16, vocabSize: 3 });
 * ```
 */
export function callFlops(s: FlopShape): number {
  const l = s.seqLen + s.puzzleEmbLen;
  const d = s.hidden;
  const inter = swigluHidden(d, s.expansion, s.mlpMultiple);
  return s.layers * (8 * l * d * d + 4 * l * l * d + 6 * l * d * inter);
}

/** Matmul FLOPs of the output head for one sample (once per supervision step). */
export function headFlops(s: FlopShape): number {
  return 2 * (s.seqLen + s.puzzleEmbLen) * s.hidden * s.vocabSize;
}

/**
 * Matmul FLOPs of one training step (one supervision step on every row of the batch).
 *
 * @example
 * ```ts
 * import { trainStepFlops } from "./estimate.ts";
 * const s = { hidden: 64, layers: 1, expansion: 4, mlpMultiple: 64, seqLen: 64, puzzleEmbLen: 1, vocabSize: 3 };
 * trainStepFlops(s, { hCycles: 1, lCycles: 2 }, 8) > 0; // true
 * ```
 */
export function trainStepFlops(s: FlopShape, m: { hCycles: number; lCycles: number }, batch: number): number {
  const fp = forwardPasses({ nSup: 1, ...m });
  const noGrad = fp.perStep - fp.withGradPerStep;
  return batch * ((noGrad + 3 * fp.withGradPerStep) * callFlops(s) + 3 * headFlops(s));
}

/** Matmul FLOPs of inference on one example: every supervision step, forward only. */
export function inferenceFlops(s: FlopShape, m: { nSup: number; hCycles: number; lCycles: number }): number {
  const fp = forwardPasses(m);
  return fp.perSampleInference * callFlops(s) + m.nSup * headFlops(s);
}

/** What {@linkcode estimateRow} found. */
export interface ComputeEstimate {
  /** Optimiser steps of the run. */
  steps: number;
  /** Samples per optimiser step. */
  batchSize: number;
  /** Evaluations over the run (periodic and final) and the examples each one scores. */
  evaluations: number;
  /** Examples each evaluation scores. */
  evalExamples: number;
  /** Matmul FLOPs of all training steps. */
  trainFlops: number;
  /** Matmul FLOPs of all evaluations. */
  evalFlops: number;
  /** `trainFlops + evalFlops`. */
  totalFlops: number;
  /** The measurement, or null when none was asked for. */
  measured: { steps: number; batch: number; secondsPerStep: number; flopsPerSecond: number } | null;
  /** totalFlops at the measured rate, or null without a measurement. */
  expectedSeconds: number | null;
}

/** Options of {@linkcode estimateRow}. */
export interface EstimateOptions {
  /** The ARC data folder where the config's `data.data_dir` is null (default: the fetch cache). */
  dataDir?: string;

  /** Measure on the current backend (initialise it first); default true. */
  measure?: boolean;
  /** Steps to run when measuring (the first is not timed); default 3. */
  measureSteps?: number;
  /** Batch to measure at (capped by the row's batch); default 4. */
  measureBatch?: number;
  /** Where the scratch run goes (removed afterwards); default a temporary folder. */
  scratchDir?: string;
  /** Called as the measurement's scratch run progresses. */
  onProgress?: ProgressFn;
  /** Reuse measurements between rows that train the same model at the same batch. */
  cache?: Map<string, StepTiming>;
}

/** A measured step time. */
export interface StepTiming {
  /** Steps timed (the first step of the probe is not). */
  steps: number;
  /** Samples per step of the timed steps. */
  batch: number;
  /** Median wall seconds of one timed step. */
  secondsPerStep: number;
}

/** How many evaluations a run makes: every `eval_interval` steps before the last, and at the end. */
export function evaluationCount(steps: number, evalInterval: number, atEnd: boolean): number {
  const periodic = evalInterval > 0 ? Math.floor((steps - 1) / evalInterval) : 0;
  return periodic + (atEnd ? 1 : 0);
}

function shapeOf(cfg: TrainConfig, data: { vocabSize: number; seqLen: number }): FlopShape {
  const b = backboneConfig(cfg, { ...data, numPuzzleIds: 1 });
  return {
    hidden: b.hidden,
    layers: b.layers,
    expansion: b.expansion,
    mlpMultiple: b.mlpMultiple,
    seqLen: b.seqLen,
    puzzleEmbLen: b.puzzleEmbLen,
    vocabSize: b.vocabSize,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The compute a row will take: its steps (from its data for epoch-based configs), FLOPs of training and
 * evaluation, and (when measuring) the expected time on the current backend. Loads the row's data.
 *
 * @example
 * ```ts ignore
 * await initBackend("wasm");
 * const e = await estimateRow(row.loaded, { measureSteps: 3 });
 * e.expectedSeconds; // seconds at the measured rate
 * ```
 */
export async function estimateRow(loaded: LoadedTrainConfig, opts: EstimateOptions = {}): Promise<ComputeEstimate> {
  const cfg = loaded.config;
  const data = await loadRunData(cfg, {
    dataDir: opts.dataDir,
    onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: "data" })),
  });
  const steps = totalSteps(cfg.train, {
    groups: data.counts.train_groups,
    examples: data.counts.train_examples,
    puzzles: data.counts.train_puzzles,
  });
  const method = methodConfig(cfg);
  const shape = shapeOf(cfg, data);
  const batch = cfg.train.batch_size;
  const evaluations = evaluationCount(steps, cfg.train.eval_interval, cfg.eval.at_end);
  // Every evaluation also scores the validation split, when the run has one.
  const testExamples = data.counts.test_examples + (data.counts.validation_examples ?? 0);
  const evalExamples = cfg.eval.max_examples === null ? testExamples : Math.min(testExamples, cfg.eval.max_examples);
  const trainFlops = steps * trainStepFlops(shape, method, batch);
  const evalFlops = evaluations * evalExamples * inferenceFlops(shape, method);
  const totalFlops = trainFlops + evalFlops;
  let measured: ComputeEstimate["measured"] = null;
  if (opts.measure ?? true) {
    const mBatch = Math.min(batch, opts.measureBatch ?? 4);
    const mSteps = Math.max(2, opts.measureSteps ?? 3);
    const key = JSON.stringify([shape, method, cfg.train.optimizer, mBatch, mSteps]);
    const timing = opts.cache?.get(key) ?? await measure(cfg, mBatch, mSteps, opts);
    opts.cache?.set(key, timing);
    measured = { ...timing, flopsPerSecond: trainStepFlops(shape, method, mBatch) / timing.secondsPerStep };
  }
  return {
    steps,
    batchSize: batch,
    evaluations,
    evalExamples,
    trainFlops,
    evalFlops,
    totalFlops,
    measured,
    expectedSeconds: measured ? totalFlops / measured.flopsPerSecond : null,
  };
}

async function measure(
  cfg: TrainConfig,
  batch: number,
  steps: number,
  opts: EstimateOptions,
): Promise<StepTiming> {
  const probe = structuredClone(cfg) as unknown as TrainConfigInput & { train: Record<string, unknown> };
  probe.train = {
    ...probe.train,
    batch_size: batch,
    steps,
    epochs: null,
    warmup_steps: 0,
    log_interval: 1,
    eval_interval: 0,
    checkpoint_interval: 0,
    checkpoint_minutes: 0,
    keep_checkpoints: 1,
  };
  probe.eval = { ...probe.eval, at_end: false };
  const loaded = resolveTrainConfig(probe, "compute estimate");
  const owned = opts.scratchDir === undefined;
  const root = opts.scratchDir ?? await Deno.makeTempDir({ prefix: "trm_dis_estimate_" });
  const runDir = join(root, "probe");
  const times: number[] = [];
  try {
    await runTraining(loaded, {
      runDir,
      onLog: (r) => {
        if (r.step > 1 && typeof r.samples_per_s === "number" && r.samples_per_s > 0) {
          times.push(batch / r.samples_per_s);
        }
      },
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: `measure ${p.label ?? ""}`.trim() })),
    });
  } finally {
    await Deno.remove(owned ? root : runDir, { recursive: true }).catch(() => {});
  }
  if (times.length === 0) throw new Error("Cannot measure the step time: the probe run logged no timed step");
  const secondsPerStep = median(times);
  return { steps: times.length, batch, secondsPerStep };
}
