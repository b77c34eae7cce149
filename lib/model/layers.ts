/**
 * The TRM-Att block: non-causal multi-head self-attention with a fused qkv projection and RoPE, and a
 * SwiGLU MLP, each followed by a gain-free RMSNorm (post-norm). No biases anywhere.
 *
 * Legend: B = batch, S = P + L positions (puzzle prefix + sequence), D = width, H = heads,
 * hd = D / H, I = SwiGLU width.
 *
 * Weights are [in, out] (`linear(x, w) = x @ w`); PyTorch's `nn.Linear.weight` is the transpose.
 *
 * @module
 */
import { addRmsNorm, linear, rope as ropeOp, ropeAttention, siluGate, type Tensor } from "../backend/mod.ts";

/** cos and sin tables for RoPE, [S, hd] each, as TRM's `RotaryEmbedding` (halves repeated). */
export function ropeTables(
  positions: number,
  headDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(positions * headDim);
  const sin = new Float32Array(positions * headDim);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      // Rounded to float32 at each stage, as PyTorch computes it in float32.
      const invFreq = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
      const angle = Math.fround(p * invFreq);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = c;
      cos[p * headDim + half + i] = c;
      sin[p * headDim + i] = s;
      sin[p * headDim + half + i] = s;
    }
  }
  return { cos, sin };
}

/** RoPE on x [B, S, H, hd] with cos/sin [S, 1, hd]: `x * cos + rotate_half(x) * sin`. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return ropeOp(x, cos, sin);
}

/** One block's weights. */
export interface BlockWeights {
  /** [D, 3D]: columns are [q heads | k heads | v heads], each head hd contiguous. */
  qkv: Tensor;
  /** [D, D]. */
  o: Tensor;
  /** [D, 2I]: columns are [gate | up]. */
  gateUp: Tensor;
  /** [I, D]. */
  down: Tensor;
}

/** Self-attention over h [B, S, D]; rope holds cos/sin [S, 1, hd]. */
export function selfAttention(h: Tensor, w: BlockWeights, heads: number, rope: { cos: Tensor; sin: Tensor }): Tensor {
  const d = h.shape[h.rank - 1];
  const hd = rope.cos.shape[rope.cos.rank - 1];
  if (hd * heads !== d) {
    throw new RangeError(`Cannot apply self-attention: ${heads} heads of RoPE width ${hd} do not make width ${d}`);
  }
  const qkv = linear(h, w.qkv); // [B, S, 3D]
  // RoPE and attention read q, k, v straight from the fused projection (one kernel on cpu/wasm).
  const o = ropeAttention(qkv, rope.cos, rope.sin); // [B, S, D]
  return linear(o, w.o); // [B, S, D]
}

/** SwiGLU: `down(silu(gate) * up)` with gate, up = split(h @ gateUp). */
export function swiglu(h: Tensor, w: BlockWeights): Tensor {
  const act = siluGate(linear(h, w.gateUp)); // [B, S, I] from [B, S, 2I]
  return linear(act, w.down); // [B, S, D]
}

/** A post-norm block: `h = rms(h + attn(h)); h = rms(h + swiglu(h))`. */
export function block(
  h: Tensor,
  w: BlockWeights,
  heads: number,
  rope: { cos: Tensor; sin: Tensor },
  eps: number,
): Tensor {
  const a = addRmsNorm(h, selfAttention(h, w, heads, rope), eps); // [B, S, D]
  return addRmsNorm(a, swiglu(a, w), eps); // [B, S, D]
}
