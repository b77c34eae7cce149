/**
 * The policy-improvement quantities of paper section 3 for one answer update, per token:
 *
 * - pi_hat = softmax(l_u), the pre-reasoning policy (LM head on y before the update, eq. 7);
 * - pi_plus = softmax(l_c), the post-reasoning policy (after it, eq. 8);
 * - A(a) = log pi_plus(a) - log pi_hat(a), the improvement score (eq. 17), natural log;
 * - pi_w = softmax((1 - w) log pi_hat + w log pi_plus) (eq. 16);
 * - the advantage margin A(y*) - E_{a ~ pi_w}[A(a)] (eq. 18), and dL/dw = E_{pi_w}[A] - A(y*) (section 3.3),
 *   the derivative of L(w) = -log pi_w(y*); a positive margin means trusting the step more lowers the loss.
 *   Both paths compute the margin as sum_a pi_w(a) (A(y*) - A(a)), the same quantity since pi_w sums to 1:
 *   the y* term is exactly zero and every other term is small where pi_w is nearly certain of y*, whereas
 *   A(y*) - sum_a pi_w(a) A(a) subtracts two nearly equal numbers there, and its float32 rounding (about
 *   1e-6 per token) is as large as {@linkcode MARGIN_EPS}.
 *
 * {@linkcode policyStats} computes them on the tensor backend and reduces them to sums per sample and
 * per ground-truth token; {@linkcode improvementAt} is the same arithmetic for one position in float64,
 * the readable definition and the tests' oracle.
 *
 * Legend: B = batch, L = sequence, V = vocabulary, K = statistics per token (see {@linkcode statLayout}).
 *
 * @module
 */
import { type Tensor, tf } from "../backend/mod.ts";

/**
 * A margin counts as positive only above this many nats: where pi_w is already certain of y*, the margin
 * is zero up to float32 rounding and would otherwise count at random.
 */
export const MARGIN_EPS = 1e-6;

/** Column offsets of the K statistics that {@linkcode policyStats} sums, for `nWeights` weights. */
export interface StatLayout {
  /** 1 per supervised token (the token count once summed). */
  count: number;
  /** -log pi_hat(y*). */
  ceBefore: number;
  /** -log pi_plus(y*). */
  ceAfter: number;
  /** 1 where argmax l_u = y*. */
  correctBefore: number;
  /** 1 where argmax l_c = y*. */
  correctAfter: number;
  /** First of `nWeights` columns: the margin at weights[i]. */
  margin: number;
  /** First of `nWeights` columns: 1 where that margin > MARGIN_EPS. */
  positive: number;
  /** K. */
  width: number;
}

/**
 * The column layout for `nWeights` weights.
 *
 * @example
 * ```ts
 * import { statLayout } from "./policy.ts";
 * statLayout(2).width; // 9: count, two CEs, two correct flags, two margins, two positive flags
 * ```
 */
export function statLayout(nWeights: number): StatLayout {
  return {
    count: 0,
    ceBefore: 1,
    ceAfter: 2,
    correctBefore: 3,
    correctAfter: 4,
    margin: 5,
    positive: 5 + nWeights,
    width: 5 + 2 * nWeights,
  };
}

/**
 * Per-token statistics of one answer update, summed per sample and per ground-truth token.
 *
 * `before`, `after`: logits [B, L, V]; `labels`: int32 [B, L], where values outside 0..V-1 (IGNORE_LABEL
 * -100) are unsupervised and contribute nothing. Returns float32 [B, V, K]: entry [b, v, k] is the sum
 * of statistic k (see {@linkcode statLayout}) over the positions of sample b whose label is v. Runs
 * synchronously; call it inside `tf.tidy` (a recursion hook is one) and keep the result.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { policyStats, statLayout } from "./policy.ts";
 * await initBackend("cpu");
 * const before = tf.tensor3d([[[0, 0]]]); // pi_hat = (1/2, 1/2)
 * const after = tf.tensor3d([[[Math.log(3), 0]]]); // pi_plus = (3/4, 1/4)
 * const s = policyStats(before, after, tf.tensor2d([[0]], [1, 1], "int32"), [1]);
 * const k = statLayout(1);
 * (await s.data())[k.margin]; // 0.2747: (1 - 3/4) * ln 3
 * ```
 */
export function policyStats(before: Tensor, after: Tensor, labels: Tensor, weights: readonly number[]): Tensor {
  if (before.rank !== 3 || after.shape.join() !== before.shape.join()) {
    throw new RangeError(
      `Cannot compute policy statistics: before and after must be the same [B, L, V], got [${before.shape}] and [${after.shape}]`,
    );
  }
  const [b, l, v] = before.shape;
  if (labels.shape.join() !== [b, l].join()) {
    throw new RangeError(`Cannot compute policy statistics: labels are [${labels.shape}], expected [${b}, ${l}]`);
  }
  for (const w of weights) {
    if (!Number.isFinite(w)) throw new RangeError(`Cannot compute policy statistics: weight ${w} is not finite`);
  }
  return tf.tidy(() => {
    const ids = tf.cast(labels, "int32"); // [B, L]
    const validMask = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, v)); // [B, L]
    const valid = tf.cast(validMask, "float32"); // [B, L]
    const safe = tf.where(validMask, ids, tf.zerosLike(ids)); // [B, L]
    // Cast the int one-hot: wasm's float32 oneHot returns int bit patterns (tfjs-on-deno.md).
    const target = tf.mul(tf.cast(tf.oneHot(safe, v), "float32"), tf.expandDims(valid, 2)); // [B, L, V]
    const lu = tf.logSoftmax(before); // [B, L, V]
    const lc = tf.logSoftmax(after); // [B, L, V]
    const adv = tf.sub(lc, lu); // [B, L, V]
    const pick = (t: Tensor) => tf.sum(tf.mul(t, target), -1); // [B, L]
    const advStar = pick(adv); // [B, L]
    const hit = (logits: Tensor) => tf.cast(tf.equal(tf.argMax(logits, -1), safe), "float32"); // [B, L]
    const margins = weights.map((w) => {
      const piW = tf.softmax(tf.add(tf.mul(lu, 1 - w), tf.mul(lc, w))); // [B, L, V]
      return tf.sum(tf.mul(piW, tf.sub(tf.expandDims(advStar, 2), adv)), -1); // [B, L]
    });
    const positives = margins.map((m) => tf.cast(tf.greater(m, MARGIN_EPS), "float32")); // [B, L] each
    const cols = [valid, tf.neg(pick(lu)), tf.neg(pick(lc)), hit(before), hit(after), ...margins, ...positives];
    const stats = tf.stack(cols, 2); // [B, L, K]
    const perClass: Tensor[] = [];
    for (let c = 0; c < v; c++) {
      const mask = tf.slice(target, [0, 0, c], [b, l, 1]); // [B, L, 1]
      perClass.push(tf.sum(tf.mul(stats, mask), 1)); // [B, K]
    }
    return tf.stack(perClass, 1); // [B, V, K]
  });
}

/** The quantities of one position, from {@linkcode improvementAt}. */
export interface Improvement {
  /** A(a) for every action a. */
  advantage: number[];
  /** pi_w(a). */
  piW: number[];
  /** A(y*) - E_{pi_w}[A], computed as sum_a pi_w(a) (A(y*) - A(a)). */
  margin: number;
  /** dL/dw = -margin. */
  dLdw: number;
  /** -log pi_hat(y*), before the update (nats). */
  ceBefore: number;
  /** -log pi_plus(y*), after the update (nats). */
  ceAfter: number;
}

function logSoftmax(x: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - max);
  const lse = max + Math.log(s);
  return Array.from(x, (v) => v - lse);
}

/**
 * The section-3 quantities at one position in float64, from the logits before and after an update.
 *
 * @example
 * ```ts
 * import { improvementAt } from "./policy.ts";
 * // pi_hat = (1/2, 1/2), pi_plus = (3/4, 1/4): at w = 0 the margin is (1 - 1/2) ln 3.
 * improvementAt([0, 0], [Math.log(3), 0], 0, 0).margin; // 0.5493
 * ```
 */
export function improvementAt(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  label: number,
  w: number,
): Improvement {
  if (before.length !== after.length || !(label >= 0 && label < before.length && Number.isInteger(label))) {
    throw new RangeError(
      `Cannot compute the improvement: ${before.length} and ${after.length} logits with label ${label}`,
    );
  }
  const lu = logSoftmax(before);
  const lc = logSoftmax(after);
  const advantage = lc.map((c, a) => c - lu[a]);
  const piW = logSoftmax(lu.map((u, a) => (1 - w) * u + w * lc[a])).map(Math.exp);
  const margin = piW.reduce((s, p, a) => s + p * (advantage[label] - advantage[a]), 0);
  return { advantage, piW, margin, dLdw: -margin, ceBefore: -lu[label], ceAfter: -lc[label] };
}
