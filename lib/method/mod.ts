/**
 * The two training methods on lib/model's network: TRM (deep supervision with ACT halting on a rolling
 * batch) and DIS (Deep Improvement Supervision toward intermediate targets), their losses, DIS's target
 * paths and step weights, the batches they consume, and the supervision-step machinery they share.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/mod.ts";
 * import { backboneFor, type DisConfig, RecursiveModel } from "../model/mod.ts";
 * import { Rng, stream } from "../random/mod.ts";
 * import { DisTrainer } from "./mod.ts";
 * await initBackend("cpu");
 * const dis: DisConfig = { method: "dis", nSup: 2, hCycles: 1, lCycles: 1, targets: "reveal",
 *   stepWeights: "uniform", autoregressive: false, loss: "stablemax" };
 * const backbone = backboneFor({ hidden: 8, heads: 2, layers: 1, expansion: 4, mlpMultiple: 8, puzzleEmbLen: 1 },
 *   { vocabSize: 3, seqLen: 4, numPuzzleIds: 1 }, dis);
 * const model = new RecursiveModel(backbone, { rng: stream(0, "init") });
 * const trainer = new DisTrainer(model, dis, { batchSize: 1, optimizer: { apply() {} }, rng: Rng.fromSeed(1) });
 * const batch = { inputs: Int32Array.from([1, 1, 2, 1]), labels: Int32Array.from([2, 1, 2, 1]), puzzleIds: new Int32Array(1) };
 * const m = await (await trainer.step({ next: () => batch }, { lr: 0, puzzleLr: 0 })).read();
 * Number.isFinite(m.loss); // true
 * trainer.dispose();
 * model.dispose();
 * ```
 *
 * @module
 */
export {
  type BatchSource,
  checkBatch,
  type PuzzleOptimizer,
  type StepBatch,
  type StepRates,
  type WeightOptimizer,
} from "./batch.ts";
export {
  type ForwardPassStats,
  type GradientEvent,
  type PuzzleRows,
  type Slots,
  type StepInputs,
  type StepObjective,
  StepResult,
  type SupervisionTrainer,
  type TrainerOptions,
} from "./supervision.ts";
export { type ExplorationSource, rngExploration, TRM_METRICS, TrmTrainer, type TrmTrainerOptions } from "./trm.ts";
export { DIS_METRICS, DisTrainer, type DisTrainerOptions } from "./dis.ts";
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
export * from "./losses.ts";
