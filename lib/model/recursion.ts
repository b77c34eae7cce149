/**
 * The latent recursion of one supervision step, shared by TRM and DIS:
 *
 * ```
 * repeat T times:                       (the first T-1 without gradient)
 *   repeat n times: z = net(z, y + x)   latent update (code: z_L = L_level(z_L, z_H + x))
 *   y = net(y, z)                       answer update (code: z_H = L_level(z_H, z_L))
 * ```
 *
 * Legend: B = batch, S = P + L positions, D = width, V = vocabulary, x = embedded input,
 * y = answer state, z = latent state.
 *
 * @module
 */
import { type Tensor, tf } from "../backend/mod.ts";
import type { RecursiveModel } from "./model.ts";

/**
 * Seen by a hook at every answer update: the LM-head logits of y just before and just after it. The
 * policy-improvement analysis reads the pair as (reference policy, improved policy).
 */
export interface YUpdateEvent {
  /** Supervision step, 1-based. */
  step: number;
  /** Recursion cycle within the step, 0-based (0..T-1); there is one answer update per cycle. */
  cycle: number;
  /** Logits of y before the update, [B, L, V]. Valid only during the call. */
  before: Tensor;
  /** Logits of y after the update, [B, L, V]. Valid only during the call. */
  after: Tensor;
}

/**
 * Optional observers of the recursion (inference only). Hooks run inside tf.tidy: compute what you need
 * from the event's tensors there, and wrap tensors you keep in tf.keep (e.g. `tf.keep(e.after.clone())`).
 */
export interface RecursionHooks {
  /** Called after every answer update, with the logits of y before and after it. */
  onYUpdate?: (e: YUpdateEvent) => void;
}

/** One cycle: n latent updates then one answer update. x, y, z: [B, S, D]. */
export function cycle(
  model: RecursiveModel,
  x: Tensor,
  y: Tensor,
  z: Tensor,
  n: number,
  hook?: (before: Tensor, after: Tensor) => void,
): { y: Tensor; z: Tensor } {
  for (let i = 0; i < n; i++) z = model.net(z, tf.add(y, x)); // [B, S, D]
  const yNext = model.net(y, z); // [B, S, D]
  if (hook) tf.tidy(() => hook(model.lmLogits(y), model.lmLogits(yNext)));
  return { y: yNext, z };
}

/**
 * `cycles` full cycles outside any gradient tape (TRM's T-1 no-grad cycles). Returns new y, z [B, S, D]
 * that the caller owns; the inputs are not disposed.
 */
export function cyclesNoGrad(
  model: RecursiveModel,
  x: Tensor,
  y: Tensor,
  z: Tensor,
  n: number,
  cycles: number,
  hook?: (cycle: number, before: Tensor, after: Tensor) => void,
): { y: Tensor; z: Tensor } {
  return tf.tidy(() => {
    let s = { y, z };
    for (let c = 0; c < cycles; c++) {
      s = cycle(model, x, s.y, s.z, n, hook ? (b, a) => hook(c, b, a) : undefined);
    }
    // tidy would dispose inputs returned unchanged only if created inside; clone keeps ownership clear.
    return { y: s.y === y ? tf.clone(y) : s.y, z: s.z === z ? tf.clone(z) : s.z };
  });
}

/**
 * A function of tensors computed without gradient: inside a gradient tape it records one node whose
 * gradient is zero, so ops without gradients (argMax, equal) may feed a loss as targets.
 */
export function noGrad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor {
  const g = tf.customGrad(
    ((...args: unknown[]) => {
      const xs = args.slice(0, -1) as Tensor[];
      return { value: f(...xs), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (...xs: Tensor[]) => g(...xs) as Tensor;
}

/**
 * Correctness against labels (ints, -100 = unsupervised), without gradient: [B, 3] with columns
 * (token accuracy over supervised positions, 1 if every supervised token is right, supervised count).
 */
export const correctness: (logits: Tensor, labels: Tensor) => Tensor = noGrad((logits, labels) => {
  const v = logits.shape[logits.rank - 1];
  const valid = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, v)); // [B, L]
  const pred = tf.argMax(logits, -1); // [B, L]
  const ok = tf.cast(tf.logicalAnd(valid, tf.equal(pred, tf.cast(labels, "int32"))), "float32"); // [B, L]
  const count = tf.sum(tf.cast(valid, "float32"), -1); // [B]
  const right = tf.sum(ok, -1); // [B]
  const acc = tf.div(right, tf.maximum(count, 1)); // [B]
  const exact = tf.cast(tf.equal(right, count), "float32"); // [B]
  return tf.stack([acc, exact, count], 1); // [B, 3]
});
