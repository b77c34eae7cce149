/**
 * Training: the optimisers (adam-atan2,
 * lucidrains' adam-atan2, AdamW, sparse sign-SGD), the warmup + cosine learning-rate schedule, the
 * weight EMA, gradient clipping and the non-finite check, safetensors files, resumable checkpoints, the
 * training-run config (config.ts), the training loop (`runTraining`, loop.ts) and run folders
 * (layout in run_files.ts; `loadRunData` run_data.ts, `buildModel` build_model.ts, `openTrainedRun`
 * reopen_run.ts, `runResults`/`runReport` run_report.ts, `evaluateRun` evaluate_run.ts; keys in docs/training.md).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { createOptimizer, Ema, learningRate } from "./mod.ts";
 * const w = tf.variable(tf.ones([4]), true, "mod.example.w");
 * const opt = createOptimizer("adamw", [w], { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
 * const ema = new Ema([w]);
 * const lr = learningRate(1, { baseLr: 1e-4, warmupSteps: 2000, totalSteps: 10_000, minRatio: 1 });
 * tf.tidy(() => opt.apply({ "mod.example.w": tf.ones([4]) }, lr));
 * ema.update();
 * ```
 *
 * @module
 */
export {
  createOptimizer,
  type NamedArrays,
  type NamedHostArrays,
  OPTIMIZER_KINDS,
  type OptimizerKind,
  type OptimizerOptions,
  type ParamOptimizer,
  SparseSignSGD,
} from "./optimizers.ts";
export { learningRate, type LrSchedule, validateSchedule } from "./schedule.ts";
export { Ema } from "./ema.ts";
export {
  assertFinite,
  type Checkable,
  clipByGlobalNorm,
  findNonFinite,
  type NonFiniteContext,
  NonFiniteError,
} from "./grad.ts";
export {
  decodeSafetensors,
  dtypeOf,
  encodeSafetensors,
  type FileDigest,
  hashFile,
  type HostArray,
  type HostTensor,
  readSafetensorsFile,
  type SafeDtype,
  type SafetensorsContent,
  type TensorMap,
  writeSafetensorsFile,
} from "./safetensors.ts";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointDirName,
  type CheckpointState,
  checkpointStep,
  findLatestCheckpoint,
  type JsonValue,
  loadCheckpoint,
  saveCheckpoint,
  type SavedCheckpoint,
} from "./checkpoint.ts";
export {
  type ArcDataConfig,
  backboneConfig,
  type DataConfig,
  DEFAULT_CHECKPOINT_MINUTES,
  type EvalSection,
  type LoadedTrainConfig,
  loadTrainConfig,
  methodConfig,
  type ModelSection,
  type ModelSectionInput,
  type NQueensDataConfig,
  parseTrainConfig,
  resolveTrainConfig,
  sameTrainConfig,
  totalSteps,
  type TrainConfig,
  trainConfigHash,
  type TrainConfigInput,
  trainConfigSchema,
  type TrainSection,
  type TrainSectionInput,
  type ValidatedTrainConfig,
  type WithOptional,
} from "./config.ts";
export { PUZZLE_TABLE, RUN_FILES } from "./run_files.ts";
export { evalData, loadRunData, type RunData } from "./run_data.ts";
export { asFloatArrays, buildModel, type BuiltModel } from "./build_model.ts";
export { type OpenRunOptions, openTrainedRun, type TrainedRun } from "./reopen_run.ts";
export {
  type ArcEvalJson,
  type ArcTaskScore,
  arcTaskScores,
  type EvalCurvePoint,
  type EvalJson,
  type NQueensEvalJson,
  runReport,
  type RunResults,
  runResults,
  type RunSummary,
  writeRunOutputs,
} from "./run_report.ts";
export {
  type BackendFacts,
  backendMemoryLimit,
  chooseMicroBatch,
  formatBytes,
  MEMORY_BUDGET_SHARE,
  type MemoryLimit,
  type MemoryNeed,
  memoryNeed,
  type MicroBatchChoice,
  runMicroBatch,
  WASM_MEMORY_BYTES,
} from "./memory.ts";
export { evaluateRun, type EvaluateRunOptions, type RunEvaluation } from "./evaluate_run.ts";
export { type EvalPoint, runTraining, type Throughput, type TrainOptions, type TrainOutcome } from "./loop.ts";
export { checkLoggedMetrics, expectedMetricSteps } from "./metrics_check.ts";
