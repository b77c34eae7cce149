/**
 * What a unit of work costs on the host side of the webgpu backend: WebGPU calls counted where they enter
 * the device (dispatches, compute passes, queue submits, buffer creations, bind groups, uploads,
 * readbacks), tfjs's buffer-pool acquisitions, and the CPU time of the JavaScript thread.
 *
 * How the host time is separated from the GPU's: `hostMs` is the CPU time of the calling thread
 * (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)` through FFI), so time the thread spends waiting for the GPU (a
 * readback's `mapAsync`, awaiting `onSubmittedWorkDone`) does not count, nor does load from other
 * processes (a loaded machine stretches wall time, not this thread's CPU time). On a real GPU that is the
 * cost of recording and submitting plus tfjs's and the trainers' own bookkeeping. On a software adapter
 * (lavapipe) the "GPU" is CPU threads of the same process; its threads are not this one, but whatever the
 * driver does on the calling thread inside `queue.submit` would count, so `submitMs` (the same clock,
 * inside `submit` only) is reported beside it, and `hostMs` minus `submitMs` is the part no driver can
 * change. Where FFI is not allowed the clock falls back to wall time, and `clock` says so.
 *
 * The counters wrap WebGPU's prototypes (GPUComputePassEncoder, GPUDevice, GPUQueue, GPUBuffer,
 * GPUCommandEncoder) and the backend's buffer manager while a measurement runs, and restore them after.
 *
 * @module
 */
import { tf } from "../backend/mod.ts";

/** Counts and times of one measured call. */
export interface GpuCounters {
  /** `dispatchWorkgroups` calls: one per GPU program run. */
  dispatches: number;
  /** Compute passes begun (tfjs records many dispatches in one pass until it submits). */
  computePasses: number;
  /** `queue.submit` calls. */
  submits: number;
  /** Buffer-to-buffer copies recorded (tfjs's copies between tensors, readback staging). */
  copies: number;
  /** GPU buffers created (`device.createBuffer`): allocations that tfjs's pool could not serve. */
  bufferCreates: number;
  /** Buffers taken from tfjs's pool (one per output tensor, uniform block and readback staging). */
  bufferAcquires: number;
  /** Bind groups created (tfjs creates one per dispatch). */
  bindGroups: number;
  /** `queue.writeBuffer` calls: uploads of tensor data and of uniform blocks. */
  uploads: number;
  /** Bytes written by them. */
  uploadBytes: number;
  /** Buffer maps for reading (`mapAsync`): readbacks, each a wait for the queue to drain. */
  readbacks: number;
  /** Shader modules and compute pipelines compiled. */
  pipelines: number;
  /** CPU time of this thread over the call (see the module's note); wall time where `clock` is "wall". */
  hostMs: number;
  /** Of it, inside `queue.submit`. */
  submitMs: number;
  /** Wall time of the call. */
  wallMs: number;
  /** The clock of hostMs and submitMs: "thread-cpu" or "wall". */
  clock: "thread-cpu" | "wall";
}

type Clock = { now(): number; kind: GpuCounters["clock"] };

let threadClock: Clock | null | undefined;

/** CLOCK_THREAD_CPUTIME_ID through libc, or null where FFI or the library is not available. */
function loadThreadClock(): Clock | null {
  if (threadClock !== undefined) return threadClock;
  threadClock = null;
  if (Deno.build.os !== "linux") return null;
  try {
    const lib = Deno.dlopen("libc.so.6", { clock_gettime: { parameters: ["i32", "buffer"], result: "i32" } });
    const ts = new BigInt64Array(2);
    const CLOCK_THREAD_CPUTIME_ID = 3;
    const now = () => {
      if (lib.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0) return NaN;
      return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
    };
    if (Number.isFinite(now())) threadClock = { now, kind: "thread-cpu" };
  } catch {
    // No --allow-ffi, or no libc.so.6: wall time below.
  }
  return threadClock;
}

function clock(): Clock {
  return loadThreadClock() ?? { now: () => performance.now(), kind: "wall" };
}

type Patch = [object, string, unknown];

function globalProto(name: string): Record<string, unknown> | null {
  const c = (globalThis as unknown as Record<string, { prototype?: Record<string, unknown> } | undefined>)[name];
  return c?.prototype ?? null;
}

/**
 * Runs `fn` once with the webgpu backend's traffic counted and its host time measured. On any other backend
 * it returns null (and runs nothing).
 *
 * @example
 * ```ts ignore
 * await initBackend("webgpu");
 * const c = await countGpuWork(() => tf.tidy(() => tf.add(tf.ones([4]), 1).dataSync()));
 * c!.dispatches; // 2 or more
 * ```
 */
export async function countGpuWork(fn: () => unknown): Promise<GpuCounters | null> {
  if (tf.getBackend() !== "webgpu") return null;
  const clk = clock();
  const c: GpuCounters = {
    dispatches: 0,
    computePasses: 0,
    submits: 0,
    copies: 0,
    bufferCreates: 0,
    bufferAcquires: 0,
    bindGroups: 0,
    uploads: 0,
    uploadBytes: 0,
    readbacks: 0,
    pipelines: 0,
    hostMs: 0,
    submitMs: 0,
    wallMs: 0,
    clock: clk.kind,
  };
  const patches: Patch[] = [];
  const wrap = (target: Record<string, unknown> | null, name: string, count: (args: unknown[]) => void) => {
    const f = target?.[name];
    if (!target || typeof f !== "function") return;
    patches.push([target, name, f]);
    target[name] = function (this: unknown, ...args: unknown[]) {
      count(args);
      return f.apply(this, args);
    };
  };
  wrap(globalProto("GPUComputePassEncoder"), "dispatchWorkgroups", () => c.dispatches++);
  wrap(globalProto("GPUCommandEncoder"), "beginComputePass", () => c.computePasses++);
  wrap(globalProto("GPUCommandEncoder"), "copyBufferToBuffer", () => c.copies++);
  wrap(globalProto("GPUDevice"), "createBuffer", () => c.bufferCreates++);
  wrap(globalProto("GPUDevice"), "createBindGroup", () => c.bindGroups++);
  wrap(globalProto("GPUDevice"), "createComputePipeline", () => c.pipelines++);
  wrap(globalProto("GPUDevice"), "createComputePipelineAsync", () => c.pipelines++);
  wrap(globalProto("GPUQueue"), "writeBuffer", (args) => {
    c.uploads++;
    const data = args[2] as ArrayBufferView | ArrayBuffer | undefined;
    const size = args[4] as number | undefined;
    c.uploadBytes += size !== undefined
      ? size * ((data as Float32Array)?.BYTES_PER_ELEMENT ?? 1)
      : data?.byteLength ?? 0;
  });
  wrap(globalProto("GPUBuffer"), "mapAsync", () => c.readbacks++);
  const queue = globalProto("GPUQueue");
  const submit = queue?.submit;
  if (queue && typeof submit === "function") {
    patches.push([queue, "submit", submit]);
    queue.submit = function (this: unknown, ...args: unknown[]) {
      c.submits++;
      const t0 = clk.now();
      try {
        return submit.apply(this, args);
      } finally {
        c.submitMs += clk.now() - t0;
      }
    };
  }
  const manager = (tf.backend() as unknown as { bufferManager?: object }).bufferManager;
  wrap(manager ? Object.getPrototypeOf(manager) : null, "acquireBuffer", () => c.bufferAcquires++);
  const h0 = clk.now(), w0 = performance.now();
  try {
    await fn();
  } finally {
    c.hostMs = clk.now() - h0;
    c.wallMs = performance.now() - w0;
    for (const [target, name, f] of patches.reverse()) (target as Record<string, unknown>)[name] = f;
  }
  return c;
}
