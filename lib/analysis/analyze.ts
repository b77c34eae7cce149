/**
 * Policy-improvement diagnostics of a trained TRM or DIS model (paper section 3) over a split: for every
 * supervision step, and for every answer update inside it, the advantage margin of eq. 18 for each
 * weight w, the fraction of tokens with a positive margin, dL/dw at w = 0 and 1, token and exact
 * accuracy and cross-entropy of pi_hat (before) and pi_plus (after), overall, per ground-truth token class
 * and, for N-Queens, per number of given queens; a bootstrap over examples marks the steps that improve
 * neither cross-entropy nor accuracy beyond noise ("dead compute"); and guided decoding for a sweep of w.
 *
 * The "whole step" pair of step s is (y at the start of step s, y at its end): with T = 1 (DIS) it is the
 * step's single answer update; with T > 1 (TRM) the per-update rows are reported as well. y* is the final
 * label at every step (also for DIS, whose training targets are intermediate), and positions whose label
 * is IGNORE_LABEL (-100) are left out.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Tensor, tf } from "../backend/mod.ts";
import { type Batch, countQueens, isValidCompletion, numExamples, testBatches } from "../data/mod.ts";
import type { PuzzleSplit } from "../data/mod.ts";
import { forwardPasses, type MethodConfig, predict, type RecursiveModel } from "../model/mod.ts";
import { stream } from "../random/mod.ts";
import type { ProgressFn } from "../report/mod.ts";
import { bootstrapRatios, type RatioStat } from "./bootstrap.ts";
import { MARGIN_EPS, policyStats, statLayout } from "./policy.ts";

/** Format version of {@linkcode AnalysisResult}; bump it when the layout or a definition changes. */
export const ANALYSIS_FORMAT = 1;
/** Weights w of the margins and of the guidance sweep unless told otherwise. */
export const DEFAULT_WEIGHTS: readonly number[] = Object.freeze([0, 0.5, 1, 1.5, 2]);
/** Bootstrap resamples unless told otherwise. */
export const DEFAULT_RESAMPLES = 1000;
/** Central coverage of the bootstrap intervals unless told otherwise. */
export const DEFAULT_LEVEL = 0.95;

/** What the data is: it names the token classes and adds the per-given-queens rows for N-Queens. */
export type AnalysisKind = "nqueens" | "arc" | "generic";

/** Options of {@linkcode analyzeModel} and {@linkcode analyzeBatches}. */
export interface AnalysisOptions {
  /** Token-class names and N-Queens groups (default `generic`: classes are `token <id>`). */
  kind?: AnalysisKind;
  /** Weights of the margins (default {@linkcode DEFAULT_WEIGHTS}); 0 and 1 are always added. */
  weights?: readonly number[];
  /** Weights of the guided-decoding sweep (default: `weights`); 1 (ordinary inference) is always added. */
  guidance?: readonly number[];
  /** Rows per forward batch (default 64). */
  batchSize?: number;
  /** Analyse only the first `limit` examples of the split (default: all). */
  limit?: number;
  /** Master seed of the bootstrap stream `analysis/bootstrap` (default 0). */
  seed?: number;
  /** Bootstrap resamples (default {@linkcode DEFAULT_RESAMPLES}). */
  resamples?: number;
  /** Bootstrap interval coverage (default {@linkcode DEFAULT_LEVEL}). */
  level?: number;
  /** Called after every batch. */
  onProgress?: ProgressFn;
}

/** An interval `[low, high]`. */
export type Interval = [number, number];

/** Bootstrap intervals of a step's improvements (after minus before), overall rows only. */
export interface StepIntervals {
  /** Cross-entropy drop, CE(pi_hat) - CE(pi_plus). */
  ceDrop: Interval;
  /** Token accuracy gain of pi_plus over pi_hat. */
  tokenAccGain: Interval;
  /** Exact accuracy gain of pi_plus over pi_hat. */
  exactGain: Interval;
  /** The margin at each weight. */
  margin: Interval[];
}

/** One row of the diagnostics: one pair of policies, over one group of tokens. */
export interface PolicyRow {
  /** Supervision step, 1-based. */
  step: number;
  /** Answer update within the step (0-based), or null for the whole step. */
  cycle: number | null;
  /** `all`, a token class (`empty`, `queen`, `eos`, `colour`, `token <id>`) or `Q=<given queens>`. */
  group: string;
  /** Examples with at least one supervised token in the group. */
  examples: number;
  /** Supervised tokens in the group. */
  tokens: number;
  /** Mean advantage margin A(y*) - E_{pi_w}[A] over tokens, one per entry of `weights`. */
  margin: number[];
  /** Fraction of tokens whose margin exceeds MARGIN_EPS, one per entry of `weights`. */
  positive: number[];
  /** Mean dL/dw at w = 0 (= -margin at 0): negative means trusting the step lowers the loss. */
  dLdw0: number;
  /** Mean dL/dw at w = 1. */
  dLdw1: number;
  /** Mean cross-entropy -log pi_hat(y*) per supervised token, before the update (nats). */
  ceBefore: number;
  /** Mean cross-entropy -log pi_plus(y*) per supervised token, after the update (nats). */
  ceAfter: number;
  /** Fraction of supervised tokens whose argmax under pi_hat is y*. */
  tokenAccBefore: number;
  /** Fraction of supervised tokens whose argmax under pi_plus is y*. */
  tokenAccAfter: number;
  /** Fraction of examples whose every supervised token is right; null for token-class rows. */
  exactBefore: number | null;
  /** As `exactBefore`, under pi_plus; null for token-class rows. */
  exactAfter: number | null;
  /** Overall rows only. */
  intervals?: StepIntervals;
  /** Overall rows only: no interval of ceDrop, tokenAccGain, exactGain lies above 0. */
  dead?: boolean;
}

/** Guided decoding at one weight. */
export interface GuidanceRow {
  /** The weight: pi_w = softmax((1 - w) logits_before + w logits_after); 1 is ordinary inference. */
  w: number;
  /** Per supervision step (index s - 1), against the final label. */
  tokenAcc: number[];
  /** Fraction of examples all of whose supervised tokens are right, per supervision step (index s - 1). */
  exact: number[];
  /** N-Queens: valid completions per step; null otherwise. */
  valid: number[] | null;
  /** Paired bootstrap intervals of the last step's gain over w = 1 (ordinary inference). */
  exactGain: Interval;
  /** Interval of the token-accuracy gain at the last step over w = 1. */
  tokenAccGain: Interval;
  /** Interval of the valid-completion gain at the last step over w = 1; null when not N-Queens. */
  validGain: Interval | null;
}

/** What {@linkcode analyzeModel} returns: plain JSON, for results.json and the report. */
export interface AnalysisResult {
  /** Layout version, {@linkcode ANALYSIS_FORMAT} when written. */
  format: number;
  /** The training method of the analysed model. */
  method: "trm" | "dis";
  /**
   * The model's recursion: N_sup, T (hCycles), n (lCycles), whether each step's argmax is the next step's input,
   * and network applications per sample.
   */
  recursion: { nSup: number; hCycles: number; lCycles: number; autoregressive: boolean; forwardPasses: number };
  /** What the data was, which names the token classes. */
  kind: AnalysisKind;
  /** Examples analysed (those with at least one supervised token). */
  examples: number;
  /** Supervised tokens over all analysed examples. */
  tokens: number;
  /** SHA-256 of the analysed examples (inputs, labels, puzzle ids as int32 little-endian), in order. */
  dataHash: string;
  /** The margin weights, ascending (0 and 1 included). */
  weights: number[];
  /** Threshold above which a token's margin counts as positive ({@linkcode MARGIN_EPS}). */
  marginEps: number;
  /** How the intervals were drawn: resamples, coverage, master seed and the name of the random stream. */
  bootstrap: { resamples: number; level: number; seed: number; stream: string };
  /** Whole-step rows, one per step. */
  steps: PolicyRow[];
  /** Per answer update, one per (step, cycle); empty when T = 1 (they equal `steps`). */
  updates: PolicyRow[];
  /** Whole-step rows per ground-truth token class, by step then class. */
  byClass: PolicyRow[];
  /** N-Queens: whole-step rows per number of given queens, by step then Q; empty otherwise. */
  byGiven: PolicyRow[];
  /** Steps flagged dead compute. */
  deadSteps: number[];
  /** Guided decoding, ascending w (1 included). */
  guidance: GuidanceRow[];
}

/**
 * Name of a ground-truth token's class. N-Queens: `empty` (1), `queen` (2); ARC: `eos` (1), `colour`
 * (2..11); PAD (0) is `pad`, though neither dataset supervises it; anything else is `token <id>`.
 *
 * @example
 * ```ts
 * import { tokenClass } from "./analyze.ts";
 * tokenClass("arc", 5); // "colour"
 * ```
 */
export function tokenClass(kind: AnalysisKind, token: number): string {
  if (kind === "nqueens") return ["pad", "empty", "queen"][token] ?? `token ${token}`;
  if (kind === "arc") return token === 0 ? "pad" : token === 1 ? "eos" : token <= 11 ? "colour" : `token ${token}`;
  return `token ${token}`;
}

/** Token id to class index, and the class names in order of their smallest token id. */
interface ClassMap {
  of: number[];
  names: string[];
}

function classMap(kind: AnalysisKind, v: number): ClassMap {
  const names: string[] = [];
  const of = Array.from({ length: v }, (_, t) => {
    const name = tokenClass(kind, t);
    if (!names.includes(name)) names.push(name);
    return names.indexOf(name);
  });
  return { of, names };
}

function sortedWeights(ws: readonly number[], must: number[], what: string): number[] {
  for (const w of ws) {
    if (!Number.isFinite(w)) throw new RangeError(`Cannot analyse: ${what} weight ${w} is not a finite number`);
  }
  return [...new Set([...ws, ...must])].sort((a, b) => a - b);
}

/** Sums of one group: K statistics plus example tallies. */
class Tally {
  sums: Float64Array;
  examples = 0;
  exactBefore = 0;
  exactAfter = 0;
  constructor(k: number) {
    this.sums = new Float64Array(k);
  }
}

/** Everything kept for one pair of policies (a whole step or one update). */
class PairAcc {
  readonly step: number;
  readonly cycle: number | null;
  overall: Tally;
  /** Per example: K sums over its tokens, appended in example order. */
  perExample: number[][] = [];
  /** One per class name, in the order of {@linkcode ClassMap.names}. */
  classes: Tally[];
  given = new Map<number, Tally>();
  constructor(step: number, cycle: number | null, k: number, nClasses: number) {
    this.step = step;
    this.cycle = cycle;
    this.overall = new Tally(k);
    this.classes = Array.from({ length: nClasses }, () => new Tally(k));
  }
}

/** Guided-decoding tallies at one weight. */
class GuideAcc {
  correct: Float64Array;
  exact: Float64Array;
  valid: Float64Array;
  /** Per example, last step: correct tokens, exact, valid. */
  lastCorrect: number[] = [];
  lastExact: number[] = [];
  lastValid: number[] = [];
  constructor(nSup: number) {
    this.correct = new Float64Array(nSup);
    this.exact = new Float64Array(nSup);
    this.valid = new Float64Array(nSup);
  }
}

/**
 * Analyses a model on the first `limit` examples of a split, in TRM's test order.
 *
 * @example
 * ```ts ignore
 * const r = await analyzeModel(model, method, nqueensSplit(set, "test"), { kind: "nqueens", limit: 200 });
 * r.steps.map((s) => s.margin[r.weights.indexOf(1)]); // mean margin at w = 1, per step
 * r.deadSteps; // e.g. [5, 6]
 * ```
 */
export async function analyzeModel(
  model: RecursiveModel,
  method: MethodConfig,
  split: PuzzleSplit,
  opts: AnalysisOptions = {},
): Promise<AnalysisResult> {
  const batchSize = opts.batchSize ?? 64;
  const total = Math.min(numExamples(split), opts.limit ?? Infinity);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1)) {
    throw new RangeError(`Cannot analyse: limit must be a positive integer, got ${opts.limit}`);
  }
  if (split.seqLen !== model.config.seqLen) {
    throw new RangeError(
      `Cannot analyse: the split has sequences of ${split.seqLen} tokens, the model expects ${model.config.seqLen}`,
    );
  }
  function* limited(): Generator<Batch> {
    let done = 0;
    for (const b of testBatches(split, batchSize)) {
      if (done >= total) return;
      const size = Math.min(b.size, total - done);
      done += size;
      yield { ...b, size };
    }
  }
  return await analyzeBatches(model, method, limited(), { ...opts, total });
}

/**
 * Analyses a model on a stream of batches (rows past each batch's `size` are ignored). Each batch is
 * run once with the recursion hooks and once per guidance weight other than 1; `total` (examples) only
 * feeds the progress callback.
 *
 * @example
 * ```ts ignore
 * const r = await analyzeBatches(model, method, testBatches(split, 64), { kind: "arc", guidance: [] });
 * r.byClass.filter((row) => row.group === "eos").map((row) => row.margin);
 * ```
 */
export async function analyzeBatches(
  model: RecursiveModel,
  method: MethodConfig,
  batches: Iterable<Batch>,
  opts: AnalysisOptions & { total?: number } = {},
): Promise<AnalysisResult> {
  const kind = opts.kind ?? "generic";
  const weights = sortedWeights(opts.weights ?? DEFAULT_WEIGHTS, [0, 1], "margin");
  const guideWeights = sortedWeights(opts.guidance ?? opts.weights ?? DEFAULT_WEIGHTS, [1], "guidance");
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const level = opts.level ?? DEFAULT_LEVEL;
  const seed = opts.seed ?? 0;
  const L = model.config.seqLen;
  const V = model.config.vocabSize;
  const lay = statLayout(weights.length);
  const K = lay.width;
  const T = method.hCycles;
  const nSup = method.nSup;
  if (kind === "nqueens" && L !== 64) {
    throw new RangeError(`Cannot analyse N-Queens: sequences have ${L} tokens, not 64`);
  }

  const classes = classMap(kind, V);
  const C = classes.names.length;
  const steps = Array.from({ length: nSup }, (_, s) => new PairAcc(s + 1, null, K, C));
  const updates = T > 1
    ? Array.from({ length: nSup * T }, (_, i) => new PairAcc(Math.floor(i / T) + 1, i % T, K, C))
    : [];
  const guides = new Map(guideWeights.map((w) => [w, new GuideAcc(nSup)]));
  const hash = createHash("sha256");
  let examples = 0;
  let tokens = 0;
  let seen = 0;

  for (const batch of batches) {
    const B = batch.puzzleIds.length;
    if (batch.inputs.length !== B * L || batch.labels.length !== B * L) {
      throw new RangeError(`Cannot analyse a batch: expected ${B} x ${L} inputs and labels`);
    }
    const labelsT = tf.tensor2d(batch.labels, [B, L], "int32");
    const kept: { acc: PairAcc; t: Tensor }[] = [];
    let start: Tensor | undefined;
    let stepPreds: Int32Array[];
    try {
      const p = await predict(model, method, batch, {
        keepSteps: true,
        hooks: {
          onYUpdate: ({ step, cycle, before, after }) => {
            if (T > 1) {
              kept.push({
                acc: updates[(step - 1) * T + cycle],
                t: tf.keep(policyStats(before, after, labelsT, weights)),
              });
            }
            // The whole step's pair starts from the first update's "before".
            if (cycle === 0 && T > 1) start = tf.keep(before.clone());
            if (cycle === T - 1) {
              const from = T === 1 ? before : start!;
              kept.push({ acc: steps[step - 1], t: tf.keep(policyStats(from, after, labelsT, weights)) });
              start?.dispose();
              start = undefined;
            }
          },
        },
      });
      stepPreds = p.stepPreds!;
      const stats: Float32Array[] = [];
      for (const k of kept) stats.push((await k.t.data()) as Float32Array);
      const rows: number[] = [];
      for (let b = 0; b < batch.size; b++) {
        let count = 0;
        for (let i = b * L; i < (b + 1) * L; i++) if (batch.labels[i] >= 0 && batch.labels[i] < V) count++;
        if (count > 0) rows.push(b);
      }
      const given = kind === "nqueens" ? rows.map((b) => countQueens(batch.inputs.subarray(b * L, (b + 1) * L))) : [];
      kept.forEach(({ acc }, j) => addStats(acc, stats[j], rows, given, classes.of, K, lay));
      for (const b of rows) {
        hash.update(bytes(batch.inputs.subarray(b * L, (b + 1) * L)));
        hash.update(bytes(batch.labels.subarray(b * L, (b + 1) * L)));
        hash.update(bytes(batch.puzzleIds.subarray(b, b + 1)));
        for (let i = b * L; i < (b + 1) * L; i++) if (batch.labels[i] >= 0 && batch.labels[i] < V) tokens++;
      }
      examples += rows.length;
      addGuided(guides.get(1)!, stepPreds, batch, rows, kind, L, V);
      for (const w of guideWeights) {
        if (w === 1) continue;
        const g = await predict(model, method, batch, { keepSteps: true, guidance: { w } });
        addGuided(guides.get(w)!, g.stepPreds!, batch, rows, kind, L, V);
      }
    } finally {
      labelsT.dispose();
      (start as Tensor | undefined)?.dispose();
      for (const k of kept) k.t.dispose();
    }
    seen += batch.size;
    opts.onProgress?.({ done: seen, total: opts.total ?? 0, label: "analyze" });
  }
  if (examples === 0) throw new RangeError("Cannot analyse: no example has a supervised token");

  const boot = bootstrapAll(steps, updates, guides, lay, weights.length, kind, {
    resamples,
    level,
    seed,
  });
  const stepRows = steps.map((a, i) => ({ ...rowOf(a.overall, a, "all", lay, weights, true), ...boot.steps[i] }));
  const updateRows = updates.map((a, i) => ({ ...rowOf(a.overall, a, "all", lay, weights, true), ...boot.updates[i] }));
  const byClass: PolicyRow[] = [];
  const byGiven: PolicyRow[] = [];
  for (const a of steps) {
    a.classes.forEach((t, c) => {
      if (t.sums[lay.count] > 0) byClass.push(rowOf(t, a, classes.names[c], lay, weights, false));
    });
    for (const q of [...a.given.keys()].sort((x, y) => x - y)) {
      byGiven.push(rowOf(a.given.get(q)!, a, `Q=${q}`, lay, weights, true));
    }
  }
  return {
    format: ANALYSIS_FORMAT,
    method: method.method,
    recursion: {
      nSup,
      hCycles: T,
      lCycles: method.lCycles,
      autoregressive: method.method === "dis" && method.autoregressive,
      forwardPasses: forwardPasses(method).perSampleInference,
    },
    kind,
    examples,
    tokens,
    dataHash: hash.digest("hex"),
    weights,
    marginEps: MARGIN_EPS,
    bootstrap: { resamples, level, seed, stream: BOOTSTRAP_STREAM },
    steps: stepRows,
    updates: updateRows,
    byClass,
    byGiven,
    deadSteps: stepRows.filter((r) => r.dead).map((r) => r.step),
    guidance: guideWeights.map((w, i) => guidanceRow(w, guides.get(w)!, examples, tokens, kind, boot.guidance[i])),
  };
}

/** Name of the random stream the bootstrap draws from. */
export const BOOTSTRAP_STREAM = "analysis/bootstrap";

function bytes(a: Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function addStats(
  acc: PairAcc,
  data: Float32Array,
  rows: number[],
  given: number[],
  classOf: number[],
  K: number,
  lay: ReturnType<typeof statLayout>,
): void {
  const V = classOf.length;
  rows.forEach((b, r) => {
    const ex = new Array<number>(K).fill(0);
    const inClass = new Set<number>();
    for (let v = 0; v < V; v++) {
      const base = (b * V + v) * K;
      const cls = acc.classes[classOf[v]];
      if (data[base + lay.count] > 0) inClass.add(classOf[v]);
      for (let k = 0; k < K; k++) {
        ex[k] += data[base + k];
        cls.sums[k] += data[base + k];
      }
    }
    for (const c of inClass) acc.classes[c].examples++;
    acc.perExample.push(ex);
    const exB = ex[lay.correctBefore] === ex[lay.count] ? 1 : 0;
    const exA = ex[lay.correctAfter] === ex[lay.count] ? 1 : 0;
    const targets = [acc.overall];
    if (given.length > 0) {
      let t = acc.given.get(given[r]);
      if (!t) acc.given.set(given[r], t = new Tally(K));
      targets.push(t);
    }
    for (const t of targets) {
      for (let k = 0; k < K; k++) t.sums[k] += ex[k];
      t.examples++;
      t.exactBefore += exB;
      t.exactAfter += exA;
    }
  });
}

function addGuided(
  g: GuideAcc,
  stepPreds: Int32Array[],
  batch: Batch,
  rows: number[],
  kind: AnalysisKind,
  L: number,
  V: number,
): void {
  stepPreds.forEach((preds, s) => {
    const last = s === stepPreds.length - 1;
    for (const b of rows) {
      let right = 0;
      let count = 0;
      for (let i = b * L; i < (b + 1) * L; i++) {
        const y = batch.labels[i];
        if (y < 0 || y >= V) continue;
        count++;
        if (preds[i] === y) right++;
      }
      const exact = right === count ? 1 : 0;
      const valid = kind === "nqueens" &&
          isValidCompletion(batch.inputs.subarray(b * L, (b + 1) * L), preds.subarray(b * L, (b + 1) * L))
        ? 1
        : 0;
      g.correct[s] += right;
      g.exact[s] += exact;
      g.valid[s] += valid;
      if (last) {
        g.lastCorrect.push(right);
        g.lastExact.push(exact);
        g.lastValid.push(valid);
      }
    }
  });
}

function rowOf(
  t: Tally,
  a: PairAcc,
  group: string,
  lay: ReturnType<typeof statLayout>,
  weights: number[],
  exact: boolean,
): PolicyRow {
  const n = t.sums[lay.count];
  const mean = (k: number) => t.sums[k] / n;
  const margin = weights.map((_, i) => mean(lay.margin + i));
  return {
    step: a.step,
    cycle: a.cycle,
    group,
    examples: t.examples,
    tokens: n,
    margin,
    positive: weights.map((_, i) => mean(lay.positive + i)),
    dLdw0: -margin[weights.indexOf(0)],
    dLdw1: -margin[weights.indexOf(1)],
    ceBefore: mean(lay.ceBefore),
    ceAfter: mean(lay.ceAfter),
    tokenAccBefore: mean(lay.correctBefore),
    tokenAccAfter: mean(lay.correctAfter),
    exactBefore: exact ? t.exactBefore / t.examples : null,
    exactAfter: exact ? t.exactAfter / t.examples : null,
  };
}

function guidanceRow(
  w: number,
  g: GuideAcc,
  examples: number,
  tokens: number,
  kind: AnalysisKind,
  gains: { exactGain: Interval; tokenAccGain: Interval; validGain: Interval | null },
): GuidanceRow {
  return {
    w,
    tokenAcc: Array.from(g.correct, (c) => c / tokens),
    exact: Array.from(g.exact, (c) => c / examples),
    valid: kind === "nqueens" ? Array.from(g.valid, (c) => c / examples) : null,
    ...gains,
  };
}

function bootstrapAll(
  steps: PairAcc[],
  updates: PairAcc[],
  guides: Map<number, GuideAcc>,
  lay: ReturnType<typeof statLayout>,
  nWeights: number,
  kind: AnalysisKind,
  opts: { resamples: number; level: number; seed: number },
): {
  steps: { intervals: StepIntervals; dead: boolean }[];
  updates: { intervals: StepIntervals; dead: boolean }[];
  guidance: { exactGain: Interval; tokenAccGain: Interval; validGain: Interval | null }[];
} {
  const stats: RatioStat[] = [];
  const pairStats = (a: PairAcc) => {
    const col = (f: (e: number[]) => number) => a.perExample.map(f);
    const tokens = col((e) => e[lay.count]);
    const ones = tokens.map(() => 1);
    const exact = (k: number) => (e: number[]) => e[k] === e[lay.count] ? 1 : 0;
    const at = stats.length;
    stats.push(
      { num: col((e) => e[lay.ceBefore] - e[lay.ceAfter]), den: tokens },
      { num: col((e) => e[lay.correctAfter] - e[lay.correctBefore]), den: tokens },
      { num: col((e) => exact(lay.correctAfter)(e) - exact(lay.correctBefore)(e)), den: ones },
    );
    for (let i = 0; i < nWeights; i++) stats.push({ num: col((e) => e[lay.margin + i]), den: tokens });
    return at;
  };
  const stepAt = steps.map(pairStats);
  const updateAt = updates.map(pairStats);
  const base = guides.get(1)!;
  const tokensPer = steps[0].perExample.map((e) => e[lay.count]);
  const ones = tokensPer.map(() => 1);
  const guideAt = [...guides.entries()].map(([w, g]) => {
    if (w === 1) return -1;
    const at = stats.length;
    const diff = (x: number[], y: number[]) => x.map((v, i) => v - y[i]);
    stats.push(
      { num: diff(g.lastExact, base.lastExact), den: ones },
      { num: diff(g.lastCorrect, base.lastCorrect), den: tokensPer },
    );
    if (kind === "nqueens") stats.push({ num: diff(g.lastValid, base.lastValid), den: ones });
    return at;
  });
  const iv = bootstrapRatios(stats, {
    resamples: opts.resamples,
    level: opts.level,
    rng: stream(opts.seed, BOOTSTRAP_STREAM),
  });
  const pairOut = (at: number) => {
    const intervals: StepIntervals = {
      ceDrop: iv[at],
      tokenAccGain: iv[at + 1],
      exactGain: iv[at + 2],
      margin: iv.slice(at + 3, at + 3 + nWeights),
    };
    const dead = !(intervals.ceDrop[0] > 0 || intervals.tokenAccGain[0] > 0 || intervals.exactGain[0] > 0);
    return { intervals, dead };
  };
  const zero: Interval = [0, 0];
  return {
    steps: stepAt.map(pairOut),
    updates: updateAt.map(pairOut),
    guidance: guideAt.map((at) =>
      at < 0
        ? { exactGain: zero, tokenAccGain: zero, validGain: kind === "nqueens" ? zero : null }
        : { exactGain: iv[at], tokenAccGain: iv[at + 1], validGain: kind === "nqueens" ? iv[at + 2] : null }
    ),
  };
}
