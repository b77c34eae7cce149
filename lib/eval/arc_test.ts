import assert from "node:assert/strict";
import { applyColors, ARC_SEQ_LEN, augmentName, dihedral, encodeGrid, type Grid, loadSubset } from "../data/mod.ts";
import { realDataDir } from "../data/_testing.ts";
import { Rng } from "../random/mod.ts";
import { type ArcBatch, type ArcTestTask, ArcVoter, FALLBACK_ATTEMPT, scoreSubmission } from "./mod.ts";

function g(rows: number[][]): Grid {
  return { h: rows.length, w: rows[0].length, cells: new Uint8Array(rows.flat()) };
}

interface Row {
  name: string;
  input: number[][] | null;
  pred: number[][] | null;
  q: number;
}

/** Rows placed top-left on the canvas; a null grid is an all-PAD canvas. */
function batch(rows: readonly Row[], withQ = true): ArcBatch {
  const inputs = new Uint8Array(rows.length * ARC_SEQ_LEN);
  const preds = new Int32Array(rows.length * ARC_SEQ_LEN);
  rows.forEach((r, i) => {
    if (r.input) inputs.set(encodeGrid(g(r.input)), i * ARC_SEQ_LEN);
    if (r.pred) preds.set(encodeGrid(g(r.pred)), i * ARC_SEQ_LEN);
  });
  return {
    puzzleNames: rows.map((r) => r.name),
    inputs,
    preds,
    qHaltLogits: withQ ? Float32Array.from(rows, (r) => r.q) : undefined,
  };
}

function feed(voter: ArcVoter, rows: readonly Row[], batchSize: number): void {
  for (let i = 0; i < rows.length; i += batchSize) voter.add(batch(rows.slice(i, i + batchSize)));
}

function tasksFromJson(obj: Record<string, { test: { input: number[][]; output?: number[][] }[] }>) {
  return new Map<string, ArcTestTask>(
    Object.entries(obj).map((
      [id, t],
    ) => [id, { test: t.test.map((p) => ({ input: g(p.input), output: p.output ? g(p.output) : undefined })) }]),
  );
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/eval/arc_vote_case.json", import.meta.url)),
);

Deno.test("ARC voter reproduces the hand-made case for any batching: ranks, both rules, counts, submission", () => {
  const tasks = tasksFromJson(fixture.tasks);
  const rows: Row[] = fixture.rows;
  const ex = fixture.expected;
  for (const bs of [1, 3, rows.length]) {
    const voter = new ArcVoter(tasks);
    feed(voter, rows, bs);
    const res = voter.result();
    assert.deepEqual(res.perTask, ex.perTask, `batch size ${bs}`);
    assert.deepEqual(res.perOutput, ex.perOutput, `batch size ${bs}`);
    assert.deepEqual(
      Object.fromEntries(res.tasks.map((t) => [t.id, t.tests.map((x) => x.correctRank)])),
      ex.correctRanks,
    );
    assert.deepEqual(res.counts, ex.counts);
    assert.deepEqual(res.unmatchedExamples, ex.unmatchedExamples);
    assert.equal(voter.submissionJson(), ex.submissionJson);
    // The official scorer, applied to the written submission, agrees with the voter's pass@2.
    const scored = scoreSubmission(JSON.parse(voter.submissionJson()), tasks);
    assert.equal(scored.perOutput, res.perOutput!["pass@2"]);
    assert.equal(scored.perTask, res.perTask!["pass@2"]);
  }
});

Deno.test("ARC voter: the two averaging rules differ on a multi-test task", () => {
  const tasks = new Map<string, ArcTestTask>([
    ["m", { test: [{ input: g([[1]]), output: g([[1]]) }, { input: g([[2]]), output: g([[2]]) }] }],
    ["s", { test: [{ input: g([[3]]), output: g([[3]]) }] }],
  ]);
  const voter = new ArcVoter(tasks, { passKs: [1] });
  // Solves m #0 and s; m #1 gets a wrong answer.
  voter.add(batch([
    { name: "m", input: [[1]], pred: [[1]], q: 0 },
    { name: "m", input: [[2]], pred: [[9]], q: 0 },
    { name: "s", input: [[3]], pred: [[3]], q: 0 },
  ]));
  const res = voter.result();
  assert.deepEqual(res.perTask, { "pass@1": (1 / 2 + 1) / 2 }); // 0.75
  assert.deepEqual(res.perOutput, { "pass@1": 2 / 3 });
});

Deno.test("ARC voter undoes all 8 dihedral transforms with colour maps, merging every view into one candidate", () => {
  const input = g([[1, 2, 0], [3, 4, 5]]); // no symmetry, so every transform is distinct
  const output = g([[6, 7], [8, 9], [1, 0]]);
  const tasks = new Map<string, ArcTestTask>([["x", { test: [{ input, output }] }]]);
  const voter = new ArcVoter(tasks);
  const rng = Rng.fromSeed(7);
  const rows: Row[] = [];
  const toRows = (h: Grid) =>
    Array.from({ length: h.h }, (_, r) => Array.from(h.cells.subarray(r * h.w, (r + 1) * h.w)));
  for (let t = 0; t < 8; t++) {
    const colors = [0, ...rng.permutation(9).map((c) => c + 1)];
    // TRM's order: colour map first, then the dihedral transform.
    const aug = (x: Grid) => dihedral(applyColors(x, colors), t);
    rows.push({ name: augmentName("x", t, colors), input: toRows(aug(input)), pred: toRows(aug(output)), q: 0 });
  }
  feed(voter, rows, 3);
  const res = voter.result();
  assert.deepEqual(res.tasks[0].tests[0], { predictions: 8, candidates: 1, correctRank: 1, labelled: true });
  assert.equal(res.counts.noMatchingInput, 0);
  assert.deepEqual(voter.submission().x[0].attempt_1, [[6, 7], [8, 9], [1, 0]]);
});

Deno.test("ARC voter ranks by votes, then mean halting probability, then first arrival", () => {
  const tasks = new Map<string, ArcTestTask>([["r", { test: [{ input: g([[1]]), output: g([[2]]) }] }]]);
  const rowsOf = (...spec: [number[][], number][]): Row[] =>
    spec.map(([pred, q]) => ({ name: "r", input: [[1]], pred, q }));
  const top2 = (rows: Row[], withQ = true) => {
    const voter = new ArcVoter(tasks);
    voter.add(batch(rows, withQ));
    const s = voter.submission().r[0];
    return [s.attempt_1, s.attempt_2];
  };
  // Three weak votes beat two confident ones.
  assert.deepEqual(top2(rowsOf([[[3]], -4], [[[3]], -4], [[[4]], 9], [[[3]], -4], [[[4]], 9])), [[[3]], [[4]]]);
  // Equal votes: the higher mean q wins, whatever the arrival order.
  assert.deepEqual(top2(rowsOf([[[3]], 0], [[[4]], 1], [[[3]], 0], [[[4]], -0.5])), [[[4]], [[3]]]);
  assert.deepEqual(top2(rowsOf([[[4]], 1], [[[3]], 0], [[[4]], -0.5], [[[3]], 0])), [[[4]], [[3]]]);
  // Exact ties (same votes, same mean q): first arrival wins, so reversing the stream flips the order.
  assert.deepEqual(top2(rowsOf([[[3]], 2], [[[4]], 2])), [[[3]], [[4]]]);
  assert.deepEqual(top2(rowsOf([[[4]], 2], [[[3]], 2])), [[[4]], [[3]]]);
  // Without halting logits every row counts as q = 0.5: votes, then arrival.
  assert.deepEqual(top2(rowsOf([[[4]], 9], [[[3]], -9]), false), [[[4]], [[3]]]);
});

Deno.test("ARC voter: identical test inputs of one task share their votes; pass@k uses the rank", () => {
  const tasks = new Map<string, ArcTestTask>([
    ["d", { test: [{ input: g([[1]]), output: g([[5]]) }, { input: g([[1]]), output: g([[6]]) }] }],
  ]);
  const voter = new ArcVoter(tasks, { passKs: [1, 2, 3] });
  voter.add(batch([
    { name: "d", input: [[1]], pred: [[5]], q: 0 },
    { name: "d", input: [[1]], pred: [[5]], q: 0 },
    { name: "d", input: [[1]], pred: [[7]], q: 0 },
    { name: "d", input: [[1]], pred: [[6]], q: -1 },
  ]));
  const res = voter.result();
  assert.deepEqual(res.tasks[0].tests.map((t) => [t.predictions, t.candidates, t.correctRank]), [[4, 3, 1], [4, 3, 3]]);
  assert.deepEqual(res.perOutput, { "pass@1": 0.5, "pass@2": 0.5, "pass@3": 1 });
});

Deno.test("ARC voter: unlabelled tasks give null scores but a full submission; fallback is [[0]]", () => {
  const tasks = new Map<string, ArcTestTask>([["u", { test: [{ input: g([[1]]) }, { input: g([[2]]) }] }]]);
  const voter = new ArcVoter(tasks);
  voter.add(batch([{ name: "u", input: [[2]], pred: [[3, 3]], q: 0 }]));
  const res = voter.result();
  assert.equal(res.perTask, null);
  assert.equal(res.perOutput, null);
  assert.deepEqual(res.tasks[0].tests[1], { predictions: 1, candidates: 1, correctRank: null, labelled: false });
  assert.deepEqual(FALLBACK_ATTEMPT, [[0]]);
  assert.equal(
    voter.submissionJson(),
    '{"u":[{"attempt_1":[[0]],"attempt_2":[[0]]},{"attempt_1":[[3,3]],"attempt_2":[[3,3]]}]}',
  );
});

Deno.test("ARC voter: a translated input is not cropped (top-left only) and is reported as unmatched", () => {
  const tasks = new Map<string, ArcTestTask>([["o", { test: [{ input: g([[1]]), output: g([[1]]) }] }]]);
  const voter = new ArcVoter(tasks);
  const b = batch([{ name: "o", input: null, pred: [[1]], q: 0 }]);
  (b.inputs as Uint8Array).set(encodeGrid(g([[1]]), { rowOffset: 1, colOffset: 0 }));
  voter.add(b);
  assert.equal(voter.result().counts.noMatchingInput, 1);
  assert.deepEqual(voter.result().unmatchedExamples, [{ name: "o", reason: "no-matching-input" }]);
});

Deno.test("ARC voter reports progress and rejects malformed batches with the row named", () => {
  const tasks = new Map<string, ArcTestTask>([["p", { test: [{ input: g([[1]]), output: g([[1]]) }] }]]);
  const seen: [number, number][] = [];
  const voter = new ArcVoter(tasks, { totalRows: 4, onProgress: (p) => seen.push([p.done, p.total]) });
  const rows: Row[] = Array.from({ length: 4 }, () => ({ name: "p", input: [[1]], pred: [[1]], q: 0 }));
  feed(voter, rows, 2);
  assert.deepEqual(seen, [[2, 4], [4, 4]]);

  const bad = batch(rows.slice(0, 2));
  assert.throws(
    () => voter.add({ ...bad, preds: bad.preds.subarray(0, ARC_SEQ_LEN) }),
    /preds has 900 tokens, expected 1800/,
  );
  assert.throws(() => voter.add({ ...bad, qHaltLogits: new Float32Array([0, NaN]) }), /"p" \(batch row 1\).*NaN/);
  const before = voter.result();
  assert.throws(
    () => voter.add(batch([...rows.slice(0, 1), { name: "p|||t9|||x", input: [[1]], pred: [[1]], q: 0 }])),
    SyntaxError,
  );
  assert.deepEqual(voter.result(), before, "a rejected batch must change nothing");
  assert.throws(() => new ArcVoter(tasks, { passKs: [2, 1] }), RangeError);
});

const dataDir = realDataDir();

Deno.test({
  name: "ARC voter on the real ARC-AGI-1 evaluation set: 400 tasks / 419 test inputs, both rules",
  ignore: dataDir === null,
  fn: async () => {
    const loaded = await loadSubset(dataDir!, "evaluation");
    const tasks = new Map<string, ArcTestTask>(loaded.map((t) => [t.id, t]));
    const rng = Rng.fromSeed(3);
    // Oracle views: each test input under a random augmentation, predicting its true output; only the first
    // test input of each task is answered, so multi-test tasks separate the two averaging rules.
    const rows: Row[] = [];
    const toRows = (x: Grid) =>
      Array.from({ length: x.h }, (_, r) => Array.from(x.cells.subarray(r * x.w, (r + 1) * x.w)));
    let perTaskExpected = 0;
    for (const t of loaded) {
      const colors = [0, ...rng.permutation(9).map((c) => c + 1)];
      const d = rng.int(8);
      const aug = (x: Grid) => dihedral(applyColors(x, colors), d);
      const p = t.test[0];
      rows.push({ name: augmentName(t.id, d, colors), input: toRows(aug(p.input)), pred: toRows(aug(p.output)), q: 0 });
      perTaskExpected += 1 / t.test.length;
    }
    const voter = new ArcVoter(tasks);
    feed(voter, rows, 64);
    const res = voter.result();
    assert.equal(res.counts.tasks, 400);
    assert.equal(res.counts.testInputs, 419);
    assert.equal(res.counts.matched, 400);
    assert.equal(res.perOutput!["pass@1"], 400 / 419);
    assert.ok(Math.abs(res.perTask!["pass@1"] - perTaskExpected / 400) < 1e-12);
    assert.ok(res.perTask!["pass@1"] < 1 && res.perTask!["pass@1"] > res.perOutput!["pass@1"]);
    assert.deepEqual(scoreSubmission(JSON.parse(voter.submissionJson()), tasks), {
      perOutput: res.perOutput!["pass@2"],
      perTask: res.perTask!["pass@2"],
    });
  },
});

Deno.test("ARC voter on a 10x10 canvas: crops, inverts augmentations and votes; a 30x30 batch is refused", () => {
  const canvas = 10;
  const L = canvas * canvas;
  const input = g([[1, 2, 0], [0, 3, 4]]);
  const output = g([[5, 5], [6, 7], [8, 9], [1, 1], [2, 2], [3, 3], [4, 4], [5, 6], [7, 8], [9, 0]]);
  const tasks = new Map<string, ArcTestTask>([["t", { test: [{ input, output }] }]]);
  const voter = new ArcVoter(tasks, { passKs: [1, 2], canvas });
  const rng = Rng.fromSeed(3);
  const names: string[] = [];
  const inputs = new Uint8Array(8 * L);
  const preds = new Uint8Array(8 * L);
  for (let t = 0; t < 8; t++) {
    const colors = [0, ...rng.permutation(9).map((c) => c + 1)];
    const aug = (x: Grid) => dihedral(applyColors(x, colors), t);
    names.push(augmentName("t", t, colors));
    inputs.set(encodeGrid(aug(input), { canvas }), t * L);
    // Seven copies predict the answer (a 10x2 grid, 2x10 after a quarter turn: it fills the canvas), one a wrong grid.
    preds.set(encodeGrid(aug(t === 5 ? input : output), { canvas }), t * L);
  }
  voter.add({ puzzleNames: names, inputs, preds });
  const res = voter.result();
  assert.deepEqual(res.perTask, { "pass@1": 1, "pass@2": 1 });
  assert.equal(res.counts.matched, 8);
  assert.equal(res.tasks[0].tests[0].candidates, 2);
  assert.throws(
    () => voter.add(batch([{ name: "t", input: [[1]], pred: [[1]], q: 0 }])),
    /expected 100 \(100 per row on a 10x10 canvas\)/,
  );
});
