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
import { batchObjective, bceWithLogits, perSampleCrossEntropy } from "../train/losses.ts";
import type { BatchSource, StepRates } from "./batch.ts";
import { checkBatch } from "./batch.ts";
import { forwardPasses, type TrmConfig } from "./config.ts";
import type { NamedArrays, RecursiveModel } from "./model.ts";
import { correctness, cycle, cyclesNoGrad } from "./recursion.ts";
import {
  applyGradients,
  countStep,
  emptyForwardStats,
  type ForwardPassStats,
  forwardStatsArray,
  forwardStatsFrom,
  observeGradients,
  PuzzleRows,
  resetStates,
  restoreTensor,
  Slots,
  StepResult,
  type TrainerOptions,
} from "./_trainer.ts";

/** Per-step exploration draws for B slots: u in [0, 1) and a minimum halting step k in 2..N_sup. */
export interface ExplorationSource {
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
export class TrmTrainer {
  readonly slots: Slots;
  #y: Tensor;
  #z: Tensor;
  #rows: PuzzleRows;
  #stats: ForwardPassStats = emptyForwardStats();
  #globalBatch: number;

  constructor(readonly model: RecursiveModel, readonly method: TrmConfig, readonly opts: TrmTrainerOptions) {
    if (!model.config.qHead) throw new Error("Cannot train TRM: the model has no q_head (build it for TRM)");
    this.slots = new Slots(opts.batchSize, model.config.seqLen);
    const init = model.initialState(opts.batchSize);
    this.#y = init.y;
    this.#z = init.z;
    this.#rows = new PuzzleRows(model, opts.batchSize);
    this.#globalBatch = opts.globalBatch ?? opts.batchSize;
  }

  /** Network-application counters so far. */
  get forwardPasses(): ForwardPassStats {
    return { ...this.#stats };
  }

  /** One supervision step and one optimiser step. Reads back B halting logits (needed to halt). */
  async step(source: BatchSource, rates: StepRates): Promise<StepResult> {
    const { model, method, slots } = this;
    const b = slots.batch;
    const l = slots.seqLen;
    const batch = source.next();
    checkBatch(batch, b, l, "TRM training batch");
    const fresh = Uint8Array.from(slots.halted);
    // The puzzle rows are loaded (and their ids checked) before any slot changes.
    const ids = slots.puzzleIds.map((id, i) => (fresh[i] ? batch.puzzleIds[i] : id));
    this.#rows.load(ids);
    for (let i = 0; i < b; i++) if (fresh[i]) slots.take(i, batch);

    const reset = resetStates(model, this.#y, this.#z, fresh);
    this.#y.dispose();
    this.#z.dispose();
    const tokens = tf.tensor2d(slots.inputs, [b, l], "int32");
    const labels = tf.tensor2d(slots.labels, [b, l], "int32");

    let state = reset;
    if (method.hCycles > 1) {
      const x = tf.tidy(() => model.inputEmbedding(tokens, this.#rows.variable)); // [B, S, D]
      state = cyclesNoGrad(model, x, reset.y, reset.z, method.lCycles, method.hCycles - 1);
      x.dispose();
      reset.y.dispose();
      reset.z.dispose();
    }

    let kept: { y: Tensor; z: Tensor; q: Tensor; per: Tensor; logits?: Tensor } | undefined;
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        const x = model.inputEmbedding(tokens, this.#rows.variable); // [B, S, D]
        const out = cycle(model, x, state.y, state.z, method.lCycles);
        const logits = model.lmLogits(out.y); // [B, L, V]
        const q = model.qHaltLogits(out.y); // [B]
        const ce = perSampleCrossEntropy(logits, labels, method.loss); // [B]
        const corr = correctness(logits, labels); // [B, 3]: acc, exact, count
        const seqCorrect = tf.squeeze(tf.slice(corr, [0, 1], [b, 1]), [1]); // [B]
        const qLoss = bceWithLogits(q, seqCorrect); // [B]
        const total = tf.add(
          batchObjective(ce.loss, this.#globalBatch),
          batchObjective(qLoss, this.#globalBatch, method.qLossWeight),
        );
        // Columns: lm, q_loss, acc, exact, count, q_right.
        const qRight = tf.cast(tf.equal(tf.cast(tf.greaterEqual(q, 0), "float32"), seqCorrect), "float32"); // [B]
        const per = tf.concat([tf.stack([ce.loss, qLoss], 1), corr, qRight.reshape([b, 1])], 1); // [B, 6]
        kept = { y: tf.keep(out.y), z: tf.keep(out.z), q: tf.keep(q), per: tf.keep(per) };
        if (this.opts.onGradients) kept.logits = tf.keep(logits);
        return total as tf.Scalar;
      }, [...model.trainableVariables(), this.#rows.variable])
    );
    state.y.dispose();
    state.z.dispose();
    tokens.dispose();
    labels.dispose();
    const k = kept!;
    if (k.logits) {
      observeGradients(this.opts, model, this.#rows, grads, k.logits, k.q);
      k.logits.dispose();
    }
    const norm = await applyGradients(grads, this.#rows, slots.puzzleIds.slice(), this.opts, rates);

    // Halting, on the host: TRM computes it after the step from the new step count and the q logit.
    const q = (await k.q.data()) as Float32Array;
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
    const perStep = forwardPasses(method);
    countStep(this.#stats, slots, perStep.perStep, perStep.withGradPerStep);

    const stats = tf.tidy(() => {
      const per = k.per; // [B, 6]
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
    value.dispose();
    norm.dispose();
    k.q.dispose();
    k.per.dispose();
    this.#y = k.y;
    this.#z = k.z;
    const g = this.#globalBatch;
    return new StepResult(stats, TRM_METRICS, (r) => {
      const count = Math.max(r[4], 1);
      return [r[0], r[1] / g, r[2] / g, r[3], r[4], r[5] / count, r[6] / count, r[7] / count, r[8] / count];
    });
  }

  /** Everything needed to resume: y, z and the slots. The exploration stream's state is the caller's. */
  async getState(): Promise<NamedArrays> {
    return {
      "carry.y": { shape: [...this.#y.shape], data: (await this.#y.data()) as Float32Array },
      "carry.z": { shape: [...this.#z.shape], data: (await this.#z.data()) as Float32Array },
      ...this.slots.toArrays("carry."),
      "carry.forward_passes": forwardStatsArray(this.#stats),
    };
  }

  /** Restores a state from {@linkcode TrmTrainer.getState}. */
  setState(a: NamedArrays): void {
    const shape = [...this.#y.shape];
    const y = restoreTensor(a, "carry.y", shape, "float32");
    let z: Tensor | undefined;
    try {
      z = restoreTensor(a, "carry.z", shape, "float32");
      this.slots.fromArrays(a, "carry.");
    } catch (e) {
      y.dispose();
      z?.dispose();
      throw e;
    }
    this.#y.dispose();
    this.#z.dispose();
    this.#y = y;
    this.#z = z!;
    this.#stats = forwardStatsFrom(a["carry.forward_passes"]);
  }

  dispose(): void {
    this.#y.dispose();
    this.#z.dispose();
    this.#rows.dispose();
  }
}
