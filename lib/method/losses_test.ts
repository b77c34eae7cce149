import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { IGNORE_LABEL } from "../data/mod.ts";
import { batchObjective, bceWithLogits, logStablemax, perSampleCrossEntropy, tokenCrossEntropy } from "./losses.ts";

await initBackend("cpu");

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

/** TRM's stablemax in float64: s(x) = x + 1 (x >= 0) or 1 / (1 - x); log(s / sum s). */
function refLogStablemax(row: number[]): number[] {
  const s = row.map((x) => (x < 0 ? 1 / (1 - x + 1e-30) : x + 1));
  const z = s.reduce((a, b) => a + b, 0);
  return s.map((v) => Math.log(v / z));
}

Deno.test("log stablemax matches TRM's definition, and its gradient is finite at x = 1 and x = 0", async () => {
  const rows = [[2, -1, 0.5], [1, 0, -3]];
  const got = await logStablemax(tf.tensor2d(rows)).data();
  close(got, rows.flatMap(refLogStablemax));
  const g = tf.grad((x: tf.Tensor) => tf.sum(logStablemax(x)))(tf.tensor2d([[1, 0, -1, 1]]));
  assert.ok((await g.data()).every(Number.isFinite));
});

Deno.test("token cross-entropy ignores -100 and out-of-range labels; softmax equals -log softmax", async () => {
  const logits = tf.tensor3d([[[1, 2, 0.5], [0, 0, 0], [3, -1, 2]]]); // [1, 3, 3]
  const labels = tf.tensor2d([[1, IGNORE_LABEL, 3]], [1, 3], "int32");
  const { loss, mask } = tokenCrossEntropy(logits, labels, "softmax");
  assert.deepEqual(Array.from(await mask.data()), [1, 0, 0]);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5));
  close(await loss.data(), [lse - 2, 0, 0]);
  const sm = tokenCrossEntropy(logits, tf.tensor2d([[0, 1, 2]], [1, 3], "int32"), "stablemax");
  const ref = [refLogStablemax([1, 2, 0.5])[0], refLogStablemax([0, 0, 0])[1], refLogStablemax([3, -1, 2])[2]];
  close(await sm.loss.data(), ref.map((v) => -v));
});

Deno.test("per-sample loss is the mean over supervised tokens (0 when none); the objective sums over the global batch", async () => {
  const logits = tf.zeros([2, 3, 4]); // uniform: every supervised token costs ln 4 (softmax)
  const labels = tf.tensor2d([[0, 1, IGNORE_LABEL], [IGNORE_LABEL, IGNORE_LABEL, IGNORE_LABEL]], [2, 3], "int32");
  const { loss, count } = perSampleCrossEntropy(logits, labels, "softmax");
  close(await loss.data(), [Math.log(4), 0]);
  assert.deepEqual(Array.from(await count.data()), [2, 0]);
  close(await batchObjective(loss, 8).data(), [Math.log(4) / 8]);
  close(await batchObjective(loss, 8, tf.tensor1d([2, 1])).data(), [2 * Math.log(4) / 8]);
  close(await batchObjective(loss, 4, 0.5).data(), [Math.log(4) / 8]);
});

Deno.test("BCE with logits is -t log sigmoid(x) - (1-t) log(1-sigmoid(x)), stable for large |x|", async () => {
  const x = [-5, 0, 2.5, 80, -80];
  const t = [0, 1, 1, 0, 1];
  const got = await bceWithLogits(tf.tensor1d(x), tf.tensor1d(t)).data();
  const ref = x.map((v, i) => {
    const p = 1 / (1 + Math.exp(-v));
    return Math.abs(v) > 30 ? Math.max(v, 0) - v * t[i] : -(t[i] * Math.log(p) + (1 - t[i]) * Math.log(1 - p));
  });
  close(got, ref, 1e-5);
});

Deno.test("the loss gradient of stablemax CE matches a finite difference", async () => {
  const base = [0.3, -0.7, 1.2, 0.05];
  const labels = tf.tensor2d([[2]], [1, 1], "int32");
  const f = (x: tf.Tensor) => tf.sum(tokenCrossEntropy(x.reshape([1, 1, 4]), labels, "stablemax").loss);
  const g = await tf.grad(f)(tf.tensor1d(base)).data();
  const h = 1e-3;
  for (let i = 0; i < 4; i++) {
    const up = base.slice();
    const dn = base.slice();
    up[i] += h;
    dn[i] -= h;
    const fd = ((await f(tf.tensor1d(up)).data())[0] - (await f(tf.tensor1d(dn)).data())[0]) / (2 * h);
    assert.ok(Math.abs(fd - g[i]) < 2e-3, `d/dx${i}: ${g[i]} vs ${fd}`);
  }
});
