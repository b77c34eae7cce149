/**
 * Output folders and what may be written over them. Every folder a command writes (a dataset, a run, an
 * experiment, an evaluation, an analysis, verify's smoke runs) carries a marker file,
 * {@linkcode OUTPUT_MARKER}, naming its kind. A command may write into, or replace, only:
 *
 * - a path that does not exist, or an empty folder;
 * - an earlier output of the same kind: one with that kind's marker, or a folder this tool wrote before
 *   markers existed, recognised by the files that kind writes ({@linkcode LEGACY}).
 *
 * Anything else (a regular file, a folder of the user's files, an output of another kind) is refused with an
 * {@linkcode OutputError} (exit 2) that names the path and what was expected. Nothing is deleted.
 *
 * @module
 */
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { InputError } from "../errors.ts";
import { replaceDirAtomic, writeTextAtomic } from "./atomic.ts";
import { parseTempName } from "./temp.ts";

/** The marker file an output folder carries. */
export const OUTPUT_MARKER = ".trm-dis-output.json";

/** The lock file of a folder being written (lib/io lock.ts); not content of its own. */
const LOCK_NAME = ".trm-dis.lock";

/** The kinds of output folder, each written by one command. */
export type OutputKind = "dataset" | "run" | "experiment" | "seeds" | "evaluation" | "analysis" | "verify";

/** How each kind is named in messages, and the command that writes it. */
const KIND_NAMES: Record<OutputKind, [name: string, command: string]> = {
  dataset: ["dataset", "`data nqueens` or `data arc`"],
  run: ["training run", "`train`"],
  experiment: ["experiment folder", "`reproduce`"],
  seeds: ["multi-seed experiment folder", "`reproduce --seeds`"],
  evaluation: ["evaluation", "`eval`"],
  analysis: ["analysis", "`analyze`"],
  verify: ["verify folder", "`verify`"],
};

/** What the marker file holds. */
export interface OutputMarker {
  /** Always "trm-dis": what wrote the folder. */
  tool: "trm-dis";
  /** The kind of output the folder holds. */
  kind: OutputKind;
  /** The tool version that created the folder. */
  version: string;
  /** When the folder was created (ISO 8601). */
  created: string;
}

/** An output path that must not be written: its kind, or its contents, is not what the command writes. */
export class OutputError extends InputError {
  /**
   * An output path the CLI refuses with exit code 2.
   *
   * @param message The action, the path and what it holds, then what was expected.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutputError";
  }
}

/** A folder's entries by name (the tool's lock, marker and temporaries left out). */
export type OutputEntries = Map<string, Deno.DirEntry>;

const DATASET_FILES = new Set([
  "summary.json",
  "nqueens.json",
  "index.json",
  "identifiers.json",
  "test_puzzles.json",
  "train",
  "test",
  "validation",
  "train.jsonl",
  "test.jsonl",
  "validation.jsonl",
]);
const EVALUATION_FILES = new Set(["eval.json", "report.md", "submission.json"]);
const ANALYSIS_FILES = new Set(["results.json", "report.md", "run.json"]);
const SEEDS_FILES = new Set(["seeds.json", "seeds.md", "seeds.svg"]);

const isDir = (entries: OutputEntries, name: string) => entries.get(name)?.isDirectory === true;
const isFile = (entries: OutputEntries, name: string) => entries.get(name)?.isFile === true;
const allOf = (entries: OutputEntries, ok: (e: Deno.DirEntry) => boolean) => [...entries.values()].every(ok);

/**
 * How a folder that this tool wrote before markers existed is recognised, per kind: by the files that kind
 * writes. A dataset build replaces its whole folder, so a dataset must hold nothing but dataset files; the
 * other kinds write next to what is there, so their characteristic files suffice.
 */
export const LEGACY: Record<OutputKind, (entries: OutputEntries) => boolean> = {
  dataset: (en) => allOf(en, (e) => DATASET_FILES.has(e.name)),
  // RunFolder.open writes config.yaml and metrics.jsonl first; an experiment folder has rows/ instead.
  run: (en) =>
    isFile(en, "config.yaml") && (isFile(en, "metrics.jsonl") || isDir(en, "checkpoints")) && !isDir(en, "rows"),
  experiment: (en) => isDir(en, "rows") && !isDir(en, "checkpoints"),
  seeds: (en) => allOf(en, (e) => SEEDS_FILES.has(e.name) || (e.isDirectory && /^seed-\d+$/.test(e.name))),
  evaluation: (en) => allOf(en, (e) => e.isFile && EVALUATION_FILES.has(e.name)),
  analysis: (en) =>
    (isFile(en, "results.json") || isFile(en, "report.md")) &&
    allOf(en, (e) => e.isFile && (ANALYSIS_FILES.has(e.name) || e.name.endsWith(".svg"))),
  // Its entries are experiment folders (one per experiment); each is checked when it is replaced.
  verify: (en) => allOf(en, (e) => e.isDirectory && !e.name.startsWith(".")),
};

/** What a path holds, as far as outputs go. */
export type OutputState =
  | { state: "absent" }
  | { state: "file" }
  | { state: "empty" }
  | { state: "output"; kind: OutputKind; legacy: boolean }
  | { state: "other"; names: string[] };

const KINDS = Object.keys(KIND_NAMES) as OutputKind[];

async function readMarker(dir: string): Promise<OutputMarker | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, OUTPUT_MARKER));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as Partial<OutputMarker>;
    if (m.tool === "trm-dis" && KINDS.includes(m.kind as OutputKind)) return m as OutputMarker;
  } catch {
    // Not our marker: judged by the folder's other files below.
  }
  return null;
}

/**
 * What `dir` holds: nothing, a file, an empty folder, an output of some kind, or other content. The tool's
 * own lock file and temporaries do not count as content.
 *
 * @example
 * ```ts
 * import { inspectOutput } from "./output.ts";
 * (await inspectOutput("/no/such/folder")).state; // "absent"
 * ```
 */
export async function inspectOutput(dir: string, expected?: OutputKind): Promise<OutputState> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { state: "absent" };
    if (e instanceof Deno.errors.NotADirectory) return { state: "file" };
    throw e;
  }
  if (!stat.isDirectory) return { state: "file" };
  const marker = await readMarker(dir);
  if (marker) return { state: "output", kind: marker.kind, legacy: false };
  const entries: OutputEntries = new Map();
  for await (const e of Deno.readDir(dir)) {
    if (e.name === LOCK_NAME || e.name === OUTPUT_MARKER || parseTempName(e.name) !== null) continue;
    entries.set(e.name, e);
  }
  if (entries.size === 0) return { state: "empty" };
  // The expected kind first: a legacy run folder must not be taken for another kind that also fits.
  for (const kind of expected ? [expected, ...KINDS] : KINDS) {
    if (LEGACY[kind](entries)) return { state: "output", kind, legacy: true };
  }
  return { state: "other", names: [...entries.keys()].sort() };
}

function sample(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Checks that `kind` may be written at `dir` (see the module doc); throws an {@linkcode OutputError} naming
 * the path and what was expected otherwise. Returns what is there. `action` begins the message, e.g.
 * `Cannot build N-Queens`.
 *
 * @example
 * ```ts
 * import { checkOutput } from "./output.ts";
 * await checkOutput(await Deno.makeTempDir(), "dataset"); // "empty"
 * ```
 */
export async function checkOutput(
  dir: string,
  kind: OutputKind,
  action = `Cannot write the ${KIND_NAMES[kind][0]}`,
): Promise<OutputState["state"]> {
  const s = await inspectOutput(dir, kind);
  const [name, command] = KIND_NAMES[kind];
  const expected = `expected a missing or empty folder, or an earlier ${name} written by ${command} ` +
    `(marked by ${OUTPUT_MARKER}); choose another folder`;
  if (s.state === "file") {
    throw new OutputError(`${action} in "${dir}": it is a file, not a folder; ${expected}`);
  }
  if (s.state === "output" && s.kind !== kind) {
    const [other, by] = KIND_NAMES[s.kind];
    throw new OutputError(`${action} in "${dir}": it holds a ${other} written by ${by}; ${expected}`);
  }
  if (s.state === "other") {
    throw new OutputError(
      `${action} in "${dir}": it holds files that are not an earlier ${name} (${
        sample(s.names)
      }), left as they are; ${expected}`,
    );
  }
  return s.state;
}

/** The marker text for a new output of `kind`. */
function markerText(kind: OutputKind): string {
  const m: OutputMarker = { tool: "trm-dis", kind, version: denoJson.version, created: new Date().toISOString() };
  return JSON.stringify(m, null, 2) + "\n";
}

/**
 * Claims `dir` for an output of `kind` that is written in place (a run, an experiment): checks it
 * ({@linkcode checkOutput}), creates it, and writes the marker unless one is there (a legacy folder gets one).
 *
 * @example
 * ```ts
 * import { claimOutput } from "./output.ts";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * await claimOutput(dir, "run");
 * ```
 */
export async function claimOutput(dir: string, kind: OutputKind, action?: string): Promise<void> {
  const state = await checkOutput(dir, kind, action);
  await Deno.mkdir(dir, { recursive: true });
  if (state !== "output" || (await readMarker(dir)) === null) {
    await writeTextAtomic(join(dir, OUTPUT_MARKER), markerText(kind));
  }
}

/**
 * Replaces the output folder `dir` atomically (lib/io `replaceDirAtomic`) after checking that it may be
 * replaced ({@linkcode checkOutput}); the new folder carries the marker of `kind`.
 *
 * @example
 * ```ts
 * import { replaceOutputDir } from "./output.ts";
 * const dir = `${await Deno.makeTempDir()}/ds`;
 * await replaceOutputDir(dir, "dataset", async (tmp) => await Deno.writeTextFile(`${tmp}/summary.json`, "{}"));
 * ```
 */
export async function replaceOutputDir(
  dir: string,
  kind: OutputKind,
  build: (tmpDir: string) => Promise<void>,
  action?: string,
): Promise<void> {
  await checkOutput(dir, kind, action);
  await replaceDirAtomic(dir, async (tmp) => {
    await build(tmp);
    await Deno.writeTextFile(join(tmp, OUTPUT_MARKER), markerText(kind));
  });
}
