import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { rowPlan } from "./config.ts";
import { callFlops, estimateRow, evaluationCount, headFlops, inferenceFlops, trainStepFlops } from "./estimate.ts";

await initBackend("wasm");

const COMPACT = { hidden: 256, layers: 1, expansion: 4, mlpMultiple: 256, seqLen: 64, puzzleEmbLen: 16, vocabSize: 3 };

Deno.test("FLOPs: one network application of the compact N-Queens model, by hand", () => {
  // L = 80 tokens, D = 256, SwiGLU width 768: QKV + O = 8 L D^2, scores + values = 4 L^2 D, SwiGLU = 6 L D I.
  const l = 80, d = 256, i = 768;
  assert.equal(callFlops(COMPACT), 8 * l * d * d + 4 * l * l * d + 6 * l * d * i);
  assert.equal(headFlops(COMPACT), 2 * l * d * 3);
  assert.equal(callFlops({ ...COMPACT, layers: 2 }), 2 * callFlops(COMPACT));
});

Deno.test("FLOPs: a DIS step is 3 calls under gradient, a TRM step adds T-1 forward-only cycles", () => {
  const c = callFlops(COMPACT), h = headFlops(COMPACT);
  assert.equal(trainStepFlops(COMPACT, { hCycles: 1, lCycles: 2 }, 1), 9 * c + 3 * h);
  // TRM T = 3, n = 6: 14 calls without gradient, 7 with (x3).
  assert.equal(trainStepFlops(COMPACT, { hCycles: 3, lCycles: 6 }, 4), 4 * (35 * c + 3 * h));
  assert.equal(inferenceFlops(COMPACT, { nSup: 16, hCycles: 3, lCycles: 6 }), 336 * c + 16 * h);
  assert.equal(inferenceFlops(COMPACT, { nSup: 6, hCycles: 1, lCycles: 2 }), 18 * c + 6 * h);
});

Deno.test("evaluationCount: every eval_interval steps before the last, plus the final one", () => {
  assert.equal(evaluationCount(10, 4, true), 3);
  assert.equal(evaluationCount(12, 4, true), 3);
  assert.equal(evaluationCount(12, 4, false), 2);
  assert.equal(evaluationCount(12, 0, true), 1);
});

Deno.test("estimateRow: steps from epochs, FLOPs, and a measured rate on the backend", async () => {
  const row = rowPlan("dis", "DIS", [{
    seed: 0,
    data: { kind: "nqueens" },
    model: { preset: "nqueens-dis-paper", hidden: 16, heads: 2, layers: 1, mlp_multiple: 16, puzzle_emb_len: 1 },
    train: { batch_size: 720, epochs: 2, eval_interval: 5 },
    eval: { max_examples: 50 },
  }], "test");
  const e = await estimateRow(row.loaded, { measureSteps: 3, measureBatch: 4 });
  assert.equal(e.steps, 20); // 2 epochs x 7,200 boards / 720
  assert.equal(e.evaluations, 4);
  assert.equal(e.evalExamples, 50);
  const shape = { hidden: 16, layers: 1, expansion: 4, mlpMultiple: 16, seqLen: 64, puzzleEmbLen: 1, vocabSize: 4 };
  // The paper preset's masked targets add the mask token to the vocabulary.
  assert.equal(e.trainFlops, 20 * trainStepFlops(shape, { hCycles: 1, lCycles: 2 }, 720));
  assert.equal(e.totalFlops, e.trainFlops + e.evalFlops);
  assert.ok(e.measured !== null && e.measured.batch === 4 && e.measured.steps === 2 && e.measured.secondsPerStep > 0);
  assert.ok(e.expectedSeconds !== null && e.expectedSeconds > 0);
  const unmeasured = await estimateRow(row.loaded, { measure: false });
  assert.equal(unmeasured.measured, null);
  assert.equal(unmeasured.expectedSeconds, null);
});
