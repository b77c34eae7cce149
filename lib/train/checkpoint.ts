/**
 * Training checkpoints: one directory per step, written atomically, with a `latest` pointer.
 *
 * ```
 * RUN/checkpoints/
 *   latest                  "step-000123\n", rewritten atomically after each checkpoint
 *   step-000123/
 *     model.safetensors     live weights (what training continues from); PyTorch-readable
 *     ema.safetensors       EMA weights, when EMA is on (what evaluation uses)
 *     optim.safetensors     optimizer moments and step counts
 *     extra.safetensors     caller's arrays: carry tensors, the puzzle-embedding table, ...
 *     state.json            format, version, step, config hash, PRNG states, sampler state, the
 *                           caller's JSON, the size and SHA-256 of every file, and its own checksum
 * ```
 *
 * The directory is built in a temporary sibling and renamed into place (lib/io replaceDirAtomic); the
 * pointer is written after it, and old checkpoints are pruned after that, so a run killed at any point
 * leaves `latest` naming a complete checkpoint. Loading refuses, with a {@linkcode CheckpointError}
 * that names the file and what is wrong: another config (hash mismatch), a missing, truncated or
 * altered file, invalid JSON, or a malformed safetensors file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { CheckpointError } from "../errors.ts";
import { exists, replaceDirAtomic, sweepStaleTemps, writeTextAtomic } from "../io/mod.ts";
import type { RngState } from "../random/mod.ts";
import {
  type FileDigest,
  hashFile,
  readSafetensorsFile,
  type SafetensorsContent,
  type TensorMap,
  writeSafetensorsFile,
} from "./safetensors.ts";

/** A JSON value (what `state.json` can hold for the caller). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Everything a checkpoint holds. */
export interface CheckpointState {
  /** Updates applied so far. */
  step: number;
  /** Hash of the resolved training config; resuming under another config is refused. */
  configHash: string;
  /** Live trainable weights, keyed by Variable name. */
  model: TensorMap;
  /** EMA shadow weights, when EMA is on. */
  ema?: TensorMap;
  /** Optimizer state (prefix the entries when there are several optimizers). */
  optim: TensorMap;
  /** Other arrays: carry tensors, the puzzle-embedding table, ... */
  extra: TensorMap;
  /** PRNG states by stream name. */
  rng: Record<string, RngState>;
  /** The sampler's position, as the sampler serialises it. */
  sampler: JsonValue;
  /** Anything else the caller needs to resume (carry metadata, counters). */
  json: JsonValue;
}

/** Where a checkpoint went, and how big it is. */
export interface SavedCheckpoint {
  /** The checkpoint folder written. */
  dir: string;
  /** The optimiser step it holds. */
  step: number;
  /** Its size on disk, in bytes. */
  bytes: number;
}

/** Format tag of a checkpoint's state.json. */
export const CHECKPOINT_FORMAT = "trm-dis-checkpoint";
/** Layout version of a checkpoint; a checkpoint of another version is refused. */
export const CHECKPOINT_VERSION = 1;
const SECTIONS = ["model", "ema", "optim", "extra"] as const;
type Section = typeof SECTIONS[number];
const REQUIRED: readonly Section[] = ["model", "optim", "extra"];
const STATE_FILE = "state.json";
const LATEST = "latest";
const STEP_DIR = /^step-(\d{6,})$/;

/** `step-000123` for step 123 (at least six digits; ordering is by the parsed number). */
export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/**
 * The step a checkpoint folder holds, read from its name (the inverse of {@linkcode checkpointDirName}),
 * without opening the checkpoint; null for a path whose last part is not such a name.
 *
 * @example
 * ```ts
 * import { checkpointStep } from "./checkpoint.ts";
 * checkpointStep("runs/x/checkpoints/step-000123"); // 123
 * ```
 */
export function checkpointStep(dir: string): number | null {
  const m = STEP_DIR.exec(basename(dir));
  return m ? Number(m[1]) : null;
}

function checkpointsDir(runDir: string): string {
  return join(runDir, "checkpoints");
}

/** JSON with object keys sorted at every level: the same state always gives the same bytes. */
function stableStringify(value: unknown, indent = ""): string {
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + stableStringify(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    if (keys.length === 0) return "{}";
    const body = keys.map((k) =>
      `${inner}${JSON.stringify(k)}: ${stableStringify((value as Record<string, unknown>)[k], inner)}`
    );
    return `{\n${body.join(",\n")}\n${indent}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`Cannot write checkpoint state: ${value} is not representable in JSON`);
  }
  const s = JSON.stringify(value);
  if (s === undefined) throw new TypeError(`Cannot write checkpoint state: a ${typeof value} is not JSON`);
  return s;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(new TextEncoder().encode(text)).digest("hex");
}

/** The state.json body without its checksum; the checksum covers exactly these bytes. */
function checksumOf(state: Record<string, unknown>): string {
  const { checksum: _, ...rest } = state;
  return sha256Hex(stableStringify(rest));
}

/**
 * Writes a checkpoint for `state.step` under `runDir/checkpoints/`, points `latest` at it, and removes
 * all but the newest `keepLast` checkpoints (default 2). Large arrays are streamed to disk.
 *
 * @example
 * ```ts
 * import { saveCheckpoint } from "./checkpoint.ts";
 * const runDir = await Deno.makeTempDir();
 * await saveCheckpoint(runDir, {
 *   step: 3, configHash: "abc", model: { w: { shape: [1], data: new Float32Array([1]) } },
 *   optim: {}, extra: {}, rng: {}, sampler: { epoch: 0, cursor: 96 }, json: null,
 * });
 * ```
 */
export async function saveCheckpoint(
  runDir: string,
  state: CheckpointState,
  opts: { keepLast?: number } = {},
): Promise<SavedCheckpoint> {
  const keepLast = opts.keepLast ?? 2;
  if (!(Number.isSafeInteger(state.step) && state.step >= 0)) {
    throw new RangeError(`Cannot save checkpoint: step must be an integer >= 0, got ${state.step}`);
  }
  if (typeof state.configHash !== "string" || state.configHash === "") {
    throw new RangeError("Cannot save checkpoint: configHash must be a non-empty string");
  }
  if (!(Number.isSafeInteger(keepLast) && keepLast >= 1)) {
    throw new RangeError(`Cannot save checkpoint: keepLast must be an integer >= 1, got ${keepLast}`);
  }
  const root = checkpointsDir(runDir);
  const name = checkpointDirName(state.step);
  const dir = join(root, name);
  const metadata = { format: "pt", step: String(state.step), config_hash: state.configHash };
  let bytes = 0;
  await replaceDirAtomic(dir, async (tmp) => {
    const files: Record<string, FileDigest> = {};
    for (const section of SECTIONS) {
      const tensors = state[section];
      if (tensors === undefined) continue;
      const file = `${section}.safetensors`;
      files[file] = await writeSafetensorsFile(join(tmp, file), tensors, metadata);
      bytes += files[file].bytes;
    }
    const body: Record<string, unknown> = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: state.step,
      configHash: state.configHash,
      rng: state.rng,
      sampler: state.sampler,
      json: state.json,
      files,
    };
    body.checksum = checksumOf(body);
    const text = stableStringify(body) + "\n";
    await writeTextAtomic(join(tmp, STATE_FILE), text);
    bytes += new TextEncoder().encode(text).length;
  });
  await writeTextAtomic(join(root, LATEST), name + "\n");
  await prune(root, keepLast, state.step);
  return { dir, step: state.step, bytes };
}

async function listSteps(root: string): Promise<{ name: string; step: number }[]> {
  const out: { name: string; step: number }[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      const m = e.isDirectory ? STEP_DIR.exec(e.name) : null;
      if (m) out.push({ name: e.name, step: Number(m[1]) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => b.step - a.step);
}

async function prune(root: string, keepLast: number, current: number): Promise<void> {
  const steps = await listSteps(root);
  const keep = new Set(steps.slice(0, keepLast).map((s) => s.step));
  keep.add(current);
  for (const s of steps) {
    if (!keep.has(s.step)) await Deno.remove(join(root, s.name), { recursive: true });
  }
  // Temporary folders left by a run killed mid-write (lib/io names them ".<dir>.tmp-<pid>-<n>"); only those
  // whose process is gone, so a live writer's half-written checkpoint is never taken from it.
  await sweepStaleTemps(root, { target: STEP_DIR });
}

/**
 * The newest checkpoint of a run: the one `checkpoints/latest` names, or, without a pointer (a run
 * killed between its first checkpoint and the pointer), the highest-numbered complete directory.
 * Returns null when the run has no checkpoint. A pointer naming a missing checkpoint is an error.
 *
 * @example
 * ```ts
 * import { findLatestCheckpoint } from "./checkpoint.ts";
 * await findLatestCheckpoint(await Deno.makeTempDir()); // null
 * ```
 */
export async function findLatestCheckpoint(runDir: string): Promise<string | null> {
  const root = checkpointsDir(runDir);
  let pointer: string | null = null;
  try {
    pointer = (await Deno.readTextFile(join(root, LATEST))).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (pointer !== null) {
    if (!STEP_DIR.test(pointer)) {
      throw new CheckpointError(
        `Cannot find the latest checkpoint in "${root}": "${LATEST}" holds "${pointer}", expected a name like step-000123`,
      );
    }
    const dir = join(root, pointer);
    if (!(await exists(join(dir, STATE_FILE)))) {
      throw new CheckpointError(
        `Cannot find the latest checkpoint in "${root}": "${LATEST}" names "${pointer}", which has no ${STATE_FILE}`,
      );
    }
    return dir;
  }
  for (const s of await listSteps(root)) {
    const dir = join(root, s.name);
    if (await exists(join(dir, STATE_FILE))) return dir;
  }
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isRngState(v: unknown): v is RngState {
  if (!isRecord(v) || !Array.isArray(v.s) || v.s.length !== 4) return false;
  if (!v.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) return false;
  return v.spare === null || typeof v.spare === "number";
}

/**
 * Loads and verifies a checkpoint directory: `state.json` (valid JSON, format, version, its checksum,
 * the config hash when `expectedConfigHash` is given), then every file it lists (present, the right
 * size, the right SHA-256, valid safetensors). Anything wrong is a {@linkcode CheckpointError} that
 * names the file.
 *
 * @example
 * ```ts
 * import { findLatestCheckpoint, loadCheckpoint } from "./checkpoint.ts";
 * const dir = await findLatestCheckpoint("runs/example");
 * if (dir) {
 *   const state = await loadCheckpoint(dir, { expectedConfigHash: "abc" });
 * }
 * ```
 */
export async function loadCheckpoint(
  dir: string,
  opts: { expectedConfigHash?: string } = {},
): Promise<CheckpointState> {
  const fail = (what: string, cause?: unknown): never => {
    throw new CheckpointError(`Cannot load checkpoint "${dir}": ${what}`, cause ? { cause } : undefined);
  };
  let text = "";
  try {
    text = await Deno.readTextFile(join(dir, STATE_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(`file "${STATE_FILE}" is missing`, e);
    fail(`file "${STATE_FILE}" cannot be read (${(e as Error).message})`, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`file "${STATE_FILE}" is not valid JSON (${(e as Error).message})`, e);
  }
  if (!isRecord(parsed)) return fail(`file "${STATE_FILE}" does not hold a JSON object`);
  const s = parsed;
  if (s.format !== CHECKPOINT_FORMAT) {
    fail(`file "${STATE_FILE}" has format ${JSON.stringify(s.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (s.version !== CHECKPOINT_VERSION) {
    fail(`file "${STATE_FILE}" has version ${JSON.stringify(s.version)}, this build reads ${CHECKPOINT_VERSION}`);
  }
  const sum = checksumOf(s);
  if (s.checksum !== sum) {
    fail(`file "${STATE_FILE}" is corrupt (checksum ${JSON.stringify(s.checksum)}, its content hashes to "${sum}")`);
  }
  if (typeof s.configHash !== "string") fail(`file "${STATE_FILE}" has no configHash`);
  const configHash = s.configHash as string;
  if (opts.expectedConfigHash !== undefined && configHash !== opts.expectedConfigHash) {
    fail(
      `it was written under another config (config hash "${configHash}" in ${STATE_FILE}, this run's is ` +
        `"${opts.expectedConfigHash}")`,
    );
  }
  if (!(Number.isSafeInteger(s.step) && (s.step as number) >= 0)) {
    fail(`file "${STATE_FILE}" has step ${JSON.stringify(s.step)}, expected an integer >= 0`);
  }
  if (!isRecord(s.rng) || !Object.values(s.rng).every(isRngState)) {
    fail(`file "${STATE_FILE}" has malformed "rng" (expected {name: {s: [4 x u32], spare}})`);
  }
  if (!isRecord(s.files)) return fail(`file "${STATE_FILE}" has no "files" table`);
  const files = s.files;
  const loaded: Partial<Record<Section, TensorMap>> = {};
  for (const file of Object.keys(files).sort()) {
    const section = SECTIONS.find((x) => `${x}.safetensors` === file);
    if (!section) fail(`file "${STATE_FILE}" lists unknown file "${file}"`);
    const want = files[file] as FileDigest;
    if (!isRecord(want) || !Number.isSafeInteger(want.bytes) || typeof want.sha256 !== "string") {
      fail(`file "${STATE_FILE}" has a malformed entry for "${file}"`);
    }
    loaded[section!] = await readVerified(dir, file, want, fail);
  }
  for (const section of REQUIRED) {
    if (!loaded[section]) fail(`file "${STATE_FILE}" does not list "${section}.safetensors"`);
  }
  return {
    step: s.step as number,
    configHash,
    model: loaded.model!,
    ema: loaded.ema,
    optim: loaded.optim!,
    extra: loaded.extra!,
    rng: s.rng as Record<string, RngState>,
    sampler: (s.sampler ?? null) as JsonValue,
    json: (s.json ?? null) as JsonValue,
  };
}

async function readVerified(
  dir: string,
  file: string,
  want: FileDigest,
  fail: (what: string, cause?: unknown) => never,
): Promise<TensorMap> {
  const path = join(dir, file);
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(`file "${file}" is missing`, e);
    throw e;
  }
  if (size < want.bytes) fail(`file "${file}" is truncated (${size} bytes, expected ${want.bytes})`);
  if (size > want.bytes) fail(`file "${file}" has ${size} bytes, expected ${want.bytes}`);
  let content: SafetensorsContent & { digest: FileDigest };
  try {
    content = await readSafetensorsFile(path);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    // A parse failure is usually damage: say so when the bytes are not the ones written.
    const got = await hashFile(path);
    if (got.sha256 !== want.sha256) fail(corrupt(file, got.sha256, want.sha256), e);
    return fail(`file "${file}" is not a valid safetensors file (${e.message})`, e);
  }
  if (content.digest.sha256 !== want.sha256) fail(corrupt(file, content.digest.sha256, want.sha256));
  return content.tensors;
}

function corrupt(file: string, got: string, want: string): string {
  return `file "${file}" is corrupt (SHA-256 ${got.slice(0, 16)}..., expected ${want.slice(0, 16)}...)`;
}
