/**
 * Policy-improvement diagnostics (paper section 3): for a trained TRM or DIS model, the pre- and
 * post-reasoning policies of every supervision step and answer update, the improvement score
 * A = log pi_plus - log pi_hat, the advantage margin of eq. 18 for a set of weights w, dL/dw, accuracy and
 * cross-entropy before and after, bootstrap intervals and dead-compute flags, guided decoding with
 * pi_w proportional to pi_hat^(1-w) * pi_plus^w, and the report sections and plots that compare runs.
 *
 * Definitions and the layout of results.json: docs/analysis.md.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { generateNQueens, nqueensSplit } from "../data/mod.ts";
 * import { backboneFor, getPreset, RecursiveModel } from "../model/mod.ts";
 * import { stream } from "../random/mod.ts";
 * import { analysisSections, analyzeModel } from "./mod.ts";
 * await initBackend("cpu");
 * const method = { ...getPreset("nqueens-dis-paper").method, nSup: 2 };
 * const model = new RecursiveModel(
 *   backboneFor({ hidden: 16, heads: 2, layers: 1, expansion: 2, mlpMultiple: 16, puzzleEmbLen: 1 },
 *     { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 }, method),
 *   { rng: stream(0, "init") },
 * );
 * const split = nqueensSplit(generateNQueens("paper", 0), "test");
 * const result = await analyzeModel(model, method, split, { kind: "nqueens", limit: 8, guidance: [2] });
 * result.steps.length; // 2: one row per supervision step
 * const { sections, plots } = analysisSections([{ name: "DIS", result }]);
 * model.dispose();
 * ```
 *
 * @module
 */
export {
  ANALYSIS_FORMAT,
  type AnalysisKind,
  type AnalysisOptions,
  type AnalysisResult,
  analyzeBatches,
  analyzeModel,
  BOOTSTRAP_STREAM,
  DEFAULT_LEVEL,
  DEFAULT_RESAMPLES,
  DEFAULT_WEIGHTS,
  type GuidanceRow,
  type Interval,
  type PolicyRow,
  type StepIntervals,
  tokenClass,
} from "./analyze.ts";
export {
  type AnalysisPlot,
  analysisSections,
  type NamedAnalysis,
  type SectionOptions,
  writeAnalysis,
  type WriteOptions,
} from "./report.ts";
export { type Improvement, improvementAt, MARGIN_EPS, policyStats, type StatLayout, statLayout } from "./policy.ts";
export {
  type BootstrapOptions,
  bootstrapRatios,
  meanInterval,
  type PairedIntervals,
  pairedMeanIntervals,
  quantile,
  type RatioStat,
} from "./bootstrap.ts";
