/**
 * Fused non-causal attention for the cpu and wasm backends, on OpenBLAS.
 *
 * The tensor-op version needs the [B, L, H, hd] -> [B, H, L, hd] transposes of q, k, v and of the
 * output, and their gradients; on wasm those transposes took 6.6 s of a 12 s DIS step (profiled).
 * Here each (batch, head) pair is two strided sgemm calls that read q, k, v where they lie (leading
 * dimension D = H * hd) and write the output in place, with a row softmax in between. Like
 * FlashAttention, the forward pass keeps only the row log-sum-exp, and the backward pass recomputes
 * the probabilities from it, so memory stays O(B * H * L) beyond one L x L scratch block; this is what
 * lets ARC's L = 916 run at useful batch sizes.
 *
 * @module
 */
import { blasSgemm, installBlasKernels } from "./blas.ts";
import { type Tensor, tf } from "./tf.ts";

const FORWARD = "TrmDisAttention";
const BACKWARD = "TrmDisAttentionGrad";
const NO_TRANS = false, TRANS = true;

interface Dims {
  b: number;
  l: number;
  h: number;
  hd: number;
}

function dims(shape: number[]): Dims {
  const [b, l, h, hd] = shape;
  return { b, l, h, hd };
}

/** out = softmax(q k^T / sqrt(hd)) v per (batch, head); lse receives each row's log-sum-exp. */
function forwardCore(
  d: Dims,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  lse: Float32Array,
): void {
  const { b, l, h, hd } = d;
  const dm = h * hd, scale = 1 / Math.sqrt(hd);
  const s = new Float32Array(l * l);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const off = bi * l * dm + hi * hd;
      blasSgemm(NO_TRANS, TRANS, l, l, hd, scale, q.subarray(off), dm, k.subarray(off), dm, 0, s, l);
      const lrow = (bi * h + hi) * l;
      for (let i = 0; i < l; i++) {
        const r = i * l;
        let m = -Infinity;
        for (let j = 0; j < l; j++) if (s[r + j] > m) m = s[r + j];
        let sum = 0;
        for (let j = 0; j < l; j++) {
          const e = Math.exp(s[r + j] - m);
          s[r + j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let j = 0; j < l; j++) s[r + j] *= inv;
        lse[lrow + i] = m + Math.log(sum);
      }
      blasSgemm(NO_TRANS, NO_TRANS, l, hd, l, 1, s, l, v.subarray(off), dm, 0, out.subarray(off), dm);
    }
  }
}

/** Gradients of the forward pass with respect to q, k and v, recomputing the probabilities. */
function backwardCore(
  d: Dims,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  lse: Float32Array,
  dout: Float32Array,
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
): void {
  const { b, l, h, hd } = d;
  const dm = h * hd, scale = 1 / Math.sqrt(hd);
  const p = new Float32Array(l * l), dp = new Float32Array(l * l), delta = new Float64Array(l);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const off = bi * l * dm + hi * hd;
      const lrow = (bi * h + hi) * l;
      blasSgemm(NO_TRANS, TRANS, l, l, hd, scale, q.subarray(off), dm, k.subarray(off), dm, 0, p, l);
      for (let i = 0; i < l; i++) {
        const r = i * l, z = lse[lrow + i];
        for (let j = 0; j < l; j++) p[r + j] = Math.exp(p[r + j] - z);
        // delta_i = sum_d dO[i, d] * O[i, d] = sum_j P[i, j] * dP[i, j]
        let acc = 0;
        const ro = off + i * dm;
        for (let c = 0; c < hd; c++) acc += dout[ro + c] * out[ro + c];
        delta[i] = acc;
      }
      blasSgemm(TRANS, NO_TRANS, l, hd, l, 1, p, l, dout.subarray(off), dm, 0, dv.subarray(off), dm);
      blasSgemm(NO_TRANS, TRANS, l, l, hd, 1, dout.subarray(off), dm, v.subarray(off), dm, 0, dp, l);
      for (let i = 0; i < l; i++) {
        const r = i * l, di = delta[i];
        for (let j = 0; j < l; j++) dp[r + j] = p[r + j] * (dp[r + j] - di) * scale;
      }
      blasSgemm(NO_TRANS, NO_TRANS, l, hd, l, 1, dp, l, k.subarray(off), dm, 0, dq.subarray(off), dm);
      blasSgemm(TRANS, NO_TRANS, l, hd, l, 1, dp, l, q.subarray(off), dm, 0, dk.subarray(off), dm);
    }
  }
}

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

function readF32(backend: AnyBackend, wasm: boolean, t: tf.TensorInfo): Float32Array {
  return wasm ? backend.typedArrayFromHeap(t) : backend.data.get(t.dataId).values as Float32Array;
}

function forwardKernel(wasm: boolean) {
  return ({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: AnyBackend }) => {
    const d = dims(inputs.q.shape);
    const shapes = [inputs.q.shape, [d.b, d.h, d.l]];
    if (wasm) {
      // Views are taken after every allocation: an allocation may grow (replace) the wasm memory.
      const infos = shapes.map((s) => backend.makeOutput(s, "float32"));
      const [o, lse] = infos.map((t) => backend.typedArrayFromHeap(t));
      forwardCore(
        d,
        readF32(backend, true, inputs.q),
        readF32(backend, true, inputs.k),
        readF32(backend, true, inputs.v),
        o,
        lse,
      );
      return infos;
    }
    const o = new Float32Array(d.b * d.l * d.h * d.hd), lse = new Float32Array(d.b * d.h * d.l);
    forwardCore(
      d,
      readF32(backend, false, inputs.q),
      readF32(backend, false, inputs.k),
      readF32(backend, false, inputs.v),
      o,
      lse,
    );
    return [backend.makeTensorInfo(shapes[0], "float32", o), backend.makeTensorInfo(shapes[1], "float32", lse)];
  };
}

function backwardKernel(wasm: boolean) {
  return ({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: AnyBackend }) => {
    const d = dims(inputs.q.shape);
    const shape = inputs.q.shape;
    const read = (name: string) => readF32(backend, wasm, inputs[name]);
    if (wasm) {
      const infos = [0, 1, 2].map(() => backend.makeOutput(shape, "float32"));
      const [dq, dk, dv] = infos.map((t) => backend.typedArrayFromHeap(t));
      backwardCore(d, read("q"), read("k"), read("v"), read("out"), read("lse"), read("dout"), dq, dk, dv);
      return infos;
    }
    const n = d.b * d.l * d.h * d.hd;
    const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
    backwardCore(d, read("q"), read("k"), read("v"), read("out"), read("lse"), read("dout"), dq, dk, dv);
    return [dq, dk, dv].map((a) => backend.makeTensorInfo(shape, "float32", a));
  };
}

const registered = new Set<string>();

/** Registers the fused kernels on a backend (requires OpenBLAS). Returns whether they are usable. */
export function installAttentionKernels(backendName: "cpu" | "wasm"): boolean {
  if (registered.has(backendName)) return true;
  if (!installBlasKernels(backendName)) return false;
  const wasm = backendName === "wasm";
  tf.registerKernel({ kernelName: FORWARD, backendName, kernelFunc: forwardKernel(wasm) as unknown as tf.KernelFunc });
  tf.registerKernel({
    kernelName: BACKWARD,
    backendName,
    kernelFunc: backwardKernel(wasm) as unknown as tf.KernelFunc,
  });
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
