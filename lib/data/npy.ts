/**
 * NumPy `.npy` files (format version 1.0), written and read by hand: a magic string, a Python-literal
 * header padded to a multiple of 64 bytes, then the raw little-endian array in C order. Only the two
 * dtypes TRM's datasets use: `|u1` (uint8) and `<i4` (int32).
 *
 * @module
 */

/** The dtypes this module writes and reads. */
export type NpyDtype = "|u1" | "<i4";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function checkEndianness(): void {
  if (!LITTLE_ENDIAN) throw new Error("Cannot handle .npy int32 data: this platform is big-endian");
}

/**
 * The header bytes for an array of `shape`: magic, version 1.0, length, and the dict literal
 * `{'descr': ..., 'fortran_order': False, 'shape': (...), }` padded with spaces to a 64-byte boundary.
 *
 * @example
 * ```ts
 * import { npyHeader } from "./npy.ts";
 * npyHeader("|u1", [2, 900]).length % 64; // 0
 * ```
 */
export function npyHeader(dtype: NpyDtype, shape: number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = dict.length & 0xff;
  out[9] = dict.length >> 8;
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

/** The bytes of a typed array, as stored in a `.npy` body. */
export function npyBody(data: Uint8Array | Int32Array): Uint8Array {
  if (data instanceof Int32Array) checkEndianness();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A whole `.npy` file in memory. */
export function encodeNpy(data: Uint8Array | Int32Array, shape: number[]): Uint8Array {
  const dtype: NpyDtype = data instanceof Uint8Array ? "|u1" : "<i4";
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new RangeError(`Cannot write .npy: shape [${shape}] holds ${n} values, got ${data.length}`);
  }
  const header = npyHeader(dtype, shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(npyBody(data), header.length);
  return out;
}

/**
 * Parses a `.npy` file (version 1.x or 2.x, C order, `|u1` or `<i4`).
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * decodeNpy(encodeNpy(new Int32Array([1, 2, 3]), [3])).shape; // [3]
 * ```
 */
export function decodeNpy(bytes: Uint8Array): { dtype: NpyDtype; shape: number[]; data: Uint8Array | Int32Array } {
  for (let i = 0; i < 6; i++) {
    if (bytes[i] !== MAGIC[i]) throw new SyntaxError("Cannot read .npy: bad magic string");
  }
  const major = bytes[6];
  const lenBytes = major === 1 ? 2 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  const header = new TextDecoder().decode(bytes.subarray(8 + lenBytes, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if ((descr !== "|u1" && descr !== "<i4") || fortran !== "False" || shapeText === undefined) {
    throw new SyntaxError(`Cannot read .npy: unsupported header ${header.trim()}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const body = bytes.slice(start);
  if (descr === "|u1") {
    if (body.length !== n) throw new SyntaxError(`Cannot read .npy: expected ${n} bytes of data, got ${body.length}`);
    return { dtype: descr, shape, data: body };
  }
  checkEndianness();
  if (body.length !== 4 * n) {
    throw new SyntaxError(`Cannot read .npy: expected ${4 * n} bytes of data, got ${body.length}`);
  }
  return { dtype: descr, shape, data: new Int32Array(body.buffer, body.byteOffset, n) };
}
