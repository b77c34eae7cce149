/**
 * Loading ARC tasks: the per-task JSON layout of the upstream repositories (as mirrored in the data
 * directory: `arc-agi-1/{training,evaluation}`, `arc-agi-2/{training,evaluation}`, `concept-arc/<Concept>/`)
 * and TRM's Kaggle form (`trm-kaggle-combined/arc-agi_<subset>_{challenges,solutions}.json`).
 *
 * Every grid is checked (a list of rows, rectangular, both sides 1..30, integers 0..9); a bad file is a
 * DataError that names the file and the task. Keys other than `train` and `test` are ignored.
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { DataError } from "../errors.ts";
import { ARC_MAX_SIZE, type Grid } from "./augment.ts";
import { isFetchCache, verifyCachedFiles } from "./cache.ts";

/** One demonstration or test pair. */
export interface ArcPair {
  /** The grid shown to the solver. */
  input: Grid;
  /** The grid it should produce. */
  output: Grid;
}

/** One task: its demonstration (`train`) and `test` pairs. */
export interface ArcTask {
  /** The task's id: its file name without `.json`, or its key in a Kaggle-form file (e.g. `007bbfb7`). */
  id: string;
  /** TRM's subset name: training, evaluation, concept, training2, evaluation2. */
  subset: ArcSubset;
  /** Demonstration pairs, which the solver sees with their outputs. */
  train: ArcPair[];
  /** Test pairs, whose outputs are to be predicted. */
  test: ArcPair[];
  /** The file it was read from, for messages (absent for tasks built in code or read back from an index). */
  file?: string;
}

/** TRM's subset names. */
export const ARC_SUBSETS = ["training", "evaluation", "concept", "training2", "evaluation2"] as const;
/** One of {@linkcode ARC_SUBSETS}. */
export type ArcSubset = typeof ARC_SUBSETS[number];

/** Where each subset lives in the data directory (per-task layout). */
export const SUBSET_DIRS: Record<ArcSubset, string> = {
  training: "arc-agi-1/training",
  evaluation: "arc-agi-1/evaluation",
  concept: "concept-arc",
  training2: "arc-agi-2/training",
  evaluation2: "arc-agi-2/evaluation",
};

/** The TRM builds: ARC-1 = training + evaluation + concept; ARC-2 = training2 + evaluation2 + concept. */
export const ARC_SETS = {
  "arc-agi-1": { subsets: ["training", "evaluation", "concept"], testSubset: "evaluation" },
  "arc-agi-2": { subsets: ["training2", "evaluation2", "concept"], testSubset: "evaluation2" },
} as const satisfies Record<string, { subsets: readonly ArcSubset[]; testSubset: ArcSubset }>;
/** A set of {@linkcode ARC_SETS}: `arc-agi-1` or `arc-agi-2`. */
export type ArcSetName = keyof typeof ARC_SETS;

/** Where tasks are read from: the upstream per-task files, or TRM's Kaggle-form files. */
export type ArcSource = "dirs" | "kaggle";

/** Checks a set name from a config or the command line. */
export function parseArcSet(name: string): ArcSetName {
  if (!Object.hasOwn(ARC_SETS, name)) {
    throw new DataError(
      `Cannot build ARC: unknown set "${name}" (expected ${Object.keys(ARC_SETS).map((s) => `"${s}"`).join(" or ")})`,
    );
  }
  return name as ArcSetName;
}

/** Checks a source name. */
export function parseArcSource(name: string): ArcSource {
  if (name !== "dirs" && name !== "kaggle") {
    throw new DataError(`Cannot read ARC: unknown source "${name}" (expected "dirs" or "kaggle")`);
  }
  return name;
}

class GridProblem extends Error {}

function parseGrid(value: unknown, where: string): Grid {
  if (!Array.isArray(value)) throw new GridProblem(`grid "${where}" is not a list of rows`);
  const h = value.length;
  if (h < 1 || h > ARC_MAX_SIZE) {
    throw new GridProblem(`grid "${where}" has ${h} rows (expected 1..${ARC_MAX_SIZE})`);
  }
  const first = value[0];
  if (!Array.isArray(first)) throw new GridProblem(`grid "${where}" row 0 is not a list of cells`);
  const w = first.length;
  if (w < 1 || w > ARC_MAX_SIZE) {
    throw new GridProblem(`grid "${where}" has ${w} columns (expected 1..${ARC_MAX_SIZE})`);
  }
  const cells = new Uint8Array(h * w);
  for (let r = 0; r < h; r++) {
    const row = value[r];
    if (!Array.isArray(row)) throw new GridProblem(`grid "${where}" row ${r} is not a list of cells`);
    if (row.length !== w) {
      throw new GridProblem(`grid "${where}" is not rectangular (row ${r} has ${row.length} cells, expected ${w})`);
    }
    for (let c = 0; c < w; c++) {
      const v = row[c];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 9) {
        throw new GridProblem(`grid "${where}" cell [${r}][${c}] is ${JSON.stringify(v)} (expected an integer 0..9)`);
      }
      cells[r * w + c] = v;
    }
  }
  return { h, w, cells };
}

function parsePairs(value: unknown, key: string, needOutput: boolean): ArcPair[] {
  if (value === undefined) throw new GridProblem(`"${key}" is missing (expected a list of {input, output} pairs)`);
  if (!Array.isArray(value) || value.length === 0) {
    throw new GridProblem(`"${key}" is not a non-empty list of {input, output} pairs`);
  }
  return value.map((pair, i) => {
    if (typeof pair !== "object" || pair === null || Array.isArray(pair)) {
      throw new GridProblem(`"${key}[${i}]" is not an {input, output} object`);
    }
    const p = pair as Record<string, unknown>;
    const input = parseGrid(p.input, `${key}[${i}].input`);
    if (p.output === undefined && !needOutput) return { input, output: { h: 0, w: 0, cells: new Uint8Array(0) } };
    return { input, output: parseGrid(p.output, `${key}[${i}].output`) };
  });
}

/**
 * Checks and converts one parsed task object. `needTestOutputs` false allows test pairs without outputs
 * (the Kaggle challenges file; outputs are filled from the solutions file).
 */
export function parseTask(
  value: unknown,
  id: string,
  subset: ArcSubset,
  file: string,
  needTestOutputs = true,
): ArcTask {
  try {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new GridProblem('the task is not a JSON object with "train" and "test"');
    }
    const v = value as Record<string, unknown>;
    const train = parsePairs(v.train, "train", true);
    const test = parsePairs(v.test, "test", needTestOutputs);
    return { id, subset, train, test, file };
  } catch (e) {
    if (e instanceof GridProblem) throw new DataError(`Cannot load task "${id}" from "${file}": ${e.message}`);
    throw e;
  }
}

function parseJson(text: string, what: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`Cannot load ${what} from "${file}": malformed JSON (${(e as Error).message})`, { cause: e });
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(`Cannot load ${what}: "${file}" does not exist`, { cause: e });
    }
    throw e;
  }
}

/**
 * Loads one task file (`<id>.json`; the task id is the file name without `.json`).
 *
 * @example
 * ```ts ignore
 * const task = await loadTaskFile("data/arc-agi-1/training/007bbfb7.json", "training");
 * ```
 */
export async function loadTaskFile(file: string, subset: ArcSubset): Promise<ArcTask> {
  const id = basename(file).replace(/\.json$/, "");
  const text = await readText(file, `task "${id}"`);
  return parseTask(parseJson(text, `task "${id}"`, file), id, subset, file);
}

function unreadableDir(d: string, e: unknown): DataError | null {
  if (e instanceof Deno.errors.NotFound) {
    return new DataError(
      `Cannot read ARC tasks: directory "${d}" does not exist (run "data fetch" or pass --data-dir)`,
      {
        cause: e,
      },
    );
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new DataError(
      `Cannot read ARC tasks: "${d}" is not a directory (expected a folder of <task id>.json files)`,
      {
        cause: e,
      },
    );
  }
  return null;
}

/**
 * The `.json` files below `dir`, sorted by their path relative to it. Symbolic links are followed, both to
 * task files and (ConceptARC) to group folders: a link is read as what it points to, so a data folder
 * assembled from links reads as the copy it stands for. Every folder is visited once by its real path, so
 * a link back to a folder already read (a loop, or a second path to the same tasks) is refused by name
 * rather than read twice or forever, and a link that points nowhere is refused by name too.
 */
async function listJson(dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const visited = new Map<string, string>();
  const walk = async (d: string) => {
    let entries: Deno.DirEntry[];
    let real: string;
    try {
      real = await Deno.realPath(d);
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch (e) {
      throw unreadableDir(d, e) ?? e;
    }
    const first = visited.get(real);
    if (first !== undefined) {
      throw new DataError(
        `Cannot read ARC tasks: folder "${d}" is the folder "${first}" again (a symbolic link loop, or two links ` +
          "to one folder); remove the link",
      );
    }
    visited.set(real, d);
    for (const e of entries) {
      const p = join(d, e.name);
      let isDir = e.isDirectory;
      let isFile = e.isFile;
      if (e.isSymlink) {
        try {
          const target = await Deno.stat(p);
          isDir = target.isDirectory;
          isFile = target.isFile;
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          throw new DataError(
            `Cannot read ARC tasks: "${p}" is a symbolic link to "${await Deno.readLink(p)}", which does not exist`,
            { cause: err },
          );
        }
      }
      if (isDir && recursive) await walk(p);
      else if (isFile && e.name.endsWith(".json")) out.push(p);
    }
  };
  await walk(dir);
  return out.sort((a, b) => (relative(dir, a) < relative(dir, b) ? -1 : 1));
}

/**
 * Loads every task of a subset, in a fixed order: files sorted by path (dirs) or the challenges file's
 * key order (kaggle, as TRM reads it). From a fetch cache, the subset's files are first checked against
 * the manifest (cache.ts): a changed, missing or extra file is a DataError naming it.
 */
export async function loadSubset(dataDir: string, subset: ArcSubset, source: ArcSource = "dirs"): Promise<ArcTask[]> {
  // The fetch cache is checked against the manifest as it is read (cache.ts); a folder of one's own is not.
  if (await isFetchCache(dataDir)) {
    await verifyCachedFiles(dataDir, source === "kaggle" ? "trm-kaggle-combined/" : `${SUBSET_DIRS[subset]}/`);
  }
  if (source === "kaggle") return await loadKaggleSubset(join(dataDir, "trm-kaggle-combined", "arc-agi"), subset);
  const dir = join(dataDir, SUBSET_DIRS[subset]);
  const files = await listJson(dir, subset === "concept");
  if (files.length === 0) throw new DataError(`Cannot read ARC subset "${subset}": no .json files in "${dir}"`);
  return await Promise.all(files.map((f) => loadTaskFile(f, subset)));
}

/** TRM's `load_puzzles_arcagi` input: `<prefix>_<subset>_challenges.json` and `_solutions.json`. */
export async function loadKaggleSubset(prefix: string, subset: ArcSubset): Promise<ArcTask[]> {
  const cFile = `${prefix}_${subset}_challenges.json`;
  const sFile = `${prefix}_${subset}_solutions.json`;
  const challenges = parseJson(await readText(cFile, `subset "${subset}"`), `subset "${subset}"`, cFile);
  const solutions = parseJson(await readText(sFile, `subset "${subset}"`), `subset "${subset}"`, sFile);
  if (typeof challenges !== "object" || challenges === null || Array.isArray(challenges)) {
    throw new DataError(`Cannot load subset "${subset}" from "${cFile}": expected an object of tasks by id`);
  }
  if (typeof solutions !== "object" || solutions === null || Array.isArray(solutions)) {
    throw new DataError(`Cannot load subset "${subset}" from "${sFile}": expected an object of solutions by id`);
  }
  const sols = solutions as Record<string, unknown>;
  return Object.entries(challenges as Record<string, unknown>).map(([id, value]) => {
    const task = parseTask(value, id, subset, cFile, false);
    const s = sols[id];
    if (!Array.isArray(s) || s.length !== task.test.length) {
      throw new DataError(
        `Cannot load task "${id}" from "${sFile}": expected ${task.test.length} solution grids, got ${
          Array.isArray(s) ? s.length : "none"
        }`,
      );
    }
    s.forEach((grid, i) => {
      try {
        task.test[i].output = parseGrid(grid, `solutions[${i}]`);
      } catch (e) {
        if (e instanceof GridProblem) throw new DataError(`Cannot load task "${id}" from "${sFile}": ${e.message}`);
        throw e;
      }
    });
    return task;
  });
}

/** Converts a grid back to ARC's JSON form (a list of rows). */
export function gridToJson(g: Grid): number[][] {
  return Array.from({ length: g.h }, (_, r) => Array.from(g.cells.subarray(r * g.w, (r + 1) * g.w)));
}

/** A task in ARC's JSON form, `{train: [{input, output}], test: [...]}`. */
export function taskToJson(t: ArcTask): { train: unknown[]; test: unknown[] } {
  const pairs = (ps: ArcPair[]) => ps.map((p) => ({ input: gridToJson(p.input), output: gridToJson(p.output) }));
  return { train: pairs(t.train), test: pairs(t.test) };
}

/** The largest grid of a task: where it is (`train[0].output`), its shape, and its longer side. */
export interface LargestGrid {
  /**
   * Which grid it is, as a path into the task: `train[0].output`, `test[1].input`, ... (empty for a task with no
   * grids).
   */
  where: string;
  /** Rows. */
  h: number;
  /** Columns. */
  w: number;
  /** The longer of `h` and `w`. */
  side: number;
}

/**
 * The grid of a task with the longest side (train and test, inputs and outputs; the first such grid in
 * that order). A task fits a G x G canvas under every dihedral transform exactly when `side <= G`.
 *
 * @example
 * ```ts
 * import { largestGrid } from "./arc.ts";
 * const g = (h: number, w: number) => ({ h, w, cells: new Uint8Array(h * w) });
 * largestGrid({ id: "x", subset: "training", train: [{ input: g(2, 3), output: g(4, 1) }], test: [] });
 * // { where: "train[0].output", h: 4, w: 1, side: 4 }
 * ```
 */
export function largestGrid(task: ArcTask): LargestGrid {
  let best: LargestGrid = { where: "", h: 0, w: 0, side: 0 };
  for (const key of ["train", "test"] as const) {
    task[key].forEach((p, i) => {
      for (const io of ["input", "output"] as const) {
        const g = p[io];
        const side = Math.max(g.h, g.w);
        if (side > best.side) best = { where: `${key}[${i}].${io}`, h: g.h, w: g.w, side };
      }
    });
  }
  return best;
}

/** Tasks kept on a canvas and those left out, each with its largest grid. */
export interface CanvasFit {
  /** Side of the square canvas, in cells. */
  canvas: number;
  /** Tasks whose every grid fits, in input order. */
  kept: ArcTask[];
  /** Tasks with a grid larger than the canvas, in input order, each with that grid. */
  excluded: { task: ArcTask; largest: LargestGrid }[];
}

/**
 * Splits tasks into those whose every grid fits a `canvas` x `canvas` canvas and those left out (never
 * cropped), keeping the input order in both.
 *
 * @example
 * ```ts
 * import { fitCanvas } from "./arc.ts";
 * const g = (h: number, w: number) => ({ h, w, cells: new Uint8Array(h * w) });
 * const t = (id: string, s: number) => ({ id, subset: "training" as const, train: [{ input: g(s, s), output: g(1, 1) }], test: [] });
 * const fit = fitCanvas([t("a", 10), t("b", 11)], 10);
 * [fit.kept.map((x) => x.id), fit.excluded.map((x) => x.task.id)]; // [["a"], ["b"]]
 * ```
 */
export function fitCanvas(tasks: readonly ArcTask[], canvas: number): CanvasFit {
  const kept: ArcTask[] = [];
  const excluded: CanvasFit["excluded"] = [];
  for (const task of tasks) {
    const largest = largestGrid(task);
    if (largest.side <= canvas) kept.push(task);
    else excluded.push({ task, largest });
  }
  return { canvas, kept, excluded };
}

/** Per subset: tasks and test inputs in all, and those kept on each canvas side. */
export interface CanvasCount {
  /** The subset counted. */
  subset: ArcSubset;
  /** Tasks in the subset. */
  tasks: number;
  /** Test inputs over those tasks. */
  testInputs: number;
  /** By canvas side, in the order asked for. */
  kept: { canvas: number; tasks: number; testInputs: number }[];
}

/**
 * Counts, per subset (in first-seen order), the tasks and test inputs that fit each canvas side.
 *
 * @example
 * ```ts
 * import { canvasCounts } from "./arc.ts";
 * const g = (h: number, w: number) => ({ h, w, cells: new Uint8Array(h * w) });
 * const t = (s: number) => ({ id: `${s}`, subset: "training" as const, train: [{ input: g(s, s), output: g(1, 1) }], test: [{ input: g(1, 1), output: g(1, 1) }] });
 * canvasCounts([t(9), t(12)], [10, 12])[0].kept.map((k) => k.tasks); // [1, 2]
 * ```
 */
export function canvasCounts(tasks: readonly ArcTask[], canvases: readonly number[]): CanvasCount[] {
  const bySubset = new Map<ArcSubset, ArcTask[]>();
  for (const t of tasks) bySubset.set(t.subset, [...(bySubset.get(t.subset) ?? []), t]);
  return [...bySubset].map(([subset, list]) => {
    const sides = list.map((t) => largestGrid(t).side);
    const tests = list.map((t) => t.test.length);
    const sum = (keep: (i: number) => boolean) => tests.reduce((a, n, i) => a + (keep(i) ? n : 0), 0);
    return {
      subset,
      tasks: list.length,
      testInputs: sum(() => true),
      kept: canvases.map((canvas) => ({
        canvas,
        tasks: sides.filter((s) => s <= canvas).length,
        testInputs: sum((i) => sides[i] <= canvas),
      })),
    };
  });
}
