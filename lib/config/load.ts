/**
 * Loading experiment configs: YAML, one level of `include:`, `--set key=value` overrides, validation
 * against a zod schema, and the resolved config with its hash.
 *
 * Resolution order: the included file is the base; the including file's keys override it (maps merge
 * key by key, lists and scalars replace); then each override in order (a map value merges the same
 * way). The result is validated once, and each problem is reported against where its key came from:
 * the override that set it, or the file that holds it.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { canonicalJson, sha256Hex } from "../report/hash.ts";
import { type ConfigProblem, describeIssues, shown, unknownKeys } from "./_issues.ts";

/** The key that pulls in a base file. Reserved: no schema may declare it. */
export const INCLUDE_KEY = "include";

/** A validated config. */
export interface LoadedConfig<T> {
  /** The validated value, with the schema's defaults filled in. */
  config: T;
  /** The resolved config as YAML with sorted keys: what config.yaml holds. */
  resolvedYaml: string;
  /** {@linkcode configHash} of `config`. */
  hash: string;
  /** Files read, base first. */
  sources: string[];
  /** The overrides applied, as given. */
  overrides: string[];
}

/** Options for {@linkcode loadConfig} and {@linkcode parseConfigText}. */
export interface ConfigOptions {
  /** `key.path=value` overrides (from `--set`), applied in order. */
  overrides?: readonly string[];
}

/** A parsed `--set` override. */
export interface Override {
  /** The override as given, e.g. `model.hidden_size=512`. */
  text: string;
  /** The key path, split at the dots: `["model", "hidden_size"]`. */
  path: string[];
  /** The value, parsed as YAML (`512` is a number, `true` a boolean, `abc` a string). */
  value: unknown;
}

type Obj = Record<string, unknown>;

const YAML_OPTIONS = { prettyErrors: true, uniqueKeys: true, strict: true } as const;

function isMap(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * SHA-256 (hex) of a config's canonical JSON (sorted keys, no whitespace).
 *
 * @example
 * ```ts
 * import { configHash } from "./load.ts";
 * configHash({ a: 1, b: 2 }) === configHash({ b: 2, a: 1 }); // true
 * ```
 */
export function configHash(config: unknown): string {
  return sha256Hex(canonicalJson(config));
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0].replace(/:$/, "");
}

/**
 * Parses one `--set` override: `a.b=value`, where value is read as a YAML scalar or flow value
 * (`3`, `0.1`, `true`, `abc`, `[1, 2]`, `{x: 1}`; empty means null).
 *
 * @example
 * ```ts
 * import { parseOverride } from "./load.ts";
 * parseOverride("model.hidden_size=512").value; // 512
 * ```
 */
export function parseOverride(text: string): Override {
  const eq = text.indexOf("=");
  if (eq < 0) throw new ConfigError(`Cannot parse override "${text}": expected key.path=value`);
  const key = text.slice(0, eq).trim();
  if (!/^[\w-]+(\.[\w-]+)*$/.test(key)) {
    throw new ConfigError(
      `Cannot parse override "${text}": key path "${key}" must be names joined by dots, e.g. model.hidden_size`,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text.slice(eq + 1), YAML_OPTIONS);
  } catch (e) {
    throw new ConfigError(`Cannot parse override "${text}": its value is not valid YAML (${firstLine(e)})`, {
      cause: e,
    });
  }
  return { text, path: key.split("."), value };
}

function merge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = Object.hasOwn(base, k) ? merge(base[k], v) : v;
  return out;
}

/** Where each key path came from, for blaming problems on a file. Keys are JSON-encoded paths. */
type Origins = Map<string, string>;

function recordOrigins(value: unknown, file: string, origins: Origins, path: string[] = []): void {
  if (!isMap(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const p = [...path, k];
    origins.set(JSON.stringify(p), file);
    recordOrigins(v, file, origins, p);
  }
}

function applyOverride(config: Obj, o: Override, source: string): Obj {
  const root = structuredClone(config);
  let node: unknown = root;
  for (let i = 0; i < o.path.length - 1; i++) {
    const key = o.path[i];
    if (Array.isArray(node)) {
      const idx = Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) {
        throw new ConfigError(
          `Cannot apply override "--set ${o.text}" to config "${source}": key "${
            o.path.slice(0, i).join(".")
          }" is a list of ${node.length}, and "${key}" is not an index in it`,
        );
      }
      node = node[idx];
      continue;
    }
    const map = node as Obj;
    const next = map[key];
    if (next === undefined || next === null) map[key] = {};
    else if (typeof next !== "object") {
      throw new ConfigError(
        `Cannot apply override "--set ${o.text}" to config "${source}": key "${o.path.slice(0, i + 1).join(".")}" is ${
          shown(next)
        }, not a map`,
      );
    }
    node = map[key];
  }
  const last = o.path[o.path.length - 1];
  if (Array.isArray(node)) {
    const idx = Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) {
      throw new ConfigError(
        `Cannot apply override "--set ${o.text}" to config "${source}": key "${
          o.path.slice(0, -1).join(".")
        }" is a list of ${node.length}, and "${last}" is not an index in it`,
      );
    }
    node[idx] = merge(node[idx], o.value);
  } else {
    const map = node as Obj;
    map[last] = Object.hasOwn(map, last) ? merge(map[last], o.value) : o.value;
  }
  return root;
}

function isPrefix(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length <= b.length && a.every((k, i) => String(k) === String(b[i]));
}

interface Resolution {
  raw: Obj;
  /** The file named in messages (the one the user asked for). */
  top: string;
  /** Included file -> the file that included it. */
  includedBy: Map<string, string>;
  origins: Origins;
  sources: string[];
}

function blame(problems: ConfigProblem[], r: Resolution, overrides: Override[]): ConfigError {
  type Source = { kind: "file"; name: string } | { kind: "override"; name: string };
  const sourceOf = (p: ConfigProblem): Source => {
    for (let i = overrides.length - 1; i >= 0; i--) {
      const o = overrides[i];
      if (isPrefix(o.path, p.path) || isPrefix(p.path, o.path)) return { kind: "override", name: o.text };
    }
    for (let n = p.path.length; n > 0; n--) {
      const file = r.origins.get(JSON.stringify(p.path.slice(0, n).map(String)));
      if (file !== undefined) return { kind: "file", name: file };
    }
    return { kind: "file", name: r.top };
  };
  const blamed = problems.map((p) => ({ p, s: sourceOf(p) }));
  const header = (s: Source): string => {
    if (s.kind === "override") return `Cannot apply override "--set ${s.name}" to config "${r.top}"`;
    const by = r.includedBy.get(s.name);
    return `Cannot load config "${s.name}"${by ? ` (included by "${by}")` : ""}`;
  };
  const same = blamed.every(({ s }) => s.kind === blamed[0].s.kind && s.name === blamed[0].s.name);
  if (blamed.length === 1) return new ConfigError(`${header(blamed[0].s)}: ${blamed[0].p.text}`);
  if (same) {
    const items = blamed.map(({ p }) => `\n  - ${p.text}`).join("");
    return new ConfigError(`${header(blamed[0].s)}: ${blamed.length} problems:${items}`);
  }
  const items = blamed.map(({ p, s }) =>
    `\n  - ${p.text} ${s.kind === "override" ? `(from --set ${s.name})` : `(in "${s.name}")`}`
  ).join("");
  return new ConfigError(`Cannot load config "${r.top}": ${blamed.length} problems:${items}`);
}

function validate<S extends z.ZodType>(
  r: Resolution,
  schema: S,
  options: ConfigOptions,
): LoadedConfig<z.output<S>> {
  const overrides = (options.overrides ?? []).map(parseOverride);
  let raw = r.raw;
  for (const o of overrides) raw = applyOverride(raw, o, r.top);
  const problems = unknownKeys(schema, raw);
  const result = schema.safeParse(raw);
  if (!result.success) problems.push(...describeIssues(schema, raw, result.error.issues, problems));
  if (problems.length > 0) throw blame(problems, r, overrides);
  if (result.success === false) throw new ConfigError(`Cannot load config "${r.top}": ${result.error.message}`);
  const config = result.data;
  return {
    config,
    resolvedYaml: stringifyYaml(config, { sortMapEntries: true }),
    hash: configHash(config),
    sources: r.sources,
    overrides: overrides.map((o) => o.text),
  };
}

function parseDocument(text: string, file: string, includedBy?: string): Obj {
  const where = `"${file}"${includedBy ? ` (included by "${includedBy}")` : ""}`;
  let doc: unknown;
  try {
    doc = parseYaml(text, YAML_OPTIONS);
  } catch (e) {
    throw new ConfigError(`Cannot parse config ${where}: ${firstLine(e)}`, { cause: e });
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) {
    throw new ConfigError(`Cannot load config ${where}: expected a map at the top level, got ${shown(doc)}`);
  }
  return doc;
}

/** The largest config file read (configs are a few KiB; a device file or a data file named by mistake is refused). */
export const MAX_CONFIG_BYTES = 1 << 20;

async function readConfigFile(file: string, includedBy?: string): Promise<string> {
  const refuse = (why: string) =>
    new ConfigError(
      includedBy
        ? `Cannot load config "${includedBy}": included file "${file}" ${why}`
        : `Cannot load config "${file}": ${why}`,
    );
  try {
    // Checked before reading: a FIFO or a device such as /dev/zero would otherwise block or fill memory.
    const info = await Deno.stat(file);
    if (info.isDirectory) throw refuse("is a folder, expected a YAML file");
    if (!info.isFile) throw refuse("is not a regular file (a device, FIFO or socket), expected a YAML file");
    if (info.size > MAX_CONFIG_BYTES) {
      throw refuse(`is ${info.size} bytes, more than a config's limit of ${MAX_CONFIG_BYTES} (1 MiB)`);
    }
    return await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const why = e instanceof Deno.errors.NotFound ? "file not found" : firstLine(e);
    if (includedBy) {
      throw new ConfigError(`Cannot load config "${includedBy}": included file "${file}" cannot be read (${why})`, {
        cause: e,
      });
    }
    throw new ConfigError(`Cannot load config "${file}": ${why}`, { cause: e });
  }
}

function takeInclude(doc: Obj, file: string): string | undefined {
  if (!Object.hasOwn(doc, INCLUDE_KEY)) return undefined;
  const inc = doc[INCLUDE_KEY];
  delete doc[INCLUDE_KEY];
  if (typeof inc !== "string" || inc.trim() === "") {
    throw new ConfigError(
      `Cannot load config "${file}": key "${INCLUDE_KEY}": expected a file path, got ${shown(inc)}`,
    );
  }
  return inc;
}

/**
 * Loads a YAML config file, resolves its `include:` and the overrides, and validates the result.
 * Every problem is a {@linkcode ConfigError} naming the file (or override), the key path, and what was
 * expected.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { loadConfig } from "./load.ts";
 * const file = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(file, "lr: 0.001\n");
 * const schema = z.object({ lr: z.number(), steps: z.int().default(100) });
 * const { config } = await loadConfig(file, schema, { overrides: ["steps=5"] });
 * config.steps; // 5
 * ```
 */
export async function loadConfig<S extends z.ZodType>(
  path: string,
  schema: S,
  options: ConfigOptions = {},
): Promise<LoadedConfig<z.output<S>>> {
  const top = parseDocument(await readConfigFile(path), path);
  const inc = takeInclude(top, path);
  const origins: Origins = new Map();
  const includedBy = new Map<string, string>();
  const sources = [path];
  let raw: Obj = top;
  if (inc !== undefined) {
    // A relative include is relative to the including file's folder; an absolute one stands as written.
    const incPath = isAbsolute(inc) ? inc : join(dirname(path), inc);
    const base = parseDocument(await readConfigFile(incPath, path), incPath, path);
    if (Object.hasOwn(base, INCLUDE_KEY)) {
      throw new ConfigError(
        `Cannot load config "${incPath}" (included by "${path}"): includes go one level deep, but it has ` +
          `include: ${shown(base[INCLUDE_KEY])}`,
      );
    }
    includedBy.set(incPath, path);
    sources.unshift(incPath);
    recordOrigins(base, incPath, origins);
    raw = merge(base, top) as Obj;
  }
  recordOrigins(top, path, origins);
  return validate({ raw, top: path, includedBy, origins, sources }, schema, options);
}

/**
 * Validates a value already in memory (parsed JSON, a module's export) with the same checks and
 * messages as a config file; `source` names it in messages.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { checkConfig } from "./load.ts";
 * checkConfig({ steps: 3 }, z.object({ steps: z.int() }), { source: "defaults" }).config.steps; // 3
 * ```
 */
export function checkConfig<S extends z.ZodType>(
  value: unknown,
  schema: S,
  options: ConfigOptions & { source?: string } = {},
): LoadedConfig<z.output<S>> {
  const source = options.source ?? "<value>";
  if (!isMap(value)) throw new ConfigError(`Cannot load config "${source}": expected a map, got ${shown(value)}`);
  const origins: Origins = new Map();
  recordOrigins(value, source, origins);
  const r = { raw: value, top: source, includedBy: new Map<string, string>(), origins, sources: [] };
  return validate(r, schema, options);
}

/**
 * Validates config text (no `include:`, which needs a file to be relative to). `source` names the text
 * in messages.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parseConfigText } from "./load.ts";
 * const { config } = parseConfigText("name: trm\n", z.object({ name: z.enum(["trm", "dis"]) }));
 * config.name; // "trm"
 * ```
 */
export function parseConfigText<S extends z.ZodType>(
  text: string,
  schema: S,
  options: ConfigOptions & { source?: string } = {},
): LoadedConfig<z.output<S>> {
  const source = options.source ?? "<text>";
  const doc = parseDocument(text, source);
  if (Object.hasOwn(doc, INCLUDE_KEY)) {
    throw new ConfigError(`Cannot load config "${source}": "${INCLUDE_KEY}:" works only in files read by loadConfig`);
  }
  const origins: Origins = new Map();
  recordOrigins(doc, source, origins);
  return validate({ raw: doc, top: source, includedBy: new Map(), origins, sources: [] }, schema, options);
}
