/**
 * The recursive model shared by TRM and DIS: input embedding with a puzzle-embedding prefix, one small
 * network `net` (a stack of TRM-Att blocks) used for both the latent and the answer update, the LM head
 * and, for TRM, the Q (halting) head.
 *
 * Legend: B = batch, L = sequence length, P = puzzle-prefix positions, S = P + L, D = width,
 * V = vocabulary, x = embedded input, y = answer state (TRM code's z_H), z = latent state (z_L).
 *
 * Variables and their layouts (names are stable; they key checkpoints and optimiser state):
 *
 * | name                          | shape    | note                                                  |
 * |-------------------------------|----------|-------------------------------------------------------|
 * | `embed_tokens.weight`         | [V, D]   | as PyTorch's embedding table                          |
 * | `step_embed.weight`           | [R, D]   | DIS only: step-index table (code: `timestep_embed`)   |
 * | `blocks.{i}.attn.qkv.weight`  | [D, 3D]  | [in, out]: transpose of torch's `qkv_proj.weight`     |
 * | `blocks.{i}.attn.o.weight`    | [D, D]   | [in, out]                                             |
 * | `blocks.{i}.mlp.gate_up.weight` | [D, 2I] | [in, out], columns [gate, up]                        |
 * | `blocks.{i}.mlp.down.weight`  | [I, D]   | [in, out]                                             |
 * | `lm_head.weight`              | [D, V]   | [in, out]                                             |
 * | `q_head.weight`, `.bias`      | [D, 2], [2] | TRM only; columns [halt, continue]                |
 * | `y_init`, `z_init`            | [D]      | fixed buffers (code: H_init, L_init), not trained     |
 * | `puzzle_emb.weight`           | [N, D]   | host table ({@linkcode RecursiveModel.puzzleTable}), or on the device |
 *
 * @module
 */
import {
  deviceSignSgdAvailable,
  dropHostCopy,
  embed,
  linear,
  type NamedArrays,
  signSgdRowsInPlace,
  type Tensor,
  tf,
  type Variable,
} from "../backend/mod.ts";
import type { Rng } from "../random/mod.ts";
import { type BackboneConfig, type ParamCount, paramCount, swigluHidden } from "./config.ts";
import { block, type BlockWeights, ropeTables } from "./layers.ts";
import { truncNormal } from "./_init.ts";

/** Named float32 arrays, as checkpoints store them. */
export type { NamedArrays };

interface VarSpec {
  name: string;
  shape: number[];
  trainable: boolean;
  init: (rng: Rng) => Float32Array;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Options for {@linkcode RecursiveModel}. */
export interface ModelOptions {
  /** The "init" stream of the run's seed. Weights are drawn from it in the order of the table above. */
  rng: Rng;
  /**
   * Prefix for the tfjs variable names, which must be unique in the process. Leave empty for the model
   * a run trains (the names then equal the stable names); set it to build a second model beside it.
   */
  scope?: string;
}

/**
 * The TRM-Att model's weights and its building blocks. It owns its variables: call `dispose()`.
 *
 * @example
 * ```ts
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { stream } from "../random/mod.ts";
 * import { BACKBONE_DEFAULTS, RecursiveModel } from "./mod.ts";
 * await initBackend("cpu");
 * const m = new RecursiveModel({ ...BACKBONE_DEFAULTS, hidden: 32, heads: 4, layers: 1, mlpMultiple: 32,
 *   vocabSize: 3, seqLen: 4, numPuzzleIds: 1, puzzleEmbLen: 2 }, { rng: stream(0, "init") });
 * m.paramCount().total; // trainable parameters, puzzle table excluded
 * m.dispose();
 * ```
 */
export class RecursiveModel {
  /** The backbone it was built with (a copy). */
  readonly config: BackboneConfig;
  readonly #hostTable: Float32Array;
  /** The table on the device, once {@linkcode RecursiveModel.puzzleTableToDevice} has moved it there. */
  #deviceTable: Tensor | null = null;
  /** The device table has changed since the host copy was last read back. */
  #hostStale = false;
  /** Prefix of its tfjs variable names (`opts.scope`, default empty). */
  readonly scope: string;
  /** SwiGLU hidden width, from `expansion` and `mlpMultiple` (TRM's rounding). */
  readonly mlpHidden: number;
  #vars = new Map<string, Variable>();
  #rope: { cos: Tensor; sin: Tensor };
  #blocks: BlockWeights[] = [];
  #disposed = false;

  /**
   * Creates every variable from `opts.rng`, in a fixed order. Throws when a variable name is taken in the process
   * (another model with the same scope).
   */
  constructor(config: BackboneConfig, opts: ModelOptions) {
    this.config = { ...config };
    this.scope = opts.scope ?? "";
    const d = config.hidden;
    const v = config.vocabSize;
    const inter = swigluHidden(d, config.expansion, config.mlpMultiple);
    this.mlpHidden = inter;
    const lecun = (fanIn: number) => (rng: Rng, n: number) => truncNormal(rng, n, 1 / Math.sqrt(fanIn));
    const specs: VarSpec[] = [];
    const add = (name: string, shape: number[], trainable: boolean, f: (rng: Rng, n: number) => Float32Array) =>
      specs.push({ name, shape, trainable, init: (rng) => f(rng, size(shape)) });
    add("embed_tokens.weight", [v, d], true, lecun(d)); // std 1/sqrt(D), as TRM's embed_init_std
    if (config.stepEmbedRows > 0) add("step_embed.weight", [config.stepEmbedRows, d], true, lecun(d));
    for (let i = 0; i < config.layers; i++) {
      add(`blocks.${i}.attn.qkv.weight`, [d, 3 * d], true, lecun(d));
      add(`blocks.${i}.attn.o.weight`, [d, d], true, lecun(d));
      add(`blocks.${i}.mlp.gate_up.weight`, [d, 2 * inter], true, lecun(d));
      add(`blocks.${i}.mlp.down.weight`, [inter, d], true, lecun(inter));
    }
    add("lm_head.weight", [d, v], true, lecun(d));
    if (config.qHead) {
      // TRM starts the Q head at weight 0, bias -5, so that nothing halts early in training.
      add("q_head.weight", [d, 2], true, (_r, n) => new Float32Array(n));
      add("q_head.bias", [2], true, (_r, n) => new Float32Array(n).fill(-5));
    }
    add("y_init", [d], false, (rng, n) => truncNormal(rng, n, 1));
    add("z_init", [d], false, (rng, n) => truncNormal(rng, n, 1));
    for (const s of specs) {
      const full = this.scope + s.name;
      const values = s.init(opts.rng);
      const initial = tf.tensor(values, s.shape, "float32");
      try {
        this.#vars.set(s.name, tf.variable(initial, s.trainable, full));
      } catch (e) {
        initial.dispose();
        this.dispose();
        throw new Error(
          `Cannot create model variable "${full}": ${(e as Error).message}. Dispose the other model first, ` +
            `or give this one a distinct scope`,
          { cause: e },
        );
      }
      initial.dispose();
    }
    for (let i = 0; i < config.layers; i++) {
      this.#blocks.push({
        qkv: this.v(`blocks.${i}.attn.qkv.weight`),
        o: this.v(`blocks.${i}.attn.o.weight`),
        gateUp: this.v(`blocks.${i}.mlp.gate_up.weight`),
        down: this.v(`blocks.${i}.mlp.down.weight`),
      });
    }
    const positions = config.puzzleEmbLen + config.seqLen;
    const hd = d / config.heads;
    const { cos, sin } = ropeTables(positions, hd, config.ropeTheta);
    this.#rope = { cos: tf.tensor3d(cos, [positions, 1, hd]), sin: tf.tensor3d(sin, [positions, 1, hd]) };
    this.#hostTable = new Float32Array(config.numPuzzleIds * d);
  }

  /**
   * The puzzle-embedding table [numPuzzleIds, D], row-major, in host memory; the host sign-SGD updates it in
   * place. With the table on the device this is a copy, valid until the next device update: reading it
   * then throws (a stale table must not reach a checkpoint or an evaluation) until
   * {@linkcode RecursiveModel.syncPuzzleTable} has read the device table back.
   */
  get puzzleTable(): Float32Array {
    if (this.#hostStale) {
      throw new Error(
        "Cannot use the host puzzle table: the table lives on the device and has changed since it was last " +
          "read back; await model.syncPuzzleTable() first",
      );
    }
    return this.#hostTable;
  }

  /** Whether the puzzle table lives on the device (rows gathered and sign-SGD applied there). */
  get puzzleTableOnDevice(): boolean {
    return this.#deviceTable !== null;
  }

  /**
   * Moves the puzzle table to the device (webgpu): the trainers then gather the batch's rows there and
   * apply sign-SGD there, with no readback of the row gradient per step. The host copy goes stale with the
   * first update; {@linkcode RecursiveModel.syncPuzzleTable} reads it back (before a checkpoint or an
   * evaluation that reads {@linkcode RecursiveModel.puzzleRows}). From here on, writes into the host array
   * do not reach the device table: load a table with {@linkcode RecursiveModel.setWeights}.
   */
  puzzleTableToDevice(): void {
    if (this.#deviceTable) return;
    if (!deviceSignSgdAvailable()) {
      throw new Error(
        `Cannot move the puzzle table to the device: the ${tf.getBackend()} backend has no device sign-SGD ` +
          `kernel (webgpu only)`,
      );
    }
    // A copy: tfjs would otherwise keep a reference to the host array until the first upload.
    this.#deviceTable = tf.tensor2d(this.#hostTable.slice(), [this.config.numPuzzleIds, this.config.hidden]);
    this.#hostStale = false;
  }

  /** Reads the device table back into the host copy when it has changed (one readback); else nothing. */
  async syncPuzzleTable(): Promise<void> {
    if (!this.#deviceTable || !this.#hostStale) return;
    const t = this.#deviceTable;
    this.#hostTable.set((await t.data()) as Float32Array);
    // tfjs keeps what it read as a host cache beside the buffer; the table can be gigabytes (ARC).
    dropHostCopy(t);
    this.#hostStale = false;
  }

  /** Brings the table back to host memory (reading it back first) and frees the device copy. */
  async puzzleTableToHost(): Promise<void> {
    await this.syncPuzzleTable();
    this.#deviceTable?.dispose();
    this.#deviceTable = null;
  }

  /**
   * The rows of `ids` as a new [B, D] tensor: gathered on the device where the table lives there, else
   * uploaded from the host table. Ids are checked against the table either way.
   */
  puzzleRowsTensor(ids: Int32Array): Tensor {
    if (!this.#deviceTable) return tf.tensor2d(this.puzzleRows(ids), [ids.length, this.config.hidden]);
    this.#checkIds(ids, "look up puzzle embedding");
    const table = this.#deviceTable;
    return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, "int32"))); // [B, D]
  }

  /**
   * One sign-SGD step on the device table from the batch's ids [B] and the gradient of their rows [B, D]:
   * the same update as lib/train's `SparseSignSGD` (float32 sums in batch order, decoupled weight decay).
   */
  applyPuzzleSignSgd(ids: Int32Array, grad: Tensor, lr: number, weightDecay: number): void {
    if (!this.#deviceTable) throw new Error("Cannot apply sign-SGD on the device: the puzzle table is on the host");
    signSgdRowsInPlace(this.#deviceTable, grad, ids, lr, weightDecay);
    this.#hostStale = true;
  }

  #checkIds(ids: ArrayLike<number>, action: string): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.config.numPuzzleIds) {
        throw new RangeError(
          `Cannot ${action}: id ${id} at batch row ${i} is outside 0..${this.config.numPuzzleIds - 1}`,
        );
      }
    }
  }

  /** A variable by its stable name. */
  v(name: string): Variable {
    const x = this.#vars.get(name);
    if (!x) {
      throw new RangeError(`Cannot find model variable "${name}": known are ${[...this.#vars.keys()].join(", ")}`);
    }
    return x;
  }

  /** Stable names of all variables (trainable and buffers), in creation order. */
  names(): string[] {
    return [...this.#vars.keys()];
  }

  /** The trainable variables (what the weight optimiser updates). */
  trainableVariables(): Variable[] {
    return [...this.#vars.values()].filter((x) => x.trainable);
  }

  /** The stable name of a variable of this model (its tfjs name without the scope). */
  stableName(v: Variable): string {
    return v.name.startsWith(this.scope) ? v.name.slice(this.scope.length) : v.name;
  }

  /** Parameter counts; the puzzle table is reported apart. */
  paramCount(): ParamCount {
    return paramCount(this.config);
  }

  /**
   * x = sqrt(D) * ([puzzle row, 0 x (P-1)] ++ embed(tokens) + step_embed[stepIdx]).
   * tokens: int32 [B, L]; puzzleRows: [B, D]; stepIdx: int32 [B] (DIS) or undefined. Returns [B, S, D].
   */
  inputEmbedding(tokens: Tensor, puzzleRows: Tensor, stepIdx?: Tensor): Tensor {
    const c = this.config;
    const [b] = tokens.shape;
    const tok = embed(tokens, this.v("embed_tokens.weight")); // [B, L, D]
    const parts = [puzzleRows.reshape([b, 1, c.hidden])]; // [B, 1, D]
    if (c.puzzleEmbLen > 1) parts.push(tf.zeros([b, c.puzzleEmbLen - 1, c.hidden])); // [B, P-1, D]
    let e = tf.concat([...parts, tok], 1); // [B, S, D]
    if (stepIdx !== undefined) {
      if (c.stepEmbedRows === 0) throw new Error("Cannot embed a step index: this model has no step_embed table");
      const st = embed(stepIdx, this.v("step_embed.weight")); // [B, D]
      e = tf.add(e, st.reshape([b, 1, c.hidden])); // [B, S, D]
    }
    return tf.mul(e, Math.sqrt(c.hidden));
  }

  /** One network application: the block stack on `h + injection`. [B, S, D] -> [B, S, D]. */
  net(h: Tensor, injection: Tensor): Tensor {
    let out = tf.add(h, injection); // [B, S, D]
    for (const w of this.#blocks) out = block(out, w, this.config.heads, this.#rope, this.config.normEps);
    return out;
  }

  /** LM head on the sequence part of y: [B, S, D] -> logits [B, L, V]. */
  lmLogits(y: Tensor): Tensor {
    const c = this.config;
    const [b] = y.shape;
    const seq = tf.slice(y, [0, c.puzzleEmbLen, 0], [b, c.seqLen, c.hidden]); // [B, L, D]
    return linear(seq, this.v("lm_head.weight")); // [B, L, V]
  }

  /** The halting logit from position 0 of y: [B, S, D] -> [B]. */
  qHaltLogits(y: Tensor): Tensor {
    if (!this.config.qHead) throw new Error("Cannot compute Q logits: this model has no q_head (DIS)");
    const [b] = y.shape;
    const first = tf.slice(y, [0, 0, 0], [b, 1, this.config.hidden]).reshape([b, this.config.hidden]); // [B, D]
    const q = tf.add(linear(first, this.v("q_head.weight")), this.v("q_head.bias")); // [B, 2]
    return tf.slice(q, [0, 0], [b, 1]).reshape([b]); // [B]
  }

  /** Fresh answer and latent states broadcast from y_init / z_init: two [B, S, D] tensors. */
  initialState(batch: number): { y: Tensor; z: Tensor } {
    const s = this.config.puzzleEmbLen + this.config.seqLen;
    const shape = [batch, s, this.config.hidden];
    return tf.tidy(() => ({
      y: tf.broadcastTo(this.v("y_init").reshape([1, 1, -1]), shape),
      z: tf.broadcastTo(this.v("z_init").reshape([1, 1, -1]), shape),
    }));
  }

  /** Gathers the puzzle-table rows of `ids` into a new Float32Array [ids.length, D]. */
  puzzleRows(ids: ArrayLike<number>): Float32Array {
    const d = this.config.hidden;
    this.#checkIds(ids, "look up puzzle embedding");
    const table = this.puzzleTable;
    const out = new Float32Array(ids.length * d);
    for (let i = 0; i < ids.length; i++) out.set(table.subarray(ids[i] * d, (ids[i] + 1) * d), i * d);
    return out;
  }

  /**
   * All variables (buffers included) by stable name, plus `puzzle_emb.weight` (a copy of the host table,
   * read back first where the table lives on the device).
   */
  async getWeights(opts: { puzzleTable?: boolean } = {}): Promise<NamedArrays> {
    const out: NamedArrays = {};
    for (const [name, v] of this.#vars) out[name] = { shape: [...v.shape], data: (await v.data()) as Float32Array };
    if (opts.puzzleTable ?? true) {
      await this.syncPuzzleTable();
      out["puzzle_emb.weight"] = {
        shape: [this.config.numPuzzleIds, this.config.hidden],
        data: this.puzzleTable.slice(),
      };
    }
    return out;
  }

  /**
   * Restores weights by stable name. Every variable must be present with its exact shape;
   * `puzzle_emb.weight` is optional (absent: the table is left as is).
   */
  setWeights(w: NamedArrays): void {
    const missing = this.names().filter((n) => !(n in w));
    if (missing.length > 0) throw new RangeError(`Cannot set model weights: missing ${missing.join(", ")}`);
    for (const [name, entry] of Object.entries(w)) {
      if (name === "puzzle_emb.weight") {
        const want = [this.config.numPuzzleIds, this.config.hidden];
        if (entry.shape.join() !== want.join()) {
          throw new RangeError(`Cannot set "puzzle_emb.weight": shape [${entry.shape}] but the model has [${want}]`);
        }
        this.#hostTable.set(entry.data);
        if (this.#deviceTable) {
          this.#deviceTable.dispose();
          this.#deviceTable = tf.tensor2d(this.#hostTable.slice(), [this.config.numPuzzleIds, this.config.hidden]);
          this.#hostStale = false;
        }
        continue;
      }
      const v = this.#vars.get(name);
      if (!v) throw new RangeError(`Cannot set model weights: unknown variable "${name}"`);
      if (entry.shape.join() !== v.shape.join() || entry.data.length !== size(v.shape)) {
        throw new RangeError(`Cannot set "${name}": shape [${entry.shape}] but the model has [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(entry.data, v.shape, "float32")));
    }
  }

  /** Frees every variable, the RoPE tables and the device puzzle table; a second call does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const v of this.#vars.values()) v.dispose();
    this.#vars.clear();
    this.#rope?.cos.dispose();
    this.#rope?.sin.dispose();
    this.#deviceTable?.dispose();
    this.#deviceTable = null;
  }
}
