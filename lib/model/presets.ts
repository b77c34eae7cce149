/**
 * Named presets: the backbone sizes (compact, medium) and the method + training settings of the paper
 * and of the released code, for N-Queens and ARC. Each preset says where every value comes from:
 * docs/upstream.md §3, §6.1 and §7 (repository, commit and file of each) are the sources for "code",
 * the paper's sections 5.1-5.4 for "paper".
 *
 * @module
 */
import { type BackboneShape, DIS_DEFAULTS, type DisConfig, TRM_DEFAULTS, type TrmConfig } from "./config.ts";
import { ConfigError } from "../errors.ts";

/** Backbone sizes. compact: the "0.8M" model (D=256, 1 layer); medium: the "7M" model (D=512, 2 layers). */
export const BACKBONES = {
  compact: { hidden: 256, heads: 8, layers: 1, expansion: 4 },
  medium: { hidden: 512, heads: 8, layers: 2, expansion: 4 },
} as const satisfies Record<string, BackboneShape>;
/** A size of {@linkcode BACKBONES}: `compact` or `medium`. */
export type BackboneName = keyof typeof BACKBONES;

/** Optimiser and schedule settings a preset recommends; the training loop owns them. */
export interface TrainSettings {
  /** The weight optimiser's update rule. */
  optimizer: "adam-atan2" | "adam-atan2-lucidrains" | "adamw";
  /** Peak learning rate of the weights, after warmup. */
  lr: number;
  /** Optimiser steps of the linear warmup from 0. */
  lrWarmupSteps: number;
  /** Learning rate at the last step as a fraction of `lr`, reached by a half cosine (1 = constant after warmup). */
  lrMinRatio: number;
  /** Weight decay of the weight optimiser. */
  weightDecay: number;
  /** Adam's first-moment decay. */
  beta1: number;
  /** Adam's second-moment decay. */
  beta2: number;
  /** Peak learning rate of the puzzle-embedding sign-SGD. */
  puzzleEmbLr: number;
  /** Weight decay of the puzzle-embedding sign-SGD. */
  puzzleEmbWeightDecay: number;
  /** Global batch size: samples per optimiser step, and the divisor of the loss. */
  globalBatch: number;
  /** Training length in epochs over the training set (TRM's `epochs`). */
  epochs: number;
  /** Whether evaluation uses an exponential moving average of the weights. */
  ema: boolean;
  /** The EMA's decay per optimiser step. */
  emaRate: number;
}

/** A named, sourced configuration. */
export interface Preset {
  /** The preset's name, e.g. `nqueens-dis-paper`. */
  name: string;
  /** The task its data settings are for. */
  task: "nqueens" | "arc";
  /** Where its values come from: the paper's text or the authors' released code. */
  source: "paper" | "released-code";
  /** What the preset is, in one line. */
  description: string;
  /** The backbone's sizes; the data supplies vocabulary, length and puzzle ids. */
  backbone: BackboneShape;
  /** The method and its recursion. */
  method: TrmConfig | DisConfig;
  /** The optimiser and schedule it recommends. */
  train: TrainSettings;
}

const TRM_ACT = { method: "trm", ...TRM_DEFAULTS } as const;
/** DIS as the released code runs it: T=1, n=2, the reveal path, no step weights, autoregressive input. */
const DIS_CODE = { method: "dis", ...DIS_DEFAULTS } as const;
const TRAIN_BASE: TrainSettings = {
  optimizer: "adam-atan2",
  lr: 1e-4,
  lrWarmupSteps: 2000,
  lrMinRatio: 1.0,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  puzzleEmbLr: 1e-2,
  puzzleEmbWeightDecay: 0.1,
  globalBatch: 768,
  epochs: 100000,
  ema: false,
  emaRate: 0.999,
};

/** Every preset, in a fixed order; {@linkcode getPreset} looks one up by name. */
export const PRESETS: readonly Preset[] = [
  {
    name: "nqueens-dis-paper",
    task: "nqueens",
    source: "paper",
    description: "Paper 5.1/5.3: 0.8M compact, N_sup=6, T=1, n=2, masking targets at a linearly falling rate, " +
      "linearly increasing step weights, Adam-atan2, input fixed (Fig. 4 pseudo-code). wd 0.1 and batch 768 " +
      "follow the ARC recipe of 5.3 (the N-Queens section states neither).",
    backbone: BACKBONES.compact,
    method: {
      method: "dis",
      nSup: 6,
      hCycles: 1,
      lCycles: 2,
      targets: "mask",
      stepWeights: "linear",
      autoregressive: false,
      loss: "stablemax",
    },
    train: { ...TRAIN_BASE },
  },
  {
    name: "nqueens-trm-paper",
    task: "nqueens",
    source: "paper",
    description: "Paper 5.1: TRM baseline with the same 0.8M compact backbone, T=3, n=6, 16 supervision " +
      "steps with a halting head (336 network calls per sample).",
    backbone: BACKBONES.compact,
    method: { ...TRM_ACT, nSup: 16, hCycles: 3, lCycles: 6 },
    train: { ...TRAIN_BASE },
  },
  {
    name: "nqueens-dis-code",
    task: "nqueens",
    source: "released-code",
    description: "queens/train_arc_tiny_corrupt_queens.py: ACTV5 + ACTLossHeadV4, halt_max_steps 8, T=1, n=2, " +
      "D=512, 2 layers, reveal path, no step weights, autoregressive input, lucidrains AdamAtan2, lr 1e-4, " +
      "wd 0.1, puzzle-emb lr 1e-2, batch 768, 100000 epochs.",
    backbone: BACKBONES.medium,
    method: { ...DIS_CODE, nSup: 8 },
    train: { ...TRAIN_BASE, optimizer: "adam-atan2-lucidrains" },
  },
  {
    name: "nqueens-trm-code",
    task: "nqueens",
    source: "released-code",
    description: "queens/NQUEENS_TRM_QUICKSTART.md: TRM's Sudoku-style command, T=3, n=6, D=512, 2 layers, " +
      "16 steps with ACT, epochs 50000, lr 1e-4, wd 1.0, puzzle-emb lr 1e-4 and wd 1.0, EMA.",
    backbone: BACKBONES.medium,
    method: { ...TRM_ACT, nSup: 16, hCycles: 3, lCycles: 6 },
    train: { ...TRAIN_BASE, weightDecay: 1.0, puzzleEmbLr: 1e-4, puzzleEmbWeightDecay: 1.0, epochs: 50000, ema: true },
  },
  {
    name: "arc-dis-compact",
    task: "arc",
    source: "released-code",
    description: "train_arc_tiny_corrupt.py: DIS-compact 0.8M, N_sup=6, T=1, n=2, reveal path, no step weights, " +
      "autoregressive input, torch AdamW, lr 1e-4, wd 0.1, batch 512, 200000 epochs.",
    backbone: BACKBONES.compact,
    method: { ...DIS_CODE, nSup: 6 },
    train: { ...TRAIN_BASE, optimizer: "adamw", globalBatch: 512, epochs: 200000 },
  },
  {
    name: "arc-dis-medium",
    task: "arc",
    source: "paper",
    description: "Paper 5.3/Table 1 DIS-medium 7M: D=512 as TRM (2 layers), otherwise the compact recipe; " +
      "this config is not in the released code.",
    backbone: BACKBONES.medium,
    method: { ...DIS_CODE, nSup: 6 },
    train: { ...TRAIN_BASE, optimizer: "adamw", globalBatch: 512, epochs: 200000 },
  },
  {
    name: "arc-trm-compact",
    task: "arc",
    source: "released-code",
    description: "train_arc_tiny.py: TRM-compact 0.8M, T=1, n=2, N_sup=16 with ACT, AdamW, batch 512, " +
      "100000 epochs.",
    backbone: BACKBONES.compact,
    method: { ...TRM_ACT, nSup: 16, hCycles: 1, lCycles: 2 },
    train: { ...TRAIN_BASE, optimizer: "adamw", globalBatch: 512 },
  },
  {
    name: "arc-trm-medium",
    task: "arc",
    source: "paper",
    description: "Paper 5.4 TRM-medium 7M: the medium backbone with T=1, n=2 and N_sup=16 (halting active).",
    backbone: BACKBONES.medium,
    method: { ...TRM_ACT, nSup: 16, hCycles: 1, lCycles: 2 },
    train: { ...TRAIN_BASE, optimizer: "adamw", globalBatch: 512 },
  },
  {
    name: "arc-trm",
    task: "arc",
    source: "released-code",
    description: "TRM's README ARC command: D=512, 2 layers, T=3, n=4, N_sup=16, AdamATan2, EMA, batch 768 " +
      "(the DIS paper quotes n=6, the yaml default, for its 336-call count).",
    backbone: BACKBONES.medium,
    method: { ...TRM_ACT, nSup: 16, hCycles: 3, lCycles: 4 },
    train: { ...TRAIN_BASE, ema: true },
  },
];

/**
 * Looks up a preset by name.
 *
 * @example
 * ```ts
 * import { getPreset } from "./presets.ts";
 * getPreset("arc-dis-compact").method.nSup; // 6
 * ```
 */
export function getPreset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) {
    throw new ConfigError(`Unknown model preset "${name}": expected one of ${PRESETS.map((x) => x.name).join(", ")}`);
  }
  return structuredClone(p);
}
