/**
 * A finished run's results.json (byte-stable: evaluation, forward passes, parameters) and its report.md
 * with plots, and writing both with the final model files.
 *
 * @module
 */
import { forwardPasses, type MethodConfig, RecursiveModel } from "../model/mod.ts";
import type { ForwardPassStats } from "../method/mod.ts";
import {
  type Column,
  compareNatural,
  formatNumber,
  lineChartSvg,
  type LineSeries,
  type MetricRecord,
  renderReport,
  type ReportSection,
  roundStable,
  type RunFolder,
  stableJson,
} from "../report/mod.ts";
import type { ArcScores, EvalResult, EvalSummary, NQueensMetrics } from "../eval/mod.ts";
import { writeTextAtomic } from "../io/mod.ts";
import { writeSafetensorsFile } from "./safetensors.ts";
import { type LoadedTrainConfig, type TrainConfig } from "./config.ts";
import type { NamedArrays } from "./optimizers.ts";
import { RUN_FILES } from "./run_files.ts";
import { type RunData } from "./run_data.ts";

/** What {@linkcode writeRunOutputs} needs from a finished run. */
export interface RunSummary {
  /** The run's resolved config, with its text and hash. */
  loaded: LoadedTrainConfig;
  /** The run's data splits. */
  data: RunData;
  /** The trained network. */
  model: RecursiveModel;
  /** The method it was trained with. */
  method: MethodConfig;
  /** Optimiser steps of the whole run. */
  totalSteps: number;
  /** The last logged window's training metrics (means), or null when nothing was logged. */
  finalTrain: Record<string, number | null> | null;
  /** The final evaluation of the scored split, or null when none ran. */
  finalEval: EvalResult | null;
  /** ARC runs with a validation split: its final evaluation (absent or null otherwise). */
  finalValidation?: EvalResult | null;
  /** Every evaluation of the run, in step order. */
  evalCurve: { step: number; summary: EvalSummary }[];
  /** Network applications counted by the trainer over the run. */
  forwardPasses: ForwardPassStats;
  /** The metrics.jsonl records (for the curves in report.md). */
  metrics: MetricRecord[];
}

/** Display names of the methods, for titles. */
export const METHOD_NAMES = { trm: "TRM", dis: "DIS" } as const;

/** An N-Queens evaluation as results.json records it. */
export interface NQueensEvalJson {
  /** Examples evaluated. */
  examples: number;
  /** The flat figures metrics.jsonl records (`exact`, `valid`, `ceiling`, `accuracy`, `count`). */
  summary: EvalSummary;
  /** Accuracy over supervised label tokens, or null when there were none. */
  token_accuracy: number | null;
  /** Exact, valid and ceiling over every board. */
  overall: NQueensMetrics["overall"];
  /** The same per number of given queens Q, ascending. */
  by_q: NQueensMetrics["byQ"];
  /** Network applications per sample at inference, N_sup * T * (n + 1). */
  forward_passes_per_sample: number;
}

/** An ARC evaluation as results.json records it (pass@k keyed `pass@k`, in [0, 1]). */
export interface ArcEvalJson {
  /** Examples evaluated; each augmented copy of a test input is one. */
  examples: number;
  /** The flat figures metrics.jsonl records (`count`, `pass@k`, `pass@k_per_output`). */
  summary: EvalSummary;
  /**
   * pass@k by TRM's rule: mean over labelled tasks of the fraction of their test inputs solved; null when none is
   * labelled.
   */
  pass_at_k_per_task: ArcScores["perTask"];
  /** pass@k by the official rule: solved test outputs over labelled test outputs; null when none is labelled. */
  pass_at_k_per_output: ArcScores["perOutput"];
  /** What the vote counted: tasks, test inputs, rows and how their predictions were matched. */
  counts: ArcScores["counts"];
  /** Network applications per sample at inference, N_sup * T * (n + 1). */
  forward_passes_per_sample: number;
}

/** An evaluation as results.json records it. */
export type EvalJson = NQueensEvalJson | ArcEvalJson;

/** One evaluation point of a run's curve: the step and the evaluation summary's figures. */
export type EvalCurvePoint = { step: number } & EvalSummary;

/** The `results` object of a training run's results.json ({@linkcode runResults}). */
export interface RunResults {
  /** The task the run trained on. */
  task: "nqueens" | "arc";
  /** The model preset the config names. */
  preset: string;
  /** The training method. */
  method: "trm" | "dis";
  /** Optimiser steps of the whole run. */
  steps: number;
  /** Samples per optimiser step. */
  batch_size: number;
  /** The run's master seed. */
  seed: number;
  /** Example, group and puzzle counts of the run's data. */
  data: Record<string, number>;
  /** Trainable parameter counts by group (puzzle table apart), as lib/model's paramCount. */
  params: {
    total: number;
    embed_tokens: number;
    step_embed: number;
    blocks: number;
    lm_head: number;
    q_head: number;
    puzzle_emb_values: number;
    puzzle_emb_bytes: number;
  };
  /** Network applications: per sample by the paper's accounting, and as counted in training. */
  forward_passes: {
    per_sample_inference: number;
    per_sample_training_max: number;
    /** Network applications per sample in one optimiser step. */
    per_step: number;
    with_grad_per_step: number;
    training: {
      optimizer_steps: number;
      net_calls: number;
      net_calls_with_grad: number;
      samples_completed: number;
      mean_per_completed_sample: number | null;
    };
  };
  /** The last logged window's training metrics (means), or null when nothing was logged. */
  final_train: Record<string, number | null> | null;
  /** The final evaluation of the scored split, or null when none ran. */
  eval: EvalJson | null;
  /** ARC runs with a validation split: its final evaluation. */
  validation?: EvalJson;
  /** Every evaluation of the run, in step order. */
  eval_curve: EvalCurvePoint[];
  /** N-Queens runs with validation boards: the `validation_` figures of each evaluation point. */
  validation_curve?: Record<string, number | null>[];
}

/** An evaluation as results.json records it. */
export function evalJson(r: EvalResult): EvalJson {
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

/** One scored task of eval_tasks.json: its labelled test inputs and, per k, the fraction solved. */
export interface ArcTaskScore {
  /** The task's id. */
  id: string;
  /** Its labelled test inputs. */
  tests: number;
  /** Fraction of those test inputs whose answer ranks within the top k. */
  [k: `pass@${number}`]: number;
}

/**
 * Per scored task (sorted by id): its labelled test inputs and, for each k, the fraction of them whose
 * answer ranks within the top k (TRM's per-task score; pass@k is the mean of these over the tasks).
 */
export function arcTaskScores(r: EvalResult): ArcTaskScore[] {
  if (r.kind !== "arc") return [];
  return r.scores.tasks.map((t) => {
    const labelled = t.tests.filter((x) => x.labelled);
    const out: ArcTaskScore = { id: t.id, tests: labelled.length };
    for (const k of r.scores.passKs) {
      const solved = labelled.filter((x) => x.correctRank !== null && x.correctRank <= k).length;
      out[`pass@${k}`] = labelled.length > 0 ? solved / labelled.length : 0;
    }
    return out;
  });
}

/** The validation boards' curve: each evaluation point's `validation_` figures, without the prefix. */
function validationCurve(curve: RunSummary["evalCurve"]): Record<string, number | null>[] {
  const prefix = "validation_";
  return curve.map((pt) => ({
    step: pt.step,
    ...Object.fromEntries(
      Object.entries(pt.summary).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
    ),
  }));
}

/** The `results` object of results.json: everything byte-stable about a finished run (no times). */
export function runResults(s: RunSummary): RunResults {
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
    ...(s.finalValidation ? { validation: evalJson(s.finalValidation) } : {}),
    eval_curve: s.evalCurve.map((pt) => ({ step: pt.step, ...pt.summary })),
    ...(s.data.kind === "nqueens" && s.data.validation ? { validation_curve: validationCurve(s.evalCurve) } : {}),
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
export const BY_Q_COLUMNS: readonly Column[] = [
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
      xLabel: "optimiser step",
      yLabel: "loss",
      x: { integer: true },
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
  const nonEmpty = accSeries.filter((x) => x.points.length > 0);
  if (nonEmpty.length > 0) {
    plots["accuracy.svg"] = await lineChartSvg({
      title: "Accuracy",
      xLabel: "optimiser step",
      yLabel: "accuracy",
      yDomain: [0, 1],
      x: { integer: true },
      y: { percent: true },
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
      rows: Object.keys(train).sort(compareNatural).map((k) => ({ metric: k, value: logged(train[k]) })),
    },
    plots: trainPlots,
  });
  if (s.evalCurve.length > 0) {
    const keys = curveKeys(s.data.kind, s.evalCurve).filter((k) => k !== "count" && !k.endsWith("_per_output"));
    sections.push({
      heading: "Evaluation curve",
      table: {
        columns: [{ key: "step", format: "int" }, ...keys.map((k) => ({ key: k, format: cell }))],
        rows: s.evalCurve.map((pt) => ({
          step: pt.step,
          ...Object.fromEntries(Object.entries(pt.summary).map(([k, v]) => [k, logged(v)])),
        })),
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

/** The order lib/eval's `evaluateModel` builds an N-Queens summary in. */
const NQUEENS_SUMMARY_ORDER = ["exact", "valid", "ceiling", "accuracy", "count"];
const VALIDATION_PREFIX = "validation_";

/**
 * The evaluation curve's keys in a fixed order: the test split's before the validation split's, each in the
 * order `evaluateModel` builds a summary (N-Queens: exact, valid, ceiling, accuracy, count; ARC: count, then
 * pass@k by k, each followed by its per-output figure). Not the points' own key order: a point read back
 * from metrics.jsonl on resume has sorted keys, one computed in this session has evaluateModel's, and the
 * report must be the same bytes either way.
 *
 * @example
 * ```ts
 * import { curveKeys } from "./run_report.ts";
 * curveKeys("nqueens", [{ step: 4, summary: { accuracy: 0.5, ceiling: 1, exact: 0, valid: 0 } }]);
 * // ["exact", "valid", "ceiling", "accuracy"]
 * ```
 */
export function curveKeys(kind: "nqueens" | "arc", curve: RunSummary["evalCurve"]): string[] {
  const keys = new Set<string>();
  for (const pt of curve) for (const k of Object.keys(pt.summary)) keys.add(k);
  const split = (k: string) => (k.startsWith(VALIDATION_PREFIX) ? 1 : 0);
  const base = (k: string) => (split(k) ? k.slice(VALIDATION_PREFIX.length) : k);
  const rank = (k: string) => {
    if (kind === "arc") return k === "count" ? 0 : 1;
    const i = NQUEENS_SUMMARY_ORDER.indexOf(k);
    return i < 0 ? NQUEENS_SUMMARY_ORDER.length : i;
  };
  return [...keys].sort((a, b) =>
    split(a) - split(b) || rank(base(a)) - rank(base(b)) || compareNatural(base(a), base(b))
  );
}

/**
 * A figure as metrics.jsonl and results.json keep it (6 significant digits): a resumed run reads the earlier
 * figures back from there, so the report shows every figure at that precision, whichever session made it.
 */
function logged(v: number | null): number | null {
  return typeof v === "number" && Number.isFinite(v) ? roundStable(v) : v;
}

/** A table cell: integers as they are, other numbers with 4 decimals, null as a dash. */
export function cell(v: unknown): string {
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
): Promise<RunResults> {
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
    const doc: Record<string, unknown> = { test: arcTaskScores(s.finalEval) };
    if (s.finalValidation?.kind === "arc") doc.validation = arcTaskScores(s.finalValidation);
    await writeTextAtomic(run.path(RUN_FILES.evalTasks), stableJson(doc) + "\n");
  }
  return results;
}

// ---- evaluating a run folder (cli eval) ----
