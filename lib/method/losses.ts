/**
 * Losses of TRM and DIS: stablemax (TRM's default) or softmax cross-entropy per token, averaged over the
 * supervised tokens of each sample, and the halting BCE. Everything here is differentiable tensor code to
 * be called inside the gradient tape, in float32 (TRM computes stablemax in float64; the parity test
 * measures the difference).
 *
 * Labels are int32; a label outside [0, V) (IGNORE_LABEL = -100 in particular) is not supervised, as in
 * the DIS loss head which maps out-of-range targets to -100.
 *
 * @module
 */
import { hasKernel, STABLEMAX_CE, STABLEMAX_CE_GRAD, type Tensor, tf } from "../backend/mod.ts";
import type { LossKind } from "../model/mod.ts";

export type { LossKind };

/**
 * log stablemax over the last axis: s(x) = x + 1 for x >= 0, 1 / (1 - x + 1e-30) for x < 0;
 * log(s(x) / sum s(x)).
 */
export function logStablemax(logits: Tensor): Tensor {
  // Written as relu(x) + 1 / (1 - min(x, 0)): equal to both branches, with no tf.where (its condition
  // would need a gradient in the tape) and no division by ~0 in an unused branch (0 * inf = NaN).
  const s = tf.add(tf.relu(logits), tf.div(1, tf.add(tf.sub(1, tf.minimum(logits, 0)), 1e-30))); // [..., V]
  return tf.log(tf.div(s, tf.sum(s, -1, true))); // [..., V]
}

/**
 * Per-token cross-entropy [B, L] of logits [B, L, V] against labels [B, L] (int32), zero at unsupervised
 * positions; and the supervision mask [B, L] (float32, 1 = supervised).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { tokenCrossEntropy } from "./losses.ts";
 * const { loss } = tokenCrossEntropy(tf.zeros([1, 2, 3]), tf.tensor2d([[0, -100]], [1, 2], "int32"), "softmax");
 * // loss = [[ln 3, 0]]
 * ```
 */
export function tokenCrossEntropy(logits: Tensor, labels: Tensor, kind: LossKind): { loss: Tensor; mask: Tensor } {
  const v = logits.shape[logits.rank - 1];
  const valid = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, v)); // [B, L]
  const mask = tf.cast(valid, "float32"); // [B, L]
  const safe = tf.where(valid, labels, tf.zerosLike(labels)); // [B, L]
  // cast(oneHot) rather than oneHot(..., "float32"): wasm returns int32 bit patterns for the latter.
  const onehot = tf.cast(tf.oneHot(tf.cast(safe, "int32"), v), "float32"); // [B, L, V]
  const logp = kind === "stablemax" ? logStablemax(logits) : tf.logSoftmax(logits, -1); // [B, L, V]
  const picked = tf.sum(tf.mul(logp, onehot), -1); // [B, L]
  return { loss: tf.mul(tf.neg(picked), mask), mask };
}

/**
 * Per-sample loss [B]: the mean token cross-entropy over the supervised tokens of each sample
 * (a sample with none contributes 0), and the supervised-token counts [B].
 */
export function perSampleCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  kind: LossKind,
): { loss: Tensor; count: Tensor } {
  if (kind === "stablemax" && logits.dtype === "float32" && hasKernel(STABLEMAX_CE)) {
    return fusedStablemaxCrossEntropy(logits, labels);
  }
  const { loss, mask } = tokenCrossEntropy(logits, labels, kind);
  const count = tf.sum(mask, -1); // [B]
  return { loss: tf.div(tf.sum(loss, -1), tf.maximum(count, 1)), count };
}

/**
 * {@linkcode perSampleCrossEntropy} for stablemax as two dispatches (forward; gradient), where the backend
 * has the kernels (webgpu). The counts come from the forward kernel and carry no gradient.
 */
function fusedStablemaxCrossEntropy(logits: Tensor, labels: Tensor): { loss: Tensor; count: Tensor } {
  const ints = labels.dtype === "int32" ? labels : tf.cast(labels, "int32");
  // The forward kernel runs outside the custom gradient, so its second output (the counts) is an ordinary
  // tensor of the caller's scope; inside, the loss is passed on by a clone (same buffer, no dispatch).
  const [loss0, count] = tf.engine().runKernel(STABLEMAX_CE, { logits, labels: ints }) as Tensor[];
  const f = tf.customGrad(
    ((x: Tensor, lab: Tensor, save: tf.GradSaveFunc) => {
      save([x, lab, count]);
      return {
        value: tf.clone(loss0),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sx, slab, sc] = saved;
          const [dx] = tf.engine().runKernel(STABLEMAX_CE_GRAD, {
            logits: sx,
            labels: slab,
            count: sc,
            dy,
          }) as Tensor[];
          return [dx, tf.zerosLike(slab)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  const loss = f(logits, ints) as Tensor;
  loss0.dispose();
  return { loss, count };
}

/** Binary cross-entropy with logits, per element: max(x, 0) - x t + log(1 + exp(-|x|)). */
export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/**
 * The batch objective: `sum_b weight_b * perSample_b / globalBatch` (TRM and DIS call backward on the summed
 * loss divided by the global batch size). weights: [B] or a number.
 */
export function batchObjective(perSample: Tensor, globalBatch: number, weights?: Tensor | number): Tensor {
  const w = weights === undefined ? perSample : tf.mul(perSample, weights);
  return tf.div(tf.sum(w), globalBatch);
}
