/**
 * What a training step needs in memory, and the micro-batch (`train.micro_batch`, gradient accumulation)
 * that keeps it inside the backend's limit.
 *
 * The figures are estimates from the shapes, not measurements:
 * - parameters: float32 weights (lib/model `paramCount`), the optimiser's two moments, the EMA shadow;
 * - the puzzle table (on the host unless it lives on the device);
 * - the carry: y and z of every slot, [B, S, D] each, held between steps;
 * - activations per example: what the gradient tape keeps of the n + 1 network applications under
 *   gradient (per block and token about 20 D + 6 I values for the norms, QKV, rotations, projections and
 *   SwiGLU, and 3 H S for the attention scores and probabilities), the output head and loss (8 V per
 *   token), and one more application for the no-gradient cycles and the backward pass's transients.
 *
 * Limits: wasm's linear memory is 32-bit (4 GiB), which holds every tensor of the wasm backend; half of
 * it, less the weights, optimiser state and carry, goes to activations. webgpu reports no total, but
 * every tensor is one buffer, so the largest per-example tensor (the attention scores, [m, H, S, S])
 * times m must fit the adapter's `maxBufferSize` and `maxStorageBufferBindingSize`. The cpu backend
 * keeps tensors in JavaScript arrays: half the machine's memory. tensorflow(-gpu) reports no limit here.
 *
 * @module
 */
import type { BackboneConfig, MethodConfig } from "../model/mod.ts";
import { paramCount, swigluHidden } from "../model/mod.ts";
import { backboneConfig, methodConfig, type TrainConfig } from "./config.ts";

const FLOAT = 4;
const GIB = 2 ** 30;

/** Bytes one training run needs, by part (see the module doc for what each counts). */
export interface MemoryNeed {
  /** Trainable weights. */
  parameters: number;
  /** The optimiser's moments (two per weight). */
  optimizer: number;
  /** The EMA shadow (0 without EMA). */
  ema: number;
  /** The puzzle-embedding table. */
  puzzleTable: number;
  /** y and z of one slot, carried between steps. */
  carryPerExample: number;
  /** What one example's forward and backward pass holds at its peak. */
  activationsPerExample: number;
  /** The largest single tensor of one example (the attention scores or the SwiGLU hidden state). */
  largestTensorPerExample: number;
}

/**
 * The memory of a run of `backbone` trained with `method`.
 *
 * @example
 * ```ts
 * import { BACKBONE_DEFAULTS } from "../model/mod.ts";
 * import { memoryNeed } from "./memory.ts";
 * const b = { ...BACKBONE_DEFAULTS, hidden: 256, layers: 1, vocabSize: 3, seqLen: 64, numPuzzleIds: 1 };
 * memoryNeed(b, { nSup: 6, hCycles: 1, lCycles: 2 }, { ema: true }).activationsPerExample > 0; // true
 * ```
 */
export function memoryNeed(
  backbone: BackboneConfig,
  method: Pick<MethodConfig, "nSup" | "hCycles" | "lCycles">,
  opts: { ema: boolean },
): MemoryNeed {
  const p = paramCount(backbone);
  const s = backbone.seqLen + backbone.puzzleEmbLen;
  const d = backbone.hidden;
  const inter = swigluHidden(d, backbone.expansion, backbone.mlpMultiple);
  const perApplication = backbone.layers * s * (20 * d + 6 * inter + 3 * backbone.heads * s); // values
  const applications = method.lCycles + 1 + 1;
  const head = 8 * backbone.seqLen * backbone.vocabSize;
  return {
    parameters: p.total * FLOAT,
    optimizer: 2 * p.total * FLOAT,
    ema: opts.ema ? p.total * FLOAT : 0,
    puzzleTable: p.puzzleEmbBytes,
    carryPerExample: 2 * s * d * FLOAT,
    activationsPerExample: (applications * perApplication + head) * FLOAT,
    largestTensorPerExample: Math.max(backbone.heads * s * s, 2 * s * inter, s * d) * FLOAT,
  };
}

/** A backend's memory limit as {@linkcode chooseMicroBatch} uses it. */
export interface MemoryLimit {
  /** Bytes all tensors together may take (null = no known total). */
  totalBytes: number | null;
  /** Bytes one tensor may take (null = no known limit). */
  tensorBytes: number | null;
  /** Where the figures come from, for provenance. */
  source: string;
}

/** The facts of a backend {@linkcode backendMemoryLimit} reads (lib/backend `BackendInfo`). */
export interface BackendFacts {
  /** The backend's name (wasm, webgpu, cpu, ...). */
  name: string;
  /** Backend facts such as an adapter's buffer limits (webgpu: maxBufferSize, maxStorageBufferBindingSize). */
  details?: Record<string, string | number | boolean>;
}

/** wasm32's linear memory, which holds every tensor of the wasm backend. */
export const WASM_MEMORY_BYTES = 4 * GIB;

/**
 * The memory limit of a backend: wasm's 4 GiB, webgpu's adapter buffer limits, half the machine's memory
 * for cpu (`systemBytes`), none known for tensorflow(-gpu).
 *
 * @example
 * ```ts
 * import { backendMemoryLimit } from "./memory.ts";
 * backendMemoryLimit({ name: "wasm" }).totalBytes; // 4294967296
 * backendMemoryLimit({ name: "webgpu", details: { maxBufferSize: 2 ** 31 } }).tensorBytes; // 2147483648
 * ```
 */
export function backendMemoryLimit(backend: BackendFacts, systemBytes?: number): MemoryLimit {
  const details = backend.details ?? {};
  switch (backend.name) {
    case "wasm":
      return { totalBytes: WASM_MEMORY_BYTES, tensorBytes: null, source: "wasm32 linear memory (4 GiB)" };
    case "webgpu": {
      const limits = [details.maxBufferSize, details.maxStorageBufferBindingSize].filter((x) =>
        typeof x === "number" && x > 0
      ) as number[];
      return limits.length === 0
        ? { totalBytes: null, tensorBytes: null, source: "webgpu adapter (no buffer limits reported)" }
        : {
          totalBytes: null,
          tensorBytes: Math.min(...limits),
          source: `webgpu adapter maxBufferSize / maxStorageBufferBindingSize (${formatBytes(Math.min(...limits))})`,
        };
    }
    case "cpu":
      return systemBytes && systemBytes > 0
        ? {
          totalBytes: systemBytes / 2,
          tensorBytes: null,
          source: `half the machine's memory (${formatBytes(systemBytes)})`,
        }
        : { totalBytes: null, tensorBytes: null, source: "cpu (machine memory unknown)" };
    default:
      return { totalBytes: null, tensorBytes: null, source: `${backend.name} (no memory limit known)` };
  }
}

/** The micro-batch a run uses and why, as run.json records it. */
export interface MicroBatchChoice {
  /** Rows per forward/backward pass (= batch when there is no accumulation). */
  microBatch: number;
  /** Rows per optimiser step (train.batch_size). */
  batch: number;
  /** Passes per optimiser step. */
  passes: number;
  /** `config` (train.micro_batch) or `auto` (from the memory limit). */
  source: "config" | "auto";
  /** Why this micro-batch, in words (printed and recorded). */
  reason: string;
  /** The estimate and limit it was chosen from. */
  activationBytesPerExample: number;
  /** Bytes that do not shrink with the micro-batch: weights, gradients, optimiser state, carry. */
  fixedBytes: number;
  /** The memory limit the choice was made against. */
  limit: MemoryLimit;
}

/** Share of a backend's total memory given to the weights, optimiser state, carry and activations. */
export const MEMORY_BUDGET_SHARE = 0.5;

/**
 * The micro-batch of a run: `explicit` (train.micro_batch, capped at the batch) when set, else the
 * largest m <= batch whose activations (and largest tensor) fit the limit; the full batch when they do.
 * The weights, optimiser state, EMA and carry count against the same total.
 *
 * @example
 * ```ts
 * import { chooseMicroBatch, type MemoryNeed } from "./memory.ts";
 * const need: MemoryNeed = { parameters: 0, optimizer: 0, ema: 0, puzzleTable: 0, carryPerExample: 0,
 *   activationsPerExample: 2 ** 20, largestTensorPerExample: 1 };
 * const limit = { totalBytes: 2 ** 28, tensorBytes: null, source: "test" }; // 256 MiB: 128 MiB for 1 MiB rows
 * chooseMicroBatch(768, need, limit).microBatch; // 128
 * ```
 */
export function chooseMicroBatch(
  batch: number,
  need: MemoryNeed,
  limit: MemoryLimit,
  explicit?: number,
): MicroBatchChoice {
  const fixed = need.parameters + need.optimizer + need.ema + batch * need.carryPerExample;
  const base = { batch, activationBytesPerExample: need.activationsPerExample, fixedBytes: fixed, limit };
  const done = (m: number, source: "config" | "auto", reason: string): MicroBatchChoice => ({
    microBatch: m,
    passes: Math.ceil(batch / m),
    source,
    reason,
    ...base,
  });
  if (explicit !== undefined) {
    const m = Math.min(explicit, batch);
    return done(m, "config", `train.micro_batch = ${explicit}${explicit > batch ? ` (capped at the batch)` : ""}`);
  }
  let m = batch;
  const why: string[] = [];
  if (limit.totalBytes !== null) {
    const room = limit.totalBytes * MEMORY_BUDGET_SHARE - fixed;
    const fits = Math.floor(room / need.activationsPerExample);
    if (fits < m) {
      m = fits;
      why.push(
        `activations of about ${formatBytes(need.activationsPerExample)} per example and ${formatBytes(fixed)} of ` +
          `weights, optimiser state and carry within half of ${formatBytes(limit.totalBytes)}`,
      );
    }
  }
  if (limit.tensorBytes !== null) {
    const fits = Math.floor(limit.tensorBytes / need.largestTensorPerExample);
    if (fits < m) {
      m = fits;
      why.push(`its largest tensor (${formatBytes(need.largestTensorPerExample)} per example) within one buffer`);
    }
  }
  if (m >= batch) return done(batch, "auto", `the full batch fits ${limit.source}`);
  if (m < 1) {
    return done(1, "auto", `even one example may not fit ${limit.source}: ${why.join("; ")}`);
  }
  return done(m, "auto", `to fit ${limit.source}: ${why.join("; ")}`);
}

/**
 * Bytes as B, KiB, MiB, GiB or TiB with one decimal.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./memory.ts";
 * formatBytes(3 * 2 ** 30); // "3.0 GiB"
 * ```
 */
export function formatBytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, "TiB"], [GIB, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
  for (const [u, name] of units) if (n >= u) return `${(n / u).toFixed(1)} ${name}`;
  return `${Math.round(n)} B`;
}

/**
 * The micro-batch of a resolved run config on a backend: `train.micro_batch` when set, else the
 * automatic choice from {@linkcode memoryNeed} and {@linkcode backendMemoryLimit}.
 */
export function runMicroBatch(
  cfg: TrainConfig,
  data: { vocabSize: number; seqLen: number; numPuzzleIds: number },
  backend: BackendFacts,
  systemBytes?: number,
): MicroBatchChoice {
  const need = memoryNeed(backboneConfig(cfg, data), methodConfig(cfg), { ema: cfg.train.ema });
  return chooseMicroBatch(
    cfg.train.batch_size,
    need,
    backendMemoryLimit(backend, systemBytes),
    cfg.train.micro_batch,
  );
}
