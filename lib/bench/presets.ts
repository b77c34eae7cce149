/**
 * The benchmark presets: the model presets of lib/model at the shapes of their data, with the optimiser
 * each preset trains with, and the same description in the form the PyTorch twin
 * (tools/reference/bench_ref.py) reads.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { type BackboneConfig, backboneFor, getPreset, type MethodConfig } from "../model/mod.ts";
import type { OptimizerKind } from "../train/mod.ts";

/** The benchmark preset names. */
export const BENCH_PRESETS = [
  "dis-compact-nqueens",
  "trm-compact-nqueens",
  "dis-compact-arc",
  "dis-medium-arc",
] as const;
/** One of {@linkcode BENCH_PRESETS}. */
export type BenchPresetName = typeof BENCH_PRESETS[number];

/** What one benchmark preset trains. */
export interface BenchSpec {
  /** The preset's name, one of {@linkcode BENCH_PRESETS}. */
  name: string;
  /** The lib/model preset it is built from. */
  modelPreset: string;
  /** The data's shape: vocabulary (without DIS's mask token), sequence length, puzzle ids. */
  data: { vocabSize: number; seqLen: number; numPuzzleIds: number };
  /** The network's sizes. */
  backbone: BackboneConfig;
  /** The method and its recursion (TRM or DIS). */
  method: MethodConfig;
  /** The update rule it trains with. */
  optimizer: OptimizerKind;
}

const SOURCES: Record<BenchPresetName, { modelPreset: string; data: BenchSpec["data"] }> = {
  // N-Queens: 8x8 boards, tokens {empty, queen, blocked}, one (blank) puzzle id.
  "dis-compact-nqueens": { modelPreset: "nqueens-dis-paper", data: { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 } },
  "trm-compact-nqueens": { modelPreset: "nqueens-trm-paper", data: { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 } },
  // ARC: 30x30 grids over 12 tokens; the puzzle table's size does not change the step's cost.
  "dis-compact-arc": { modelPreset: "arc-dis-compact", data: { vocabSize: 12, seqLen: 900, numPuzzleIds: 1024 } },
  "dis-medium-arc": { modelPreset: "arc-dis-medium", data: { vocabSize: 12, seqLen: 900, numPuzzleIds: 1024 } },
};

/**
 * Checks a preset name.
 *
 * @example
 * ```ts
 * import { parseBenchPreset } from "./presets.ts";
 * parseBenchPreset("dis-compact-arc"); // "dis-compact-arc"
 * ```
 */
export function parseBenchPreset(name: string): BenchPresetName {
  if (!(BENCH_PRESETS as readonly string[]).includes(name)) {
    throw new InputError(`Unknown benchmark preset "${name}": expected one of ${BENCH_PRESETS.join(", ")}`);
  }
  return name as BenchPresetName;
}

/**
 * The full description of a benchmark preset.
 *
 * @example
 * ```ts
 * import { benchSpec } from "./presets.ts";
 * const s = benchSpec("dis-compact-nqueens");
 * s.backbone.hidden; // 256
 * s.method.nSup; // 6
 * ```
 */
export function benchSpec(name: BenchPresetName): BenchSpec {
  const src = SOURCES[parseBenchPreset(name)];
  const preset = getPreset(src.modelPreset);
  return {
    name,
    modelPreset: src.modelPreset,
    data: { ...src.data },
    backbone: backboneFor(preset.backbone, src.data, preset.method),
    method: preset.method,
    optimizer: preset.train.optimizer,
  };
}

/** The description bench_ref.py reads (`--config`), with its key names. */
export function referenceConfig(spec: BenchSpec): Record<string, string | number> {
  const b = spec.backbone, m = spec.method;
  return {
    name: spec.name,
    method: m.method,
    hidden: b.hidden,
    heads: b.heads,
    layers: b.layers,
    expansion: b.expansion,
    mlp_multiple: b.mlpMultiple,
    puzzle_emb_len: b.puzzleEmbLen,
    rope_theta: b.ropeTheta,
    norm_eps: b.normEps,
    vocab: b.vocabSize,
    seq_len: b.seqLen,
    num_puzzle_ids: b.numPuzzleIds,
    n_sup: m.nSup,
    h_cycles: m.hCycles,
    l_cycles: m.lCycles,
    loss: m.loss,
    step_weights: m.method === "dis" ? m.stepWeights : "uniform",
    optimizer: spec.optimizer,
  };
}
