/**
 * The bounds that sizes from a config or the command line are checked against before anything is
 * allocated, so an absurd value is an input error (exit 2) that names the key, the bound and the memory it
 * would need, rather than "Array buffer allocation failed" or a run that never ends.
 *
 * Two kinds of bound:
 * - {@linkcode SIZE_LIMIT}: no count (a batch, a width, supervision steps) may exceed 2^24, whatever the
 *   memory; 2^24 is over 20,000 times the largest such value in the paper's settings;
 * - {@linkcode MEMORY_LIMIT_BYTES}: what a value needs that no split of the work can reduce (the
 *   parameters and their optimiser state, one example's activations, a puzzle-embedding table, an
 *   evaluation batch) must fit 128 GiB, the host memory of the largest machine this project plans for.
 *   A value under the bound may still not fit a smaller machine; one above it fits none.
 *
 * @module
 */

/** The largest count a size key may take: 2^24. */
export const SIZE_LIMIT = 2 ** 24;

/** The memory every estimate is held against: 128 GiB. */
export const MEMORY_LIMIT_BYTES = 128 * 2 ** 30;

/**
 * Bytes as a person reads them, in binary units: `512 B`, `3.0 KiB`, `1.5 GiB`, `2.4 TiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./limits.ts";
 * formatBytes(128 * 2 ** 30); // "128 GiB"
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  if (i === 0) return `${n} B`;
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
}

/**
 * The largest integer `v` in `[lo, hi]` with `need(v) <= limit`, for a `need` that grows with `v`; `lo - 1`
 * when even `lo` needs too much.
 *
 * @example
 * ```ts
 * import { largestWithin } from "./limits.ts";
 * largestWithin((v) => v * v, 1000, 1, 2 ** 24); // 31
 * ```
 */
export function largestWithin(need: (v: number) => number, limit: number, lo: number, hi: number): number {
  if (need(lo) > limit) return lo - 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (need(mid) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
