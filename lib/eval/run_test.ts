import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import {
  arcSplits,
  type ArcSubset,
  buildArcIndexFromTasks,
  generateNQueens,
  loadTaskFile,
  materialise,
  nqueensSplit,
} from "../data/mod.ts";
import { backboneFor, getPreset, type MethodConfig, predict, RecursiveModel } from "../model/mod.ts";
import { stream } from "../random/mod.ts";
import { NQueensAccumulator } from "./nqueens.ts";
import { evaluateModel } from "./run.ts";

await initBackend("wasm");

const TASKS = new URL("../../fixtures/data/tasks/", import.meta.url).pathname;

function tinyModel(method: MethodConfig, data: { vocabSize: number; seqLen: number; numPuzzleIds: number }) {
  const backbone = backboneFor(
    { hidden: 32, heads: 2, layers: 1, expansion: 4, mlpMultiple: 32, puzzleEmbLen: 1 },
    data,
    method,
  );
  const model = new RecursiveModel(backbone, { rng: stream(1, "init"), scope: "eval_run_test." });
  // A non-zero puzzle table, so that a wrong puzzle id would change the predictions.
  const rng = stream(1, "puzzle");
  for (let i = 0; i < model.puzzleTable.length; i++) model.puzzleTable[i] = rng.normal();
  return model;
}

Deno.test("N-Queens: evaluateModel equals predict + NQueensAccumulator on the same boards, for any batch size", async () => {
  const method = getPreset("nqueens-dis-paper").method;
  const split = nqueensSplit(generateNQueens("paper", 0), "test");
  const model = tinyModel(method, { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 });
  try {
    const n = 37;
    const batch = materialise(split, Array.from({ length: n }, (_, i) => i), Array.from({ length: n }, (_, i) => i), n);
    const p = await predict(model, method, batch);
    const acc = new NQueensAccumulator();
    acc.add({ inputs: batch.inputs, labels: batch.labels, preds: p.preds });
    let right = 0;
    for (let i = 0; i < n * 64; i++) if (p.preds[i] === batch.labels[i]) right++;
    const want = acc.result();
    for (const batchSize of [5, 16, 64]) {
      const seen: number[] = [];
      const r = await evaluateModel(model, method, { kind: "nqueens", split }, {
        batchSize,
        maxExamples: n,
        onProgress: (q) => seen.push(q.done),
      });
      assert.equal(r.kind, "nqueens");
      if (r.kind !== "nqueens") return;
      assert.deepEqual(r.metrics, want, `batch size ${batchSize}`);
      assert.equal(r.examples, n);
      assert.equal(r.tokenAccuracy, right / (n * 64));
      assert.equal(r.summary.count, n);
      assert.equal(r.summary.exact, want.overall.exact);
      assert.equal(r.forwardPassesPerSample, 18);
      assert.equal(seen.at(-1), n);
    }
  } finally {
    model.dispose();
  }
});

Deno.test("ARC: every augmented prediction is voted under its test input; results do not depend on batching", async () => {
  const task = (name: string, subset: ArcSubset) => loadTaskFile(join(TASKS, `${name}.json`), subset);
  const tasks = [
    await task("flip", "training"),
    await task("grow", "evaluation"),
    await task("mono2x3", "evaluation"),
  ];
  const index = buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation"],
    testSubset: "evaluation",
    seed: 0,
    augmentations: 2,
  });
  const { test } = arcSplits(index);
  const examples = test.puzzleIndices[test.puzzleIndices.length - 1];
  const method = getPreset("arc-trm-compact").method;
  const m = { ...method, nSup: 1 } as MethodConfig;
  const model = tinyModel(m, { vocabSize: 12, seqLen: 900, numPuzzleIds: test.numIdentifiers });
  try {
    const runs = [];
    for (const batchSize of [3, examples]) {
      runs.push(await evaluateModel(model, m, { kind: "arc", split: test, index }, { batchSize }));
    }
    for (const r of runs) {
      assert.equal(r.kind, "arc");
      if (r.kind !== "arc") return;
      assert.equal(r.examples, examples);
      assert.equal(r.scores.counts.tasks, 2);
      assert.equal(r.scores.counts.matched, examples);
      assert.equal(r.scores.counts.unknownTask + r.scores.counts.noMatchingInput, 0);
      assert.deepEqual(Object.keys(r.submission), ["grow", "mono2x3"]);
      assert.ok("pass@2" in r.summary && "pass@2_per_output" in r.summary);
    }
    assert.deepEqual(runs[0], runs[1]);
    const part = await evaluateModel(model, m, { kind: "arc", split: test, index }, { batchSize: 4, maxExamples: 5 });
    assert.equal(part.examples, 5);
    assert.equal(part.kind === "arc" && part.scores.counts.matched, 5);
  } finally {
    model.dispose();
  }
});
