/**
 * Leak tests: after one burn-in step (which creates the optimiser moments), tf.memory().numTensors must
 * not change over further training steps (including steps where slots halt and take fresh samples),
 * inference with hooks, and a checkpoint state round trip, for TRM and each DIS variant, on cpu and wasm.
 */
import assert from "node:assert/strict";
import { tf } from "../lib/backend/mod.ts";
import { initBackendOrSkip } from "../lib/backend/_testing.ts";
import { Rng, stream } from "../lib/random/mod.ts";
import { type MethodConfig, predict, RecursiveModel } from "../lib/model/mod.ts";
import { DisTrainer, rngExploration, type StepBatch, TrmTrainer } from "../lib/method/mod.ts";
import { tinyBackbone } from "../lib/model/_testing.ts";
import { createOptimizer, SparseSignSGD } from "../lib/train/mod.ts";

const B = 3;
const L = 6;

function source(seed: number) {
  const rng = Rng.fromSeed(seed);
  return {
    next(): StepBatch {
      const inputs = new Int32Array(B * L).map(() => 1 + rng.int(2));
      const labels = inputs.map((v, i) => (i % 4 === 0 ? 3 - v : v));
      labels[L - 1] = -100;
      return { inputs, labels, puzzleIds: Int32Array.from([0, 2, 2]) };
    },
  };
}

const METHODS: MethodConfig[] = [
  { method: "trm", nSup: 2, hCycles: 2, lCycles: 2, haltExplorationProb: 0.5, qLossWeight: 0.5, loss: "stablemax" },
  {
    method: "dis",
    nSup: 2,
    hCycles: 1,
    lCycles: 2,
    targets: "reveal",
    stepWeights: "uniform",
    autoregressive: true,
    loss: "stablemax",
  },
  {
    method: "dis",
    nSup: 2,
    hCycles: 2,
    lCycles: 1,
    targets: "mask",
    stepWeights: "linear",
    autoregressive: false,
    loss: "softmax",
  },
  {
    method: "dis",
    nSup: 2,
    hCycles: 1,
    lCycles: 2,
    targets: "replace",
    stepWeights: "uniform",
    autoregressive: true,
    loss: "stablemax",
  },
];

for (const backend of ["cpu", "wasm", "webgpu"] as const) {
  for (const method of METHODS) {
    const label = method.method === "trm" ? "trm" : `dis/${method.targets}`;
    Deno.test(`no tensor leaks: ${label} training, inference and state round trip (${backend})`, async (t) => {
      if (!(await initBackendOrSkip(t, backend))) return;
      const start = tf.memory().numTensors;
      const backbone = tinyBackbone(method, { seqLen: L, numPuzzleIds: 3 });
      const model = new RecursiveModel(backbone, { rng: stream(0, "init"), scope: `leak.${backend}.${label}.` });
      const optimizer = createOptimizer("adam-atan2", model.trainableVariables(), {
        beta1: 0.9,
        beta2: 0.95,
        weightDecay: 0.1,
      });
      const puzzleOptimizer = new SparseSignSGD(model.puzzleTable, backbone.hidden, { weightDecay: 0.1 });
      const base = { batchSize: B, optimizer, puzzleOptimizer };
      const trainer = method.method === "trm"
        ? new TrmTrainer(model, method, { ...base, exploration: rngExploration(stream(0, "halting")) })
        : new DisTrainer(model, method, { ...base, rng: stream(0, "targets") });
      const src = source(1);
      const rates = { lr: 1e-3, puzzleLr: 1e-2 };
      await (await trainer.step(src, rates)).read();
      const after = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        const r = await trainer.step(src, rates);
        if (i % 2 === 0) await r.read();
        else r.dispose();
        assert.equal(tf.memory().numTensors, after, `training step ${i + 2}`);
      }
      const p = await predict(model, method, src.next(), {
        keepSteps: true,
        hooks: { onYUpdate: (e) => void tf.sum(tf.sub(e.after, e.before)) },
      });
      assert.equal(p.stepPreds?.length, method.nSup);
      assert.equal(tf.memory().numTensors, after, "inference");
      trainer.setState(await trainer.getState());
      assert.equal(tf.memory().numTensors, after, "state round trip");
      assert.ok(trainer.forwardPasses.netCalls > 0);
      trainer.dispose();
      optimizer.dispose();
      model.dispose();
      assert.equal(tf.memory().numTensors, start, "everything disposed");
    });
  }
}
