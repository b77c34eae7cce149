/**
 * Test fixtures shared by lib/model's tests and the leak and analysis tests: the tiny model shape, the DIS
 * recipe of the released code at N_sup = 3, and, for the trainer tests, tiny TRM and DIS recipes with a
 * helper that builds a model, its optimisers and its trainer.
 *
 * @module
 */
import { Rng, stream } from "../random/mod.ts";
import { createOptimizer, SparseSignSGD } from "../train/mod.ts";
import { type BackboneConfig, backboneFor, type DisConfig, type MethodConfig, type TrmConfig } from "./config.ts";
import { DisTrainer } from "./dis.ts";
import { RecursiveModel } from "./model.ts";
import { rngExploration, TrmTrainer } from "./trm.ts";

/**
 * A tiny backbone (D = 16, 2 heads, one layer, 3 tokens) for `method` over sequences of `seqLen` tokens and
 * `numPuzzleIds` puzzle ids; `over` changes single fields.
 */
export function tinyBackbone(
  method: MethodConfig,
  data: { seqLen: number; numPuzzleIds: number },
  over: Partial<BackboneConfig> = {},
): BackboneConfig {
  return backboneFor(
    { hidden: 16, heads: 2, layers: 1, expansion: 4, mlpMultiple: 16, puzzleEmbLen: 2, ...over },
    { vocabSize: 3, ...data },
    method,
  );
}

/** DIS as the released code runs it (reveal targets, uniform step weights, autoregressive input), N_sup = 3. */
export const REVEAL_DIS: DisConfig = {
  method: "dis",
  nSup: 3,
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "uniform",
  autoregressive: true,
  loss: "stablemax",
};

/** The trainer tests' TRM: N_sup = 3, T = 2, n = 1, exploring 30% of the time. */
export const TRAINER_TRM: TrmConfig = {
  method: "trm",
  nSup: 3,
  hCycles: 2,
  lCycles: 1,
  haltExplorationProb: 0.3,
  qLossWeight: 0.5,
  loss: "stablemax",
};

/** The trainer tests' DIS: N_sup = 3, T = 1, n = 2, reveal targets with linear step weights. */
export const TRAINER_DIS: DisConfig = {
  method: "dis",
  nSup: 3,
  hCycles: 1,
  lCycles: 2,
  targets: "reveal",
  stepWeights: "linear",
  autoregressive: true,
  loss: "stablemax",
};

/** A model being trained by {@linkcode trainerRun}. */
export interface TrainerRun {
  model: RecursiveModel;
  trainer: TrmTrainer | DisTrainer;
  optimizer: ReturnType<typeof createOptimizer>;
  /** The trainer's stream: TRM's halting exploration or DIS's targets. */
  rng: Rng;
  /** Disposes the trainer, the optimiser and the model. */
  dispose(): void;
}

/** Options of {@linkcode trainerRun}. */
export interface TrainerRunOptions {
  /** Prefix of the model's variable names. */
  scope: string;
  batchSize: number;
  seqLen: number;
  numPuzzleIds: number;
  /** The trainer's stream (default: stream 7 "halting" for TRM, "targets" for DIS). */
  rng?: Rng;
  /** Runs once the optimisers exist and before the trainer is built (e.g. to set the puzzle table). */
  prepare?: (model: RecursiveModel) => void;
}

/**
 * A tiny model (D = 8, one layer, 3 tokens) initialised from seed 7, with AdamW (wd 0.1), sign-SGD on the
 * puzzle table (wd 0.1) and the trainer for `method`.
 */
export function trainerRun(method: MethodConfig, opts: TrainerRunOptions): TrainerRun {
  const backbone = backboneFor(
    { hidden: 8, heads: 2, layers: 1, expansion: 4, mlpMultiple: 8, puzzleEmbLen: 1 },
    { vocabSize: 3, seqLen: opts.seqLen, numPuzzleIds: opts.numPuzzleIds },
    method,
  );
  const model = new RecursiveModel(backbone, { rng: stream(7, "init"), scope: opts.scope });
  const optimizer = createOptimizer("adamw", model.trainableVariables(), { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
  const puzzleOptimizer = new SparseSignSGD(model.puzzleTable, 8, { weightDecay: 0.1 });
  opts.prepare?.(model);
  const rng = opts.rng ?? stream(7, method.method === "trm" ? "halting" : "targets");
  const base = { batchSize: opts.batchSize, optimizer, puzzleOptimizer };
  const trainer = method.method === "trm"
    ? new TrmTrainer(model, method, { ...base, exploration: rngExploration(rng) })
    : new DisTrainer(model, method, { ...base, rng });
  return {
    model,
    trainer,
    optimizer,
    rng,
    dispose() {
      trainer.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}
