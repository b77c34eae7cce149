/**
 * Compute estimates for a row before it runs, in seconds: optimiser steps, matmul FLOPs counted from the
 * model's shapes, the memory a step needs, the expected time on this machine and a projection for named
 * GPUs. Nothing here builds a dataset or trains the row.
 *
 * FLOPs count the matrix products only (2 per multiply-add), as the reference measurements do: per
 * network application and sample, each block does the fused QKV and output projections (8·L·D²),
 * attention scores and values (4·L²·D) and the SwiGLU (6·L·D·I), with L = sequence length + puzzle prefix
 * and I the SwiGLU width; the output head adds 2·L·D·V per supervision step. A training step runs
 * T·(n+1) applications per row, of which the last n+1 are under gradient and cost 3× (forward +
 * backward); evaluation runs N_sup·T·(n+1) forward applications per example.
 *
 * Steps and evaluation sizes come from counts, not from the data: N-Queens' are fixed by its generator;
 * a full ARC set's are those of its measured build (docs/data.md: ARC-AGI-1 at 1,000 augmentations has
 * 960 groups, 875,451 accepted augmentations, 3,633,438 train and 385,818 test examples), scaled for
 * another augmentation count. Only ARC configs that reduce the set (`data.subset`, `data.canvas`,
 * `data.validation`) load their (small) data to count it.
 *
 * Time here: one calibration per process, a few steps of a fixed model (DIS on the compact N-Queens
 * backbone, D = 256, batch 4) on the current backend, gives FLOP/s; every row's FLOPs are divided by it.
 * Larger models usually run at a higher rate than this small one, so on a CPU the figure is an upper one.
 *
 * GPU projections, one GPU each (N GPUs divide the time by N at best), from NVIDIA's dense peaks (A100
 * 19.5 / 156, H100 and H200 67 / 495 TFLOP/s fp32 / TF32), two ways: (1) a measured ratio: the fraction of
 * the fp32 peak the PyTorch reference reached on an H200 (docs/performance.md: a DIS compact N-Queens step
 * at batch 512 in 111 ms, fp32), about 8.9%, applied to each GPU's fp32 peak: an upper figure, since that
 * model is small; (2) an assumption: 30% of the TF32 peak, the rate the TRM paper's 72 h for TRM 7M on
 * 4 x H100 implies for our FLOP count of that row.
 *
 * @module
 */
import { ARC_MAX_SIZE, ARC_VOCAB, arcSeqLen } from "../data/mod.ts";
import { type ProgressFn } from "../report/mod.ts";
import { backboneFor, type DisConfig, forwardPasses, RecursiveModel, swigluHidden } from "../model/mod.ts";
import { DisTrainer, type StepBatch } from "../method/mod.ts";
import { stream } from "../random/mod.ts";
import {
  backboneConfig,
  type BackendFacts,
  createOptimizer,
  type LoadedTrainConfig,
  loadRunData,
  memoryNeed,
  methodConfig,
  runMicroBatch,
  totalSteps,
  type TrainConfig,
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

/** The counts and shape an estimate needs from a row's data, and where they come from. */
export interface DataFacts {
  /** Tokens of the vocabulary (the output head's width). */
  vocabSize: number;
  /** Sequence length in tokens, prefix included. */
  seqLen: number;
  /** Rows of the puzzle-embedding table. */
  numPuzzleIds: number;
  /** Training examples (one epoch). */
  trainExamples: number;
  /** Distinct training puzzles. */
  trainPuzzles: number;
  /** Training groups (a puzzle and its augmentations). */
  trainGroups: number;
  /** Examples scored by one evaluation: test, plus validation where the run has it. */
  evalExamples: number;
  /** `generator` (N-Queens), `measured build` (a full ARC set) or `data` (counted from the loaded data). */
  source: "generator" | "measured build" | "data";
}

/** The measured full ARC builds at 1,000 augmentations, seed 0 (docs/data.md, "Building ARC"). */
export const ARC_BUILDS = {
  "arc-agi-1": { groups: 960, accepted: 875_451, trainExamples: 3_633_438, testExamples: 385_818 },
  "arc-agi-2": { groups: 1280, accepted: 1_190_449, trainExamples: 5_164_289, testExamples: 165_388 },
} as const;

/** How an estimate gets what it does not compute: the data loader and the calibration (tests replace them). */
export interface EstimateDeps {
  /** Loads a reduced ARC set to count it; a full set or N-Queens never calls it. */
  loadRunData: typeof loadRunData;
  /** FLOP/s of the current backend. */
  calibrate: () => Promise<Calibration>;
}

/**
 * The data facts of a config without building its data (see the module doc); reduced ARC sets are
 * loaded through `deps.loadRunData`.
 */
export async function dataFacts(
  cfg: TrainConfig,
  opts: { dataDir?: string; onProgress?: ProgressFn } = {},
  deps: Pick<EstimateDeps, "loadRunData"> = { loadRunData },
): Promise<DataFacts> {
  const d = cfg.data;
  const cap = (n: number) => (cfg.eval.max_examples === null ? n : Math.min(n, cfg.eval.max_examples));
  if (d.kind === "nqueens") {
    // Both variants: 7,200 train boards (the paper's 7,200 puzzles; the released code's 800 x 9 copies)
    // and 200 test boards, 64 cells, 3 tokens (lib/data nqueens.ts).
    const groups = d.variant === "paper" ? 7200 : 800;
    return {
      vocabSize: 3,
      seqLen: 64,
      numPuzzleIds: 1,
      trainExamples: 7200,
      trainPuzzles: 7200,
      trainGroups: groups,
      evalExamples: cap(200 + (d.validation ?? 0)),
      source: "generator",
    };
  }
  if (d.subset !== null || d.canvas !== undefined || d.validation !== undefined) {
    const data = await deps.loadRunData(cfg, {
      dataDir: opts.dataDir,
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: "data" })),
    });
    return {
      vocabSize: data.vocabSize,
      seqLen: data.seqLen,
      numPuzzleIds: data.numPuzzleIds,
      trainExamples: data.counts.train_examples,
      trainPuzzles: data.counts.train_puzzles,
      trainGroups: data.counts.train_groups,
      evalExamples: cap(data.counts.test_examples + (data.counts.validation_examples ?? 0)),
      source: "data",
    };
  }
  const b = ARC_BUILDS[d.set];
  // Another augmentation count keeps the acceptance rate and the examples per puzzle of the measured build.
  const accepted = Math.round(b.accepted * d.augmentations / 1000);
  const puzzles = b.groups + accepted;
  const perPuzzle = b.trainExamples / (b.groups + b.accepted);
  const testScale = (1 + accepted / b.groups) / (1 + b.accepted / b.groups);
  return {
    vocabSize: ARC_VOCAB,
    seqLen: arcSeqLen(ARC_MAX_SIZE),
    numPuzzleIds: 1 + puzzles,
    trainExamples: Math.round(puzzles * perPuzzle),
    trainPuzzles: puzzles,
    trainGroups: b.groups,
    evalExamples: cap(Math.round(b.testExamples * testScale)),
    source: "measured build",
  };
}

/** The measured rate of the current backend. */
export interface Calibration {
  /** What was timed. */
  model: string;
  /** Rows per timed step. */
  batch: number;
  /** Median wall seconds of one timed step. */
  secondsPerStep: number;
  /** Matmul FLOP/s reached: the step's FLOP count over its seconds. */
  flopsPerSecond: number;
}

/** The calibration model: DIS (N_sup 6, T 1, n 2) on the compact N-Queens backbone. */
const CALIBRATION_METHOD: DisConfig = {
  method: "dis",
  nSup: 6,
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "linear",
  autoregressive: false,
  loss: "stablemax",
};
const CALIBRATION_SHAPE: FlopShape = {
  hidden: 256,
  layers: 1,
  expansion: 4,
  mlpMultiple: 256,
  seqLen: 64,
  puzzleEmbLen: 16,
  vocabSize: 3,
};

const calibrations = new Map<string, Promise<Calibration>>();

/**
 * FLOP/s of the current backend: the median of 3 timed steps (after one untimed) of the calibration
 * model at batch 4 on random boards, once per backend and process.
 */
export function calibrate(backend: string): Promise<Calibration> {
  let c = calibrations.get(backend);
  if (!c) {
    c = runCalibration();
    calibrations.set(backend, c);
  }
  return c;
}

async function runCalibration(batch = 4, steps = 3): Promise<Calibration> {
  const s = CALIBRATION_SHAPE;
  const backbone = backboneFor(
    {
      hidden: s.hidden,
      heads: 8,
      layers: s.layers,
      expansion: s.expansion,
      mlpMultiple: s.mlpMultiple,
      puzzleEmbLen: s.puzzleEmbLen,
    },
    { vocabSize: s.vocabSize, seqLen: s.seqLen, numPuzzleIds: 2 },
    CALIBRATION_METHOD,
  );
  const model = new RecursiveModel(backbone, { rng: stream(0, "init"), scope: "estimate.calibration." });
  const optimizer = createOptimizer("adam-atan2", model.trainableVariables(), {
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: 0.1,
  });
  const trainer = new DisTrainer(model, CALIBRATION_METHOD, { batchSize: batch, optimizer, rng: stream(0, "targets") });
  const rng = stream(0, "estimate.calibration");
  const source = {
    next(): StepBatch {
      const inputs = new Int32Array(batch * s.seqLen).map(() => 1 + rng.int(2));
      return { inputs, labels: inputs.map((v) => 3 - v), puzzleIds: new Int32Array(batch).fill(1) };
    },
  };
  const times: number[] = [];
  try {
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now();
      await (await trainer.step(source, { lr: 1e-4, puzzleLr: 0 })).read(); // the readback waits for the step
      if (i > 0) times.push((performance.now() - t0) / 1000);
    }
  } finally {
    trainer.dispose();
    optimizer.dispose();
    model.dispose();
  }
  const secondsPerStep = median(times);
  return {
    model: "DIS, compact N-Queens backbone (D = 256, L = 80)",
    batch,
    secondsPerStep,
    flopsPerSecond: trainStepFlops(s, CALIBRATION_METHOD, batch) / secondsPerStep,
  };
}

/** A GPU of the projection: its dense fp32 and TF32 peaks in FLOP/s. */
export interface GpuPeak {
  /** The GPU's name as printed (H100, H200, A100). */
  name: string;
  /** Dense fp32 peak, FLOP/s. */
  fp32: number;
  /** Dense TF32 tensor-core peak, FLOP/s. */
  tf32: number;
}

/** The GPUs projected: NVIDIA's dense peaks (SXM parts; H200 has H100's compute and more memory). */
export const GPU_PEAKS: readonly GpuPeak[] = [
  { name: "H100", fp32: 67e12, tf32: 495e12 },
  { name: "H200", fp32: 67e12, tf32: 495e12 },
  { name: "A100", fp32: 19.5e12, tf32: 156e12 },
];

/**
 * The measured reference step (docs/performance.md): PyTorch, fp32, a DIS compact N-Queens step at batch
 * 512 on an H200 in 111 ms (4,593 samples/s).
 */
export const REFERENCE_STEP = { gpu: "H200", batch: 512, seconds: 0.111 } as const;

/** The fraction of the fp32 peak the reference step reached: about 0.089. */
export function referenceUtilisation(): number {
  const flops = trainStepFlops(CALIBRATION_SHAPE, CALIBRATION_METHOD, REFERENCE_STEP.batch);
  const peak = GPU_PEAKS.find((g) => g.name === REFERENCE_STEP.gpu)!.fp32;
  return flops / REFERENCE_STEP.seconds / peak;
}

/**
 * The fraction of the TF32 peak of the second projection: 0.30, the rate the TRM paper's 72 h for TRM 7M
 * on 4 x H100 (ARC-AGI-1) implies for this module's FLOP count of that row (154 TFLOP/s per GPU; TRM's
 * code runs in bfloat16). docs/experiments.md checks it against DIS's 40 h.
 */
export const TF32_UTILISATION = 0.3;

/** One GPU's projected time for a row, two ways. */
export interface GpuProjection {
  /** The GPU's name. */
  gpu: string;
  /** The fp32 peak, FLOP/s, and the fraction of it assumed ({@linkcode referenceUtilisation}: measured). */
  fp32Peak: number;
  /** The fraction of the fp32 peak assumed. */
  fp32Utilisation: number;
  /** Seconds at that fp32 rate (the measured ratio; an upper figure for large models). */
  seconds: number;
  /** The TF32 peak, FLOP/s, and the fraction assumed ({@linkcode TF32_UTILISATION}). */
  tf32Peak: number;
  /** The fraction of the TF32 peak assumed. */
  tf32Utilisation: number;
  /** Seconds at that TF32 rate (tensor cores at large-model utilisation). */
  secondsTf32: number;
}

/** Seconds for `flops` on each of {@linkcode GPU_PEAKS}, at the measured fp32 ratio and at 30% of TF32. */
export function gpuProjections(flops: number): GpuProjection[] {
  const u = referenceUtilisation();
  return GPU_PEAKS.map((g) => ({
    gpu: g.name,
    fp32Peak: g.fp32,
    fp32Utilisation: u,
    seconds: flops / (g.fp32 * u),
    tf32Peak: g.tf32,
    tf32Utilisation: TF32_UTILISATION,
    secondsTf32: flops / (g.tf32 * TF32_UTILISATION),
  }));
}

/** The memory of a row's training step (lib/train memory.ts), with the micro-batch this backend would use. */
export interface MemoryEstimate {
  /** Bytes of the weights (float32). */
  parameters: number;
  /** Optimiser moments and the EMA shadow. */
  optimizerState: number;
  /** Bytes of the puzzle-embedding table. */
  puzzleTable: number;
  /** y, z of the whole batch. */
  carry: number;
  /** Rows per forward/backward pass this backend would use. */
  microBatch: number;
  /** Forward/backward passes per optimiser step. */
  passes: number;
  /** Activations of one micro-batch. */
  activationsPerMicroBatch: number;
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
  /** Where the counts come from ({@linkcode DataFacts.source}). */
  counts: DataFacts["source"];
  /** Matmul FLOPs of all training steps. */
  trainFlops: number;
  /** Matmul FLOPs of all evaluations. */
  evalFlops: number;
  /** `trainFlops + evalFlops`. */
  totalFlops: number;
  /** The memory the row's training step needs. */
  memory: MemoryEstimate;
  /** The backend's calibration, or null when none was asked for. */
  calibration: Calibration | null;
  /** totalFlops at the calibrated rate, or null without a calibration. */
  expectedSeconds: number | null;
  /** Projected times on named GPUs. */
  gpus: GpuProjection[];
}

/** Options of {@linkcode estimateRow}. */
export interface EstimateOptions {
  /** The ARC data folder where the config's `data.data_dir` is null (reduced ARC sets only). */
  dataDir?: string;
  /** Calibrate on the current backend (initialise it first); default true. */
  measure?: boolean;
  /** The backend, for the micro-batch it would choose (default: wasm's limits). */
  backend?: BackendFacts;
  /** Called as the calibration progresses. */
  onProgress?: ProgressFn;
  /** Replaces the data loader or the calibration (tests). */
  deps?: Partial<EstimateDeps>;
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
 * The compute a row will take: its steps (from counts for epoch-based configs), FLOPs of training and
 * evaluation, its memory, and (when calibrating) the expected time on the current backend, with GPU
 * projections. Builds no dataset unless the config reduces an ARC set.
 *
 * @example
 * ```ts ignore
 * await initBackend("wasm");
 * const e = await estimateRow(row.loaded);
 * e.expectedSeconds; // seconds at the calibrated rate
 * ```
 */
export async function estimateRow(loaded: LoadedTrainConfig, opts: EstimateOptions = {}): Promise<ComputeEstimate> {
  const cfg = loaded.config;
  const backend = opts.backend ?? { name: "wasm" };
  const facts = await dataFacts(cfg, opts, { loadRunData: opts.deps?.loadRunData ?? loadRunData });
  const steps = totalSteps(cfg.train, {
    groups: facts.trainGroups,
    examples: facts.trainExamples,
    puzzles: facts.trainPuzzles,
  });
  const method = methodConfig(cfg);
  const shape = shapeOf(cfg, facts);
  const batch = cfg.train.batch_size;
  const evaluations = evaluationCount(steps, cfg.train.eval_interval, cfg.eval.at_end);
  const trainFlops = steps * trainStepFlops(shape, method, batch);
  const evalFlops = evaluations * facts.evalExamples * inferenceFlops(shape, method);
  const totalFlops = trainFlops + evalFlops;
  const need = memoryNeed(backboneConfig(cfg, facts), method, { ema: cfg.train.ema });
  const micro = runMicroBatch(cfg, facts, backend);
  const calibration = (opts.measure ?? true) ? await (opts.deps?.calibrate ?? (() => calibrate(backend.name)))() : null;
  return {
    steps,
    batchSize: batch,
    evaluations,
    evalExamples: facts.evalExamples,
    counts: facts.source,
    trainFlops,
    evalFlops,
    totalFlops,
    memory: {
      parameters: need.parameters,
      optimizerState: need.optimizer + need.ema,
      puzzleTable: need.puzzleTable,
      carry: batch * need.carryPerExample,
      microBatch: micro.microBatch,
      passes: micro.passes,
      activationsPerMicroBatch: micro.microBatch * need.activationsPerExample,
    },
    calibration,
    expectedSeconds: calibration ? totalFlops / calibration.flopsPerSecond : null,
    gpus: gpuProjections(totalFlops),
  };
}

/**
 * A duration for an estimate: days and hours from a day on ("42 d 7 h", thousands separated), hours and
 * minutes from an hour, then minutes, then seconds.
 *
 * @example
 * ```ts
 * import { formatEstimate } from "./estimate.ts";
 * formatEstimate(42 * 86400 + 7 * 3600 + 59); // "42 d 7 h"
 * formatEstimate(3 * 3600 + 25 * 60); // "3 h 25 min"
 * ```
 */
export function formatEstimate(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "unknown";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 24) return `${hours} h ${Math.floor((seconds - hours * 3600) / 60)} min`;
  const days = Math.floor(seconds / 86400);
  return `${days.toLocaleString("en-US")} d ${Math.floor((seconds - days * 86400) / 3600)} h`;
}
