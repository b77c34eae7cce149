/**
 * What the trainers consume: host-side batches of token sequences, and the interfaces of the optimisers
 * they drive (implemented in lib/train/optimizers.ts).
 *
 * @module
 */
import type { Tensor } from "../backend/mod.ts";
import type { Batch as SampledBatch } from "../data/mod.ts";

/**
 * B samples of length L, row-major. Labels use IGNORE_LABEL (-100) for unsupervised positions (TRM's
 * data maps label PAD to -100); inputs never do.
 */
export type StepBatch = Pick<SampledBatch, "inputs" | "labels" | "puzzleIds"> & {
  /** int32 [B] optional example ids, carried with the sample for bookkeeping (-1 when absent). */
  sampleIds?: Int32Array;
};

/** A stream of training batches, each with exactly the trainer's batch size. */
export interface BatchSource {
  /** The next batch; its size must equal the trainer's batch size. */
  next(): StepBatch;
}

/** The weight optimiser (lib/train `ParamOptimizer`): grads keyed by tfjs `Variable.name`. */
export interface WeightOptimizer {
  /** Updates every variable named in `grads` in place, with learning rate `lr`. */
  apply(grads: Record<string, Tensor>, lr: number): void;
}

/**
 * The puzzle-embedding optimiser (lib/train `SparseSignSGD`), updating the host table in place. Its
 * `weightDecay` is what the same update uses where the table lives on the device.
 */
export interface PuzzleOptimizer {
  /** Weight decay wd: each touched row is first scaled by `1 - lr * wd`. */
  readonly weightDecay: number;
  /** Updates the rows `ids` of the table from their gradients `grad` [ids.length * D], with learning rate `lr`. */
  apply(ids: Int32Array, grad: Float32Array, lr: number): void;
}

/** Learning rates of one optimiser step. */
export interface StepRates {
  /** Learning rate of the weight optimiser. */
  lr: number;
  /** Learning rate of the puzzle-embedding sign-SGD; ignored without a puzzle optimiser. */
  puzzleLr: number;
}

/** Checks a batch against the expected batch size and length; the error names the field. */
export function checkBatch(b: StepBatch, batchSize: number, seqLen: number, what = "batch"): void {
  const want = batchSize * seqLen;
  if (b.inputs.length !== want) {
    throw new RangeError(`Cannot use ${what}: inputs has ${b.inputs.length} tokens, expected ${batchSize} x ${seqLen}`);
  }
  if (b.labels.length !== want) {
    throw new RangeError(`Cannot use ${what}: labels has ${b.labels.length} tokens, expected ${batchSize} x ${seqLen}`);
  }
  if (b.puzzleIds.length !== batchSize) {
    throw new RangeError(`Cannot use ${what}: puzzleIds has ${b.puzzleIds.length} entries, expected ${batchSize}`);
  }
  if (b.sampleIds && b.sampleIds.length !== batchSize) {
    throw new RangeError(`Cannot use ${what}: sampleIds has ${b.sampleIds.length} entries, expected ${batchSize}`);
  }
}
