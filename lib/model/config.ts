/**
 * Typed configs for the TRM-Att backbone and the two training methods (TRM with ACT, DIS), their
 * validation, the parameter count, and the forward-pass accounting.
 *
 * Names follow the paper: `nSup` = N_sup supervision steps, `hCycles` = T, `lCycles` = n.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** Cross-entropy variants of the methods' losses (lib/method/losses.ts): TRM's stablemax, or softmax. */
export const LOSS_KINDS = ["stablemax", "softmax"] as const;
/** Cross-entropy variant. */
export type LossKind = typeof LOSS_KINDS[number];

/** The shared network ("TRM-Att"): one stack of post-norm transformer blocks used for both updates. */
export interface BackboneConfig {
  /** Output classes and input tokens, V (N-Queens 3, ARC 12; +1 for the DIS `mask` variant's mask token). */
  vocabSize: number;
  /** Sequence length L, without the puzzle prefix (N-Queens 64, ARC 900). */
  seqLen: number;
  /** Model width D. */
  hidden: number;
  /** Attention heads; head_dim = D / heads (TRM: 8). */
  heads: number;
  /** Transformer blocks per network application (TRM's L_layers: 1 or 2). */
  layers: number;
  /** SwiGLU expansion (TRM: 4). */
  expansion: number;
  /** SwiGLU width is rounded up to a multiple of this (TRM: 256); tiny test models may lower it. */
  mlpMultiple: number;
  /** Puzzle-prefix positions P (TRM: 16); position 0 holds the puzzle embedding, 1..P-1 are zeros. */
  puzzleEmbLen: number;
  /** Rows of the puzzle-embedding table (ids 0..numPuzzleIds-1; id 0 is the blank id in TRM's data). */
  numPuzzleIds: number;
  /** RoPE base (TRM: 10000). */
  ropeTheta: number;
  /** RMSNorm epsilon (TRM: 1e-5). */
  normEps: number;
  /** Rows of the learned step-index embedding (DIS: nSup + 2); 0 = none (TRM). */
  stepEmbedRows: number;
  /** Whether the model has the Q (halting) head (TRM: yes; DIS: no). */
  qHead: boolean;
}

/** The shape-only part of a backbone that a preset names; the data supplies the rest. */
export type BackboneShape = Pick<BackboneConfig, "hidden" | "heads" | "layers" | "expansion">;

/** TRM with deep supervision and ACT halting. */
export interface TrmConfig {
  /** Tags a TRM config. */
  method: "trm";
  /** N_sup: maximum supervision steps per sample (TRM: 16); evaluation always runs all of them. */
  nSup: number;
  /** T: recursion cycles per supervision step; the first T-1 run without gradient (TRM: 3). */
  hCycles: number;
  /** n: latent updates per cycle (TRM: 6, or 4 in its ARC command). */
  lCycles: number;
  /** Probability that a slot gets a random minimum halting step in 2..nSup (TRM: 0.1). */
  haltExplorationProb: number;
  /** Weight of the halting BCE (TRM: 0.5). */
  qLossWeight: number;
  /** The cross-entropy of the answer loss (TRM: stablemax). */
  loss: LossKind;
}

/**
 * Target-path variants for DIS (lib/method/targets.ts makes each): the one list the config schema, the
 * validation and the experiments read, so a new corruption kernel is added here and in targets.ts.
 */
export const TARGET_KINDS = ["reveal", "mask", "replace"] as const;
/** A variant of {@linkcode TARGET_KINDS}. */
export type TargetKind = typeof TARGET_KINDS[number];
/** Per-step loss weights: `uniform` (released code) or `linear` (paper text). */
export const STEP_WEIGHTS = ["uniform", "linear"] as const;
/** A scheme of {@linkcode STEP_WEIGHTS}. */
export type StepWeights = typeof STEP_WEIGHTS[number];
/** When DIS takes a loader batch (lib/method DisTrainerOptions.fetch): `every-step` (code) or `when-needed`. */
export const DIS_FETCH_MODES = ["every-step", "when-needed"] as const;
/** A mode of {@linkcode DIS_FETCH_MODES}. */
export type DisFetch = typeof DIS_FETCH_MODES[number];

/** `"a", "b" or "c"`, for messages. */
function quotedList(xs: readonly string[]): string {
  const q = xs.map((x) => `"${x}"`);
  return q.length < 2 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q.at(-1)}`;
}

/** Deep Improvement Supervision. */
export interface DisConfig {
  /** Tags a DIS config. */
  method: "dis";
  /** N_sup: supervision steps per sample, always all of them (paper: 6; N-Queens code: 8). */
  nSup: number;
  /** T (DIS: 1, so every call is under gradient). */
  hCycles: number;
  /** n (DIS: 2). */
  lCycles: number;
  /** How the intermediate targets are made; see targets.ts. */
  targets: TargetKind;
  /** Per-step loss weights: `uniform` (released code) or `linear` (paper text). */
  stepWeights: StepWeights;
  /** Feed the previous step's argmax prediction as the next step's input (released code "V5"). */
  autoregressive: boolean;
  /** The cross-entropy of the loss toward each step's target. */
  loss: LossKind;
}

/** One method's settings, told apart by `method`. */
export type MethodConfig = TrmConfig | DisConfig;

/** The training methods, as the resolved config's `model.method` names them. */
export const METHODS = ["trm", "dis"] as const;
/** A method of {@linkcode METHODS}. */
export type MethodName = typeof METHODS[number];

/**
 * TRM's own settings as its code sets them (ACT exploration 0.1, halting BCE weight 0.5, stablemax): the
 * one source the presets and the run config read.
 */
export const TRM_DEFAULTS = {
  haltExplorationProb: 0.1,
  qLossWeight: 0.5,
  loss: "stablemax",
} as const satisfies Omit<TrmConfig, "method" | "nSup" | "hCycles" | "lCycles">;

/**
 * DIS as the released code runs it (T = 1, n = 2, the reveal path, uniform step weights, autoregressive
 * input, stablemax): the one source the presets and the run config read.
 */
export const DIS_DEFAULTS = {
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "uniform",
  autoregressive: true,
  loss: "stablemax",
} as const satisfies Omit<DisConfig, "method" | "nSup">;

/** A full model description: backbone plus method. */
export interface ModelConfig {
  /** The network. */
  backbone: BackboneConfig;
  /** The training method and its recursion. */
  method: MethodConfig;
}

/** TRM's SwiGLU width: `ceil(round(expansion * D * 2/3) / multiple) * multiple`. */
export function swigluHidden(hidden: number, expansion: number, multiple = 256): number {
  // Python's round() rounds half to even; D * expansion * 2/3 is never exactly .5 for integer D and
  // expansion 4, but match it anyway.
  const v = expansion * hidden * 2 / 3;
  const r = Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v);
  return Math.ceil(r / multiple) * multiple;
}

/** Backbone defaults from TRM's code; `vocabSize`, `seqLen` and `numPuzzleIds` come from the data. */
export const BACKBONE_DEFAULTS: Omit<BackboneConfig, "vocabSize" | "seqLen" | "numPuzzleIds"> = {
  hidden: 512,
  heads: 8,
  layers: 2,
  expansion: 4,
  mlpMultiple: 256,
  puzzleEmbLen: 16,
  ropeTheta: 10000,
  normEps: 1e-5,
  stepEmbedRows: 0,
  qHead: true,
};

/**
 * The backbone a method needs: DIS adds the step-index table (nSup + 2 rows, as the released code)
 * and drops the Q head; TRM keeps the Q head and has no step table. DIS's `mask` variant adds one class,
 * the mask token (id = the data's vocabulary size).
 *
 * @example
 * ```ts
 * import { backboneFor } from "./config.ts";
 * const b = backboneFor({ hidden: 256, heads: 8, layers: 1, expansion: 4 },
 *   { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 },
 *   { method: "dis", nSup: 6, hCycles: 1, lCycles: 2, targets: "reveal", stepWeights: "uniform",
 *     autoregressive: false, loss: "stablemax" });
 * b.stepEmbedRows; // 8
 * ```
 */
export function backboneFor(
  shape: BackboneShape & Partial<BackboneConfig>,
  data: { vocabSize: number; seqLen: number; numPuzzleIds: number },
  method: MethodConfig,
): BackboneConfig {
  return {
    ...BACKBONE_DEFAULTS,
    ...shape,
    ...data,
    // The `mask` variant's mask token is one extra class after the data's vocabulary.
    vocabSize: data.vocabSize + (method.method === "dis" && method.targets === "mask" ? 1 : 0),
    stepEmbedRows: method.method === "dis" ? method.nSup + 2 : 0,
    qHead: method.method === "trm",
  };
}

function need(cond: boolean, key: string, expected: string, got: unknown): void {
  if (!cond) throw new ConfigError(`Cannot build the model: "${key}" must be ${expected}, got ${JSON.stringify(got)}`);
}

const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

/** Checks a model config; throws {@linkcode ConfigError} naming the key and what was expected. */
export function validateModelConfig(cfg: ModelConfig): void {
  const b = cfg.backbone;
  for (const k of ["vocabSize", "seqLen", "hidden", "heads", "layers", "mlpMultiple", "numPuzzleIds"] as const) {
    need(posInt(b[k]), `backbone.${k}`, "a positive integer", b[k]);
  }
  need(
    Number.isInteger(b.puzzleEmbLen) && b.puzzleEmbLen >= 1,
    "backbone.puzzleEmbLen",
    "an integer >= 1",
    b.puzzleEmbLen,
  );
  need(b.hidden % b.heads === 0, "backbone.heads", `a divisor of hidden (${b.hidden})`, b.heads);
  need((b.hidden / b.heads) % 2 === 0, "backbone.heads", "such that hidden/heads is even (RoPE)", b.heads);
  need(b.expansion > 0, "backbone.expansion", "> 0", b.expansion);
  need(b.ropeTheta > 0, "backbone.ropeTheta", "> 0", b.ropeTheta);
  need(b.normEps > 0, "backbone.normEps", "> 0", b.normEps);
  need(
    Number.isInteger(b.stepEmbedRows) && b.stepEmbedRows >= 0,
    "backbone.stepEmbedRows",
    "an integer >= 0",
    b.stepEmbedRows,
  );
  const m = cfg.method;
  need(m.method === "trm" || m.method === "dis", "method.method", `"trm" or "dis"`, m.method);
  need(posInt(m.nSup), "method.nSup", "a positive integer", m.nSup);
  need(posInt(m.hCycles), "method.hCycles", "a positive integer", m.hCycles);
  need(posInt(m.lCycles), "method.lCycles", "a positive integer", m.lCycles);
  need((LOSS_KINDS as readonly string[]).includes(m.loss), "method.loss", quotedList(LOSS_KINDS), m.loss);
  if (m.method === "trm") {
    need(b.qHead, "backbone.qHead", "true for TRM (the halting head)", b.qHead);
    need(
      m.haltExplorationProb >= 0 && m.haltExplorationProb <= 1,
      "method.haltExplorationProb",
      "in [0, 1]",
      m.haltExplorationProb,
    );
    need(m.qLossWeight >= 0, "method.qLossWeight", ">= 0", m.qLossWeight);
  } else {
    need(
      b.stepEmbedRows >= m.nSup + 1,
      "backbone.stepEmbedRows",
      `>= nSup + 1 (${m.nSup + 1}) for DIS`,
      b.stepEmbedRows,
    );
    need(
      (TARGET_KINDS as readonly string[]).includes(m.targets),
      "method.targets",
      quotedList(TARGET_KINDS),
      m.targets,
    );
    need(
      (STEP_WEIGHTS as readonly string[]).includes(m.stepWeights),
      "method.stepWeights",
      quotedList(STEP_WEIGHTS),
      m.stepWeights,
    );
    need(typeof m.autoregressive === "boolean", "method.autoregressive", "a boolean", m.autoregressive);
  }
}

/** Trainable parameter counts by group, excluding the puzzle-embedding table (a buffer in TRM). */
export interface ParamCount {
  /** Token embedding, V * D. */
  embedTokens: number;
  /** Step-index embedding, stepEmbedRows * D (0 for TRM). */
  stepEmbed: number;
  /** Every transformer block: attention (QKV and output) and SwiGLU weights, times the layers. */
  blocks: number;
  /** Output head, D * V. */
  lmHead: number;
  /** Halting head, 2 * D + 2 (0 without it). */
  qHead: number;
  /** Everything above: the number the papers quote ("0.8M", "7M"). */
  total: number;
  /** Puzzle-embedding values (numPuzzleIds * D), reported apart. */
  puzzleEmbValues: number;
  /** Host memory the puzzle table takes, in bytes (float32). */
  puzzleEmbBytes: number;
}

/**
 * Parameter count from the shapes alone.
 *
 * @example
 * ```ts
 * import { BACKBONE_DEFAULTS, paramCount } from "./config.ts";
 * const c = paramCount({ ...BACKBONE_DEFAULTS, hidden: 256, layers: 1, vocabSize: 12, seqLen: 900, numPuzzleIds: 1 });
 * c.total; // 858626 (the "0.8M" compact model)
 * ```
 */
export function paramCount(b: BackboneConfig): ParamCount {
  const d = b.hidden;
  const inter = swigluHidden(d, b.expansion, b.mlpMultiple);
  const perBlock = d * 3 * d + d * d + d * 2 * inter + inter * d;
  const embedTokens = b.vocabSize * d;
  const stepEmbed = b.stepEmbedRows * d;
  const blocks = perBlock * b.layers;
  const lmHead = d * b.vocabSize;
  const qHead = b.qHead ? d * 2 + 2 : 0;
  return {
    embedTokens,
    stepEmbed,
    blocks,
    lmHead,
    qHead,
    total: embedTokens + stepEmbed + blocks + lmHead + qHead,
    puzzleEmbValues: b.numPuzzleIds * d,
    puzzleEmbBytes: b.numPuzzleIds * d * 4,
  };
}

/** Network applications (one call of the block stack) per sample. */
export interface ForwardPassCount {
  /** Per supervision step: T * (n + 1). */
  perStep: number;
  /** Of those, the ones under gradient in training: n + 1. */
  withGradPerStep: number;
  /** Per sample at inference, where every method runs all nSup steps: nSup * T * (n + 1). */
  perSampleInference: number;
  /** Upper bound per sample in training (TRM halts earlier with ACT; DIS always runs nSup steps). */
  perSampleTrainingMax: number;
}

/**
 * The paper's accounting: `N_sup * T * (n + 1)` network applications per sample.
 *
 * @example
 * ```ts
 * import { forwardPasses } from "./config.ts";
 * forwardPasses({ nSup: 6, hCycles: 1, lCycles: 2 }).perSampleInference; // 18 (DIS)
 * forwardPasses({ nSup: 16, hCycles: 3, lCycles: 6 }).perSampleInference; // 336 (TRM)
 * ```
 */
export function forwardPasses(m: Pick<MethodConfig, "nSup" | "hCycles" | "lCycles">): ForwardPassCount {
  const perStep = m.hCycles * (m.lCycles + 1);
  return {
    perStep,
    withGradPerStep: m.lCycles + 1,
    perSampleInference: m.nSup * perStep,
    perSampleTrainingMax: m.nSup * perStep,
  };
}
