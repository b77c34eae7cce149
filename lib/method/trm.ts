/**
 * TRM training: deep supervision with ACT halting on a rolling batch ("carry"), as TRM's code does it.
 *
 * Each optimiser step runs ONE supervision step on the B slots:
 * 1. a loader batch is taken; slots whose sample halted take the batch's row (and fresh y, z); the rows of
 *    the other slots are discarded;
 * 2. T-1 cycles without gradient, one with gradient (see recursion.ts);
 * 3. loss = sum_b [CE_b + 0.5 BCE(q_b, every supervised token right)] / globalBatch;
 * 4. the optimisers step; y, z are carried (detached) to the next step;
 * 5. a slot halts when steps >= N_sup or its halting logit > 0, unless exploration (p = 0.1) drew a minimum
 *    step count in 2..N_sup it has not reached.
 *
 * Legend: B = batch, L = sequence, S = P + L, D = width, V = vocabulary, y = answer state, z = latent.
 *
 * @module
 */
import { type Tensor, tf } from "../backend/mod.ts";
import type { Rng } from "../random/mod.ts";
import { batchObjective, bceWithLogits, perSampleCrossEntropy } from "./losses.ts";
import type { BatchSource } from "./batch.ts";
import { checkBatch } from "./batch.ts";
import { correctness, type RecursiveModel, type TrmConfig } from "../model/mod.ts";
import {
  type StepInputs,
  type StepObjective,
  StepResult,
  SupervisionTrainer,
  type TrainerOptions,
} from "./supervision.ts";

/** Per-step exploration draws for B slots: u in [0, 1) and a minimum halting step k in 2..N_sup. */
export interface ExplorationSource {
  /** Draws B uniforms u in [0, 1) and B minimum halting steps k in 2..N_sup. */
  draw(batch: number, nSup: number): { u: Float64Array; k: Int32Array };
}

/**
 * Exploration from the run's "halting" stream: B uniforms, then B integers in 2..N_sup, every step (as TRM
 * draws rand_like then randint_like for all slots).
 */
export function rngExploration(rng: Rng): ExplorationSource {
  return {
    draw(batch, nSup) {
      const u = new Float64Array(batch);
      const k = new Int32Array(batch);
      for (let i = 0; i < batch; i++) u[i] = rng.float();
      for (let i = 0; i < batch; i++) k[i] = rng.intIn(2, Math.max(2, nSup));
      return { u, k };
    },
  };
}

/**
 * Metric names of a TRM step, in the order of {@linkcode StepResult.stats}. After `read()`, as TRM logs
 * them: `loss` = the differentiated objective, `lm_loss` and `q_halt_loss` = their sums over the batch /
 * global batch, `grad_norm` = L2 norm of the weight gradients, `count` = samples that halted this step
 * (with a supervised token), and `accuracy` (per token), `exact_accuracy`, `q_halt_accuracy`, `steps` =
 * means over those halted samples.
 */
export const TRM_METRICS = [
  "loss",
  "lm_loss",
  "q_halt_loss",
  "grad_norm",
  "count",
  "accuracy",
  "exact_accuracy",
  "q_halt_accuracy",
  "steps",
] as const;

/** Options of {@linkcode TrmTrainer}. */
export interface TrmTrainerOptions extends TrainerOptions {
  /** Exploration draws; use {@linkcode rngExploration} with the run's "halting" stream. */
  exploration: ExplorationSource;
}

/**
 * Trains TRM one supervision step per optimiser step on a rolling batch.
 *
 * @example
 * ```ts ignore
 * const trainer = new TrmTrainer(model, trmConfig, {
 *   batchSize: 64, optimizer, puzzleOptimizer, exploration: rngExploration(stream(seed, "halting")),
 * });
 * const r = await trainer.step(source, { lr: 1e-4, puzzleLr: 1e-2 });
 * const m = await r.read(); // { loss, lm_loss, q_halt_loss, grad_norm, count, accuracy, ... }
 * trainer.dispose();
 * ```
 */
export class TrmTrainer extends SupervisionTrainer<TrmConfig> {
  /** The options it was built with. */
  declare readonly opts: TrmTrainerOptions;

  /** Throws when the model has no halting head (`q_head`). */
  constructor(model: RecursiveModel, method: TrmConfig, opts: TrmTrainerOptions) {
    if (!model.config.qHead) throw new Error("Cannot train TRM: the model has no q_head (build it for TRM)");
    super(model, method, opts);
  }

  /** Every step takes a loader batch; slots whose sample halted take its row, the others discard theirs. */
  protected prepare(source: BatchSource): StepInputs {
    const { slots } = this;
    const b = slots.batch;
    const l = slots.seqLen;
    const batch = source.next();
    checkBatch(batch, b, l, "TRM training batch");
    const fresh = Uint8Array.from(slots.halted);
    // The puzzle rows are loaded (and their ids checked) before any slot changes.
    const ids = slots.puzzleIds.map((id, i) => (fresh[i] ? batch.puzzleIds[i] : id));
    this.rows.load(ids);
    for (let i = 0; i < b; i++) if (fresh[i]) slots.take(i, batch);
    const tokens = tf.tensor2d(slots.inputs, [b, l], "int32");
    const labels = tf.tensor2d(slots.labels, [b, l], "int32");
    return { fresh, tokens, tensors: [labels] };
  }

  /** CE toward the label plus the halting BCE toward "every supervised token right". */
  protected objective(logits: Tensor, y: Tensor, inputs: StepInputs): StepObjective {
    const { model, method } = this;
    const b = logits.shape[0]; // B, or the rows of one accumulation pass
    const [labels] = inputs.tensors;
    const q = model.qHaltLogits(y); // [B]
    const ce = perSampleCrossEntropy(logits, labels, method.loss); // [B]
    const corr = correctness(logits, labels); // [B, 3]: acc, exact, count
    const seqCorrect = tf.squeeze(tf.slice(corr, [0, 1], [b, 1]), [1]); // [B]
    const qLoss = bceWithLogits(q, seqCorrect); // [B]
    const total = tf.add(
      batchObjective(ce.loss, this.globalBatch),
      batchObjective(qLoss, this.globalBatch, method.qLossWeight),
    );
    // Columns: lm, q_loss, acc, exact, count, q_right.
    const qRight = tf.cast(tf.equal(tf.cast(tf.greaterEqual(q, 0), "float32"), seqCorrect), "float32"); // [B]
    const perSlot = tf.concat([tf.stack([ce.loss, qLoss], 1), corr, qRight.reshape([b, 1])], 1); // [B, 6]
    return { total, perSlot, carry: q };
  }

  /** The halting logits [B], which the objective carries. */
  protected override haltingLogits(carry: Tensor): Tensor {
    return carry;
  }

  /** Halting, on the host: TRM computes it after the step from the new step count and the q logit. */
  protected async halt(carry: Tensor): Promise<void> {
    const { method, slots } = this;
    const b = slots.batch;
    const q = (await carry.data()) as Float32Array;
    carry.dispose();
    const draws = method.nSup > 1 ? this.opts.exploration.draw(b, method.nSup) : undefined;
    for (let i = 0; i < b; i++) {
      slots.steps[i] += 1;
      let halted = slots.steps[i] >= method.nSup;
      if (draws) {
        halted = halted || q[i] > 0;
        const minHalt = draws.u[i] < method.haltExplorationProb ? draws.k[i] : 0;
        halted = halted && slots.steps[i] >= minHalt;
      }
      slots.halted[i] = halted ? 1 : 0;
    }
  }

  /** TRM's metrics ({@linkcode TRM_METRICS}) over the slots that halted this step. */
  protected summarise(perSlot: Tensor, value: Tensor, norm: Tensor): StepResult {
    const { slots } = this;
    const b = slots.batch;
    const stats = tf.tidy(() => {
      const per = perSlot; // [B, 6]
      const haltedT = tf.tensor1d(Float32Array.from(slots.halted), "float32");
      const valid = tf.mul(haltedT, tf.cast(tf.greater(tf.slice(per, [0, 4], [b, 1]).reshape([b]), 0), "float32")); // [B]
      const sums = tf.matMul(valid.reshape([1, b]), per).reshape([6]); // [6]
      const lossSums = tf.sum(tf.slice(per, [0, 0], [b, 2]), 0); // [2]
      const stepsSum = tf.sum(tf.mul(valid, tf.tensor1d(Float32Array.from(slots.steps)))); // []
      return tf.concat([
        value.reshape([1]),
        lossSums,
        norm.reshape([1]),
        tf.sum(valid).reshape([1]),
        tf.slice(sums, [2], [2]), // acc, exact
        tf.slice(sums, [5], [1]), // q right
        stepsSum.reshape([1]),
      ]); // [9]
    });
    const g = this.globalBatch;
    return new StepResult(stats, TRM_METRICS, (r) => {
      const count = Math.max(r[4], 1);
      return [r[0], r[1] / g, r[2] / g, r[3], r[4], r[5] / count, r[6] / count, r[7] / count, r[8] / count];
    });
  }
}
