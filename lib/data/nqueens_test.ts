import assert from "node:assert/strict";
import { Rng } from "../random/mod.ts";
import { dihedral } from "./augment.ts";
import {
  allSolutions,
  ceiling,
  ceilingByGiven,
  countCompletions,
  countQueens,
  examplesHash,
  generateNQueens,
  generateNQueensValidation,
  isExact,
  isValidCompletion,
  isValidSolution,
  NQ_QUEEN,
  type NQueensSet,
} from "./nqueens.ts";

/** Brute force, independent of the solution table: backtracking that must place each given queen. */
function bruteCompletions(input: Uint8Array): number {
  const given = new Map<number, number>();
  for (let i = 0; i < 64; i++) if (input[i] === 2) given.set(Math.floor(i / 8), i % 8);
  let n = 0;
  const cols: number[] = [];
  const go = (r: number) => {
    if (r === 8) return void n++;
    for (let c = 0; c < 8; c++) {
      if (given.has(r) && given.get(r) !== c) continue;
      if (cols.every((cc, rr) => cc !== c && Math.abs(cc - c) !== r - rr)) {
        cols.push(c);
        go(r + 1);
        cols.pop();
      }
    }
  };
  // Two given queens in one row can never both be kept.
  const rows = new Set<number>();
  for (let i = 0; i < 64; i++) {
    if (input[i] !== 2) continue;
    if (rows.has(Math.floor(i / 8))) return 0;
    rows.add(Math.floor(i / 8));
  }
  go(0);
  return n;
}

function board(cols: number[], rows: number[]): Uint8Array {
  const b = new Uint8Array(64).fill(1);
  for (const r of rows) b[r * 8 + cols[r]] = 2;
  return b;
}

Deno.test("the solver finds 92 solutions for n = 8 (and the known counts for n = 4..7)", () => {
  assert.equal(allSolutions(8).length, 92);
  assert.deepEqual([4, 5, 6, 7].map((n) => allSolutions(n).length), [2, 10, 4, 40]);
  for (const cols of allSolutions(8)) assert.ok(isValidSolution(board(cols, [0, 1, 2, 3, 4, 5, 6, 7])));
});

const sets: Record<string, NQueensSet> = {};
const get = (v: "paper" | "released-code") => (sets[v] ??= generateNQueens(v, 7));

Deno.test("each variant has the right counts and Q range, and every label is a valid solution keeping its queens", () => {
  for (const [v, minQ] of [["paper", 1], ["released-code", 0]] as const) {
    const set = get(v);
    assert.equal(set.train.length, 7200, v);
    assert.equal(set.test.length, 200, v);
    const qs = new Set<number>();
    for (const e of [...set.train, ...set.test]) {
      assert.ok(isValidSolution(e.label), `${v} ${e.id}: label is not a solution`);
      assert.ok(isValidCompletion(e.input, e.label), `${v} ${e.id}: label drops a given queen`);
      assert.equal(countQueens(e.input), e.given);
      qs.add(e.given);
    }
    assert.deepEqual([...qs].sort(), Array.from({ length: 8 - minQ }, (_, i) => i + minQ), v);
  }
});

Deno.test("released-code: each base puzzle is followed by its 8 dihedral copies, identity twice", () => {
  const { train, trainGroupSize } = get("released-code");
  assert.equal(trainGroupSize, 9);
  for (let b = 0; b < 800; b += 97) {
    const base = train[b * 9];
    for (let k = 1; k <= 8; k++) {
      const e = train[b * 9 + k];
      assert.equal(e.dihedral, k - 1);
      assert.deepEqual(e.input, dihedral({ h: 8, w: 8, cells: base.input }, k - 1).cells);
      assert.deepEqual(e.label, dihedral({ h: 8, w: 8, cells: base.label }, k - 1).cells);
    }
    assert.equal(train[b * 9 + 1].hash, base.hash);
  }
});

Deno.test("generation is deterministic from the seed and hashes identify the content", () => {
  const a = get("paper");
  const b = generateNQueens("paper", 7);
  const c = generateNQueens("paper", 8);
  assert.deepEqual(a.hashes, b.hashes);
  assert.deepEqual(a.test, b.test);
  assert.notEqual(a.hashes.train, c.hashes.train);
  assert.notEqual(a.hashes.set, get("released-code").hashes.set);
  assert.match(a.train[0].hash, /^[0-9a-f]{64}$/);
});

Deno.test("train/test overlap is measured: identical test inputs found in train", () => {
  for (const v of ["paper", "released-code"] as const) {
    const set = get(v);
    const trainInputs = new Set(set.train.map((e) => e.input.join("")));
    const expected = set.test.filter((e) => trainInputs.has(e.input.join(""))).length;
    assert.equal(set.overlap.inputs, expected, v);
    assert.equal(set.overlap.inputsByGiven.reduce((x, y) => x + y, 0), expected);
    // With 92 solutions, boards with many given queens recur: the overlap is not empty.
    assert.ok(expected > 0, `${v}: expected some overlap`);
  }
});

Deno.test("countCompletions equals a brute-force count, and the ceiling is the mean of 1/k", () => {
  const rng = Rng.fromSeed(3);
  const sols = allSolutions();
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const cols = sols[rng.int(92)];
    inputs.push(board(cols, rng.sample(8, rng.int(8))));
  }
  // Inputs that no solution completes: two queens attacking, two in one row.
  const bad = new Uint8Array(64).fill(1);
  bad[0] = NQ_QUEEN;
  bad[9] = NQ_QUEEN;
  inputs.push(bad);
  let expected = 0;
  for (const x of inputs) {
    const k = bruteCompletions(x);
    assert.equal(countCompletions(x), k);
    expected += k === 0 ? 0 : 1 / k;
  }
  assert.equal(countCompletions(bad), 0);
  assert.ok(Math.abs(ceiling(inputs) - expected / inputs.length) < 1e-12);
  assert.equal(countCompletions(new Uint8Array(64).fill(1)), 92);
});

Deno.test("completion counts over all solutions and subsets match docs/upstream.md §7's table", () => {
  const sols = allSolutions();
  const unique: number[] = [];
  const mean: number[] = [];
  for (let q = 0; q <= 7; q++) {
    let n = 0;
    let u = 0;
    let sum = 0;
    for (const cols of sols) {
      for (let m = 0; m < 256; m++) {
        const rows = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => (m >> r) & 1);
        if (rows.length !== q) continue;
        const k = countCompletions(board(cols, rows));
        n++;
        sum += k;
        if (k === 1) u++;
      }
    }
    unique.push(u / n);
    mean.push(sum / n);
  }
  // docs/upstream.md §7: unique 0%, 0%, 12%, 59.5%, 87.7%, 96.9%, 99.4%, 100%; mean 92, 13.3, 3.27, 1.50
  assert.deepEqual(unique.map((x) => Math.round(x * 1000) / 10), [0, 0, 12, 59.5, 87.7, 96.9, 99.4, 100]);
  assert.deepEqual(mean.slice(0, 4).map((x, i) => Number(x.toFixed(i < 2 ? 1 : 2))), [92, 13.3, 3.27, 1.5]);
});

Deno.test("metrics reject wrong boards and the ceiling splits by Q", () => {
  const cols = allSolutions()[5];
  const label = board(cols, [0, 1, 2, 3, 4, 5, 6, 7]);
  const input = board(cols, [1, 4]);
  assert.ok(isExact(label, label.slice()));
  assert.ok(isValidCompletion(input, label));
  const other = allSolutions().find((c) => c[1] !== cols[1])!;
  assert.ok(!isValidCompletion(input, board(other, [0, 1, 2, 3, 4, 5, 6, 7])), "drops a given queen");
  assert.ok(!isValidSolution(board(cols, [0, 1, 2, 3, 4, 5, 6])), "7 queens");
  const attacking = label.slice();
  attacking[0 * 8 + cols[0]] = 1;
  attacking[0 * 8 + cols[1]] = 2;
  assert.ok(!isValidSolution(attacking), "two queens in a column");
  const padded = label.slice();
  padded[padded.indexOf(1)] = 0;
  assert.ok(!isValidSolution(padded), "PAD token");
  assert.throws(() => isExact(label, new Uint8Array(63)), RangeError);
  const test = get("paper").test;
  const byQ = ceilingByGiven(test.map((e) => e.input));
  assert.ok(Math.abs(byQ.overall - ceiling(test.map((e) => e.input))) < 1e-12);
  assert.equal(byQ.byGiven[7], 1);
  assert.equal(byQ.counts.reduce((a, b) => a + b, 0), 200);
});

Deno.test("validation boards: their own stream, the test distribution, never a test input, deterministic", () => {
  for (const variant of ["paper", "released-code"] as const) {
    const set = generateNQueens(variant, 3);
    const val = generateNQueensValidation(set, 300);
    assert.equal(val.length, 300);
    const testInputs = new Set(set.test.map((e) => e.input.join("")));
    assert.ok(val.every((e) => !testInputs.has(e.input.join(""))), `${variant}: a validation input is a test input`);
    assert.ok(val.every((e) => isValidSolution(e.label) && isValidCompletion(e.input, e.label)));
    const qs = new Set(val.map((e) => e.given));
    // released-code's Q = 0 has one input, the empty board, which its test split holds: never a validation board.
    assert.deepEqual([...qs].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(examplesHash(generateNQueensValidation(set, 300)), examplesHash(val));
    assert.notEqual(examplesHash(generateNQueensValidation(generateNQueens(variant, 4), 300)), examplesHash(val));
    assert.equal(val[0].id, "validation-0000");
  }
});
