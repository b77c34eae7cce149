/**
 * Size checks of a resolved training-run config against lib/limits.ts's bounds, before any tensor is
 * made: each size key is held to 2^24, and what it needs that no split of the batch reduces is held to
 * the 128 GiB memory limit. The memory is estimated from the shapes (float32 values), not measured:
 *
 * - the model: parameters times five (the weights, their gradients, Adam's two moments, the EMA copy);
 * - one training example: the activations kept for the backward pass, per block and network application
 *   under gradient, about `L·(10·D + 3·I + H·L)` values (projections, SwiGLU, attention scores), plus its
 *   token arrays (and DIS's target frames, N_sup·L);
 * - one evaluation example: one block's live activations `L·(6·D + 3·I + H·L)`, the two carried states
 *   and its token arrays. Evaluation runs a whole `eval.batch_size` at once, so that batch must fit;
 *   training may split its batch (gradient accumulation), so `train.batch_size` is held only to what its
 *   token arrays take.
 *
 * L counts the puzzle prefix; D is `model.hidden`, I the SwiGLU width, H the heads.
 *
 * @module
 */
import { ARC_MAX_SIZE, ARC_VOCAB, arcSeqLen, MAX_AUGMENTATIONS, NQ_SEQ_LEN, NQ_VOCAB } from "../data/mod.ts";
import { paramCount, swigluHidden } from "../model/mod.ts";
import { formatBytes, largestWithin, MEMORY_LIMIT_BYTES, SIZE_LIMIT } from "../limits.ts";
import { backboneConfig, type TrainConfig } from "./config.ts";

const F32 = 4;
/** Weights, gradients, Adam's two moments, EMA. */
const STATE_COPIES = 5;

function dataShape(cfg: TrainConfig): { vocabSize: number; seqLen: number } {
  if (cfg.data.kind === "nqueens") return { vocabSize: NQ_VOCAB, seqLen: NQ_SEQ_LEN };
  return { vocabSize: ARC_VOCAB, seqLen: arcSeqLen(cfg.data.canvas ?? ARC_MAX_SIZE) };
}

/** Values of the trainable parameters (the puzzle table apart: it depends on the data). */
function paramValues(cfg: TrainConfig): number {
  return paramCount(backboneConfig(cfg, { ...dataShape(cfg), numPuzzleIds: 1 })).total;
}

/** One example's token arrays on the host: inputs, labels, its puzzle id; DIS's target frames. */
function hostExampleBytes(cfg: TrainConfig): number {
  const { seqLen } = dataShape(cfg);
  return F32 * (2 * seqLen + 1 + (cfg.model.method === "dis" ? cfg.model.n_sup * seqLen : 0));
}

function blockWidths(cfg: TrainConfig): { l: number; d: number; i: number; h: number } {
  const m = cfg.model;
  return {
    l: dataShape(cfg).seqLen + m.puzzle_emb_len,
    d: m.hidden,
    i: swigluHidden(m.hidden, m.expansion, m.mlp_multiple),
    h: m.heads,
  };
}

/** One training example's activations kept for the backward pass, and its host arrays. */
function trainExampleBytes(cfg: TrainConfig): number {
  const { l, d, i, h } = blockWidths(cfg);
  const underGrad = cfg.model.l_cycles + 1;
  return F32 * underGrad * cfg.model.layers * l * (10 * d + 3 * i + h * l) + hostExampleBytes(cfg);
}

/** One evaluation example's live activations, carried states and host arrays. */
function evalExampleBytes(cfg: TrainConfig): number {
  const { l, d, i, h } = blockWidths(cfg);
  return F32 * (l * (6 * d + 3 * i + h * l) + 2 * l * d) + hostExampleBytes(cfg);
}

/** What training needs however its batch is split: the model's state and one example. */
function fixedTrainBytes(cfg: TrainConfig): number {
  return STATE_COPIES * F32 * paramValues(cfg) + trainExampleBytes(cfg);
}

function withModel(cfg: TrainConfig, key: string, v: number): TrainConfig {
  return { ...cfg, model: { ...cfg.model, [key]: v } };
}

const LIMIT = `the ${formatBytes(MEMORY_LIMIT_BYTES)} memory limit`;

function beyond(key: string, v: number, bound: number, what: string, need: number): string {
  return `key "${key}" is ${v}, beyond its bound of ${bound}: ${what} would need ${formatBytes(need)}, against ` +
    `${LIMIT} (and no size may exceed 2^24 = ${SIZE_LIMIT}; docs/guarantees.md)`;
}

/**
 * Network applications per example, `n_sup * h_cycles * (l_cycles + 1)`, that a config may ask for: 2^20,
 * over 3,000 times TRM's 336. Evaluation runs all of them for every example, so beyond this a run does
 * not end in any useful time, whatever the memory.
 */
export const MAX_APPLICATIONS = 2 ** 20;

/** The model keys whose growth the fixed training memory follows, in the order they are blamed. */
const MODEL_KEYS = ["hidden", "n_sup", "layers", "puzzle_emb_len", "mlp_multiple", "heads"] as const;

/**
 * The first size problem of a resolved config, as text for a ConfigError (`key "model.hidden" is ...`),
 * or null when every size is within its bound.
 *
 * @example
 * ```ts
 * import { sizeProblem } from "./limits.ts";
 * import { resolveTrainConfig } from "./config.ts";
 * const { config } = resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }, "x");
 * sizeProblem(config); // null
 * ```
 */
export function sizeProblem(cfg: TrainConfig): string | null {
  const m = cfg.model;
  const sizes: [string, number, (v: number) => string][] = [
    ...MODEL_KEYS.map((k) =>
      [
        `model.${k}`,
        m[k],
        (v: number) =>
          `the model's state and one example would need ${formatBytes(fixedTrainBytes(withModel(cfg, k, v)))}`,
      ] as [string, number, (v: number) => string]
    ),
    ["model.h_cycles", m.h_cycles, () => "it is a count of recursion cycles"],
    ["model.l_cycles", m.l_cycles, () => "it is a count of latent updates"],
    [
      "train.batch_size",
      cfg.train.batch_size,
      (v) => `its token arrays alone would need ${formatBytes(v * hostExampleBytes(cfg))}`,
    ],
    [
      "eval.batch_size",
      cfg.eval.batch_size,
      (v) => `an evaluation batch would need ${formatBytes(v * evalExampleBytes(cfg))}`,
    ],
  ];
  for (const [key, v, need] of sizes) {
    if (v > SIZE_LIMIT) {
      return `key "${key}" is ${v}, beyond the bound of 2^24 = ${SIZE_LIMIT} on every size; ${need(v)} ` +
        `(docs/guarantees.md)`;
    }
  }
  if (cfg.data.kind === "arc" && cfg.data.augmentations > MAX_AUGMENTATIONS) {
    const n = cfg.data.augmentations;
    return `key "data.augmentations" is ${n}, beyond its bound of ${MAX_AUGMENTATIONS}: a task has at most ` +
      `8 x 9! = ${MAX_AUGMENTATIONS + 1} distinct dihedral and colour variants, the original included ` +
      `(docs/guarantees.md)`;
  }
  const apps = m.n_sup * m.h_cycles * (m.l_cycles + 1);
  if (apps > MAX_APPLICATIONS) {
    return `keys "model.n_sup", "model.h_cycles" and "model.l_cycles" (${m.n_sup}, ${m.h_cycles}, ${m.l_cycles}) ` +
      `give ${apps} network applications per example (n_sup * h_cycles * (l_cycles + 1)), beyond the bound of ` +
      `2^20 = ${MAX_APPLICATIONS}: evaluation runs every one of them for every example (docs/guarantees.md)`;
  }
  const fixed = fixedTrainBytes(cfg);
  if (fixed > MEMORY_LIMIT_BYTES) {
    for (const k of MODEL_KEYS) {
      const v = cfg.model[k];
      const bound = largestWithin((x) => fixedTrainBytes(withModel(cfg, k, x)), MEMORY_LIMIT_BYTES, 1, v);
      if (bound < v) {
        return beyond(
          `model.${k}`,
          v,
          bound,
          "the model's parameters with their gradients, optimiser moments and EMA, and one example's activations,",
          fixed,
        );
      }
    }
    return `the model needs ${formatBytes(fixed)} for its parameters, their optimiser state and one example's ` +
      `activations, beyond ${LIMIT}; reduce model.hidden or model.layers (docs/guarantees.md)`;
  }
  const host = hostExampleBytes(cfg);
  const trainBound = Math.floor(MEMORY_LIMIT_BYTES / host);
  if (cfg.train.batch_size > trainBound) {
    const b = cfg.train.batch_size;
    return beyond("train.batch_size", b, trainBound, `the batch's token arrays alone`, b * host);
  }
  const weights = F32 * paramValues(cfg);
  const perEval = evalExampleBytes(cfg);
  const evalBound = Math.floor((MEMORY_LIMIT_BYTES - weights) / perEval);
  if (cfg.eval.batch_size > evalBound) {
    const b = cfg.eval.batch_size;
    return beyond("eval.batch_size", b, evalBound, "an evaluation batch (run whole)", weights + b * perEval);
  }
  return null;
}
