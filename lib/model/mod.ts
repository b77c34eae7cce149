/**
 * The network and its inference: the TRM-Att recursive model that TRM and DIS share, the method configs
 * that set its recursion (N_sup, T, n), inference with hooks for the policy-improvement analysis,
 * presets, parameter counts and forward-pass accounting. The training methods live in lib/method.
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
  DIS_DEFAULTS,
  DIS_FETCH_MODES,
  type DisConfig,
  type DisFetch,
  type ForwardPassCount,
  forwardPasses,
  LOSS_KINDS,
  type LossKind,
  type MethodConfig,
  type MethodName,
  METHODS,
  type ModelConfig,
  type ParamCount,
  paramCount,
  STEP_WEIGHTS,
  type StepWeights,
  swigluHidden,
  TARGET_KINDS,
  type TargetKind,
  TRM_DEFAULTS,
  type TrmConfig,
  validateModelConfig,
} from "./config.ts";
export { type BackboneName, BACKBONES, getPreset, type Preset, PRESETS, type TrainSettings } from "./presets.ts";
export { type ModelOptions, type NamedArrays, RecursiveModel } from "./model.ts";
export { correctness, cycle, cyclesNoGrad, noGrad, type RecursionHooks, type YUpdateEvent } from "./recursion.ts";
export { predict, type PredictInput, type Prediction, type PredictOptions } from "./predict.ts";
export { applyRope, block, type BlockWeights, ropeTables, selfAttention, swiglu } from "./layers.ts";
