import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { globalNorm } from "../backend/mod.ts";
import { assertFinite, clipByGlobalNorm, findNonFinite, NonFiniteError } from "./grad.ts";

await initBackend("cpu");

Deno.test("global norm and clipping follow torch's clip_grad_norm_", async () => {
  const before = tf.memory().numTensors;
  const grads = { a: tf.tensor([3, 0]), b: tf.tensor([[0, 4]]) };
  const norm = globalNorm(grads);
  assert.equal((await norm.data())[0], 5);
  const clipped = clipByGlobalNorm(grads, 1);
  assert.equal((await clipped.norm.data())[0], 5);
  const f = Math.fround(1 / Math.fround(5 + 1e-6));
  assert.deepEqual(Array.from(await clipped.grads.a.data()), [Math.fround(3 * f), 0]);
  assert.deepEqual(Array.from(await clipped.grads.b.data()), [0, Math.fround(4 * f)]);
  const loose = clipByGlobalNorm(grads, 10); // under the limit: unchanged
  assert.deepEqual(await loose.grads.a.data(), await grads.a.data());
  for (const t of [norm, clipped.norm, loose.norm, ...Object.values(clipped.grads), ...Object.values(loose.grads)]) {
    t.dispose();
  }
  Object.values(grads).forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => clipByGlobalNorm({}, 0), /maxNorm must be > 0/);
});

Deno.test("non-finite detection names every bad loss, gradient and host array", async () => {
  const before = tf.memory().numTensors;
  const values = {
    loss: Number.NaN,
    "grad/ok": tf.tensor([1e38, 1e38, 1e38]), // sums overflow, values are finite
    "grad/inf": tf.tensor([1, Number.NEGATIVE_INFINITY]),
    "grad/nan": tf.tensor([[Number.NaN]]),
    "grad/int": tf.tensor([1, 2], [2], "int32"),
    "puzzle_emb": new Float32Array([0, Number.POSITIVE_INFINITY]),
    "puzzle_ok": new Float32Array([0, 1]),
  };
  assert.deepEqual(await findNonFinite(values), ["loss", "grad/inf", "grad/nan", "puzzle_emb"]);
  const err = await assertFinite(41, values).then(() => null, (e) => e);
  assert.ok(err instanceof NonFiniteError);
  assert.equal(err.step, 41);
  assert.deepEqual(err.names, ["loss", "grad/inf", "grad/nan", "puzzle_emb"]);
  assert.match(err.message, /^Cannot continue training at step 41: non-finite values .* in "loss", "grad\/inf"/);
  assert.match(err.message, /the last checkpoint \(if any\) holds the last good weights/);
  await assertFinite(42, { loss: 0.5, "grad/ok": values["grad/ok"] });
  Object.values(values).forEach((v) => typeof v === "object" && "dispose" in v && v.dispose());
  assert.equal(tf.memory().numTensors, before);
});
