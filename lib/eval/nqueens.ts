/**
 * N-Queens evaluation (paper section 5.1): exact match against the generated label, valid completion
 * (8 non-attacking queens keeping every given queen) and the exact-match ceiling (mean of 1/k, k = the
 * number of valid completions of the input), overall and per Q = number of queens given in the input.
 * The per-board rules are lib/data's; this file only aggregates them, batch by batch.
 *
 * The result does not depend on how the stream is cut into batches, nor on the order of the rows: counts
 * are integers, and the ceiling is summed from a histogram of k in ascending order.
 *
 * @module
 */
import { countCompletions, countQueens, isExact, isValidCompletion, NQ_SEQ_LEN } from "../data/mod.ts";

/** One batch of boards, 64 tokens each, row-major: [B * 64]. */
export interface NQueensBatch {
  /** The boards given to the model (queens given, the rest empty). */
  inputs: Uint8Array | Int32Array;
  /** The generated solutions. */
  labels: Uint8Array | Int32Array;
  /** The model's predicted boards. */
  preds: Uint8Array | Int32Array;
}

/** Metrics of one group of boards (all, or one Q); rates in [0, 1], null when the group is empty. */
export interface NQueensGroupMetrics {
  /** Boards in the group. */
  count: number;
  /** Boards predicted exactly as their label. */
  exactCount: number;
  /** Boards predicted as a valid completion of their input (not necessarily the label). */
  validCount: number;
  /** exactCount / count. */
  exact: number | null;
  /** validCount / count. */
  valid: number | null;
  /** Mean of 1/k over the group's inputs (an input with no completion counts 0). */
  ceiling: number | null;
  /** Fraction of inputs whose completion is unique (k = 1). */
  unique: number | null;
}

/** What {@linkcode NQueensAccumulator.result} returns. */
export interface NQueensMetrics {
  /** Every board evaluated. */
  overall: NQueensGroupMetrics;
  /** One entry per Q seen, ascending. */
  byQ: ({ q: number } & NQueensGroupMetrics)[];
}

interface Tally {
  count: number;
  exactCount: number;
  validCount: number;
  /** kHist[k] = inputs with k completions (k = 0..92). */
  kHist: number[];
}

function emptyTally(): Tally {
  return { count: 0, exactCount: 0, validCount: 0, kHist: [] };
}

function metricsOf(t: Tally): NQueensGroupMetrics {
  let inv = 0;
  for (let k = 1; k < t.kHist.length; k++) if (t.kHist[k]) inv += t.kHist[k] / k;
  const n = t.count;
  return {
    count: n,
    exactCount: t.exactCount,
    validCount: t.validCount,
    exact: n === 0 ? null : t.exactCount / n,
    valid: n === 0 ? null : t.validCount / n,
    ceiling: n === 0 ? null : inv / n,
    unique: n === 0 ? null : (t.kHist[1] ?? 0) / n,
  };
}

function merge(into: Tally, t: Tally): void {
  into.count += t.count;
  into.exactCount += t.exactCount;
  into.validCount += t.validCount;
  t.kHist.forEach((v, k) => into.kHist[k] = (into.kHist[k] ?? 0) + v);
}

/**
 * Accumulates N-Queens metrics over batches of (inputs, labels, preds).
 *
 * @example
 * ```ts
 * import { NQueensAccumulator } from "./nqueens.ts";
 * import { generateNQueens } from "../data/mod.ts";
 * const e = generateNQueens("paper", 0).test[0];
 * const acc = new NQueensAccumulator();
 * acc.add({ inputs: e.input, labels: e.label, preds: e.label });
 * acc.result().overall.exact; // 1
 * ```
 */
export class NQueensAccumulator {
  #byQ = new Map<number, Tally>();
  /** Completions per distinct input: the test set repeats its inputs at every evaluation. */
  #kCache = new Map<string, number>();

  /** Adds one batch. Throws RangeError when the three arrays are not the same whole number of boards. */
  add(batch: NQueensBatch): void {
    const { inputs, labels, preds } = batch;
    if (inputs.length % NQ_SEQ_LEN !== 0 || labels.length !== inputs.length || preds.length !== inputs.length) {
      throw new RangeError(
        `Cannot add an N-Queens batch: inputs, labels and preds must hold the same number of ${NQ_SEQ_LEN}-token ` +
          `boards, got ${inputs.length}, ${labels.length} and ${preds.length} tokens`,
      );
    }
    for (let at = 0; at < inputs.length; at += NQ_SEQ_LEN) {
      const input = inputs.subarray(at, at + NQ_SEQ_LEN);
      const label = labels.subarray(at, at + NQ_SEQ_LEN);
      const pred = preds.subarray(at, at + NQ_SEQ_LEN);
      const q = countQueens(input);
      let t = this.#byQ.get(q);
      if (!t) this.#byQ.set(q, t = emptyTally());
      t.count++;
      if (isExact(pred, label)) t.exactCount++;
      if (isValidCompletion(input, pred)) t.validCount++;
      const key = String.fromCharCode(...input);
      let k = this.#kCache.get(key);
      if (k === undefined) this.#kCache.set(key, k = countCompletions(input));
      t.kHist[k] = (t.kHist[k] ?? 0) + 1;
    }
  }

  /** The metrics so far; may be called at any time, changes nothing. */
  result(): NQueensMetrics {
    const overall = emptyTally();
    const qs = [...this.#byQ.keys()].sort((a, b) => a - b);
    for (const q of qs) merge(overall, this.#byQ.get(q)!);
    return {
      overall: metricsOf(overall),
      byQ: qs.map((q) => ({ q, ...metricsOf(this.#byQ.get(q)!) })),
    };
  }
}
