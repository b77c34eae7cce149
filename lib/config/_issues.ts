/**
 * Turning zod's validation issues into messages that name the key path and say what was expected and
 * what was found (`key "model.hidden_size": expected integer, got "abc"`), and the unknown-key check.
 *
 * Unknown keys are found here by walking the input against the schema rather than left to zod, so a
 * schema written with `z.object` (which would silently drop unknown keys) is as strict as one written
 * with `z.strictObject`.
 *
 * This reads zod v4's schema definitions (`schema._zod.def`), which are part of its documented core
 * API for introspection; anything it does not recognise falls back to zod's own message.
 *
 * @module
 */
import type { z } from "zod";

type Path = readonly (string | number)[];

interface Def {
  type: string;
  [k: string]: unknown;
}

interface SchemaLike {
  _zod: { def: Def };
}

/** A problem found in a config, before it is attributed to a file or an override. */
export interface ConfigProblem {
  path: Path;
  text: string;
}

function def(s: unknown): Def | undefined {
  return (s as SchemaLike | undefined)?._zod?.def;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);

/** Strips wrappers that do not change which keys or types are accepted. */
function unwrap(s: unknown): unknown {
  for (let i = 0; i < 64; i++) {
    const d = def(s);
    if (!d) return s;
    if (WRAPPERS.has(d.type)) s = d.innerType;
    else if (d.type === "pipe") s = d.in;
    else if (d.type === "lazy") s = (d.getter as () => unknown)();
    else return s;
  }
  return s;
}

/** The schema for one child of `s`, or undefined when it cannot be told. */
function child(s: unknown, key: string | number): unknown {
  const u = unwrap(s);
  const d = def(u);
  if (!d) return undefined;
  switch (d.type) {
    case "object": {
      const shape = d.shape as Record<string, unknown>;
      if (Object.hasOwn(shape, key)) return shape[key];
      return def(d.catchall)?.type === "never" ? undefined : d.catchall;
    }
    case "array":
      return d.element;
    case "record":
      return d.valueType;
    case "tuple":
      return (d.items as unknown[])[Number(key)] ?? d.rest;
    case "union": {
      for (const option of d.options as unknown[]) {
        const c = child(option, key);
        if (c !== undefined) return c;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function schemaAt(s: unknown, path: Path): unknown {
  for (const key of path) {
    s = child(s, key);
    if (s === undefined) return undefined;
  }
  return s;
}

const INT_FORMATS = new Set(["int32", "uint32", "safeint", "int64", "uint64"]);

function isInteger(d: Def): boolean {
  if (typeof d.format === "string" && INT_FORMATS.has(d.format)) return true;
  const checks = (d.checks ?? []) as SchemaLike[];
  return checks.some((c) => {
    const cd = def(c);
    return cd?.check === "number_format" && INT_FORMATS.has(String(cd.format));
  });
}

/** A short description of what a schema accepts: `integer`, `one of "a", "b"`, `map`, ... */
export function describe(s: unknown): string | undefined {
  const d = def(s);
  if (!d) return undefined;
  switch (d.type) {
    case "optional":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return describe(d.innerType);
    case "nullable": {
      const inner = describe(d.innerType);
      return inner && `${inner} or null`;
    }
    case "pipe":
      return describe(d.in);
    case "lazy":
      return describe((d.getter as () => unknown)());
    case "number":
      return isInteger(d) ? "integer" : "number";
    case "string":
      return "string";
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    case "enum":
      return `one of ${
        Object.values(d.entries as Record<string, string | number>).map((v) => JSON.stringify(v)).join(", ")
      }`;
    case "literal":
      return (d.values as unknown[]).map((v) => JSON.stringify(v)).join(" or ");
    case "union": {
      // Maps told apart by their keys: "map with key tasks or map with key ids", not "map or map".
      const parts = (d.options as unknown[]).map((o) => {
        const keys = requiredKeys(o);
        return keys && keys.length > 0 ? `map with key${keys.length > 1 ? "s" : ""} ${keys.join(", ")}` : describe(o);
      });
      return parts.every((p) => p !== undefined) ? [...new Set(parts)].join(" or ") : undefined;
    }
    case "array":
      return "list";
    case "tuple":
      return `list of ${(d.items as unknown[]).length}`;
    case "object":
    case "record":
      return "map";
    case "any":
    case "unknown":
      return "any value";
    default:
      return undefined;
  }
}

/** The keys an object schema requires (none optional or defaulted), or undefined for another schema. */
function requiredKeys(s: unknown): string[] | undefined {
  const d = def(unwrap(s));
  if (d?.type !== "object") return undefined;
  return Object.entries(d.shape as Record<string, unknown>)
    .filter(([, v]) => !["optional", "default", "prefault"].includes(def(v)?.type ?? ""))
    .map(([k]) => k);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** How a found value is shown: strings quoted, lists and maps by kind. */
export function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}..."` : s;
  }
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (isMap(v)) return "a map";
  // YAML reads 1e400 as Infinity: say why, since the value written was a number.
  if (typeof v === "number" && !Number.isFinite(v)) {
    return Number.isNaN(v) ? "NaN (not a number)" : `${v} (a number beyond the float64 range, as 1e400 is)`;
  }
  return String(v);
}

/** Dotted key path as written in configs and `--set`: `model.hidden_size`, `tags.0`. */
export function dotted(path: Path): string {
  return path.join(".");
}

function valueAt(input: unknown, path: Path): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function keyList(s: unknown): string | undefined {
  const d = def(unwrap(s));
  if (d?.type !== "object") return undefined;
  const keys = Object.keys(d.shape as Record<string, unknown>).sort();
  if (keys.length === 0) return "it takes no keys";
  return `expected one of: ${keys.slice(0, 20).join(", ")}${keys.length > 20 ? ", ..." : ""}`;
}

/** Finds keys in `input` that the schema does not declare. */
export function unknownKeys(schema: unknown, input: unknown, path: Path = []): ConfigProblem[] {
  const s = unwrap(schema);
  const d = def(s);
  if (!d) return [];
  const out: ConfigProblem[] = [];
  if (d.type === "object" && isMap(input)) {
    const shape = d.shape as Record<string, unknown>;
    const catchall = d.catchall;
    const strict = catchall === undefined || def(catchall)?.type === "never";
    for (const key of Object.keys(input)) {
      if (Object.hasOwn(shape, key)) out.push(...unknownKeys(shape[key], input[key], [...path, key]));
      else if (strict) {
        const hint = keyList(s);
        out.push({ path: [...path, key], text: `unknown key "${dotted([...path, key])}"${hint ? ` (${hint})` : ""}` });
      } else out.push(...unknownKeys(catchall, input[key], [...path, key]));
    }
  } else if ((d.type === "array") && Array.isArray(input)) {
    input.forEach((v, i) => out.push(...unknownKeys(d.element, v, [...path, i])));
  } else if (d.type === "record" && isMap(input)) {
    for (const key of Object.keys(input)) out.push(...unknownKeys(d.valueType, input[key], [...path, key]));
  }
  return out;
}

function bound(
  issue: { origin?: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean },
  expected: string | undefined,
): string {
  const small = "minimum" in issue;
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive ?? true;
  switch (issue.origin) {
    case "array":
    case "set":
      return `list with ${small ? "at least" : "at most"} ${limit} items`;
    case "string":
      return `string of ${small ? "at least" : "at most"} ${limit} characters`;
    default: {
      const op = small ? (inclusive ? ">=" : ">") : (inclusive ? "<=" : "<");
      const kind = issue.origin === "int" || expected?.startsWith("integer") ? "integer" : "number";
      return `${kind} ${op} ${limit}`;
    }
  }
}

/**
 * Whether a union branch's issue says the value is not of that branch's kind at all: the wrong type at
 * the branch's root, keys the branch does not have, or a key it requires missing.
 */
function rejectsKind(issue: z.core.$ZodIssue, value: unknown): boolean {
  const p = issue.path as Path;
  if (p.length === 0) return issue.code === "invalid_type" || issue.code === "unrecognized_keys";
  return p.length === 1 && issue.code === "invalid_type" && valueAt(value, p) === undefined;
}

/** Rewrites zod's issues as problems; unknown keys already in `reported` (from {@linkcode unknownKeys}) are skipped. */
export function describeIssues(
  schema: unknown,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
  reported: readonly ConfigProblem[] = [],
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const seen = new Set(reported.map((p) => dotted(p.path)));
  for (const issue of issues) {
    const path = issue.path as Path;
    if (issue.code === "unrecognized_keys") {
      // Normally found by unknownKeys already; this catches strict objects it cannot reach (inside unions).
      for (const key of issue.keys) {
        const p = [...path, key];
        if (!seen.has(dotted(p))) out.push({ path: p, text: `unknown key "${dotted(p)}"` });
      }
      continue;
    }
    const at = path.length === 0 ? "the config" : `key "${dotted(path)}"`;
    const value = valueAt(input, path);
    const expected = describe(schemaAt(schema, path));
    switch (issue.code) {
      case "invalid_type":
        if (value === undefined) {
          out.push({ path, text: `missing key "${dotted(path)}": expected ${expected ?? issue.expected}` });
        } else out.push({ path, text: `${at}: expected ${expected ?? issue.expected}, got ${shown(value)}` });
        break;
      case "invalid_union": {
        // The branch the value's kind and keys fit, reported by its own issues with their full key paths
        // (`key "data.subset.tasks": expected integer, got "abc"`); only when none fits, the union as a whole.
        const fitting = (issue.errors ?? []).filter((branch) => branch.every((i) => !rejectsKind(i, value)));
        if (fitting.length > 0) {
          const best = fitting.reduce((a, b) => (b.length < a.length ? b : a));
          const inner = best.map((i) => ({ ...i, path: [...path, ...i.path] }) as z.core.$ZodIssue);
          out.push(...describeIssues(schema, input, inner, reported));
          break;
        }
        const keys = isMap(value)
          ? ` with key${Object.keys(value).length === 1 ? "" : "s"} ${Object.keys(value).join(", ")}`
          : "";
        out.push({ path, text: `${at}: expected ${expected ?? issue.message}, got ${shown(value)}${keys}` });
        break;
      }
      case "invalid_value":
        out.push({ path, text: `${at}: expected ${expected ?? issue.message}, got ${shown(value)}` });
        break;
      case "too_small":
      case "too_big": {
        const found = Array.isArray(value) ? `${value.length} item${value.length === 1 ? "" : "s"}` : shown(value);
        out.push({ path, text: `${at}: expected ${bound(issue, expected)}, got ${found}` });
        break;
      }
      default:
        out.push({ path, text: `${at}: ${issue.message} (got ${shown(value)})` });
    }
  }
  return out;
}
