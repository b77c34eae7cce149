/**
 * Tensor backends: the shared `tf` import, backend selection, and primitives with fast gradients.
 *
 * @example
 * ```ts
 * import { initBackend, linear, tf } from "./mod.ts";
 * await initBackend("cpu");
 * const y = linear(tf.ones([2, 3]), tf.ones([3, 4])); // [2, 4]
 * ```
 *
 * @module
 */
export {
  type Rank,
  type Scalar,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
  tf,
  type Variable,
} from "./tf.ts";
export {
  atan2,
  attendHeads,
  attention,
  embed,
  globalNorm,
  linear,
  matMul,
  type NamedArrays,
  rmsNorm,
  sumTensors,
} from "./ops.ts";
export { fusedAttentionActive, installAttentionKernels } from "./attention_kernel.ts";
export { addRmsNorm, hasKernel, rope, ropeAttention, siluGate } from "./fused.ts";
export { installFusedKernels, uninstallFusedKernels } from "./fused_kernels.ts";
export {
  ADAM_UPDATE,
  adamUpdate,
  type AdamUpdateKind,
  type AdamUpdateScalars,
  deviceSignSgdAvailable,
  dropHostCopy,
  installWebgpuKernels,
  puzzleTableOnDevice,
  signSgdRowsInPlace,
  STABLEMAX_CE,
  STABLEMAX_CE_GRAD,
  uninstallWebgpuKernels,
  WEBGPU_KERNELS,
} from "./webgpu_kernels.ts";
export {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
  type BackendRequest,
  BackendUnavailableError,
  initBackend,
  installKernels,
  parseBackend,
} from "./select.ts";
export {
  blasActiveOn,
  type BlasStatus,
  blasStatus,
  installBlasKernels,
  loadBlas,
  uninstallBlasKernels,
} from "./blas.ts";
