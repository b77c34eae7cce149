/**
 * What a training run is made of, and the run folder it leaves:
 *
 * ```
 * RUN/
 *   config.yaml          the resolved config (every value explicit); --resume refuses a different one
 *   metrics.jsonl        one line per log (kind "train") and per evaluation (kind "eval")
 *   results.json         byte-stable final results: evaluation, forward passes, parameters (no times)
 *   report.md, *.svg     generated from the results and the metrics (byte-stable)
 *   run.json             provenance: dates, git, backend, wall and training time, throughput
 *   model.safetensors    final live weights and `puzzle_emb.weight` (PyTorch-readable)
 *   ema.safetensors      final EMA weights, when the run uses EMA
 *   submission.json      ARC only: Kaggle's attempts from the final evaluation
 *   checkpoints/         lib/train checkpoint.ts: step-NNNNNN/ folders and the `latest` pointer
 *   eval/<split>-step-NNNNNN/   what `cli eval` writes: eval.json, report.md (and submission.json)
 * ```
 *
 * This file loads a run's data ({@linkcode loadRunData}), builds its model ({@linkcode buildModel}),
 * and reopens a finished or interrupted run with its trained weights ({@linkcode openTrainedRun}).
 *
 * @module
 */
import { join } from "node:path";
import { CheckpointError, DataError } from "../errors.ts";
import {
  ARC_SETS,
  type ArcIndex,
  arcSplits,
  type ArcTask,
  buildArcIndexFromTasks,
  type DataProgress,
  defaultCacheDir,
  examplesHash,
  generateNQueens,
  generateNQueensValidation,
  loadSubset,
  type NQueensSet,
  nqueensSplit,
  numExamples,
  numIdentifiers,
  type PuzzleSplit,
} from "../data/mod.ts";
import {
  type BackboneConfig,
  forwardPasses,
  type ForwardPassStats,
  type MethodConfig,
  RecursiveModel,
} from "../model/mod.ts";
import { stream } from "../random/mod.ts";
import {
  canonicalJson,
  type Column,
  formatNumber,
  lineChartSvg,
  type LineSeries,
  type MetricRecord,
  type ProgressFn,
  renderReport,
  type ReportSection,
  type RunFolder,
  sha256Hex,
  stableJson,
} from "../report/mod.ts";
import { type EvalData, type EvalResult, type EvalSummary, evaluateModel } from "../eval/mod.ts";
import { isDirectory, replaceDirAtomic, writeTextAtomic } from "../io/mod.ts";
import { checkpointDirName, findLatestCheckpoint, loadCheckpoint } from "./checkpoint.ts";
import { writeSafetensorsFile } from "./safetensors.ts";
import { backboneConfig, type LoadedTrainConfig, methodConfig, parseTrainConfig, type TrainConfig } from "./config.ts";
import type { NamedArrays } from "./optimizers.ts";
import type { TensorMap } from "./safetensors.ts";

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.yaml",
  metrics: "metrics.jsonl",
  results: "results.json",
  report: "report.md",
  provenance: "run.json",
  model: "model.safetensors",
  ema: "ema.safetensors",
  submission: "submission.json",
  checkpoints: "checkpoints",
  eval: "eval",
} as const;

/** The name under which checkpoints and model files keep the puzzle-embedding table. */
export const PUZZLE_TABLE = "puzzle_emb.weight";

/** The data of a run: both splits in TRM's layout, their shape, and a content hash. */
export interface RunData {
  kind: "nqueens" | "arc";
  train: PuzzleSplit;
  test: PuzzleSplit;
  /** Validation boards (N-Queens `data.validation`), evaluated beside the test split; never scored as it. */
  validation?: PuzzleSplit;
  vocabSize: number;
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

function selectTasks(tasks: ArcTask[], subset: NonNullable<Extract<TrainConfig["data"], { kind: "arc" }>["subset"]>) {
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
    return tasks.filter((t) => keep.has(t.id));
  }
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
 * seed); ARC is read from `data.data_dir` (default `$TRM_DIS_DATA_DIR`, else the fetch cache), reduced to
 * `data.subset`, and indexed with its augmentations. A missing folder or task is a DataError (exit 2).
 *
 * @example
 * ```ts
 * import { loadRunData } from "./run_dir.ts";
 * import { resolveTrainConfig } from "./config.ts";
 * const { config } = resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }, "x");
 * const data = await loadRunData(config);
 * data.counts.test_examples; // 200
 * ```
 */
export async function loadRunData(cfg: TrainConfig, opts: { onProgress?: DataProgress } = {}): Promise<RunData> {
  const d = cfg.data;
  const seed = d.seed ?? cfg.seed;
  if (d.kind === "nqueens") {
    const set = generateNQueens(d.variant, seed);
    const train = nqueensSplit(set, "train");
    const test = nqueensSplit(set, "test");
    const valExamples = d.validation ? generateNQueensValidation(set, d.validation) : null;
    const validation = valExamples ? nqueensSplit(set, valExamples) : undefined;
    return {
      kind: "nqueens",
      train,
      test,
      validation,
      vocabSize: train.vocabSize,
      seqLen: train.seqLen,
      numPuzzleIds: train.numIdentifiers,
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
  const dataDir = d.data_dir ?? Deno.env.get("TRM_DIS_DATA_DIR") ?? defaultCacheDir();
  if (!(await isDirectory(dataDir))) {
    throw new DataError(
      `Cannot load ARC set "${d.set}": data directory "${dataDir}" does not exist (set data.data_dir or ` +
        "$TRM_DIS_DATA_DIR, or run `data fetch`)",
    );
  }
  const spec = ARC_SETS[d.set];
  const tasks: ArcTask[] = [];
  for (const s of spec.subsets) tasks.push(...await loadSubset(dataDir, s, d.source));
  const chosen = d.subset === null ? tasks : selectTasks(tasks, d.subset);
  if (!chosen.some((t) => t.subset === spec.testSubset)) {
    throw new DataError(
      `Cannot load ARC set "${d.set}": the selected tasks include none of the test subset "${spec.testSubset}"`,
    );
  }
  const index = {
    ...buildArcIndexFromTasks(chosen, {
      subsets: [...spec.subsets],
      testSubset: spec.testSubset,
      seed,
      augmentations: d.augmentations,
      onProgress: opts.onProgress,
    }),
    set: d.set,
    source: d.source,
  };
  const { train, test } = arcSplits(index);
  return {
    kind: "arc",
    train,
    test,
    vocabSize: train.vocabSize,
    seqLen: train.seqLen,
    numPuzzleIds: numIdentifiers(index),
    dataHash: sha256Hex(canonicalJson({
      augmentations: index.augmentationHash,
      seed,
      source: index.sourceHash,
      testSubset: index.testSubset,
    })),
    counts: { ...countsOf(train, test), tasks: index.tasks.length },
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
 * The split to evaluate, in the form lib/eval's `evaluateModel` takes. ARC can only be scored on its
 * test split (the vote needs the test tasks' answers).
 */
export function evalData(data: RunData, which: "test" | "train" | "validation"): EvalData {
  if (data.kind === "arc") {
    if (which !== "test") throw new DataError(`Cannot evaluate ARC on the "${which}" split: only "test" is scored`);
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

/** A model built for a run: the network, the method it is trained with, and its backbone. */
export interface BuiltModel {
  model: RecursiveModel;
  method: MethodConfig;
  backbone: BackboneConfig;
}

/**
 * Builds the run's model, initialised from the "init" stream of its seed (the puzzle table starts at
 * zero, as TRM's). Leave `scope` empty for the model a run trains, so tfjs names equal the stable names.
 */
export function buildModel(cfg: TrainConfig, data: RunData, opts: { scope?: string } = {}): BuiltModel {
  const backbone = backboneConfig(cfg, data);
  const model = new RecursiveModel(backbone, { rng: stream(cfg.seed, "init"), scope: opts.scope ?? "" });
  return { model, method: methodConfig(cfg), backbone };
}

/** Float32 arrays of a checkpoint section, refusing other dtypes (the file names the section). */
export function asFloatArrays(map: TensorMap, what: string): NamedArrays {
  const out: NamedArrays = {};
  for (const [name, t] of Object.entries(map)) {
    if (!(t.data instanceof Float32Array)) {
      throw new CheckpointError(`Cannot restore ${what}: tensor "${name}" is not float32`);
    }
    out[name] = { shape: t.shape, data: t.data };
  }
  return out;
}

/** A trained run, reopened. */
export interface TrainedRun {
  dir: string;
  /** The resolved config from the folder's config.yaml, with its text and hash. */
  loaded: LoadedTrainConfig;
  config: TrainConfig;
  kind: "nqueens" | "arc";
  /** The model with the run's latest weights (EMA weights when the run uses EMA) and puzzle table. */
  model: RecursiveModel;
  method: MethodConfig;
  data: RunData;
  /** The step of the checkpoint the weights come from. */
  step: number;
  /** Whether `model` holds the EMA weights. */
  ema: boolean;
  /** The checkpoint folder read. */
  checkpoint: string;
  dispose(): void;
}

/** Options of {@linkcode openTrainedRun}. */
export interface OpenRunOptions {
  /** tfjs variable-name prefix, to open a run beside another model (default ""). */
  scope?: string;
  /** Load the live weights even when the run uses EMA (default false: EMA weights, as evaluation uses). */
  liveWeights?: boolean;
}

/**
 * Reopens a run folder: its resolved config, its data, and a model holding the weights of its latest
 * checkpoint (the final one for a finished run). The checkpoint must belong to the folder's config.
 * Initialise the backend first. Call `dispose()` when done.
 *
 * @example
 * ```ts ignore
 * const run = await openTrainedRun("runs/train/nqueens_dis");
 * const p = await predict(run.model, run.method, { inputs, puzzleIds }, { keepSteps: true });
 * run.dispose();
 * ```
 */
export async function openTrainedRun(runDir: string, opts: OpenRunOptions = {}): Promise<TrainedRun> {
  const configPath = join(runDir, RUN_FILES.config);
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(`Cannot open run "${runDir}": it has no ${RUN_FILES.config} (is it a run folder?)`);
    }
    throw e;
  }
  const loaded = parseTrainConfig(text, { source: configPath });
  const ckpt = await findLatestCheckpoint(runDir);
  if (ckpt === null) {
    throw new CheckpointError(`Cannot open run "${runDir}": it has no checkpoint yet (train it, or resume it)`);
  }
  const state = await loadCheckpoint(ckpt, { expectedConfigHash: loaded.hash });
  const data = await loadRunData(loaded.config);
  const built = buildModel(loaded.config, data, { scope: opts.scope });
  try {
    const useEma = loaded.config.train.ema && !opts.liveWeights;
    if (useEma && !state.ema) throw new CheckpointError(`Cannot open run "${runDir}": "${ckpt}" has no EMA weights`);
    const weights = {
      ...asFloatArrays(state.model, `the weights of "${ckpt}"`),
      ...(useEma ? asFloatArrays(state.ema!, `the EMA weights of "${ckpt}"`) : {}),
    };
    const table = state.extra[PUZZLE_TABLE];
    if (!table) throw new CheckpointError(`Cannot open run "${runDir}": "${ckpt}" has no "${PUZZLE_TABLE}"`);
    weights[PUZZLE_TABLE] = asFloatArrays({ [PUZZLE_TABLE]: table }, `the puzzle table of "${ckpt}"`)[PUZZLE_TABLE];
    built.model.setWeights(weights);
    return {
      dir: runDir,
      loaded,
      config: loaded.config,
      kind: data.kind,
      model: built.model,
      method: built.method,
      data,
      step: state.step,
      ema: useEma,
      checkpoint: ckpt,
      dispose: () => built.model.dispose(),
    };
  } catch (e) {
    built.model.dispose();
    throw e;
  }
}

// ---- results.json, report.md and the model files ----

/** What {@linkcode writeRunOutputs} needs from a finished run. */
export interface RunSummary {
  loaded: LoadedTrainConfig;
  data: RunData;
  model: RecursiveModel;
  method: MethodConfig;
  totalSteps: number;
  finalTrain: Record<string, number | null> | null;
  finalEval: EvalResult | null;
  evalCurve: { step: number; summary: EvalSummary }[];
  /** The validation boards' curve (N-Queens `data.validation`), at the same steps as `evalCurve`. */
  validationCurve?: { step: number; summary: EvalSummary }[];
  forwardPasses: ForwardPassStats;
  /** The metrics.jsonl records (for the curves in report.md). */
  metrics: MetricRecord[];
}

const METHOD_NAMES = { trm: "TRM", dis: "DIS" } as const;

function evalJson(r: EvalResult): Record<string, unknown> {
  if (r.kind === "nqueens") {
    return {
      examples: r.examples,
      summary: r.summary,
      token_accuracy: r.tokenAccuracy,
      overall: r.metrics.overall,
      by_q: r.metrics.byQ,
      forward_passes_per_sample: r.forwardPassesPerSample,
    };
  }
  return {
    examples: r.examples,
    summary: r.summary,
    pass_at_k_per_task: r.scores.perTask,
    pass_at_k_per_output: r.scores.perOutput,
    counts: r.scores.counts,
    forward_passes_per_sample: r.forwardPassesPerSample,
  };
}

/** The `results` object of results.json: everything byte-stable about a finished run (no times). */
export function runResults(s: RunSummary): Record<string, unknown> {
  const cfg = s.loaded.config;
  const p = s.model.paramCount();
  const fp = forwardPasses(s.method);
  const f = s.forwardPasses;
  return {
    task: s.data.kind,
    preset: cfg.model.preset,
    method: s.method.method,
    steps: s.totalSteps,
    batch_size: cfg.train.batch_size,
    seed: cfg.seed,
    data: s.data.counts,
    params: {
      total: p.total,
      embed_tokens: p.embedTokens,
      step_embed: p.stepEmbed,
      blocks: p.blocks,
      lm_head: p.lmHead,
      q_head: p.qHead,
      puzzle_emb_values: p.puzzleEmbValues,
      puzzle_emb_bytes: p.puzzleEmbBytes,
    },
    forward_passes: {
      per_sample_inference: fp.perSampleInference,
      per_sample_training_max: fp.perSampleTrainingMax,
      per_step: fp.perStep,
      with_grad_per_step: fp.withGradPerStep,
      training: {
        optimizer_steps: f.optimizerSteps,
        net_calls: f.netCalls,
        net_calls_with_grad: f.netCallsWithGrad,
        samples_completed: f.samplesCompleted,
        mean_per_completed_sample: f.meanPerCompletedSample,
      },
    },
    final_train: s.finalTrain,
    eval: s.finalEval ? evalJson(s.finalEval) : null,
    eval_curve: s.evalCurve.map((pt) => ({ step: pt.step, ...pt.summary })),
    ...(s.validationCurve
      ? { validation_curve: s.validationCurve.map((pt) => ({ step: pt.step, ...pt.summary })) }
      : {}),
  };
}

function dataTitle(cfg: TrainConfig): string {
  const d = cfg.data;
  if (d.kind === "nqueens") return `N-Queens (${d.variant})`;
  const sub = d.subset === null
    ? ""
    : "ids" in d.subset
    ? `, ${d.subset.ids.length} tasks`
    : `, ${d.subset.tasks} per subset`;
  return `ARC ${d.set} (${d.augmentations} augmentations${sub})`;
}

/** Columns of an N-Queens table by number of given queens (rows of `byQ`). */
const BY_Q_COLUMNS: readonly Column[] = [
  { key: "q", header: "Q given" },
  { key: "count", header: "boards", format: "int" },
  { key: "exact", format: { percent: 1 } },
  { key: "valid", format: { percent: 1 } },
  { key: "ceiling", format: { percent: 1 } },
];

function seriesOf(records: MetricRecord[], kind: string, key: string): [number, number][] {
  return records
    .filter((r) => r.kind === kind && typeof r[key] === "number" && Number.isFinite(r[key]))
    .map((r) => [r.step, r[key] as number]);
}

/** report.md for a finished run, and its plots (file name to SVG text). Byte-stable. */
export async function runReport(s: RunSummary): Promise<{ markdown: string; plots: Record<string, string> }> {
  const cfg = s.loaded.config;
  const m = s.method;
  const name = METHOD_NAMES[m.method];
  const params = s.model.paramCount();
  const fp = forwardPasses(m);
  const sections: ReportSection[] = [];
  const plots: Record<string, string> = {};
  const r = s.finalEval;
  if (r?.kind === "nqueens") {
    const rows = [{ q: "all", ...r.metrics.overall }, ...r.metrics.byQ.map((g) => ({ ...g, q: String(g.q) }))];
    sections.push({
      heading: "Final evaluation",
      text: [
        `${r.examples} test boards, every sample run for all ${m.nSup} supervision steps. Exact = the label; ` +
        "valid = 8 non-attacking queens keeping the given ones; ceiling = mean of 1/k over the inputs (k = their " +
        `number of completions). Token accuracy ${r.tokenAccuracy === null ? "—" : formatNumber(r.tokenAccuracy)}.`,
      ],
      table: {
        columns: [...BY_Q_COLUMNS, { key: "unique", header: "unique completion", format: { percent: 1 } }],
        rows,
      },
    });
  } else if (r?.kind === "arc") {
    const rows = r.scores.passKs.map((k) => ({
      k: `pass@${k}`,
      task: r.scores.perTask?.[`pass@${k}`] ?? null,
      output: r.scores.perOutput?.[`pass@${k}`] ?? null,
    }));
    const c = r.scores.counts;
    sections.push({
      heading: "Final evaluation",
      text: [
        `${c.tasks} test tasks (${c.testInputs} test inputs), ${c.matched} augmented predictions voted ` +
        `(${c.unknownTask + c.noMatchingInput} unmatched). Per task: TRM's and the paper's mean over tasks; ` +
        "per output: the official rule.",
      ],
      table: {
        columns: [
          { key: "k", header: "" },
          { key: "task", header: "per task", format: { percent: 2 } },
          { key: "output", header: "per output", format: { percent: 2 } },
        ],
        rows,
      },
    });
  }
  const train = s.finalTrain ?? {};
  const loss = seriesOf(s.metrics, "train", "loss");
  const trainPlots: { title: string; file: string }[] = [];
  if (loss.length > 0) {
    plots["train_loss.svg"] = await lineChartSvg({
      title: "Training loss",
      xLabel: "step",
      yLabel: "loss",
      series: [{ name: "loss", points: loss }],
    });
    trainPlots.push({ title: "Training loss", file: "train_loss.svg" });
  }
  const accSeries: LineSeries[] = [
    { name: "train accuracy", points: seriesOf(s.metrics, "train", "accuracy") },
    { name: "train exact", points: seriesOf(s.metrics, "train", "exact_accuracy") },
  ];
  const evalKey = s.data.kind === "nqueens" ? "exact" : "pass@2";
  accSeries.push({ name: `eval ${evalKey}`, points: seriesOf(s.metrics, "eval", evalKey) });
  if (s.validationCurve) {
    accSeries.push({ name: `validation ${evalKey}`, points: seriesOf(s.metrics, "validation", evalKey) });
  }
  const nonEmpty = accSeries.filter((x) => x.points.length > 0);
  if (nonEmpty.length > 0) {
    plots["accuracy.svg"] = await lineChartSvg({
      title: "Accuracy",
      xLabel: "step",
      yLabel: "accuracy",
      yDomain: [0, 1],
      series: nonEmpty,
    });
    trainPlots.push({ title: "Accuracy", file: "accuracy.svg" });
  }
  sections.push({
    heading: "Training",
    text: [
      `The last logged window (${cfg.train.log_interval} steps): losses and gradient norm are means over its ` +
      "steps, accuracies means over the samples that finished in it.",
    ],
    table: {
      columns: [{ key: "metric" }, { key: "value", format: cell }],
      rows: Object.keys(train).sort().map((k) => ({ metric: k, value: train[k] })),
    },
    plots: trainPlots,
  });
  if (s.evalCurve.length > 0) {
    const keys = Object.keys(s.evalCurve[0].summary).filter((k) => k !== "count" && !k.endsWith("_per_output"));
    sections.push({
      heading: "Evaluation curve",
      table: {
        columns: [{ key: "step", format: "int" }, ...keys.map((k) => ({ key: k, format: cell }))],
        rows: s.evalCurve.map((pt) => ({ step: pt.step, ...pt.summary })),
      },
    });
  }
  const f = s.forwardPasses;
  sections.push({
    heading: "Forward passes",
    text: [
      "Network applications per sample (one call of the block stack): N_sup x T x (n + 1) at inference, where " +
      "every method runs all N_sup steps; in training TRM halts earlier with ACT.",
    ],
    table: {
      columns: [{ key: "what" }, { key: "value", format: cell }],
      rows: [
        { what: "per sample at inference", value: fp.perSampleInference },
        { what: "per supervision step", value: fp.perStep },
        { what: "of which under gradient in training", value: fp.withGradPerStep },
        { what: "per finished training sample (mean)", value: f.meanPerCompletedSample },
        { what: "training samples finished", value: f.samplesCompleted },
      ],
    },
  });
  const markdown = renderReport({
    title: `Training run: ${name} on ${dataTitle(cfg)}`,
    summary: [
      `Preset \`${cfg.model.preset}\`: ${name} with N_sup = ${m.nSup}, T = ${m.hCycles}, n = ${m.lCycles}; ` +
      `hidden ${cfg.model.hidden}, ${cfg.model.layers} layer(s), ${formatInt(params.total)} trainable parameters ` +
      `(+ ${formatInt(params.puzzleEmbValues)} puzzle-embedding values). ${formatInt(s.totalSteps)} steps at batch ` +
      `${cfg.train.batch_size}, ${cfg.train.optimizer}, lr ${cfg.train.lr}, seed ${cfg.seed}.`,
    ],
    sections,
    hashes: { config: s.loaded.hash, data: s.data.dataHash },
  });
  return { markdown, plots };
}

/** A table cell: integers as they are, other numbers with 4 decimals, null as a dash. */
function cell(v: unknown): string {
  if (typeof v !== "number") return v === null || v === undefined ? "—" : String(v);
  return Number.isInteger(v) ? String(v) : formatNumber(v, 4);
}

function formatInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Writes a finished run's outputs: results.json, report.md and its plots, model.safetensors (live
 * weights with the puzzle table), ema.safetensors (EMA weights) and, for ARC, submission.json.
 * Returns the `results` object.
 */
export async function writeRunOutputs(
  run: RunFolder,
  s: RunSummary,
  files: { weights: NamedArrays; ema?: NamedArrays },
): Promise<Record<string, unknown>> {
  const results = runResults(s);
  await run.writeResults({
    experiment: "train",
    configHash: s.loaded.hash,
    dataHash: s.data.dataHash,
    results,
  });
  const { markdown, plots } = await runReport(s);
  for (const [file, svg] of Object.entries(plots)) await run.writePlot(file, svg);
  await run.writeReport(markdown);
  const meta = { format: "pt", step: String(s.totalSteps), config_hash: s.loaded.hash };
  await writeSafetensorsFile(run.path(RUN_FILES.model), files.weights, meta);
  if (files.ema) await writeSafetensorsFile(run.path(RUN_FILES.ema), files.ema, meta);
  if (s.finalEval?.kind === "arc") {
    await writeTextAtomic(run.path(RUN_FILES.submission), JSON.stringify(s.finalEval.submission) + "\n");
  }
  return results;
}

// ---- evaluating a run folder (cli eval) ----

/** Options of {@linkcode evaluateRun}. */
export interface EvaluateRunOptions {
  /** Which split (ARC: only "test"). Default "test". */
  split?: "test" | "train";
  /** Default: the run's `eval.batch_size`. */
  batchSize?: number;
  /** Default: all examples (the run's `eval.max_examples` is not applied). */
  maxExamples?: number | null;
  onProgress?: ProgressFn;
}

/** What {@linkcode evaluateRun} wrote. */
export interface RunEvaluation {
  /** The folder the outputs went to: `RUN/eval/<split>-step-NNNNNN`. */
  dir: string;
  step: number;
  result: EvalResult;
}

/**
 * Evaluates the latest checkpoint of a run (EMA weights when the run uses EMA) on a split, streaming in
 * batches, and writes `RUN/eval/<split>-step-NNNNNN/` with eval.json (byte-stable), report.md and, for
 * ARC, submission.json. Initialise the backend first.
 *
 * @example
 * ```ts ignore
 * const { result } = await evaluateRun("runs/train/dis_tiny", { split: "test" });
 * ```
 */
export async function evaluateRun(runDir: string, opts: EvaluateRunOptions = {}): Promise<RunEvaluation> {
  const split = opts.split ?? "test";
  const run = await openTrainedRun(runDir);
  try {
    const data = evalData(run.data, split);
    const result = await evaluateModel(run.model, run.method, data, {
      batchSize: opts.batchSize ?? run.config.eval.batch_size,
      maxExamples: opts.maxExamples ?? null,
      onProgress: opts.onProgress,
    });
    const dir = join(runDir, RUN_FILES.eval, `${split}-${checkpointDirName(run.step)}`);
    const doc = {
      format: 1,
      split,
      step: run.step,
      ema: run.ema,
      hashes: { config_sha256: run.loaded.hash, data_sha256: run.data.dataHash },
      result: evalJson(result),
    };
    const sections: ReportSection[] = [{
      heading: "Summary",
      table: {
        columns: [{ key: "metric" }, { key: "value", format: cell }],
        rows: Object.keys(result.summary).sort().map((k) => ({ metric: k, value: result.summary[k] })),
      },
    }];
    if (result.kind === "nqueens") {
      sections.push({
        heading: "By number of given queens",
        table: {
          columns: BY_Q_COLUMNS,
          rows: result.metrics.byQ.map((g) => ({ ...g })),
        },
      });
    }
    const markdown = renderReport({
      title: `Evaluation of ${runDir} at step ${run.step} (${split})`,
      summary: [
        `${METHOD_NAMES[run.method.method]} (${run.config.model.preset}), ${
          run.ema ? "EMA" : "live"
        } weights, ${result.examples} examples, ${result.forwardPassesPerSample} network applications per sample.`,
      ],
      sections,
      hashes: { config: run.loaded.hash, data: run.data.dataHash },
    });
    await replaceDirAtomic(dir, async (tmp) => {
      await writeTextAtomic(join(tmp, "eval.json"), stableJson(doc) + "\n");
      await writeTextAtomic(join(tmp, "report.md"), markdown);
      if (result.kind === "arc") {
        await writeTextAtomic(join(tmp, RUN_FILES.submission), JSON.stringify(result.submission) + "\n");
      }
    });
    return { dir, step: run.step, result };
  } finally {
    run.dispose();
  }
}
