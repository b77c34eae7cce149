/**
 * Optimisers for the dense weights (tfjs Variables) and for the host-side puzzle-embedding table.
 *
 * - `adam-atan2`: imoneoi's adam-atan2 as TRM uses it. No epsilon, a = b = 1:
 *   `p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = lerp(v, g^2, 1-b2);
 *    p -= (lr / (1-b1^t)) * atan2(m, sqrt(v) / sqrt(1-b2^t))`.
 * - `adam-atan2-lucidrains`: lucidrains' adam-atan2-pytorch `AdamAtan2` with its defaults, as the DIS
 *   N-Queens script constructs it (a = 1.27, b = 1, decoupled_wd = False):
 *   `p *= 1 - lr*wd` (only when wd > 0); `p -= lr * a * atan2(m / (1-b1^t), b * sqrt(v / (1-b2^t)))`.
 * - `adamw`: torch.optim.AdamW (decoupled decay `p *= 1 - lr*wd`, eps 1e-8 added after the bias-corrected
 *   square root), as the DIS ARC script uses it.
 * - {@linkcode SparseSignSGD}: TRM's CastedSparseEmbeddingSignSGD on a host Float32Array.
 *
 * Each tensor operation mirrors the PyTorch reference (tools/reference/optim_ref.py) op for op, so the
 * float32 results match it to rounding. As in torch, a variable with no gradient in a step is skipped
 * entirely: no decay, no moment update, its own step count unchanged.
 *
 * @module
 */
import {
  ADAM_UPDATE,
  adamUpdate,
  type AdamUpdateScalars,
  atan2,
  hasKernel,
  type NamedArrays,
  type Tensor,
  tf,
  type Variable,
} from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";

/** The dense-weight optimisers: the one list the config schema reads. */
export const OPTIMIZER_KINDS = ["adam-atan2", "adam-atan2-lucidrains", "adamw"] as const;
/** An optimiser of {@linkcode OPTIMIZER_KINDS}. */
export type OptimizerKind = typeof OPTIMIZER_KINDS[number];

/** Hyperparameters; `eps` is AdamW's (default 1e-8), `a`/`b` lucidrains' (defaults 1.27 and 1). */
export interface OptimizerOptions {
  /** Decay of the first moment (Adam's beta1). */
  beta1: number;
  /** Decay of the second moment (Adam's beta2). */
  beta2: number;
  /** Weight decay per unit learning rate: `p *= 1 - lr * weightDecay` (lucidrains: only when > 0). */
  weightDecay: number;
  /** AdamW's epsilon, added after the bias-corrected square root (default 1e-8); the atan2 rules have none. */
  eps?: number;
  /** lucidrains' step scale `a` (default 1.27). */
  a?: number;
  /** lucidrains' scale `b` of the second moment inside atan2 (default 1). */
  b?: number;
}

/** Named float32 host arrays (lib/backend): optimizer state, EMA shadows, checkpoint sections. */
export type { NamedArrays };

/** State as read back from a checkpoint: any host array, checked to be float32 on restore. */
export type NamedHostArrays = Record<string, { shape: number[]; data: Float32Array | Int32Array | Uint8Array }>;

/** An optimiser over a fixed set of Variables. */
export interface ParamOptimizer {
  /** The update rule. */
  readonly kind: OptimizerKind;
  /** Updates applied so far (calls to `apply`). */
  readonly step: number;
  /**
   * One update. Keys are `Variable.name`; a variable without a key is skipped this step. Updates the
   * variables in place (Variable.assign); the gradients stay the caller's to dispose.
   */
  apply(grads: Record<string, Tensor>, lr: number): void;
  /** Every moment and step count, as host copies. */
  getState(): Promise<NamedArrays>;
  /** Restores what `getState` returned; throws CheckpointError if it does not fit these variables. */
  setState(s: NamedHostArrays): void;
  /** Frees the moments (not the variables). */
  dispose(): void;
}

interface Slot {
  variable: Variable;
  m: Tensor | null;
  v: Tensor | null;
  step: number;
}

const GLOBAL_STEP = "step";
const PREFIXES = ["exp_avg/", "exp_avg_sq/", "step/"] as const;
/** Step counts are stored as float32, exact up to 2^24. */
const MAX_STORED_STEP = 1 << 24;

function checkUnit(name: string, value: number, lo: number, hiOpen: number): void {
  if (!(Number.isFinite(value) && value >= lo && value < hiOpen)) {
    throw new RangeError(`Cannot create optimizer: ${name} must be in [${lo}, ${hiOpen}), got ${value}`);
  }
}

/** torch's CPU lerp: `a + w*(b-a)` for w < 0.5, else `b - (b-a)*(1-w)`. */
function lerp(a: Tensor, b: Tensor, w: number): Tensor {
  const d = tf.sub(b, a);
  return w < 0.5 ? tf.add(a, tf.mul(d, w)) : tf.sub(b, tf.mul(d, 1 - w));
}

class AdamFamily implements ParamOptimizer {
  readonly kind: OptimizerKind;
  #slots = new Map<string, Slot>();
  #step = 0;
  #beta1: number;
  #beta2: number;
  #wd: number;
  #eps: number;
  #a: number;
  #b: number;

  constructor(kind: OptimizerKind, vars: Variable[], opts: OptimizerOptions) {
    if (!(OPTIMIZER_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(`Cannot create optimizer "${kind}": expected one of ${OPTIMIZER_KINDS.join(", ")}`);
    }
    this.kind = kind;
    checkUnit("beta1", opts.beta1, 0, 1);
    checkUnit("beta2", opts.beta2, 0, 1);
    if (!(Number.isFinite(opts.weightDecay) && opts.weightDecay >= 0)) {
      throw new RangeError(`Cannot create optimizer: weightDecay must be >= 0, got ${opts.weightDecay}`);
    }
    this.#beta1 = opts.beta1;
    this.#beta2 = opts.beta2;
    this.#wd = opts.weightDecay;
    this.#eps = opts.eps ?? 1e-8;
    this.#a = opts.a ?? 1.27;
    this.#b = opts.b ?? 1;
    if (!(this.#eps > 0)) throw new RangeError(`Cannot create optimizer: eps must be > 0, got ${this.#eps}`);
    for (const v of vars) {
      if (this.#slots.has(v.name)) throw new RangeError(`Cannot create optimizer: variable "${v.name}" given twice`);
      if (v.dtype !== "float32") {
        throw new TypeError(`Cannot create optimizer: variable "${v.name}" is ${v.dtype}, expected float32`);
      }
      this.#slots.set(v.name, { variable: v, m: null, v: null, step: 0 });
    }
  }

  get step(): number {
    return this.#step;
  }

  apply(grads: Record<string, Tensor>, lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) {
      throw new RangeError(`Cannot apply ${this.kind} update: lr must be a finite number >= 0, got ${lr}`);
    }
    for (const [name, g] of Object.entries(grads)) {
      const slot = this.#slots.get(name);
      if (!slot) throw new RangeError(`Cannot apply ${this.kind} update: gradient "${name}" matches no variable`);
      if (g.shape.length !== slot.variable.shape.length || g.shape.some((d, i) => d !== slot.variable.shape[i])) {
        throw new RangeError(
          `Cannot apply ${this.kind} update: gradient "${name}" has shape [${g.shape}], variable has [${slot.variable.shape}]`,
        );
      }
    }
    this.#step += 1;
    for (const [name, slot] of this.#slots) {
      const g = grads[name];
      if (g !== undefined) this.#update(slot, g, lr);
    }
  }

  #update(slot: Slot, g: Tensor, lr: number): void {
    slot.step += 1;
    const t = slot.step;
    const b1 = this.#beta1, b2 = this.#beta2, wd = this.#wd;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    if (hasKernel(ADAM_UPDATE)) {
      this.#fusedUpdate(slot, g, lr, bc1, bc2);
      return;
    }
    const [m1, v1] = tf.tidy(() => {
      const p = slot.variable;
      const m0 = slot.m ?? tf.zerosLike(p);
      const v0 = slot.v ?? tf.zerosLike(p);
      let m: Tensor, v: Tensor, next: Tensor;
      switch (this.kind) {
        case "adam-atan2": {
          const p1 = tf.mul(p, 1 - lr * wd);
          m = lerp(m0, g, 1 - b1);
          v = lerp(v0, tf.mul(g, g), 1 - b2);
          const den = tf.div(tf.sqrt(v), Math.sqrt(bc2));
          next = tf.sub(p1, tf.mul(atan2(m, den), lr / bc1));
          break;
        }
        case "adam-atan2-lucidrains": {
          const p1 = wd > 0 ? tf.mul(p, 1 - lr * wd) : p;
          m = lerp(m0, g, 1 - b1);
          v = lerp(v0, tf.mul(g, g), 1 - b2);
          const den = tf.sqrt(tf.mul(v, (this.#b * this.#b) / bc2));
          const update = atan2(tf.mul(m, 1 / bc1), den);
          next = tf.add(p1, tf.mul(update, -lr * this.#a));
          break;
        }
        case "adamw": {
          const p1 = tf.mul(p, 1 - lr * wd);
          m = tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1));
          v = tf.add(tf.mul(v0, b2), tf.mul(tf.mul(g, g), 1 - b2));
          const den = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.#eps);
          next = tf.add(p1, tf.mul(tf.div(m, den), -lr / bc1));
          break;
        }
      }
      slot.variable.assign(next);
      // keep: a caller's enclosing tidy would otherwise dispose the moments at its end.
      return [tf.keep(m), tf.keep(v)];
    });
    slot.m?.dispose();
    slot.v?.dispose();
    slot.m = m1;
    slot.v = v1;
  }

  /**
   * The same update as one dispatch (webgpu: lib/backend's ADAM_UPDATE kernel), with the chain's float32
   * scalars; its values match the op chain's to float32 rounding (tested on webgpu against it).
   */
  #fusedUpdate(slot: Slot, g: Tensor, lr: number, bc1: number, bc2: number): void {
    const b1 = this.#beta1, b2 = this.#beta2, wd = this.#wd;
    const base = { w1: 1 - b1, w2: 1 - b2, b1: 1 - (1 - b1), b2: 1 - (1 - b2), eps: this.#eps, s2: 0 };
    let scalars: AdamUpdateScalars;
    switch (this.kind) {
      case "adam-atan2":
        scalars = { ...base, decay: 1 - lr * wd, s0: Math.sqrt(bc2), s1: lr / bc1 };
        break;
      case "adam-atan2-lucidrains":
        scalars = {
          ...base,
          decay: wd > 0 ? 1 - lr * wd : 1,
          s0: (this.#b * this.#b) / bc2,
          s1: -lr * this.#a,
          s2: 1 / bc1,
        };
        break;
      case "adamw":
        scalars = { ...base, b1, b2, decay: 1 - lr * wd, s0: Math.sqrt(bc2), s1: -lr / bc1 };
        break;
    }
    const p = slot.variable;
    const fresh = slot.m === null || slot.v === null;
    const [p1, m1, v1] = adamUpdate(this.kind, p, slot.m ?? g, slot.v ?? g, g, fresh, scalars);
    p.assign(p1);
    p1.dispose();
    slot.m?.dispose();
    slot.v?.dispose();
    // keep: a caller's enclosing tidy would otherwise dispose the moments at its end.
    slot.m = tf.keep(m1);
    slot.v = tf.keep(v1);
  }

  async getState(): Promise<NamedArrays> {
    if (this.#step > MAX_STORED_STEP) {
      throw new RangeError(`Cannot save ${this.kind} state: step ${this.#step} exceeds 2^24, the float32 limit`);
    }
    const out: NamedArrays = { [GLOBAL_STEP]: { shape: [1], data: new Float32Array([this.#step]) } };
    for (const [name, slot] of this.#slots) {
      if (slot.m === null || slot.v === null) continue;
      const shape = [...slot.variable.shape];
      out[`exp_avg/${name}`] = { shape, data: new Float32Array(await slot.m.data()) };
      out[`exp_avg_sq/${name}`] = { shape, data: new Float32Array(await slot.v.data()) };
      out[`step/${name}`] = { shape: [1], data: new Float32Array([slot.step]) };
    }
    return out;
  }

  setState(s: NamedHostArrays): void {
    const where = `Cannot restore ${this.kind} optimizer state`;
    const global = s[GLOBAL_STEP];
    const globalStep = global?.data instanceof Float32Array && global.data.length === 1 ? global.data[0] : NaN;
    if (!(Number.isInteger(globalStep) && globalStep >= 0)) {
      throw new CheckpointError(`${where}: entry "${GLOBAL_STEP}" is missing or not a step count`);
    }
    const fresh = new Map<string, { m?: Float32Array; v?: Float32Array; step?: number }>();
    for (const [key, entry] of Object.entries(s)) {
      if (key === GLOBAL_STEP) continue;
      const prefix = PREFIXES.find((p) => key.startsWith(p));
      const name = prefix ? key.slice(prefix.length) : "";
      const slot = this.#slots.get(name);
      if (!prefix || !slot) throw new CheckpointError(`${where}: entry "${key}" matches no variable of this model`);
      if (!(entry.data instanceof Float32Array)) throw new CheckpointError(`${where}: entry "${key}" is not float32`);
      const want = prefix === "step/" ? [1] : slot.variable.shape;
      if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
        throw new CheckpointError(`${where}: entry "${key}" has shape [${entry.shape}], expected [${want}]`);
      }
      const f = fresh.get(name) ?? {};
      if (prefix === "exp_avg/") f.m = entry.data;
      else if (prefix === "exp_avg_sq/") f.v = entry.data;
      else f.step = entry.data[0];
      fresh.set(name, f);
    }
    for (const [name, f] of fresh) {
      if (!f.m || !f.v || !(Number.isInteger(f.step) && f.step! >= 1)) {
        throw new CheckpointError(`${where}: variable "${name}" lacks one of exp_avg, exp_avg_sq or a step >= 1`);
      }
    }
    for (const [name, slot] of this.#slots) {
      slot.m?.dispose();
      slot.v?.dispose();
      const f = fresh.get(name);
      // Copies: tf.tensor keeps a reference to the array on the cpu backend.
      slot.m = f ? tf.keep(tf.tensor(f.m!.slice(), slot.variable.shape, "float32")) : null;
      slot.v = f ? tf.keep(tf.tensor(f.v!.slice(), slot.variable.shape, "float32")) : null;
      slot.step = f ? f.step! : 0;
    }
    this.#step = globalStep;
  }

  dispose(): void {
    for (const slot of this.#slots.values()) {
      slot.m?.dispose();
      slot.v?.dispose();
      slot.m = slot.v = null;
    }
  }
}

/**
 * Creates an optimiser over `vars` (keyed by `Variable.name`).
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { createOptimizer } from "./optimizers.ts";
 * const w = tf.variable(tf.ones([2, 2]), true, "doc.w");
 * const opt = createOptimizer("adam-atan2", [w], { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
 * opt.apply({ "doc.w": tf.ones([2, 2]) }, 1e-4);
 * ```
 */
export function createOptimizer(kind: OptimizerKind, vars: Variable[], opts: OptimizerOptions): ParamOptimizer {
  return new AdamFamily(kind, vars, opts);
}

/**
 * Sign-SGD on the rows of a host-side embedding table (TRM's CastedSparseEmbeddingSignSGD): the
 * gradients of batch rows that share an id are summed first, then each touched row gets
 * `p = p*(1 - lr*wd) - lr*sign(g)`. Untouched rows are not decayed. The arithmetic is float32 in torch's
 * order, so it matches the reference bit for bit.
 *
 * @example
 * ```ts
 * import { SparseSignSGD } from "./optimizers.ts";
 * const table = new Float32Array(4 * 2); // 4 puzzle ids, dim 2
 * const sgd = new SparseSignSGD(table, 2, { weightDecay: 0.1 });
 * sgd.apply(new Int32Array([3, 3]), new Float32Array([0.5, -1, 0.25, 2]), 0.01); // row 3 -> [-0.01, -0.01]
 * ```
 */
export class SparseSignSGD {
  /** The embedding table, row-major [rows * dim], updated in place. */
  readonly table: Float32Array;
  /** Width of a row (D). */
  readonly dim: number;
  /** Rows in the table (puzzle ids). */
  readonly rows: number;
  /** Weight decay wd: each touched row is first scaled by `1 - lr * wd`. */
  readonly weightDecay: number;

  /**
   * Wraps `table` (not copied). Throws RangeError when its length is not a multiple of `dim` or the decay is negative.
   */
  constructor(table: Float32Array, dim: number, opts: { weightDecay: number }) {
    if (!(Number.isSafeInteger(dim) && dim > 0) || table.length % dim !== 0) {
      throw new RangeError(`Cannot create SparseSignSGD: table of ${table.length} values is not rows x dim ${dim}`);
    }
    if (!(Number.isFinite(opts.weightDecay) && opts.weightDecay >= 0)) {
      throw new RangeError(`Cannot create SparseSignSGD: weightDecay must be >= 0, got ${opts.weightDecay}`);
    }
    this.table = table;
    this.dim = dim;
    this.rows = table.length / dim;
    this.weightDecay = opts.weightDecay;
  }

  /** One update from the batch's ids `[B]` and the gradient of their looked-up rows `[B, dim]`. */
  apply(ids: Int32Array, grad: Float32Array, lr: number): void {
    const d = this.dim;
    if (grad.length !== ids.length * d) {
      throw new RangeError(
        `Cannot apply SparseSignSGD: gradient has ${grad.length} values, expected ${ids.length}x${d}`,
      );
    }
    if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`Cannot apply SparseSignSGD: lr ${lr}`);
    const slotOf = new Map<number, number>();
    for (const id of ids) {
      if (!(id >= 0 && id < this.rows)) {
        throw new RangeError(`Cannot apply SparseSignSGD: id ${id} is outside the table's ${this.rows} rows`);
      }
      if (!slotOf.has(id)) slotOf.set(id, slotOf.size);
    }
    // Float32 sums in batch order, like torch's scatter_add_ into a zero float32 buffer.
    const sum = new Float32Array(slotOf.size * d);
    for (let i = 0; i < ids.length; i++) {
      const base = slotOf.get(ids[i])! * d;
      for (let k = 0; k < d; k++) sum[base + k] += grad[i * d + k];
    }
    const decay = Math.fround(1 - lr * this.weightDecay);
    const step = Math.fround(-lr);
    for (const [id, slot] of slotOf) {
      const row = this.table.subarray(id * d, id * d + d);
      for (let k = 0; k < d; k++) {
        row[k] = Math.fround(row[k] * decay) + step * Math.sign(sum[slot * d + k]);
      }
    }
  }
}
