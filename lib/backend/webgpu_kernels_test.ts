/**
 * The WGSL kernels against the tfjs op chains they replace, on the webgpu backend (a software adapter such
 * as Debian's lavapipe is enough): values and gradients (through a random linear functional of the
 * output), no leaked tensors; the device sign-SGD against lib/train's host SparseSignSGD, bit for bit;
 * the environment switch that turns the kernels off. Tests that need an adapter skip, saying why, where
 * none exists.
 */
import assert from "node:assert/strict";
import {
  ADAM_UPDATE,
  addRmsNorm,
  dropHostCopy,
  hasKernel,
  initBackend,
  installWebgpuKernels,
  ropeAttention,
  signSgdRowsInPlace,
  siluGate,
  STABLEMAX_CE,
  tf,
  uninstallWebgpuKernels,
  WEBGPU_KERNELS,
} from "./mod.ts";
import { initBackendOrSkip, randomTensor, ropeAttentionByHand } from "./_testing.ts";
import { grid } from "./_webgpu_dispatch.ts";
import { ropeTables } from "../model/layers.ts";
import { Rng } from "../random/mod.ts";
import { perSampleCrossEntropy } from "../method/mod.ts";
import { createOptimizer, OPTIMIZER_KINDS, SparseSignSGD } from "../train/mod.ts";

/** max |x - y| / max |y|. */
async function relDiff(x: tf.Tensor, y: tf.Tensor): Promise<number> {
  assert.deepEqual(x.shape, y.shape);
  const [a, b] = [await x.data(), await y.data()];
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

/**
 * Worst relative difference of the value and of every input gradient of sum(w * f(xs)) between the
 * kernels and the op chains (the same function with the kernels unregistered); and no tensor left behind
 * by a gradient computation through the kernels.
 */
async function compare(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], rng: Rng): Promise<number> {
  installWebgpuKernels();
  const probe = f(...xs);
  const w = randomTensor(rng, probe.shape);
  probe.dispose();
  const run = () => [f(...xs), ...tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), w)))(xs)];
  const fast = run();
  uninstallWebgpuKernels();
  const reference = run();
  installWebgpuKernels();
  let worst = 0;
  for (let i = 0; i < fast.length; i++) worst = Math.max(worst, await relDiff(fast[i], reference[i]));
  tf.dispose([...fast, ...reference]);
  const before = tf.memory().numTensors;
  tf.tidy(() => void run());
  assert.equal(tf.memory().numTensors, before, `tensors ${before} -> ${tf.memory().numTensors}`);
  w.dispose();
  return worst;
}

Deno.test("webgpu kernels match the op chains: addRmsNorm, siluGate, ropeAttention, values and gradients", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  for (const k of WEBGPU_KERNELS) assert.ok(hasKernel(k), `${k} registered on webgpu`);
  const rng = Rng.fromSeed(11);
  // D = 40 is not a multiple of the 32 threads per row, so some threads sum two values and some one.
  const [h, a] = [randomTensor(rng, [3, 5, 40]), randomTensor(rng, [3, 5, 40])];
  const norm = await compare((x, y) => addRmsNorm(x, y, 1e-5), [h, a], rng);
  console.log(`addRmsNorm worst rel diff ${norm.toExponential(2)}`);
  assert.ok(norm < 1e-5, `addRmsNorm ${norm}`);
  const gu = randomTensor(rng, [3, 4, 2 * 20], 3);
  const gate = await compare(siluGate, [gu], rng);
  console.log(`siluGate worst rel diff ${gate.toExponential(2)}`);
  assert.ok(gate < 1e-5, `siluGate ${gate}`);
  // S = 37: two key tiles of 32, the second partial; 2 heads of width 8.
  const [b, s, heads, hd] = [2, 37, 2, 8];
  const tables = ropeTables(s, hd, 10000);
  const cos = tf.tensor2d(tables.cos, [s, hd]), sin = tf.tensor2d(tables.sin, [s, hd]);
  const qkv = randomTensor(rng, [b, s, 3 * heads * hd]);
  const att = await compare((x) => ropeAttention(x, cos, sin), [qkv], rng);
  console.log(`ropeAttention worst rel diff ${att.toExponential(2)}`);
  assert.ok(att < 1e-5, `ropeAttention ${att}`);
  tf.dispose([h, a, gu, cos, sin, qkv]);
  await initBackend("cpu");
});

Deno.test("webgpu ropeAttention equals RoPE then softmax attention computed by hand", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const rng = Rng.fromSeed(12);
  const [b, s, heads, hd] = [1, 5, 2, 4];
  const tables = ropeTables(s, hd, 10000);
  const cos = tf.tensor2d(tables.cos, [s, hd]), sin = tf.tensor2d(tables.sin, [s, hd]);
  const qkv = randomTensor(rng, [b, s, 3 * heads * hd]);
  const ours = ropeAttention(qkv, cos, sin);
  // Independent of fused.ts's fallback: split, RoPE, transposes and the plain attention op.
  const reference = tf.tidy(() => ropeAttentionByHand(qkv, cos, sin, heads));
  const d = await relDiff(ours, reference);
  assert.ok(d < 1e-5, `ropeAttention vs by-hand ${d}`);
  tf.dispose([cos, sin, qkv, ours, reference]);
  await initBackend("cpu");
});

Deno.test("device sign-SGD equals the host SparseSignSGD bit for bit, reading back between steps", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const rng = Rng.fromSeed(13);
  const [n, d, b] = [7, 48, 16];
  const host = Float32Array.from({ length: n * d }, () => rng.normal());
  const table = tf.tensor2d(host.slice(), [n, d]);
  const opt = new SparseSignSGD(host, d, { weightDecay: 0.1 });
  const start = tf.memory().numTensors;
  let mismatches = 0;
  for (let step = 0; step < 4; step++) {
    // Repeated ids (sums over several rows), and exact zeros (sign 0: decay only).
    const ids = Int32Array.from({ length: b }, () => rng.int(n));
    const g = Float32Array.from({ length: b * d }, (_, i) => (i % 5 === 0 ? 0 : rng.normal() * 1e-3));
    const gT = tf.tensor2d(g, [b, d]);
    const lr = 0.01 * (step + 1);
    signSgdRowsInPlace(table, gT, ids, lr, 0.1);
    gT.dispose();
    opt.apply(ids, g, lr);
    // The read caches values on the host; the next in-place step must invalidate that cache.
    const dev = await table.data();
    for (let i = 0; i < host.length; i++) if (dev[i] !== host[i]) mismatches++;
  }
  console.log(`device sign-SGD: ${mismatches} of ${4 * n * d} values differ from the host's`);
  assert.equal(mismatches, 0);
  dropHostCopy(table);
  assert.deepEqual(Array.from(await table.data()), Array.from(host));
  assert.equal(tf.memory().numTensors, start);
  const g = tf.zeros([2, d]);
  assert.throws(
    () => signSgdRowsInPlace(table, g, Int32Array.from([0, 7]), 0.1, 0),
    /id 7 is outside the table's 7 rows/,
  );
  const alias = tf.clone(table);
  assert.throws(() => signSgdRowsInPlace(table, g, Int32Array.from([0, 1]), 0.1, 0), /shares its buffer/);
  tf.dispose([alias, g, table]);
  await initBackend("cpu");
});

Deno.test("TRM_DIS_WEBGPU_KERNELS=0 leaves webgpu on the op chains", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  Deno.env.set("TRM_DIS_WEBGPU_KERNELS", "0");
  try {
    const info = await initBackend("webgpu");
    assert.match(String(info.details.fusedKernels), /^off/);
    assert.ok(!hasKernel("TrmDisRopeAttention"));
  } finally {
    Deno.env.delete("TRM_DIS_WEBGPU_KERNELS");
  }
  const info = await initBackend("webgpu");
  assert.equal(info.details.fusedKernels, true);
  assert.ok(WEBGPU_KERNELS.every(hasKernel));
  await initBackend("cpu");
});

Deno.test("grid spreads workgroups over x and y within the per-dimension limit", () => {
  assert.deepEqual(grid(10, 65535), [10, 1, 1]);
  for (const n of [65536, 100_000, 469_000]) {
    const [x, y] = grid(n, 65535);
    assert.ok(x <= 65535 && y <= 65535 && x * y >= n && x * (y - 1) < n, `grid(${n}) = ${x} x ${y}`);
  }
  assert.throws(() => grid(5, 2), /more than 2\^2/);
});

Deno.test("webgpu fused optimiser update matches lib/train's op chain for every rule", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const rng = Rng.fromSeed(14);
  const shapes = [[3, 70], [300]];
  const grads = Array.from({ length: 3 }, (_, step) =>
    shapes.map((s) => {
      const g = randomTensor(rng, s, 1e-2);
      // Exact zeros in the second step: atan2(0, 0) = 0 where the moments are still zero.
      return step === 0 ? tf.tidy(() => tf.mul(g, tf.cast(tf.greater(randomTensor(rng, s), 0), "float32"))) : g;
    }));
  const init = shapes.map((s) => randomTensor(rng, s));
  for (const kind of OPTIMIZER_KINDS) {
    const run = async (fused: boolean) => {
      if (fused) installWebgpuKernels();
      else uninstallWebgpuKernels();
      assert.equal(hasKernel(ADAM_UPDATE), fused);
      const vars = init.map((x, i) => tf.variable(x.clone(), true, `opt.${kind}.${fused}.${i}`));
      const opt = createOptimizer(kind, vars, { beta1: 0.9, beta2: 0.95, weightDecay: kind === "adamw" ? 0.1 : 0.5 });
      for (let step = 0; step < grads.length; step++) {
        const lr = 1e-2 * (step + 1);
        // Variable 1 has no gradient in step 1: skipped, as torch skips it.
        const g = Object.fromEntries(vars.flatMap((v, i) => (step === 1 && i === 1 ? [] : [[v.name, grads[step][i]]])));
        const before = tf.memory().numTensors;
        opt.apply(g, lr);
        if (step > 0) assert.equal(tf.memory().numTensors, before, `${kind} leaks`);
      }
      const state = Object.fromEntries(
        Object.entries(await opt.getState()).map(([k, x]) => [k.replace(`.${fused}.`, "."), x]),
      );
      const values = await Promise.all(vars.map((v) => v.data()));
      opt.dispose();
      vars.forEach((v) => v.dispose());
      return { state, values };
    };
    const fast = await run(true), chain = await run(false);
    installWebgpuKernels();
    let worst = 0;
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let d = 0, m = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        m = Math.max(m, Math.abs(b[i]));
      }
      return d / Math.max(m, 1e-30);
    };
    fast.values.forEach((x, i) => (worst = Math.max(worst, rel(x, chain.values[i]))));
    assert.deepEqual(Object.keys(fast.state).sort(), Object.keys(chain.state).sort());
    for (const k of Object.keys(chain.state)) worst = Math.max(worst, rel(fast.state[k].data, chain.state[k].data));
    console.log(`fused ${kind} update: worst rel diff ${worst.toExponential(2)} (weights and moments, 3 steps)`);
    assert.ok(worst < 1e-6, `${kind}: ${worst}`);
  }
  tf.dispose([...grads.flat(), ...init]);
  await initBackend("cpu");
});

Deno.test("webgpu fused stablemax cross-entropy matches lib/train's op chain, values, counts and gradient", async (t) => {
  if (!(await initBackendOrSkip(t, "webgpu"))) return;
  const rng = Rng.fromSeed(15);
  const [b, l, v] = [5, 7, 4];
  // Logits of both signs and exact zeros; labels with -100 and out-of-range ones; sample 4 has none valid.
  const raw = Float32Array.from({ length: b * l * v }, (_, i) => (i % 9 === 0 ? 0 : 3 * rng.normal()));
  const labs = Int32Array.from({ length: b * l }, (_, i) => {
    if (i >= 4 * l) return -100;
    return i % 6 === 0 ? -100 : i % 11 === 0 ? v : rng.int(v);
  });
  const logits = tf.tensor3d(raw, [b, l, v]), labels = tf.tensor2d(labs, [b, l], "int32");
  const w = randomTensor(rng, [b]);
  const run = (fused: boolean) => {
    if (fused) installWebgpuKernels();
    else uninstallWebgpuKernels();
    assert.equal(hasKernel(STABLEMAX_CE), fused);
    const ce = perSampleCrossEntropy(logits, labels, "stablemax");
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(perSampleCrossEntropy(x, labels, "stablemax").loss, w)))(logits);
    return [ce.loss, ce.count, dx];
  };
  const fast = run(true), chain = run(false);
  installWebgpuKernels();
  const names = ["loss", "count", "gradient"];
  for (let i = 0; i < fast.length; i++) {
    const d = await relDiff(fast[i], chain[i]);
    console.log(`stablemax CE ${names[i]}: worst rel diff ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `${names[i]} ${d}`);
  }
  assert.equal((await fast[0].data())[4], 0, "a sample without supervised tokens has loss 0");
  const before = tf.memory().numTensors;
  tf.tidy(() => void run(true));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([...fast, ...chain, logits, labels, w]);
  await initBackend("cpu");
});
