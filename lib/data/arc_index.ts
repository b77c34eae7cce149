/**
 * TRM's ARC build (`dataset/build_arc_dataset.py`) kept as an index: the tasks plus the accepted
 * augmentations per task. Examples are materialised on demand, identical to a dense build.
 *
 * The procedure, per TRM:
 * - subsets in order, tasks shuffled within each subset; each task is one group;
 * - split rule: every demonstration pair goes to train; test pairs of the test subset go to test, test
 *   pairs of the other subsets to train (after the demonstrations);
 * - augmentations: draw a dihedral id 0..7, then a permutation of colours 1..9 (0 fixed); colours are
 *   mapped first, then the grid transformed; an augmentation whose puzzle (the multiset of its
 *   (input, output) pairs, shapes included) equals the original's or an accepted one's is dropped; stop
 *   at N accepted or 5N tries. A task's group is [original, aug 1, ..., aug A] in both splits;
 * - puzzle identifiers 1.. in train order (0 is blank); the same puzzle has the same id in both splits;
 * - translation (train split only): per example an offset drawn from [0, G - max(h_in, h_out)] for
 *   rows and likewise for columns, except one random example per puzzle left at the top-left; G is the
 *   canvas side (TRM's 30, or the reduced benchmark's, docs/data.md).
 *
 * Two options beyond TRM, both off by default so a default build is TRM's:
 * - `canvas`: the side G of the canvas (1..30); every task given must fit it under every dihedral
 *   transform (its longest grid side <= G). {@linkcode buildArcIndex} leaves out, and records in
 *   `excluded`, the tasks that do not fit; {@linkcode buildArcIndexFromTasks} refuses them;
 * - `validation`: N tasks of the first subset (training), drawn from stream `arc/validation`, whose test
 *   pairs are held out of train and form a `validation` split (scored like test, never reported as the
 *   test score). Their demonstrations stay in train, so their puzzles keep their identifiers.
 *
 * Randomness is ours, not numpy's: the task order comes from stream `arc/order/<subset>`, a task's
 * augmentations from stream `arc/augment/<task id>`, and translations from a counter-based generator
 * keyed by (stream `arc/translate`, puzzle, example), so any example can be drawn without the others.
 *
 * Deduplication hashes each candidate with a linear hash over colour-position sums (10 multiply-adds
 * per grid, no cell pass) and compares candidates that collide exactly, so it accepts precisely the
 * augmentations that TRM's SHA-256 puzzle hash accepts (barring SHA-256 collisions).
 *
 * @module
 */
import { deriveSeed, stream } from "../random/mod.ts";
import { formatBytes, largestWithin, MEMORY_LIMIT_BYTES } from "../limits.ts";
import { DataError } from "../errors.ts";
import {
  applyColors,
  ARC_MAX_SIZE,
  ARC_VOCAB,
  arcSeqLen,
  augmentName,
  checkCanvas,
  dihedral,
  encodeGridInto,
  type Grid,
} from "./augment.ts";
import {
  ARC_SETS,
  type ArcPair,
  type ArcSetName,
  type ArcSource,
  type ArcSubset,
  type ArcTask,
  fitCanvas,
  gridToJson,
  loadSubset,
  parseArcSet,
  parseTask,
} from "./arc.ts";
import { createHash } from "node:crypto";
import { counterRng, fmix32, seedWords, sha256Hex } from "./_hash.ts";
import { type PuzzleSplit, rangeOf } from "./sampler.ts";

/** TRM's `ARCAugmentRetriesFactor`. */
export const AUGMENT_RETRIES_FACTOR = 5;

/**
 * The most augmentations a task can have: its 8 dihedral transforms times the 9! permutations of colours
 * 1..9, less the original itself. Beyond it no augmentation can be accepted, and the 5N tries would not end.
 */
export const MAX_AUGMENTATIONS = 8 * 362880 - 1;

/** Bytes an index keeps per accepted augmentation: its dihedral id and its 10-entry colour map. */
const INDEX_BYTES_PER_AUGMENTATION = 11;

/**
 * Why `n` augmentations of `tasks` tasks cannot be built, as text naming `key`, or null when they can: `n`
 * beyond {@linkcode MAX_AUGMENTATIONS}; more puzzles (`tasks * (n + 1)`) than 32-bit identifiers hold; or
 * more memory than lib/limits.ts allows for the index plus, where training needs one, a puzzle-embedding
 * table of `puzzleRowBytes` per puzzle.
 *
 * @example
 * ```ts
 * import { augmentationProblem } from "./arc_index.ts";
 * augmentationProblem(1000, 960, "--augmentations"); // null
 * ```
 */
export function augmentationProblem(n: number, tasks: number, key: string, puzzleRowBytes = 0): string | null {
  const need = (v: number) => tasks * v * INDEX_BYTES_PER_AUGMENTATION + tasks * (v + 1) * puzzleRowBytes;
  const what = () =>
    `${tasks} tasks with ${n} augmentations each would need ${formatBytes(need(n))} for the index` +
    (puzzleRowBytes > 0 ? " and the puzzle-embedding table" : "");
  if (n > MAX_AUGMENTATIONS) {
    return `${key} is ${n}, beyond its bound of ${MAX_AUGMENTATIONS}: a task has at most 8 x 9! = ` +
      `${MAX_AUGMENTATIONS + 1} distinct dihedral and colour variants, the original included; ${what()}`;
  }
  const idBound = Math.floor((2 ** 31 - 1) / Math.max(1, tasks)) - 1;
  if (n > idBound) {
    return `${key} is ${n}, beyond its bound of ${idBound} for ${tasks} tasks: puzzle identifiers are 32-bit ` +
      `(${tasks} x (${n} + 1) puzzles); ${what()}`;
  }
  if (need(n) > MEMORY_LIMIT_BYTES) {
    const bound = largestWithin(need, MEMORY_LIMIT_BYTES, 0, n);
    return `${key} is ${n}, beyond its bound of ${bound} for ${tasks} tasks: ${what()}, against the ` +
      `${formatBytes(MEMORY_LIMIT_BYTES)} memory limit`;
  }
  return null;
}

/** Progress of a long build: `done` of `total` units. */
export type DataProgress = (p: { done: number; total: number; fields?: Record<string, number | string> }) => void;

/** The tasks of a build and every accepted augmentation. */
export interface ArcIndex {
  /** The TRM build the tasks came from, or `custom` for {@linkcode buildArcIndexFromTasks}. */
  set: ArcSetName | "custom";
  /** The file layout the tasks were read from, or `custom` for {@linkcode buildArcIndexFromTasks}. */
  source: ArcSource | "custom";
  /** Master seed of the shuffle and the augmentations. */
  seed: number;
  /** Augmentations asked for per task (TRM's `num_aug`). */
  augmentations: number;
  /** Subsets whose tasks were loaded, in group order. */
  subsets: ArcSubset[];
  /** The subset whose test pairs form the test split. */
  testSubset: ArcSubset;
  /** Side of the canvas (TRM: 30); examples are `canvas * canvas` tokens. */
  canvas: number;
  /** Ids of the tasks whose test pairs form the validation split (sorted; empty: no validation split). */
  validation: string[];
  /** Tasks left out because they do not fit the canvas, in load order (empty when every task fits). */
  excluded: ArcExcluded[];
  /** Tasks in group order: subsets in order, shuffled within each. */
  tasks: ArcTask[];
  /** `augOffsets[k] .. augOffsets[k + 1]` are task k's accepted augmentations [T + 1]. */
  augOffsets: Int32Array;
  /** Dihedral id per accepted augmentation. */
  augDihedral: Uint8Array;
  /** Colour map per accepted augmentation, 10 entries each. */
  augColors: Uint8Array;
  /** SHA-256 of the tasks' content (subset, id, grids), independent of file formatting. */
  sourceHash: string;
  /** SHA-256 of the accepted augmentations in order. */
  augmentationHash: string;
}

/** A task left out of a build: it does not fit the canvas. */
export interface ArcExcluded {
  /** The task's id. */
  id: string;
  /** The subset it came from. */
  subset: ArcSubset;
  /** Its largest grid: where, and its shape. */
  where: string;
  /** Rows of that grid. */
  h: number;
  /** Columns of that grid. */
  w: number;
}

/** Options for {@linkcode buildArcIndex}. */
export interface ArcIndexOptions {
  /** The TRM build to load: `arc-agi-1` or `arc-agi-2` (checked). */
  set: string;
  /** The data directory holding the subsets (see `SUBSET_DIRS`). */
  dataDir: string;
  /** Master seed of the shuffle and the augmentations. */
  seed: number;
  /** Default 1000, as TRM. */
  augmentations?: number;
  /** The file layout to read (default `dirs`, the upstream per-task files). */
  source?: ArcSource;
  /** Canvas side (default 30): tasks that do not fit are left out and listed in `excluded`. */
  canvas?: number;
  /** Training tasks whose test pairs form the validation split (default 0: none). */
  validation?: number;
  /** Called after each task's augmentations are drawn (`done` of `total` tasks). */
  onProgress?: DataProgress;
  /** How messages name the augmentation count (default "augmentations"; the CLI's "--augmentations"). */
  augmentationsKey?: string;
}

/** The options of {@linkcode buildArcIndexFromTasks}. */
export interface ArcIndexBuildOptions {
  /** Subsets the tasks belong to, in group order. */
  subsets: ArcSubset[];
  /** The subset whose test pairs form the test split. */
  testSubset: ArcSubset;
  /** Master seed of the shuffle and the augmentations. */
  seed: number;
  /** Augmentations asked for per task (TRM's `num_aug`). */
  augmentations: number;
  /** Canvas side (default 30); every task must fit it. */
  canvas?: number;
  /** Tasks of `subsets[0]` whose test pairs form the validation split (default 0). */
  validation?: number;
  /** Called after each task's augmentations are drawn (`done` of `total` tasks). */
  onProgress?: DataProgress;
}

/** The tasks that do not fit a canvas, as an index records them. */
export function excludedTasks(tasks: readonly ArcTask[], canvas: number): ArcExcluded[] {
  return fitCanvas(tasks, canvas).excluded.map(({ task, largest }) => ({
    id: task.id,
    subset: task.subset,
    where: largest.where,
    h: largest.h,
    w: largest.w,
  }));
}

/**
 * Loads a set's subsets and builds its index.
 *
 * @example
 * ```ts ignore
 * const index = await buildArcIndex({ set: "arc-agi-1", dataDir: Deno.env.get("TRM_DIS_DATA_DIR")!, seed: 0 });
 * const { train, test } = arcSplits(index);
 * ```
 */
export async function buildArcIndex(opts: ArcIndexOptions): Promise<ArcIndex> {
  const set = parseArcSet(opts.set);
  const source = opts.source ?? "dirs";
  const spec = ARC_SETS[set];
  const canvas = checkCanvas(opts.canvas ?? ARC_MAX_SIZE);
  const bySubset: ArcTask[][] = [];
  for (const s of spec.subsets) bySubset.push(await loadSubset(opts.dataDir, s, source));
  const fit = fitCanvas(bySubset.flat(), canvas);
  const tooMany = augmentationProblem(
    opts.augmentations ?? 1000,
    fit.kept.length,
    opts.augmentationsKey ?? "augmentations",
  );
  if (tooMany !== null) throw new DataError(`Cannot build the ARC index: ${tooMany}`);
  const index = buildArcIndexFromTasks(fit.kept, {
    subsets: [...spec.subsets],
    testSubset: spec.testSubset,
    seed: opts.seed,
    augmentations: opts.augmentations ?? 1000,
    canvas,
    validation: opts.validation,
    onProgress: opts.onProgress,
  });
  return { ...index, set, source, excluded: excludedTasks(bySubset.flat(), canvas) };
}

/**
 * Builds an index from tasks already loaded (their `subset` fields must be among `subsets`). A task that
 * does not fit `opts.canvas` is a DataError naming it and its largest grid.
 */
export function buildArcIndexFromTasks(tasks: ArcTask[], opts: ArcIndexBuildOptions): ArcIndex {
  const { subsets, testSubset, seed, augmentations } = opts;
  if (!Number.isInteger(augmentations) || augmentations < 0) {
    throw new RangeError(
      `Cannot build the ARC index: augmentations must be a non-negative integer, got ${augmentations}`,
    );
  }
  const canvas = checkCanvas(opts.canvas ?? ARC_MAX_SIZE);
  const tooBig = fitCanvas(tasks, canvas).excluded[0];
  if (tooBig !== undefined) {
    const { task, largest } = tooBig;
    throw new DataError(
      `Cannot build the ARC index on a ${canvas}x${canvas} canvas: task "${task.id}" (${task.subset}) has a ` +
        `${largest.h}x${largest.w} grid (${largest.where}); raise the canvas to ${largest.side} or leave the task out`,
    );
  }
  const seen = new Map<string, ArcTask>();
  const where = (t: ArcTask) => (t.file === undefined ? `subset "${t.subset}"` : `"${t.file}" (${t.subset})`);
  for (const t of tasks) {
    const prev = seen.get(t.id);
    if (prev !== undefined) {
      throw new DataError(
        `Cannot build the ARC index: task id "${t.id}" occurs twice, in ${where(prev)} and in ${where(t)} ` +
          "(ids must be unique: rename or remove one of the files)",
      );
    }
    seen.set(t.id, t);
  }
  const ordered: ArcTask[] = [];
  for (const s of subsets) {
    const inSubset = tasks.filter((t) => t.subset === s);
    // Shuffle from a canonical order so the result does not depend on how files were listed.
    inSubset.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    ordered.push(...stream(seed, `arc/order/${s}`).shuffle(inSubset));
  }
  const stray = tasks.find((t) => !subsets.includes(t.subset));
  if (stray) throw new DataError(`Cannot build the ARC index: task "${stray.id}" is in subset "${stray.subset}"`);
  const validation = validationTasks(tasks, subsets[0], testSubset, seed, opts.validation ?? 0);

  const augOffsets = new Int32Array(ordered.length + 1);
  let augDihedral = new Uint8Array(1024);
  let augColors = new Uint8Array(10240);
  for (let k = 0; k < ordered.length; k++) {
    const accepted = augmentTask(ordered[k], augmentations, seed);
    const start = augOffsets[k];
    const end = start + accepted.length;
    if (end > augDihedral.length) {
      const cap = Math.max(end, 2 * augDihedral.length);
      const d = new Uint8Array(cap);
      d.set(augDihedral);
      const c = new Uint8Array(cap * 10);
      c.set(augColors);
      augDihedral = d;
      augColors = c;
    }
    accepted.forEach((a, i) => {
      augDihedral[start + i] = a.t;
      augColors.set(a.colors, (start + i) * 10);
    });
    augOffsets[k + 1] = end;
    opts.onProgress?.({ done: k + 1, total: ordered.length, fields: { augmentations: end } });
  }
  const total = augOffsets[ordered.length];
  const index: ArcIndex = {
    set: "custom",
    source: "custom",
    seed,
    augmentations,
    subsets: [...subsets],
    testSubset,
    canvas,
    validation,
    excluded: [],
    tasks: ordered,
    augOffsets,
    augDihedral: augDihedral.slice(0, total),
    augColors: augColors.slice(0, total * 10),
    sourceHash: sourceHash(tasks),
    augmentationHash: "",
  };
  index.augmentationHash = augmentationHash(index);
  return index;
}

/** Draws the validation tasks: `n` tasks of `subset` (by id, shuffled by stream `arc/validation`), sorted. */
function validationTasks(
  tasks: readonly ArcTask[],
  subset: ArcSubset,
  testSubset: ArcSubset,
  seed: number,
  n: number,
): string[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot build the ARC index: validation must be a non-negative integer, got ${n}`);
  }
  if (n === 0) return [];
  const pool = subset === testSubset ? [] : tasks.filter((t) => t.subset === subset).map((t) => t.id).sort();
  if (n > pool.length) {
    throw new DataError(
      `Cannot build the ARC index: ${n} validation tasks asked for, but subset "${subset}" has ${pool.length} tasks`,
    );
  }
  return stream(seed, "arc/validation").shuffle(pool).slice(0, n).sort();
}

function sourceHash(tasks: ArcTask[]): string {
  const lines = tasks
    .map((t) => `${t.subset}/${t.id} ${JSON.stringify({ train: pairsJson(t.train), test: pairsJson(t.test) })}`)
    .sort();
  return sha256Hex(lines.join("\n"));
}

function pairsJson(ps: ArcPair[]) {
  return ps.map((p) => [gridToJson(p.input), gridToJson(p.output)]);
}

/** The accepted augmentations of task k as 10-character codes: the dihedral id, then colours 1..9. */
export function augmentationCodes(index: ArcIndex, k: number): string {
  return new TextDecoder().decode(codeBytes(index, k));
}

function codeBytes(index: ArcIndex, k: number): Uint8Array {
  const a0 = index.augOffsets[k];
  const n = index.augOffsets[k + 1] - a0;
  const out = new Uint8Array(n * 10);
  for (let i = 0; i < n; i++) {
    out[i * 10] = 48 + index.augDihedral[a0 + i];
    for (let c = 1; c < 10; c++) out[i * 10 + c] = 48 + index.augColors[(a0 + i) * 10 + c];
  }
  return out;
}

function augmentationHash(index: ArcIndex): string {
  const h = createHash("sha256");
  const enc = new TextEncoder();
  index.tasks.forEach((t, k) => {
    h.update(enc.encode(`${t.id} `));
    h.update(codeBytes(index, k));
    h.update(enc.encode("\n"));
  });
  return h.digest("hex");
}

// ---- deduplication ----

/** Random odd constants per colour value, two lanes. */
const COLOR_KEYS = [0, 1].map((lane) =>
  Uint32Array.from({ length: 10 }, (_, v) => (fmix32((v + 1) * 0x9e3779b1 + lane * 0x7f4a7c15) | 1) >>> 0)
);

function positionKey(lane: number, h: number, w: number, i: number): number {
  return fmix32((Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(h * 32 + w + 1, 0x85ebca77) ^ (lane * 0xc2b2ae3d)) >>> 0);
}

/** The canonical form of an augmented task: its pairs' bytes (shape and cells), sorted. */
function canonical(pairs: ArcPair[], t: number, colors: ArrayLike<number>): string {
  const enc = (g: Grid) => String.fromCharCode(g.h, g.w, ...g.cells);
  return pairs
    .map((p) => enc(dihedral(applyColors(p.input, colors), t)) + "|" + enc(dihedral(applyColors(p.output, colors), t)))
    .sort()
    .join("\n");
}

/**
 * TRM's augmentation loop for one task: returns the accepted (dihedral, colours) in acceptance order.
 * Exported for the benchmark and tests.
 */
export function augmentTask(task: ArcTask, count: number, seed: number): { t: number; colors: Uint8Array }[] {
  if (count === 0) return [];
  const pairs = [...task.train, ...task.test];
  const P = pairs.length;
  // sums[((t * P + p) * 2 + io) * 2 + lane][c]: position-key sum of colour c in that transformed grid.
  const sums = new Uint32Array(8 * P * 2 * 2 * 10);
  const shapes = new Uint32Array(8 * P * 2);
  for (let t = 0; t < 8; t++) {
    for (let p = 0; p < P; p++) {
      for (let io = 0; io < 2; io++) {
        const g = dihedral(io === 0 ? pairs[p].input : pairs[p].output, t);
        const slot = (t * P + p) * 2 + io;
        shapes[slot] = g.h * 32 + g.w;
        for (let lane = 0; lane < 2; lane++) {
          const base = (slot * 2 + lane) * 10;
          for (let i = 0; i < g.cells.length; i++) {
            sums[base + g.cells[i]] = (sums[base + g.cells[i]] + positionKey(lane, g.h, g.w, i)) >>> 0;
          }
        }
      }
    }
  }
  const identity = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const keyOf = (t: number, colors: ArrayLike<number>): number => {
    let acc0 = 0;
    let acc1 = 0;
    for (let p = 0; p < P; p++) {
      const lanes = [0, 0];
      for (let lane = 0; lane < 2; lane++) {
        const K = COLOR_KEYS[lane];
        let hin = 0;
        let hout = 0;
        const bi = (((t * P + p) * 2) * 2 + lane) * 10;
        const bo = (((t * P + p) * 2 + 1) * 2 + lane) * 10;
        for (let c = 0; c < 10; c++) {
          const k = K[colors[c]];
          hin = (hin + Math.imul(sums[bi + c], k)) >>> 0;
          hout = (hout + Math.imul(sums[bo + c], k)) >>> 0;
        }
        const sIn = shapes[(t * P + p) * 2];
        const sOut = shapes[(t * P + p) * 2 + 1];
        lanes[lane] = fmix32(
          (fmix32((hin ^ Math.imul(sIn, 0x27d4eb2f)) >>> 0) + Math.imul(hout ^ sOut, 0x165667b1)) >>> 0,
        );
      }
      acc0 = (acc0 + lanes[0]) >>> 0;
      acc1 = (acc1 + fmix32(lanes[1] ^ 0x5bd1e995)) >>> 0;
    }
    return acc0 * 2097152 + (acc1 >>> 11);
  };
  // key -> canonical forms already taken (computed only when a key repeats).
  const taken = new Map<number, { t: number; colors: ArrayLike<number>; canon?: string }[]>();
  taken.set(keyOf(0, identity), [{ t: 0, colors: identity }]);
  // Candidates that agree on the dihedral id and on the colours the task uses give byte-identical
  // puzzles, so a repeat of such a signature is a duplicate without any hashing.
  const used: number[] = [];
  for (let c = 0; c < 10; c++) {
    if (pairs.some((p) => p.input.cells.includes(c) || p.output.cells.includes(c))) used.push(c);
  }
  const signatures = new Set<string>();
  const signature = (t: number, colors: ArrayLike<number>) => String.fromCharCode(t, ...used.map((c) => colors[c]));
  signatures.add(signature(0, identity));
  const rng = stream(seed, `arc/augment/${task.id}`);
  const accepted: { t: number; colors: Uint8Array }[] = [];
  const colors = new Uint8Array(10);
  for (let trial = 0; trial < AUGMENT_RETRIES_FACTOR * count && accepted.length < count; trial++) {
    // TRM's draw order: the dihedral id, then the permutation of 1..9.
    const t = rng.int(8);
    const perm = rng.permutation(9);
    colors[0] = 0;
    for (let c = 1; c < 10; c++) colors[c] = perm[c - 1] + 1;
    const sig = signature(t, colors);
    if (signatures.has(sig)) continue;
    signatures.add(sig);
    const key = keyOf(t, colors);
    const bucket = taken.get(key);
    if (bucket !== undefined) {
      const mine = canonical(pairs, t, colors);
      if (bucket.some((b) => (b.canon ??= canonical(pairs, b.t, b.colors)) === mine)) continue;
      const entry = { t, colors: colors.slice(), canon: mine };
      bucket.push(entry);
      accepted.push(entry);
    } else {
      const entry = { t, colors: colors.slice() };
      taken.set(key, [entry]);
      accepted.push(entry);
    }
  }
  return accepted.map(({ t, colors }) => ({ t, colors: colors as Uint8Array }));
}

// ---- splits ----

/** The splits of an ARC index. */
export type ArcSplitName = "train" | "test" | "validation";

/** A split of an ARC index, with the names and augmentation behind each puzzle and example. */
export interface ArcSplit extends PuzzleSplit {
  /** Which split of the index this is. */
  readonly which: ArcSplitName;
  /** Canvas side: examples are `canvas * canvas` tokens. */
  readonly canvas: number;
  /** The task index (into `index.tasks`) of each group [G]. */
  readonly groupTasks: Int32Array;
  /** Puzzle name of puzzle p (TRM's identifier string). */
  puzzleName(p: number): string;
  /** What example e is: its puzzle, task, augmentation, pair and canvas offset. */
  describe(e: number): ArcExampleInfo;
}

/** Where an example comes from. */
export interface ArcExampleInfo {
  /** Puzzle index of the example in the split. */
  puzzle: number;
  /** Id of the task it comes from. */
  task: string;
  /** Augmentation index within the task (0 = original). */
  augmentation: number;
  /** Dihedral transform id, 0..7 in TRM's numbering (0 = identity). */
  dihedral: number;
  /** Colour map: colour c of the task is drawn as `colors[c]` (10 entries). */
  colors: number[];
  /** Index of the pair within the split's pairs of the task (demonstrations first). */
  pair: number;
  /** Row of the canvas where the grid's top-left cell is placed. */
  rowOffset: number;
  /** Column of the canvas where the grid's top-left cell is placed. */
  colOffset: number;
}

const IDENTITY = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

/** Train and test splits of an index, in TRM's layout, and the validation split (null when none). */
export function arcSplits(index: ArcIndex): { train: ArcSplit; test: ArcSplit; validation: ArcSplit | null } {
  return {
    train: arcSplit(index, "train"),
    test: arcSplit(index, "test"),
    validation: index.validation.length > 0 ? arcSplit(index, "validation") : null,
  };
}

/**
 * The pairs of task `t` that go to a split (TRM's split rule); `heldOut` marks a validation task, whose
 * test pairs go to the validation split instead of train.
 */
export function splitPairs(t: ArcTask, which: ArcSplitName, testSubset: ArcSubset, heldOut = false): ArcPair[] {
  if (which === "test") return t.subset === testSubset ? t.test : [];
  if (which === "validation") return heldOut && t.subset !== testSubset ? t.test : [];
  return t.subset === testSubset || heldOut ? t.train : [...t.train, ...t.test];
}

/** The tasks a split is scored on (test: the test subset's tasks; validation: the held-out tasks). */
export function scoredTasks(index: ArcIndex, which: "test" | "validation"): ArcTask[] {
  if (which === "test") return index.tasks.filter((t) => t.subset === index.testSubset);
  const held = new Set(index.validation);
  return index.tasks.filter((t) => held.has(t.id));
}

/** Total puzzle identifiers of an index, including the blank id 0. */
export function numIdentifiers(index: ArcIndex): number {
  return 1 + index.tasks.length + index.augDihedral.length;
}

/** The puzzle name for an identifier (0 is `<blank>`), as in TRM's `identifiers.json`. */
export function identifierName(index: ArcIndex, id: number): string {
  if (id === 0) return "<blank>";
  // Train puzzle p has id p + 1, and train puzzles of task k start at k + augOffsets[k].
  const p = id - 1;
  let lo = 0;
  let hi = index.tasks.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (mid + index.augOffsets[mid] <= p) lo = mid;
    else hi = mid;
  }
  const a = p - (lo + index.augOffsets[lo]);
  if (a < 0 || a > index.augOffsets[lo + 1] - index.augOffsets[lo]) {
    throw new RangeError(`Cannot name puzzle identifier ${id}: the index has ${numIdentifiers(index)}`);
  }
  const [t, colors] = augmentationOf(index, lo, a);
  return augmentName(index.tasks[lo].id, t, colors);
}

function augmentationOf(index: ArcIndex, k: number, a: number): [number, Uint8Array] {
  if (a === 0) return [0, IDENTITY];
  const g = index.augOffsets[k] + a - 1;
  return [index.augDihedral[g], index.augColors.subarray(g * 10, g * 10 + 10)];
}

function arcSplit(index: ArcIndex, which: ArcSplitName): ArcSplit {
  const { tasks, augOffsets, testSubset, canvas } = index;
  const held = new Set(index.validation);
  const pairsOf = (k: number) => splitPairs(tasks[k], which, testSubset, held.has(tasks[k].id));
  const groupTasks: number[] = [];
  for (let k = 0; k < tasks.length; k++) if (pairsOf(k).length > 0) groupTasks.push(k);
  const G = groupTasks.length;
  const groupIndices = new Int32Array(G + 1);
  for (let g = 0; g < G; g++) {
    const k = groupTasks[g];
    groupIndices[g + 1] = groupIndices[g] + 1 + augOffsets[k + 1] - augOffsets[k];
  }
  const P = groupIndices[G];
  const puzzleIndices = new Int32Array(P + 1);
  const puzzleIdentifiers = new Int32Array(P);
  for (let g = 0; g < G; g++) {
    const k = groupTasks[g];
    const n = pairsOf(k).length;
    for (let p = groupIndices[g]; p < groupIndices[g + 1]; p++) {
      puzzleIndices[p + 1] = puzzleIndices[p] + n;
      // The id of (task k, augmentation a) is its position in the train split, plus 1.
      puzzleIdentifiers[p] = 1 + k + augOffsets[k] + (p - groupIndices[g]);
    }
  }
  const translate = which === "train";
  const key = seedWords(deriveSeed(index.seed, "arc/translate"));
  const tasksPairs = tasks.map((_, k) => pairsOf(k));

  const locate = (e: number) => {
    const p = rangeOf(puzzleIndices, e);
    const g = rangeOf(groupIndices, p);
    const k = groupTasks[g];
    const a = p - groupIndices[g];
    const j = e - puzzleIndices[p];
    const n = puzzleIndices[p + 1] - puzzleIndices[p];
    return { p, k, a, j, n };
  };
  const offsets = (p: number, j: number, n: number, inp: Grid, out: Grid): [number, number] => {
    if (!translate) return [0, 0];
    const noAug = counterRng(key, p, -1).int(n);
    if (j === noAug) return [0, 0];
    const rng = counterRng(key, p, j);
    const r = rng.int(canvas - Math.max(inp.h, out.h) + 1);
    const c = rng.int(canvas - Math.max(inp.w, out.w) + 1);
    return [r, c];
  };
  const augmented = (k: number, a: number, j: number) => {
    const [t, colors] = augmentationOf(index, k, a);
    const pair = tasksPairs[k][j];
    return {
      t,
      colors,
      input: dihedral(applyColors(pair.input, colors), t),
      output: dihedral(applyColors(pair.output, colors), t),
    };
  };

  return {
    which,
    canvas,
    seqLen: arcSeqLen(canvas),
    vocabSize: ARC_VOCAB,
    numIdentifiers: numIdentifiers(index),
    ignoreLabelId: 0,
    groupIndices,
    puzzleIndices,
    puzzleIdentifiers,
    groupTasks: Int32Array.from(groupTasks),
    writeExample(e, inputs, labels, at) {
      const { p, k, a, j, n } = locate(e);
      const { input, output } = augmented(k, a, j);
      const [r, c] = offsets(p, j, n, input, output);
      encodeGridInto(inputs, at, input, r, c, canvas);
      encodeGridInto(labels, at, output, r, c, canvas);
    },
    puzzleName(p) {
      return identifierName(index, puzzleIdentifiers[p]);
    },
    describe(e) {
      const { p, k, a, j, n } = locate(e);
      const { t, colors, input, output } = augmented(k, a, j);
      const [r, c] = offsets(p, j, n, input, output);
      return {
        puzzle: p,
        task: tasks[k].id,
        augmentation: a,
        dihedral: t,
        colors: [...colors],
        pair: j,
        rowOffset: r,
        colOffset: c,
      };
    },
  };
}

// ---- the index on disk ----

/** The index file's format tag and version. */
export const ARC_INDEX_FORMAT = "trm-dis-arc-index";
/** Version of the index file's layout; {@linkcode arcIndexFromJson} rejects any other. */
export const ARC_INDEX_VERSION = 1;

/**
 * The index as JSON (`index.json`): tasks with their grids and augmentation codes. `canvas`, `validation`
 * and `excluded` are written only when they differ from TRM's build (30, none, none), so a default index
 * file is what it was before the options existed.
 */
export function arcIndexToJson(index: ArcIndex): Record<string, unknown> {
  return {
    format: ARC_INDEX_FORMAT,
    version: ARC_INDEX_VERSION,
    set: index.set,
    source: index.source,
    seed: index.seed,
    augmentations: index.augmentations,
    subsets: index.subsets,
    testSubset: index.testSubset,
    ...(index.canvas !== ARC_MAX_SIZE ? { canvas: index.canvas } : {}),
    ...(index.validation.length > 0 ? { validation: index.validation } : {}),
    ...(index.excluded.length > 0 ? { excluded: index.excluded } : {}),
    sourceHash: index.sourceHash,
    augmentationHash: index.augmentationHash,
    tasks: index.tasks.map((t, k) => ({
      id: t.id,
      subset: t.subset,
      train: t.train.map((p) => ({ input: gridToJson(p.input), output: gridToJson(p.output) })),
      test: t.test.map((p) => ({ input: gridToJson(p.input), output: gridToJson(p.output) })),
      augmentations: augmentationCodes(index, k),
    })),
  };
}

/** Reads an index written by {@linkcode arcIndexToJson}, checking its hashes. */
export function arcIndexFromJson(value: unknown, file: string): ArcIndex {
  const fail = (why: string): never => {
    throw new DataError(`Cannot load the ARC index "${file}": ${why}`);
  };
  if (typeof value !== "object" || value === null) fail("not a JSON object");
  const v = value as Record<string, unknown>;
  if (v.format !== ARC_INDEX_FORMAT || v.version !== ARC_INDEX_VERSION) {
    fail(`expected format "${ARC_INDEX_FORMAT}" version ${ARC_INDEX_VERSION}, got ${v.format} ${v.version}`);
  }
  if (!Array.isArray(v.tasks)) fail(`"tasks" is not a list`);
  const raw = v.tasks as Record<string, unknown>[];
  const tasks = raw.map((t) => parseTask(t, String(t.id), t.subset as ArcSubset, file));
  const augOffsets = new Int32Array(tasks.length + 1);
  const codes = raw.map((t, k) => {
    const c = t.augmentations;
    if (typeof c !== "string" || c.length % 10 !== 0 || !/^[0-9]*$/.test(c)) {
      fail(`task "${tasks[k].id}" has malformed "augmentations"`);
    }
    augOffsets[k + 1] = augOffsets[k] + (c as string).length / 10;
    return c as string;
  });
  const n = augOffsets[tasks.length];
  const augDihedral = new Uint8Array(n);
  const augColors = new Uint8Array(n * 10);
  codes.forEach((c, k) => {
    for (let i = 0; i < c.length / 10; i++) {
      const a = augOffsets[k] + i;
      augDihedral[a] = c.charCodeAt(i * 10) - 48;
      for (let j = 1; j < 10; j++) augColors[a * 10 + j] = c.charCodeAt(i * 10 + j) - 48;
    }
  });
  const index: ArcIndex = {
    set: v.set as ArcSetName,
    source: v.source as ArcSource,
    seed: v.seed as number,
    augmentations: v.augmentations as number,
    subsets: v.subsets as ArcSubset[],
    testSubset: v.testSubset as ArcSubset,
    canvas: (v.canvas ?? ARC_MAX_SIZE) as number,
    validation: (v.validation ?? []) as string[],
    excluded: (v.excluded ?? []) as ArcExcluded[],
    tasks,
    augOffsets,
    augDihedral,
    augColors,
    sourceHash: sourceHash(tasks),
    augmentationHash: "",
  };
  index.augmentationHash = augmentationHash(index);
  if (index.sourceHash !== v.sourceHash || index.augmentationHash !== v.augmentationHash) {
    fail("its content does not match its recorded hashes (edited or corrupt)");
  }
  try {
    checkCanvas(index.canvas);
  } catch (e) {
    fail((e as Error).message);
  }
  const tooBig = fitCanvas(tasks, index.canvas).excluded[0];
  if (tooBig) fail(`task "${tooBig.task.id}" does not fit its ${index.canvas}x${index.canvas} canvas`);
  const ids = new Set(tasks.map((t) => t.id));
  const stray = index.validation.find((id) => !ids.has(id));
  if (stray !== undefined) fail(`validation task "${stray}" is not among its tasks`);
  return index;
}
