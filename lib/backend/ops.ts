/**
 * Tensor primitives whose stock tfjs gradients are slow or missing on some backends.
 *
 * - `matMul`: the stock gradient uses transposeA/transposeB matmuls, which the stock wasm kernel runs
 *   12-40x slower than plain ones; there this version transposes explicitly (measured 8.2x faster per
 *   step). Where matmuls go through OpenBLAS (see blas.ts) or a GPU, the flags are free and are kept.
 * - `embed`: gather's gradient needs UnsortedSegmentSum, which wasm lacks and which webgpu runs with
 *   contended atomics; for small vocabularies a one-hot matmul has a plain matmul gradient instead.
 *
 * @module
 */
import { fusedAttention, fusedAttentionActive } from "./attention_kernel.ts";
import { blasActiveOn } from "./blas.ts";
import { type Scalar, type Tensor, tf } from "./tf.ts";

function swapLast(x: Tensor): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return tf.transpose(x, perm);
}

/**
 * Whether the current backend multiplies transposed operands at full speed. The stock wasm kernel
 * does not (transposeA runs ~40x slower, transposeB ~12x), so there operands are transposed first.
 */
function transposesAreFree(): boolean {
  return tf.getBackend() !== "wasm" || blasActiveOn("wasm");
}

/** op(x) @ op(y), transposing explicitly where the backend's transposed matmul is slow. */
function mm(x: Tensor, y: Tensor, tx: boolean, ty: boolean): Tensor {
  if (transposesAreFree()) return tf.matMul(x, y, tx, ty);
  return tf.matMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y);
}

function makeMatMul(transposeA: boolean, transposeB: boolean) {
  return tf.customGrad(
    ((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
      save([a, b]);
      return {
        value: mm(a, b, transposeA, transposeB),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sa, sb] = saved;
          if (!transposeA && !transposeB) return [mm(dy, sb, false, true), mm(sa, dy, true, false)];
          if (!transposeA && transposeB) return [mm(dy, sb, false, false), mm(dy, sa, true, false)];
          if (transposeA && !transposeB) return [mm(sb, dy, false, true), mm(sa, dy, false, false)];
          return [mm(sb, dy, true, true), mm(dy, sa, true, true)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
}

// One custom-gradient function per combination of transpose flags: [tA][tB].
const MATMULS = [[makeMatMul(false, false), makeMatMul(false, true)], [
  makeMatMul(true, false),
  makeMatMul(true, true),
]];

/**
 * `op(a) @ op(b)` for rank-2 or equal-rank batched operands, with a gradient that is fast on every
 * backend: on wasm without OpenBLAS it never runs a transposed matmul.
 *
 * @example
 * ```ts
 * import { matMul } from "./ops.ts";
 * import { tf } from "./tf.ts";
 * const c = matMul(tf.ones([2, 3]), tf.ones([4, 3]), false, true); // [2, 4]
 * ```
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  if (a.rank !== b.rank || a.rank < 2) {
    throw new RangeError(`Cannot matMul: ranks must be equal and >= 2, got ${a.rank} and ${b.rank}`);
  }
  // Where transposed operands are free the stock op and its stock gradient are the fast path: no custom
  // gradient wrapper (its bookkeeping copied every output once on wasm, profiled).
  if (transposesAreFree()) return tf.matMul(a, b, transposeA, transposeB);
  return MATMULS[transposeA ? 1 : 0][transposeB ? 1 : 0](a, b) as Tensor;
}

/**
 * A linear layer without bias: `x @ w` over the last axis, for x of shape [..., in] and w [in, out].
 * The leading axes are flattened so that the matmul is rank 2.
 */
export function linear(x: Tensor, w: Tensor): Tensor {
  const [din, dout] = w.shape;
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.rank - 1] !== din) {
    throw new RangeError(`Cannot apply linear: input has last axis ${x.shape[x.rank - 1]}, weight expects ${din}`);
  }
  const y = matMul(x.reshape([-1, din]), w); // [N, out]
  return y.reshape([...lead, dout]);
}

/**
 * Embedding lookup as `oneHot(ids) @ table`, for small vocabularies. ids: int32 of any shape;
 * table: [V, D]. Returns [...ids.shape, D].
 */
export function embed(ids: Tensor, table: Tensor): Tensor {
  const [vocab, dim] = table.shape;
  // cast(oneHot) rather than oneHot(..., "float32"): the wasm backend returns int32 bit patterns for
  // the latter (1 reads as 1.4e-45).
  const oh = tf.cast(tf.oneHot(ids.reshape([-1]).toInt(), vocab), "float32"); // [N, V]
  return matMul(oh, table).reshape([...ids.shape, dim]);
}

/**
 * RMSNorm without a gain, as TRM uses it: `x * rsqrt(mean(x^2, -1) + eps)`.
 */
export function rmsNorm(x: Tensor, eps = 1e-5): Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(x, tf.rsqrt(tf.add(ms, eps)));
}

/**
 * Non-causal scaled dot-product attention. q, k, v: [B, H, L, hd]. Returns [B, H, L, hd].
 * Softmax scale 1/sqrt(hd), as PyTorch's scaled_dot_product_attention.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const hd = q.shape[q.rank - 1];
  const scores = tf.mul(matMul(q, k, false, true), 1 / Math.sqrt(hd)); // [B, H, L, L]
  return matMul(tf.softmax(scores, -1), v); // [B, H, L, hd]
}

/**
 * Non-causal scaled dot-product attention on the [B, L, H, hd] layout that a fused qkv projection
 * produces (no head transposes needed by the caller). Returns [B, L, H, hd]. On cpu and wasm with
 * OpenBLAS it runs the fused kernel (attention_kernel.ts); elsewhere it transposes and uses
 * {@linkcode attention}.
 */
export function attendHeads(q: Tensor, k: Tensor, v: Tensor): Tensor {
  if (fusedAttentionActive()) return fusedAttention(q, k, v);
  const perm = [0, 2, 1, 3];
  const o = attention(tf.transpose(q, perm), tf.transpose(k, perm), tf.transpose(v, perm)); // [B, H, L, hd]
  return tf.transpose(o, perm);
}

/**
 * The sum of many tensors of one shape, added pairwise. Not `tf.addN`: tfjs 4.22's webgpu AddN kernel
 * returns wrong values beyond 7 inputs (with 8-14 scalars it returned the sum of the first 7) and was
 * seen to corrupt other buffers inside a training step (measured on lavapipe).
 */
export function sumTensors(xs: Tensor[]): Tensor {
  if (xs.length === 0) throw new RangeError("Cannot sum an empty list of tensors");
  let level = xs;
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
    }
    level = next;
  }
  return level[0];
}

/**
 * `atan2(y, x)` with `atan2(0, 0) = 0` on every backend, as IEEE 754 and PyTorch define it for x >= 0.
 * tfjs 4.22's webgpu backend returns 3*pi/4 there, which moves every weight whose gradient is zero in
 * the adam-atan2 optimisers (measured on lavapipe).
 */
export function atan2(y: Tensor, x: Tensor): Tensor {
  const a = tf.atan2(y, x);
  if (tf.getBackend() !== "webgpu") return a;
  const bothZero = tf.logicalAnd(tf.equal(y, 0), tf.equal(x, 0));
  return tf.where(bothZero, tf.zerosLike(a), a);
}

/** Named float32 host arrays: optimiser state, EMA shadows, trainer state, checkpoint sections. */
export type NamedArrays = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * The global L2 norm of all gradients, `sqrt(sum_i ||g_i||^2)`. Synchronous; call inside `tf.tidy`.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { globalNorm } from "./ops.ts";
 * globalNorm({ a: tf.tensor([3]), b: tf.tensor([4]) }); // scalar 5
 * ```
 */
export function globalNorm(grads: Record<string, Tensor>): Scalar {
  return tf.tidy(() => {
    const parts = Object.values(grads).map((g) => tf.sum(tf.mul(g, g)));
    if (parts.length === 0) return tf.scalar(0);
    return tf.sqrt(sumTensors(parts)) as Scalar;
  });
}
