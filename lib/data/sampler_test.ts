import assert from "node:assert/strict";
import { generateNQueens, nqueensSplit } from "./nqueens.ts";
import { type Batch, IGNORE_LABEL, type PuzzleSplit, type SamplerState, testBatches, TrainSampler } from "./sampler.ts";

/**
 * A split whose example e has input tokens [e + 1, g + 1, 0, ...] (g its group) and label tokens
 * [e + 1, 0, 7, ...]: token 0 is the ignore id, so label position 1 must come back as -100.
 */
function toySplit(groupSizes: number[][]): PuzzleSplit & { groupOf: number[] } {
  const groupIndices = [0];
  const puzzleIndices = [0];
  const groupOf: number[] = [];
  groupSizes.forEach((puzzles, g) => {
    for (const n of puzzles) {
      puzzleIndices.push(puzzleIndices[puzzleIndices.length - 1] + n);
      for (let i = 0; i < n; i++) groupOf.push(g);
    }
    groupIndices.push(puzzleIndices.length - 1);
  });
  const P = puzzleIndices.length - 1;
  return {
    seqLen: 4,
    vocabSize: 10,
    numIdentifiers: P + 1,
    ignoreLabelId: 0,
    groupIndices: Int32Array.from(groupIndices),
    puzzleIndices: Int32Array.from(puzzleIndices),
    puzzleIdentifiers: Int32Array.from({ length: P }, (_, p) => 100 + p),
    groupOf,
    writeExample(e, inputs, labels, at) {
      inputs[at] = e + 1;
      inputs[at + 1] = groupOf[e] + 1;
      labels[at] = e + 1;
      labels[at + 2] = 7;
      labels[at + 3] = 7;
    },
  };
}

const rows = (b: Batch, L: number) => Array.from({ length: b.size }, (_, i) => b.inputs[i * L] - 1);

// 12 groups with 1..3 puzzles of 1..4 examples.
const split = toySplit(
  Array.from({ length: 12 }, (_, g) => Array.from({ length: 1 + (g % 3) }, (_, p) => 1 + ((g + p) % 4))),
);

Deno.test("train batches follow TRM: one puzzle per group per iteration, its examples distinct, full batches only", () => {
  const sampler = new TrainSampler(split, { batchSize: 5, seed: 3 });
  const byIteration = new Map<number, number[][]>();
  for (let i = 0; i < 40; i++) {
    const b = sampler.next();
    assert.equal(b.size, 5);
    const ex = rows(b, 4);
    assert.equal(new Set(ex).size, 5, "no example twice in a batch");
    for (let r = 0; r < 5; r++) {
      const p = split.puzzleIndices.findLastIndex((s) => s <= ex[r]);
      assert.equal(b.puzzleIds[r], 100 + p);
      assert.deepEqual([...b.labels.subarray(r * 4, r * 4 + 4)], [ex[r] + 1, IGNORE_LABEL, 7, 7]);
    }
    byIteration.set(sampler.iteration, [...(byIteration.get(sampler.iteration) ?? []), ex]);
  }
  assert.ok(byIteration.size >= 3, "several iterations");
  for (const [it, batches] of byIteration) {
    // Within an iteration each group is visited once, so each group's examples come from one puzzle.
    const puzzlesOfGroup = new Map<number, Set<number>>();
    for (const e of batches.flat()) {
      const g = split.groupOf[e];
      const p = split.puzzleIndices.findLastIndex((s) => s <= e);
      puzzlesOfGroup.set(g, (puzzlesOfGroup.get(g) ?? new Set()).add(p));
    }
    for (const [g, ps] of puzzlesOfGroup) assert.equal(ps.size, 1, `iteration ${it}, group ${g}`);
    assert.ok(batches.flat().length <= 12 * 4);
  }
});

Deno.test("the sampler resumes from a saved state to the exact same stream, across iterations", () => {
  const a = new TrainSampler(split, { batchSize: 4, seed: 11, epochsPerIter: 2 });
  for (let i = 0; i < 7; i++) a.next();
  const saved: SamplerState = JSON.parse(JSON.stringify(a.state()));
  const b = TrainSampler.fromState(split, saved);
  for (let i = 0; i < 25; i++) {
    const x = a.next();
    const y = b.next();
    assert.deepEqual([x.inputs, x.labels, x.puzzleIds], [y.inputs, y.labels, y.puzzleIds], `batch ${i}`);
    assert.equal(a.iteration, b.iteration);
  }
  assert.ok(a.iteration > saved.iteration, "crossed an iteration boundary");
  // A fresh sampler with the same seed replays the stream; another seed does not.
  const c = new TrainSampler(split, { batchSize: 4, seed: 11, epochsPerIter: 2 });
  const d = new TrainSampler(split, { batchSize: 4, seed: 12, epochsPerIter: 2 });
  const fresh = new TrainSampler(split, { batchSize: 4, seed: 11, epochsPerIter: 2 });
  const first = fresh.next();
  assert.deepEqual(c.next().inputs, first.inputs);
  assert.notDeepEqual(d.next().inputs, first.inputs);
  assert.throws(() => TrainSampler.fromState(toySplit([[1]]), saved), RangeError);
});

Deno.test("a batch larger than an iteration can fill is an error, not a hang", () => {
  const s = new TrainSampler(toySplit([[1], [1, 2]]), { batchSize: 10, seed: 0 });
  assert.throws(() => s.next(), RangeError);
});

Deno.test("test batches run through every example in order, the last one padded", () => {
  const batches = [...testBatches(split, 7)];
  const total = split.puzzleIndices[split.puzzleIndices.length - 1];
  assert.equal(batches.length, Math.ceil(total / 7));
  assert.deepEqual(batches.flatMap((b) => rows(b, 4)), Array.from({ length: total }, (_, e) => e));
  const last = batches[batches.length - 1];
  const n = last.size;
  assert.equal(n, total - 7 * (batches.length - 1));
  assert.ok(last.inputs.subarray(n * 4).every((v) => v === 0));
  assert.ok(last.labels.subarray(n * 4).every((v) => v === IGNORE_LABEL));
  assert.ok(last.puzzleIds.subarray(n).every((v) => v === 0));
  const p = split.puzzleIndices.findLastIndex((s) => s <= rows(last, 4)[0]);
  assert.equal(last.puzzleIds[0], 100 + p);
});

Deno.test("N-Queens through the sampler: released-code draws one dihedral copy per base puzzle per epoch", () => {
  const set = generateNQueens("released-code", 1);
  const train = nqueensSplit(set, "train");
  assert.equal(train.groupIndices.length - 1, 800);
  const sampler = new TrainSampler(train, { batchSize: 100, seed: 0 });
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const b = sampler.next();
    assert.equal(sampler.iteration, 1);
    assert.ok(b.puzzleIds.every((v) => v === 0));
    for (let r = 0; r < 100; r++) seen.add(b.labels.subarray(r * 64, r * 64 + 64).join(""));
    assert.ok(b.labels.every((v) => v === 1 || v === 2), "all 64 cells supervised");
  }
  sampler.next();
  assert.equal(sampler.iteration, 2, "800 groups of 1-example puzzles make 8 batches of 100");
  const test = [...testBatches(nqueensSplit(set, "test"), 64)];
  assert.equal(test.reduce((s, b) => s + b.size, 0), 200);
  assert.deepEqual(test[0].inputs.subarray(0, 64), Int32Array.from(set.test[0].input));
});
