/**
 * Matrix multiplication through the system's OpenBLAS, called with Deno's FFI, for the cpu and wasm
 * backends.
 *
 * tfjs's wasm backend runs single-threaded under Deno (its worker threads fail to start), and its
 * XNNPACK matmul reaches about 16 GFLOP/s on one core here; OpenBLAS's sgemm with 2 threads reaches
 * about 215 GFLOP/s on the same machine (AVX-512). PyTorch on the CPU uses the same library, so this
 * is also what makes the speed comparison with it fair. The tensors stay where the backend keeps them
 * (the wasm heap, or JS typed arrays for cpu): sgemm reads and writes them in place, and handles
 * transposed operands through its own flags, so no transpose is ever materialised.
 *
 * Loading is optional: without the library (or without --allow-ffi) the stock kernels stay. Set
 * `TRM_DIS_BLAS=off` to disable it, `TRM_DIS_BLAS_LIB` to name the library file, and
 * `TRM_DIS_BLAS_THREADS` to set the thread count (default: all cores). For a fixed thread count
 * OpenBLAS's sgemm partitions work over output blocks only, so results are run-to-run deterministic.
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { tf } from "./tf.ts";

const CblasRowMajor = 101;
const CblasNoTrans = 111;
const CblasTrans = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

type BlasLib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** What the BLAS accelerator is doing, for provenance. */
export interface BlasStatus {
  /** True when OpenBLAS is loaded and its matmul kernels are installed. */
  active: boolean;
  /** Library file and its configuration string, when loaded. */
  library?: string;
  /** OpenBLAS's build configuration string (`openblas_get_config`), when loaded. */
  config?: string;
  /** Threads OpenBLAS uses (`openblas_get_num_threads`), when loaded. */
  threads?: number;
  /** Why it is off. */
  reason?: string;
}

let lib: BlasLib | null = null;
let status: BlasStatus = { active: false, reason: "not loaded yet" };
const installedOn = new Set<string>();
const stockKernels = new Map<string, tf.KernelConfig>();

function candidates(): string[] {
  const named = readEnv("TRM_DIS_BLAS_LIB");
  if (named) return [named];
  return [
    "libopenblas.so.0",
    "libopenblas.so",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "libopenblas.dylib",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  ];
}

/**
 * Loads OpenBLAS once; returns its status. Never throws. `enabled: false` (the reference cpu backend)
 * leaves it unloaded; once loaded, it stays loaded for the process.
 */
export function loadBlas(opts: { enabled?: boolean } = {}): BlasStatus {
  if (lib) return status;
  if (opts.enabled === false) {
    status = { active: false, reason: "disabled (the reference backend: --no-blas or TRM_DIS_BLAS=off)" };
    return status;
  }
  const errors: string[] = [];
  for (const path of candidates()) {
    try {
      lib = Deno.dlopen(path, SYMBOLS);
      const threadsEnv = Number(readEnv("TRM_DIS_BLAS_THREADS") ?? "");
      const threads = Number.isInteger(threadsEnv) && threadsEnv > 0 ? threadsEnv : navigator.hardwareConcurrency;
      lib.symbols.openblas_set_num_threads(threads);
      const cfgPtr = lib.symbols.openblas_get_config();
      const config = cfgPtr ? new Deno.UnsafePointerView(cfgPtr).getCString() : "";
      status = { active: true, library: path, config, threads: lib.symbols.openblas_get_num_threads() };
      return status;
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
      lib = null;
    }
  }
  status = {
    active: false,
    reason: `OpenBLAS not found (install Debian's libopenblas0-pthread; tried ${errors.join("; ")})`,
  };
  return status;
}

/** The current accelerator status. */
export function blasStatus(): BlasStatus {
  return status;
}

/** Whether matmuls on the given backend go through OpenBLAS. */
export function blasActiveOn(backendName: string): boolean {
  return lib !== null && installedOn.has(backendName);
}

/**
 * One row-major `c = alpha * op(a) @ op(b) + beta * c` through OpenBLAS. The arrays may be views that
 * start at a sub-matrix; lda/ldb/ldc are the row strides. Requires {@linkcode loadBlas} to be active.
 */
export function blasSgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  if (!lib) throw new Error("Cannot call sgemm: OpenBLAS is not loaded");
  lib.symbols.cblas_sgemm(
    CblasRowMajor,
    transA ? CblasTrans : CblasNoTrans,
    transB ? CblasTrans : CblasNoTrans,
    m,
    n,
    k,
    alpha,
    a,
    lda,
    b,
    ldb,
    beta,
    c,
    ldc,
  );
}

interface MatMulGeometry {
  m: number;
  n: number;
  k: number;
  batchA: number;
  batchB: number;
  batch: number;
  outShape: number[];
}

function geometry(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulGeometry {
  const ar = aShape.length, br = bShape.length;
  const m = transposeA ? aShape[ar - 1] : aShape[ar - 2];
  const k = transposeA ? aShape[ar - 2] : aShape[ar - 1];
  const kb = transposeB ? bShape[br - 1] : bShape[br - 2];
  const n = transposeB ? bShape[br - 2] : bShape[br - 1];
  if (k !== kb) {
    throw new RangeError(
      `Cannot matMul shapes [${aShape}] and [${bShape}] (transposeA=${transposeA}, transposeB=${transposeB}): ` +
        `inner sizes ${k} and ${kb} differ`,
    );
  }
  const outerA = aShape.slice(0, -2), outerB = bShape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  return { m, n, k, batchA, batchB, batch: Math.max(batchA, batchB), outShape: [...outer, m, n] };
}

function sgemmBatched(
  g: MatMulGeometry,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  transposeA: boolean,
  transposeB: boolean,
): void {
  const { m, n, k, batchA, batchB, batch } = g;
  const sgemm = lib!.symbols.cblas_sgemm;
  const lda = transposeA ? m : k, ldb = transposeB ? k : n;
  const ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans;
  const sa = m * k, sb = k * n, sc = m * n;
  if (sc === 0) return;
  if (k === 0) {
    c.fill(0);
    return;
  }
  for (let i = 0; i < batch; i++) {
    const ia = i % batchA, ib = i % batchB;
    sgemm(
      CblasRowMajor,
      ta,
      tb,
      m,
      n,
      k,
      1,
      a.subarray(ia * sa, (ia + 1) * sa),
      lda,
      b.subarray(ib * sb, (ib + 1) * sb),
      ldb,
      0,
      c.subarray(i * sc, (i + 1) * sc),
      n,
    );
  }
}

interface KernelArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  // deno-lint-ignore no-explicit-any
  backend: any;
  attrs: { transposeA: boolean; transposeB: boolean };
}

function wasmKernel({ inputs: { a, b }, backend, attrs }: KernelArgs): tf.TensorInfo {
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new TypeError(`Cannot run BatchMatMul on dtypes ${a.dtype} and ${b.dtype}: expected float32`);
  }
  const g = geometry(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
  const out = backend.makeOutput(g.outShape, "float32");
  // Views are taken after makeOutput, which may grow (and so replace) the wasm memory buffer.
  sgemmBatched(
    g,
    backend.typedArrayFromHeap(a),
    backend.typedArrayFromHeap(b),
    backend.typedArrayFromHeap(out),
    attrs.transposeA,
    attrs.transposeB,
  );
  return out;
}

function cpuKernel({ inputs: { a, b }, backend, attrs }: KernelArgs): tf.TensorInfo {
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new TypeError(`Cannot run BatchMatMul on dtypes ${a.dtype} and ${b.dtype}: expected float32`);
  }
  const g = geometry(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
  const c = new Float32Array(g.outShape.reduce((x, y) => x * y, 1));
  sgemmBatched(
    g,
    backend.data.get(a.dataId).values as Float32Array,
    backend.data.get(b.dataId).values as Float32Array,
    c,
    attrs.transposeA,
    attrs.transposeB,
  );
  return backend.makeTensorInfo(g.outShape, "float32", c);
}

/**
 * Replaces the BatchMatMul kernel of the cpu or wasm backend with the OpenBLAS one, if the library
 * loads. Returns whether it is active on that backend.
 */
export function installBlasKernels(backendName: "cpu" | "wasm", opts: { enabled?: boolean } = {}): boolean {
  if (installedOn.has(backendName)) return true;
  if (!loadBlas(opts).active) return false;
  const stock = tf.getKernel("BatchMatMul", backendName);
  if (stock) stockKernels.set(backendName, stock);
  tf.unregisterKernel("BatchMatMul", backendName);
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName,
    kernelFunc: (backendName === "wasm" ? wasmKernel : cpuKernel) as unknown as tf.KernelFunc,
  });
  installedOn.add(backendName);
  return true;
}

/** Puts the backend's own BatchMatMul kernel back (for tests and for `TRM_DIS_BLAS=off` comparisons). */
export function uninstallBlasKernels(backendName: "cpu" | "wasm"): void {
  if (!installedOn.has(backendName)) return;
  tf.unregisterKernel("BatchMatMul", backendName);
  const stock = stockKernels.get(backendName);
  if (stock) {
    tf.registerKernel(stock);
    // The wasm kernel binds its C function in setupFunc, which tfjs runs only at backend start.
    stock.setupFunc?.(tf.findBackend(backendName) as unknown as tf.KernelBackend);
  }
  installedOn.delete(backendName);
}
