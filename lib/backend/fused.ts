/**
 * The TRM-Att block's fused operations. Each runs one registered kernel (and one for its gradient)
 * where the current backend has it (cpu and wasm: fused_kernels.ts and, with OpenBLAS,
 * attention_kernel.ts), and otherwise the equivalent chain of tfjs ops, whose values and gradients the
 * tests compare the kernels against.
 *
 * Legend: B = batch, S = positions, D = width, H = heads, hd = D / H, I = SwiGLU width.
 *
 * @module
 */
import { fusedRopeAttention, ROPE_ATTENTION } from "./attention_kernel.ts";
import { ADD_RMS_NORM, ADD_RMS_NORM_GRAD, SILU_GATE, SILU_GATE_GRAD } from "./fused_kernels.ts";
import { attendHeads, rmsNorm } from "./ops.ts";
import { type Tensor, tf } from "./tf.ts";

/** Whether the current backend has a kernel registered under this name. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

const addRmsNormByEps = new Map<number, (h: Tensor, a: Tensor) => Tensor>();

function fusedAddRmsNorm(eps: number): (h: Tensor, a: Tensor) => Tensor {
  let f = addRmsNormByEps.get(eps);
  if (!f) {
    const g = tf.customGrad(
      ((h: Tensor, a: Tensor, save: tf.GradSaveFunc) => {
        const [y, rstd] = tf.engine().runKernel(ADD_RMS_NORM, { h, a }, { eps }) as Tensor[];
        save([y, rstd]);
        return {
          value: y,
          gradFunc: (dy: Tensor, saved: Tensor[]) => {
            const [sy, srstd] = saved;
            const [dx] = tf.engine().runKernel(ADD_RMS_NORM_GRAD, { dy, y: sy, rstd: srstd }) as Tensor[];
            // Both summands get dx; a reshape is a second tensor on the same data, so the tape may
            // dispose one without freeing the other.
            return [dx, tf.reshape(dx, dx.shape)];
          },
        };
      }) as unknown as Parameters<typeof tf.customGrad>[0],
    );
    f = (h, a) => g(h, a) as Tensor;
    addRmsNormByEps.set(eps, f);
  }
  return f;
}

/**
 * `rmsNorm(h + a)`: the post-norm residual of the TRM block, gain-free, over the last axis.
 * h, a: the same shape [..., D].
 *
 * @example
 * ```ts
 * import { addRmsNorm } from "./fused.ts";
 * import { tf } from "./tf.ts";
 * const y = addRmsNorm(tf.ones([2, 4]), tf.ones([2, 4])); // every row [1, 1, 1, 1]
 * ```
 */
export function addRmsNorm(h: Tensor, a: Tensor, eps = 1e-5): Tensor {
  const same = h.shape.length === a.shape.length && h.shape.every((d, i) => d === a.shape[i]);
  if (same && h.dtype === "float32" && a.dtype === "float32" && hasKernel(ADD_RMS_NORM)) {
    return fusedAddRmsNorm(eps)(h, a);
  }
  return rmsNorm(tf.add(h, a), eps);
}

const fusedSiluGate = tf.customGrad(
  ((gu: Tensor, save: tf.GradSaveFunc) => {
    save([gu]);
    return {
      value: (tf.engine().runKernel(SILU_GATE, { gu }) as Tensor[])[0],
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.engine().runKernel(SILU_GATE_GRAD, { gu: saved[0], dy }) as Tensor[],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * SwiGLU's gate: `silu(g) * u` where [g, u] are the two halves of the last axis of the fused
 * projection gu [..., 2I]. Returns [..., I].
 *
 * @example
 * ```ts
 * import { siluGate } from "./fused.ts";
 * import { tf } from "./tf.ts";
 * siluGate(tf.tensor2d([[0, 2]])); // [[0]]: silu(0) * 2
 * ```
 */
export function siluGate(gu: Tensor): Tensor {
  const last = gu.shape[gu.rank - 1];
  if (last % 2 !== 0) throw new RangeError(`Cannot apply siluGate: last axis ${last} is odd, expected [gate | up]`);
  if (gu.dtype === "float32" && hasKernel(SILU_GATE)) return fusedSiluGate(gu) as Tensor;
  const [g, u] = tf.split(gu, 2, -1); // [..., I] each
  return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
}

/** RoPE on x [B, S, H, hd] with cos, sin [S, 1, hd]: `x * cos + rotate_half(x) * sin`. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const [x1, x2] = tf.split(x, 2, -1); // [B, S, H, hd/2] each
  const rotated = tf.concat([tf.neg(x2), x1], -1); // [B, S, H, hd]
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/**
 * Non-causal multi-head attention with RoPE on q and k, straight from the fused projection
 * qkv [B, S, 3D] (columns [q heads | k heads | v heads], each head hd contiguous); cos, sin: [S, hd]
 * or [S, 1, hd]. Returns [B, S, D]. Softmax scale 1/sqrt(hd).
 *
 * @example
 * ```ts
 * import { ropeAttention } from "./fused.ts";
 * import { tf } from "./tf.ts";
 * const out = ropeAttention(tf.ones([1, 3, 12]), tf.ones([3, 2]), tf.zeros([3, 2])); // [1, 3, 4], 2 heads
 * ```
 */
export function ropeAttention(qkv: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const [b, s, d3] = qkv.shape;
  const hd = cos.shape[cos.rank - 1];
  if (qkv.rank !== 3 || d3 % 3 !== 0 || (d3 / 3) % hd !== 0 || hd % 2 !== 0 || cos.shape[0] !== s) {
    throw new RangeError(
      `Cannot apply ropeAttention: qkv [${qkv.shape}] and RoPE tables [${cos.shape}] do not fit ` +
        `(expected qkv [B, S, 3D] and tables [S, hd] with even hd dividing D)`,
    );
  }
  const d = d3 / 3, heads = d / hd;
  if (qkv.dtype === "float32" && hasKernel(ROPE_ATTENTION)) {
    return fusedRopeAttention(qkv, cos.reshape([s, hd]), sin.reshape([s, hd]));
  }
  const c = cos.reshape([s, 1, hd]), sn = sin.reshape([s, 1, hd]);
  const [q, k, v] = tf.split(qkv.reshape([b, s, 3 * heads, hd]), 3, 2); // [B, S, H, hd] each
  return attendHeads(rope(q, c, sn), rope(k, c, sn), v).reshape([b, s, d]);
}
