/**
 * Test helpers for code that runs on a chosen backend: initialise it, or skip (saying why) where webgpu has
 * no adapter here; seeded random tensors; and RoPE attention computed by hand, the reference for the fused
 * kernels.
 *
 * @module
 */
import { rope } from "./fused.ts";
import { attention } from "./ops.ts";
import { type BackendName, BackendUnavailableError, initBackend } from "./select.ts";
import { tf } from "./tf.ts";
import type { Rng } from "../random/mod.ts";

/** Skips the rest of a test, saying why: `reason` on stdout and an ignored step named for what is missing. */
export async function skipTest(t: Deno.TestContext, missing: string, reason: string): Promise<void> {
  console.log(`skipped: ${reason}`);
  await t.step({ name: missing, ignore: true, fn: () => {} });
}

/**
 * Initialises `backend` for a test; true when it is ready. Where webgpu is unavailable here (no adapter),
 * notes the skip and returns false; any other failure throws.
 *
 * @example
 * ```ts ignore
 * Deno.test("runs on webgpu", async (t) => {
 *   if (!(await initBackendOrSkip(t, "webgpu"))) return;
 * });
 * ```
 */
export async function initBackendOrSkip(t: Deno.TestContext, backend: BackendName): Promise<boolean> {
  try {
    await initBackend(backend);
    return true;
  } catch (e) {
    if (backend !== "webgpu" || !(e instanceof BackendUnavailableError)) throw e;
    await skipTest(t, "webgpu adapter present", e.message);
    return false;
  }
}

/** A float32 tensor of `shape` with entries `scale * N(0, 1)` from `rng`. */
export function randomTensor(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => scale * rng.normal()), shape);
}

/**
 * RoPE attention by hand from the fused projection qkv [B, S, 3D] and the tables cos, sin [S, hd]: split into
 * q, k, v, rotate q and k, move the heads forward and apply the plain attention op. Returns [B, S, D].
 */
export function ropeAttentionByHand(qkv: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, heads: number): tf.Tensor {
  const [b, s, d3] = qkv.shape;
  const hd = d3 / 3 / heads;
  const [q, k, v] = tf.split(qkv.reshape([b, s, 3 * heads, hd]), 3, 2); // [B, S, H, hd] each
  const c = cos.reshape([s, 1, hd]), sn = sin.reshape([s, 1, hd]);
  const perm = [0, 2, 1, 3];
  const o = attention(
    tf.transpose(rope(q, c, sn), perm),
    tf.transpose(rope(k, c, sn), perm),
    tf.transpose(v, perm),
  ); // [B, H, S, hd]
  return tf.transpose(o, perm).reshape([b, s, heads * hd]);
}
