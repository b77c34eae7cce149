/**
 * Shared experiment machinery: profiles (`<name>.<profile>.yaml` beside each experiment), rows (one
 * training run each) with resume and `--jobs N` subprocesses, compute estimates, the experiment folder's
 * outputs, golden comparison for `verify`, and the helpers that write the "what this shows" text.
 *
 * An experiment is a module `experiments/<name>.ts` that exports `info` and `spec`
 * ({@linkcode ExperimentSpec}); docs/experiments.md describes each one.
 *
 * @example
 * ```ts
 * import { compareSentence, rowPlan, selectRows } from "./mod.ts";
 * const row = rowPlan("dis", "DIS", [{ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }], "x.yaml");
 * row.loaded.config.model.n_sup; // 6
 * selectRows(["trm", "dis"], ["dis"]); // ["dis"]
 * compareSentence({ name: "DIS", value: 0.69 }, { name: "TRM", value: 0.69 }, "exact accuracy");
 * ```
 *
 * @module
 */
export {
  ALL_PROFILES,
  DEFAULT_PROFILE,
  experimentBase,
  type ExperimentBaseConfig,
  EXTRA_PROFILES,
  loadProfile,
  mergeConfigs,
  parseProfile,
  partialRunSchema,
  profileFile,
  type ProfileName,
  PROFILES,
  type RowPlan,
  rowPlan,
  selectRows,
} from "./config.ts";
export type { ExperimentReport, ExperimentSpec, FinishedRow, Headline, SummaryContext } from "./spec.ts";
export { experimentRegistry, experimentSpec, type RegisteredExperiment } from "./registry.ts";
export { parseSeeds, seedDir, type SeedResult, type SeedSummary, spread, writeSeedSummary } from "./seeds.ts";
export {
  type ExperimentEvent,
  type ExperimentOutcome,
  LONG_RUN_SECONDS,
  moveAside,
  readFinishedRow,
  ROWS_DIR,
  runExperiment,
  type RunExperimentOptions,
} from "./run.ts";
export {
  type ExperimentOutputs,
  rowStatus,
  type RowTiming,
  timingMarkdown,
  writeExperimentOutputs,
} from "./outputs.ts";
export {
  ARC_BUILDS,
  calibrate,
  type Calibration,
  callFlops,
  type ComputeEstimate,
  type DataFacts,
  dataFacts,
  type EstimateDeps,
  type EstimateOptions,
  estimateRow,
  evaluationCount,
  type FlopShape,
  formatEstimate,
  GPU_PEAKS,
  type GpuPeak,
  type GpuProjection,
  gpuProjections,
  headFlops,
  inferenceFlops,
  type MemoryEstimate,
  REFERENCE_STEP,
  referenceUtilisation,
  TF32_UTILISATION,
  trainStepFlops,
} from "./estimate.ts";
export { type JobCommand, JobControl, type JobOptions, type JobResult, runJobs, STOP_GRACE_SECONDS } from "./jobs.ts";
export {
  compareFiles,
  compareJson,
  DEFAULT_TOLERANCE,
  type FileComparison,
  formatJsonDifferences,
  type JsonDifference,
  lineDiff,
  textLinesOutsideTolerance,
  type Tolerance,
} from "./golden.ts";
export { compareSentence, paperGap, pct, points, profileCaveat, ratio, TIMING_SENTENCE } from "./narrative.ts";
