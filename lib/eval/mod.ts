/**
 * Evaluation accumulators: ARC voting over augmented predictions with pass@k under TRM's per-task and the
 * official per-output averaging, Kaggle's `submission.json`, and N-Queens metrics per number of given
 * queens. Both are fed batch by batch and hold bounded state.
 *
 * @example
 * ```ts
 * import { ArcVoter } from "./mod.ts";
 * import { encodeGrid } from "../data/mod.ts";
 * const g = (rows: number[][]) => ({ h: rows.length, w: rows[0].length, cells: new Uint8Array(rows.flat()) });
 * const voter = new ArcVoter(new Map([["t1", { test: [{ input: g([[1]]), output: g([[2]]) }] }]]));
 * voter.add({ puzzleNames: ["t1"], inputs: encodeGrid(g([[1]])), preds: encodeGrid(g([[2]])) });
 * voter.result().perOutput; // { "pass@1": 1, "pass@2": 1, "pass@5": 1, "pass@10": 1 }
 * ```
 *
 * @module
 */
export {
  type ArcAttempts,
  type ArcBatch,
  type ArcScores,
  type ArcSubmission,
  type ArcTaskResult,
  type ArcTestPair,
  type ArcTestResult,
  type ArcTestTask,
  ArcVoter,
  type ArcVoterOptions,
  BLANK_PUZZLE,
  DEFAULT_PASS_KS,
  FALLBACK_ATTEMPT,
  MAX_UNMATCHED_EXAMPLES,
  type PassAtK,
  scoreSubmission,
  type UnmatchedReason,
} from "./arc.ts";
export { NQueensAccumulator, type NQueensBatch, type NQueensGroupMetrics, type NQueensMetrics } from "./nqueens.ts";
export {
  type ArcEvalResult,
  arcTestTasks,
  type EvalData,
  type EvalResult,
  type EvalSummary,
  evaluateModel,
  type EvaluateOptions,
  type NQueensEvalResult,
} from "./run.ts";
