/**
 * WGSL kernels for tfjs's webgpu backend, under the names the cpu/wasm fused kernels use, so lib/model's
 * block (addRmsNorm, siluGate, ropeAttention in fused.ts) runs one dispatch where the op chain ran many:
 *
 * - `TrmDisAddRmsNorm` / `Grad`: `rms(h + a)` per row, one workgroup per row (a tree reduction in
 *   workgroup memory); outputs y and 1/rms, the gradient `rstd * (dy - y * mean(dy * y))`.
 * - `TrmDisSiluGate` / `Grad`: `silu(g) * u` read from the fused [.., 2I] projection, one thread per
 *   output element; the gradient writes both halves of [.., 2I].
 * - `TrmDisRopeAttention` / `Grad`: non-causal attention on the fused qkv projection [B, S, 3D] with RoPE
 *   applied as q and k are read. Tiled like FlashAttention: a workgroup holds T query rows (one thread
 *   each, its q and output accumulator in registers) and streams T-row tiles of rotated k and of v through
 *   workgroup memory with an online softmax; it saves the row log-sum-exp [B, H, S]. The backward pass
 *   recomputes the probabilities from it in two dispatches writing disjoint parts of dqkv: one workgroup per
 *   query tile for dq, one per key tile for dk and dv (no atomics), each applying RoPE's transpose.
 *
 * Plus {@linkcode signSgdRowsInPlace}, the puzzle-embedding sign-SGD on a device-resident table.
 *
 * All arithmetic is float32; sums run in a different order than the op chains', so values differ by float32
 * rounding (the tests bound it against the op chains on the same backend).
 *
 * @module
 */
import { asWebgpu, f32, runShader, type WebgpuBackend } from "./_webgpu_dispatch.ts";
import { ROPE_ATTENTION } from "./attention_kernel.ts";
import { ADD_RMS_NORM, ADD_RMS_NORM_GRAD, SILU_GATE, SILU_GATE_GRAD } from "./fused_kernels.ts";
import { type Tensor, tf } from "./tf.ts";

const ROPE_ATTENTION_GRAD = "TrmDisRopeAttentionGrad";
/** The fused stablemax cross-entropy's kernels (webgpu only; lib/train runs the op chain elsewhere). */
export const STABLEMAX_CE = "TrmDisStablemaxCe";
/** Kernel name of the fused stablemax cross-entropy's gradient (webgpu only). */
export const STABLEMAX_CE_GRAD = "TrmDisStablemaxCeGrad";
/** The fused optimiser update's kernel name (webgpu only; lib/train runs the op chain elsewhere). */
export const ADAM_UPDATE = "TrmDisAdamUpdate";

/** The kernels this module registers on webgpu. */
export const WEBGPU_KERNELS: readonly string[] = [
  ADD_RMS_NORM,
  ADD_RMS_NORM_GRAD,
  SILU_GATE,
  SILU_GATE_GRAD,
  ROPE_ATTENTION,
  ROPE_ATTENTION_GRAD,
  ADAM_UPDATE,
  STABLEMAX_CE,
  STABLEMAX_CE_GRAD,
];

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Shared prologue: the linear workgroup id over a 2-D grid. */
const WID = "let wid = wg.x + wg.y * nwg.x;";
const BUILTINS = "@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, " +
  "@builtin(local_invocation_index) t: u32";

function bindings(outputs: string[], inputs: string[], type = "f32"): string {
  const lines = outputs.map((n, i) => `@group(0) @binding(${i}) var<storage, read_write> ${n}: array<${type}>;`);
  inputs.forEach((n, i) => {
    const ty = n.endsWith(":i32") ? "i32" : type;
    lines.push(`@group(0) @binding(${outputs.length + i}) var<storage, read> ${n.replace(":i32", "")}: array<${ty}>;`);
  });
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------
// add + RMSNorm

/** Threads per row: a power of two, at most 256, about D / 4 so each thread sums a few values. */
function rowThreads(d: number): number {
  let w = 32;
  while (w < 256 && w * 4 < d) w *= 2;
  return w;
}

const REDUCE = `
  part[t] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (t < s) { part[t] = part[t] + part[t + s]; }
    workgroupBarrier();
  }
  let total = part[0];`;

function addRmsNormShader(rows: number, d: number, eps: number, wg: number): string {
  return `
const R: u32 = ${rows}u; const D: u32 = ${d}u; const WG: u32 = ${wg}u; const EPS: f32 = ${f32(eps)};
${bindings(["y", "rstd"], ["h", "a"])}
var<workgroup> part: array<f32, WG>;
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  if (wid >= R) { return; }
  let o = wid * D;
  var acc = 0.0f;
  for (var i = t; i < D; i = i + WG) { let x = h[o + i] + a[o + i]; acc = acc + x * x; }
  ${REDUCE}
  let inv = 1.0f / sqrt(total / f32(D) + EPS);
  for (var i = t; i < D; i = i + WG) { y[o + i] = (h[o + i] + a[o + i]) * inv; }
  if (t == 0u) { rstd[wid] = inv; }
}`;
}

function addRmsNormGradShader(rows: number, d: number, wg: number): string {
  return `
const R: u32 = ${rows}u; const D: u32 = ${d}u; const WG: u32 = ${wg}u;
${bindings(["dx"], ["dy", "y", "rstd"])}
var<workgroup> part: array<f32, WG>;
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  if (wid >= R) { return; }
  let o = wid * D;
  var acc = 0.0f;
  for (var i = t; i < D; i = i + WG) { acc = acc + dy[o + i] * y[o + i]; }
  ${REDUCE}
  let m = total / f32(D);
  let inv = rstd[wid];
  for (var i = t; i < D; i = i + WG) { dx[o + i] = inv * (dy[o + i] - y[o + i] * m); }
}`;
}

function addRmsNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { h, a } = inputs;
  const d = h.shape[h.shape.length - 1];
  const rows = size(h.shape) / d;
  const eps = attrs!.eps as number;
  const wg = rowThreads(d);
  const y = gpu.makeTensorInfo(h.shape, "float32"), rstd = gpu.makeTensorInfo([rows], "float32");
  runShader(gpu, {
    name: ADD_RMS_NORM,
    key: `addRmsNorm:${rows}:${d}:${eps}:${wg}`,
    code: () => addRmsNormShader(rows, d, eps, wg),
    outputs: [y, rstd],
    inputs: [h, a],
    workgroups: rows,
  });
  return [y, rstd];
}

function addRmsNormGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { dy, y, rstd } = inputs;
  const d = y.shape[y.shape.length - 1];
  const rows = size(y.shape) / d;
  const wg = rowThreads(d);
  const dx = gpu.makeTensorInfo(y.shape, "float32");
  runShader(gpu, {
    name: ADD_RMS_NORM_GRAD,
    key: `addRmsNormGrad:${rows}:${d}:${wg}`,
    code: () => addRmsNormGradShader(rows, d, wg),
    outputs: [dx],
    inputs: [dy, y, rstd],
    workgroups: rows,
  });
  return [dx];
}

// ---------------------------------------------------------------------------------------------------------
// SiLU gate

const ELEMENT_WG = 256;

function siluGateShader(n: number, inner: number, grad: boolean): string {
  const body = grad
    ? `let d = dy[idx];
  let sg = 1.0f / (1.0f + exp(-g));
  dgu[src] = d * u * sg * (1.0f + g * (1.0f - sg));
  dgu[src + I] = d * g * sg;`
    : `out[idx] = (g / (1.0f + exp(-g))) * u;`;
  return `
const N: u32 = ${n}u; const I: u32 = ${inner}u; const WG: u32 = ${ELEMENT_WG}u;
${grad ? bindings(["dgu"], ["gu", "dy"]) : bindings(["out"], ["gu"])}
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  let idx = wid * WG + t;
  if (idx >= N) { return; }
  let r = idx / I;
  let src = 2u * r * I + (idx - r * I);
  let g = gu[src];
  let u = gu[src + I];
  ${body}
}`;
}

function siluGateKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { gu } = inputs;
  const inner = gu.shape[gu.shape.length - 1] / 2;
  const shape = [...gu.shape.slice(0, -1), inner];
  const n = size(shape);
  const out = gpu.makeTensorInfo(shape, "float32");
  runShader(gpu, {
    name: SILU_GATE,
    key: `siluGate:${n}:${inner}`,
    code: () => siluGateShader(n, inner, false),
    outputs: [out],
    inputs: [gu],
    workgroups: Math.ceil(n / ELEMENT_WG),
  });
  return [out];
}

function siluGateGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { gu, dy } = inputs;
  const inner = gu.shape[gu.shape.length - 1] / 2;
  const n = size(dy.shape);
  const dgu = gpu.makeTensorInfo(gu.shape, "float32");
  runShader(gpu, {
    name: SILU_GATE_GRAD,
    key: `siluGateGrad:${n}:${inner}`,
    code: () => siluGateShader(n, inner, true),
    outputs: [dgu],
    inputs: [gu, dy],
    workgroups: Math.ceil(n / ELEMENT_WG),
  });
  return [dgu];
}

// ---------------------------------------------------------------------------------------------------------
// RoPE + attention

interface AttentionDims {
  b: number;
  s: number;
  h: number;
  hd: number;
  /** Rows per workgroup and per tile of workgroup memory. */
  tile: number;
}

/**
 * Rows per tile: 32 where two tiles of [T, hd] (plus two [T] vectors) fit the device's workgroup memory,
 * else the largest power of two that fits (at least 4).
 */
function attentionTile(device: GPUDevice, hd: number): number {
  const limit = device.limits.maxComputeWorkgroupStorageSize;
  let t = 32;
  while (t > 4 && (2 * t * hd + 2 * t) * 4 > limit) t /= 2;
  return t;
}

function attentionDims(gpu: WebgpuBackend, qkv: tf.TensorInfo, cos: tf.TensorInfo): AttentionDims {
  const [b, s, d3] = qkv.shape;
  const hd = cos.shape[cos.shape.length - 1];
  return { b, s, h: d3 / 3 / hd, hd, tile: attentionTile(gpu.device, hd) };
}

const attentionKey = (d: AttentionDims) => `${d.b}:${d.s}:${d.h}:${d.hd}:${d.tile}`;

/** Constants, the two [T, HD] tiles of workgroup memory and the rotated read shared by the attention shaders. */
function attentionPrelude(d: AttentionDims): string {
  const dm = d.h * d.hd;
  return `
const B: u32 = ${d.b}u; const S: u32 = ${d.s}u; const H: u32 = ${d.h}u; const HD: u32 = ${d.hd}u;
const HALF: u32 = ${d.hd / 2}u; const D: u32 = ${dm}u; const D3: u32 = ${3 * dm}u; const T: u32 = ${d.tile}u;
const NB: u32 = ${Math.ceil(d.s / d.tile)}u; const SCALE: f32 = ${f32(1 / Math.sqrt(d.hd))};
var<workgroup> tileA: array<f32, ${d.tile * d.hd}>;
var<workgroup> tileB: array<f32, ${d.tile * d.hd}>;
// Element e of RoPE(x) for the head vector at qkv[base .. base + HD) of position pos:
// x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1].
fn rotated(base: u32, pos: u32, e: u32) -> f32 {
  let c = cosT[pos * HD + e];
  let sn = sinT[pos * HD + e];
  if (e < HALF) { return qkv[base + e] * c - qkv[base + e + HALF] * sn; }
  return qkv[base + e] * c + qkv[base + e - HALF] * sn;
}`;
}

/** The transpose of RoPE for a gradient g held in a private array, written to dst at base. */
function unrotateInto(dst: string, g: string, pos: string, base: string): string {
  return `for (var e = 0u; e < HALF; e = e + 1u) {
    let g1 = ${g}[e];
    let g2 = ${g}[e + HALF];
    ${dst}[${base} + e] = g1 * cosT[${pos} * HD + e] + g2 * sinT[${pos} * HD + HALF + e];
    ${dst}[${base} + HALF + e] = g2 * cosT[${pos} * HD + HALF + e] - g1 * sinT[${pos} * HD + e];
  }`;
}

/** Loads tile rows [r0, r0 + T) of rotated k (or q, with `part` 0) and of v (or dout) into workgroup memory. */
function loadTile(kPart: number, second: "v" | "dout"): string {
  const secondRead = second === "v"
    ? "qkv[(b * S + j) * D3 + 2u * D + h * HD + e]"
    : "dout[(b * S + j) * D + h * HD + e]";
  return `for (var x = t; x < T * HD; x = x + T) {
      let j = r0 + x / HD;
      let e = x % HD;
      if (j < S) {
        tileA[x] = rotated((b * S + j) * D3 + ${kPart}u * D + h * HD, j, e);
        tileB[x] = ${secondRead};
      } else {
        tileA[x] = 0.0f;
        tileB[x] = 0.0f;
      }
    }`;
}

function attentionForwardShader(d: AttentionDims): string {
  return `
${bindings(["out", "lse"], ["qkv", "cosT", "sinT"])}
${attentionPrelude(d)}
@compute @workgroup_size(${d.tile})
fn main(${BUILTINS}) {
  ${WID}
  if (wid >= B * H * NB) { return; }
  let qb = wid % NB;
  let h = (wid / NB) % H;
  let b = wid / (NB * H);
  let i = qb * T + t;
  let ic = min(i, S - 1u);
  var q: array<f32, ${d.hd}>;
  var acc: array<f32, ${d.hd}>;
  var sc: array<f32, ${d.tile}>;
  for (var e = 0u; e < HD; e = e + 1u) {
    q[e] = rotated((b * S + ic) * D3 + h * HD, ic, e);
    acc[e] = 0.0f;
  }
  var m = -3.0e38f;
  var l = 0.0f;
  for (var r0 = 0u; r0 < S; r0 = r0 + T) {
    workgroupBarrier();
    ${loadTile(1, "v")}
    workgroupBarrier();
    let n = min(T, S - r0);
    var mt = m;
    // Loops run to the constant T (rows past the end masked), so the compiler can unroll them and keep sc
    // in registers.
    for (var r = 0u; r < T; r = r + 1u) {
      var dot = 0.0f;
      for (var e = 0u; e < HD; e = e + 1u) { dot = dot + q[e] * tileA[r * HD + e]; }
      sc[r] = select(-3.0e38f, dot * SCALE, r < n);
      mt = max(mt, sc[r]);
    }
    let corr = exp(m - mt);
    l = l * corr;
    for (var e = 0u; e < HD; e = e + 1u) { acc[e] = acc[e] * corr; }
    for (var r = 0u; r < T; r = r + 1u) {
      let p = select(0.0f, exp(sc[r] - mt), r < n);
      l = l + p;
      for (var e = 0u; e < HD; e = e + 1u) { acc[e] = acc[e] + p * tileB[r * HD + e]; }
    }
    m = mt;
  }
  if (i < S) {
    let o = (b * S + i) * D + h * HD;
    let inv = 1.0f / l;
    for (var e = 0u; e < HD; e = e + 1u) { out[o + e] = acc[e] * inv; }
    lse[(b * H + h) * S + i] = m + log(l);
  }
}`;
}

/** dq for one query row per thread, streaming key tiles. */
function attentionGradQShader(d: AttentionDims): string {
  return `
${bindings(["dqkv"], ["qkv", "cosT", "sinT", "outT", "lse", "dout"])}
${attentionPrelude(d)}
@compute @workgroup_size(${d.tile})
fn main(${BUILTINS}) {
  ${WID}
  if (wid >= B * H * NB) { return; }
  let qb = wid % NB;
  let h = (wid / NB) % H;
  let b = wid / (NB * H);
  let i = qb * T + t;
  let ic = min(i, S - 1u);
  var q: array<f32, ${d.hd}>;
  var g: array<f32, ${d.hd}>;
  var dq: array<f32, ${d.hd}>;
  var delta = 0.0f;
  let o = (b * S + ic) * D + h * HD;
  for (var e = 0u; e < HD; e = e + 1u) {
    q[e] = rotated((b * S + ic) * D3 + h * HD, ic, e);
    g[e] = dout[o + e];
    delta = delta + g[e] * outT[o + e];
    dq[e] = 0.0f;
  }
  let z = lse[(b * H + h) * S + ic];
  for (var r0 = 0u; r0 < S; r0 = r0 + T) {
    workgroupBarrier();
    ${loadTile(1, "v")}
    workgroupBarrier();
    let n = min(T, S - r0);
    for (var r = 0u; r < n; r = r + 1u) {
      var s = 0.0f;
      var dp = 0.0f;
      for (var e = 0u; e < HD; e = e + 1u) {
        s = s + q[e] * tileA[r * HD + e];
        dp = dp + g[e] * tileB[r * HD + e];
      }
      let ds = exp(s * SCALE - z) * (dp - delta);
      for (var e = 0u; e < HD; e = e + 1u) { dq[e] = dq[e] + ds * tileA[r * HD + e]; }
    }
  }
  if (i < S) {
    for (var e = 0u; e < HD; e = e + 1u) { dq[e] = dq[e] * SCALE; }
    ${unrotateInto("dqkv", "dq", "i", "(b * S + i) * D3 + h * HD")}
  }
}`;
}

/** dk and dv for one key row per thread, streaming query tiles (rotated q, dout, lse, delta). */
function attentionGradKvShader(d: AttentionDims): string {
  return `
${bindings(["dqkv"], ["qkv", "cosT", "sinT", "outT", "lse", "dout"])}
${attentionPrelude(d)}
var<workgroup> zT: array<f32, ${d.tile}>;
var<workgroup> deltaT: array<f32, ${d.tile}>;
@compute @workgroup_size(${d.tile})
fn main(${BUILTINS}) {
  ${WID}
  if (wid >= B * H * NB) { return; }
  let kb = wid % NB;
  let h = (wid / NB) % H;
  let b = wid / (NB * H);
  let j = kb * T + t;
  let jc = min(j, S - 1u);
  var k: array<f32, ${d.hd}>;
  var v: array<f32, ${d.hd}>;
  var dk: array<f32, ${d.hd}>;
  var dv: array<f32, ${d.hd}>;
  for (var e = 0u; e < HD; e = e + 1u) {
    k[e] = rotated((b * S + jc) * D3 + D + h * HD, jc, e);
    v[e] = qkv[(b * S + jc) * D3 + 2u * D + h * HD + e];
    dk[e] = 0.0f;
    dv[e] = 0.0f;
  }
  for (var r0 = 0u; r0 < S; r0 = r0 + T) {
    workgroupBarrier();
    ${loadTile(0, "dout")}
    let iq = r0 + t;
    if (iq < S) {
      let o = (b * S + iq) * D + h * HD;
      var delta = 0.0f;
      for (var e = 0u; e < HD; e = e + 1u) { delta = delta + dout[o + e] * outT[o + e]; }
      deltaT[t] = delta;
      zT[t] = lse[(b * H + h) * S + iq];
    }
    workgroupBarrier();
    let n = min(T, S - r0);
    for (var r = 0u; r < n; r = r + 1u) {
      var s = 0.0f;
      var dp = 0.0f;
      for (var e = 0u; e < HD; e = e + 1u) {
        s = s + tileA[r * HD + e] * k[e];
        dp = dp + tileB[r * HD + e] * v[e];
      }
      let p = exp(s * SCALE - zT[r]);
      let ds = p * (dp - deltaT[r]);
      for (var e = 0u; e < HD; e = e + 1u) {
        dv[e] = dv[e] + p * tileB[r * HD + e];
        dk[e] = dk[e] + ds * tileA[r * HD + e];
      }
    }
  }
  if (j < S) {
    for (var e = 0u; e < HD; e = e + 1u) {
      dk[e] = dk[e] * SCALE;
      dqkv[(b * S + j) * D3 + 2u * D + h * HD + e] = dv[e];
    }
    ${unrotateInto("dqkv", "dk", "j", "(b * S + j) * D3 + D + h * HD")}
  }
}`;
}

function ropeAttentionKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { qkv, cos, sin } = inputs;
  const d = attentionDims(gpu, qkv, cos);
  const out = gpu.makeTensorInfo([d.b, d.s, d.h * d.hd], "float32");
  const lse = gpu.makeTensorInfo([d.b, d.h, d.s], "float32");
  runShader(gpu, {
    name: ROPE_ATTENTION,
    key: `ropeAttention:${attentionKey(d)}`,
    code: () => attentionForwardShader(d),
    outputs: [out, lse],
    inputs: [qkv, cos, sin],
    workgroups: d.b * d.h * Math.ceil(d.s / d.tile),
  });
  return [out, lse];
}

function ropeAttentionGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { qkv, cos, sin, out, lse, dout } = inputs;
  const d = attentionDims(gpu, qkv, cos);
  const dqkv = gpu.makeTensorInfo(qkv.shape, "float32");
  const ins = [qkv, cos, sin, out, lse, dout];
  const workgroups = d.b * d.h * Math.ceil(d.s / d.tile);
  // Two dispatches into one output: dq columns, then dk and dv columns.
  runShader(gpu, {
    name: `${ROPE_ATTENTION_GRAD}(q)`,
    key: `ropeAttentionGradQ:${attentionKey(d)}`,
    code: () => attentionGradQShader(d),
    outputs: [dqkv],
    inputs: ins,
    workgroups,
  });
  runShader(gpu, {
    name: `${ROPE_ATTENTION_GRAD}(kv)`,
    key: `ropeAttentionGradKv:${attentionKey(d)}`,
    code: () => attentionGradKvShader(d),
    outputs: [dqkv],
    inputs: ins,
    workgroups,
  });
  return [dqkv];
}

// ---------------------------------------------------------------------------------------------------------
// Puzzle-embedding sign-SGD on a device table

const SIGN_SGD_WG = 64;

function signSgdShader(batch: number, d: number): string {
  return `
const BATCH: u32 = ${batch}u; const D: u32 = ${d}u; const WG: u32 = ${SIGN_SGD_WG}u;
struct Params { decay: f32, step: f32, rows: u32, zero: u32 };
${bindings(["table"], ["grad", "ids:i32", "uniq:i32"])}
@group(0) @binding(4) var<uniform> params: Params;
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  let idx = wid * WG + t;
  if (idx >= params.rows * D) { return; }
  let u = idx / D;
  let k = idx - u * D;
  let id = uniq[u];
  // Float32 sums in batch order, as the host SparseSignSGD (and torch's scatter_add_) sums.
  var sum = 0.0f;
  for (var r = 0u; r < BATCH; r = r + 1u) {
    if (ids[r] == id) { sum = sum + grad[r * D + k]; }
  }
  let at = u32(id) * D + k;
  // p * decay is rounded to f32 before the add, as on the host: xor with a uniform that is 0 at run time
  // hides the product from the compiler, which could otherwise contract the two into one fma.
  let decayed = bitcast<f32>(bitcast<u32>(table[at] * params.decay) ^ params.zero);
  table[at] = decayed + params.step * sign(sum);
}`;
}

/**
 * One sparse sign-SGD step on a device-resident puzzle table [N, D], in place: for each distinct id of the
 * batch, g = the sum of its rows of `grad` [B, D] (float32, in batch order), then
 * `p = fround(p * fround(1 - lr * wd)) + fround(-lr) * sign(g)`, as lib/train's `SparseSignSGD` does on the
 * host. webgpu only; `table` must not share its buffer with another tensor (a clone would change with it).
 * Ids are checked against N before anything is recorded.
 *
 * @example
 * ```ts ignore
 * // On webgpu: one step on rows 0 and 2 of a [3, 4] table.
 * const table = tf.zeros([3, 4]);
 * signSgdRowsInPlace(table, tf.ones([2, 4]), Int32Array.from([2, 0]), 0.01, 0.1);
 * ```
 */
export function signSgdRowsInPlace(table: Tensor, grad: Tensor, ids: Int32Array, lr: number, wd: number): void {
  const gpu = asWebgpu(tf.backend());
  const [n, d] = table.shape;
  if (table.rank !== 2 || grad.rank !== 2 || grad.shape[0] !== ids.length || grad.shape[1] !== d) {
    throw new RangeError(
      `Cannot apply sign-SGD on the device: table [${table.shape}], gradient [${grad.shape}] and ${ids.length} ids ` +
        `do not fit (expected [N, D], [B, D] and B ids)`,
    );
  }
  if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`Cannot apply sign-SGD on the device: lr ${lr}`);
  const first = new Set<number>();
  for (const id of ids) {
    if (!(Number.isInteger(id) && id >= 0 && id < n)) {
      throw new RangeError(`Cannot apply sign-SGD on the device: id ${id} is outside the table's ${n} rows`);
    }
    first.add(id);
  }
  if (gpu.tensorMap.get(table.dataId).refCount !== 1) {
    throw new Error("Cannot apply sign-SGD on the device: the table shares its buffer with another tensor");
  }
  const uniq = Int32Array.from(first);
  const params = new ArrayBuffer(16);
  new Float32Array(params, 0, 2).set([Math.fround(1 - lr * wd), Math.fround(-lr)]);
  new Uint32Array(params, 8, 1)[0] = uniq.length;
  const idsT = tf.tensor1d(ids, "int32"), uniqT = tf.tensor1d(uniq, "int32");
  try {
    runShader(gpu, {
      name: "TrmDisPuzzleSignSgd",
      key: `signSgd:${ids.length}:${d}`,
      code: () => signSgdShader(ids.length, d),
      outputs: [table],
      inputs: [grad, idsT, uniqT],
      uniform: params,
      workgroups: Math.ceil((uniq.length * d) / SIGN_SGD_WG),
    });
  } finally {
    // Safe before the queue runs: the backend keeps buffers of queued dispatches until the submit.
    idsT.dispose();
    uniqT.dispose();
  }
}

/**
 * Frees the host copy tfjs keeps of a webgpu tensor after a read (`data()` caches the values beside the
 * buffer); the buffer stays the tensor's storage. No-op on other backends or before the first upload.
 *
 * @example
 * ```ts ignore
 * const values = await table.data();
 * dropHostCopy(table); // the next read downloads again
 * ```
 */
export function dropHostCopy(t: Tensor): void {
  if (tf.getBackend() !== "webgpu") return;
  const data = asWebgpu(tf.backend()).tensorMap.get(t.dataId);
  if (data.resource) data.values = null;
}

/** Whether {@linkcode signSgdRowsInPlace} can run on the current backend. */
export function deviceSignSgdAvailable(): boolean {
  return tf.getBackend() === "webgpu";
}

/**
 * Whether trainers move the puzzle table to the device: where it is asked for (`placement: "device"`)
 * and the backend is webgpu. Off by default, because the host copy then goes stale and a caller that
 * reads it (checkpoints, evaluation) must first call the model's `syncPuzzleTable()`.
 */
export function puzzleTableOnDevice(placement: "host" | "device" | undefined): boolean {
  return placement === "device" && deviceSignSgdAvailable();
}

// ---------------------------------------------------------------------------------------------------------
// Adam-family optimiser update

/** Which update rule {@linkcode ADAM_UPDATE} runs; lib/train's `OptimizerKind`. */
export type AdamUpdateKind = "adam-atan2" | "adam-atan2-lucidrains" | "adamw";

/**
 * The float32 scalars of one update, named as lib/train's op chains use them (each already rounded to
 * float32 as a tfjs scalar operand would be):
 * - `decay`: the weight-decay factor `p *= decay` (1 where none);
 * - `w1`, `w2`: the moments' weights `1 - b1`, `1 - b2`; `b1`, `b2`: AdamW's betas, or for the lerp of the
 *   adam-atan2 rules `1 - w` as the chain computes it (used where w >= 0.5);
 * - `s0`, `s1`, `s2`: the rule's step constants (see the shader), `eps`: AdamW's epsilon.
 */
export interface AdamUpdateScalars {
  /** Weight-decay factor: `p *= decay` before the step (1 where none). */
  decay: number;
  /** Weight of the new gradient in the first moment, `1 - b1`. */
  w1: number;
  /** Weight of the squared gradient in the second moment, `1 - b2`. */
  w2: number;
  /** First-moment decay: AdamW's beta1, or `1 - w1` as the adam-atan2 chains compute it. */
  b1: number;
  /** Second-moment decay: AdamW's beta2, or `1 - w2` as the adam-atan2 chains compute it. */
  b2: number;
  /** `sqrt(bc2)` (adamw, adam-atan2) or `b^2 / bc2` (lucidrains), bc2 the second moment's bias correction. */
  s0: number;
  /** Step scale: `-lr / bc1` (adamw), `lr / bc1` (adam-atan2, subtracted) or `-lr * a` (lucidrains). */
  s1: number;
  /** `1 / bc1` (lucidrains), scaling the first moment inside atan2; 0 and unused elsewhere. */
  s2: number;
  /** AdamW's epsilon, added to the denominator (unused by the atan2 rules). */
  eps: number;
}

/** torch's lerp as the op chain computes it: `a + (b - a) * w` for w < 0.5, else `b - (b - a) * (1 - w)`. */
function lerpWgsl(a: string, b: string, w: number, weight: string, oneMinus: string): string {
  return w < 0.5 ? `${a} + (${b} - ${a}) * ${weight}` : `${b} - (${b} - ${a}) * ${oneMinus}`;
}

function adamShader(kind: AdamUpdateKind, n: number, fresh: boolean, w1: number, w2: number): string {
  // Each line is one op of lib/train's chain for this rule, in its order, so the roundings are the same
  // (up to the compiler contracting a multiply and an add into an fma).
  const moments = kind === "adamw"
    ? `let mm = m0 * P.b1 + gi * P.w1;
  let vv = v0 * P.b2 + (gi * gi) * P.w2;`
    : `let mm = ${lerpWgsl("m0", "gi", w1, "P.w1", "P.b1")};
  let g2 = gi * gi;
  let vv = ${lerpWgsl("v0", "g2", w2, "P.w2", "P.b2")};`;
  const update = {
    "adam-atan2": `let den = sqrt(vv) / P.s0;
  po[i] = p1 - atan2z(mm, den) * P.s1;`,
    "adam-atan2-lucidrains": `let den = sqrt(vv * P.s0);
  po[i] = p1 + atan2z(mm * P.s2, den) * P.s1;`,
    "adamw": `let den = sqrt(vv) / P.s0 + P.eps;
  po[i] = p1 + (mm / den) * P.s1;`,
  }[kind];
  return `
const N: u32 = ${n}u; const WG: u32 = ${ELEMENT_WG}u;
struct Params { decay: f32, w1: f32, w2: f32, b1: f32, b2: f32, s0: f32, s1: f32, s2: f32, eps: f32,
  pad0: f32, pad1: f32, pad2: f32 };
${bindings(["po", "mo", "vo"], fresh ? ["p", "g"] : ["p", "g", "m", "v"])}
@group(0) @binding(${fresh ? 5 : 7}) var<uniform> P: Params;
// atan2 with atan2(0, 0) = 0, as lib/backend's atan2 (and IEEE 754) define it.
fn atan2z(y: f32, x: f32) -> f32 {
  if (y == 0.0f && x == 0.0f) { return 0.0f; }
  return atan2(y, x);
}
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  let i = wid * WG + t;
  if (i >= N) { return; }
  let gi = g[i];
  ${fresh ? "let m0 = 0.0f; let v0 = 0.0f;" : "let m0 = m[i]; let v0 = v[i];"}
  let p1 = p[i] * P.decay;
  ${moments}
  mo[i] = mm;
  vo[i] = vv;
  ${update}
}`;
}

function adamUpdateKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { p, m, v, g } = inputs;
  const kind = attrs!.kind as AdamUpdateKind;
  const fresh = attrs!.fresh as boolean;
  const sc = attrs as unknown as AdamUpdateScalars;
  const n = size(p.shape);
  const params = new Float32Array(12);
  params.set([sc.decay, sc.w1, sc.w2, sc.b1, sc.b2, sc.s0, sc.s1, sc.s2, sc.eps]);
  const outs = [0, 1, 2].map(() => gpu.makeTensorInfo(p.shape, "float32"));
  runShader(gpu, {
    name: ADAM_UPDATE,
    key: `adam:${kind}:${n}:${fresh}:${sc.w1 < 0.5}:${sc.w2 < 0.5}`,
    code: () => adamShader(kind, n, fresh, sc.w1, sc.w2),
    outputs: outs,
    // Where fresh, the moments are not bound: "auto" layouts drop unused bindings.
    inputs: fresh ? [p, g] : [p, g, m, v],
    uniform: params.buffer,
    workgroups: Math.ceil(n / ELEMENT_WG),
  });
  return outs;
}

/**
 * One Adam-family update of a weight p with moments m, v and gradient g, all float32 of one shape, as one
 * dispatch: returns the new p, m and v (new tensors; the inputs are untouched). `fresh`: the moments are
 * zero (the first step), and m, v are not read (pass any tensor of p's shape). webgpu only, where
 * `hasKernel(ADAM_UPDATE)`; lib/train's optimisers use it there and the op chain elsewhere.
 *
 * @example
 * ```ts ignore
 * const [p1, m1, v1] = adamUpdate("adamw", p, m, v, g, false, scalars);
 * ```
 */
export function adamUpdate(
  kind: AdamUpdateKind,
  p: Tensor,
  m: Tensor,
  v: Tensor,
  g: Tensor,
  fresh: boolean,
  scalars: AdamUpdateScalars,
): [Tensor, Tensor, Tensor] {
  for (const [name, t] of [["m", m], ["v", v], ["g", g]] as const) {
    if (t.dtype !== "float32" || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new RangeError(
        `Cannot run the fused ${kind} update: ${name} is ${t.dtype} [${t.shape}], expected float32 [${p.shape}]`,
      );
    }
  }
  const f32s = Object.fromEntries(Object.entries(scalars).map(([k, x]) => [k, Math.fround(x)]));
  const attrs = { kind, fresh, ...f32s } as unknown as tf.NamedAttrMap;
  return tf.engine().runKernel(ADAM_UPDATE, { p, m, v, g }, attrs) as [Tensor, Tensor, Tensor];
}

// ---------------------------------------------------------------------------------------------------------
// Stablemax cross-entropy per sample

const CE_WG = 64;

/** s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0, as lib/train's logStablemax (its 1e-30 vanishes in f32). */
const STABLEMAX_FN = `
fn smax(x: f32) -> f32 {
  if (x >= 0.0f) { return x + 1.0f; }
  return 1.0f / (1.0f - x + 1e-30f);
}`;

function stablemaxCeShader(b: number, l: number, v: number): string {
  return `
const B: u32 = ${b}u; const L: u32 = ${l}u; const V: u32 = ${v}u; const WG: u32 = ${CE_WG}u;
${bindings(["loss", "count"], ["logits", "labels:i32"])}
${STABLEMAX_FN}
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  let r = wid * WG + t;
  if (r >= B) { return; }
  var total = 0.0f;
  var n = 0.0f;
  for (var i = 0u; i < L; i = i + 1u) {
    let lab = labels[r * L + i];
    if (lab < 0 || u32(lab) >= V) { continue; }
    let o = (r * L + i) * V;
    var sum = 0.0f;
    for (var j = 0u; j < V; j = j + 1u) { sum = sum + smax(logits[o + j]); }
    total = total - log(smax(logits[o + u32(lab)]) / sum);
    n = n + 1.0f;
  }
  loss[r] = total / max(n, 1.0f);
  count[r] = n;
}`;
}

function stablemaxCeGradShader(b: number, l: number, v: number): string {
  return `
const B: u32 = ${b}u; const L: u32 = ${l}u; const V: u32 = ${v}u; const WG: u32 = ${CE_WG}u;
${bindings(["dx"], ["logits", "labels:i32", "count", "dy"])}
${STABLEMAX_FN}
@compute @workgroup_size(WG)
fn main(${BUILTINS}) {
  ${WID}
  let tok = wid * WG + t;
  if (tok >= B * L) { return; }
  let r = tok / L;
  let lab = labels[tok];
  let o = tok * V;
  if (lab < 0 || u32(lab) >= V) {
    for (var j = 0u; j < V; j = j + 1u) { dx[o + j] = 0.0f; }
    return;
  }
  var sum = 0.0f;
  for (var j = 0u; j < V; j = j + 1u) { sum = sum + smax(logits[o + j]); }
  let c = dy[r] / max(count[r], 1.0f);
  for (var j = 0u; j < V; j = j + 1u) {
    let x = logits[o + j];
    let s = smax(x);
    // s'(x) = 1 for x >= 0, s(x)^2 for x < 0; d(-log(s_lab / sum)) / dx_j = s'_j / sum - [j = lab] s'_j / s_j.
    var ds = 1.0f;
    if (x < 0.0f) { ds = s * s; }
    var g = ds / sum;
    if (j == u32(lab)) { g = g - ds / s; }
    dx[o + j] = c * g;
  }
}`;
}

function ceDims(logits: tf.TensorInfo): [number, number, number] {
  const v = logits.shape[logits.shape.length - 1];
  const b = logits.shape[0];
  return [b, size(logits.shape) / (b * v), v];
}

function stablemaxCeKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { logits, labels } = inputs;
  const [b, l, v] = ceDims(logits);
  const loss = gpu.makeTensorInfo([b], "float32"), count = gpu.makeTensorInfo([b], "float32");
  runShader(gpu, {
    name: STABLEMAX_CE,
    key: `stablemaxCe:${b}:${l}:${v}`,
    code: () => stablemaxCeShader(b, l, v),
    outputs: [loss, count],
    inputs: [logits, labels],
    workgroups: Math.ceil(b / CE_WG),
  });
  return [loss, count];
}

function stablemaxCeGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const gpu = asWebgpu(backend);
  const { logits, labels, count, dy } = inputs;
  const [b, l, v] = ceDims(logits);
  const dx = gpu.makeTensorInfo(logits.shape, "float32");
  runShader(gpu, {
    name: STABLEMAX_CE_GRAD,
    key: `stablemaxCeGrad:${b}:${l}:${v}`,
    code: () => stablemaxCeGradShader(b, l, v),
    outputs: [dx],
    inputs: [logits, labels, count, dy],
    workgroups: Math.ceil((b * l) / CE_WG),
  });
  return [dx];
}

// ---------------------------------------------------------------------------------------------------------
// Registration

const KERNEL_FUNCS: [string, (args: KernelArgs) => tf.TensorInfo[]][] = [
  [ADD_RMS_NORM, addRmsNormKernel],
  [ADD_RMS_NORM_GRAD, addRmsNormGradKernel],
  [SILU_GATE, siluGateKernel],
  [SILU_GATE_GRAD, siluGateGradKernel],
  [ROPE_ATTENTION, ropeAttentionKernel],
  [ROPE_ATTENTION_GRAD, ropeAttentionGradKernel],
  [ADAM_UPDATE, adamUpdateKernel],
  [STABLEMAX_CE, stablemaxCeKernel],
  [STABLEMAX_CE_GRAD, stablemaxCeGradKernel],
];

let installed = false;

/**
 * Registers the WGSL kernels on the webgpu backend (idempotent); lib/backend's fused ops then use them.
 * Returns the names registered.
 *
 * @example
 * ```ts ignore
 * await initBackend("webgpu"); // installs them unless TRM_DIS_WEBGPU_KERNELS=0
 * installWebgpuKernels(); // ["TrmDisAddRmsNorm", ...]
 * ```
 */
export function installWebgpuKernels(): readonly string[] {
  if (!installed) {
    for (const [kernelName, kernelFunc] of KERNEL_FUNCS) {
      tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
    installed = true;
  }
  return WEBGPU_KERNELS;
}

/** Removes them again, so the fused ops fall back to the op chains (for tests and comparisons). */
export function uninstallWebgpuKernels(): void {
  if (!installed) return;
  for (const [kernelName] of KERNEL_FUNCS) tf.unregisterKernel(kernelName, "webgpu");
  installed = false;
}
