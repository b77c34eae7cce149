/**
 * The fused kernels against the chains of tfjs ops they replace: values and gradients (through a random
 * linear functional of the output), and no leaked tensors, on cpu and wasm; plus the Tile and Identity
 * replacements and the fast exp.
 */
import assert from "node:assert/strict";
import {
  addRmsNorm,
  hasKernel,
  initBackend,
  installFusedKernels,
  rmsNorm,
  ropeAttention,
  siluGate,
  tf,
  uninstallFusedKernels,
} from "./mod.ts";
import { expFast } from "./_kernel_util.ts";
import { tileInto } from "./fused_kernels.ts";
import { ropeTables } from "../model/layers.ts";
import { Rng } from "../random/mod.ts";
import { randomTensor, ropeAttentionByHand, skipTest } from "./_testing.ts";

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/**
 * Max difference of the values and of the gradients of sum(w * f(xs)) between `fast` and `reference`,
 * and checks that a gradient computation inside tidy leaves no tensor behind.
 */
async function compare(
  fast: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  rng: Rng,
): Promise<number> {
  const y = fast(...xs);
  const w = randomTensor(rng, y.shape);
  const loss = (f: typeof fast) => (...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w));
  let worst = await maxDiff(y, reference(...xs));
  const gf = tf.grads(loss(fast))(xs);
  const gr = tf.grads(loss(reference))(xs);
  for (let i = 0; i < xs.length; i++) worst = Math.max(worst, await maxDiff(gf[i], gr[i]));
  tf.dispose([y, ...gf, ...gr]);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    tf.grads(loss(fast))(xs);
  });
  assert.equal(tf.memory().numTensors, before, `tensors ${before} -> ${tf.memory().numTensors}`);
  w.dispose();
  return worst;
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`fused addRmsNorm and siluGate match the op chains, values and gradients (${backend})`, async () => {
    await initBackend(backend);
    assert.ok(hasKernel("TrmDisAddRmsNorm") && hasKernel("TrmDisSiluGate"));
    const rng = Rng.fromSeed(5);
    const h = randomTensor(rng, [2, 5, 24]), a = randomTensor(rng, [2, 5, 24]);
    const norm = await compare((x, y) => addRmsNorm(x, y, 1e-5), (x, y) => rmsNorm(tf.add(x, y), 1e-5), [h, a], rng);
    console.log(`addRmsNorm maxdiff: ${norm.toExponential(2)}`);
    assert.ok(norm < 2e-5, `addRmsNorm maxdiff ${norm}`);
    const gu = randomTensor(rng, [3, 4, 16], 3);
    const gate = await compare(
      siluGate,
      (x) => {
        const [g, u] = tf.split(x, 2, -1);
        return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
      },
      [gu],
      rng,
    );
    console.log(`siluGate maxdiff: ${gate.toExponential(2)}`);
    assert.ok(gate < 2e-5, `siluGate maxdiff ${gate}`);
    tf.dispose([h, a, gu]);
  });

  Deno.test(`fused ropeAttention matches split + RoPE + attention, values and gradients (${backend})`, async (t) => {
    await initBackend(backend);
    if (!hasKernel("TrmDisRopeAttention")) {
      await skipTest(t, "OpenBLAS present", "the fused attention needs OpenBLAS (Debian: libopenblas0-pthread)");
      return;
    }
    const rng = Rng.fromSeed(6);
    const [b, s, heads, hd] = [2, 7, 3, 4];
    const d = heads * hd;
    const tables = ropeTables(s, hd, 10000);
    const cos = tf.tensor2d(tables.cos, [s, hd]), sin = tf.tensor2d(tables.sin, [s, hd]);
    const qkv = randomTensor(rng, [b, s, 3 * d]);
    const reference = (x: tf.Tensor) => ropeAttentionByHand(x, cos, sin, heads);
    const worst = await compare((x) => ropeAttention(x, cos, sin), reference, [qkv], rng);
    console.log(`ropeAttention maxdiff: ${worst.toExponential(2)}`);
    assert.ok(worst < 2e-5, `ropeAttention maxdiff ${worst}`);
    tf.dispose([cos, sin, qkv]);
  });

  Deno.test(`Tile copies blocks for every numeric dtype and Identity shares data safely (${backend})`, async () => {
    await initBackend(backend);
    const cases: [number[], number[]][] = [[[1, 1, 3], [2, 4, 1]], [[2, 3], [3, 2]], [[4], [1]], [[2, 1, 2], [
      1,
      3,
      2,
    ]]];
    for (const [shape, reps] of cases) {
      for (const dtype of ["float32", "int32", "bool"] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => (dtype === "bool" ? i % 2 : i + 1));
        const x = tf.tensor(values, shape, dtype);
        const fast = await tf.tile(x, reps).data();
        uninstallFusedKernels(backend);
        const stock = await tf.tile(x, reps).data();
        installFusedKernels(backend);
        assert.deepEqual(Array.from(fast), Array.from(stock), `tile [${shape}] by [${reps}] ${dtype}`);
        x.dispose();
      }
    }
    const src = tf.tensor([1, 2, 3]);
    const copy = tf.clone(src);
    src.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3]);
    copy.dispose();
  });
}

Deno.test("tileInto handles rank 0 and a broadcast of one row", () => {
  const one = new Float32Array(1);
  tileInto(new Float32Array([7]), [], [], one);
  assert.equal(one[0], 7);
  const out = new Float32Array(2 * 3 * 2);
  tileInto(new Float32Array([1, 2]), [1, 1, 2], [2, 3, 1], out);
  assert.deepEqual(Array.from(out), [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
});

Deno.test("expFast is within 2e-7 relative of Math.exp on the range the kernels use", () => {
  let worst = 0;
  for (let i = 0; i <= 20000; i++) {
    const x = -87 + (i / 20000) * 175;
    const e = Math.exp(x);
    worst = Math.max(worst, Math.abs(expFast(x) - e) / e);
  }
  assert.ok(worst < 2e-7, `relative error ${worst}`);
  assert.equal(expFast(-1000), 0);
  assert.equal(expFast(0), 1);
});
