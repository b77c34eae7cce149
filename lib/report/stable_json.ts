/**
 * Byte-stable JSON for results files. The rule:
 * - object keys sorted by UTF-16 code unit;
 * - safe integers written as integers, `-0` as `0`;
 * - every other number rounded to {@linkcode SIGNIFICANT_DIGITS} significant digits
 *   (`Number.prototype.toPrecision`, which ECMAScript specifies exactly) and written in JavaScript's
 *   shortest round-trip form, e.g. `0.333333`, `1.5e-7`;
 * - NaN and ±Infinity are errors naming the key (or, for metrics logs, the strings `"NaN"`,
 *   `"Infinity"`, `"-Infinity"`, so a diverged loss stays visible);
 * - two-space indentation; arrays whose items are all scalars stay on one line.
 *
 * @module
 */

/** Significant digits kept for non-integer numbers in results files. */
export const SIGNIFICANT_DIGITS = 6;

/** Options for {@linkcode stableJson}. */
export interface StableJsonOptions {
  /** `"error"` (default) rejects NaN and ±Infinity; `"string"` writes them as strings. */
  nonFinite?: "error" | "string";
  /** Pretty-print with two-space indentation (default true); false gives one line. */
  pretty?: boolean;
}

/**
 * Rounds a number by the results rule: safe integers unchanged (`-0` becomes `0`), others to
 * {@linkcode SIGNIFICANT_DIGITS} significant digits.
 *
 * @example
 * ```ts
 * import { roundStable } from "./stable_json.ts";
 * roundStable(2 / 3); // 0.666667
 * ```
 */
export function roundStable(x: number): number {
  if (Number.isSafeInteger(x)) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(SIGNIFICANT_DIGITS));
  return r === 0 ? 0 : r;
}

/**
 * Serialises a JSON-like value by the byte-stable rule in this module's header.
 *
 * @example
 * ```ts
 * import { stableJson } from "./stable_json.ts";
 * stableJson({ b: 1 / 3, a: [1, 2] }); // '{\n  "a": [1, 2],\n  "b": 0.333333\n}'
 * ```
 */
export function stableJson(value: unknown, options: StableJsonOptions = {}): string {
  const nonFinite = options.nonFinite ?? "error";
  const pretty = options.pretty ?? true;
  return encode(value, "", "", nonFinite, pretty);
}

function where(path: string): string {
  return path === "" ? "the top-level value" : `key "${path}"`;
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== "object";
}

function encode(value: unknown, path: string, indent: string, nonFinite: "error" | "string", pretty: boolean): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "string":
      return JSON.stringify(value);
    case "number": {
      if (!Number.isFinite(value)) {
        if (nonFinite === "string") return JSON.stringify(String(value));
        throw new RangeError(`Cannot write stable JSON: ${where(path)} is ${value}, expected a finite number`);
      }
      return JSON.stringify(roundStable(value));
    }
    case "object": {
      const inner = indent + "  ";
      const sep = pretty ? `,\n${inner}` : ",";
      const open = pretty ? `\n${inner}` : "";
      const close = pretty ? `\n${indent}` : "";
      if (Array.isArray(value)) {
        if (value.length === 0) return "[]";
        const items = value.map((v, i) => {
          if (v === undefined) throw new TypeError(`Cannot write stable JSON: ${where(`${path}[${i}]`)} is undefined`);
          return encode(v, `${path}[${i}]`, inner, nonFinite, pretty);
        });
        if (!pretty || value.every(isScalar)) return `[${items.join(pretty ? ", " : ",")}]`;
        return `[${open}${items.join(sep)}${close}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `Cannot write stable JSON: ${where(path)} is a ${
            value.constructor?.name ?? "object"
          }, expected a plain object`,
        );
      }
      const keys = Object.keys(value).sort();
      if (keys.length === 0) return "{}";
      const members = keys.map((k) => {
        const v = (value as Record<string, unknown>)[k];
        const p = path === "" ? k : `${path}.${k}`;
        if (v === undefined) throw new TypeError(`Cannot write stable JSON: ${where(p)} is undefined`);
        return `${JSON.stringify(k)}:${pretty ? " " : ""}${encode(v, p, inner, nonFinite, pretty)}`;
      });
      return `{${open}${members.join(sep)}${close}}`;
    }
    default:
      throw new TypeError(
        `Cannot write stable JSON: ${where(path)} is ${value === undefined ? "undefined" : `a ${typeof value}`}`,
      );
  }
}
