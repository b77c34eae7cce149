import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";
import { Ema } from "./ema.ts";

await initBackend("cpu");

Deno.test("EMA arithmetic: shadow = 0.001 * param + 0.999 * shadow, from a copy of the start", async () => {
  const w = tf.variable(tf.tensor([1, -2, 4]), true, "ema.arith.w");
  const ema = new Ema([w]);
  const expected = Float32Array.from([1, -2, 4]);
  const steps = [[2, 2, 2], [0, -8, 1], [10, 10, 10]];
  for (const p of steps) {
    w.assign(tf.tensor(p));
    tf.tidy(() => ema.update());
    for (let i = 0; i < 3; i++) {
      expected[i] = Math.fround(Math.fround(p[i] * Math.fround(0.001)) + Math.fround(expected[i] * Math.fround(0.999)));
    }
  }
  const shadow = await ema.getState();
  assert.deepEqual(shadow["ema.arith.w"].data, expected);
  assert.ok(Math.abs(shadow["ema.arith.w"].data[0] - 1.008999001) < 1e-6, "1 -> 1.001 -> 0.999999 -> 1.008999");
  ema.dispose();
  w.dispose();
});

Deno.test("EMA swap puts the shadow in for evaluation and restores the live weights exactly", async () => {
  const w = tf.variable(tf.tensor([0.1, 0.2]), true, "ema.swap.w");
  const ema = new Ema([w], { decay: 0.5 });
  w.assign(tf.tensor([0.3, 1 / 3]));
  ema.update();
  const live = await w.data();
  const seen = await ema.withShadow(async () => Array.from(await w.data()));
  assert.deepEqual(seen, [Math.fround(0.2), Math.fround(Math.fround(Math.fround(1 / 3) * 0.5) + Math.fround(0.1))]);
  assert.deepEqual(await w.data(), live);
  assert.equal(ema.swapped, false);
  ema.swapIn();
  assert.throws(() => ema.update(), /while its weights are swapped in/);
  assert.throws(() => ema.swapIn(), /already swapped in/);
  ema.swapOut();
  assert.throws(() => ema.swapOut(), /not swapped in/);
  await assert.rejects(() => ema.withShadow(() => Promise.reject(new Error("eval failed"))), /eval failed/);
  assert.deepEqual(await w.data(), live, "live weights are back after a failing evaluation");
  ema.dispose();
  w.dispose();
});

Deno.test("EMA state round-trips and refuses another model's state; no leaks", async () => {
  const a = tf.variable(tf.tensor([1, 2, 3]), true, "ema.state.a");
  const ema = new Ema([a]);
  a.assign(tf.tensor([4, 5, 6]));
  ema.update();
  const saved = await ema.getState();
  const fresh = new Ema([a]);
  fresh.setState(saved);
  assert.deepEqual(await fresh.getState(), saved);
  assert.throws(() => fresh.setState({}), /variable "ema.state.a" has no saved shadow/);
  assert.throws(() => fresh.setState({ ...saved, other: saved["ema.state.a"] }), CheckpointError);
  assert.throws(
    () => fresh.setState({ "ema.state.a": { shape: [2], data: new Float32Array(2) } }),
    /has shape \[2\], expected \[3\]/,
  );
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    fresh.update();
    await fresh.withShadow(() => {});
  }
  assert.equal(tf.memory().numTensors, before);
  ema.dispose();
  fresh.dispose();
  a.dispose();
});
