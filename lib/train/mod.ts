/**
 * Training: the losses (stablemax / softmax cross-entropy, halting BCE), optimisers (adam-atan2,
 * lucidrains' adam-atan2, AdamW, sparse sign-SGD), the warmup + cosine learning-rate schedule, the
 * weight EMA, gradient clipping and the non-finite check, safetensors files, and resumable checkpoints.
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
export { assertFinite, type Checkable, clipByGlobalNorm, findNonFinite, globalNorm, NonFiniteError } from "./grad.ts";
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
  findLatestCheckpoint,
  type JsonValue,
  loadCheckpoint,
  saveCheckpoint,
  type SavedCheckpoint,
} from "./checkpoint.ts";
export * from "./losses.ts";
