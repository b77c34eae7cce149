/**
 * The progress callback that long-running lib code takes. lib/ never prints: it reports through this,
 * and the CLI renders it (a bar on a terminal, periodic lines otherwise).
 *
 * @module
 */

/** One progress report. */
export interface Progress {
  /** Units done so far (steps, batches, tasks). */
  done: number;
  /** Units in all; 0 when unknown. */
  total: number;
  /** What is being done, e.g. `"train"` or `"eval"`. */
  label?: string;
  /** Free-form current values, e.g. `{ loss: 0.41, acc: 0.62 }`. */
  fields?: Record<string, number | string>;
}

/**
 * A progress callback.
 *
 * @example
 * ```ts
 * import type { ProgressFn } from "./progress.ts";
 * function work(n: number, onProgress?: ProgressFn): void {
 *   for (let i = 1; i <= n; i++) onProgress?.({ done: i, total: n, fields: { loss: 1 / i } });
 * }
 * work(3);
 * ```
 */
export type ProgressFn = (p: Progress) => void;
