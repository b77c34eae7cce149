/**
 * DIS training: Deep Improvement Supervision on the same recursive model. Every sample runs exactly
 * N_sup supervision steps (no halting head); step s (1..N_sup) adds the learned step embedding of s to the
 * input embedding, runs T cycles (DIS: T = 1, n = 2, all under gradient) and is trained toward the
 * intermediate target y_s of the sample's path (targets.ts), with one optimiser step per supervision step.
 *
 * The slots work as TRM's carry (released code ACTV5): a slot whose sample finished takes the next loader
 * batch's row, draws its path, and starts from y_init / z_init. With `autoregressive`, the input of steps
 * 2.. is the previous step's argmax prediction instead of the original input.
 *
 * Legend: B = batch, L = sequence, S = P + L, D = width, V = vocabulary, y = answer state, z = latent.
 *
 * @module
 */
import { type NamedArrays, type Tensor, tf } from "../backend/mod.ts";
import type { Rng } from "../random/mod.ts";
import { batchObjective, perSampleCrossEntropy } from "./losses.ts";
import type { BatchSource } from "./batch.ts";
import { checkBatch } from "./batch.ts";
import { correctness, type DisConfig, type DisFetch, type RecursiveModel } from "../model/mod.ts";
import { stepWeight, type TargetGenerator, targetGenerator } from "./targets.ts";
import {
  restoreTensor,
  type StepInputs,
  type StepObjective,
  StepResult,
  SupervisionTrainer,
  type TrainerOptions,
} from "./supervision.ts";

/**
 * Metric names of a DIS step, in the order of {@linkcode StepResult.stats}. After `read()`: `loss` = the
 * differentiated objective (step-weighted), `lm_loss` = the unweighted per-sample losses summed / global
 * batch, `grad_norm`, `count` = samples that finished this step, `accuracy`, `exact_accuracy` (against the
 * final label) and `steps` = means over them, `step_target_accuracy` = token accuracy against this step's
 * targets, averaged over all slots.
 */
export const DIS_METRICS = [
  "loss",
  "lm_loss",
  "grad_norm",
  "count",
  "accuracy",
  "exact_accuracy",
  "steps",
  "step_target_accuracy",
] as const;

/** Options of {@linkcode DisTrainer}. */
export interface DisTrainerOptions extends TrainerOptions {
  /** The run's "targets" stream; paths are drawn from it when a sample enters a slot. */
  rng: Rng;
  /** Overrides the path generator (tests give the reference's explicit paths). */
  targets?: TargetGenerator;
  /**
   * `every-step` (released code): a loader batch is taken every optimiser step and the rows of running
   * slots are discarded (5 of 6 batches with N_sup = 6). `when-needed` (paper pseudo-code): a batch is
   * taken only when slots need samples, so each batch is trained for all N_sup steps.
   */
  fetch?: DisFetch;
  /**
   * Staggered start: a slot's first sample begins at step (slot mod N_sup) + 1, so after the first N_sup
   * optimiser steps every batch holds every supervision step in equal shares (default false: all slots in
   * step, as the released code).
   */
  stagger?: boolean;
}

/**
 * Trains DIS, one supervision step per optimiser step.
 *
 * @example
 * ```ts ignore
 * const trainer = new DisTrainer(model, disConfig, { batchSize: 64, optimizer, puzzleOptimizer,
 *   rng: stream(seed, "targets") });
 * const r = await trainer.step(source, { lr: 1e-4, puzzleLr: 1e-2 });
 * console.log(await r.read()); // { loss, lm_loss, grad_norm, count, accuracy, exact_accuracy, ... }
 * ```
 */
export class DisTrainer extends SupervisionTrainer<DisConfig> {
  /** The options it was built with. */
  declare readonly opts: DisTrainerOptions;
  /** Each slot's path: frames 1..N_sup, [B, N_sup, L]. */
  readonly frames: Int32Array;
  #prevPred: Tensor;
  #gen: TargetGenerator;

  /**
   * Throws when the model's step embedding has fewer than N_sup + 1 rows. The target paths come from `opts.targets`,
   * else from `method.targets` with `opts.rng`.
   */
  constructor(model: RecursiveModel, method: DisConfig, opts: DisTrainerOptions) {
    if (model.config.stepEmbedRows < method.nSup + 1) {
      throw new Error(
        `Cannot train DIS: the model's step_embed has ${model.config.stepEmbedRows} rows, need ${method.nSup + 1}`,
      );
    }
    super(model, method, opts);
    const b = opts.batchSize;
    const l = model.config.seqLen;
    this.frames = new Int32Array(b * method.nSup * l);
    this.#prevPred = tf.zeros([b, l], "int32");
    this.#gen = opts.targets ?? targetGenerator(method.targets, method.nSup, model.config.vocabSize, opts.rng);
  }

  /**
   * Fresh slots take the loader batch's row and draw their path; every slot's target is frame s of its
   * path and its loss weight that of step s.
   */
  protected prepare(source: BatchSource): StepInputs {
    const { method, slots } = this;
    const b = slots.batch;
    const l = slots.seqLen;
    const n = method.nSup;
    const fresh = Uint8Array.from(slots.halted);
    if ((this.opts.fetch ?? "every-step") === "every-step" || fresh.some((h) => h === 1)) {
      const batch = source.next();
      checkBatch(batch, b, l, "DIS training batch");
      // The puzzle rows are loaded (and their ids checked) before any slot changes.
      this.rows.load(slots.puzzleIds.map((id, i) => (fresh[i] ? batch.puzzleIds[i] : id)));
      for (let i = 0; i < b; i++) {
        if (!fresh[i]) continue;
        // A slot that has never held a sample has halted with 0 steps; later refills halt at N_sup.
        const first = slots.steps[i] === 0;
        slots.take(i, batch);
        if (this.opts.stagger && first) slots.steps[i] = i % n;
        const x0 = slots.inputs.subarray(i * l, (i + 1) * l);
        const label = slots.labels.subarray(i * l, (i + 1) * l);
        this.frames.set(this.#gen(x0.slice(), label.slice()), i * n * l);
      }
    } else {
      // Same samples, but sign-SGD has changed their rows of the table since the last step.
      this.rows.load(slots.puzzleIds);
    }
    // Step index s = steps + 1 (1 on a sample's first step), clamped to N_sup as the code does.
    const stepIdx = new Int32Array(b);
    const targets = new Int32Array(b * l);
    const weights = new Float32Array(b);
    for (let i = 0; i < b; i++) {
      const s = Math.min(slots.steps[i] + 1, n);
      stepIdx[i] = s;
      weights[i] = stepWeight(method.stepWeights, s, n);
      targets.set(this.frames.subarray((i * n + s - 1) * l, (i * n + s) * l), i * l);
    }
    const x0 = tf.tensor2d(slots.inputs, [b, l], "int32");
    const tokens = method.autoregressive
      ? tf.tidy(() =>
        tf.where(tf.cast(tf.tensor2d(Int32Array.from(fresh), [b, 1], "int32"), "bool"), x0, this.#prevPred)
      )
      : x0.clone(); // [B, L]
    x0.dispose();
    const stepIndex = tf.tensor1d(stepIdx, "int32");
    const targetT = tf.tensor2d(targets, [b, l], "int32");
    const labelT = tf.tensor2d(slots.labels, [b, l], "int32");
    const weightT = tf.tensor1d(weights, "float32");
    return { fresh, tokens, stepIndex, tensors: [targetT, labelT, weightT] };
  }

  /** Step-weighted CE toward this step's target; accuracies against the label and the target. */
  protected objective(logits: Tensor, _y: Tensor, inputs: StepInputs): StepObjective {
    const b = logits.shape[0]; // B, or the rows of one accumulation pass
    const [targetT, labelT, weightT] = inputs.tensors;
    const ce = perSampleCrossEntropy(logits, targetT, this.method.loss); // [B]
    const total = batchObjective(ce.loss, this.globalBatch, weightT);
    // Columns: lm, acc vs label, exact vs label, label count, acc vs step target.
    const vsLabel = correctness(logits, labelT); // [B, 3]
    const vsTarget = tf.slice(correctness(logits, targetT), [0, 0], [b, 1]); // [B, 1]
    const perSlot = tf.concat([ce.loss.reshape([b, 1]), vsLabel, vsTarget], 1); // [B, 5]
    return { total, perSlot, carry: tf.argMax(logits, -1) };
  }

  /** Every sample runs exactly N_sup steps; the argmax is kept as the next step's autoregressive input. */
  protected halt(carry: Tensor): Promise<void> {
    const { slots } = this;
    const n = this.method.nSup;
    for (let i = 0; i < slots.batch; i++) {
      slots.steps[i] += 1;
      slots.halted[i] = slots.steps[i] >= n ? 1 : 0;
    }
    this.#prevPred.dispose();
    this.#prevPred = carry;
    return Promise.resolve();
  }

  /** DIS's metrics ({@linkcode DIS_METRICS}): means over the slots that finished their last step this step. */
  protected summarise(perSlot: Tensor, value: Tensor, norm: Tensor): StepResult {
    const { slots } = this;
    const b = slots.batch;
    const stats = tf.tidy(() => {
      const per = perSlot; // [B, 5]
      const halted = tf.tensor1d(Float32Array.from(slots.halted), "float32");
      const valid = tf.mul(halted, tf.cast(tf.greater(tf.slice(per, [0, 3], [b, 1]).reshape([b]), 0), "float32")); // [B]
      const sums = tf.matMul(valid.reshape([1, b]), per).reshape([5]); // [5]
      const stepsSum = tf.sum(tf.mul(valid, tf.tensor1d(Float32Array.from(slots.steps)))); // []
      return tf.concat([
        value.reshape([1]),
        tf.sum(tf.slice(per, [0, 0], [b, 1])).reshape([1]),
        norm.reshape([1]),
        tf.sum(valid).reshape([1]),
        tf.slice(sums, [1], [2]), // acc, exact
        stepsSum.reshape([1]),
        tf.sum(tf.slice(per, [0, 4], [b, 1])).reshape([1]),
      ]); // [8]
    });
    const g = this.globalBatch;
    return new StepResult(stats, DIS_METRICS, (r) => {
      const count = Math.max(r[3], 1);
      return [r[0], r[1] / g, r[2], r[3], r[4] / count, r[5] / count, r[6] / count, r[7] / b];
    });
  }

  /** The paths and the previous predictions. The targets stream's state is the caller's. */
  protected override async extraState(): Promise<NamedArrays> {
    const b = this.slots.batch;
    const l = this.slots.seqLen;
    return {
      "carry.frames": { shape: [b, this.method.nSup, l], data: Float32Array.from(this.frames) },
      "carry.prev_pred": { shape: [b, l], data: Float32Array.from((await this.#prevPred.data()) as Int32Array) },
    };
  }

  /** Throws RangeError when the saved paths do not fit this trainer. */
  protected override checkExtra(a: NamedArrays): void {
    const frames = a["carry.frames"];
    if (!frames || frames.data.length !== this.frames.length) {
      throw new RangeError(
        `Cannot restore trainer state: "carry.frames" is missing or does not hold ${this.frames.length} values`,
      );
    }
  }

  /** The saved previous predictions, and an `install` that sets them and the paths. */
  protected override restoreExtra(a: NamedArrays): { tensors: Tensor[]; install: () => void } {
    const frames = a["carry.frames"]!;
    const prev = restoreTensor(a, "carry.prev_pred", [this.slots.batch, this.slots.seqLen], "int32");
    return {
      tensors: [prev],
      install: () => {
        this.frames.set(frames.data);
        this.#prevPred.dispose();
        this.#prevPred = prev;
      },
    };
  }

  /** Frees the previous predictions, then the shared state. */
  override dispose(): void {
    this.#prevPred.dispose();
    super.dispose();
  }
}
