/**
 * Gradient accumulation (TrainerOptions.microBatch): a step of B rows run as passes of m rows is the
 * full-batch step up to float summation order, for TRM (ACT halting carry) and DIS (staggered slots,
 * autoregressive input): the same weights, optimiser moments, carry and logged metrics, to ~1e-6.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { Rng } from "../random/mod.ts";
import type { MethodConfig, NamedArrays } from "../model/mod.ts";
import type { BatchSource, StepBatch } from "./mod.ts";
import { TRAINER_DIS as DIS, TRAINER_TRM as TRM } from "../model/_testing.ts";
import { trainerRun } from "../train/_testing.ts";

await initBackend("cpu");

const B = 8;
const L = 5;

/** The same batches on every run: random tokens, some labels flipped, two puzzle ids. */
class Batches implements BatchSource {
  #rng = Rng.fromSeed(11);
  next(): StepBatch {
    const inputs = new Int32Array(B * L).map(() => 1 + this.#rng.int(2));
    const labels = inputs.map((v, i) => (i % 3 === 0 ? 3 - v : v));
    return { inputs, labels, puzzleIds: Int32Array.from({ length: B }, (_, i) => i % 2) };
  }
}

interface Outcome {
  weights: NamedArrays;
  optim: NamedArrays;
  carry: NamedArrays;
  metrics: Record<string, number>[];
}

async function train(method: MethodConfig, microBatch: number | undefined, steps: number): Promise<Outcome> {
  const r = trainerRun(method, {
    scope: `accumulate.${method.method}.`,
    batchSize: B,
    seqLen: L,
    numPuzzleIds: 2,
    microBatch,
    stagger: method.method === "dis",
  });
  try {
    const src = new Batches();
    const metrics = [];
    let after1 = 0;
    for (let i = 0; i < steps; i++) {
      metrics.push(await (await r.trainer.step(src, { lr: 3e-3, puzzleLr: 1e-2 })).read());
      if (i === 0) after1 = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, after1, "a step leaked tensors");
    return {
      weights: await r.model.getWeights(),
      optim: (await r.optimizer.getState()) as NamedArrays,
      carry: await r.trainer.getState(),
      metrics,
    };
  } finally {
    r.dispose();
  }
}

function maxDiff(a: NamedArrays, b: NamedArrays): { name: string; diff: number } {
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  let worst = { name: "", diff: 0 };
  for (const k of Object.keys(a)) {
    assert.equal(b[k].data.length, a[k].data.length, k);
    for (let i = 0; i < a[k].data.length; i++) {
      const d = Math.abs(a[k].data[i] - b[k].data[i]);
      if (!(d <= worst.diff)) worst = { name: k, diff: d };
    }
  }
  return worst;
}

for (const method of [TRM, { ...DIS, stepWeights: "linear" } as MethodConfig]) {
  for (const micro of [1, 2, 3, 4]) {
    Deno.test(`${method.method}: micro-batch ${micro} of ${B} gives the full-batch update, carry and metrics`, async () => {
      const steps = 4;
      const full = await train(method, undefined, steps);
      const acc = await train(method, micro, steps);
      const w = maxDiff(full.weights, acc.weights);
      assert.ok(w.diff < 1e-6, `weights: max |diff| ${w.diff} at ${w.name}`);
      const o = maxDiff(full.optim, acc.optim);
      assert.ok(o.diff < 1e-6, `optimiser state: max |diff| ${o.diff} at ${o.name}`);
      const c = maxDiff(full.carry, acc.carry);
      assert.ok(c.diff < 1e-5, `carry: max |diff| ${c.diff} at ${c.name}`);
      for (let s = 0; s < steps; s++) {
        for (const [k, v] of Object.entries(full.metrics[s])) {
          // The logged loss is the full batch's mean objective, not a sum of per-pass means.
          assert.ok(
            Math.abs(acc.metrics[s][k] - v) <= 1e-6 * Math.max(1, Math.abs(v)),
            `step ${s + 1} ${k}: ${acc.metrics[s][k]} vs ${v}`,
          );
        }
      }
    });
  }
}

Deno.test("micro-batch of the whole batch (or more) is the unaccumulated step, bit for bit", async () => {
  for (const method of [TRM, DIS]) {
    const full = await train(method, undefined, 3);
    for (const micro of [B, B + 5]) {
      const same = await train(method, micro, 3);
      assert.deepEqual(same.weights, full.weights);
      assert.deepEqual(same.metrics, full.metrics);
    }
  }
});
