/**
 * A run's data: N-Queens generated from its seed, or ARC tasks (optionally a subset) with TRM's
 * augmentation index; both splits in TRM's layout, their shape and a content hash.
 *
 * @module
 */
import { DataError } from "../errors.ts";
import {
  ARC_MAX_SIZE,
  ARC_SETS,
  type ArcIndex,
  arcSplits,
  type ArcTask,
  augmentationProblem,
  buildArcIndexFromTasks,
  type DataProgress,
  defaultCacheDir,
  examplesHash,
  excludedTasks,
  fitCanvas,
  generateNQueens,
  generateNQueensValidation,
  largestGrid,
  loadSubset,
  type NQueensSet,
  nqueensSplit,
  numExamples,
  numIdentifiers,
  type PuzzleSplit,
} from "../data/mod.ts";
import { canonicalJson, sha256Hex } from "../report/mod.ts";
import { type EvalData } from "../eval/mod.ts";
import { exists, isDirectory } from "../io/mod.ts";
import { type TrainConfig } from "./config.ts";

/** The data of a run: both splits in TRM's layout, their shape, and a content hash. */
export interface RunData {
  /** The task, which decides how the splits are evaluated. */
  kind: "nqueens" | "arc";
  /** The training split. */
  train: PuzzleSplit;
  /** The scored split (the test set). */
  test: PuzzleSplit;
  /** ARC: the held-out test pairs of training tasks (`data.validation`), never the scored split; else null. */
  validation: PuzzleSplit | null;
  /** Vocabulary size of the tokens, V. */
  vocabSize: number;
  /** Tokens per example, L. */
  seqLen: number;
  /** Rows of the puzzle-embedding table (including the blank id 0). */
  numPuzzleIds: number;
  /** SHA-256 (hex) of the data's content and its generation settings. */
  dataHash: string;
  /** Counts for results.json: examples, puzzles and groups per split. */
  counts: Record<string, number>;
  /** The generated set (N-Queens). */
  nqueens?: NQueensSet;
  /** The augmentation index (ARC). */
  arc?: ArcIndex;
  /** The folder the ARC tasks were read from. */
  dataDir?: string;
}

function splitCounts(split: PuzzleSplit): { examples: number; puzzles: number; groups: number } {
  return {
    examples: numExamples(split),
    puzzles: split.puzzleIndices.length - 1,
    groups: split.groupIndices.length - 1,
  };
}

function selectTasks(
  tasks: ArcTask[],
  subset: NonNullable<Extract<TrainConfig["data"], { kind: "arc" }>["subset"]>,
  canvas: number,
) {
  if ("ids" in subset) {
    const known = new Set(tasks.map((t) => t.id));
    const missing = subset.ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      throw new DataError(
        `Cannot select ARC tasks: key "data.subset.ids" names ${missing.map((m) => `"${m}"`).join(", ")}, ` +
          "which the set does not have",
      );
    }
    const keep = new Set(subset.ids);
    const chosen = tasks.filter((t) => keep.has(t.id));
    // A task the config names is never dropped silently: a canvas too small for it is the config's error.
    const tooBig = chosen.find((t) => largestGrid(t).side > canvas);
    if (tooBig) {
      const g = largestGrid(tooBig);
      throw new DataError(
        `Cannot select ARC tasks: key "data.subset.ids" names "${tooBig.id}" (${tooBig.subset}), whose ${g.h}x${g.w} ` +
          `grid (${g.where}) does not fit the ${canvas}x${canvas} canvas of key "data.canvas" (expected a canvas ` +
          `of at least ${g.side}, or leave the task out)`,
      );
    }
    return chosen;
  }
  tasks = fitCanvas(tasks, canvas).kept;
  const bySubset = new Map<string, ArcTask[]>();
  for (const t of tasks) bySubset.set(t.subset, [...(bySubset.get(t.subset) ?? []), t]);
  const keep = new Set<ArcTask>();
  for (const list of bySubset.values()) {
    for (const t of [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, subset.tasks)) {
      keep.add(t);
    }
  }
  return tasks.filter((t) => keep.has(t));
}

/**
 * Loads or generates the data a config names. N-Queens is generated from `data.seed` (default: the run's
 * seed); ARC is read from `data.data_dir` (default: `opts.dataDir`, which the CLI takes from --data-dir or
 * $TRM_DIS_DATA_DIR; else the fetch cache), reduced to
 * `data.subset`, and indexed with its augmentations. A missing folder or task is a DataError (exit 2).
 *
 * @example
 * ```ts
 * import { loadRunData } from "./run_data.ts";
 * import { resolveTrainConfig } from "./config.ts";
 * const { config } = resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }, "x");
 * const data = await loadRunData(config);
 * data.counts.test_examples; // 200
 * ```
 */
export async function loadRunData(
  cfg: TrainConfig,
  opts: { onProgress?: DataProgress; dataDir?: string } = {},
): Promise<RunData> {
  const d = cfg.data;
  const seed = d.seed ?? cfg.seed;
  if (d.kind === "nqueens") {
    const set = generateNQueens(d.variant, seed);
    const train = nqueensSplit(set, "train");
    const test = nqueensSplit(set, "test");
    const valExamples = d.validation ? generateNQueensValidation(set, d.validation) : null;
    const validation = valExamples ? nqueensSplit(set, valExamples) : null;
    return {
      kind: "nqueens",
      train,
      test,
      vocabSize: train.vocabSize,
      seqLen: train.seqLen,
      numPuzzleIds: train.numIdentifiers,
      validation,
      // Unchanged without validation boards, so earlier runs keep their hashes.
      dataHash: valExamples
        ? sha256Hex(`${set.hashes.set}\nvalidation ${examplesHash(valExamples)}\n`)
        : set.hashes.set,
      counts: validation
        ? { ...countsOf(train, test), validation_examples: splitCounts(validation).examples }
        : countsOf(train, test),
      nqueens: set,
    };
  }
  const dataDir = d.data_dir ?? opts.dataDir ?? defaultCacheDir();
  if (!(await isDirectory(dataDir))) {
    const state = (await exists(dataDir)) ? "is not a folder" : "does not exist";
    throw new DataError(
      `Cannot load ARC set "${d.set}": data directory "${dataDir}" ${state} (expected the ARC data folder; set ` +
        "data.data_dir or $TRM_DIS_DATA_DIR, or run `data fetch`)",
    );
  }
  const spec = ARC_SETS[d.set];
  const canvas = d.canvas ?? ARC_MAX_SIZE;
  const tasks: ArcTask[] = [];
  for (const s of spec.subsets) tasks.push(...await loadSubset(dataDir, s, d.source));
  const chosen = d.subset === null ? fitCanvas(tasks, canvas).kept : selectTasks(tasks, d.subset, canvas);
  if (!chosen.some((t) => t.subset === spec.testSubset)) {
    throw new DataError(
      `Cannot load ARC set "${d.set}": the selected tasks include none of the test subset "${spec.testSubset}"` +
        (canvas < ARC_MAX_SIZE ? ` that fit the ${canvas}x${canvas} canvas` : ""),
    );
  }
  const tooMany = augmentationProblem(d.augmentations, chosen.length, 'key "data.augmentations"', 4 * cfg.model.hidden);
  if (tooMany !== null) throw new DataError(`Cannot load ARC set "${d.set}": ${tooMany}`);
  const excluded = excludedTasks(tasks, canvas);
  const index = {
    ...buildArcIndexFromTasks(chosen, {
      subsets: [...spec.subsets],
      testSubset: spec.testSubset,
      seed,
      augmentations: d.augmentations,
      canvas,
      validation: d.validation?.tasks ?? 0,
      onProgress: opts.onProgress,
    }),
    set: d.set,
    source: d.source,
    excluded,
  };
  const { train, test, validation } = arcSplits(index);
  // The canvas and validation facts enter the hash and the counts only when set, so a 30 x 30 run's
  // results are what they were before the options existed.
  const extraCounts: Record<string, number> = {};
  if (d.canvas !== undefined) {
    extraCounts.canvas = canvas;
    extraCounts.tasks_excluded = excluded.length;
    extraCounts.test_tasks = index.tasks.filter((t) => t.subset === spec.testSubset).length;
    extraCounts.test_inputs = index.tasks.reduce((a, t) => a + (t.subset === spec.testSubset ? t.test.length : 0), 0);
    // What the canvas left out of the scored subset, so a report can say what was not scored.
    const left = new Set(excluded.filter((e) => e.subset === spec.testSubset).map((e) => e.id));
    extraCounts.test_tasks_excluded = left.size;
    extraCounts.test_inputs_excluded = tasks.reduce(
      (a, t) => a + (t.subset === spec.testSubset && left.has(t.id) ? t.test.length : 0),
      0,
    );
  }
  if (validation) {
    const v = splitCounts(validation);
    Object.assign(extraCounts, {
      validation_tasks: index.validation.length,
      validation_examples: v.examples,
      validation_puzzles: v.puzzles,
    });
  }
  return {
    kind: "arc",
    train,
    test,
    validation,
    vocabSize: train.vocabSize,
    seqLen: train.seqLen,
    numPuzzleIds: numIdentifiers(index),
    dataHash: sha256Hex(canonicalJson({
      augmentations: index.augmentationHash,
      seed,
      source: index.sourceHash,
      testSubset: index.testSubset,
      ...(d.canvas !== undefined ? { canvas } : {}),
      ...(validation ? { validation: index.validation } : {}),
    })),
    counts: { ...countsOf(train, test), tasks: index.tasks.length, ...extraCounts },
    arc: index,
    dataDir,
  };
}

function countsOf(train: PuzzleSplit, test: PuzzleSplit): Record<string, number> {
  const a = splitCounts(train);
  const b = splitCounts(test);
  return {
    train_examples: a.examples,
    train_puzzles: a.puzzles,
    train_groups: a.groups,
    test_examples: b.examples,
    test_puzzles: b.puzzles,
    test_groups: b.groups,
  };
}

/**
 * The split to evaluate, in the form lib/eval's `evaluateModel` takes. ARC can be scored on its test split
 * and, when the run has one, its validation split (the vote needs the answers of the tasks it scores).
 */
export function evalData(data: RunData, which: "test" | "train" | "validation"): EvalData {
  if (data.kind === "arc") {
    if (which === "validation") {
      if (!data.validation) {
        throw new DataError(`Cannot evaluate ARC on the "validation" split: the run has none (set data.validation)`);
      }
      return { kind: "arc", split: data.validation, index: data.arc!, scored: "validation" };
    }
    if (which !== "test") {
      throw new DataError(`Cannot evaluate ARC on the "${which}" split: only "test" and "validation" are scored`);
    }
    return { kind: "arc", split: data.test, index: data.arc! };
  }
  if (which === "validation") {
    if (!data.validation) {
      throw new DataError(`Cannot evaluate the "validation" split: the config sets no "data.validation" boards`);
    }
    return { kind: "nqueens", split: data.validation };
  }
  return { kind: "nqueens", split: which === "test" ? data.test : data.train };
}
