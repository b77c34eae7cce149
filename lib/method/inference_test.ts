/**
 * The trainers against inference: with lr 0 the weights stay fixed, so training steps 1..N_sup of a fresh
 * batch must produce exactly the logits lib/model's inference produces at those steps.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { Rng, stream } from "../random/mod.ts";
import { type BackboneConfig, forwardPasses, type MethodConfig, predict, RecursiveModel } from "../model/mod.ts";
import { REVEAL_DIS as DIS, tinyBackbone } from "../model/_testing.ts";
import { DisTrainer, rngExploration, TrmTrainer } from "./mod.ts";

await initBackend("cpu");

const TRM: MethodConfig = {
  method: "trm",
  nSup: 3,
  hCycles: 2,
  lCycles: 2,
  haltExplorationProb: 0,
  qLossWeight: 0.5,
  loss: "stablemax",
};

function tiny(method: MethodConfig, over: Partial<BackboneConfig> = {}): BackboneConfig {
  return tinyBackbone(method, { seqLen: 8, numPuzzleIds: 2 }, over);
}

/**
 * With lr 0 the weights stay fixed, so training steps 1..N_sup of a fresh batch must produce exactly the
 * logits inference produces at those steps: same recursion, step embedding, carry and inputs.
 */
for (const method of [DIS, { ...DIS, hCycles: 2, autoregressive: false }, TRM] as MethodConfig[]) {
  Deno.test(`training steps and inference agree step by step (${method.method}, T=${method.hCycles})`, async () => {
    const b = 3;
    const l = 8;
    const model = new RecursiveModel(tiny(method), { rng: stream(3, "init") });
    model.puzzleTable.forEach((_, i, a) => (a[i] = Math.sin(i)));
    const rng = Rng.fromSeed(9);
    const batch = {
      inputs: new Int32Array(b * l).map(() => 1 + rng.int(2)),
      labels: new Int32Array(b * l).map(() => 1 + rng.int(2)),
      puzzleIds: Int32Array.from([0, 1, 1]),
    };
    const trainedT: tf.Tensor[] = [];
    const base = {
      batchSize: b,
      optimizer: { apply() {} },
      onGradients: (e: { logits: tf.Tensor }) => trainedT.push(e.logits.clone()),
    };
    const trainer = method.method === "dis"
      ? new DisTrainer(model, method, { ...base, rng: Rng.fromSeed(1) })
      : new TrmTrainer(model, method, { ...base, exploration: rngExploration(Rng.fromSeed(1)) });
    for (let s = 0; s < method.nSup; s++) (await trainer.step({ next: () => batch }, { lr: 0, puzzleLr: 0 })).dispose();
    const inferredT: tf.Tensor[] = [];
    const p = await predict(model, method, batch, {
      keepSteps: true,
      hooks: { onYUpdate: (e) => e.cycle === method.hCycles - 1 && inferredT.push(tf.keep(e.after.clone())) },
    });
    const read = (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
    const trained = await read(trainedT);
    const inferred = await read(inferredT);
    for (const t of [...trainedT, ...inferredT]) t.dispose();
    assert.equal(inferred.length, method.nSup);
    for (let s = 0; s < method.nSup; s++) assert.deepEqual(trained[s], inferred[s], `step ${s + 1}`);
    assert.equal(p.stepPreds!.length, method.nSup);
    assert.deepEqual(p.stepPreds![method.nSup - 1], p.preds);
    assert.equal(p.forwardPasses, forwardPasses(method).perSampleInference);
    assert.equal(p.qHaltLogits?.length, method.method === "trm" ? b : undefined);
    trainer.dispose();
    model.dispose();
  });
}
