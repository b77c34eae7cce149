/**
 * Gradient utilities: optional global-norm clipping (torch's clip_grad_norm_) and the non-finite check
 * that stops a run before a NaN or infinity reaches the weights or a checkpoint.
 *
 * @module
 */
import { globalNorm, type Scalar, type Tensor, tf } from "../backend/mod.ts";

/**
 * Scales every gradient by `min(1, maxNorm / (norm + 1e-6))`, as torch.nn.utils.clip_grad_norm_ does,
 * and returns the new gradients with the norm before clipping. Synchronous and free of readbacks (the
 * factor stays on the device); call inside `tf.tidy`. The input gradients are not disposed.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { clipByGlobalNorm } from "./grad.ts";
 * const { grads, norm } = clipByGlobalNorm({ a: tf.tensor([3, 4]) }, 1); // a -> [0.6, 0.8], norm 5
 * ```
 */
export function clipByGlobalNorm(
  grads: Record<string, Tensor>,
  maxNorm: number,
): { grads: Record<string, Tensor>; norm: Scalar } {
  if (!(maxNorm > 0)) throw new RangeError(`Cannot clip gradients: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const factor = tf.tidy(() => tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1));
  const out: Record<string, Tensor> = {};
  for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, factor);
  factor.dispose();
  return { grads: out, norm };
}

/** Where a {@linkcode NonFiniteError} happened, for its message: the run folder, its row and its last checkpoint. */
export interface NonFiniteContext {
  /** The run folder. */
  runDir: string;
  /** The step of the run's latest checkpoint, or null when none was written. */
  lastCheckpoint: number | null;
  /** The experiment row training in that folder, if any. */
  row?: string;
}

/**
 * A loss or gradient held NaN or infinity: training stops, and the last checkpoint written (which
 * holds only finite values) is the one to resume from. A runtime failure (CLI exit 1).
 */
export class NonFiniteError extends Error {
  /** The update number at which the values were seen. */
  readonly step: number;
  /** Names of the non-finite values, e.g. `["loss", "grad/block.qkv"]`. */
  readonly names: string[];
  /** Where it happened, once the training loop has said (see {@linkcode NonFiniteError.within}). */
  readonly context: NonFiniteContext | null;

  /**
   * The message names the step and the values, and says which checkpoint holds the last good weights
   * (from `options.context`, when given).
   */
  constructor(step: number, names: string[], options?: ErrorOptions & { context?: NonFiniteContext }) {
    const c = options?.context ?? null;
    const what = c?.row === undefined ? "training" : `training row "${c.row}"`;
    const saved = c === null
      ? "stopped without saving, so the last checkpoint (if any) holds the last good weights"
      : c.lastCheckpoint === null
      ? `stopped without saving; "${c.runDir}" has no checkpoint yet, so the run starts over (lower train.lr or ` +
        "raise train.warmup_steps)"
      : `stopped without saving, so the checkpoint at step ${c.lastCheckpoint} in "${c.runDir}" holds the last good ` +
        "weights";
    super(
      `Cannot continue ${what} at step ${step}: non-finite values (NaN or infinity) in ${
        names.map((n) => `"${n}"`).join(", ")
      }; ${saved}`,
      options,
    );
    this.name = "NonFiniteError";
    this.step = step;
    this.names = names;
    this.context = c;
  }

  /** The same error with the run folder, row and last checkpoint in its message. */
  within(context: NonFiniteContext): NonFiniteError {
    return new NonFiniteError(this.step, this.names, { cause: this.cause, context });
  }
}

/** A value the check accepts: a tensor (any shape), a host array, or a number. */
export type Checkable = Tensor | Float32Array | number;

/**
 * Names of the values that hold a NaN or an infinity, in the order given. All tensors are checked with
 * one readback of one value per tensor: `sum(x * 0)` is NaN exactly when x holds a non-finite value,
 * and unlike `sum(x)` it cannot overflow.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { findNonFinite } from "./grad.ts";
 * await findNonFinite({ loss: 0.5, w: tf.tensor([1, NaN]) }); // ["w"]
 * ```
 */
export async function findNonFinite(values: Record<string, Checkable>): Promise<string[]> {
  const entries = Object.entries(values);
  const tensorNames: string[] = [];
  const tensors: Tensor[] = [];
  const bad = new Set<string>();
  for (const [name, v] of entries) {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) bad.add(name);
    } else if (v instanceof Float32Array) {
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) {
          bad.add(name);
          break;
        }
      }
    } else {
      tensorNames.push(name);
      tensors.push(v);
    }
  }
  if (tensors.length > 0) {
    const probe = tf.tidy(() => tf.stack(tensors.map((t) => tf.sum(tf.mul(tf.cast(t, "float32"), 0)))));
    const flags = await probe.data();
    probe.dispose();
    flags.forEach((f, i) => {
      if (!Number.isFinite(f)) bad.add(tensorNames[i]);
    });
  }
  return entries.map(([n]) => n).filter((n) => bad.has(n));
}

/**
 * Throws {@linkcode NonFiniteError} if any value holds a NaN or an infinity.
 *
 * @example
 * ```ts
 * import { assertFinite } from "./grad.ts";
 * await assertFinite(12, { loss: 0.25 }); // passes
 * ```
 */
export async function assertFinite(step: number, values: Record<string, Checkable>): Promise<void> {
  const bad = await findNonFinite(values);
  if (bad.length > 0) throw new NonFiniteError(step, bad);
}
