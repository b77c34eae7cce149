/**
 * Test helper for the trainer tests (lib/method) and the loop tests: a tiny model with lib/train's
 * optimisers and the trainer of a method. It sits in lib/train because it needs both the trainers and the
 * optimisers.
 *
 * @module
 */
import { Rng, stream } from "../random/mod.ts";
import { backboneFor, type MethodConfig, RecursiveModel } from "../model/mod.ts";
import { DisTrainer, rngExploration, TrmTrainer } from "../method/mod.ts";
import { createOptimizer, SparseSignSGD } from "./optimizers.ts";

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
  /** Where the trainer keeps the puzzle table (TrainerOptions.puzzleTable). */
  puzzleTable?: "host" | "device";
  /** Rows per forward/backward pass (TrainerOptions.microBatch). */
  microBatch?: number;
  /** DIS: staggered slot starts (DisTrainerOptions.stagger). */
  stagger?: boolean;
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
  const base = {
    batchSize: opts.batchSize,
    optimizer,
    puzzleOptimizer,
    puzzleTable: opts.puzzleTable,
    microBatch: opts.microBatch,
  };
  const trainer = method.method === "trm"
    ? new TrmTrainer(model, method, { ...base, exploration: rngExploration(rng) })
    : new DisTrainer(model, method, { ...base, rng, stagger: opts.stagger });
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
