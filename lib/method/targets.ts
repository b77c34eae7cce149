/**
 * DIS target paths: for one sample, the frames y_1 .. y_N (N = nSup) that supervision steps 1..N are
 * trained toward, with y_N = the label. Three variants:
 *
 * - `reveal` (released code, `batch_corrupt_linear_path_v2`): the positions where input and label differ
 *   are put in a uniformly random order once, when the sample enters the batch; frame s is the input with
 *   the first floor(s * n_diff / N) of them replaced by the label's value. Ignored label positions (-100)
 *   always differ, so "revealing" one makes it unsupervised; unrevealed positions are trained toward the
 *   input token.
 * - `mask` (paper text, a token-masking kernel): each supervised position of frame s independently shows
 *   the mask token with probability beta_s = 1 - s/N, else the label. The mask token is an extra class:
 *   id = the data's vocabulary size, so the model's vocabulary is one larger (see {@linkcode maskTokenOf}).
 * - `replace` (paper text, random replacement): each supervised position of frame s independently, with
 *   probability beta_s, shows a token drawn uniformly from 1..V-1 other than the label's (PAD 0 is never
 *   drawn), so exactly a beta_s fraction is wrong in expectation.
 *
 * `mask` and `replace` draw each frame independently (paper eq. 22: y_s ~ q_beta_s(. | y*)), so the
 * distance to the label falls with s in expectation, not necessarily frame by frame.
 *
 * @module
 */
import type { Rng } from "../random/mod.ts";
import type { StepWeights, TargetKind } from "../model/mod.ts";
import { IGNORE_LABEL } from "../data/mod.ts";

/**
 * The reveal order: rank[i] = position of i in a uniformly random order of the differing positions,
 * or L (never revealed) where x0[i] === x1[i].
 */
export function revealRank(x0: ArrayLike<number>, x1: ArrayLike<number>, rng: Rng): Int32Array {
  const n = x0.length;
  const diff: number[] = [];
  for (let i = 0; i < n; i++) if (x0[i] !== x1[i]) diff.push(i);
  rng.shuffle(diff);
  const rank = new Int32Array(n).fill(n);
  diff.forEach((pos, r) => (rank[pos] = r));
  return rank;
}

/**
 * Frames 1..nSup of the reveal path, [nSup * L] row-major: frame s = x0 with the positions of rank below
 * floor(s * n_diff / nSup) taken from x1.
 *
 * @example
 * ```ts
 * import { revealFrames } from "./targets.ts";
 * // two differing positions, revealed in the order 1, 0, over two steps
 * revealFrames([1, 1, 2], [2, 2, 2], Int32Array.from([1, 0, 3]), 2); // [1, 2, 2,  2, 2, 2]
 * ```
 */
export function revealFrames(
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
  rank: ArrayLike<number>,
  nSup: number,
): Int32Array {
  const n = x0.length;
  let nDiff = 0;
  for (let i = 0; i < n; i++) if (x0[i] !== x1[i]) nDiff++;
  const out = new Int32Array(nSup * n);
  for (let s = 1; s <= nSup; s++) {
    const revealed = Math.floor((s * nDiff) / nSup);
    const base = (s - 1) * n;
    for (let i = 0; i < n; i++) out[base + i] = rank[i] < revealed ? x1[i] : x0[i];
  }
  return out;
}

/** The noise rate of frame s: beta_s = 1 - s / nSup (linear, 0 at the last step). */
export function noiseRate(s: number, nSup: number): number {
  return 1 - s / nSup;
}

/** The mask token of the `mask` variant for a model vocabulary V (data vocabulary + 1): V - 1. */
export function maskTokenOf(modelVocab: number): number {
  return modelVocab - 1;
}

function supervised(label: number, vocab: number): boolean {
  return label >= 0 && label < vocab;
}

/**
 * Frames 1..nSup, [nSup * L], where each supervised cell of frame s is `noisy(label, beta_s)` and every
 * other cell is IGNORE_LABEL. Cells are visited frame by frame, in order, so the draws `noisy` makes come
 * off the stream in a fixed order.
 */
function noisyFrames(
  label: ArrayLike<number>,
  nSup: number,
  vocab: number,
  noisy: (t: number, beta: number) => number,
): Int32Array {
  const n = label.length;
  const out = new Int32Array(nSup * n);
  for (let s = 1; s <= nSup; s++) {
    const beta = noiseRate(s, nSup);
    const base = (s - 1) * n;
    for (let i = 0; i < n; i++) {
      const t = label[i];
      out[base + i] = supervised(t, vocab) ? noisy(t, beta) : IGNORE_LABEL;
    }
  }
  return out;
}

/** Frames 1..nSup of the `mask` variant; `dataVocab` = the data's vocabulary (the mask token's id). */
export function maskFrames(label: ArrayLike<number>, nSup: number, dataVocab: number, rng: Rng): Int32Array {
  // One draw per supervised cell and frame, also where beta = 0, so the stream's use is fixed.
  return noisyFrames(label, nSup, dataVocab, (t, beta) => rng.float() < beta ? dataVocab : t);
}

/** Frames 1..nSup of the `replace` variant over the vocabulary 0..vocab-1. */
export function replaceFrames(label: ArrayLike<number>, nSup: number, vocab: number, rng: Rng): Int32Array {
  if (vocab < 3) throw new RangeError(`Cannot build replace targets: vocabulary ${vocab} has no two non-PAD tokens`);
  return noisyFrames(label, nSup, vocab, (t, beta) => {
    const u = rng.float();
    if (t === 0) {
      const r = 1 + rng.int(vocab - 1);
      return u < beta ? r : t;
    }
    // Uniform over 1..vocab-1 without t: draw from vocab-2 values and skip t.
    const r = 1 + rng.int(vocab - 2);
    return u < beta ? (r >= t ? r + 1 : r) : t;
  });
}

/** Draws one sample's path (frames 1..nSup, [nSup * L]). */
export type TargetGenerator = (x0: Int32Array, label: Int32Array) => Int32Array;

/**
 * A generator for a DIS config. `modelVocab` is the model's vocabulary (for `mask`, the data's + 1).
 *
 * @example
 * ```ts
 * import { Rng } from "../random/mod.ts";
 * import { targetGenerator } from "./targets.ts";
 * const gen = targetGenerator("reveal", 6, 3, Rng.fromSeed(1));
 * gen(Int32Array.from([1, 2, 1]), Int32Array.from([2, 2, 1])).length; // 18
 * ```
 */
export function targetGenerator(kind: TargetKind, nSup: number, modelVocab: number, rng: Rng): TargetGenerator {
  switch (kind) {
    case "reveal":
      return (x0, label) => revealFrames(x0, label, revealRank(x0, label, rng), nSup);
    case "mask":
      return (_x0, label) => maskFrames(label, nSup, maskTokenOf(modelVocab), rng);
    case "replace":
      return (_x0, label) => replaceFrames(label, nSup, modelVocab, rng);
  }
}

/**
 * Loss weight of supervision step s (1..nSup): `uniform` = 1 (released code); `linear` = 2s / (nSup + 1),
 * increasing and averaging 1 over the steps, so the mean gradient scale matches `uniform`.
 */
export function stepWeight(kind: StepWeights, s: number, nSup: number): number {
  return kind === "uniform" ? 1 : (2 * s) / (nSup + 1);
}
