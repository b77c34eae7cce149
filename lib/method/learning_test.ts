/**
 * Learning sanity on the wasm backend: a tiny DIS and a tiny TRM each fit 8 N-Queens boards (4 to 7 given
 * queens, unique completion) from scratch. Copying the input scores 96% of tokens and no board, so the
 * thresholds require that the models place the missing queens. Everything is seeded: a run is exactly
 * reproducible, and a bug in the model, the losses or the optimiser wiring shows as a miss.
 */
import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { Rng, stream } from "../random/mod.ts";
import { allSolutions, countCompletions } from "../data/mod.ts";
import { createOptimizer, SparseSignSGD } from "../train/mod.ts";
import { backboneFor, type MethodConfig, predict, RecursiveModel } from "../model/mod.ts";
import { DisTrainer, rngExploration, type StepBatch, TrmTrainer } from "./mod.ts";

const N = 8;
const L = 64;

function boards(seed: number): StepBatch {
  const rng = Rng.fromSeed(seed);
  const solutions = allSolutions();
  const batch: StepBatch = {
    inputs: new Int32Array(N * L),
    labels: new Int32Array(N * L),
    puzzleIds: new Int32Array(N),
  };
  let n = 0;
  while (n < N) {
    const sol = solutions[rng.int(solutions.length)];
    const label = new Int32Array(L).fill(1);
    sol.forEach((c, r) => (label[r * 8 + c] = 2));
    const input = new Int32Array(L).fill(1);
    for (const r of rng.sample(8, rng.intIn(4, 7))) input[r * 8 + sol[r]] = 2;
    if (countCompletions(input) !== 1) continue;
    batch.inputs.set(input, n * L);
    batch.labels.set(label, n * L);
    n++;
  }
  return batch;
}

async function fit(
  method: MethodConfig,
  steps: number,
): Promise<{ token: number; exact: number; firstLoss: number; lastLoss: number }> {
  await initBackend("wasm");
  const batch = boards(7);
  const backbone = backboneFor(
    { hidden: 64, heads: 4, layers: 1, expansion: 4, mlpMultiple: 64, puzzleEmbLen: 1 },
    { vocabSize: 3, seqLen: L, numPuzzleIds: 1 },
    method,
  );
  const model = new RecursiveModel(backbone, { rng: stream(0, "init"), scope: `learn.${method.method}.` });
  const optimizer = createOptimizer("adam-atan2", model.trainableVariables(), {
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: 0,
  });
  const base = {
    batchSize: N,
    optimizer,
    puzzleOptimizer: new SparseSignSGD(model.puzzleTable, backbone.hidden, { weightDecay: 0.1 }),
  };
  const trainer = method.method === "dis"
    ? new DisTrainer(model, method, { ...base, rng: stream(0, "targets") })
    : new TrmTrainer(model, method, { ...base, exploration: rngExploration(stream(0, "halting")) });
  const source = { next: () => batch };
  let firstLoss = NaN;
  let lastLoss = NaN;
  for (let s = 1; s <= steps; s++) {
    const r = await trainer.step(source, { lr: 1e-3, puzzleLr: 1e-2 });
    if (s === 1 || s === steps) {
      const loss = (await r.read()).lm_loss;
      if (s === 1) firstLoss = loss;
      else lastLoss = loss;
    } else {
      r.dispose();
    }
  }
  const p = await predict(model, method, batch);
  let token = 0;
  let exact = 0;
  for (let i = 0; i < N; i++) {
    let ok = 0;
    for (let j = 0; j < L; j++) if (p.preds[i * L + j] === batch.labels[i * L + j]) ok++;
    token += ok / L / N;
    if (ok === L) exact += 1 / N;
  }
  trainer.dispose();
  optimizer.dispose();
  model.dispose();
  return { token, exact, firstLoss, lastLoss };
}

Deno.test("a tiny DIS fits 8 N-Queens boards (N_sup=2, T=1, n=2, reveal targets)", async () => {
  const r = await fit({
    method: "dis",
    nSup: 2,
    hCycles: 1,
    lCycles: 2,
    targets: "reveal",
    stepWeights: "uniform",
    autoregressive: false,
    loss: "stablemax",
  }, 600);
  console.log(
    `DIS: train token accuracy ${r.token.toFixed(3)}, exact ${r.exact.toFixed(3)}, loss ${r.firstLoss.toFixed(3)} -> ${
      r.lastLoss.toFixed(4)
    }`,
  );
  assert.ok(r.token >= 0.99, `token accuracy ${r.token}`);
  assert.ok(r.exact >= 0.625, `exact accuracy ${r.exact}`);
  assert.ok(r.lastLoss < r.firstLoss / 10, `loss ${r.firstLoss} -> ${r.lastLoss}`);
});

Deno.test("a tiny TRM fits 8 N-Queens boards (N_sup=2, T=1, n=2, ACT)", async () => {
  const r = await fit({
    method: "trm",
    nSup: 2,
    hCycles: 1,
    lCycles: 2,
    haltExplorationProb: 0.1,
    qLossWeight: 0.5,
    loss: "stablemax",
  }, 400);
  console.log(
    `TRM: train token accuracy ${r.token.toFixed(3)}, exact ${r.exact.toFixed(3)}, loss ${r.firstLoss.toFixed(3)} -> ${
      r.lastLoss.toFixed(4)
    }`,
  );
  assert.ok(r.token >= 0.99, `token accuracy ${r.token}`);
  assert.ok(r.exact >= 0.625, `exact accuracy ${r.exact}`);
  assert.ok(r.lastLoss < r.firstLoss / 10, `loss ${r.firstLoss} -> ${r.lastLoss}`);
});
