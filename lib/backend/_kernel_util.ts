/**
 * Shared plumbing of the JavaScript kernels for the cpu and wasm backends: reading inputs and allocating
 * outputs where each backend keeps its tensors (JS typed arrays for cpu, the wasm heap for wasm).
 *
 * @module
 */
import type { tf } from "./tf.ts";

// deno-lint-ignore no-explicit-any
export type AnyBackend = any;

/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: AnyBackend;
  attrs?: Record<string, unknown>;
}

/** A typed-array view of a tensor's values where the backend keeps them. */
export function viewOf(backend: AnyBackend, wasm: boolean, t: tf.TensorInfo): Float32Array {
  return wasm ? backend.typedArrayFromHeap(t) : backend.data.get(t.dataId).values as Float32Array;
}

/**
 * Allocates float32 outputs, then runs `body` on views of the inputs and outputs. On wasm the views are
 * taken after every allocation: an allocation may grow (and so replace) the wasm memory.
 */
export function withOutputs(
  backend: AnyBackend,
  wasm: boolean,
  inputs: tf.TensorInfo[],
  shapes: number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): tf.TensorInfo[] {
  for (const t of inputs) {
    if (t.dtype !== "float32") throw new TypeError(`Cannot run a fused kernel on a ${t.dtype} input: expected float32`);
  }
  if (wasm) {
    const infos = shapes.map((s) => backend.makeOutput(s, "float32"));
    body(inputs.map((t) => viewOf(backend, true, t)), infos.map((t: tf.TensorInfo) => backend.typedArrayFromHeap(t)));
    return infos;
  }
  const outs = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  body(inputs.map((t) => viewOf(backend, false, t)), outs);
  return outs.map((a, i) => backend.makeTensorInfo(shapes[i], "float32", a));
}

const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;
/** 2^k for k in -200..199, indexed k + 200. */
const POW2 = Float64Array.from({ length: 400 }, (_, i) => 2 ** (i - 200));
/** Adding and subtracting 1.5 * 2^52 rounds a double to the nearest integer (ties to even). */
const ROUND = 6755399441055744;

/**
 * exp(x) to within 2e-7 relative (about one float32 ulp) at twice the speed of Math.exp in V8: the
 * softmax and SiLU loops of the fused kernels spend most of their time here. x is clamped to
 * [-100, 88] (exp(-100) underflows float32 to a denormal; exp(88) is near float32's largest value).
 */
export function expFast(x: number): number {
  if (x < -100) return 0;
  if (x > 88) x = 88;
  const t = x * LOG2E;
  const k = (t + ROUND) - ROUND;
  const r = (t - k) * LN2;
  // Taylor to degree 6 on |r| <= ln(2)/2: truncation error below 1.2e-7.
  const p = 1 +
    r *
      (1 +
        r *
          (0.5 +
            r *
              (0.16666666666666666 +
                r * (0.041666666666666664 + r * (0.008333333333333333 + r * 0.001388888888888889)))));
  return p * POW2[(k | 0) + 200];
}
