/**
 * Backend selection: `auto | cpu | wasm | webgpu | tensorflow | tensorflow-gpu`.
 *
 * `auto` tries, in order: tensorflow-gpu, webgpu on a non-fallback (hardware) adapter, tensorflow,
 * wasm, cpu, and takes the first that initialises. A backend asked for by name that cannot start
 * raises {@linkcode BackendUnavailableError} saying why and how to get it. On cpu and wasm,
 * {@linkcode initBackend} then installs the project's kernels ({@linkcode installKernels}): the fused
 * JavaScript ones always, OpenBLAS matmuls and the fused attention unless `blas: false` (the exact
 * reference backend of the goldens).
 *
 * @module
 */
import { readEnv, setEnvIfUnset } from "../env.ts";
import { installAttentionKernels } from "./attention_kernel.ts";
import { installBlasKernels, loadBlas } from "./blas.ts";
import { installFusedKernels } from "./fused_kernels.ts";
import { tf } from "./tf.ts";
import { installWebgpuKernels, uninstallWebgpuKernels } from "./webgpu_kernels.ts";

/** The backends `--backend` accepts besides `auto`, in no order of preference (see {@linkcode AUTO_ORDER}). */
export const BACKEND_NAMES = ["cpu", "wasm", "webgpu", "tensorflow", "tensorflow-gpu"] as const;
/** One of {@linkcode BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];
/** What a caller may ask for: a backend by name, or `auto` for the first that starts. */
export type BackendRequest = BackendName | "auto";

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /**
   * OpenBLAS for the matmuls (and the fused attention) of cpu and wasm (default true). `false` on cpu is
   * the exact reference backend the goldens are made on. OpenBLAS, once loaded, stays for the process.
   */
  blas?: boolean;
}

/** What was chosen, for provenance. */
export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** What the user asked for. */
  requested: BackendRequest;
  /** tfjs version. */
  tfjs: string;
  /** Backend-specific facts: adapter name and fallback flag (webgpu), SIMD and threads (wasm). */
  details: Record<string, string | number | boolean>;
  /** For `auto`: why each earlier candidate was skipped. */
  skipped?: Record<string, string>;
}

/** A backend was asked for by name but cannot be used here. */
export class BackendUnavailableError extends Error {
  /**
   * Builds the message `Cannot use backend "<backend>": <reason>. <hint>`.
   *
   * @param backend The backend that was asked for.
   * @param reason Why it cannot start here.
   * @param hint How to get it (a package to install, a flag).
   * @param options The underlying cause, if any.
   */
  constructor(readonly backend: BackendName, reason: string, readonly hint: string, options?: ErrorOptions) {
    super(`Cannot use backend "${backend}": ${reason}. ${hint}`, options);
    this.name = "BackendUnavailableError";
  }
}

/** Checks a backend request string. */
export function parseBackend(value: string): BackendRequest {
  if (value === "auto" || (BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendRequest;
  throw new TypeError(`Unknown backend "${value}": expected one of auto, ${BACKEND_NAMES.join(", ")}`);
}

interface GpuAdapterLike {
  info?: { description?: string; vendor?: string; architecture?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features?: Set<string>;
  limits?: Record<string, number>;
}

async function requestAdapter(): Promise<GpuAdapterLike | null> {
  const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(o?: unknown): Promise<unknown> } }).gpu;
  if (!gpu) return null;
  quietVulkanLoader();
  return await gpu.requestAdapter({ powerPreference: "high-performance" }) as GpuAdapterLike | null;
}

/**
 * Vulkan's loader prints "XDG_RUNTIME_DIR is invalid or not set" on every adapter request when the
 * variable is unset (CI machines; `auto` probes webgpu). It only checks that the directory exists, so
 * the system's temporary directory serves; an existing setting is left alone.
 */
function quietVulkanLoader(): void {
  // Without --allow-env the message stays; nothing depends on it.
  if (readEnv("XDG_RUNTIME_DIR") === undefined) setEnvIfUnset("XDG_RUNTIME_DIR", readEnv("TMPDIR") ?? "/tmp");
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend("${name}") returned false`);
}

async function tryTensorflow(gpu: boolean): Promise<Record<string, string | number | boolean>> {
  const name: BackendName = gpu ? "tensorflow-gpu" : "tensorflow";
  const pkg = gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  try {
    if (gpu) await import("@tensorflow/tfjs-node-gpu");
    else await import("@tensorflow/tfjs-node");
  } catch (e) {
    throw new BackendUnavailableError(
      name,
      `${pkg} could not load its native library (${String((e as Error).message).split("\n")[0]})`,
      `Its install script downloads libtensorflow, and Deno skips npm install scripts by default: run ` +
        `\`deno install --allow-scripts=npm:${pkg}\` on a machine that can reach storage.googleapis.com` +
        (gpu ? " (tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1)" : "") + `, or pick --backend wasm.`,
      { cause: e },
    );
  }
  try {
    await activate("tensorflow");
  } catch (e) {
    throw new BackendUnavailableError(name, `the "tensorflow" backend did not initialise`, "Pick --backend wasm.", {
      cause: e,
    });
  }
  return { native: true, gpu };
}

async function tryWebgpu(requireHardware: boolean): Promise<Record<string, string | number | boolean>> {
  const adapter = await requestAdapter();
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu",
      "no WebGPU adapter was found (navigator.gpu.requestAdapter() returned null)",
      "On a machine without a GPU install Debian's mesa-vulkan-drivers and libvulkan1 for a software " +
        "adapter; on a GPU machine install the Vulkan loader (libvulkan1) and the vendor's driver.",
    );
  }
  const fallback = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const description = adapter.info?.description || adapter.info?.device || "unknown";
  if (requireHardware && fallback) {
    throw new BackendUnavailableError(
      "webgpu",
      `the only adapter is a software fallback (${description})`,
      "Ask for --backend webgpu to use it anyway.",
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  try {
    await activate("webgpu");
  } catch (e) {
    throw new BackendUnavailableError("webgpu", "tfjs's webgpu backend did not initialise", "Pick --backend wasm.", {
      cause: e,
    });
  }
  return {
    adapter: description,
    fallback,
    shaderF16: Boolean(adapter.features?.has?.("shader-f16")),
    // The largest buffer a tensor may take: lib/train's micro-batch choice keeps every tensor below both.
    ...(typeof adapter.limits?.maxBufferSize === "number" ? { maxBufferSize: adapter.limits.maxBufferSize } : {}),
    ...(typeof adapter.limits?.maxStorageBufferBindingSize === "number"
      ? { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }
      : {}),
    ...webgpuTuning(),
  };
}

/**
 * Settings of the webgpu backend, each switchable by an environment variable so one run can time both
 * sides; none changes results:
 * - the WGSL kernels for the fused block ops (webgpu_kernels.ts), off with `TRM_DIS_WEBGPU_KERNELS=0`;
 * - tfjs's CPU forwarding, off unless `TRM_DIS_WEBGPU_CPU_FORWARD=1`. With it, data-movement ops (Tile,
 *   Slice, Concat, Gather, Cast, ...) whose inputs are small and still on the host run in JavaScript, so
 *   the trainers' broadcast of y_init / z_init to [B, S, D] was tiled element by element on the CPU and
 *   uploaded: 250-300 ms per broadcast at B = 512 on the 2-core machine, 12 of them per DIS step; on the
 *   device it takes under 1 ms to record. These kernels only move data, so the values are the same;
 * - tfjs's submit batching from `TRM_DIS_WEBGPU_SUBMIT_BATCH` (dispatches recorded per queue submit; tfjs's
 *   default is 15; buffers freed by disposed tensors return to the pool only at a submit).
 */
function webgpuTuning(): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const cpuForward = readEnv("TRM_DIS_WEBGPU_CPU_FORWARD") === "1";
  tf.env().set("WEBGPU_CPU_FORWARD", cpuForward);
  out.cpuForward = cpuForward;
  if (readEnv("TRM_DIS_WEBGPU_KERNELS") === "0") {
    uninstallWebgpuKernels();
    out.fusedKernels = "off (TRM_DIS_WEBGPU_KERNELS=0)";
  } else {
    out.fusedKernels = installWebgpuKernels().length > 0;
  }
  const batch = Number(readEnv("TRM_DIS_WEBGPU_SUBMIT_BATCH") ?? "");
  if (Number.isInteger(batch) && batch > 0) tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", batch);
  out.submitBatch = tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number;
  return out;
}

async function tryWasm(opts: BackendOptions): Promise<Record<string, string | number | boolean>> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
    await activate("wasm");
  } catch (e) {
    throw new BackendUnavailableError("wasm", "the wasm backend did not initialise", "Pick --backend cpu.", {
      cause: e,
    });
  }
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  // Threads stay off: under Deno tfjs takes the Node path and its worker fails (ERR_WORKER_PATH).
  return { simd, threads: 1, ...installKernels("wasm", opts) };
}

async function tryCpu(opts: BackendOptions): Promise<Record<string, string | number | boolean>> {
  await activate("cpu");
  return installKernels("cpu", opts);
}

/**
 * Installs the project's kernels on cpu or wasm: the fused JavaScript ones (add+RMSNorm, SiLU gate), and,
 * unless `blas: false`, OpenBLAS matmuls and the fused attention when OpenBLAS loads. Returns what is
 * installed, for provenance. {@linkcode initBackend} calls it; a caller that switched kernels off (tests)
 * can call it again.
 *
 * @example
 * ```ts
 * import { initBackend, installKernels } from "./select.ts";
 * await initBackend("cpu");
 * typeof installKernels("cpu", { blas: false }).fusedKernels; // "boolean"
 * ```
 */
export function installKernels(
  backend: "cpu" | "wasm",
  opts: BackendOptions = {},
): Record<string, string | number | boolean> {
  const enabled = opts.blas ?? true;
  const fusedKernels = installFusedKernels(backend);
  if (!installBlasKernels(backend, { enabled })) return { blas: `off: ${loadBlas({ enabled }).reason}`, fusedKernels };
  const s = loadBlas();
  return {
    blas: `${s.library} (${s.config})`,
    blasThreads: s.threads ?? 0,
    fusedAttention: installAttentionKernels(backend),
    fusedKernels,
  };
}

async function tryOne(
  name: BackendName,
  auto: boolean,
  opts: BackendOptions,
): Promise<Record<string, string | number | boolean>> {
  switch (name) {
    case "tensorflow-gpu":
      return await tryTensorflow(true);
    case "tensorflow":
      return await tryTensorflow(false);
    case "webgpu":
      return await tryWebgpu(auto);
    case "wasm":
      return await tryWasm(opts);
    case "cpu":
      return await tryCpu(opts);
  }
}

/** The order `auto` tries backends in. */
export const AUTO_ORDER: readonly BackendName[] = ["tensorflow-gpu", "webgpu", "tensorflow", "wasm", "cpu"];

/**
 * Initialises a backend and makes it tfjs's current one.
 *
 * @example
 * ```ts
 * import { initBackend } from "./select.ts";
 * const info = await initBackend("cpu");
 * info.name; // "cpu"
 * ```
 */
export async function initBackend(request: BackendRequest, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (request !== "auto") {
    const details = await tryOne(request, false, opts);
    return { name: request, requested: request, tfjs: tf.version.tfjs, details };
  }
  const skipped: Record<string, string> = {};
  for (const name of AUTO_ORDER) {
    try {
      const details = await tryOne(name, true, opts);
      return { name, requested: "auto", tfjs: tf.version.tfjs, details, skipped };
    } catch (e) {
      skipped[name] = (e as Error).message;
    }
  }
  throw new Error(`Cannot pick a backend: none initialised (${JSON.stringify(skipped)})`);
}
