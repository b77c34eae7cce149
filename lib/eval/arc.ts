/**
 * ARC evaluation as TRM's `evaluators/arc.py` does it: crop each prediction from the top-left, undo the
 * augmentation named by its puzzle id, vote across every augmented copy of a test input, and score pass@k.
 * Also the official Kaggle scoring and `submission.json`.
 *
 * Streaming and memory: {@linkcode ArcVoter.add} consumes one batch at a time and keeps, per distinct test
 * input, only the distinct candidate grids with their vote count, sum of halting probabilities and arrival
 * order. A run over ARC-AGI-1 (about 0.4M predictions) therefore holds at most one entry per distinct
 * candidate, never one per prediction.
 *
 * Ranking (TRM's `sorted(p_map.items(), key=(count, mean q), reverse=True)`): vote count descending, then
 * mean halting probability `sigmoid(q_halt_logit)` (float64) descending, then, for exact ties, the candidate
 * first seen earlier in the stream ranks higher. That last rule is what Python's stable sort gives TRM, so
 * the ranking matches TRM's for the same prediction order; it depends on the order of the stream (not on
 * how the stream is cut into batches).
 *
 * Scores: TRM's per-task mean (each task scores the fraction of its test inputs solved; the mean is over
 * every task given to the voter, including tasks that got no prediction: the paper's convention) and the
 * official per-output mean (solved test outputs / all test outputs). They differ only on multi-test tasks.
 *
 * @module
 */
import {
  applyColors,
  ARC_MAX_SIZE,
  arcSeqLen,
  decodeGrid,
  type Grid,
  inverseDihedral,
  invertColors,
  parseAugmentName,
} from "../data/mod.ts";
import type { ProgressFn } from "../report/mod.ts";

/** One test pair of a task; `output` is the ground truth, absent for unlabelled tasks. */
export interface ArcTestPair {
  /** The test input grid. */
  input: Grid;
  /** The ground-truth output grid, when known. */
  output?: Grid;
}

/** The part of an ARC task the evaluator needs: its test pairs, in the task's order. */
export interface ArcTestTask {
  /** The task's test pairs, in the task's order. */
  test: readonly ArcTestPair[];
}

/** One batch of model outputs, row-major; B = `puzzleNames.length`. */
export interface ArcBatch {
  /** Puzzle name of each row (TRM's identifiers); rows named `"<blank>"` are batch padding and skipped. */
  puzzleNames: readonly string[];
  /** The model's input tokens, [B * G * G] on a G x G canvas (TRM: 900). */
  inputs: Uint8Array | Int32Array;
  /** Predicted tokens (argmax at the last step), [B * G * G]. */
  preds: Uint8Array | Int32Array;
  /** Halting logits, [B]. When absent every row counts as logit 0 (q = 0.5), so votes and arrival decide. */
  qHaltLogits?: ArrayLike<number>;
}

/** Options of {@linkcode ArcVoter}. */
export interface ArcVoterOptions {
  /** The k of pass@k, ascending integers >= 1. Default [1, 2, 5, 10]. */
  passKs?: readonly number[];
  /** Called after every batch with rows seen so far. */
  onProgress?: ProgressFn;
  /** Rows expected in all (the progress total); when absent the total is reported as 0 (unknown). */
  totalRows?: number;
  /** Side of the canvas the rows are laid on (default TRM's 30). */
  canvas?: number;
}

/** Why a prediction could not be attached to a test input. */
export type UnmatchedReason = "unknown-task" | "no-matching-input";

/** Result of one test input. */
export interface ArcTestResult {
  /** Predictions attached to this input (votes cast). */
  predictions: number;
  /** Distinct candidate grids among them. */
  candidates: number;
  /** 1-based rank of the ground truth among the candidates; null when absent or unlabelled. */
  correctRank: number | null;
  /** Whether the pair has a ground-truth output (only labelled pairs are scored). */
  labelled: boolean;
}

/** Result of one task, test inputs in the task's order. */
export interface ArcTaskResult {
  /** The task's id. */
  id: string;
  /** One result per test input, in the task's order. */
  tests: ArcTestResult[];
}

/** Scores keyed `pass@k`, in [0, 1]. */
export type PassAtK = Record<string, number>;

/** What {@linkcode ArcVoter.result} returns; tasks sorted by id. */
export interface ArcScores {
  /** The k of pass@k that were scored, ascending. */
  passKs: number[];
  /** TRM's rule: mean over labelled tasks of (solved test inputs / labelled test inputs); null if none. */
  perTask: PassAtK | null;
  /** Official rule: solved test outputs / labelled test outputs; null if none. */
  perOutput: PassAtK | null;
  /** What was counted: tasks and test inputs (all and labelled), and what happened to every row. */
  counts: {
    tasks: number;
    testInputs: number;
    labelledTasks: number;
    labelledTestInputs: number;
    /** Test inputs with at least one prediction. */
    testInputsPredicted: number;
    /** Rows seen, padding included. */
    rows: number;
    /** Padding rows (`"<blank>"`), skipped. */
    blank: number;
    /** Predictions attached to a test input. */
    matched: number;
    /** Predictions whose task is not among the voter's tasks. */
    unknownTask: number;
    /** Predictions whose (inverse-augmented, cropped) input equals no test input of their task. */
    noMatchingInput: number;
    /** Distinct candidates held in all. */
    candidates: number;
  };
  /** The first {@linkcode MAX_UNMATCHED_EXAMPLES} unmatched predictions, in arrival order. */
  unmatchedExamples: { name: string; reason: UnmatchedReason }[];
  /** Per task, sorted by id. */
  tasks: ArcTaskResult[];
}

/** One test input's two attempts, as Kaggle's `submission.json` wants them. */
export interface ArcAttempts {
  /** The top-ranked candidate grid, as rows of colours. */
  attempt_1: number[][];
  /** The second-ranked candidate, or a copy of `attempt_1` when there is only one. */
  attempt_2: number[][];
}

/** Kaggle's `submission.json`: task id to one {@linkcode ArcAttempts} per test input, in the task's order. */
export type ArcSubmission = Record<string, ArcAttempts[]>;

/** How many unmatched predictions {@linkcode ArcScores.unmatchedExamples} lists. */
export const MAX_UNMATCHED_EXAMPLES = 20;

/** Default k of pass@k. */
export const DEFAULT_PASS_KS: readonly number[] = Object.freeze([1, 2, 5, 10]);

/** Puzzle name of batch padding (TRM's identifier 0). */
export const BLANK_PUZZLE = "<blank>";

/**
 * The attempt written for a test input with no usable prediction. It is the same whatever the input (so no
 * information leaks from the input into the score): the 1x1 black grid `[[0]]`. Also written in place of
 * an empty candidate (a prediction whose top-left token is not a colour), which Kaggle would reject.
 */
export const FALLBACK_ATTEMPT: readonly (readonly number[])[] = Object.freeze([Object.freeze([0])]);

interface Candidate {
  /** {@linkcode gridKey} of the candidate grid; the grid itself is rebuilt from it when needed. */
  key: string;
  count: number;
  qSum: number;
  order: number;
}

interface InputPool {
  candidates: Map<string, Candidate>;
  predictions: number;
}

interface TaskState {
  pairs: readonly ArcTestPair[];
  /** Pool of each test pair; identical test inputs of one task share a pool, as in TRM. */
  pools: InputPool[];
  byInput: Map<string, InputPool>;
}

/**
 * An exact, shape-including key of a grid (TRM's `grid_hash` up to collisions, which a key cannot have):
 * `"{h}x{w}:"` followed by one char per cell.
 */
function gridKey(g: Grid): string {
  let s = `${g.h}x${g.w}:`;
  // Chunked so the spread never meets the engine's argument limit.
  for (let i = 0; i < g.cells.length; i += 4096) s += String.fromCharCode(...g.cells.subarray(i, i + 4096));
  return s;
}

function keyRows(key: string): number[][] {
  const colon = key.indexOf(":");
  const [h, w] = key.slice(0, colon).split("x").map(Number);
  const rows: number[][] = [];
  for (let r = 0; r < h; r++) {
    const row = new Array<number>(w);
    for (let c = 0; c < w; c++) row[c] = key.charCodeAt(colon + 1 + r * w + c);
    rows.push(row);
  }
  return rows;
}

const EMPTY_KEY = "0x0:";

function sigmoid64(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function fallbackRows(): number[][] {
  return FALLBACK_ATTEMPT.map((r) => [...r]);
}

/** TRM's order: votes, then mean q, then first arrival. */
function rank(pool: InputPool): Candidate[] {
  return [...pool.candidates.values()].sort((a, b) => {
    if (a.count !== b.count) return b.count - a.count;
    const qa = a.qSum / a.count;
    const qb = b.qSum / b.count;
    if (qa !== qb) return qb - qa;
    return a.order - b.order;
  });
}

function checkPassKs(ks: readonly number[]): number[] {
  if (ks.length === 0) throw new RangeError("Cannot create an ARC voter: passKs is empty");
  for (let i = 0; i < ks.length; i++) {
    if (!Number.isInteger(ks[i]) || ks[i] < 1 || (i > 0 && ks[i] <= ks[i - 1])) {
      throw new RangeError(
        `Cannot create an ARC voter: passKs must be ascending integers >= 1, got [${ks.join(", ")}]`,
      );
    }
  }
  return [...ks];
}

function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function scoreKeys(passKs: readonly number[], perK: (k: number) => number): PassAtK {
  const out: PassAtK = {};
  for (const k of passKs) out[`pass@${k}`] = perK(k);
  return out;
}

/**
 * Votes over augmented predictions of ARC test inputs, streaming, and scores them.
 *
 * @example
 * ```ts
 * import { ArcVoter } from "./arc.ts";
 * import { encodeGrid } from "../data/mod.ts";
 * const g = (rows: number[][]) => ({ h: rows.length, w: rows[0].length, cells: new Uint8Array(rows.flat()) });
 * const voter = new ArcVoter(new Map([["t1", { test: [{ input: g([[1]]), output: g([[2]]) }] }]]));
 * voter.add({ puzzleNames: ["t1"], inputs: encodeGrid(g([[1]])), preds: encodeGrid(g([[2]])) });
 * voter.result().perTask; // { "pass@1": 1, "pass@2": 1, "pass@5": 1, "pass@10": 1 }
 * voter.submission(); // { t1: [{ attempt_1: [[2]], attempt_2: [[2]] }] }
 * ```
 */
export class ArcVoter {
  /** The k of pass@k scored, ascending (default [1, 2, 5, 10]). */
  readonly passKs: readonly number[];
  #tasks = new Map<string, TaskState>();
  #onProgress?: ProgressFn;
  #totalRows?: number;
  #canvas: number;
  #seqLen: number;
  #arrival = 0;
  #rows = 0;
  #blank = 0;
  #matched = 0;
  #unknownTask = 0;
  #noMatchingInput = 0;
  #candidates = 0;
  #unmatchedExamples: { name: string; reason: UnmatchedReason }[] = [];

  /**
   * A voter with no predictions yet. Throws RangeError when `passKs` are not ascending integers >= 1.
   *
   * @param tasks the evaluated tasks by id (e.g. the 400 public-evaluation tasks); every one is scored
   *   and gets submission entries, whether or not it receives predictions.
   */
  constructor(tasks: ReadonlyMap<string, ArcTestTask>, opts: ArcVoterOptions = {}) {
    this.passKs = checkPassKs(opts.passKs ?? DEFAULT_PASS_KS);
    this.#onProgress = opts.onProgress;
    this.#totalRows = opts.totalRows;
    this.#canvas = opts.canvas ?? ARC_MAX_SIZE;
    this.#seqLen = arcSeqLen(this.#canvas);
    for (const [id, task] of tasks) {
      const byInput = new Map<string, InputPool>();
      const pools = task.test.map((pair) => {
        const key = gridKey(pair.input);
        let pool = byInput.get(key);
        if (!pool) {
          pool = { candidates: new Map(), predictions: 0 };
          byInput.set(key, pool);
        }
        return pool;
      });
      this.#tasks.set(id, { pairs: task.test, pools, byInput });
    }
  }

  /**
   * Adds one batch: crops input and prediction from the top-left, inverts the augmentation named by the
   * row's puzzle name, and records a vote for the prediction under the test input it came from.
   * Throws RangeError on mismatched lengths or a non-finite halting logit, SyntaxError on a malformed
   * augmented name.
   */
  add(batch: ArcBatch): void {
    const b = batch.puzzleNames.length;
    const L = this.#seqLen;
    for (const [what, arr] of [["inputs", batch.inputs], ["preds", batch.preds]] as const) {
      if (arr.length !== b * L) {
        throw new RangeError(
          `Cannot add an ARC batch of ${b} rows: ${what} has ${arr.length} tokens, expected ${b * L} ` +
            `(${L} per row on a ${this.#canvas}x${this.#canvas} canvas)`,
        );
      }
    }
    if (batch.qHaltLogits && batch.qHaltLogits.length !== b) {
      throw new RangeError(
        `Cannot add an ARC batch of ${b} rows: qHaltLogits has ${batch.qHaltLogits.length} values, expected ${b}`,
      );
    }
    // Everything that can throw is checked before any vote is cast, so a rejected batch changes nothing.
    const parsed = batch.puzzleNames.map((name, i) => {
      if (name === BLANK_PUZZLE) return null;
      const logit = batch.qHaltLogits ? batch.qHaltLogits[i] : 0;
      if (!Number.isFinite(logit)) {
        throw new RangeError(`Cannot add ARC prediction for "${name}" (batch row ${i}): q_halt logit is ${logit}`);
      }
      return { name, logit, ...parseAugmentName(name) };
    });
    for (let i = 0; i < b; i++) {
      this.#rows++;
      const row = parsed[i];
      if (row === null) {
        this.#blank++;
        continue;
      }
      const { name, logit, task, dihedral, colors } = row;
      const state = this.#tasks.get(task);
      if (!state) {
        this.#unmatched(name, "unknown-task");
        continue;
      }
      const inv = invertColors(colors);
      const undo = (g: Grid | null): Grid =>
        g === null ? { h: 0, w: 0, cells: new Uint8Array(0) } : applyColors(inverseDihedral(g, dihedral), inv);
      const from = i * L;
      const input = undo(decodeGrid(batch.inputs.subarray(from, from + L), this.#canvas));
      const pool = state.byInput.get(gridKey(input));
      if (!pool) {
        this.#unmatched(name, "no-matching-input");
        continue;
      }
      // A prediction whose top-left token is not a colour becomes the empty grid: TRM votes for it too.
      const pred = undo(decodeGrid(batch.preds.subarray(from, from + L), this.#canvas));
      const key = gridKey(pred);
      const q = sigmoid64(logit);
      const c = pool.candidates.get(key);
      if (c) {
        c.count++;
        c.qSum += q;
      } else {
        pool.candidates.set(key, { key, count: 1, qSum: q, order: this.#arrival });
        this.#candidates++;
      }
      this.#arrival++;
      pool.predictions++;
      this.#matched++;
    }
    this.#onProgress?.({
      done: this.#rows,
      total: this.#totalRows ?? 0,
      label: "eval",
      fields: { matched: this.#matched, unmatched: this.#unknownTask + this.#noMatchingInput },
    });
  }

  #unmatched(name: string, reason: UnmatchedReason): void {
    if (reason === "unknown-task") this.#unknownTask++;
    else this.#noMatchingInput++;
    if (this.#unmatchedExamples.length < MAX_UNMATCHED_EXAMPLES) this.#unmatchedExamples.push({ name, reason });
  }

  /** Ranks every test input's candidates and scores them; may be called at any time, changes nothing. */
  result(): ArcScores {
    const tasks: ArcTaskResult[] = [];
    let testInputs = 0;
    let labelledTasks = 0;
    let labelledTestInputs = 0;
    let testInputsPredicted = 0;
    const taskSums = this.passKs.map(() => 0);
    const outputSums = this.passKs.map(() => 0);
    for (const id of sortedIds(this.#tasks.keys())) {
      const state = this.#tasks.get(id)!;
      const tests: ArcTestResult[] = [];
      const solved = this.passKs.map(() => 0);
      let labelled = 0;
      state.pairs.forEach((pair, j) => {
        const pool = state.pools[j];
        testInputs++;
        if (pool.predictions > 0) testInputsPredicted++;
        let correctRank: number | null = null;
        if (pair.output) {
          labelled++;
          const label = gridKey(pair.output);
          const at = rank(pool).findIndex((c) => c.key === label);
          if (at >= 0) correctRank = at + 1;
          this.passKs.forEach((k, i) => {
            if (correctRank !== null && correctRank <= k) solved[i]++;
          });
        }
        tests.push({
          predictions: pool.predictions,
          candidates: pool.candidates.size,
          correctRank,
          labelled: pair.output !== undefined,
        });
      });
      if (labelled > 0) {
        labelledTasks++;
        labelledTestInputs += labelled;
        this.passKs.forEach((_, i) => {
          taskSums[i] += solved[i] / labelled;
          outputSums[i] += solved[i];
        });
      }
      tasks.push({ id, tests });
    }
    const perTask = labelledTasks === 0
      ? null
      : scoreKeys(this.passKs, (k) => taskSums[this.passKs.indexOf(k)] / labelledTasks);
    const perOutput = labelledTestInputs === 0
      ? null
      : scoreKeys(this.passKs, (k) => outputSums[this.passKs.indexOf(k)] / labelledTestInputs);
    return {
      passKs: [...this.passKs],
      perTask,
      perOutput,
      counts: {
        tasks: this.#tasks.size,
        testInputs,
        labelledTasks,
        labelledTestInputs,
        testInputsPredicted,
        rows: this.#rows,
        blank: this.#blank,
        matched: this.#matched,
        unknownTask: this.#unknownTask,
        noMatchingInput: this.#noMatchingInput,
        candidates: this.#candidates,
      },
      unmatchedExamples: this.#unmatchedExamples.map((e) => ({ ...e })),
      tasks,
    };
  }

  /**
   * Kaggle's `submission.json` object: for every task (sorted by id) and each of its test inputs in the
   * task's order, the top two ranked candidates. With one candidate, attempt_2 repeats attempt_1 (as TRM
   * pads); with none, both are {@linkcode FALLBACK_ATTEMPT}.
   */
  submission(): ArcSubmission {
    const out: ArcSubmission = {};
    for (const id of sortedIds(this.#tasks.keys())) {
      const state = this.#tasks.get(id)!;
      out[id] = state.pools.map((pool) => {
        const top = rank(pool).slice(0, 2).map((c) => c.key === EMPTY_KEY ? fallbackRows() : keyRows(c.key));
        const first = top[0] ?? fallbackRows();
        return { attempt_1: first, attempt_2: top[1] ?? first.map((r) => [...r]) };
      });
    }
    return out;
  }

  /** {@linkcode submission} as compact JSON (no spaces), the bytes to write as `submission.json`. */
  submissionJson(): string {
    return JSON.stringify(this.submission());
  }
}

function rowsEqualGrid(rows: unknown, g: Grid): boolean {
  if (!Array.isArray(rows) || rows.length !== g.h) return false;
  for (let r = 0; r < g.h; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== g.w) return false;
    for (let c = 0; c < g.w; c++) if (row[c] !== g.cells[r * g.w + c]) return false;
  }
  return true;
}

/**
 * Scores a Kaggle `submission.json` object by the official rule (a test output counts when attempt_1 or
 * attempt_2 equals it exactly, shape included) and by TRM's per-task mean. Only labelled pairs are scored;
 * a task or test input missing from the submission scores 0. Returns null scores when nothing is labelled.
 *
 * @example
 * ```ts
 * import { scoreSubmission } from "./arc.ts";
 * const g = (rows: number[][]) => ({ h: rows.length, w: rows[0].length, cells: new Uint8Array(rows.flat()) });
 * const tasks = new Map([["t1", { test: [{ input: g([[1]]), output: g([[2]]) }] }]]);
 * scoreSubmission({ t1: [{ attempt_1: [[0]], attempt_2: [[2]] }] }, tasks); // { perOutput: 1, perTask: 1 }
 * ```
 */
export function scoreSubmission(
  submission: Readonly<Record<string, readonly { attempt_1?: unknown; attempt_2?: unknown }[]>>,
  tasks: ReadonlyMap<string, ArcTestTask>,
): { perOutput: number | null; perTask: number | null } {
  let taskSum = 0;
  let labelledTasks = 0;
  let solvedOutputs = 0;
  let labelledOutputs = 0;
  for (const id of sortedIds(tasks.keys())) {
    const entries = Object.hasOwn(submission, id) ? submission[id] : [];
    let solved = 0;
    let labelled = 0;
    tasks.get(id)!.test.forEach((pair, j) => {
      if (!pair.output) return;
      labelled++;
      const e = entries[j];
      if (e && (rowsEqualGrid(e.attempt_1, pair.output) || rowsEqualGrid(e.attempt_2, pair.output))) solved++;
    });
    if (labelled === 0) continue;
    labelledTasks++;
    taskSum += solved / labelled;
    solvedOutputs += solved;
    labelledOutputs += labelled;
  }
  return {
    perOutput: labelledOutputs === 0 ? null : solvedOutputs / labelledOutputs,
    perTask: labelledTasks === 0 ? null : taskSum / labelledTasks,
  };
}
