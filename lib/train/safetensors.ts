/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 header
 * size N, N bytes of UTF-8 JSON (`{"__metadata__": {..}, name: {"dtype", "shape", "data_offsets"}}`,
 * padded with spaces), then the tensors' bytes, contiguous, in the order of their offsets.
 *
 * We write tensors sorted by dtype width (widest first, as the reference implementation does) and then
 * by name, with the header padded to a multiple of 8 bytes, so every tensor starts aligned to its width
 * and the same tensors always give the same bytes. Files are streamed to and from disk in chunks and
 * hashed (SHA-256) on the way, so a 1 GB puzzle-embedding table needs no second buffer.
 *
 * Only the dtypes the project stores are supported: F32, I32 and U8.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { writeStreamAtomic } from "../io/mod.ts";

/** The dtypes we read and write. */
export type SafeDtype = "F32" | "I32" | "U8";
/** A host array of one of the supported dtypes. */
export type HostArray = Float32Array | Int32Array | Uint8Array;
/** A tensor in host memory: row-major data and its shape. */
export interface HostTensor {
  /** Dimensions, outermost first. */
  shape: number[];
  /** The values, row-major; as many as the product of `shape`. */
  data: HostArray;
}
/** Named host tensors, the unit a safetensors file holds. */
export type TensorMap = Record<string, HostTensor>;
/** Size and SHA-256 (hex) of a file's bytes. */
export interface FileDigest {
  /** File size in bytes. */
  bytes: number;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
}
/** A decoded safetensors file. */
export interface SafetensorsContent {
  /** The tensors by name. */
  tensors: TensorMap;
  /** The header's `__metadata__` strings (empty when there are none). */
  metadata: Record<string, string>;
}

const WIDTH: Record<SafeDtype, number> = { F32: 4, I32: 4, U8: 1 };
const CHUNK = 16 << 20;
/** A header larger than this is refused as corrupt (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  // Typed arrays use the host byte order and the format is little-endian; every platform Deno ships
  // for is little-endian, so a big-endian host is refused rather than silently byte-swapped.
  if (!LITTLE_ENDIAN) throw new Error("Cannot use safetensors: this host is big-endian");
}

/** The safetensors dtype of a host array. */
export function dtypeOf(data: HostArray): SafeDtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Uint8Array) return "U8";
  throw new TypeError(`Cannot store array of type ${(data as object).constructor?.name}: expected F32, I32 or U8`);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function bytesOf(data: HostArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

interface Planned {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  bytes: Uint8Array;
}

interface Plan {
  head: Uint8Array;
  entries: Planned[];
  total: number;
}

function plan(tensors: TensorMap, metadata: Record<string, string>): Plan {
  requireLittleEndian();
  const entries: Planned[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "" || name === "__metadata__" || name === "__proto__") {
      throw new RangeError(`Cannot write safetensors: invalid tensor name "${name}"`);
    }
    const dtype = dtypeOf(t.data);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`Cannot write safetensors: tensor "${name}" has shape [${t.shape}]`);
    }
    if (numel(t.shape) !== t.data.length) {
      throw new RangeError(
        `Cannot write safetensors: tensor "${name}" has ${t.data.length} values, shape [${t.shape}] needs ${
          numel(t.shape)
        }`,
      );
    }
    entries.push({ name, dtype, shape: [...t.shape], bytes: bytesOf(t.data) });
  }
  entries.sort((a, b) => WIDTH[b.dtype] - WIDTH[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const meta: Record<string, string> = {};
  for (const k of Object.keys(metadata).sort()) {
    if (typeof metadata[k] !== "string") {
      throw new TypeError(`Cannot write safetensors: metadata "${k}" must be a string`);
    }
    meta[k] = metadata[k];
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const head = new Uint8Array(8 + padded).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, entries, total: head.length + offset };
}

/**
 * Encodes tensors as one safetensors byte buffer.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, { format: "pt" });
 * decodeSafetensors(bytes).tensors.w.data; // Float32Array [1, 2]
 * ```
 */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const p = plan(tensors, metadata);
  const out = new Uint8Array(p.total);
  out.set(p.head, 0);
  let pos = p.head.length;
  for (const e of p.entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(
  json: Uint8Array,
  dataBytes: number,
): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw new SyntaxError(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new SyntaxError("header is not a JSON object");
  }
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new SyntaxError(`"__metadata__" is not an object`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SyntaxError(`metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (name === "__proto__") throw new SyntaxError(`tensor name "__proto__" is not allowed`);
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof r !== "object" || r === null) throw new SyntaxError(`tensor "${name}" is not an object`);
    if (typeof r.dtype !== "string" || !(r.dtype in WIDTH)) {
      throw new SyntaxError(`tensor "${name}" has dtype ${JSON.stringify(r.dtype)}, expected F32, I32 or U8`);
    }
    const dtype = r.dtype as SafeDtype;
    if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SyntaxError(`tensor "${name}" has shape ${JSON.stringify(r.shape)}`);
    }
    const off = r.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      off[1] < off[0]
    ) {
      throw new SyntaxError(`tensor "${name}" has data_offsets ${JSON.stringify(off)}`);
    }
    const want = numel(r.shape) * WIDTH[dtype];
    if (off[1] - off[0] !== want) {
      throw new SyntaxError(
        `tensor "${name}" spans ${off[1] - off[0]} bytes, its ${dtype} shape [${r.shape}] needs ${want}`,
      );
    }
    entries.push({ name, dtype, shape: r.shape as number[], begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos) {
      throw new SyntaxError(`tensor "${e.name}" starts at byte ${e.begin}, expected ${pos} (data must be contiguous)`);
    }
    pos = e.end;
  }
  if (pos !== dataBytes) throw new SyntaxError(`the tensors cover ${pos} data bytes, the file holds ${dataBytes}`);
  return { entries, metadata };
}

function alloc(dtype: SafeDtype, count: number): HostArray {
  switch (dtype) {
    case "F32":
      return new Float32Array(count);
    case "I32":
      return new Int32Array(count);
    case "U8":
      return new Uint8Array(count);
  }
}

function headerSize(prefix: Uint8Array, available: number): number {
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, available))) {
    throw new SyntaxError(`header size ${n} exceeds the ${available} bytes after the size field`);
  }
  return Number(n);
}

/**
 * Decodes a safetensors byte buffer, validating the layout; format errors are `SyntaxError`s.
 * The returned arrays are copies (they do not alias `bytes`).
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  requireLittleEndian();
  if (bytes.length < 8) throw new SyntaxError(`${bytes.length} bytes is too short for the 8-byte header size`);
  const n = headerSize(bytes.subarray(0, 8), bytes.length - 8);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n);
  const tensors: TensorMap = {};
  const base = 8 + n;
  for (const e of entries) {
    const data = alloc(e.dtype, numel(e.shape));
    bytesOf(data).set(bytes.subarray(base + e.begin, base + e.end));
    tensors[e.name] = { shape: e.shape, data };
  }
  return { tensors, metadata };
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array, hash: Hash): Promise<void> {
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const chunk = bytes.subarray(start, Math.min(bytes.length, start + CHUNK));
    hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += await f.write(chunk.subarray(off));
  }
}

/**
 * Writes tensors to a safetensors file, streaming each tensor's bytes (no whole-file buffer), and
 * returns the file's size and SHA-256. The file is written to a temporary sibling, flushed, then
 * renamed over `path`, so a reader never sees a partial file.
 *
 * @example
 * ```ts
 * import { writeSafetensorsFile } from "./safetensors.ts";
 * const path = (await Deno.makeTempDir()) + "/model.safetensors";
 * const { bytes, sha256 } = await writeSafetensorsFile(path, { w: { shape: [1], data: new Float32Array([3]) } });
 * ```
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorMap,
  metadata: Record<string, string> = {},
): Promise<FileDigest> {
  const p = plan(tensors, metadata);
  const hash = createHash("sha256");
  await writeStreamAtomic(path, async (f) => {
    await writeAll(f, p.head, hash);
    for (const e of p.entries) await writeAll(f, e.bytes, hash);
  });
  return { bytes: p.total, sha256: hash.digest("hex") };
}

async function readExactly(f: Deno.FsFile, into: Uint8Array, hash: Hash): Promise<void> {
  let off = 0;
  while (off < into.length) {
    const n = await f.read(into.subarray(off, Math.min(into.length, off + CHUNK)));
    if (n === null) throw new SyntaxError(`the file ends early (${into.length - off} bytes missing)`);
    hash.update(into.subarray(off, off + n));
    off += n;
  }
}

/**
 * Reads a safetensors file straight into freshly allocated typed arrays, hashing the bytes as they
 * arrive. Format errors are `SyntaxError`s; a missing file is `Deno.errors.NotFound`.
 *
 * @example
 * ```ts
 * import { readSafetensorsFile, writeSafetensorsFile } from "./safetensors.ts";
 * const path = (await Deno.makeTempDir()) + "/t.safetensors";
 * await writeSafetensorsFile(path, { ids: { shape: [2], data: new Int32Array([4, 5]) } });
 * const { tensors, digest } = await readSafetensorsFile(path);
 * ```
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContent & { digest: FileDigest }> {
  requireLittleEndian();
  const f = await Deno.open(path, { read: true });
  try {
    const size = (await f.stat()).size;
    const hash = createHash("sha256");
    if (size < 8) throw new SyntaxError(`${size} bytes is too short for the 8-byte header size`);
    const prefix = new Uint8Array(8);
    await readExactly(f, prefix, hash);
    const n = headerSize(prefix, size - 8);
    const json = new Uint8Array(n);
    await readExactly(f, json, hash);
    const { entries, metadata } = parseHeader(json, size - 8 - n);
    const tensors: TensorMap = {};
    for (const e of entries) {
      const data = alloc(e.dtype, numel(e.shape));
      await readExactly(f, bytesOf(data), hash);
      tensors[e.name] = { shape: e.shape, data };
    }
    return { tensors, metadata, digest: { bytes: size, sha256: hash.digest("hex") } };
  } finally {
    f.close();
  }
}

/**
 * SHA-256 and size of a file, streamed in chunks.
 *
 * @example
 * ```ts
 * import { hashFile } from "./safetensors.ts";
 * const path = await Deno.makeTempFile();
 * (await hashFile(path)).sha256; // "e3b0c442..." (the empty file)
 * ```
 */
export async function hashFile(path: string): Promise<FileDigest> {
  const f = await Deno.open(path, { read: true });
  try {
    const hash = createHash("sha256");
    const buf = new Uint8Array(CHUNK);
    let bytes = 0;
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
    return { bytes, sha256: hash.digest("hex") };
  } finally {
    f.close();
  }
}
