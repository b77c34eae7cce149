/**
 * A kernel profiler that works on every backend: it wraps each kernel registered for the current backend
 * with a timer for the duration of one call, and attributes to each kernel its own time (time spent in
 * kernels it calls is subtracted). tfjs's `tf.profile` reads every output back when it checks for NaNs,
 * which the webgpu backend cannot do synchronously under Deno, and it counts a custom gradient's inner
 * kernels twice.
 *
 * On cpu and wasm a kernel's time is its compute; on webgpu it is the time to record and submit its work
 * (the GPU runs it later), so there the profile shows the cost outside the GPU: dispatch and bookkeeping.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

/** Per-kernel totals of one profiled call. */
export interface KernelProfile {
  /** The tfjs backend the call ran on. */
  backend: string;
  /** Wall time of the whole call. */
  wallMs: number;
  /** Sum of the kernels' own times. */
  kernelMs: number;
  /** Kernel launches. */
  launches: number;
  /** By kernel name, largest time first. */
  kernels: { name: string; count: number; ms: number }[];
}

/**
 * Runs `fn` once with every kernel of the current backend timed.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { profileKernels } from "./profile.ts";
 * await initBackend("cpu");
 * const p = await profileKernels(() => tf.tidy(() => void tf.matMul(tf.ones([8, 8]), tf.ones([8, 8]))));
 * p.kernels.some((k) => k.name === "BatchMatMul"); // true
 * ```
 */
export async function profileKernels(fn: () => unknown): Promise<KernelProfile> {
  const backend = tf.getBackend();
  const originals = tf.getKernelsForBackend(backend);
  const totals = new Map<string, { count: number; ms: number }>();
  let childMs = 0;
  for (const k of originals) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        const outer = childMs;
        childMs = 0;
        const t0 = performance.now();
        try {
          return f(args);
        } finally {
          const dt = performance.now() - t0;
          const own = dt - childMs;
          const e = totals.get(k.kernelName) ?? { count: 0, ms: 0 };
          e.count += 1;
          e.ms += own;
          totals.set(k.kernelName, e);
          childMs = outer + dt;
        }
      }) as tf.KernelFunc,
    });
  }
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  }
  const wallMs = performance.now() - t0;
  const kernels = [...totals].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms);
  return {
    backend,
    wallMs,
    kernelMs: kernels.reduce((s, k) => s + k.ms, 0),
    launches: kernels.reduce((s, k) => s + k.count, 0),
    kernels,
  };
}
