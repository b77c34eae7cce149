/**
 * Exponential moving average of the trainable weights, as TRM's EMAHelper: the shadow starts as a copy
 * of each weight and after every optimizer step becomes `(1 - decay) * param + decay * shadow`
 * (decay 0.999). Evaluation and the checkpoint's evaluation weights use the shadow; training continues
 * from the live weights. Only the Variables given are averaged (TRM's puzzle embeddings are buffers,
 * not parameters, and are not averaged either).
 *
 * @module
 */
import { type Tensor, tf, type Variable } from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";
import type { NamedArrays, NamedHostArrays } from "./optimizers.ts";

/**
 * The EMA of a set of Variables, with a swap that puts the averaged weights into the Variables for
 * evaluation and restores the live ones after.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { Ema } from "./ema.ts";
 * const w = tf.variable(tf.zeros([2]), true, "doc.ema.w");
 * const ema = new Ema([w]);
 * w.assign(tf.ones([2]));
 * ema.update(); // shadow = 0.001
 * const evaluated = await ema.withShadow(async () => await w.data()); // [0.001, 0.001]
 * ```
 */
export class Ema {
  /** Weight of the shadow in each update: `shadow = (1 - decay) * param + decay * shadow`. */
  readonly decay: number;
  #vars: Variable[];
  #shadow: Tensor[];
  #live: Tensor[] | null = null;

  /**
   * Copies every Variable into its shadow; `decay` defaults to 0.999. Throws RangeError for a decay outside [0, 1) or a
   * Variable given twice.
   */
  constructor(vars: Variable[], opts: { decay?: number } = {}) {
    this.decay = opts.decay ?? 0.999;
    if (!(this.decay >= 0 && this.decay < 1)) throw new RangeError(`Cannot create Ema: decay ${this.decay}`);
    const names = new Set<string>();
    for (const v of vars) {
      if (names.has(v.name)) throw new RangeError(`Cannot create Ema: variable "${v.name}" given twice`);
      names.add(v.name);
    }
    this.#vars = [...vars];
    this.#shadow = vars.map((v) => tf.keep(v.clone()));
  }

  /** Whether the shadow weights are currently in the Variables. */
  get swapped(): boolean {
    return this.#live !== null;
  }

  /** One EMA step from the Variables' current (live) values; call after each optimizer step. */
  update(): void {
    if (this.#live) throw new Error("Cannot update the EMA while its weights are swapped in");
    const mu = this.decay;
    this.#shadow = this.#shadow.map((s, i) => {
      // keep: a caller's enclosing tidy would otherwise dispose the shadow at its end.
      const next = tf.keep(tf.tidy(() => tf.add(tf.mul(this.#vars[i], 1 - mu), tf.mul(s, mu))));
      s.dispose();
      return next;
    });
  }

  /** Puts the averaged weights into the Variables, keeping the live ones aside. */
  swapIn(): void {
    if (this.#live) throw new Error("Cannot swap in the EMA weights: they are already swapped in");
    this.#live = this.#vars.map((v) => tf.keep(v.clone()));
    this.#vars.forEach((v, i) => v.assign(this.#shadow[i]));
  }

  /** Restores the live weights after {@linkcode Ema.swapIn}. */
  swapOut(): void {
    const live = this.#live;
    if (!live) throw new Error("Cannot swap out the EMA weights: they are not swapped in");
    this.#vars.forEach((v, i) => v.assign(live[i]));
    live.forEach((t) => t.dispose());
    this.#live = null;
  }

  /** Runs `fn` with the averaged weights in the Variables and restores the live ones afterwards. */
  async withShadow<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swapIn();
    try {
      return await fn();
    } finally {
      this.swapOut();
    }
  }

  /** The shadow weights as host copies, keyed by Variable name. */
  async getState(): Promise<NamedArrays> {
    const out: NamedArrays = {};
    for (let i = 0; i < this.#vars.length; i++) {
      out[this.#vars[i].name] = {
        shape: [...this.#vars[i].shape],
        data: new Float32Array(await this.#shadow[i].data()),
      };
    }
    return out;
  }

  /** Restores shadows saved by {@linkcode Ema.getState}; every Variable must have one. */
  setState(s: NamedHostArrays): void {
    const where = "Cannot restore EMA weights";
    const known = new Set(this.#vars.map((v) => v.name));
    for (const key of Object.keys(s)) {
      if (!known.has(key)) throw new CheckpointError(`${where}: entry "${key}" matches no variable of this model`);
    }
    const next = this.#vars.map((v) => {
      const e = s[v.name];
      if (!e) throw new CheckpointError(`${where}: variable "${v.name}" has no saved shadow`);
      if (!(e.data instanceof Float32Array)) throw new CheckpointError(`${where}: entry "${v.name}" is not float32`);
      if (e.shape.length !== v.shape.length || e.shape.some((d, i) => d !== v.shape[i])) {
        throw new CheckpointError(`${where}: entry "${v.name}" has shape [${e.shape}], expected [${v.shape}]`);
      }
      return e.data;
    });
    this.#shadow.forEach((t) => t.dispose());
    // Copies: tf.tensor keeps a reference to the array on the cpu backend.
    this.#shadow = next.map((d, i) => tf.keep(tf.tensor(d.slice(), this.#vars[i].shape, "float32")));
  }

  /** Frees the shadows (and restores the live weights if swapped in). */
  dispose(): void {
    if (this.#live) this.swapOut();
    this.#shadow.forEach((t) => t.dispose());
    this.#shadow = [];
  }
}
