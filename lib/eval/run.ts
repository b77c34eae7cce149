/**
 * Model-driven evaluation: streams a split through {@linkcode predict} batch by batch (every sample runs
 * all N_sup supervision steps; the prediction is the last step's argmax) and feeds the accumulators of
 * this folder: {@linkcode NQueensAccumulator} for N-Queens, {@linkcode ArcVoter} for ARC. Memory is
 * bounded by one batch plus the accumulators' state (ARC: one entry per distinct candidate grid).
 *
 * The result does not depend on the batch size: every prediction is a function of its own row (no
 * batch statistics), the accumulators are order-exact, and padding rows are dropped before scoring.
 *
 * @module
 */
import {
  type ArcIndex,
  identifierName,
  IGNORE_LABEL,
  numExamples,
  type PuzzleSplit,
  scoredTasks,
  testBatches,
} from "../data/mod.ts";
import { forwardPasses, type MethodConfig, predict, type RecursiveModel } from "../model/mod.ts";
import type { ProgressFn } from "../report/mod.ts";
import { type ArcScores, type ArcSubmission, type ArcTestTask, ArcVoter, BLANK_PUZZLE } from "./arc.ts";
import { NQueensAccumulator, type NQueensMetrics } from "./nqueens.ts";

/**
 * What to evaluate on: an N-Queens split, or an ARC split with the index that names its puzzles. `scored`
 * says which tasks the ARC vote scores: the test subset's (default) or the validation tasks'.
 */
export type EvalData =
  | { kind: "nqueens"; split: PuzzleSplit }
  | { kind: "arc"; split: PuzzleSplit; index: ArcIndex; scored?: "test" | "validation" };

/** Options of {@linkcode evaluateModel}. */
export interface EvaluateOptions {
  /** Rows per forward batch (the last batch is padded). */
  batchSize: number;
  /** Evaluate only the first N examples of the split (quick checks); default all. */
  maxExamples?: number | null;
  /** Called after every batch: `done` / `total` examples. */
  onProgress?: ProgressFn;
}

/** Flat summary numbers (what metrics.jsonl and the eval curve record); null where undefined. */
export type EvalSummary = Record<string, number | null>;

/** N-Queens result: the accumulator's metrics plus token accuracy. */
export interface NQueensEvalResult {
  /** Tags an N-Queens result. */
  kind: "nqueens";
  /** Examples evaluated. */
  examples: number;
  /** Per-token accuracy over supervised label tokens. */
  tokenAccuracy: number | null;
  /** Exact, valid and ceiling metrics, overall and per Q. */
  metrics: NQueensMetrics;
  /** `exact`, `valid`, `ceiling`, `accuracy` (token) and `count`. */
  summary: EvalSummary;
  /** Network applications per sample at inference, N_sup * T * (n + 1). */
  forwardPassesPerSample: number;
}

/** ARC result: TRM's vote and pass@k under both averaging rules, and Kaggle's submission. */
export interface ArcEvalResult {
  /** Tags an ARC result. */
  kind: "arc";
  /** Examples evaluated; each augmented copy of a test input is one. */
  examples: number;
  /** pass@k under TRM's per-task rule and the official per-output rule, with the vote's counts. */
  scores: ArcScores;
  /** The top two candidates per test input, in Kaggle's `submission.json` form. */
  submission: ArcSubmission;
  /** `count`, and `pass@k` (per task) and `pass@k_per_output` for each k. */
  summary: EvalSummary;
  /** Network applications per sample at inference, N_sup * T * (n + 1). */
  forwardPassesPerSample: number;
}

/** What {@linkcode evaluateModel} returns, by the data's kind. */
export type EvalResult = NQueensEvalResult | ArcEvalResult;

/**
 * The scored tasks of an ARC index by id, as {@linkcode ArcVoter} takes them: the test subset's tasks
 * (default), or the validation tasks (their held-out test pairs).
 */
export function arcTestTasks(index: ArcIndex, which: "test" | "validation" = "test"): Map<string, ArcTestTask> {
  const out = new Map<string, ArcTestTask>();
  for (const t of scoredTasks(index, which)) out.set(t.id, { test: t.test });
  return out;
}

/**
 * Evaluates a model on a split with the method's full N_sup steps.
 *
 * Summary keys: N-Queens `exact`, `valid`, `ceiling`, `accuracy` (token), `count`; ARC `pass@k` (TRM's
 * per-task mean, the paper's numbers) and `pass@k_per_output` (the official rule) for k = 1, 2, 5, 10,
 * and `count`.
 *
 * @example
 * ```ts ignore
 * const r = await evaluateModel(model, method, { kind: "nqueens", split: nqueensSplit(set, "test") },
 *   { batchSize: 100 });
 * r.summary.exact; // exact-match accuracy over the 200 test boards
 * ```
 */
export async function evaluateModel(
  model: RecursiveModel,
  method: MethodConfig,
  data: EvalData,
  opts: EvaluateOptions,
): Promise<EvalResult> {
  const split = data.split;
  const all = numExamples(split);
  const total = opts.maxExamples == null ? all : Math.min(all, opts.maxExamples);
  const l = split.seqLen;
  if (model.config.seqLen !== l) {
    throw new RangeError(`Cannot evaluate: the model takes sequences of ${model.config.seqLen}, the split has ${l}`);
  }
  const nq = data.kind === "nqueens" ? new NQueensAccumulator() : null;
  const voter = data.kind === "arc"
    ? new ArcVoter(arcTestTasks(data.index, data.scored ?? "test"), { canvas: data.index.canvas })
    : null;
  let tokens = 0;
  let right = 0;
  let done = 0;
  const passes = forwardPasses(method).perSampleInference;
  for (const batch of testBatches(split, opts.batchSize)) {
    if (done >= total) break;
    const rows = Math.min(batch.size, total - done);
    const p = await predict(model, method, { inputs: batch.inputs, puzzleIds: batch.puzzleIds });
    const n = rows * l;
    if (nq) {
      const inputs = batch.inputs.subarray(0, n);
      const labels = batch.labels.subarray(0, n);
      const preds = p.preds.subarray(0, n);
      for (let i = 0; i < n; i++) {
        if (labels[i] === IGNORE_LABEL) continue;
        tokens++;
        if (preds[i] === labels[i]) right++;
      }
      nq.add({ inputs, labels, preds });
    } else if (voter && data.kind === "arc") {
      const names = Array.from(batch.puzzleIds, (id, i) => (i < rows ? identifierName(data.index, id) : BLANK_PUZZLE));
      voter.add({ puzzleNames: names, inputs: batch.inputs, preds: p.preds, qHaltLogits: p.qHaltLogits });
    }
    done += rows;
    opts.onProgress?.({ done, total, label: "eval" });
  }
  if (nq) {
    const metrics = nq.result();
    const o = metrics.overall;
    const tokenAccuracy = tokens > 0 ? right / tokens : null;
    return {
      kind: "nqueens",
      examples: done,
      tokenAccuracy,
      metrics,
      summary: { exact: o.exact, valid: o.valid, ceiling: o.ceiling, accuracy: tokenAccuracy, count: o.count },
      forwardPassesPerSample: passes,
    };
  }
  const scores = voter!.result();
  const summary: EvalSummary = { count: done };
  for (const k of scores.passKs) {
    summary[`pass@${k}`] = scores.perTask?.[`pass@${k}`] ?? null;
    summary[`pass@${k}_per_output`] = scores.perOutput?.[`pass@${k}`] ?? null;
  }
  return {
    kind: "arc",
    examples: done,
    scores,
    submission: voter!.submission(),
    summary,
    forwardPassesPerSample: passes,
  };
}
