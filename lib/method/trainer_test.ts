import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { Rng, stream } from "../random/mod.ts";
import { SparseSignSGD } from "../train/mod.ts";
import { type DisConfig, type MethodConfig, type NamedArrays } from "../model/mod.ts";
import { type BatchSource, DisTrainer, type StepBatch, TrmTrainer } from "./mod.ts";
import { TRAINER_DIS as DIS, TRAINER_TRM as TRM } from "../model/_testing.ts";
import { type TrainerRun, trainerRun } from "../train/_testing.ts";

await initBackend("cpu");

const B = 3;
const L = 5;

/** Batches whose rows carry their (batch, row) in sampleIds = 10 * batch + row. */
class Numbered implements BatchSource {
  taken = 0;
  constructor(private rng = Rng.fromSeed(4)) {}
  next(): StepBatch {
    const t = this.taken++;
    const inputs = new Int32Array(B * L).map(() => 1 + this.rng.int(2));
    const labels = inputs.map((v, i) => (i % 3 === 0 ? 3 - v : v));
    return {
      inputs,
      labels,
      puzzleIds: Int32Array.from([0, 1, 1]),
      sampleIds: Int32Array.from({ length: B }, (_, r) => 10 * t + r),
    };
  }
}

function build(method: MethodConfig, scope: string, rngState?: ReturnType<Rng["state"]>): TrainerRun {
  const rng = rngState ? Rng.fromState(rngState) : undefined;
  return trainerRun(method, { scope, batchSize: B, seqLen: L, numPuzzleIds: 2, rng });
}

for (const method of [TRM, DIS]) {
  Deno.test(`${method.method}: a run stopped and resumed from its state ends with the same bytes`, async () => {
    const rates = { lr: 3e-3, puzzleLr: 1e-2 };
    const straight = build(method, `resume.${method.method}.`);
    const src = new Numbered();
    for (let i = 0; i < 7; i++) (await straight.trainer.step(src, rates)).dispose();
    const want = await straight.model.getWeights();
    const wantCarry = await straight.trainer.getState();
    straight.dispose();

    const first = build(method, `resume.${method.method}.`);
    const src2 = new Numbered();
    for (let i = 0; i < 2; i++) (await first.trainer.step(src2, rates)).dispose();
    const saved = {
      weights: await first.model.getWeights(),
      optim: await first.optimizer.getState(),
      carry: await first.trainer.getState(),
      rng: first.rng.state(),
      source: { taken: src2.taken, rng: (src2 as unknown as { rng: Rng }).rng.state() },
    };
    first.dispose();

    const second = build(method, `resume.${method.method}.`, saved.rng);
    second.model.setWeights(saved.weights);
    second.optimizer.setState(saved.optim);
    second.trainer.setState(saved.carry);
    const src3 = new Numbered(Rng.fromState(saved.source.rng));
    src3.taken = saved.source.taken;
    for (let i = 0; i < 5; i++) (await second.trainer.step(src3, rates)).dispose();
    const got = await second.model.getWeights();
    const gotCarry = await second.trainer.getState();
    second.dispose();
    for (const k of Object.keys(want)) assert.deepEqual(got[k].data, want[k].data, k);
    const same = (a: NamedArrays, b: NamedArrays) =>
      Object.keys(a).every((k) => a[k].data.every((v, i) => v === b[k].data[i]));
    assert.ok(same(gotCarry, wantCarry), "carry after resume");
  });
}

Deno.test("TRM's rolling carry: halted slots take the new batch's row, running slots keep theirs", async () => {
  const r = build({ ...TRM, haltExplorationProb: 0 }, "carry.trm.");
  const src = new Numbered();
  const rates = { lr: 0, puzzleLr: 0 };
  (await r.trainer.step(src, rates)).dispose();
  assert.deepEqual(Array.from(r.trainer.slots.sampleIds), [0, 1, 2]);
  // The Q head starts at bias -5: nothing halts before N_sup = 3, so batches 1 and 2 are discarded.
  (await r.trainer.step(src, rates)).dispose();
  (await r.trainer.step(src, rates)).dispose();
  assert.deepEqual(Array.from(r.trainer.slots.sampleIds), [0, 1, 2]);
  assert.deepEqual(Array.from(r.trainer.slots.halted), [1, 1, 1]);
  (await r.trainer.step(src, rates)).dispose();
  assert.deepEqual(Array.from(r.trainer.slots.sampleIds), [30, 31, 32]);
  assert.equal(src.taken, 4);
  const f = r.trainer.forwardPasses;
  assert.equal(f.samplesCompleted, 3);
  assert.equal(f.meanPerCompletedSample, 3 * 2 * 2); // N_sup * T * (n + 1)
  assert.equal(f.netCallsWithGrad, 4 * B * 2);
  r.dispose();
});

Deno.test("TRM halts a slot whose halting logit is positive, unless exploration asks for more steps", async () => {
  const r = build(TRM, "halt.trm.");
  const w = await r.model.getWeights();
  w["q_head.bias"].data.set([5, 0]); // every halting logit is 5 > 0
  r.model.setWeights(w);
  let calls = 0;
  const trainer = new TrmTrainer(r.model, TRM, {
    batchSize: B,
    optimizer: { apply() {} },
    exploration: {
      draw: (b, nSup) => {
        calls++;
        assert.deepEqual([b, nSup], [B, 3]);
        // slot 0 explores with a minimum of 3 steps, slot 1 explores with 2, slot 2 does not explore
        return { u: Float64Array.from([0.1, 0.2, 0.9]), k: Int32Array.from([3, 2, 3]) };
      },
    },
  });
  const src = new Numbered();
  (await trainer.step(src, { lr: 0, puzzleLr: 0 })).dispose();
  assert.deepEqual(Array.from(trainer.slots.halted), [0, 0, 1]);
  (await trainer.step(src, { lr: 0, puzzleLr: 0 })).dispose();
  assert.deepEqual(Array.from(trainer.slots.halted), [0, 1, 1]);
  assert.deepEqual(Array.from(trainer.slots.sampleIds), [0, 1, 12]);
  assert.equal(calls, 2);
  trainer.dispose();
  r.dispose();
});

Deno.test("DIS: every-step fetching discards batches while samples run; when-needed fetches only to refill", async () => {
  for (const [fetch, taken] of [["every-step", 7], ["when-needed", 3]] as const) {
    const r = build(DIS, `fetch.${fetch}.`);
    const trainer = new DisTrainer(r.model, DIS, { batchSize: B, optimizer: { apply() {} }, rng: r.rng, fetch });
    const src = new Numbered();
    const rates = { lr: 0, puzzleLr: 0 };
    for (let i = 0; i < 7; i++) (await trainer.step(src, rates)).dispose();
    assert.equal(src.taken, taken, fetch);
    assert.deepEqual(Array.from(trainer.slots.steps), [1, 1, 1]);
    assert.equal(trainer.forwardPasses.meanPerCompletedSample, 3 * 3); // N_sup = 3 steps of T(n+1) = 3
    trainer.dispose();
    r.dispose();
  }
});

Deno.test("DIS forward passes: 18 per sample with N_sup=6, T=1, n=2", async () => {
  const method: DisConfig = { ...DIS, nSup: 6 };
  const r = build(method, "fp.dis.");
  const src = new Numbered();
  for (let i = 0; i < 6; i++) (await r.trainer.step(src, { lr: 0, puzzleLr: 0 })).dispose();
  assert.equal(r.trainer.forwardPasses.meanPerCompletedSample, 18);
  assert.equal(r.trainer.forwardPasses.samplesCompleted, B);
  r.dispose();
});

Deno.test("trainers refuse a batch of the wrong size, naming the field", async () => {
  const r = build(DIS, "bad.dis.");
  const bad = {
    next: () => ({ inputs: new Int32Array(4), labels: new Int32Array(B * L), puzzleIds: new Int32Array(B) }),
  };
  await assert.rejects(
    () => r.trainer.step(bad, { lr: 0, puzzleLr: 0 }),
    /Cannot use DIS training batch: inputs has 4 tokens, expected 3 x 5/,
  );
  r.dispose();
});

Deno.test("DIS: both fetch modes train the same samples identically until they finish (rows re-read every step)", async () => {
  const weights: Record<string, NamedArrays> = {};
  for (const fetch of ["every-step", "when-needed"] as const) {
    const r = build(DIS, `same.${fetch}.`);
    const trainer = new DisTrainer(r.model, DIS, {
      batchSize: B,
      optimizer: r.optimizer,
      puzzleOptimizer: new SparseSignSGD(r.model.puzzleTable, 8, { weightDecay: 0.1 }),
      rng: stream(7, "targets"),
      fetch,
    });
    const src = new Numbered();
    for (let i = 0; i < DIS.nSup; i++) (await trainer.step(src, { lr: 3e-3, puzzleLr: 1e-2 })).dispose();
    weights[fetch] = await r.model.getWeights();
    trainer.dispose();
    r.dispose();
  }
  for (const k of Object.keys(weights["every-step"])) {
    assert.deepEqual(weights["when-needed"][k].data, weights["every-step"][k].data, k);
  }
});

Deno.test("forward-pass counters survive a checkpoint exactly beyond float32's 2^24", async () => {
  const { forwardStatsArray, forwardStatsFrom } = await import("./supervision.ts");
  const stats = {
    optimizerSteps: 1_000_003,
    netCalls: 2 ** 40 + 7,
    netCallsWithGrad: 2 ** 24 + 1,
    samplesCompleted: 123_456_789,
    netCallsOfCompleted: 2 ** 33 + 3,
    meanPerCompletedSample: 0,
  };
  stats.meanPerCompletedSample = stats.netCallsOfCompleted / stats.samplesCompleted;
  assert.deepEqual(forwardStatsFrom(forwardStatsArray(stats)), stats);
});

Deno.test("DIS stagger: slot i starts at step i mod N_sup + 1, then every batch mixes all steps", async () => {
  // DIS here has N_sup = 3 and B = 3: after the first step the slots have run 1, 2 and 3 steps.
  for (const stagger of [false, true]) {
    const r = build(DIS, `stagger.${stagger}.`);
    const trainer = new DisTrainer(r.model, DIS, { batchSize: B, optimizer: { apply() {} }, rng: r.rng, stagger });
    const src = new Numbered();
    const rates = { lr: 0, puzzleLr: 0 };
    (await trainer.step(src, rates)).dispose();
    assert.deepEqual(Array.from(trainer.slots.steps), stagger ? [1, 2, 3] : [1, 1, 1], `stagger ${stagger}`);
    for (let i = 0; i < 4; i++) (await trainer.step(src, rates)).dispose();
    // After the first refills the phases stay apart: each slot runs the full N_sup steps per sample.
    assert.deepEqual(Array.from(trainer.slots.steps), stagger ? [2, 3, 1] : [2, 2, 2], `stagger ${stagger}`);
    trainer.dispose();
    r.dispose();
  }
});
