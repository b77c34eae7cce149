/**
 * What the TRM and DIS trainers share: the supervision step as a template ({@linkcode SupervisionTrainer}),
 * the batch slots (TRM's rolling "carry"), the puzzle-row variable the tape differentiates, applying
 * gradients, the step result and the forward-pass counters.
 *
 * @module
 */
import { globalNorm, type NamedArrays, puzzleTableOnDevice, type Tensor, tf, type Variable } from "../backend/mod.ts";
import { cycle, cyclesNoGrad, forwardPasses, type MethodConfig, type RecursiveModel } from "../model/mod.ts";
import type { BatchSource, PuzzleOptimizer, StepBatch, StepRates, WeightOptimizer } from "./batch.ts";

/** Options every trainer takes. */
export interface TrainerOptions {
  /** Slots per step, B. */
  batchSize: number;
  /** The loss is divided by this (TRM: the global batch size); default B. */
  globalBatch?: number;
  /**
   * Gradient accumulation: rows per forward/backward pass (default B: one pass). With m < B the step runs
   * ceil(B / m) passes over consecutive slot ranges, sums their gradients and steps the optimisers once,
   * so the update is the full batch's up to float summation order: the objective of each pass is already
   * divided by the global batch, never by m.
   */
  microBatch?: number;
  /** The weight optimiser, stepped once per supervision step. */
  optimizer: WeightOptimizer;
  /**
   * Sign-SGD on the puzzle table; absent = the table stays fixed (and its gradient is not read back). Where
   * the model's table lives on the device ({@linkcode RecursiveModel.puzzleTableToDevice}) the update runs
   * there instead, with this optimiser's `weightDecay` and no readback.
   */
  puzzleOptimizer?: PuzzleOptimizer;
  /**
   * Where the puzzle-embedding table lives while training: `host` (default) or `device`, which moves it to
   * the device where the backend is webgpu (else it stays on the host).
   */
  puzzleTable?: "host" | "device";
  /**
   * Optional gradient transform applied before the optimiser (e.g. global-norm clipping from lib/train).
   * Runs inside tf.tidy; return new tensors or the same ones.
   */
  transformGrads?: (grads: Record<string, Tensor>) => Record<string, Tensor>;
  /**
   * Observer called in every step after the backward pass, before the optimisers: the gradients by stable
   * name (the batch's puzzle rows as `puzzle_emb.batch_rows`, [B, D]) and the step's logits [B, L, V]
   * (and TRM's halting logits [B]). The tensors are valid only during the call: clone what you keep.
   */
  onGradients?: (e: GradientEvent) => void;
}

/** What {@linkcode TrainerOptions.onGradients} sees. */
export interface GradientEvent {
  /** Gradients by stable name; the batch's puzzle rows are `puzzle_emb.batch_rows` [B, D]. */
  grads: Record<string, Tensor>;
  /** The step's logits [B, L, V]. */
  logits: Tensor;
  /** TRM's halting logits [B]; absent for DIS. */
  qHaltLogits?: Tensor;
}

/** Calls the gradient observer with stable names. */
export function observeGradients(
  opts: TrainerOptions,
  model: RecursiveModel,
  rows: PuzzleRows,
  grads: Record<string, Tensor>,
  logits: Tensor,
  q?: Tensor,
): void {
  if (!opts.onGradients) return;
  const named: Record<string, Tensor> = {};
  for (const v of model.trainableVariables()) if (grads[v.name]) named[model.stableName(v)] = grads[v.name];
  if (grads[rows.variable.name]) named["puzzle_emb.batch_rows"] = grads[rows.variable.name];
  opts.onGradients({ grads: named, logits, qHaltLogits: q });
}

/** Host-side per-slot state: the sample each slot works on and its progress. */
export class Slots {
  /** The input tokens each slot works on [B * L]. */
  readonly inputs: Int32Array;
  /** The label tokens of each slot's sample [B * L]. */
  readonly labels: Int32Array;
  /** The puzzle id of each slot's sample [B]. */
  readonly puzzleIds: Int32Array;
  /** The example id of each slot's sample [B], -1 when the batch carried none. */
  readonly sampleIds: Int32Array;
  /** Supervision steps run on the current sample. */
  readonly steps: Int32Array;
  /** 1 = the slot's sample is done and the next step takes a fresh one (all start halted, as TRM's carry). */
  readonly halted: Uint8Array;

  /**
   * Empty slots, all halted, so the first step fills every one.
   *
   * @param batch Slots, B.
   * @param seqLen Tokens per sample, L.
   */
  constructor(readonly batch: number, readonly seqLen: number) {
    this.inputs = new Int32Array(batch * seqLen);
    this.labels = new Int32Array(batch * seqLen);
    this.puzzleIds = new Int32Array(batch);
    this.sampleIds = new Int32Array(batch).fill(-1);
    this.steps = new Int32Array(batch);
    this.halted = new Uint8Array(batch).fill(1);
  }

  /** Copies row b of the batch into slot b and resets its step counter. */
  take(b: number, src: StepBatch): void {
    const l = this.seqLen;
    this.inputs.set(src.inputs.subarray(b * l, (b + 1) * l), b * l);
    this.labels.set(src.labels.subarray(b * l, (b + 1) * l), b * l);
    this.puzzleIds[b] = src.puzzleIds[b];
    this.sampleIds[b] = src.sampleIds ? src.sampleIds[b] : -1;
    this.steps[b] = 0;
  }

  /** The slots as checkpoint arrays named `<prefix>inputs`, `<prefix>labels`, ... (values as float32). */
  toArrays(prefix: string): NamedArrays {
    const b = this.batch;
    const l = this.seqLen;
    return {
      [`${prefix}inputs`]: { shape: [b, l], data: Float32Array.from(this.inputs) },
      [`${prefix}labels`]: { shape: [b, l], data: Float32Array.from(this.labels) },
      [`${prefix}puzzle_ids`]: { shape: [b], data: Float32Array.from(this.puzzleIds) },
      [`${prefix}sample_ids`]: { shape: [b], data: Float32Array.from(this.sampleIds) },
      [`${prefix}steps`]: { shape: [b], data: Float32Array.from(this.steps) },
      [`${prefix}halted`]: { shape: [b], data: Float32Array.from(this.halted) },
    };
  }

  /**
   * Restores the slots from {@linkcode toArrays}'s arrays; throws RangeError, changing nothing, when one is
   * missing or of the wrong size.
   */
  fromArrays(a: NamedArrays, prefix: string): void {
    const get = (k: string, n: number) => {
      const e = a[prefix + k];
      if (!e || e.data.length !== n) {
        throw new RangeError(`Cannot restore trainer state: "${prefix + k}" is missing or does not hold ${n} values`);
      }
      return e.data;
    };
    const n = this.batch * this.seqLen;
    // Everything is checked before anything is overwritten, so a bad state leaves the slots as they were.
    const parts = [
      [this.inputs, get("inputs", n)],
      [this.labels, get("labels", n)],
      [this.puzzleIds, get("puzzle_ids", this.batch)],
      [this.sampleIds, get("sample_ids", this.batch)],
      [this.steps, get("steps", this.batch)],
      [this.halted, get("halted", this.batch)],
    ] as const;
    for (const [dst, src] of parts) dst.set(src);
  }
}

/** Network-application counters (per sample = per slot and step), for results.json. */
export interface ForwardPassStats {
  /** Optimiser steps taken. */
  optimizerSteps: number;
  /** Network applications summed over slots and steps. */
  netCalls: number;
  /** Of those, under gradient. */
  netCallsWithGrad: number;
  /** Samples that finished (halted) during training. */
  samplesCompleted: number;
  /** Network applications spent on the finished samples. */
  netCallsOfCompleted: number;
  /** netCallsOfCompleted / samplesCompleted (0 before any finished). */
  meanPerCompletedSample: number;
}

/**
 * Adds one optimiser step to the counters: every slot ran `perStep` network applications, `withGrad` of
 * them under gradient; the slots that halted finished a sample of `steps` supervision steps.
 */
export function countStep(stats: ForwardPassStats, slots: Slots, perStep: number, withGrad: number): void {
  stats.optimizerSteps += 1;
  stats.netCalls += slots.batch * perStep;
  stats.netCallsWithGrad += slots.batch * withGrad;
  for (let i = 0; i < slots.batch; i++) {
    if (!slots.halted[i]) continue;
    stats.samplesCompleted += 1;
    stats.netCallsOfCompleted += slots.steps[i] * perStep;
  }
  stats.meanPerCompletedSample = stats.samplesCompleted > 0 ? stats.netCallsOfCompleted / stats.samplesCompleted : 0;
}

const WORD = 2 ** 24; // float32 holds every integer below 2^24 exactly

/**
 * The counters as a checkpoint array. Each is stored as two float32 words (high, low) of 24 bits, so
 * counts stay exact up to 2^48: a long run passes 2^24 network calls within about a thousand steps.
 */
export function forwardStatsArray(s: ForwardPassStats): NamedArrays[string] {
  const counters = [s.optimizerSteps, s.netCalls, s.netCallsWithGrad, s.samplesCompleted, s.netCallsOfCompleted];
  const data = new Float32Array(counters.length * 2);
  counters.forEach((c, i) => {
    data[2 * i] = Math.floor(c / WORD);
    data[2 * i + 1] = c % WORD;
  });
  return { shape: [counters.length, 2], data };
}

/** Counters from {@linkcode forwardStatsArray}'s array; fresh ones when absent. */
export function forwardStatsFrom(e: NamedArrays[string] | undefined): ForwardPassStats {
  if (!e || e.data.length !== 10) return emptyForwardStats();
  const f = Array.from({ length: 5 }, (_, i) => e.data[2 * i] * WORD + e.data[2 * i + 1]);
  return {
    optimizerSteps: f[0],
    netCalls: f[1],
    netCallsWithGrad: f[2],
    samplesCompleted: f[3],
    netCallsOfCompleted: f[4],
    meanPerCompletedSample: f[3] > 0 ? f[4] / f[3] : 0,
  };
}

/** Counters at zero. */
export function emptyForwardStats(): ForwardPassStats {
  return {
    optimizerSteps: 0,
    netCalls: 0,
    netCallsWithGrad: 0,
    samplesCompleted: 0,
    netCallsOfCompleted: 0,
    meanPerCompletedSample: 0,
  };
}

/**
 * One optimiser step's numbers, still on the device: a [k] tensor of raw sums. `read()` fetches them
 * (one readback), normalises as TRM logs them, and disposes the tensor.
 */
export class StepResult {
  #stats: Tensor;
  #done = false;
  /**
   * Wraps a step's sums, unread.
   *
   * @param stats The raw sums [k], which this result owns until read or disposed.
   * @param names The metric names, one per value `normalise` returns.
   * @param normalise Turns the raw sums into the logged values.
   */
  constructor(stats: Tensor, readonly names: readonly string[], readonly normalise: (raw: number[]) => number[]) {
    this.#stats = stats;
  }

  /** The raw sums tensor [k]; index 0 is the objective that was differentiated (non-finite = diverged). */
  get stats(): Tensor {
    return this.#stats;
  }

  /** Reads and disposes: loss terms per global batch, accuracies per finished sample. */
  async read(): Promise<Record<string, number>> {
    if (this.#done) throw new Error("Cannot read a step result twice: it was already read or disposed");
    const raw = Array.from(await this.#stats.data());
    this.dispose();
    const vals = this.normalise(raw);
    return Object.fromEntries(this.names.map((n, i) => [n, vals[i]]));
  }

  /** Frees the sums without reading them; `read()` then throws. */
  dispose(): void {
    this.#done = true;
    this.#stats.dispose();
  }
}

/**
 * The puzzle rows of a batch as a variable the gradient tape can differentiate, [B, D]. Creating one moves
 * the model's table to the device when `placement` is `device` and the backend is webgpu.
 */
export class PuzzleRows {
  /** The [B, D] variable the tape differentiates, holding the batch's puzzle rows. */
  readonly variable: Variable;
  /** A zero [B, D] variable for `batch` rows of `model`'s puzzle table, kept where `placement` says. */
  constructor(readonly model: RecursiveModel, batch: number, placement?: "host" | "device") {
    if (puzzleTableOnDevice(placement) && !model.puzzleTableOnDevice) model.puzzleTableToDevice();
    const initial = tf.zeros([batch, model.config.hidden]);
    this.variable = tf.variable(initial, true, `${model.scope}puzzle_emb.batch_rows.${PuzzleRows.#counter++}`);
    initial.dispose();
  }
  static #counter = 0;

  /** Sets the variable to the rows of `ids` (gathered on the device where the table lives there). */
  load(ids: Int32Array): void {
    tf.tidy(() => this.variable.assign(this.model.puzzleRowsTensor(ids)));
  }

  /** Frees the variable. */
  dispose(): void {
    this.variable.dispose();
  }
}

/**
 * Applies a step's gradients: the optional transform, the weight optimiser, then sign-SGD on the puzzle
 * rows (on the host: one readback of [B, D]; with the table on the device: one dispatch, no readback).
 * Disposes every gradient. Returns the global L2 norm of the weight gradients (before the transform) as a
 * scalar tensor the caller owns.
 */
export async function applyGradients(
  grads: Record<string, Tensor>,
  rows: PuzzleRows,
  ids: Int32Array,
  opts: TrainerOptions,
  rates: StepRates,
): Promise<Tensor> {
  const rowName = rows.variable.name;
  const rowGrad = grads[rowName];
  const weightGrads: Record<string, Tensor> = {};
  for (const [k, g] of Object.entries(grads)) if (k !== rowName) weightGrads[k] = g;
  const norm = globalNorm(weightGrads);
  if (opts.transformGrads) {
    const transformed = tf.tidy(() => opts.transformGrads!(weightGrads));
    opts.optimizer.apply(transformed, rates.lr);
    for (const g of Object.values(transformed)) g.dispose();
  } else {
    opts.optimizer.apply(weightGrads, rates.lr);
  }
  for (const g of Object.values(weightGrads)) g.dispose();
  if (rowGrad) {
    if (opts.puzzleOptimizer && rows.model.puzzleTableOnDevice) {
      rows.model.applyPuzzleSignSgd(ids, rowGrad, rates.puzzleLr, opts.puzzleOptimizer.weightDecay);
    } else if (opts.puzzleOptimizer) {
      const data = (await rowGrad.data()) as Float32Array;
      opts.puzzleOptimizer.apply(ids, data, rates.puzzleLr);
    }
    rowGrad.dispose();
  }
  return norm;
}

/** y, z where the slot is fresh: y_init / z_init, else the carried state. Returns new tensors. */
export function resetStates(
  model: RecursiveModel,
  y: Tensor,
  z: Tensor,
  fresh: Uint8Array,
): { y: Tensor; z: Tensor } {
  return tf.tidy(() => {
    const b = fresh.length;
    const mask = tf.cast(tf.tensor3d(Int32Array.from(fresh), [b, 1, 1], "int32"), "bool"); // [B, 1, 1]
    const init = model.initialState(b);
    return { y: tf.where(mask, init.y, y), z: tf.where(mask, init.z, z) }; // [B, S, D] each
  });
}

/** A tensor from a saved state entry, checking that it holds the expected number of values. */
export function restoreTensor(a: NamedArrays, name: string, shape: number[], dtype: "float32" | "int32"): Tensor {
  const e = a[name];
  const n = shape.reduce((x, y) => x * y, 1);
  if (!e || e.data.length !== n) {
    throw new RangeError(`Cannot restore trainer state: "${name}" is missing or does not hold ${n} values`);
  }
  return dtype === "float32" ? tf.tensor(e.data, shape, "float32") : tf.tensor(Int32Array.from(e.data), shape, "int32");
}

/** One forward/backward pass: the summed objective, its gradients and what the step keeps of the rows. */
interface Pass {
  value: Tensor;
  grads: Record<string, Tensor>;
  kept: { y: Tensor; z: Tensor; carry: Tensor; perSlot: Tensor; logits?: Tensor };
}

/** What a method's {@linkcode SupervisionTrainer.prepare} hands the shared step: this step's inputs. */
export interface StepInputs {
  /** 1 where the slot took a fresh sample this step (its y, z restart from y_init, z_init). */
  fresh: Uint8Array;
  /** The input tokens, [B, L] int32; the step disposes it. */
  tokens: Tensor;
  /** DIS: the supervision-step index s of each slot, [B] int32 (the step embedding); the step disposes it. */
  stepIndex?: Tensor;
  /** Further tensors the method's objective reads (labels, targets, weights); the step disposes them. */
  tensors: Tensor[];
}

/** What a method's {@linkcode SupervisionTrainer.objective} returns, inside the gradient tape. */
export interface StepObjective {
  /** The scalar that is differentiated. */
  total: Tensor;
  /** Per-slot numbers [B, k] that {@linkcode SupervisionTrainer.summarise} reduces. */
  perSlot: Tensor;
  /** One more tensor the method needs after the step (TRM: the halting logits [B]; DIS: the argmax [B, L]). */
  carry: Tensor;
}

/**
 * The supervision step both methods run, as a template: one supervision step and one optimiser step on
 * the B slots. A method supplies how the slots take samples and what the inputs are ({@linkcode prepare}),
 * the objective on the step's logits ({@linkcode objective}), when a slot halts ({@linkcode halt}) and how
 * the per-slot numbers become the step's metrics ({@linkcode summarise}); the rest is shared:
 *
 * 1. y, z restart where a slot is fresh;
 * 2. T-1 cycles without gradient, one with gradient (lib/model's recursion), from the input embedding
 *    (plus the step embedding where the method has one);
 * 3. the gradients of the objective go to the observer, then to the optimisers (applyGradients);
 * 4. the slots' halting is updated and the network applications are counted;
 * 5. y, z are carried (detached) to the next step.
 */
export abstract class SupervisionTrainer<M extends MethodConfig> {
  /** Host-side state of the B slots. */
  readonly slots: Slots;
  /** Puzzle rows of the current batch, as the variable the tape differentiates. */
  protected readonly rows: PuzzleRows;
  /** The batch size the loss is divided by (`opts.globalBatch`, default B). */
  protected readonly globalBatch: number;
  #y: Tensor;
  #z: Tensor;
  #stats: ForwardPassStats = emptyForwardStats();

  /** Builds the slots, y_init / z_init and the puzzle-row variable for `opts.batchSize` slots. */
  constructor(readonly model: RecursiveModel, readonly method: M, readonly opts: TrainerOptions) {
    this.slots = new Slots(opts.batchSize, model.config.seqLen);
    const init = model.initialState(opts.batchSize);
    this.#y = init.y;
    this.#z = init.z;
    this.rows = new PuzzleRows(model, opts.batchSize, opts.puzzleTable);
    this.globalBatch = opts.globalBatch ?? opts.batchSize;
  }

  /** Network-application counters so far. */
  get forwardPasses(): ForwardPassStats {
    return { ...this.#stats };
  }

  /** Takes this step's samples into the slots, loads the puzzle rows, and builds the step's inputs. */
  protected abstract prepare(source: BatchSource): StepInputs;
  /** The objective on the step's logits [B, L, V] and final answer state y [B, S, D], inside the tape. */
  protected abstract objective(logits: Tensor, y: Tensor, inputs: StepInputs): StepObjective;
  /** Advances the slots' step counters and sets `halted`; owns (and disposes or keeps) `carry`. */
  protected abstract halt(carry: Tensor): Promise<void>;
  /** The step's metrics from the per-slot numbers, the differentiated value and the gradient norm. */
  protected abstract summarise(perSlot: Tensor, value: Tensor, norm: Tensor): StepResult;
  /** The halting logits the gradient observer sees (TRM), from the objective's `carry`. */
  protected haltingLogits(_carry: Tensor): Tensor | undefined {
    return undefined;
  }

  /** One supervision step and one optimiser step. */
  async step(source: BatchSource, rates: StepRates): Promise<StepResult> {
    const { model, method, slots } = this;
    const inputs = this.prepare(source);
    const reset = resetStates(model, this.#y, this.#z, inputs.fresh);
    this.#y.dispose();
    this.#z.dispose();
    const b = slots.batch;
    const micro = Math.min(this.opts.microBatch ?? b, b);
    // One pass over the whole batch is today's step exactly (no slicing), so runs without accumulation
    // keep their bytes.
    const pass = micro >= b
      ? this.#pass(inputs, reset.y, reset.z, null)
      : this.#accumulate(inputs, reset.y, reset.z, micro);
    for (const t of [reset.y, reset.z, inputs.tokens, ...(inputs.stepIndex ? [inputs.stepIndex] : [])]) t.dispose();
    for (const t of inputs.tensors) t.dispose();
    const { value, grads, kept: k } = pass;
    if (k.logits) {
      observeGradients(this.opts, model, this.rows, grads, k.logits, this.haltingLogits(k.carry));
      k.logits.dispose();
    }
    const norm = await applyGradients(grads, this.rows, slots.puzzleIds.slice(), this.opts, rates);

    await this.halt(k.carry);
    const perStep = forwardPasses(method);
    countStep(this.#stats, slots, perStep.perStep, perStep.withGradPerStep);
    const result = this.summarise(k.perSlot, value, norm);
    value.dispose();
    norm.dispose();
    k.perSlot.dispose();
    this.#y = k.y;
    this.#z = k.z;
    return result;
  }

  /**
   * The forward and backward pass of one group of rows: T-1 cycles without gradient, one with, the
   * objective and its gradients (by tfjs variable name; the puzzle-row variable's is [B, D] even when
   * `range` = [first row, rows] takes a slice of it). `inputs`, `y` and `z` are not disposed.
   */
  #pass(inputs: StepInputs, y: Tensor, z: Tensor, range: [number, number] | null): Pass {
    const { model, method } = this;
    const variable = this.rows.variable;
    const rows = () => (range === null ? variable : tf.slice(variable, range[0], range[1])); // [B or m, D]
    let state = { y, z };
    if (method.hCycles > 1) {
      const x = tf.tidy(() => model.inputEmbedding(inputs.tokens, rows(), inputs.stepIndex)); // [B, S, D]
      state = cyclesNoGrad(model, x, y, z, method.lCycles, method.hCycles - 1);
      x.dispose();
    }
    let kept: Pass["kept"] | undefined;
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        // Under accumulation the slice of the puzzle-row variable is taken inside the tape.
        const x = model.inputEmbedding(inputs.tokens, rows(), inputs.stepIndex); // [B, S, D]
        const out = cycle(model, x, state.y, state.z, method.lCycles);
        const logits = model.lmLogits(out.y); // [B, L, V]
        const o = this.objective(logits, out.y, inputs);
        kept = { y: tf.keep(out.y), z: tf.keep(out.z), carry: tf.keep(o.carry), perSlot: tf.keep(o.perSlot) };
        if (this.opts.onGradients) kept.logits = tf.keep(logits);
        return o.total as tf.Scalar;
      }, [...model.trainableVariables(), variable])
    );
    if (state.y !== y) state.y.dispose();
    if (state.z !== z) state.z.dispose();
    return { value, grads, kept: kept! };
  }

  /**
   * Gradient accumulation: {@linkcode #pass} on consecutive ranges of `micro` rows, the gradients and
   * objectives summed, the per-row outputs concatenated back to [B, ...] in slot order.
   */
  #accumulate(inputs: StepInputs, y: Tensor, z: Tensor, micro: number): Pass {
    const b = this.slots.batch;
    const passes: Pass[] = [];
    let grads: Record<string, Tensor> = {};
    let value: Tensor | null = null;
    try {
      for (let i0 = 0; i0 < b; i0 += micro) {
        const n = Math.min(micro, b - i0);
        const rows = (t: Tensor) => tf.slice(t, i0, n); // rows i0 .. i0 + n - 1 along axis 0
        const part: StepInputs = {
          fresh: inputs.fresh.subarray(i0, i0 + n),
          tokens: rows(inputs.tokens),
          stepIndex: inputs.stepIndex && rows(inputs.stepIndex),
          tensors: inputs.tensors.map(rows),
        };
        const py = rows(y);
        const pz = rows(z);
        let p: Pass;
        try {
          p = this.#pass(part, py, pz, [i0, n]);
        } finally {
          for (const t of [part.tokens, ...(part.stepIndex ? [part.stepIndex] : []), ...part.tensors, py, pz]) {
            t.dispose();
          }
        }
        passes.push(p);
        const sum: Tensor = value === null ? p.value : tf.add(value, p.value);
        if (value !== null) {
          value.dispose();
          p.value.dispose();
        }
        value = sum;
        const next: Record<string, Tensor> = {};
        for (const [name, g] of Object.entries(p.grads)) {
          next[name] = grads[name] ? tf.add(grads[name], g) : g;
          if (grads[name]) {
            grads[name].dispose();
            g.dispose();
          }
        }
        grads = next;
      }
      const cat = (pick: (k: Pass["kept"]) => Tensor) => {
        const out = tf.concat(passes.map((p) => pick(p.kept)), 0);
        for (const p of passes) pick(p.kept).dispose();
        return out;
      };
      const kept: Pass["kept"] = {
        y: cat((k) => k.y),
        z: cat((k) => k.z),
        carry: cat((k) => k.carry),
        perSlot: cat((k) => k.perSlot),
      };
      if (passes[0].kept.logits) kept.logits = cat((k) => k.logits!);
      return { value: value!, grads, kept };
    } catch (e) {
      for (const t of Object.values(grads)) t.dispose();
      value?.dispose();
      throw e;
    }
  }

  /** The method's own state beyond y, z, the slots and the counters (DIS: the paths and predictions). */
  protected async extraState(): Promise<NamedArrays> {
    return await Promise.resolve({});
  }

  /** Checks the method's own saved host state before anything is restored (DIS: the paths). */
  protected checkExtra(_a: NamedArrays): void {}

  /**
   * Restores the method's own saved state: returns the tensors it restores (disposed by the caller if a
   * later check fails) and a function that installs them. Nothing of the trainer changes here.
   */
  protected restoreExtra(_a: NamedArrays): { tensors: Tensor[]; install: () => void } {
    return { tensors: [], install: () => {} };
  }

  /** Everything needed to resume: y, z, the slots and the method's own state. Streams are the caller's. */
  async getState(): Promise<NamedArrays> {
    return {
      "carry.y": { shape: [...this.#y.shape], data: (await this.#y.data()) as Float32Array },
      "carry.z": { shape: [...this.#z.shape], data: (await this.#z.data()) as Float32Array },
      ...this.slots.toArrays("carry."),
      ...(await this.extraState()),
      "carry.forward_passes": forwardStatsArray(this.#stats),
    };
  }

  /** Restores a state from {@linkcode getState}; a bad state leaves the trainer as it was. */
  setState(a: NamedArrays): void {
    this.checkExtra(a);
    const shape = [...this.#y.shape];
    const made: Tensor[] = [];
    let extra: { tensors: Tensor[]; install: () => void } | undefined;
    try {
      made.push(restoreTensor(a, "carry.y", shape, "float32"));
      made.push(restoreTensor(a, "carry.z", shape, "float32"));
      extra = this.restoreExtra(a);
      made.push(...extra.tensors);
      this.slots.fromArrays(a, "carry.");
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    this.#y.dispose();
    this.#z.dispose();
    this.#y = made[0];
    this.#z = made[1];
    extra.install();
    this.#stats = forwardStatsFrom(a["carry.forward_passes"]);
  }

  /** Frees the carried state and the puzzle-row variable; subclasses free their own first. */
  dispose(): void {
    this.#y.dispose();
    this.#z.dispose();
    this.rows.dispose();
  }
}
