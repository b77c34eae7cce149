import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { rowPlan } from "./config.ts";
import {
  calibrate,
  type Calibration,
  callFlops,
  dataFacts,
  estimateRow,
  evaluationCount,
  formatEstimate,
  headFlops,
  inferenceFlops,
  referenceUtilisation,
  trainStepFlops,
} from "./estimate.ts";
import { LONG_RUN_SECONDS, runExperiment } from "./run.ts";
import { InputError } from "../errors.ts";
import { loadRunData, resolveTrainConfig } from "../train/mod.ts";
import { spec as nqueens } from "../../experiments/nqueens.ts";
import { spec as table1 } from "../../experiments/table1.ts";

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

const FAKE_RATE: Calibration = { model: "fake", batch: 4, secondsPerStep: 1, flopsPerSecond: 1e10 };
const noBuild = () => {
  throw new Error("the estimate built a dataset");
};

Deno.test("estimateRow: steps from epochs, FLOPs, memory, the calibrated time and GPU projections", async () => {
  const row = rowPlan("dis", "DIS", [{
    seed: 0,
    data: { kind: "nqueens" },
    model: { preset: "nqueens-dis-paper", hidden: 16, heads: 2, layers: 1, mlp_multiple: 16, puzzle_emb_len: 1 },
    train: { batch_size: 720, epochs: 2, eval_interval: 5 },
    eval: { max_examples: 50 },
  }], "test");
  const e = await estimateRow(row.loaded, {
    deps: { calibrate: () => Promise.resolve(FAKE_RATE), loadRunData: noBuild },
  });
  assert.equal(e.steps, 20); // 2 epochs x 7,200 boards / 720
  assert.equal(e.evaluations, 4);
  assert.equal(e.evalExamples, 50);
  assert.equal(e.counts, "generator");
  const shape = { hidden: 16, layers: 1, expansion: 4, mlpMultiple: 16, seqLen: 64, puzzleEmbLen: 1, vocabSize: 4 };
  // The paper preset's masked targets add the mask token to the vocabulary.
  assert.equal(e.trainFlops, 20 * trainStepFlops(shape, { hCycles: 1, lCycles: 2 }, 720));
  assert.equal(e.totalFlops, e.trainFlops + e.evalFlops);
  assert.equal(e.expectedSeconds, e.totalFlops / 1e10);
  assert.equal(e.memory.microBatch, 720); // a D = 16 model fits wasm at any batch here
  const p = e.memory.parameters;
  assert.ok(p > 0 && [2 * p, 3 * p].includes(e.memory.optimizerState)); // 2 moments (+ the EMA shadow)
  assert.deepEqual(e.gpus.map((g) => g.gpu), ["H100", "H200", "A100"]);
  const h100 = e.gpus[0];
  assert.equal(h100.seconds, e.totalFlops / (67e12 * referenceUtilisation()));
  assert.equal(h100.secondsTf32, e.totalFlops / (495e12 * 0.3));
  const unmeasured = await estimateRow(row.loaded, { measure: false });
  assert.equal(unmeasured.calibration, null);
  assert.equal(unmeasured.expectedSeconds, null);
});

Deno.test("calibrate: a few steps of the calibration model give a rate, once per backend", async () => {
  const a = await calibrate("wasm");
  assert.ok(a.flopsPerSecond > 0 && a.secondsPerStep > 0 && a.batch === 4);
  assert.equal(await calibrate("wasm"), a);
});

Deno.test("the GPU ratio: the reference H200 step (batch 512 in 111 ms) is about 8.9% of the fp32 peak", () => {
  const u = referenceUtilisation();
  assert.ok(u > 0.085 && u < 0.092, String(u));
});

Deno.test("formatEstimate: days and hours past a day, hours and minutes past an hour", () => {
  assert.equal(formatEstimate(42 * 86400 + 7 * 3600 + 1800), "42 d 7 h");
  assert.equal(formatEstimate(1014946.1 * 3600), "42,289 d 10 h");
  assert.equal(formatEstimate(86400), "1 d 0 h");
  assert.equal(formatEstimate(3 * 3600 + 25 * 60 + 10), "3 h 25 min");
  assert.equal(formatEstimate(125), "2 min");
  assert.equal(formatEstimate(12.4), "12 s");
  assert.equal(formatEstimate(NaN), "unknown");
});

Deno.test("dataFacts: N-Queens and a full ARC set from counts, equal to the built data's where it is cheap", async () => {
  for (const variant of ["paper", "released-code"] as const) {
    const { config } = resolveTrainConfig({
      data: { kind: "nqueens", variant },
      model: { preset: "nqueens-dis-paper" },
    }, "x");
    const f = await dataFacts(config, {}, { loadRunData: noBuild });
    const d = await loadRunData(config);
    assert.deepEqual(
      [f.trainExamples, f.trainPuzzles, f.trainGroups, f.evalExamples, f.vocabSize, f.seqLen, f.numPuzzleIds],
      [
        d.counts.train_examples,
        d.counts.train_puzzles,
        d.counts.train_groups,
        d.counts.test_examples,
        d.vocabSize,
        d.seqLen,
        d.numPuzzleIds,
      ],
    );
  }
  const arc = resolveTrainConfig({ data: { kind: "arc" }, model: { preset: "arc-dis-compact" } }, "x").config;
  const f = await dataFacts(arc, {}, { loadRunData: noBuild });
  // docs/data.md: ARC-AGI-1 at 1,000 augmentations, 960 tasks, 875,451 accepted, 3,633,438 / 385,818 examples.
  assert.deepEqual([f.trainGroups, f.trainPuzzles, f.trainExamples, f.evalExamples], [
    960,
    876_411,
    3_633_438,
    385_818,
  ]);
  assert.equal(f.numPuzzleIds, 876_412);
  assert.equal(f.source, "measured build");
});

for (const [name, spec] of [["nqueens", nqueens], ["table1", table1]] as const) {
  Deno.test(`--estimate-only of ${name}'s paper profile builds no dataset and trains nothing`, async () => {
    const out = await Deno.makeTempDir({ prefix: "estimate_test_" });
    try {
      const outcome = await runExperiment(spec as never, {
        profile: "paper",
        out,
        estimateOnly: true,
        estimateDeps: { loadRunData: noBuild, calibrate: () => Promise.resolve(FAKE_RATE) },
      });
      assert.ok(outcome.estimates.size >= 2);
      for (const e of outcome.estimates.values()) assert.ok(e.expectedSeconds !== null && e.expectedSeconds > 0);
      assert.deepEqual(outcome.trained, []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("a run estimated at over a week is refused unless confirmed, with the estimate in the message", async () => {
  const out = await Deno.makeTempDir({ prefix: "estimate_test_" });
  try {
    const asked: number[] = [];
    await assert.rejects(
      runExperiment(nqueens as never, {
        profile: "paper",
        out,
        estimate: true,
        estimateDeps: { calibrate: () => Promise.resolve(FAKE_RATE) },
        confirmLongRun: (s) => {
          asked.push(s);
          return false;
        },
      }),
      (e: Error) =>
        e instanceof InputError &&
        /its estimate is [\d,]+ d \d+ h on this machine, over a week \(pass --yes/.test(e.message),
    );
    assert.equal(asked.length, 1);
    assert.ok(asked[0] > LONG_RUN_SECONDS);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
