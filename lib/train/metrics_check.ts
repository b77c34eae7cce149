/**
 * What a run's metrics.jsonl must hold up to a step: a "train" record at every logged step and an "eval"
 * record at every evaluation, as the loop writes them before the checkpoint of that step. A resumed run
 * reads its earlier figures (the evaluation curve, the last training window) back from the log, and a
 * checkpoint does not hold them, so a log that was deleted, emptied or cut short is refused rather than
 * resumed into results that silently lack those points.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { MetricRecord } from "../report/mod.ts";
import type { TrainConfig } from "./config.ts";

/** The steps of the "train" and "eval" records a run of `total` steps has written by step `upTo`. */
export function expectedMetricSteps(
  cfg: Pick<TrainConfig, "train" | "eval">,
  upTo: number,
  total: number,
): { train: number[]; eval: number[] } {
  const t = cfg.train;
  const train: number[] = [];
  const evals: number[] = [];
  for (let s = 1; s <= Math.min(upTo, total); s++) {
    if (s % t.log_interval === 0 || s === total) train.push(s);
    if (s === total ? cfg.eval.at_end : t.eval_interval > 0 && s % t.eval_interval === 0) evals.push(s);
  }
  return { train, eval: evals };
}

function describe(kind: string, expected: number[], found: number[]): string | null {
  const have = new Set(found);
  const missing = expected.filter((s) => !have.has(s));
  const want = new Set(expected);
  const extra = found.filter((s) => !want.has(s));
  if (missing.length === 0 && extra.length === 0 && found.length === expected.length) return null;
  const list = (xs: number[]) => xs.slice(0, 5).join(", ") + (xs.length > 5 ? `, ... (${xs.length} in all)` : "");
  const parts = [`${found.length} "${kind}" record(s), expected ${expected.length}`];
  if (missing.length > 0) parts.push(`missing step(s) ${list(missing)}`);
  if (extra.length > 0) parts.push(`unexpected step(s) ${list(extra)}`);
  if (missing.length === 0 && extra.length === 0) parts.push("some steps repeat");
  return parts.join(", ");
}

/**
 * Throws an InputError naming `file` when `records` (those up to step `upTo`) are not the ones the loop
 * writes by then ({@linkcode expectedMetricSteps}).
 *
 * @example
 * ```ts
 * import { checkLoggedMetrics } from "./metrics_check.ts";
 * const cfg = { train: { log_interval: 2, eval_interval: 0 }, eval: { at_end: true } };
 * // deno-lint-ignore no-explicit-any
 * checkLoggedMetrics([{ step: 2, kind: "train" }], cfg as any, 2, 4, "run/metrics.jsonl", "resume"); // passes
 * ```
 */
export function checkLoggedMetrics(
  records: readonly MetricRecord[],
  cfg: Pick<TrainConfig, "train" | "eval">,
  upTo: number,
  total: number,
  file: string,
  action: string,
): void {
  const expected = expectedMetricSteps(cfg, upTo, total);
  const found = (kind: string) => records.filter((r) => r.kind === kind && r.step <= upTo).map((r) => r.step);
  const problems = [
    describe("train", expected.train, found("train")),
    describe("eval", expected.eval, found("eval")),
  ].filter((p) => p !== null);
  if (problems.length === 0) return;
  throw new InputError(
    `Cannot ${action}: "${file}" does not hold the metrics up to step ${upTo} (${problems.join("; ")}; a ` +
      `"train" record every ${cfg.train.log_interval} steps and at the last, an "eval" one at each ` +
      "evaluation). It was deleted, emptied or cut short, and the checkpoint cannot rebuild the figures it " +
      "held: put the file back, or start the run over (another --out folder, or --force under reproduce)",
  );
}
