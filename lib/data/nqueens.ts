/**
 * N-Queens on an 8x8 board (paper section 5.1; DIS's `dataset/build_nqueens_dataset.py`): Q queens of one
 * full solution are given, the label is that solution. Boards are 64 tokens, row-major: PAD 0 (unused),
 * empty 1, queen 2; every label token is supervised.
 *
 * Variants:
 * - `paper`: Q uniform in 1..7, 7,200 train and 200 test puzzles, no augmentation.
 * - `released-code`: the authors' generator. 800 base puzzles with Q uniform in 0..7, each followed by
 *   its 8 dihedral copies (ids `(i - 1) % 8` for i = 1..8, so the identity appears twice): 7,200 train;
 *   200 test from a separate stream. Each copy is its own puzzle and the 9 form one group, as DIS writes
 *   them, so TRM's sampler draws one copy per base puzzle per epoch.
 *
 * Solutions come from DIS's randomised backtracking (a fresh random column order at every row visit, the
 * first full solution wins), which is not uniform over the 92 solutions. All puzzle ids are 0.
 *
 * The metrics are functions on token arrays so that evaluation can score predictions with them.
 *
 * @module
 */
import { stream } from "../random/mod.ts";
import type { Rng } from "../random/mod.ts";
import { dihedral } from "./augment.ts";
import { sha256Hex } from "./_hash.ts";
import type { PuzzleSplit } from "./sampler.ts";
import { InputError } from "../errors.ts";

/** Board side. */
export const NQ_SIDE = 8;
/** Tokens per board. */
export const NQ_SEQ_LEN = NQ_SIDE * NQ_SIDE;
/** Vocabulary: PAD 0, empty 1, queen 2. */
export const NQ_VOCAB = 3;
/** Token of an empty cell. */
export const NQ_EMPTY = 1;
/** Token of a queen. */
export const NQ_QUEEN = 2;

/** The generator variants. */
export const NQUEENS_VARIANTS = ["paper", "released-code"] as const;
/**
 * One of {@linkcode NQUEENS_VARIANTS}: `paper` (7,200 train puzzles, Q = 1..7) or `released-code` (800 base puzzles, Q
 * = 0..7, each with its 8 dihedral copies).
 */
export type NQueensVariant = typeof NQUEENS_VARIANTS[number];

interface VariantSpec {
  trainBase: number;
  test: number;
  minGiven: number;
  maxGiven: number;
  dihedralCopies: boolean;
}

const SPECS: Record<NQueensVariant, VariantSpec> = {
  "paper": { trainBase: 7200, test: 200, minGiven: 1, maxGiven: 7, dihedralCopies: false },
  "released-code": { trainBase: 800, test: 200, minGiven: 0, maxGiven: 7, dihedralCopies: true },
};

/** One example: 64-token input and label. */
export interface NQueensExample {
  /** `train-0012` (paper), `train-0012-3` (released-code: copy 3 of base puzzle 12), `test-0007`. */
  id: string;
  /** The 64 tokens of the board with the given queens (row-major, {@linkcode NQ_EMPTY} or {@linkcode NQ_QUEEN}). */
  input: Uint8Array;
  /** The 64 tokens of the solved board. */
  label: Uint8Array;
  /** Q, the number of given queens. */
  given: number;
  /** The dihedral transform applied to the base puzzle (0 for originals). */
  dihedral: number;
  /** SHA-256 (hex) of the 64 input tokens followed by the 64 label tokens. */
  hash: string;
}

/** Train and test examples with the counts, hashes and overlap that describe them. */
export interface NQueensSet {
  /** The generator variant. */
  variant: NQueensVariant;
  /** The seed the set was generated from. */
  seed: number;
  /** Train examples in group order: `trainGroupSize` consecutive examples per base puzzle. */
  train: NQueensExample[];
  /** Test examples. */
  test: NQueensExample[];
  /** Examples per train group (1 for `paper`, 9 for `released-code`). */
  trainGroupSize: number;
  /** SHA-256 of the example hashes in order, per split, and of both together. */
  hashes: { train: string; test: string; set: string };
  /** Test examples that also occur in train. */
  overlap: NQueensOverlap;
}

/** Test examples whose input (or whole example) also occurs in train. */
export interface NQueensOverlap {
  /** Test examples whose input equals some train input. */
  inputs: number;
  /** Test examples whose input and label equal some train example. */
  examples: number;
  /** `inputs` per Q (index Q = 0..7). */
  inputsByGiven: number[];
  /** Test examples per Q (index Q = 0..7), the denominators of `inputsByGiven`. */
  testByGiven: number[];
}

/** All solutions of n-queens, as the column of the queen in each row, in lexicographic order. */
export function allSolutions(n = NQ_SIDE): number[][] {
  const out: number[][] = [];
  const cols: number[] = [];
  const place = (row: number) => {
    if (row === n) {
      out.push([...cols]);
      return;
    }
    for (let c = 0; c < n; c++) {
      if (safe(cols, row, c)) {
        cols[row] = c;
        place(row + 1);
      }
    }
    cols.length = row;
  };
  place(0);
  return out;
}

function safe(cols: number[], row: number, c: number): boolean {
  for (let r = 0; r < row; r++) {
    const d = cols[r] - c;
    if (d === 0 || d === row - r || d === r - row) return false;
  }
  return true;
}

/** DIS's `generate_nqueens_solution`: randomised backtracking, a new column order at every row visit. */
export function randomSolution(rng: Rng, n = NQ_SIDE): number[] {
  const cols: number[] = [];
  const place = (row: number): boolean => {
    if (row === n) return true;
    for (const c of rng.permutation(n)) {
      if (safe(cols, row, c)) {
        cols[row] = c;
        if (place(row + 1)) return true;
      }
    }
    cols.length = row;
    return false;
  };
  place(0);
  return cols;
}

function boardOf(cols: ArrayLike<number>, keepRows?: Set<number>): Uint8Array {
  const b = new Uint8Array(NQ_SEQ_LEN).fill(NQ_EMPTY);
  for (let r = 0; r < cols.length; r++) if (!keepRows || keepRows.has(r)) b[r * NQ_SIDE + cols[r]] = NQ_QUEEN;
  return b;
}

function exampleHash(input: Uint8Array, label: Uint8Array): string {
  const buf = new Uint8Array(2 * NQ_SEQ_LEN);
  buf.set(input, 0);
  buf.set(label, NQ_SEQ_LEN);
  return sha256Hex(buf);
}

function makeExample(id: string, input: Uint8Array, label: Uint8Array, given: number, t: number): NQueensExample {
  return { id, input, label, given, dihedral: t, hash: exampleHash(input, label) };
}

function basePuzzles(
  rng: Rng,
  count: number,
  spec: VariantSpec,
): { input: Uint8Array; label: Uint8Array; given: number }[] {
  const out = [];
  for (let i = 0; i < count; i++) {
    // DIS's draw order: the solution, then Q, then which Q queens (a subset of the row-ordered queens).
    const cols = randomSolution(rng);
    const given = rng.intIn(spec.minGiven, spec.maxGiven);
    const keep = new Set(rng.sample(NQ_SIDE, given));
    out.push({ input: boardOf(cols, keep), label: boardOf(cols), given });
  }
  return out;
}

const pad4 = (i: number) => String(i).padStart(4, "0");

function transformBoard(b: Uint8Array, t: number): Uint8Array {
  return dihedral({ h: NQ_SIDE, w: NQ_SIDE, cells: b }, t).cells;
}

function splitHash(examples: NQueensExample[]): string {
  return sha256Hex(examples.map((e) => e.hash).join("\n"));
}

/** Checks a variant name from a config or the command line. */
export function parseNQueensVariant(name: string): NQueensVariant {
  if (!(NQUEENS_VARIANTS as readonly string[]).includes(name)) {
    throw new InputError(
      `Cannot build N-Queens: unknown variant "${name}" (expected ${
        NQUEENS_VARIANTS.map((v) => `"${v}"`).join(" or ")
      })`,
    );
  }
  return name as NQueensVariant;
}

/**
 * Generates a variant from a seed: the same seed gives byte-identical examples. Train and test come from
 * the named streams `nqueens/train` and `nqueens/test` of the seed.
 *
 * @example
 * ```ts
 * import { generateNQueens } from "./nqueens.ts";
 * const set = generateNQueens("released-code", 0);
 * [set.train.length, set.test.length]; // [7200, 200]
 * ```
 */
export function generateNQueens(variant: NQueensVariant, seed: number): NQueensSet {
  const spec = SPECS[parseNQueensVariant(variant)];
  const train: NQueensExample[] = [];
  basePuzzles(stream(seed, "nqueens/train"), spec.trainBase, spec).forEach((p, i) => {
    if (!spec.dihedralCopies) {
      train.push(makeExample(`train-${pad4(i)}`, p.input, p.label, p.given, 0));
      return;
    }
    train.push(makeExample(`train-${pad4(i)}-0`, p.input, p.label, p.given, 0));
    for (let k = 1; k <= 8; k++) {
      const t = (k - 1) % 8;
      train.push(
        makeExample(`train-${pad4(i)}-${k}`, transformBoard(p.input, t), transformBoard(p.label, t), p.given, t),
      );
    }
  });
  const test = basePuzzles(stream(seed, "nqueens/test"), spec.test, spec).map((p, i) =>
    makeExample(`test-${pad4(i)}`, p.input, p.label, p.given, 0)
  );
  const trainHash = splitHash(train);
  const testHash = splitHash(test);
  return {
    variant,
    seed,
    train,
    test,
    trainGroupSize: spec.dihedralCopies ? 9 : 1,
    hashes: { train: trainHash, test: testHash, set: sha256Hex(`train ${trainHash}\ntest ${testHash}\n`) },
    overlap: measureOverlap(train, test),
  };
}

const key = (b: Uint8Array) => String.fromCharCode(...b);

/**
 * A validation split for recipe searches: `count` boards of the set's variant drawn from their own stream
 * `nqueens/validation` of `seed`, none of whose inputs equals a test input (boards that collide are skipped
 * and the draw continues). The same distribution of Q as the test boards, disjoint from them, never scored
 * as the test figure. Train boards are not excluded: the test boards overlap train too (only 92 solutions).
 * A board kind with very few inputs can be absent: `released-code`'s Q = 0 is the empty board, a test input.
 *
 * @example
 * ```ts
 * import { generateNQueens, generateNQueensValidation } from "./nqueens.ts";
 * const set = generateNQueens("paper", 0);
 * generateNQueensValidation(set, 200).length; // 200
 * ```
 */
export function generateNQueensValidation(set: NQueensSet, count: number, seed = set.seed): NQueensExample[] {
  const spec = SPECS[set.variant];
  const testInputs = new Set(set.test.map((e) => key(e.input)));
  const rng = stream(seed, "nqueens/validation");
  const out: NQueensExample[] = [];
  // Q = 7 has 736 possible inputs and Q = 1 only 8: a draw can collide, never forever.
  for (let tries = 0; out.length < count; tries++) {
    if (tries > 1000 * (count + 10)) {
      throw new RangeError(`Cannot draw ${count} N-Queens validation boards disjoint from the test boards`);
    }
    const [p] = basePuzzles(rng, 1, spec);
    if (testInputs.has(key(p.input))) continue;
    out.push(makeExample(`validation-${pad4(out.length)}`, p.input, p.label, p.given, 0));
  }
  return out;
}

/** SHA-256 of a list of examples' hashes, in order (the validation split's content hash). */
export function examplesHash(examples: NQueensExample[]): string {
  return splitHash(examples);
}

function measureOverlap(train: NQueensExample[], test: NQueensExample[]): NQueensOverlap {
  const inputs = new Set(train.map((e) => key(e.input)));
  const whole = new Set(train.map((e) => key(e.input) + key(e.label)));
  const inputsByGiven = new Array(NQ_SIDE).fill(0);
  const testByGiven = new Array(NQ_SIDE).fill(0);
  let nIn = 0;
  let nEx = 0;
  for (const e of test) {
    testByGiven[e.given] += 1;
    if (inputs.has(key(e.input))) {
      nIn += 1;
      inputsByGiven[e.given] += 1;
    }
    if (whole.has(key(e.input) + key(e.label))) nEx += 1;
  }
  return { inputs: nIn, examples: nEx, inputsByGiven, testByGiven };
}

/**
 * A split of an N-Queens set in TRM's layout, for {@linkcode TrainSampler} and `testBatches`: one puzzle
 * per example, all identifiers 0; train groups are the base puzzles (9 copies each for `released-code`).
 * `which` may also be a list of examples (a validation split), laid out as the test split.
 */
export function nqueensSplit(set: NQueensSet, which: "train" | "test" | NQueensExample[]): PuzzleSplit {
  const examples = which === "train" ? set.train : which === "test" ? set.test : which;
  const groupSize = which === "train" ? set.trainGroupSize : 1;
  const P = examples.length;
  const puzzleIndices = Int32Array.from({ length: P + 1 }, (_, i) => i);
  const groupIndices = Int32Array.from({ length: P / groupSize + 1 }, (_, g) => g * groupSize);
  return {
    seqLen: NQ_SEQ_LEN,
    vocabSize: NQ_VOCAB,
    numIdentifiers: 1,
    ignoreLabelId: 0,
    groupIndices,
    puzzleIndices,
    puzzleIdentifiers: new Int32Array(P),
    writeExample(e, inputs, labels, at) {
      inputs.set(examples[e].input, at);
      labels.set(examples[e].label, at);
    },
  };
}

// ---- metrics on token arrays ----

function checkBoard(tokens: ArrayLike<number>, what: string): void {
  if (tokens.length !== NQ_SEQ_LEN) {
    throw new RangeError(`Cannot score an N-Queens ${what}: expected ${NQ_SEQ_LEN} tokens, got ${tokens.length}`);
  }
}

/** Number of queens (token 2) on a board: Q for an input. */
export function countQueens(tokens: ArrayLike<number>): number {
  checkBoard(tokens, "board");
  let n = 0;
  for (let i = 0; i < NQ_SEQ_LEN; i++) if (tokens[i] === NQ_QUEEN) n++;
  return n;
}

/**
 * Exact match of a prediction against the label, token by token.
 *
 * @example
 * ```ts
 * import { isExact } from "./nqueens.ts";
 * isExact(new Uint8Array(64).fill(1), new Uint8Array(64).fill(1)); // true
 * ```
 */
export function isExact(pred: ArrayLike<number>, label: ArrayLike<number>): boolean {
  checkBoard(pred, "prediction");
  checkBoard(label, "label");
  for (let i = 0; i < NQ_SEQ_LEN; i++) if (pred[i] !== label[i]) return false;
  return true;
}

/** True if `board` is a full solution: only empty and queen tokens, 8 queens, none attacking another. */
export function isValidSolution(board: ArrayLike<number>): boolean {
  checkBoard(board, "board");
  const cols: number[] = [];
  for (let r = 0; r < NQ_SIDE; r++) {
    let col = -1;
    for (let c = 0; c < NQ_SIDE; c++) {
      const v = board[r * NQ_SIDE + c];
      if (v === NQ_QUEEN) {
        if (col >= 0) return false;
        col = c;
      } else if (v !== NQ_EMPTY) return false;
    }
    if (col < 0 || !safe(cols, r, col)) return false;
    cols.push(col);
  }
  return true;
}

/**
 * A valid completion: 8 non-attacking queens that keep every queen given in the input.
 *
 * @example
 * ```ts
 * import { isValidCompletion, generateNQueens } from "./nqueens.ts";
 * const e = generateNQueens("paper", 0).test[0];
 * isValidCompletion(e.input, e.label); // true
 * ```
 */
export function isValidCompletion(input: ArrayLike<number>, pred: ArrayLike<number>): boolean {
  checkBoard(input, "input");
  if (!isValidSolution(pred)) return false;
  for (let i = 0; i < NQ_SEQ_LEN; i++) if (input[i] === NQ_QUEEN && pred[i] !== NQ_QUEEN) return false;
  return true;
}

let solutionMasks: { lo: Uint32Array; hi: Uint32Array } | null = null;

function masks(): { lo: Uint32Array; hi: Uint32Array } {
  if (solutionMasks === null) {
    const sols = allSolutions();
    const lo = new Uint32Array(sols.length);
    const hi = new Uint32Array(sols.length);
    sols.forEach((cols, s) => {
      for (let r = 0; r < NQ_SIDE; r++) {
        const bit = r * NQ_SIDE + cols[r];
        if (bit < 32) lo[s] |= 1 << bit;
        else hi[s] |= 1 << (bit - 32);
      }
    });
    solutionMasks = { lo, hi };
  }
  return solutionMasks;
}

/**
 * Number of the 92 solutions that keep every given queen of `input` (k in the ceiling's 1/k).
 *
 * @example
 * ```ts
 * import { countCompletions } from "./nqueens.ts";
 * countCompletions(new Uint8Array(64).fill(1)); // 92
 * ```
 */
export function countCompletions(input: ArrayLike<number>): number {
  checkBoard(input, "input");
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < NQ_SEQ_LEN; i++) {
    if (input[i] !== NQ_QUEEN) continue;
    if (i < 32) lo |= 1 << i;
    else hi |= 1 << (i - 32);
  }
  const m = masks();
  let k = 0;
  for (let s = 0; s < m.lo.length; s++) {
    if (((m.lo[s] & lo) >>> 0) === lo >>> 0 && ((m.hi[s] & hi) >>> 0) === hi >>> 0) k++;
  }
  return k;
}

/**
 * The exact-match ceiling of a set of inputs: the mean of 1/k over inputs, k = {@linkcode countCompletions}
 * (a model that always outputs a valid completion, chosen blindly, matches the generated label with
 * probability 1/k). An input with no completion counts 0. Empty input: NaN.
 */
export function ceiling(inputs: ArrayLike<number>[]): number {
  let s = 0;
  for (const x of inputs) {
    const k = countCompletions(x);
    if (k > 0) s += 1 / k;
  }
  return s / inputs.length;
}

/** The ceiling per Q (index 0..7; NaN where no input has that Q) and overall. */
export function ceilingByGiven(inputs: ArrayLike<number>[]): { overall: number; byGiven: number[]; counts: number[] } {
  const sums = new Array(NQ_SIDE + 1).fill(0);
  const counts = new Array(NQ_SIDE + 1).fill(0);
  for (const x of inputs) {
    const q = countQueens(x);
    const k = countCompletions(x);
    counts[q] += 1;
    if (k > 0) sums[q] += 1 / k;
  }
  const total = sums.reduce((a, b) => a + b, 0);
  return {
    overall: total / inputs.length,
    byGiven: sums.slice(0, NQ_SIDE).map((s, q) => (counts[q] === 0 ? NaN : s / counts[q])),
    counts: counts.slice(0, NQ_SIDE),
  };
}
