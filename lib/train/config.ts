/**
 * The training-run config: a YAML file validated against {@linkcode trainConfigSchema} (lib/config, so
 * unknown keys and wrong types name the file and the key), then resolved against the lib/model preset it
 * names. Every value the YAML leaves out comes from the preset (model shape, method, optimiser and
 * schedule) or from the defaults below; the resolved config, with every value explicit, is what a run
 * writes as `config.yaml` and hashes, so reading it back resolves to the same config and the same hash.
 *
 * ```yaml
 * seed: 0
 * data: { kind: nqueens, variant: paper }          # or { kind: arc, set: arc-agi-1, augmentations: 1000 }
 *                                                  # (ARC: canvas: 10 for the reduced benchmark, docs/data.md)
 * model: { preset: nqueens-dis-paper, hidden: 64, layers: 1 }
 * train: { batch_size: 64, steps: 2000, lr: 1e-3, log_interval: 50, checkpoint_interval: 500 }
 * eval: { batch_size: 200 }
 * ```
 *
 * docs/training.md lists every key.
 *
 * @module
 */
import { stringify as stringifyYaml } from "yaml";
import { ConfigError, configHash, loadConfig, parseConfigText, z } from "../config/mod.ts";
import { ARC_SETS, type ArcSetName, type ArcSource, NQUEENS_VARIANTS, type NQueensVariant } from "../data/mod.ts";
import {
  BACKBONE_DEFAULTS,
  type BackboneConfig,
  backboneFor,
  DIS_DEFAULTS,
  DIS_FETCH_MODES,
  type DisFetch,
  getPreset,
  LOSS_KINDS,
  type LossKind,
  type MethodConfig,
  type MethodName,
  METHODS,
  type Preset,
  STEP_WEIGHTS,
  type StepWeights,
  TARGET_KINDS,
  type TargetKind,
  TRM_DEFAULTS,
  validateModelConfig,
} from "../model/mod.ts";
import { OPTIMIZER_KINDS, type OptimizerKind } from "./optimizers.ts";
import { sizeProblem } from "./limits.ts";

const posInt = () => z.int().positive();
const nonNegInt = () => z.int().nonnegative();
const unit = () => z.number().min(0).max(1);

const nqueensData = z.strictObject({
  kind: z.literal("nqueens"),
  /** `paper` (Q in 1..7, 7,200 train) or `released-code` (DIS's generator with dihedral copies). */
  variant: z.enum(NQUEENS_VARIANTS).default("paper"),
  /** Seed of the generated set; null = the run's seed. */
  seed: nonNegInt().nullable().default(null),
  /**
   * Validation boards (recipe searches): drawn from their own stream, disjoint from the test boards,
   * evaluated at every evaluation point beside the test boards and reported separately. Absent = none.
   */
  validation: posInt().max(100_000).optional(),
});

const arcSubset = z.union([
  z.strictObject({ tasks: posInt() }),
  z.strictObject({ ids: z.array(z.string().min(1)).min(1) }),
]);

const arcData = z.strictObject({
  kind: z.literal("arc"),
  set: z.enum(Object.keys(ARC_SETS) as [ArcSetName, ...ArcSetName[]]).default("arc-agi-1"),
  /** Augmentations per task (TRM: 1000). */
  augmentations: nonNegInt().default(1000),
  /** Folder holding the ARC data; null = $TRM_DIS_DATA_DIR, else the fetch cache. */
  data_dir: z.string().min(1).nullable().default(null),
  source: z.enum(["dirs", "kaggle"]).default("dirs"),
  /** Keep only some tasks (small profiles): the first N of each subset by id, or the listed ids. */
  subset: arcSubset.nullable().default(null),
  /**
   * Side of the canvas (absent: TRM's 30). Tasks with a grid that does not fit are left out and counted
   * (`subset.tasks` picks among the tasks that fit); a task named in `subset.ids` that does not fit is an
   * error. Absent rather than defaulted, so a 30 x 30 config resolves and hashes as it did before the key.
   */
  canvas: z.int().min(1).max(30).optional(),
  /** Training tasks whose test pairs form the never-scored validation split (absent: none). */
  validation: z.strictObject({ tasks: posInt() }).optional(),
  /** Seed of the augmentation index; null = the run's seed. */
  seed: nonNegInt().nullable().default(null),
});

const modelSection = z.strictObject({
  /** A lib/model preset (`getPreset`): backbone size, method, and the training settings below default to it. */
  preset: z.string().min(1),
  /** The preset's method, written out by resolution; when given it must be the preset's. */
  method: z.enum(METHODS).optional(),
  hidden: posInt().optional(),
  heads: posInt().optional(),
  layers: posInt().optional(),
  expansion: z.number().positive().optional(),
  mlp_multiple: posInt().optional(),
  puzzle_emb_len: posInt().optional(),
  n_sup: posInt().optional(),
  h_cycles: posInt().optional(),
  l_cycles: posInt().optional(),
  loss: z.enum(LOSS_KINDS).optional(),
  /** TRM only. */
  halt_exploration_prob: unit().optional(),
  q_loss_weight: z.number().nonnegative().optional(),
  /** DIS only. */
  targets: z.enum(TARGET_KINDS).optional(),
  step_weights: z.enum(STEP_WEIGHTS).optional(),
  autoregressive: z.boolean().optional(),
});

const trainSection = z.strictObject({
  batch_size: posInt().optional(),
  /** Optimiser steps; give this or `epochs` (TRM's total_steps formula). */
  steps: posInt().nullable().optional(),
  epochs: z.number().positive().nullable().optional(),
  optimizer: z.enum(OPTIMIZER_KINDS).optional(),
  lr: z.number().nonnegative().optional(),
  warmup_steps: nonNegInt().optional(),
  lr_min_ratio: unit().optional(),
  weight_decay: z.number().nonnegative().optional(),
  beta1: z.number().min(0).lt(1).optional(),
  beta2: z.number().min(0).lt(1).optional(),
  puzzle_emb_lr: z.number().nonnegative().optional(),
  puzzle_emb_weight_decay: z.number().nonnegative().optional(),
  ema: z.boolean().optional(),
  ema_rate: z.number().min(0).lt(1).optional(),
  /** Global-norm gradient clipping; null = off (TRM and DIS do not clip). */
  grad_clip: z.number().positive().nullable().default(null),
  log_interval: posInt().default(10),
  /** Evaluate every this many steps (0 = only at the end, when `eval.at_end`). */
  eval_interval: nonNegInt().default(0),
  /** Checkpoint every this many steps (0 = only at the end); the last step is always checkpointed. */
  checkpoint_interval: nonNegInt().default(1000),
  keep_checkpoints: posInt().default(2),
  /**
   * Also checkpoint when this many minutes of wall time have passed since the last checkpoint (0 = off).
   * Absent = {@linkcode DEFAULT_CHECKPOINT_MINUTES}, and absent from the resolved config, so configs
   * without it keep their config.yaml; never part of the config hash, since checkpoints do not change training.
   */
  checkpoint_minutes: z.number().nonnegative().optional(),
  /**
   * Rows per forward/backward pass (gradient accumulation); the optimiser still steps once per
   * `batch_size` rows. Absent = chosen from the backend's memory (lib/train memory.ts; the full batch
   * where it fits), and absent from the resolved config; never part of the config hash, since it changes
   * only the float summation order of the gradient, not the update.
   */
  micro_batch: posInt().optional(),
  /** DIS only: when a loader batch is taken (lib/method DisTrainerOptions.fetch). */
  dis_fetch: z.enum(DIS_FETCH_MODES).optional(),
  /**
   * DIS only: start the batch's slots at staggered supervision steps (slot i begins at step i mod N_sup + 1),
   * so every optimiser step mixes all steps instead of running step s on the whole batch. Absent = off, as
   * the released code.
   */
  dis_stagger: z.boolean().optional(),
});

const evalSection = z.strictObject({
  batch_size: posInt().default(256),
  /** Evaluate only the first N examples of the split (quick profiles); null = all. */
  max_examples: posInt().nullable().default(null),
  /** Evaluate the final weights when training ends. */
  at_end: z.boolean().default(true),
});

/** N-Queens data settings. */
export interface NQueensDataConfig {
  /** Tags N-Queens data. */
  kind: "nqueens";
  /** `paper` (Q in 1..7, 7,200 train) or `released-code` (DIS's generator with dihedral copies). */
  variant: NQueensVariant;
  /** Seed of the generated set; null = the run's seed. */
  seed: number | null;
  /** Validation boards, disjoint from the test boards; absent = none. */
  validation?: number;
}

/** ARC data settings. */
export interface ArcDataConfig {
  /** Tags ARC data. */
  kind: "arc";
  /** The TRM build: `arc-agi-1` or `arc-agi-2`. */
  set: ArcSetName;
  /** Augmentations per task (TRM: 1000). */
  augmentations: number;
  /** Folder holding the ARC data; null = $TRM_DIS_DATA_DIR, else the fetch cache. */
  data_dir: string | null;
  /** The file layout to read: the upstream per-task files (`dirs`) or TRM's Kaggle-form files (`kaggle`). */
  source: ArcSource;
  /** Keep only some tasks (small profiles): the first N of each subset by id, or the listed ids. */
  subset: { tasks: number } | { ids: string[] } | null;
  /** Seed of the augmentation index; null = the run's seed. */
  seed: number | null;
  /** Canvas side (absent: TRM's 30); tasks that do not fit are left out and counted. */
  canvas?: number;
  /** Training tasks whose test pairs form the never-scored validation split (absent: none). */
  validation?: { tasks: number };
}

/** The data section: N-Queens or ARC. */
export type DataConfig = NQueensDataConfig | ArcDataConfig;

/** Evaluation settings. */
export interface EvalSection {
  /** Rows per evaluation batch (the last one padded). */
  batch_size: number;
  /** Evaluate only the first N examples of the split (quick profiles); null = all. */
  max_examples: number | null;
  /** Evaluate the final weights when training ends. */
  at_end: boolean;
}

/** `T` with the keys `K` optional: keys that have defaults, so a config as written may leave them out. */
export type WithOptional<T, K extends keyof T> = Omit<T, K> & { [P in K]?: T[P] };

/** The model section as validated, before the preset fills it in. */
export type ModelSectionInput = { preset: string } & Partial<Omit<ModelSection, "preset">>;

/** The train section as validated, before the preset fills it in. */
export type TrainSectionInput = Partial<Omit<TrainSection, "steps" | "epochs">> & {
  steps?: number | null;
  epochs?: number | null;
};

/** A training-run config as written, before resolution. */
export interface TrainConfigInput {
  /** Master seed (default 0). */
  seed?: number;
  /** The data to train on: N-Queens or ARC, as written (defaults not yet filled). */
  data:
    | WithOptional<NQueensDataConfig, "variant" | "seed">
    | WithOptional<ArcDataConfig, "set" | "augmentations" | "data_dir" | "source" | "subset" | "seed">;
  /** The model preset and the settings that override it. */
  model: ModelSectionInput;
  /** Training settings that override the preset's (default: none). */
  train?: TrainSectionInput;
  /** Evaluation settings (default: every field's default). */
  eval?: Partial<EvalSection>;
}

/** A training-run config after validation: defaults filled, preset values still to come. */
export interface ValidatedTrainConfig {
  /** Master seed: model init, halting exploration, DIS target paths and the sampler derive from it. */
  seed: number;
  /** The data section, defaults filled. */
  data: DataConfig;
  /** The model preset and the settings that override it. */
  model: ModelSectionInput;
  /** Training settings as written, with the loop's own defaults filled. */
  train:
    & TrainSectionInput
    & Pick<
      TrainSection,
      "grad_clip" | "log_interval" | "eval_interval" | "checkpoint_interval" | "keep_checkpoints"
    >;
  /** Evaluation settings, defaults filled. */
  eval: EvalSection;
}

/**
 * The schema of a training-run YAML before resolution. Experiments can embed it in their own schemas.
 *
 * @example
 * ```ts
 * import { trainConfigSchema } from "./config.ts";
 * trainConfigSchema.parse({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }).seed; // 0
 * ```
 */
export const trainConfigSchema: z.ZodType<ValidatedTrainConfig, TrainConfigInput> = z.strictObject({
  /** Master seed: model init, halting exploration, DIS target paths and the sampler derive from it. */
  seed: nonNegInt().default(0),
  data: z.discriminatedUnion("kind", [nqueensData, arcData]),
  model: modelSection,
  train: trainSection.prefault({}),
  eval: evalSection.prefault({}),
});

/** The model section after resolution: every backbone and method field explicit. */
export interface ModelSection {
  /** The lib/model preset the run starts from. */
  preset: string;
  /** The method the preset trains (written out so config.yaml says it; not part of the config hash). */
  method: MethodName;
  /** Model width D. */
  hidden: number;
  /** Attention heads. */
  heads: number;
  /** Transformer blocks per network application. */
  layers: number;
  /** SwiGLU expansion. */
  expansion: number;
  /** SwiGLU width is rounded up to a multiple of this. */
  mlp_multiple: number;
  /** Puzzle-prefix positions P. */
  puzzle_emb_len: number;
  /** N_sup: supervision steps per sample (TRM: at most). */
  n_sup: number;
  /** T: recursion cycles per supervision step. */
  h_cycles: number;
  /** n: latent updates per cycle. */
  l_cycles: number;
  /** Cross-entropy variant: `stablemax` or `softmax`. */
  loss: LossKind;
  /** TRM only: probability of a random minimum halting step. */
  halt_exploration_prob?: number;
  /** TRM only: weight of the halting BCE. */
  q_loss_weight?: number;
  /** DIS only: how the intermediate targets are made. */
  targets?: TargetKind;
  /** DIS only: per-step loss weights, `uniform` or `linear`. */
  step_weights?: StepWeights;
  /** DIS only: feed each step's argmax prediction as the next step's input. */
  autoregressive?: boolean;
}

/** The train section after resolution: exactly one of `steps` and `epochs` is non-null. */
export interface TrainSection {
  /** Samples per optimiser step (also the divisor of the loss). */
  batch_size: number;
  /** Optimiser steps, or null when `epochs` sets them. */
  steps: number | null;
  /** Epochs over the train split, turned into steps by {@linkcode totalSteps}; null when `steps` is given. */
  epochs: number | null;
  /** The weight optimiser's update rule. */
  optimizer: OptimizerKind;
  /** Peak learning rate of the weights, after warmup. */
  lr: number;
  /** Steps of the linear warmup from 0. */
  warmup_steps: number;
  /** Final learning rate as a fraction of `lr`, reached by a half cosine (1 = constant after warmup). */
  lr_min_ratio: number;
  /** Weight decay of the weight optimiser. */
  weight_decay: number;
  /** Adam's first-moment decay. */
  beta1: number;
  /** Adam's second-moment decay. */
  beta2: number;
  /** Peak learning rate of the puzzle-embedding sign-SGD. */
  puzzle_emb_lr: number;
  /** Weight decay of the puzzle-embedding sign-SGD. */
  puzzle_emb_weight_decay: number;
  /** Whether evaluation and checkpoints' evaluation weights use an exponential moving average. */
  ema: boolean;
  /** The EMA's decay per optimiser step. */
  ema_rate: number;
  /** Global-norm gradient clipping threshold; null = off. */
  grad_clip: number | null;
  /** Log the training metrics (window means) every this many steps. */
  log_interval: number;
  /** Evaluate every this many steps (0 = only at the end). */
  eval_interval: number;
  /** Checkpoint every this many steps (0 = only at the end); the last step is always checkpointed. */
  checkpoint_interval: number;
  /** Checkpoints kept in the run folder; older ones are deleted. */
  keep_checkpoints: number;
  /** Minutes of wall time between checkpoints, 0 = off; present only when set (default {@linkcode DEFAULT_CHECKPOINT_MINUTES}). */
  checkpoint_minutes?: number;
  /** Rows per forward/backward pass; present only when set (absent = chosen from the backend's memory). */
  micro_batch?: number;
  /** DIS only (absent for TRM). */
  dis_fetch?: DisFetch;
  /** DIS only, present only when set (so configs without it keep their hashes). */
  dis_stagger?: boolean;
}

/** A resolved training-run config. */
export interface TrainConfig {
  /** Master seed: model init, halting exploration, DIS target paths and the sampler derive from it. */
  seed: number;
  /** The data section. */
  data: DataConfig;
  /** The model, every field explicit. */
  model: ModelSection;
  /** Training settings, every field explicit. */
  train: TrainSection;
  /** Evaluation settings. */
  eval: EvalSection;
}

/** A resolved config with the text and hash a run folder records. */
export interface LoadedTrainConfig {
  /** The resolved config. */
  config: TrainConfig;
  /** The resolved config as YAML with sorted keys: what `config.yaml` holds. */
  resolvedYaml: string;
  /** SHA-256 of the resolved config's canonical JSON; checkpoints carry it. */
  hash: string;
  /** Where the config came from (a file name), for messages. */
  source: string;
}

const TRM_ONLY = ["halt_exploration_prob", "q_loss_weight"] as const;
const DIS_ONLY = ["targets", "step_weights", "autoregressive"] as const;

function fail(source: string, text: string): never {
  throw new ConfigError(`Cannot load config "${source}": ${text}`);
}

/**
 * Resolves a validated config against its preset: fills every omitted model, method and training value,
 * checks the model shape (heads divide hidden, ...) and refuses method keys the preset's method does not
 * have. Throws {@linkcode ConfigError} naming `source` and the key.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "./config.ts";
 * const { config, hash } = resolveTrainConfig(
 *   { data: { kind: "nqueens" }, model: { preset: "nqueens-trm-paper", hidden: 64 }, train: { steps: 10 } },
 *   "inline",
 * );
 * config.model.h_cycles; // 3 (from the preset)
 * ```
 */
export function resolveTrainConfig(input: TrainConfigInput, source: string): LoadedTrainConfig {
  const parsed = trainConfigSchema.safeParse(input);
  if (!parsed.success) {
    // Callers that hold a file go through loadTrainConfig, which reports through lib/config; this is
    // the path for configs built in code.
    const issue = parsed.error.issues[0];
    fail(source, `key "${issue.path.join(".")}": ${issue.message}`);
  }
  const raw = parsed.data;
  let preset: Preset;
  try {
    preset = getPreset(raw.model.preset);
  } catch (e) {
    fail(source, `key "model.preset": ${(e as Error).message}`);
  }
  const m = raw.model;
  const isTrm = preset.method.method === "trm";
  if (m.method !== undefined && m.method !== preset.method.method) {
    fail(
      source,
      `key "model.method" is "${m.method}", but preset "${preset.name}" trains ${preset.method.method}; ` +
        "leave it out or pick a preset of that method",
    );
  }
  for (const k of isTrm ? DIS_ONLY : TRM_ONLY) {
    if (m[k] !== undefined) {
      fail(
        source,
        `key "model.${k}" applies to ${
          isTrm ? "DIS" : "TRM"
        } only, but preset "${preset.name}" trains ${preset.method.method.toUpperCase()}`,
      );
    }
  }
  for (const k of ["dis_fetch", "dis_stagger"] as const) {
    if (isTrm && raw.train[k] !== undefined) {
      fail(source, `key "train.${k}" applies to DIS only, but preset "${preset.name}" trains TRM`);
    }
  }
  const pm = preset.method;
  const model: ModelSection = {
    preset: preset.name,
    method: pm.method,
    hidden: m.hidden ?? preset.backbone.hidden,
    heads: m.heads ?? preset.backbone.heads,
    layers: m.layers ?? preset.backbone.layers,
    expansion: m.expansion ?? preset.backbone.expansion,
    mlp_multiple: m.mlp_multiple ?? BACKBONE_DEFAULTS.mlpMultiple,
    puzzle_emb_len: m.puzzle_emb_len ?? BACKBONE_DEFAULTS.puzzleEmbLen,
    n_sup: m.n_sup ?? pm.nSup,
    h_cycles: m.h_cycles ?? pm.hCycles,
    l_cycles: m.l_cycles ?? pm.lCycles,
    loss: m.loss ?? pm.loss,
  };
  if (pm.method === "trm") {
    model.halt_exploration_prob = m.halt_exploration_prob ?? pm.haltExplorationProb;
    model.q_loss_weight = m.q_loss_weight ?? pm.qLossWeight;
  } else {
    model.targets = m.targets ?? pm.targets;
    model.step_weights = m.step_weights ?? pm.stepWeights;
    model.autoregressive = m.autoregressive ?? pm.autoregressive;
  }
  const t = raw.train;
  const ps = preset.train;
  if (t.steps != null && t.epochs != null) {
    fail(source, `keys "train.steps" and "train.epochs" are both set; give one of them`);
  }
  const train: TrainSection = {
    batch_size: t.batch_size ?? ps.globalBatch,
    steps: t.steps ?? null,
    epochs: t.steps != null ? null : t.epochs ?? ps.epochs,
    optimizer: t.optimizer ?? ps.optimizer,
    lr: t.lr ?? ps.lr,
    warmup_steps: t.warmup_steps ?? ps.lrWarmupSteps,
    lr_min_ratio: t.lr_min_ratio ?? ps.lrMinRatio,
    weight_decay: t.weight_decay ?? ps.weightDecay,
    beta1: t.beta1 ?? ps.beta1,
    beta2: t.beta2 ?? ps.beta2,
    puzzle_emb_lr: t.puzzle_emb_lr ?? ps.puzzleEmbLr,
    puzzle_emb_weight_decay: t.puzzle_emb_weight_decay ?? ps.puzzleEmbWeightDecay,
    ema: t.ema ?? ps.ema,
    ema_rate: t.ema_rate ?? ps.emaRate,
    grad_clip: t.grad_clip,
    log_interval: t.log_interval,
    eval_interval: t.eval_interval,
    checkpoint_interval: t.checkpoint_interval,
    keep_checkpoints: t.keep_checkpoints,
  };
  if (t.checkpoint_minutes !== undefined) train.checkpoint_minutes = t.checkpoint_minutes;
  if (t.micro_batch !== undefined) train.micro_batch = t.micro_batch;
  if (!isTrm) train.dis_fetch = t.dis_fetch ?? "every-step";
  if (!isTrm && t.dis_stagger !== undefined) train.dis_stagger = t.dis_stagger;
  const config: TrainConfig = { seed: raw.seed, data: raw.data, model, train, eval: raw.eval };
  try {
    // The data's vocabulary and length do not affect these checks; N-Queens' stand in.
    const method = methodConfig(config);
    validateModelConfig({ backbone: backboneConfig(config, { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 }), method });
  } catch (e) {
    if (e instanceof ConfigError) fail(source, e.message.replace(/^Cannot build the model: /, ""));
    throw e;
  }
  const tooBig = sizeProblem(config);
  if (tooBig !== null) fail(source, tooBig);
  const plain = JSON.parse(JSON.stringify(config)) as TrainConfig;
  return {
    config: plain,
    resolvedYaml: stringifyYaml(plain, { sortMapEntries: true }),
    hash: trainConfigHash(plain),
    source,
  };
}

/** Minutes of wall time between checkpoints when `train.checkpoint_minutes` is absent. */
export const DEFAULT_CHECKPOINT_MINUTES = 10;

/**
 * The hash a run records for its config: SHA-256 of the canonical JSON without `model.method`, which the
 * preset already fixes (so configs written before `method` was spelled out keep their hash), and without
 * `train.checkpoint_minutes`, which changes when checkpoints are written but no training byte (so a run
 * may resume with another value), and without `train.micro_batch`, which changes only the float summation
 * order of the gradient (so a run may resume on a machine with more or less memory; it then equals the
 * uninterrupted run up to float order rather than bit for bit).
 */
export function trainConfigHash(config: TrainConfig): string {
  const { method: _method, ...model } = config.model;
  const { checkpoint_minutes: _minutes, micro_batch: _micro, ...train } = config.train;
  return configHash({ ...config, model, train });
}

/**
 * Loads a training-run YAML file (with `include:` and `--set` overrides, as lib/config does) and resolves it.
 *
 * @example
 * ```ts ignore
 * const loaded = await loadTrainConfig("fixtures/train/trm_tiny.yaml", { overrides: ["train.steps=20"] });
 * loaded.config.train.steps; // 20
 * ```
 */
export async function loadTrainConfig(
  path: string,
  opts: { overrides?: readonly string[] } = {},
): Promise<LoadedTrainConfig> {
  const { config } = await loadConfig(path, trainConfigSchema, { overrides: opts.overrides });
  return resolveTrainConfig(config as TrainConfigInput, path);
}

/**
 * Resolves config text (e.g. a run folder's `config.yaml`); `source` names it in messages.
 *
 * @example
 * ```ts
 * import { parseTrainConfig } from "./config.ts";
 * const a = parseTrainConfig("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\n", { source: "a" });
 * parseTrainConfig(a.resolvedYaml, { source: "b" }).hash === a.hash; // true
 * ```
 */
export function parseTrainConfig(
  text: string,
  opts: { source?: string; overrides?: readonly string[] } = {},
): LoadedTrainConfig {
  const source = opts.source ?? "<text>";
  const { config } = parseConfigText(text, trainConfigSchema, { source, overrides: opts.overrides });
  return resolveTrainConfig(config as TrainConfigInput, source);
}

/**
 * Whether a config.yaml text (a run folder's, perhaps written before `model.method` was spelled out) is
 * the config with this hash. Text that does not parse is not.
 */
export function sameTrainConfig(text: string, hash: string): boolean {
  try {
    return parseTrainConfig(text, { source: "config.yaml" }).hash === hash;
  } catch {
    return false;
  }
}

/**
 * The lib/model method config of a resolved run config.
 *
 * @example
 * ```ts
 * import { methodConfig, resolveTrainConfig } from "./config.ts";
 * const { config } = resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "arc-dis-compact" } }, "x");
 * methodConfig(config).nSup; // 6
 * ```
 */
export function methodConfig(cfg: TrainConfig): MethodConfig {
  const m = cfg.model;
  const common = { nSup: m.n_sup, hCycles: m.h_cycles, lCycles: m.l_cycles, loss: m.loss };
  // A resolved config holds every key; the defaults serve configs built by hand.
  if (m.method === "dis") {
    return {
      method: "dis",
      ...common,
      targets: m.targets ?? DIS_DEFAULTS.targets,
      stepWeights: m.step_weights ?? DIS_DEFAULTS.stepWeights,
      autoregressive: m.autoregressive ?? DIS_DEFAULTS.autoregressive,
    };
  }
  return {
    method: "trm",
    ...common,
    haltExplorationProb: m.halt_exploration_prob ?? TRM_DEFAULTS.haltExplorationProb,
    qLossWeight: m.q_loss_weight ?? TRM_DEFAULTS.qLossWeight,
  };
}

/** The lib/model backbone of a resolved run config for data of the given shape. */
export function backboneConfig(
  cfg: TrainConfig,
  data: { vocabSize: number; seqLen: number; numPuzzleIds: number },
): BackboneConfig {
  const m = cfg.model;
  return backboneFor(
    {
      hidden: m.hidden,
      heads: m.heads,
      layers: m.layers,
      expansion: m.expansion,
      mlpMultiple: m.mlp_multiple,
      puzzleEmbLen: m.puzzle_emb_len,
    },
    data,
    methodConfig(cfg),
  );
}

/**
 * The number of optimiser steps: `train.steps`, or TRM's formula from epochs,
 * `floor(epochs * total_groups * mean_puzzle_examples / batch_size)` over the train split.
 *
 * @example
 * ```ts
 * import { totalSteps } from "./config.ts";
 * totalSteps({ steps: null, epochs: 2, batch_size: 64 }, { groups: 7200, examples: 7200, puzzles: 7200 }); // 225
 * ```
 */
export function totalSteps(
  train: Pick<TrainSection, "steps" | "epochs" | "batch_size">,
  split: { groups: number; examples: number; puzzles: number },
): number {
  if (train.steps !== null) return train.steps;
  const meanExamples = split.puzzles > 0 ? split.examples / split.puzzles : 0;
  const n = Math.floor(((train.epochs ?? 0) * split.groups * meanExamples) / train.batch_size);
  if (n < 1) {
    throw new ConfigError(
      `Cannot plan the run: ${train.epochs} epochs of ${split.groups} groups at batch size ${train.batch_size} ` +
        `give no optimiser step; raise train.epochs or set train.steps`,
    );
  }
  return n;
}

/** Data descriptions for ARC set names and N-Queens variants, re-exported for config writers. */
export type { ArcSetName, ArcSource, NQueensVariant };
