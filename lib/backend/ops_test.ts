import assert from "node:assert/strict";
import {
  attendHeads,
  attention,
  blasActiveOn,
  fusedAttentionActive,
  initBackend,
  installBlasKernels,
  matMul,
  tf,
  uninstallBlasKernels,
} from "./mod.ts";
import { Rng } from "../random/mod.ts";
import { randomTensor, skipTest } from "./_testing.ts";

function maxDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Values and gradients of matMul against float64 products computed here, for every transpose combination. */
async function checkAgainstFloat64(rng: Rng): Promise<number> {
  let worst = 0;
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
    for (const batch of [[], [3]]) {
      const [m, k, n] = [5, 7, 4];
      const a = randomTensor(rng, [...batch, ...(ta ? [k, m] : [m, k])]);
      const b = randomTensor(rng, [...batch, ...(tb ? [n, k] : [k, n])]);
      const w = randomTensor(rng, [...batch, m, n]); // the loss is sum(w * op(a) @ op(b))
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, ta, tb), w));
      const [ga, gb] = tf.grads(f)([a, b]);
      const out = await matMul(a, b, ta, tb).data();
      const [A, B, W, GA, GB] = await Promise.all([a.data(), b.data(), w.data(), ga.data(), gb.data()]);
      const nb = batch.length ? batch[0] : 1;
      const at = (
        x: Float32Array | Int32Array | Uint8Array,
        bi: number,
        r: number,
        c: number,
        rows: number,
        cols: number,
        t: boolean,
      ) => t ? x[bi * rows * cols + c * rows + r] : x[bi * rows * cols + r * cols + c];
      const refOut = new Float64Array(nb * m * n),
        refGa = new Float64Array(A.length),
        refGb = new Float64Array(B.length);
      for (let bi = 0; bi < nb; bi++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += at(A, bi, i, p, m, k, ta) * at(B, bi, p, j, k, n, tb);
            refOut[bi * m * n + i * n + j] = s;
            const wij = W[bi * m * n + i * n + j];
            for (let p = 0; p < k; p++) {
              // d/dA[i,p] of op(A) and d/dB[p,j] of op(B), mapped back to storage order
              const ia = ta ? bi * m * k + p * m + i : bi * m * k + i * k + p;
              const ib = tb ? bi * k * n + j * k + p : bi * k * n + p * n + j;
              refGa[ia] += wij * at(B, bi, p, j, k, n, tb);
              refGb[ib] += wij * at(A, bi, i, p, m, k, ta);
            }
          }
        }
      }
      worst = Math.max(worst, maxDiff(out, Float32Array.from(refOut)));
      worst = Math.max(worst, maxDiff(GA, Float32Array.from(refGa)), maxDiff(GB, Float32Array.from(refGb)));
    }
  }
  return worst;
}

for (const backend of ["cpu", "wasm"] as const) {
  for (const blas of [true, false]) {
    Deno.test(`matMul values and gradients, all transpose flags, ${backend} ${blas ? "with" : "without"} OpenBLAS`, async (t) => {
      await initBackend(backend);
      if (blas && !installBlasKernels(backend)) {
        await skipTest(t, "OpenBLAS present", "OpenBLAS is not installed here (Debian: libopenblas0-pthread)");
        return;
      }
      if (!blas) uninstallBlasKernels(backend);
      assert.equal(blasActiveOn(backend), blas);
      const worst = await checkAgainstFloat64(Rng.fromSeed(11));
      console.log(`maxdiff vs float64: ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-4, `maxdiff ${worst}`);
      installBlasKernels(backend);
    });
  }
}

Deno.test("OpenBLAS and the stock wasm kernel agree on a transformer-sized product", async (t) => {
  await initBackend("wasm");
  if (!installBlasKernels("wasm")) {
    await t.step({ name: "OpenBLAS present", ignore: true, fn: () => {} });
    return;
  }
  const rng = Rng.fromSeed(2);
  const a = randomTensor(rng, [320, 256]), b = randomTensor(rng, [256, 768]);
  const fast = await matMul(a, b).data();
  uninstallBlasKernels("wasm");
  const stock = await matMul(a, b).data();
  installBlasKernels("wasm");
  const d = maxDiff(fast, stock);
  console.log(`maxdiff OpenBLAS vs XNNPACK: ${d.toExponential(2)}`);
  assert.ok(d < 1e-3, `maxdiff ${d}`);
});

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`fused attendHeads matches the tensor-op attention, values and gradients (${backend})`, async (t) => {
    await initBackend(backend);
    if (!fusedAttentionActive()) {
      await skipTest(t, "OpenBLAS present", "the fused kernel needs OpenBLAS (Debian: libopenblas0-pthread)");
      return;
    }
    const rng = Rng.fromSeed(4);
    const [b, l, h, hd] = [2, 7, 3, 4];
    const q = randomTensor(rng, [b, l, h, hd]),
      k = randomTensor(rng, [b, l, h, hd]),
      v = randomTensor(rng, [b, l, h, hd]);
    const w = randomTensor(rng, [b, l, h, hd]);
    const perm = [0, 2, 1, 3];
    const reference = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.transpose(attention(tf.transpose(x, perm), tf.transpose(y, perm), tf.transpose(z, perm)), perm);
    const lossOf = (f: typeof reference) => (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(f(x, y, z), w));
    const fastGrads = tf.grads(lossOf(attendHeads))([q, k, v]);
    const refGrads = tf.grads(lossOf(reference))([q, k, v]);
    let worst = maxDiff(await attendHeads(q, k, v).data(), await reference(q, k, v).data());
    for (let i = 0; i < 3; i++) worst = Math.max(worst, maxDiff(await fastGrads[i].data(), await refGrads[i].data()));
    console.log(`maxdiff fused vs tensor ops: ${worst.toExponential(2)}`);
    assert.ok(worst < 2e-5, `maxdiff ${worst}`);
    tf.dispose([...fastGrads, ...refGrads]);
    // No leaks from the saved log-sum-exp or the kernel outputs.
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads(lossOf(attendHeads))([q, k, v]);
    });
    assert.equal(tf.memory().numTensors, before, `tensors ${before} -> ${tf.memory().numTensors}`);
  });
}
