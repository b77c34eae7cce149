import assert from "node:assert/strict";
import { NQueensAccumulator } from "./mod.ts";

/** A 64-token board with a queen at (row, cols[row]) for every row whose column is >= 0. */
function board(cols: number[]): Uint8Array {
  const b = new Uint8Array(64).fill(1);
  cols.forEach((c, r) => {
    if (c >= 0) b[r * 8 + c] = 2;
  });
  return b;
}

function concat(boards: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(boards.length * 64);
  boards.forEach((b, i) => out.set(b, i * 64));
  return out;
}

// Two of the 92 solutions (the first two in lexicographic order of columns).
const A = [0, 4, 7, 5, 2, 6, 1, 3];
const B = [0, 5, 7, 2, 6, 3, 1, 4];
const none = [-1, -1, -1, -1, -1, -1, -1, -1];

// (input, label, pred) by hand:
// - Q=7, A without row 7: one completion; pred = label: exact and valid.
// - Q=7, A without row 0: pred = B, a full solution that drops given queens: neither exact nor valid.
// - Q=0, empty board: 92 completions; pred = B: valid, not exact.
// - Q=1, a queen in the corner (0,0): 4 completions; pred has 7 queens: neither.
const rows = [
  { input: board([...A.slice(0, 7), -1]), label: board(A), pred: board(A) },
  { input: board([-1, ...A.slice(1)]), label: board(A), pred: board(B) },
  { input: board(none), label: board(A), pred: board(B) },
  { input: board([0, ...none.slice(1)]), label: board(A), pred: board([...A.slice(0, 7), -1]) },
];

Deno.test("N-Queens metrics per Q and overall on hand-made boards, for any batching", () => {
  const expected = {
    overall: {
      count: 4,
      exactCount: 1,
      validCount: 2,
      exact: 1 / 4,
      valid: 2 / 4,
      ceiling: (2 + 1 / 4 + 1 / 92) / 4,
      unique: 2 / 4,
    },
    byQ: [
      { q: 0, count: 1, exactCount: 0, validCount: 1, exact: 0, valid: 1, ceiling: 1 / 92, unique: 0 },
      { q: 1, count: 1, exactCount: 0, validCount: 0, exact: 0, valid: 0, ceiling: 1 / 4, unique: 0 },
      { q: 7, count: 2, exactCount: 1, validCount: 1, exact: 1 / 2, valid: 1 / 2, ceiling: 1, unique: 1 },
    ],
  };
  const whole = new NQueensAccumulator();
  whole.add({
    inputs: concat(rows.map((r) => r.input)),
    labels: concat(rows.map((r) => r.label)),
    preds: Int32Array.from(concat(rows.map((r) => r.pred))),
  });
  assert.deepEqual(whole.result(), expected);
  const reversed = new NQueensAccumulator();
  for (const r of [...rows].reverse()) reversed.add({ inputs: r.input, labels: r.label, preds: r.pred });
  assert.deepEqual(reversed.result(), expected);
});

Deno.test("N-Queens accumulator: empty result and malformed batches", () => {
  const acc = new NQueensAccumulator();
  assert.deepEqual(acc.result(), {
    overall: { count: 0, exactCount: 0, validCount: 0, exact: null, valid: null, ceiling: null, unique: null },
    byQ: [],
  });
  const b = board(A);
  assert.throws(
    () => acc.add({ inputs: b, labels: b, preds: b.subarray(0, 63) }),
    /same number of 64-token boards, got 64, 64 and 63 tokens/,
  );
  // A PAD token in a prediction makes it invalid (and not exact).
  const padded = board(A);
  padded[5] = 0;
  acc.add({ inputs: board(none), labels: b, preds: padded });
  assert.deepEqual([acc.result().overall.exactCount, acc.result().overall.validCount], [0, 0]);
});
