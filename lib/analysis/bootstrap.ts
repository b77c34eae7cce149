/**
 * Percentile bootstrap over examples for ratio statistics (sum of a per-example numerator over sum of a
 * per-example denominator: token-weighted means when the denominator is the token count, plain means when
 * it is 1). All statistics share the same resamples, so intervals of different steps are paired.
 *
 * @module
 */
import type { Rng } from "../random/mod.ts";

/** One ratio statistic: sum_i c_i num[i] / sum_i c_i den[i], c = how often example i is drawn. */
export interface RatioStat {
  /** Per-example numerators, one per example. */
  num: ArrayLike<number>;
  /** Per-example denominators, as many as `num` (1 each for a plain mean). */
  den: ArrayLike<number>;
}

/** Options of {@linkcode bootstrapRatios}. */
export interface BootstrapOptions {
  /** Resamples drawn (each: n examples with replacement). */
  resamples: number;
  /** Central coverage of the interval, e.g. 0.95 for the 2.5% and 97.5% percentiles. */
  level: number;
  /** The only source of randomness. */
  rng: Rng;
}

/**
 * The p-quantile of sorted values, interpolating linearly between order statistics (Hyndman and Fan's
 * type 7, numpy's default).
 *
 * @example
 * ```ts
 * import { quantile } from "./bootstrap.ts";
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * ```
 */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile-bootstrap intervals of several ratio statistics over the same n examples.
 * Returns `[low, high]` per statistic, in order; a resample whose denominator is 0 is skipped for that
 * statistic, and a statistic with no usable resample gets `[NaN, NaN]`.
 *
 * @example
 * ```ts
 * import { Rng } from "../random/mod.ts";
 * import { bootstrapRatios } from "./bootstrap.ts";
 * const ones = [1, 1, 1, 1];
 * const [[lo, hi]] = bootstrapRatios([{ num: [0, 1, 1, 0], den: ones }], {
 *   resamples: 200, level: 0.9, rng: Rng.fromSeed(1),
 * });
 * lo <= 0.5 && 0.5 <= hi; // true
 * ```
 */
export function bootstrapRatios(stats: readonly RatioStat[], opts: BootstrapOptions): [number, number][] {
  const { resamples, level, rng } = opts;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`Cannot bootstrap: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`Cannot bootstrap: level must be in (0, 1), got ${level}`);
  if (stats.length === 0) return [];
  const n = stats[0].num.length;
  for (const [i, s] of stats.entries()) {
    if (s.num.length !== n || s.den.length !== n) {
      throw new RangeError(
        `Cannot bootstrap: statistic ${i} has ${s.num.length} numerators and ${s.den.length} denominators, expected ${n}`,
      );
    }
  }
  if (n === 0) return stats.map(() => [NaN, NaN]);
  const draws = stats.map(() => new Float64Array(resamples));
  const used = new Int32Array(stats.length);
  const counts = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[rng.int(n)]++;
    for (let j = 0; j < stats.length; j++) {
      const { num, den } = stats[j];
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        const c = counts[i];
        if (c === 0) continue;
        a += c * num[i];
        b += c * den[i];
      }
      if (b !== 0) draws[j][used[j]++] = a / b;
    }
  }
  const tail = (1 - level) / 2;
  return draws.map((d, j) => {
    if (used[j] === 0) return [NaN, NaN];
    const sorted = d.subarray(0, used[j]).sort();
    return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
  });
}

/** Percentile-bootstrap intervals of two paired samples' means and of their difference. */
export interface PairedIntervals {
  /** The interval of mean(a). */
  a: [number, number];
  /** The interval of mean(b). */
  b: [number, number];
  /** The interval of mean(b) − mean(a), from the same resamples of the pairs (a[i], b[i]). */
  diff: [number, number];
}

/**
 * The percentile-bootstrap interval of the mean of `x` (each resample draws n items with replacement).
 *
 * @example
 * ```ts
 * import { Rng } from "../random/mod.ts";
 * import { meanInterval } from "./bootstrap.ts";
 * const [lo, hi] = meanInterval([0, 1, 1, 0, 1], { resamples: 500, level: 0.9, rng: Rng.fromSeed(0) });
 * lo <= 0.6 && 0.6 <= hi; // true
 * ```
 */
export function meanInterval(x: ArrayLike<number>, opts: BootstrapOptions): [number, number] {
  return bootstrapRatios([{ num: x, den: Array.from(x, () => 1) }], opts)[0];
}

/**
 * Percentile-bootstrap intervals over n paired items (item i is scored `a[i]` by one method and `b[i]` by
 * the other): each resample draws n items with replacement and computes mean(a), mean(b) and their
 * difference on the same draw, so the difference's interval keeps the pairing (items both methods solve, or
 * both miss, do not widen it).
 *
 * @example
 * ```ts
 * import { Rng } from "../random/mod.ts";
 * import { pairedMeanIntervals } from "./bootstrap.ts";
 * const { diff } = pairedMeanIntervals([0, 1, 0, 0], [1, 1, 0, 1], { resamples: 500, level: 0.9, rng: Rng.fromSeed(0) });
 * diff[0] >= 0; // true: b is never below a
 * ```
 */
export function pairedMeanIntervals(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: BootstrapOptions,
): PairedIntervals {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot bootstrap a paired difference: ${a.length} items against ${b.length}`);
  }
  const ones = Array.from(a, () => 1);
  const diff = Array.from(a, (v, i) => b[i] - v);
  const [ia, ib, id] = bootstrapRatios([{ num: a, den: ones }, { num: b, den: ones }, { num: diff, den: ones }], opts);
  return { a: ia, b: ib, diff: id };
}
