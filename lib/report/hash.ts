/**
 * Content hashes: SHA-256 of bytes or text, and the canonical JSON that config and data hashes are
 * taken over. Canonical JSON has sorted keys, no whitespace and JavaScript's shortest round-trip number
 * form, so the same value always hashes the same whatever order its keys were built in.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * SHA-256 of bytes, or of a string's UTF-8 encoding, as 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * sha256Hex("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, `undefined` object members
 * left out (as `JSON.stringify` does). Non-finite numbers, `undefined` in arrays, bigints, functions
 * and symbols have no canonical form and throw a `TypeError` naming the key.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./hash.ts";
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return encode(value, "");
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`Cannot encode canonical JSON: key "${path || "(root)"}" is ${value}`);
      }
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => encode(v, path ? `${path}.${i}` : String(i))).join(",")}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `Cannot encode canonical JSON: key "${path || "(root)"}" is a ${value.constructor?.name ?? "object"}, ` +
            "expected a plain object",
        );
      }
      const parts: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${encode(v, path ? `${path}.${key}` : key)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(
        `Cannot encode canonical JSON: key "${path || "(root)"}" is ${
          value === undefined ? "undefined" : `a ${typeof value}`
        }`,
      );
  }
}
