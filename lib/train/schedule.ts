/**
 * The learning-rate schedule of TRM and DIS (`cosine_schedule_with_warmup_lr_lambda`): linear warmup
 * from 0 over `warmupSteps`, then a half cosine from `baseLr` down to `baseLr * minRatio` at
 * `totalSteps`. `minRatio = 1` (the TRM and DIS default) gives a constant rate after warmup. The dense
 * optimiser and the puzzle-embedding sign-SGD use the same schedule, each with its own `baseLr`.
 *
 * @module
 */

/** Schedule parameters, named after TRM's config keys (lr, lr_warmup_steps, total steps, lr_min_ratio). */
export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  baseLr: number;
  /** Steps of the linear warmup from 0 (TRM's `lr_warmup_steps`). */
  warmupSteps: number;
  /** Optimiser steps of the whole run; the cosine reaches `baseLr * minRatio` there. */
  totalSteps: number;
  /** Final rate as a fraction of `baseLr` (TRM's `lr_min_ratio`; 1 = constant after warmup). */
  minRatio: number;
}

/** Checks a schedule, naming the bad field. */
export function validateSchedule(s: LrSchedule): void {
  const bad = (k: string, v: number, want: string) => {
    throw new RangeError(`Invalid learning-rate schedule: ${k} is ${v}, expected ${want}`);
  };
  if (!(Number.isFinite(s.baseLr) && s.baseLr >= 0)) bad("baseLr", s.baseLr, "a finite number >= 0");
  if (!(Number.isSafeInteger(s.warmupSteps) && s.warmupSteps >= 0)) {
    bad("warmupSteps", s.warmupSteps, "an integer >= 0");
  }
  if (!(Number.isSafeInteger(s.totalSteps) && s.totalSteps >= 0)) bad("totalSteps", s.totalSteps, "an integer >= 0");
  if (!(s.minRatio >= 0 && s.minRatio <= 1)) bad("minRatio", s.minRatio, "a number in [0, 1]");
}

/**
 * The learning rate of update number `step`, counted from 1 as TRM counts it (`train_state.step` is
 * incremented before the rate is computed, so the first update gets `baseLr / warmupSteps`). The
 * arithmetic is associated as in TRM's Python, so values agree to the last bit there. Like TRM's, the
 * cosine is not clamped past `totalSteps` (TRM stops stepping at `totalSteps`); callers stop there too.
 *
 * @example
 * ```ts
 * import { learningRate } from "./schedule.ts";
 * const s = { baseLr: 1e-4, warmupSteps: 2000, totalSteps: 100_000, minRatio: 1 };
 * learningRate(1, s); // 5e-8
 * learningRate(2000, s); // 1e-4, and 1e-4 from then on
 * ```
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.baseLr * step) / Math.max(1, s.warmupSteps);
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.baseLr * (s.minRatio + Math.max(0, (1 - s.minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress))));
}
