/**
 * Runs a hand-written WGSL compute shader on tfjs's webgpu backend, inside the backend's own command
 * stream, with any number of outputs.
 *
 * tfjs's `runWebGPUProgram` binds exactly one output, so a kernel with two outputs (attention's output and
 * row log-sum-exp, RMSNorm's output and 1/rms) would need two programs. This helper follows what
 * `WebGPUBackend.recordAndSubmit` does in tfjs-backend-webgpu 4.22.0 (the version deno.json pins): upload
 * the operands, bind them, mark them as owned by the pending command queue (so a tensor disposed before
 * the queue is submitted keeps its buffer until then), record the dispatch in the backend's open compute
 * pass, and submit every `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` dispatches, as tfjs's own kernels do.
 *
 * Shapes and constants are compiled into the shader text (one pipeline per shape, cached by key): the
 * trainers run a handful of fixed shapes, and no per-dispatch uniform buffer is needed for them.
 *
 * @module
 */
import { tf } from "./tf.ts";

/** The parts of tfjs's `WebGPUBackend` used here (stable in 4.22.0, which deno.json pins). */
export interface WebgpuBackend {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: unknown; values: unknown; dtype: string; refCount: number } };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: "float32" | "int32"): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  uniformPendingDisposal: GPUBuffer[];
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  activeTimers?: { name: string; query: Promise<number> }[] | null;
}

/** One dispatch of a shader. */
export interface ShaderRun {
  /** Cache key of the compiled pipeline: must change whenever `code()` would. */
  key: string;
  /** WGSL with entry point `main`; bindings: outputs (read_write), then inputs (read), then the uniform. */
  code: () => string;
  outputs: tf.TensorInfo[];
  inputs: tf.TensorInfo[];
  /** Bytes of the uniform block, when the shader declares one (binding after the inputs). */
  uniform?: ArrayBuffer;
  /** Workgroups to launch; spread over x and y when above the per-dimension limit. */
  workgroups: number;
  /** Name shown by tfjs's profiler for this dispatch. */
  name: string;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, run: ShaderRun): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  let p = cache.get(run.key);
  if (!p) {
    const module = device.createShaderModule({ code: run.code(), label: run.name });
    p = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: run.name });
    cache.set(run.key, p);
  }
  return p;
}

/** The dispatch grid [x, y, 1] for n workgroups; shaders recover the linear id as `wg.x + wg.y * nwg.x`. */
export function grid(n: number, maxPerDim: number): [number, number, number] {
  if (n <= maxPerDim) return [n, 1, 1];
  const y = Math.ceil(n / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`Cannot dispatch ${n} workgroups: more than ${maxPerDim}^2`);
  return [Math.ceil(n / y), y, 1];
}

/** Records one dispatch of `run` in the backend's command stream. */
export function runShader(backend: WebgpuBackend, run: ShaderRun): void {
  if (run.workgroups === 0) return;
  const infos = [...run.outputs, ...run.inputs];
  for (const t of infos) {
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new TypeError(`Cannot run WGSL kernel ${run.name} on a ${t.dtype} tensor: expected float32 or int32`);
    }
    backend.uploadToGPU(t.dataId);
  }
  const device = backend.device;
  const pipeline = pipelineFor(device, run);
  const entries: GPUBindGroupEntry[] = infos.map((t, i) => ({
    binding: i,
    resource: { buffer: backend.tensorMap.get(t.dataId).resource as GPUBuffer },
  }));
  if (run.uniform) {
    const size = run.uniform.byteLength;
    const buffer = backend.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
    device.queue.writeBuffer(buffer, 0, run.uniform, 0, size);
    // Released to the pool at the next submit, after the queue has consumed it.
    backend.uniformPendingDisposal.push(buffer);
    entries.push({ binding: infos.length, resource: { buffer, offset: 0, size } });
  }
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const t of infos) backend.commandQueueOwnedIds.add(t.dataId);
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  const pass = backend.computePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  const [x, y, z] = grid(run.workgroups, device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(x, y, z);
  backend.dispatchCountInPass++;
  // The outputs' buffers now hold new values: drop any host copy tfjs cached from an earlier read.
  for (const t of run.outputs) backend.tensorMap.get(t.dataId).values = null;
  // tf.time() / tf.profile() collect per-program GPU times; these dispatches report none.
  backend.activeTimers?.push({ name: run.name, query: Promise.resolve(0) });
  if ((tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number) <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

/** The backend behind tensor infos inside a kernel function, typed for {@linkcode runShader}. */
export function asWebgpu(backend: unknown): WebgpuBackend {
  const b = backend as Partial<WebgpuBackend>;
  if (!b.device || !b.tensorMap || typeof b.uploadToGPU !== "function") {
    throw new TypeError("Cannot run a WGSL kernel: the backend is not tfjs's webgpu backend");
  }
  return b as WebgpuBackend;
}

/** A WGSL f32 literal for a JavaScript number (always with an exponent, so never parsed as an integer). */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`Cannot write ${x} as a WGSL f32 constant`);
  return `${Math.fround(x).toExponential()}f`;
}
