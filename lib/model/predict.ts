/**
 * Inference for TRM and DIS: every sample runs all N_sup supervision steps (TRM ignores halting at
 * evaluation, as its code does), without any gradient tape. The prediction is the argmax of the last
 * step; TRM also returns the last halting logits (its ARC vote ranks ties by them).
 *
 * Guided decoding (paper section 3.2, eq. 16) reads step s out as the argmax of pi_w, proportional to
 * pi_hat^(1-w) * pi_plus^w, where pi_hat is the LM-head policy of y at the start of step s and pi_plus
 * the one at its end.
 *
 * Legend: B = batch, L = sequence, S = P + L, D = width, V = vocabulary, y = answer state, z = latent.
 *
 * @module
 */
import { type Tensor, tf } from "../backend/mod.ts";
import { forwardPasses, type MethodConfig } from "./config.ts";
import type { RecursiveModel } from "./model.ts";
import { cyclesNoGrad, type RecursionHooks } from "./recursion.ts";

/** What inference reads: B samples of length L (labels are not needed). */
export interface PredictInput {
  /** int32 [B * L]. */
  inputs: Int32Array;
  /** int32 [B]. */
  puzzleIds: Int32Array;
}

/** Options of {@linkcode predict}. */
export interface PredictOptions {
  /** Observers of every answer update (the policy-improvement analysis). */
  hooks?: RecursionHooks;
  /** Also return the argmax prediction of every supervision step. */
  keepSteps?: boolean;
  /**
   * Guided decoding with weight `w` (finite; w > 1 extrapolates, as classifier-free guidance does): every
   * step's prediction is `argmax((1 - w) * l_u + w * l_c)`, l_u = logits of y at the step's start and l_c
   * at its end. The log-softmax normalisers are constants per position, so this is the argmax of
   * pi_w = softmax((1 - w) log pi_hat + w log pi_plus). With DIS's autoregressive input the guided
   * prediction is the next step's input; otherwise guidance changes only the readout. w = 1 reproduces
   * ordinary inference bit for bit (0 * l_u + 1 * l_c is l_c exactly).
   */
  guidance?: { w: number };
}

/** The result of {@linkcode predict}. */
export interface Prediction {
  /** int32 [B * L]: argmax of the last step's logits. */
  preds: Int32Array;
  /** float32 [B]: TRM's halting logit at the last step (absent for DIS, which has no Q head). */
  qHaltLogits?: Float32Array;
  /** Per supervision step (index 0 = step 1), int32 [B * L] each, when `keepSteps`. */
  stepPreds?: Int32Array[];
  /** Network applications per sample: N_sup * T * (n + 1). */
  forwardPasses: number;
}

/**
 * Runs a batch through all N_sup steps of a method.
 *
 * @example
 * ```ts ignore
 * const p = await predict(model, method, { inputs, puzzleIds }, { keepSteps: true });
 * p.preds; // Int32Array [B * L]
 * ```
 */
export async function predict(
  model: RecursiveModel,
  method: MethodConfig,
  input: PredictInput,
  opts: PredictOptions = {},
): Promise<Prediction> {
  const b = input.puzzleIds.length;
  const l = model.config.seqLen;
  if (input.inputs.length !== b * l) {
    throw new RangeError(`Cannot predict: inputs has ${input.inputs.length} tokens, expected ${b} x ${l}`);
  }
  const w = opts.guidance?.w;
  if (w !== undefined && !Number.isFinite(w)) {
    throw new RangeError(`Cannot predict with guidance: w must be a finite number, got ${w}`);
  }
  const isDis = method.method === "dis";
  const rows = model.puzzleRowsTensor(input.puzzleIds); // [B, D]
  const x0 = tf.tensor2d(input.inputs, [b, l], "int32");
  let { y, z } = tf.tidy(() => model.initialState(b));
  let tokens: Tensor = x0.clone();
  // TRM's input never changes, so its embedding is computed once.
  const xFixed = isDis ? undefined : tf.tidy(() => model.inputEmbedding(x0, rows));
  const stepPredTensors: Tensor[] = [];
  let last: { pred: Tensor; q?: Tensor } | undefined;
  let start: Tensor | undefined;
  try {
    for (let s = 1; s <= method.nSup; s++) {
      const stepT = isDis ? tf.tensor1d(new Int32Array(b).fill(s), "int32") : undefined;
      const x = xFixed ?? tf.tidy(() => model.inputEmbedding(tokens, rows, stepT));
      const hook = opts.hooks?.onYUpdate;
      start = w === undefined ? undefined : tf.tidy(() => model.lmLogits(y)); // [B, L, V]
      const next = cyclesNoGrad(
        model,
        x,
        y,
        z,
        method.lCycles,
        method.hCycles,
        hook ? (cycleIdx, before, after) => hook({ step: s, cycle: cycleIdx, before, after }) : undefined,
      );
      if (x !== xFixed) x.dispose();
      stepT?.dispose();
      y.dispose();
      z.dispose();
      y = next.y;
      z = next.z;
      const pred = tf.tidy(() => {
        const lc = model.lmLogits(y); // [B, L, V]
        return tf.argMax(start ? tf.add(tf.mul(start, 1 - w!), tf.mul(lc, w!)) : lc, -1); // [B, L]
      });
      start?.dispose();
      start = undefined;
      if (opts.keepSteps) stepPredTensors.push(pred.clone());
      if (s === method.nSup) {
        last = { pred, q: isDis ? undefined : tf.tidy(() => model.qHaltLogits(y)) };
      } else if (isDis && method.autoregressive) {
        tokens.dispose();
        tokens = pred;
      } else {
        pred.dispose();
      }
    }
    const out: Prediction = {
      preds: Int32Array.from((await last!.pred.data()) as Int32Array),
      forwardPasses: forwardPasses(method).perSampleInference,
    };
    if (last!.q) out.qHaltLogits = Float32Array.from((await last!.q.data()) as Float32Array);
    if (opts.keepSteps) {
      out.stepPreds = [];
      for (const t of stepPredTensors) out.stepPreds.push(Int32Array.from((await t.data()) as Int32Array));
    }
    return out;
  } finally {
    for (const t of [rows, x0, y, z, tokens, xFixed, start, last?.pred, last?.q, ...stepPredTensors]) t?.dispose();
  }
}
