/**
 * Fused non-causal attention for the cpu and wasm backends, on OpenBLAS.
 *
 * The tensor-op version needs the [B, L, H, hd] -> [B, H, L, hd] transposes of q, k, v and of the
 * output, and their gradients; on wasm those transposes took 6.6 s of a 12 s DIS step (profiled).
 * Here each (batch, head) pair is two strided sgemm calls that read q, k, v where they lie and write
 * the output in place, with a row softmax in between. Like FlashAttention, the forward pass keeps only
 * the row log-sum-exp, and the backward pass recomputes the probabilities from it, so memory stays
 * O(B * H * L) beyond one L x L scratch block; this is what lets ARC's L = 916 run at useful batch sizes.
 *
 * Two entry points share the per-sample core:
 * - `TrmDisAttention`: q, k, v given apart, each [B, L, H, hd] (leading dimension D = H * hd);
 * - `TrmDisRopeAttention`: the fused projection qkv [B, L, 3D] as it comes out of the matmul, with RoPE
 *   applied inside the kernel. It removes the split of qkv, RoPE's split/negate/concat and all their
 *   gradients (SplitV and Concat took 1.7 s and 0.4 s of a 7.5 s DIS step on wasm, profiled), and its
 *   gradient is one [B, L, 3D] tensor, so the qkv projection's gradient needs no concat either.
 *
 * @module
 */
import { blasSgemm, installBlasKernels } from "./blas.ts";
import { expFast, type KernelArgs, withOutputs } from "./_kernel_util.ts";
import { type Tensor, tf } from "./tf.ts";

const FORWARD = "TrmDisAttention";
const BACKWARD = "TrmDisAttentionGrad";
/** The fused RoPE + attention kernel's name; registered on a backend when it serves it. */
export const ROPE_ATTENTION = "TrmDisRopeAttention";
const ROPE_FORWARD = ROPE_ATTENTION;
const ROPE_BACKWARD = "TrmDisRopeAttentionGrad";
const NO_TRANS = false, TRANS = true;

/** A strided operand: head hi of position i of the current sample starts at `off + i * ld + hi * hd`. */
interface Strided {
  a: Float32Array;
  off: number;
  ld: number;
}

interface Head {
  l: number;
  h: number;
  hd: number;
}

/** dst [l, l] = alpha * x_h y_h^T, where x_h, y_h are the [l, hd] columns from c of the strided x and y. */
function headOuter(d: Head, c: number, alpha: number, x: Strided, y: Strided, dst: Float32Array): void {
  const { l, hd } = d;
  blasSgemm(NO_TRANS, TRANS, l, l, hd, alpha, x.a.subarray(x.off + c), x.ld, y.a.subarray(y.off + c), y.ld, 0, dst, l);
}

/** dst_h = m y_h (m^T y_h with `transM`): the [l, l] block m times the columns from c of y, into dst's. */
function headTimes(d: Head, c: number, transM: boolean, m: Float32Array, y: Strided, dst: Strided): void {
  const { l, hd } = d;
  blasSgemm(transM, NO_TRANS, l, hd, l, 1, m, l, y.a.subarray(y.off + c), y.ld, 0, dst.a.subarray(dst.off + c), dst.ld);
}

/** One sample, all heads: out = softmax(q k^T / sqrt(hd)) v; lse[hi * l + i] = row i's log-sum-exp. */
function attendSample(
  d: Head,
  q: Strided,
  k: Strided,
  v: Strided,
  out: Strided,
  lse: Float32Array,
  lseOff: number,
  s: Float32Array,
): void {
  const { l, h, hd } = d;
  const scale = 1 / Math.sqrt(hd);
  for (let hi = 0; hi < h; hi++) {
    const c = hi * hd;
    headOuter(d, c, scale, q, k, s); // S = Q K^T / sqrt(hd)
    const lrow = lseOff + hi * l;
    for (let i = 0; i < l; i++) {
      const r = i * l;
      let m = -Infinity;
      for (let j = 0; j < l; j++) if (s[r + j] > m) m = s[r + j];
      let sum = 0;
      for (let j = 0; j < l; j++) {
        const e = expFast(s[r + j] - m);
        s[r + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < l; j++) s[r + j] *= inv;
      lse[lrow + i] = m + Math.log(sum);
    }
    headTimes(d, c, NO_TRANS, s, v, out); // O = P V
  }
}

/** Scratch blocks for {@linkcode attendSampleGrad}. */
interface GradScratch {
  p: Float32Array;
  dp: Float32Array;
  delta: Float64Array;
}

function gradScratch(l: number): GradScratch {
  return { p: new Float32Array(l * l), dp: new Float32Array(l * l), delta: new Float64Array(l) };
}

/** One sample's gradients with respect to q, k and v, recomputing the probabilities from lse. */
function attendSampleGrad(
  d: Head,
  q: Strided,
  k: Strided,
  v: Strided,
  out: Strided,
  lse: Float32Array,
  lseOff: number,
  dout: Strided,
  dq: Strided,
  dk: Strided,
  dv: Strided,
  w: GradScratch,
): void {
  const { l, h, hd } = d;
  const scale = 1 / Math.sqrt(hd);
  const { p, dp, delta } = w;
  for (let hi = 0; hi < h; hi++) {
    const c = hi * hd;
    const lrow = lseOff + hi * l;
    headOuter(d, c, scale, q, k, p); // S, turned into P with lse below
    for (let i = 0; i < l; i++) {
      const r = i * l, z = lse[lrow + i];
      for (let j = 0; j < l; j++) p[r + j] = expFast(p[r + j] - z);
      // delta_i = sum_d dO[i, d] * O[i, d] = sum_j P[i, j] * dP[i, j]
      let acc = 0;
      const ro = out.off + i * out.ld + c, rd = dout.off + i * dout.ld + c;
      for (let e = 0; e < hd; e++) acc += dout.a[rd + e] * out.a[ro + e];
      delta[i] = acc;
    }
    headTimes(d, c, TRANS, p, dout, dv); // dV = P^T dO
    headOuter(d, c, 1, dout, v, dp); // dP = dO V^T
    for (let i = 0; i < l; i++) {
      const r = i * l, di = delta[i];
      for (let j = 0; j < l; j++) dp[r + j] = p[r + j] * (dp[r + j] - di) * scale;
    }
    headTimes(d, c, NO_TRANS, dp, k, dq); // dQ = dS K
    headTimes(d, c, TRANS, dp, q, dk); // dK = dS^T Q
  }
}

/**
 * RoPE of one sample's q or k block, `x * cos + rotate_half(x) * sin` with rotate_half(x) = [-x2, x1]
 * per head, from src (row stride srcLd) into dst (row stride D). cos, sin: [L, hd].
 */
function rotate(
  d: Head,
  src: Float32Array,
  srcOff: number,
  srcLd: number,
  cos: Float32Array,
  sin: Float32Array,
  dst: Float32Array,
): void {
  const { l, h, hd } = d;
  const half = hd / 2, dm = h * hd;
  for (let i = 0; i < l; i++) {
    const t = i * hd;
    for (let hi = 0; hi < h; hi++) {
      const s0 = srcOff + i * srcLd + hi * hd, d0 = i * dm + hi * hd;
      for (let e = 0; e < half; e++) {
        const x1 = src[s0 + e], x2 = src[s0 + half + e];
        dst[d0 + e] = x1 * cos[t + e] - x2 * sin[t + e];
        dst[d0 + half + e] = x2 * cos[t + half + e] + x1 * sin[t + half + e];
      }
    }
  }
}

/** The transpose of {@linkcode rotate}: the gradient g of the rotated block back to the raw block. */
function unrotate(
  d: Head,
  g: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  dst: Float32Array,
  dstOff: number,
  dstLd: number,
): void {
  const { l, h, hd } = d;
  const half = hd / 2, dm = h * hd;
  for (let i = 0; i < l; i++) {
    const t = i * hd;
    for (let hi = 0; hi < h; hi++) {
      const g0 = i * dm + hi * hd, d0 = dstOff + i * dstLd + hi * hd;
      for (let e = 0; e < half; e++) {
        const g1 = g[g0 + e], g2 = g[g0 + half + e];
        dst[d0 + e] = g1 * cos[t + e] + g2 * sin[t + half + e];
        dst[d0 + half + e] = g2 * cos[t + half + e] - g1 * sin[t + e];
      }
    }
  }
}

function forwardKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const [b, l, h, hd] = inputs.q.shape;
    const dm = h * hd, d = { l, h, hd };
    return withOutputs(
      backend,
      wasm,
      [inputs.q, inputs.k, inputs.v],
      [inputs.q.shape, [b, h, l]],
      ([q, k, v], [o, lse]) => {
        const s = new Float32Array(l * l);
        for (let bi = 0; bi < b; bi++) {
          const off = bi * l * dm;
          const at = (a: Float32Array) => ({ a, off, ld: dm });
          attendSample(d, at(q), at(k), at(v), at(o), lse, bi * h * l, s);
        }
      },
    );
  };
}

function backwardKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const [b, l, h, hd] = inputs.q.shape;
    const dm = h * hd, d = { l, h, hd }, shape = inputs.q.shape;
    const names = ["q", "k", "v", "out", "lse", "dout"];
    return withOutputs(backend, wasm, names.map((n) => inputs[n]), [shape, shape, shape], (ins, [dq, dk, dv]) => {
      const [q, k, v, out, lse, dout] = ins;
      const w = gradScratch(l);
      for (let bi = 0; bi < b; bi++) {
        const off = bi * l * dm;
        const at = (a: Float32Array) => ({ a, off, ld: dm });
        attendSampleGrad(d, at(q), at(k), at(v), at(out), lse, bi * h * l, at(dout), at(dq), at(dk), at(dv), w);
      }
    });
  };
}

function ropeForwardKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const [b, l, d3] = inputs.qkv.shape;
    const hd = inputs.cos.shape[1], dm = d3 / 3, h = dm / hd, d = { l, h, hd };
    const ins = [inputs.qkv, inputs.cos, inputs.sin];
    return withOutputs(backend, wasm, ins, [[b, l, dm], [b, h, l]], ([qkv, cos, sin], [o, lse]) => {
      const s = new Float32Array(l * l), qr = new Float32Array(l * dm), kr = new Float32Array(l * dm);
      for (let bi = 0; bi < b; bi++) {
        const off = bi * l * d3;
        rotate(d, qkv, off, d3, cos, sin, qr);
        rotate(d, qkv, off + dm, d3, cos, sin, kr);
        const scratch = (a: Float32Array) => ({ a, off: 0, ld: dm });
        attendSample(
          d,
          scratch(qr),
          scratch(kr),
          { a: qkv, off: off + 2 * dm, ld: d3 },
          { a: o, off: bi * l * dm, ld: dm },
          lse,
          bi * h * l,
          s,
        );
      }
    });
  };
}

function ropeBackwardKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const [b, l, d3] = inputs.qkv.shape;
    const hd = inputs.cos.shape[1], dm = d3 / 3, h = dm / hd, d = { l, h, hd };
    const ins = ["qkv", "cos", "sin", "out", "lse", "dout"].map((n) => inputs[n]);
    return withOutputs(backend, wasm, ins, [inputs.qkv.shape], ([qkv, cos, sin, out, lse, dout], [dqkv]) => {
      const w = gradScratch(l);
      const qr = new Float32Array(l * dm), kr = new Float32Array(l * dm);
      const dqr = new Float32Array(l * dm), dkr = new Float32Array(l * dm);
      const scratch = (a: Float32Array) => ({ a, off: 0, ld: dm });
      for (let bi = 0; bi < b; bi++) {
        const off = bi * l * d3, offD = bi * l * dm;
        rotate(d, qkv, off, d3, cos, sin, qr);
        rotate(d, qkv, off + dm, d3, cos, sin, kr);
        attendSampleGrad(
          d,
          scratch(qr),
          scratch(kr),
          { a: qkv, off: off + 2 * dm, ld: d3 },
          { a: out, off: offD, ld: dm },
          lse,
          bi * h * l,
          { a: dout, off: offD, ld: dm },
          scratch(dqr),
          scratch(dkr),
          { a: dqkv, off: off + 2 * dm, ld: d3 },
          w,
        );
        unrotate(d, dqr, cos, sin, dqkv, off, d3);
        unrotate(d, dkr, cos, sin, dqkv, off + dm, d3);
      }
    });
  };
}

const registered = new Set<string>();

/** Registers the fused kernels on a backend (requires OpenBLAS). Returns whether they are usable. */
export function installAttentionKernels(backendName: "cpu" | "wasm"): boolean {
  if (registered.has(backendName)) return true;
  if (!installBlasKernels(backendName)) return false;
  const wasm = backendName === "wasm";
  const kernels: [string, (w: boolean) => unknown][] = [
    [FORWARD, forwardKernel],
    [BACKWARD, backwardKernel],
    [ROPE_FORWARD, ropeForwardKernel],
    [ROPE_BACKWARD, ropeBackwardKernel],
  ];
  for (const [kernelName, make] of kernels) {
    tf.registerKernel({ kernelName, backendName, kernelFunc: make(wasm) as tf.KernelFunc });
  }
  registered.add(backendName);
  return true;
}

/** Whether the fused kernels serve the current backend. */
export function fusedAttentionActive(): boolean {
  return registered.has(tf.getBackend());
}

const fused = tf.customGrad(
  ((q: Tensor, k: Tensor, v: Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = tf.engine().runKernel(FORWARD, { q, k, v }) as Tensor[];
    save([q, k, v, out, lse]);
    return {
      value: out,
      gradFunc: (dout: Tensor, saved: Tensor[]) => {
        const [sq, sk, sv, so, slse] = saved;
        return tf.engine().runKernel(BACKWARD, { q: sq, k: sk, v: sv, out: so, lse: slse, dout }) as Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/** Fused attention over [B, L, H, hd] operands; only call when {@linkcode fusedAttentionActive}. */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  return fused(q, k, v) as Tensor;
}

const fusedRope = tf.customGrad(
  ((qkv: Tensor, cos: Tensor, sin: Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = tf.engine().runKernel(ROPE_FORWARD, { qkv, cos, sin }) as Tensor[];
    save([qkv, cos, sin, out, lse]);
    return {
      value: out,
      gradFunc: (dout: Tensor, saved: Tensor[]) => {
        const [sqkv, scos, ssin, so, slse] = saved;
        const [dqkv] = tf.engine().runKernel(ROPE_BACKWARD, {
          qkv: sqkv,
          cos: scos,
          sin: ssin,
          out: so,
          lse: slse,
          dout,
        }) as Tensor[];
        // The RoPE tables are constants: their gradients are never used.
        return [dqkv, tf.zerosLike(scos), tf.zerosLike(ssin)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * Fused RoPE + attention on the qkv projection [B, L, 3D] with cos, sin [L, hd]; returns [B, L, D].
 * Only call when {@linkcode fusedAttentionActive}.
 */
export function fusedRopeAttention(qkv: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return fusedRope(qkv, cos, sin) as Tensor;
}
