/**
 * TRM and DIS on TensorFlow.js: the TRM-Att recursive model, the two training methods (TRM with ACT on a
 * rolling batch; DIS with intermediate targets), inference with hooks for the policy-improvement
 * analysis, presets, parameter counts and forward-pass accounting.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { stream } from "../random/mod.ts";
 * import { backboneFor, forwardPasses, getPreset, predict, RecursiveModel } from "./mod.ts";
 * await initBackend("cpu");
 * const preset = getPreset("nqueens-dis-paper");
 * const backbone = backboneFor({ ...preset.backbone, hidden: 32, heads: 4, mlpMultiple: 32 },
 *   { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 }, preset.method);
 * const model = new RecursiveModel(backbone, { rng: stream(0, "init") });
 * const p = await predict(model, preset.method, { inputs: new Int32Array(64).fill(1), puzzleIds: new Int32Array(1) });
 * p.forwardPasses === forwardPasses(preset.method).perSampleInference; // 18
 * model.dispose();
 * ```
 *
 * @module
 */
export {
  BACKBONE_DEFAULTS,
  type BackboneConfig,
  backboneFor,
  type BackboneShape,
  type DisConfig,
  type ForwardPassCount,
  forwardPasses,
  type LossKind,
  type MethodConfig,
  type ModelConfig,
  type ParamCount,
  paramCount,
  type StepWeights,
  swigluHidden,
  type TargetKind,
  type TrmConfig,
  validateModelConfig,
} from "./config.ts";
export { type BackboneName, BACKBONES, getPreset, type Preset, PRESETS, type TrainSettings } from "./presets.ts";
export { type ModelOptions, type NamedArrays, RecursiveModel } from "./model.ts";
export {
  type BatchSource,
  checkBatch,
  type PuzzleOptimizer,
  type StepBatch,
  type StepRates,
  type WeightOptimizer,
} from "./batch.ts";
export { correctness, cycle, noGrad, type RecursionHooks, type YUpdateEvent } from "./recursion.ts";
export { type ForwardPassStats, type GradientEvent, StepResult, type TrainerOptions } from "./_trainer.ts";
export { type ExplorationSource, rngExploration, TRM_METRICS, TrmTrainer, type TrmTrainerOptions } from "./trm.ts";
export { DIS_METRICS, DisTrainer, type DisTrainerOptions } from "./dis.ts";
export { predict, type PredictInput, type Prediction, type PredictOptions } from "./predict.ts";
export {
  maskFrames,
  maskTokenOf,
  noiseRate,
  replaceFrames,
  revealFrames,
  revealRank,
  stepWeight,
  type TargetGenerator,
  targetGenerator,
} from "./targets.ts";
export { applyRope, block, type BlockWeights, ropeTables, selfAttention, swiglu } from "./layers.ts";
