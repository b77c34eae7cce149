/**
 * JavaScript kernels for the cpu and wasm backends that replace chains of small tfjs kernels:
 *
 * - `TrmDisAddRmsNorm` (+ `Grad`): `rms(h + a)` over the last axis, gain-free, as TRM's post-norm
 *   residual. The op chain (Add, Square, Mean, Add, Rsqrt, Multiply) and its gradient are about 15
 *   kernels and as many full passes over [B, S, D]; this is one pass forward and two back.
 * - `TrmDisSiluGate` (+ `Grad`): SwiGLU's `silu(g) * u` read straight from the fused gate/up
 *   projection [.., 2I], so there is no split (SplitV) and no concat in the gradient.
 * - `Identity` (wasm): tfjs clones every tensor the gradient tape saves, and the stock wasm Identity
 *   copies the buffer (1,000 copies, 0.2 s per DIS step, profiled); this one shares it by reference
 *   count, as the cpu backend's does. tfjs never writes into a kernel's input, so sharing is safe.
 * - `Tile`: the stock wasm Tile computes an index per element and took ~60 ms per [64, 80, 256]
 *   broadcast (1.5 s of a 7.5 s DIS step, from the trainers' state resets, profiled); this one copies
 *   contiguous blocks.
 *
 * Sums run in float64; results are rounded to float32 once, so they differ from the op chain by
 * float32 rounding only (the tests bound it).
 *
 * @module
 */
import { type AnyBackend, expFast, type KernelArgs, viewOf, withOutputs } from "./_kernel_util.ts";
import { tf } from "./tf.ts";

export const ADD_RMS_NORM = "TrmDisAddRmsNorm";
export const ADD_RMS_NORM_GRAD = "TrmDisAddRmsNormGrad";
export const SILU_GATE = "TrmDisSiluGate";
export const SILU_GATE_GRAD = "TrmDisSiluGateGrad";

/** out = (h + a) * rstd per row of width d; rstd[r] = 1 / sqrt(mean((h + a)^2) + eps). */
function addRmsNormCore(
  h: Float32Array,
  a: Float32Array,
  d: number,
  eps: number,
  out: Float32Array,
  rstd: Float32Array,
): void {
  const rows = rstd.length;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let ss = 0;
    for (let i = 0; i < d; i++) {
      const x = Math.fround(h[o + i] + a[o + i]);
      out[o + i] = x;
      ss += x * x;
    }
    const inv = 1 / Math.sqrt(ss / d + eps);
    rstd[r] = inv;
    for (let i = 0; i < d; i++) out[o + i] *= inv;
  }
}

/** dx = rstd * (dy - y * mean(dy * y)) per row, from the saved output y. */
function addRmsNormGradCore(dy: Float32Array, y: Float32Array, rstd: Float32Array, d: number, dx: Float32Array): void {
  const rows = rstd.length;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += dy[o + i] * y[o + i];
    const m = dot / d, inv = rstd[r];
    for (let i = 0; i < d; i++) dx[o + i] = inv * (dy[o + i] - y[o + i] * m);
  }
}

/** out[r, i] = silu(g) * u with g = gu[r, i], u = gu[r, I + i]. */
function siluGateCore(gu: Float32Array, inner: number, out: Float32Array): void {
  const rows = out.length / inner;
  for (let r = 0; r < rows; r++) {
    const src = 2 * r * inner, dst = r * inner;
    for (let i = 0; i < inner; i++) {
      const g = gu[src + i];
      out[dst + i] = (g / (1 + expFast(-g))) * gu[src + inner + i];
    }
  }
}

/** dg = dy * u * sig * (1 + g * (1 - sig)), du = dy * silu(g). */
function siluGateGradCore(gu: Float32Array, dy: Float32Array, inner: number, dgu: Float32Array): void {
  const rows = dy.length / inner;
  for (let r = 0; r < rows; r++) {
    const src = 2 * r * inner, dst = r * inner;
    for (let i = 0; i < inner; i++) {
      const g = gu[src + i], u = gu[src + inner + i], d = dy[dst + i];
      const sg = 1 / (1 + expFast(-g));
      dgu[src + i] = d * u * sg * (1 + g * (1 - sg));
      dgu[src + inner + i] = d * g * sg;
    }
  }
}

/**
 * Tiles src (shape) by reps into dst, copying contiguous blocks: the innermost axis row by row, then
 * each outer axis's finished block repeated with copyWithin.
 */
export function tileInto(
  src: ArrayLike<number> & { subarray?: unknown },
  shape: number[],
  reps: number[],
  dst: Float32Array | Int32Array | Uint8Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const outShape = shape.map((s, i) => s * reps[i]);
  const srcInner = new Array<number>(rank), outInner = new Array<number>(rank);
  srcInner[rank - 1] = 1;
  outInner[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) {
    srcInner[i] = srcInner[i + 1] * shape[i + 1];
    outInner[i] = outInner[i + 1] * outShape[i + 1];
  }
  const s = src as Float32Array;
  const fill = (dim: number, srcOff: number, dstOff: number): void => {
    const n = shape[dim];
    if (dim === rank - 1) {
      dst.set(s.subarray(srcOff, srcOff + n), dstOff);
    } else {
      for (let i = 0; i < n; i++) fill(dim + 1, srcOff + i * srcInner[dim], dstOff + i * outInner[dim]);
    }
    const block = n * outInner[dim];
    for (let r = 1; r < reps[dim]; r++) dst.copyWithin(dstOff + r * block, dstOff, dstOff + block);
  };
  fill(0, 0, 0);
}

function addRmsNormKernel(wasm: boolean) {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const { h, a } = inputs;
    const d = h.shape[h.shape.length - 1];
    const rows = h.shape.reduce((x, y) => x * y, 1) / d;
    const eps = attrs!.eps as number;
    return withOutputs(backend, wasm, [h, a], [h.shape, [rows]], ([hv, av], [out, rstd]) => {
      addRmsNormCore(hv, av, d, eps, out, rstd);
    });
  };
}

function addRmsNormGradKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const { dy, y, rstd } = inputs;
    const d = y.shape[y.shape.length - 1];
    return withOutputs(backend, wasm, [dy, y, rstd], [y.shape], ([dyv, yv, rv], [dx]) => {
      addRmsNormGradCore(dyv, yv, rv, d, dx);
    });
  };
}

function siluGateKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const { gu } = inputs;
    const inner = gu.shape[gu.shape.length - 1] / 2;
    const shape = [...gu.shape.slice(0, -1), inner];
    return withOutputs(backend, wasm, [gu], [shape], ([g], [out]) => siluGateCore(g, inner, out));
  };
}

function siluGateGradKernel(wasm: boolean) {
  return ({ inputs, backend }: KernelArgs) => {
    const { gu, dy } = inputs;
    const inner = gu.shape[gu.shape.length - 1] / 2;
    return withOutputs(backend, wasm, [gu, dy], [gu.shape], ([g, d], [dgu]) => siluGateGradCore(g, d, inner, dgu));
  };
}

function identityKernel(stock: tf.KernelConfig | undefined) {
  return (args: KernelArgs) => {
    const { inputs: { x }, backend } = args;
    if (x.dtype === "string" || x.dtype === "complex64") {
      if (!stock) throw new TypeError(`Cannot clone a ${x.dtype} tensor: no stock Identity kernel`);
      return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

function tileKernel(wasm: boolean, stock: tf.KernelConfig | undefined) {
  return (args: KernelArgs) => {
    const { inputs: { x }, backend, attrs } = args;
    const reps = attrs!.reps as number[];
    if (x.dtype === "string" || x.dtype === "complex64") {
      if (!stock) throw new TypeError(`Cannot tile a ${x.dtype} tensor: no stock Tile kernel`);
      return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const outShape = x.shape.map((s, i) => s * reps[i]);
    const n = outShape.reduce((a, b) => a * b, 1);
    if (wasm) {
      const out = backend.makeOutput(outShape, x.dtype);
      if (n > 0) tileInto(backend.typedArrayFromHeap(x), x.shape, reps, backend.typedArrayFromHeap(out));
      return out;
    }
    const src = viewOf(backend, false, x);
    const dst = new (src.constructor as Float32ArrayConstructor)(n);
    if (n > 0) tileInto(src, x.shape, reps, dst);
    return (backend as AnyBackend).makeTensorInfo(outShape, x.dtype, dst);
  };
}

const installed = new Set<string>();
/** Stock kernels replaced here, by "backend/kernel". */
const stockKernels = new Map<string, tf.KernelConfig>();

function replaceStock(
  backendName: string,
  kernelName: string,
  make: (stock: tf.KernelConfig | undefined) => unknown,
): void {
  const stock = tf.getKernel(kernelName, backendName);
  if (stock) {
    stockKernels.set(`${backendName}/${kernelName}`, stock);
    tf.unregisterKernel(kernelName, backendName);
  }
  tf.registerKernel({ kernelName, backendName, kernelFunc: make(stock) as tf.KernelFunc });
}

/**
 * Registers the kernels above on the cpu or wasm backend (idempotent). They need no native library.
 *
 * @example
 * ```ts
 * import { installFusedKernels } from "./fused_kernels.ts";
 * installFusedKernels("cpu"); // true
 * ```
 */
export function installFusedKernels(backendName: "cpu" | "wasm"): boolean {
  if (installed.has(backendName)) return true;
  const wasm = backendName === "wasm";
  const kernels: [string, (w: boolean) => unknown][] = [
    [ADD_RMS_NORM, addRmsNormKernel],
    [ADD_RMS_NORM_GRAD, addRmsNormGradKernel],
    [SILU_GATE, siluGateKernel],
    [SILU_GATE_GRAD, siluGateGradKernel],
  ];
  for (const [kernelName, make] of kernels) {
    tf.registerKernel({ kernelName, backendName, kernelFunc: make(wasm) as tf.KernelFunc });
  }
  replaceStock(backendName, "Tile", (stock) => tileKernel(wasm, stock));
  if (wasm) replaceStock(backendName, "Identity", identityKernel);
  installed.add(backendName);
  return true;
}

/** Puts the stock kernels back and removes the fused ones (for tests and comparisons). */
export function uninstallFusedKernels(backendName: "cpu" | "wasm"): void {
  if (!installed.has(backendName)) return;
  for (const k of [ADD_RMS_NORM, ADD_RMS_NORM_GRAD, SILU_GATE, SILU_GATE_GRAD]) tf.unregisterKernel(k, backendName);
  for (const name of ["Tile", "Identity"]) {
    const stock = stockKernels.get(`${backendName}/${name}`);
    if (!stock) continue;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel(stock);
    // wasm kernels bind their C functions in setupFunc, which tfjs runs only at backend start.
    stock.setupFunc?.(tf.findBackend(backendName) as unknown as tf.KernelBackend);
    stockKernels.delete(`${backendName}/${name}`);
  }
  installed.delete(backendName);
}
