/**
 * Training on webgpu with the options that only move work (none may change a byte):
 * - the device-resident puzzle table (rows gathered there, sign-SGD applied by a kernel, no per-step
 *   readback of the row gradient) against the host table: weights, table, every step's metrics; the tensor
 *   count stays flat, and a stale host copy is never handed out. Elsewhere the option is off and asking for
 *   it fails with the reason;
 * - tfjs's CPU forwarding of small data-movement ops, which lib/backend turns off on webgpu.
 * Tests that need a webgpu adapter skip, saying why, where none exists.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { initBackendOrSkip } from "../backend/_testing.ts";
import { Rng } from "../random/mod.ts";
import type { MethodConfig } from "../model/mod.ts";
import type { BatchSource, StepBatch } from "./mod.ts";
import { TRAINER_DIS as DIS, TRAINER_TRM as TRM } from "../model/_testing.ts";
import { type TrainerRun, trainerRun } from "../train/_testing.ts";

const B = 4;
const L = 5;
const IDS = 3;

/** Batches with repeated puzzle ids, so the device sign-SGD sums several rows per id. */
function source(seed: number): BatchSource {
  const rng = Rng.fromSeed(seed);
  return {
    next(): StepBatch {
      const inputs = new Int32Array(B * L).map(() => 1 + rng.int(2));
      const labels = inputs.map((v, i) => (i % 3 === 0 ? 3 - v : v));
      return { inputs, labels, puzzleIds: Int32Array.from({ length: B }, () => rng.int(IDS)) };
    },
  };
}

/** A trainer run whose puzzle table starts random (so rows differ), on the device when `onDevice`. */
function build(
  method: MethodConfig,
  scope: string,
  onDevice: boolean,
  puzzleTable?: "host" | "device",
): TrainerRun {
  return trainerRun(method, {
    scope,
    puzzleTable,
    batchSize: B,
    seqLen: L,
    numPuzzleIds: IDS,
    prepare(model) {
      const init = Rng.fromSeed(9);
      model.puzzleTable.forEach((_, i, a) => (a[i] = init.normal()));
      if (onDevice) model.puzzleTableToDevice();
    },
  });
}

for (const method of [TRM, DIS]) {
  Deno.test(`${method.method}: the puzzle table on the device trains to the same bytes as on the host`, async (t) => {
    if (!(await initBackendOrSkip(t, "webgpu"))) return;
    const start = tf.memory().numTensors;
    const rates = { lr: 3e-3, puzzleLr: 1e-2 };
    const host = build(method, `devpz.host.${method.method}.`, false);
    const dev = build(method, `devpz.dev.${method.method}.`, true);
    assert.ok(dev.model.puzzleTableOnDevice && !host.model.puzzleTableOnDevice);
    const [srcHost, srcDev] = [source(3), source(3)];
    let count = 0;
    for (let i = 0; i < 4; i++) {
      const mh = await (await host.trainer.step(srcHost, rates)).read();
      const md = await (await dev.trainer.step(srcDev, rates)).read();
      assert.deepEqual(md, mh, `metrics of step ${i + 1}`);
      if (i === 0) count = tf.memory().numTensors;
      else assert.equal(tf.memory().numTensors, count, `tensors after step ${i + 1}`);
    }
    assert.throws(() => dev.model.puzzleTable, /await model.syncPuzzleTable\(\) first/);
    assert.throws(() => dev.model.puzzleRows([0]), /syncPuzzleTable/);
    const [wh, wd] = [await host.model.getWeights(), await dev.model.getWeights()];
    for (const [k, v] of Object.entries(wh)) {
      assert.deepEqual(Array.from(wd[k].data), Array.from(v.data), `${k} after 4 steps`);
    }
    // getWeights read the table back: the host copy is current again.
    assert.deepEqual(Array.from(dev.model.puzzleTable), Array.from(host.model.puzzleTable));
    const [gh, gd] = [
      host.model.puzzleRowsTensor(Int32Array.from([2, 0])),
      dev.model.puzzleRowsTensor(Int32Array.from([2, 0])),
    ];
    assert.deepEqual(Array.from(await gd.data()), Array.from(await gh.data()));
    tf.dispose([gh, gd]);
    host.dispose();
    dev.dispose();
    assert.equal(tf.memory().numTensors, start, "everything disposed");
    await initBackend("cpu");
  });
}

Deno.test("setWeights and puzzleTableToHost keep the device table and the host copy in step", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const run = build(DIS, "devpz.set.", true);
  const { model } = run;
  const weights = await model.getWeights();
  const table = Float32Array.from({ length: IDS * 8 }, (_, i) => i / 8);
  model.setWeights({ ...weights, "puzzle_emb.weight": { shape: [IDS, 8], data: table } });
  const rows = model.puzzleRowsTensor(Int32Array.from([1]));
  assert.deepEqual(Array.from(await rows.data()), Array.from(table.subarray(8, 16)));
  rows.dispose();
  assert.throws(() => model.puzzleRowsTensor(Int32Array.from([IDS])), /id 3 at batch row 0 is outside 0..2/);
  await (await run.trainer.step(source(4), { lr: 1e-3, puzzleLr: 1e-2 })).read();
  await model.puzzleTableToHost();
  assert.ok(!model.puzzleTableOnDevice);
  assert.notDeepEqual(Array.from(model.puzzleTable), Array.from(table), "the step's update came back");
  run.dispose();
  await initBackend("cpu");
});

Deno.test("puzzleTable: device moves the table when a trainer is built on webgpu, and only there", async (t) => {
  await initBackend("cpu");
  const onCpu = build(DIS, "devpz.opt.cpu.", false, "device");
  assert.ok(!onCpu.model.puzzleTableOnDevice);
  assert.throws(() => onCpu.model.puzzleTableToDevice(), /the cpu backend has no device sign-SGD kernel/);
  onCpu.dispose();
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const onHost = build(DIS, "devpz.opt.host.", false, "host");
  assert.ok(!onHost.model.puzzleTableOnDevice);
  onHost.dispose();
  const onGpu = build(DIS, "devpz.opt.gpu.", false, "device");
  assert.ok(onGpu.model.puzzleTableOnDevice);
  onGpu.dispose();
  await initBackend("cpu");
});

Deno.test("webgpu: turning tfjs's CPU forwarding off leaves training bytes unchanged", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const train = async (cpuForward: boolean) => {
    tf.env().set("WEBGPU_CPU_FORWARD", cpuForward);
    const run = build(DIS, `devpz.fwd.${cpuForward}.`, false);
    const src = source(5);
    const metrics = [];
    for (let i = 0; i < 3; i++) metrics.push(await (await run.trainer.step(src, { lr: 3e-3, puzzleLr: 1e-2 })).read());
    const w = await run.model.getWeights();
    run.dispose();
    return { metrics, w };
  };
  try {
    const [on, off] = [await train(true), await train(false)];
    assert.deepEqual(off.metrics, on.metrics);
    for (const [k, v] of Object.entries(on.w)) assert.deepEqual(Array.from(off.w[k].data), Array.from(v.data), k);
  } finally {
    tf.env().set("WEBGPU_CPU_FORWARD", false);
  }
  await initBackend("cpu");
});
