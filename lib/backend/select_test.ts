import assert from "node:assert/strict";
import { BackendUnavailableError, embed, initBackend, matMul, parseBackend, tf } from "./mod.ts";

/** Gradient of sum(A @ B) through our matMul against the analytic answer and tfjs's stock matMul. */
async function checkMatMulGrad(): Promise<void> {
  const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const b = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y), tf.tensor2d([[1, 2], [3, 4]])));
  const [ga, gb] = tf.grads(f)([a, b]);
  const g = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), tf.tensor2d([[1, 2], [3, 4]])));
  const [ra, rb] = tf.grads(g)([a, b]);
  assert.deepEqual(Array.from(await ga.data()), Array.from(await ra.data()));
  assert.deepEqual(Array.from(await gb.data()), Array.from(await rb.data()));
  // dL/dA = W @ B^T with W = [[1,2],[3,4]]
  assert.deepEqual(Array.from(await ga.data()), [1, 2, 3, 3, 4, 7]);
  // batched
  const x = tf.tensor3d([[[1, 2]], [[3, 4]]]); // [2,1,2]
  const y = tf.tensor3d([[[1], [1]], [[2], [0]]]); // [2,2,1]
  const [gx] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(matMul(p, q)))([x, y]);
  assert.deepEqual(Array.from(await gx.data()), [1, 1, 2, 0]);
}

async function checkEmbedGrad(): Promise<void> {
  const table = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
  const ids = tf.tensor1d([2, 0, 2], "int32");
  const out = embed(ids, table);
  assert.deepEqual(Array.from(await out.data()), [4, 5, 0, 1, 4, 5]);
  const [gt] = tf.grads((t: tf.Tensor) => tf.sum(embed(ids, t)))([table]);
  assert.deepEqual(Array.from(await gt.data()), [1, 1, 0, 0, 2, 2]);
}

for (const name of ["cpu", "wasm"] as const) {
  Deno.test(`backend ${name} initialises and computes matMul, its gradient and embed`, async () => {
    const info = await initBackend(name);
    assert.equal(info.name, name);
    assert.equal(tf.getBackend(), name);
    if (name === "wasm") assert.equal(typeof info.details.simd, "boolean");
    await checkMatMulGrad();
    await checkEmbedGrad();
  });
}

Deno.test("backend webgpu initialises and computes matMul and its gradient (software adapter allowed)", async (t) => {
  let info;
  try {
    info = await initBackend("webgpu");
  } catch (e) {
    if (e instanceof BackendUnavailableError && /no WebGPU adapter/.test(e.message)) {
      console.log(`skipped: ${e.message}`);
      t.step({ name: "webgpu adapter present", ignore: true, fn: () => {} });
      return;
    }
    throw e;
  }
  assert.equal(info.name, "webgpu");
  assert.equal(typeof info.details.adapter, "string");
  await checkMatMulGrad();
  await checkEmbedGrad();
  await initBackend("cpu");
});

Deno.test("an unavailable native backend fails with a reason and a remedy", async () => {
  await assert.rejects(() => initBackend("tensorflow"), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.match(e.message, /native library/);
    assert.match(e.message, /--allow-scripts/);
    return true;
  });
  await initBackend("cpu");
});

Deno.test("auto picks an available backend and records why others were skipped", async () => {
  const info = await initBackend("auto");
  assert.ok(["webgpu", "wasm", "cpu", "tensorflow", "tensorflow-gpu"].includes(info.name));
  assert.equal(info.requested, "auto");
  assert.ok(info.skipped && "tensorflow-gpu" in info.skipped);
  await initBackend("cpu");
});

Deno.test("parseBackend rejects unknown names", () => {
  assert.equal(parseBackend("wasm"), "wasm");
  assert.throws(() => parseBackend("cuda"), /Unknown backend "cuda"/);
});
