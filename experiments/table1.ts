/**
 * Table 1 of the paper: pass@2 (and pass@1) on ARC-AGI-1 and ARC-AGI-2 for TRM-compact, DIS-compact,
 * TRM-medium, DIS-medium, TRM and DIS, each beside the paper's value, with the paper's chain-of-thought
 * LLM rows quoted (and marked as quoted). Every (model, set) pair is its own row, so rows can be run,
 * resumed and selected independently (`--rows arc1`, `--rows dis-compact`) and trained in parallel
 * processes (`--jobs N`).
 *
 * The paper does not say what its "DIS 7M" row ran (docs/upstream.md §8). Assumption, labelled in the
 * report: DIS with TRM's recursion budget per step (T = 3, n = 4, as TRM's ARC command and our `trm`
 * row) on the medium backbone, otherwise the DIS-medium recipe.
 *
 * Run: `deno run -A experiments/table1.ts --profile smoke --data-dir DATA` or
 * `deno task reproduce table1`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type ExperimentInfo, z } from "../lib/config/mod.ts";
import {
  experimentBase,
  type ExperimentReport,
  type ExperimentSpec,
  type FinishedRow,
  type Headline,
  partialRunSchema,
  pct,
  type RowPlan,
  rowPlan,
  type SummaryContext,
} from "../lib/experiment/mod.ts";
import { barChartSvg, type ReportSection } from "../lib/report/mod.ts";
import {
  ARC_BOOTSTRAP,
  arcBootstrapRng,
  type ArcInterval,
  arcPassAt,
  type ArcTaskScores,
  type PairedPass2,
  pairedPass2,
  paperArcValue,
  type PassIntervals,
  passIntervals,
  readArcTaskScores,
  TABLE1_MODELS,
  TABLE1_QUOTED,
  TABLE1_SETS,
  table1Layers,
  type Table1Model,
} from "./_arc.ts";

/** What `list` shows. */
export const info: ExperimentInfo = {
  title: "ARC-AGI-1/2 pass@2, Table 1: TRM and DIS at three sizes, beside the paper's values",
  profiles: {
    smoke: "3 of the 12 rows, tiny models on 1 task per subset; CPU, about a minute (needs the ARC data)",
    small: "all 12 rows, D = 64 models on 8 tasks per subset with 8 augmentations; hours on a CPU",
    paper: "the paper's models on the full sets with 1,000 augmentations; days on 4 GPUs per row",
  },
};

const modelRows = Object.fromEntries(TABLE1_MODELS.map((m) => [m.id, partialRunSchema.default({})]));

const schema = z.strictObject({
  ...experimentBase,
  /** Per-model overrides (both sets), applied over `common`. */
  rows: z.strictObject(modelRows as Record<Table1Model, z.ZodDefault<typeof partialRunSchema>>).prefault({}),
  /** Per-set overrides (every model of the set), applied after `common` and before `rows`. */
  sets: z.strictObject({
    "arc-agi-1": partialRunSchema.default({}),
    "arc-agi-2": partialRunSchema.default({}),
  }).prefault({}),
});
type Table1Config = z.output<typeof schema>;

function rows(config: Table1Config, source: string): RowPlan[] {
  const out: RowPlan[] = [];
  for (const set of TABLE1_SETS) {
    for (const m of TABLE1_MODELS) {
      out.push(rowPlan(`${set.short}.${m.id}`, `${m.label} (${set.label})`, [
        ...table1Layers(m, set.name, config.seed),
        config.common,
        config.sets[set.name],
        config.rows[m.id as Table1Model],
      ], source));
    }
  }
  return out;
}

/** The paper quotes percentages (41.3); ours and the paper's are shown alike, as fractions written in %. */
function fraction(percent: number | null | undefined): number | null {
  return percent === null || percent === undefined ? null : percent / 100;
}

/** The TRM/DIS pairs of the same size that the report compares. */
const PAIRS = [
  { trm: "trm-compact", dis: "dis-compact", size: "compact" },
  { trm: "trm-medium", dis: "dis-medium", size: "medium" },
  { trm: "trm", dis: "dis", size: "7M" },
] as const;

/** A percentage interval: "[3.9%, 15.6%]", a dash where there is none. */
function pctInterval(iv: ArcInterval): string {
  return iv === null ? "—" : `[${pct(iv[0])}, ${pct(iv[1])}]`;
}

/** An integer with thousands separators: "3,000". */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A signed difference of fractions in percentage points: "+3.9", "−1.3", "0.0". */
function signedPoints(x: number): string {
  const s = Math.abs(x * 100).toFixed(1);
  return Number(s) === 0 ? s : `${x > 0 ? "+" : "−"}${s}`;
}

function pointsInterval(iv: ArcInterval): string {
  return iv === null ? "—" : `[${signedPoints(iv[0])}, ${signedPoints(iv[1])}]`;
}

/** What an ARC row scored and trained on: its canvas, tasks and test inputs, and what the canvas left out. */
interface Scored {
  canvas: number;
  /** How the row chose its tasks: every task that fits, or `data.subset`. */
  choice: string;
  augmentations: number;
  scored_tasks: number | null;
  scored_inputs: number | null;
  /** Tasks of the scored subset the canvas left out, and their test inputs. */
  left_out_tasks: number | null;
  left_out_inputs: number | null;
  /** Tasks in the build (all subsets), trained on. */
  build_tasks: number | null;
  validation_tasks: number;
}

function scoredOf(row: FinishedRow): Scored | null {
  const d = row.plan.loaded.config.data;
  if (d.kind !== "arc") return null;
  const counts = row.results.data;
  const e = arcPassAt(row.results);
  // Without a canvas every task fits TRM's 30 x 30 one, so nothing is left out by it.
  const none = d.canvas === undefined ? 0 : null;
  return {
    canvas: d.canvas ?? 30,
    choice: d.subset === null
      ? "all that fit"
      : "tasks" in d.subset
      ? `first ${d.subset.tasks} per subset`
      : `${d.subset.ids.length} named`,
    augmentations: d.augmentations,
    scored_tasks: e?.tasks ?? null,
    scored_inputs: e?.testInputs ?? null,
    left_out_tasks: counts.test_tasks_excluded ?? none,
    left_out_inputs: counts.test_inputs_excluded ?? none,
    build_tasks: counts.tasks ?? null,
    validation_tasks: counts.validation_tasks ?? 0,
  };
}

/** TRM's pass@2 read from its evaluation curve at DIS's optimiser steps and at DIS's training network applications. */
interface BudgetMatch {
  dis_steps: number;
  dis_net_calls: number;
  dis_pass2: number | null;
  trm_net_calls_per_step: number;
  /** TRM at DIS's optimiser steps. */
  trm_at_steps: { step: number; pass2: number | null };
  /** TRM at the first step with at least DIS's training network applications. */
  trm_at_net_calls: { step: number; net_calls: number; pass2: number | null };
  trm_final_step: number;
}

function budgetMatch(trm: FinishedRow, dis: FinishedRow): BudgetMatch {
  const t = trm.results;
  const d = dis.results;
  const perStep = t.forward_passes.per_step * t.batch_size;
  const disCalls = d.forward_passes.training.net_calls;
  const at = (step: number) => {
    const v = t.eval_curve.find((p) => p.step === step)?.["pass@2"];
    return typeof v === "number" ? v : null;
  };
  const callsStep = Math.ceil(disCalls / perStep);
  return {
    dis_steps: d.steps,
    dis_net_calls: disCalls,
    dis_pass2: arcPassAt(d)?.pass2 ?? null,
    trm_net_calls_per_step: perStep,
    trm_at_steps: { step: d.steps, pass2: at(d.steps) },
    trm_at_net_calls: { step: callsStep, net_calls: callsStep * perStep, pass2: at(callsStep) },
    trm_final_step: t.steps,
  };
}

/** One finished row's part of results.json. */
interface OursRow {
  pass1: number | null;
  pass2: number | null;
  pass2PerOutput: number | null;
  tasks: number | null;
  testInputs: number | null;
  params: number;
  forward_passes: FinishedRow["results"]["forward_passes"];
  steps: number;
  eval: FinishedRow["results"]["eval"];
  eval_curve: FinishedRow["results"]["eval_curve"];
  /** What the row scored (ARC rows). */
  scored: Scored | null;
  /** Percentile-bootstrap intervals over the scored tasks; null without per-task scores. */
  intervals: { pass1: ArcInterval; pass2: ArcInterval } | null;
  /** The never-scored validation split, apart from the test figures. */
  validation: PassIntervals | null;
}

/** The `results` of the table1 experiment's results.json (beside the runner's `rows`). */
export interface Table1Results {
  paper: {
    rows: Record<string, { params: string; arc1: number | null; arc2: number | null }>;
    quoted: typeof TABLE1_QUOTED;
    unit: string;
  };
  ours: Record<string, OursRow>;
  /** DIS − TRM pass@2 per finished pair of the same size, paired over the tasks both scored. */
  pairs: Record<string, PairedPass2 & { trm: string; dis: string }>;
  /** TRM of each finished pair read at DIS's optimiser steps and training network applications. */
  budget: Record<string, BudgetMatch>;
  bootstrap: { resamples: number; level: number; stream: string };
  assumptions: { dis: string };
}

async function summarize(ctx: SummaryContext<Table1Config>): Promise<ExperimentReport<Table1Results>> {
  const sections: ReportSection[] = [];
  const plots: Record<string, string> = {};
  const cell = (set: typeof TABLE1_SETS[number], m: typeof TABLE1_MODELS[number]) => {
    const row = ctx.finished.get(`${set.short}.${m.id}`);
    return row ? arcPassAt(row.results) : null;
  };
  const seed = ctx.config.seed;
  const finishedRows = ctx.rows.map((p) => ctx.finished.get(p.id)).filter((r): r is FinishedRow => r !== undefined);
  const label = (id: string) => ctx.rows.find((p) => p.id === id)?.label ?? id;
  const scores = new Map<string, ArcTaskScores>();
  for (const row of finishedRows) {
    const sc = await readArcTaskScores(row.dir);
    if (sc) scores.set(row.plan.id, sc);
  }
  const intervals = new Map<string, PassIntervals>();
  const validation = new Map<string, PassIntervals>();
  for (const [id, sc] of scores) {
    intervals.set(id, passIntervals(sc.test, arcBootstrapRng(seed, id)));
    if (sc.validation) validation.set(id, passIntervals(sc.validation, arcBootstrapRng(seed, `${id}/validation`)));
  }
  const pairs: Table1Results["pairs"] = {};
  const budget: Table1Results["budget"] = {};
  for (const set of TABLE1_SETS) {
    for (const p of PAIRS) {
      const [tId, dId] = [`${set.short}.${p.trm}`, `${set.short}.${p.dis}`];
      const [t, d] = [ctx.finished.get(tId), ctx.finished.get(dId)];
      if (!t || !d) continue;
      const key = `${set.short}.${p.size}`;
      budget[key] = budgetMatch(t, d);
      const [ts, ds] = [scores.get(tId), scores.get(dId)];
      if (ts && ds) {
        pairs[key] = { trm: tId, dis: dId, ...pairedPass2(ts.test, ds.test, arcBootstrapRng(seed, `${tId}-${dId}`)) };
      }
    }
  }
  const level = `${Math.round(ARC_BOOTSTRAP.level * 100)}%`;
  const bootstrapText =
    `Intervals: percentile bootstrap over the scored tasks (${
      grouped(ARC_BOOTSTRAP.resamples)
    } resamples of the tasks with replacement, ${level} central interval), from each row's per-task scores ` +
    `(rows/<row>/eval_tasks.json) and the random stream \`${ARC_BOOTSTRAP.stream}/<row>\` of the experiment seed ` +
    `(${seed}), so an interval depends on its own row only.`;

  const scoredRows = finishedRows.flatMap((row) => {
    const sc = scoredOf(row);
    return sc ? [{ row: row.plan.label, ...sc, canvas: `${sc.canvas} × ${sc.canvas}` }] : [];
  });
  sections.push({
    heading: "What was scored",
    text: [
      "**These figures are not Table 1's.** The paper scores every evaluation task of each set (400 of ARC-AGI-1, " +
      "120 of ARC-AGI-2) on TRM's 30 × 30 canvas with 1,000 augmentations per task, with models trained for days " +
      "on GPUs. A row here scores the tasks below, with the augmentations and training of this profile; the " +
      "paper's values stand in their own column for reference.",
      "Per row: the canvas; how its tasks were chosen (all that fit the canvas, or `data.subset`); the evaluation " +
      "tasks and their test inputs scored with TRM's vote; the evaluation tasks (and their test inputs) left out " +
      "because a grid does not fit the canvas (counted, never cropped; a dash: a run older than these counts); " +
      "the tasks of the build it trained on (demonstrations of the scored tasks included); and the " +
      "training tasks whose test pairs form the validation split (never scored; reported apart below).",
    ],
    table: {
      columns: [
        { key: "row" },
        { key: "canvas" },
        { key: "choice", header: "tasks chosen" },
        { key: "augmentations", format: "int" },
        { key: "scored_tasks", header: "scored tasks", format: "int" },
        { key: "scored_inputs", header: "scored test inputs", format: "int" },
        { key: "left_out_tasks", header: "left out: tasks", format: "int" },
        { key: "left_out_inputs", header: "left out: test inputs", format: "int" },
        { key: "build_tasks", header: "tasks trained on", format: "int" },
        { key: "validation_tasks", header: "validation tasks", format: "int" },
      ],
      rows: scoredRows,
    },
  });

  const tableRows = TABLE1_MODELS.map((m) => {
    const r: Record<string, unknown> = {
      method: m.assumption ? `${m.label} (assumption)` : m.label,
      params: m.paperParams,
    };
    for (const set of TABLE1_SETS) {
      const v = cell(set, m);
      r[`${set.short}_p2`] = v?.pass2 ?? null;
      r[`${set.short}_p1`] = v?.pass1 ?? null;
      r[`${set.short}_paper`] = fraction(paperArcValue(m.id, set.short));
      r[`${set.short}_tasks`] = v?.tasks ?? null;
    }
    return r;
  });
  sections.push({
    heading: "Table 1: pass@2 (%)",
    text: [
      "Ours: pass@k averaged per task (TRM's evaluator and the paper's convention: the fraction of a task's test " +
      "inputs solved, then the mean over the evaluated tasks) after TRM's vote over the augmented predictions. " +
      "Paper: Table 1. A dash means the row has not run in this folder.",
      `"DIS (assumption)": the paper does not say what its "DIS 7M" row ran; this row is DIS with TRM's recursion ` +
      "budget per step (T = 3, n = 4, as TRM's ARC command) on the medium backbone, otherwise the DIS-medium recipe.",
    ],
    table: {
      columns: [
        { key: "method" },
        { key: "params", header: "params (paper)" },
        ...TABLE1_SETS.flatMap((s) => [
          { key: `${s.short}_p2`, header: `${s.label} pass@2`, format: { percent: 1 } as const },
          { key: `${s.short}_paper`, header: `${s.label} paper`, format: { percent: 1 } as const },
          { key: `${s.short}_p1`, header: `${s.label} pass@1`, format: { percent: 1 } as const },
          { key: `${s.short}_tasks`, header: `${s.label} tasks`, format: "int" as const },
        ]),
      ],
      rows: tableRows,
    },
    plots: [{ title: "pass@2, ours and the paper's", file: "table1_pass2.svg" }],
  });
  plots["table1_pass2.svg"] = await barChartSvg({
    title: "ARC pass@2: ours and the paper's (Table 1)",
    xLabel: "row",
    yLabel: "pass@2",
    yDomain: [0, 1],
    y: { percent: true },
    categories: TABLE1_SETS.flatMap((s) => TABLE1_MODELS.map((m) => `${m.label} ${s.short}`)),
    series: [
      {
        name: "ours",
        values: TABLE1_SETS.flatMap((s) => TABLE1_MODELS.map((m) => cell(s, m)?.pass2 ?? null)),
      },
      {
        name: "paper",
        values: TABLE1_SETS.flatMap((s) =>
          TABLE1_MODELS.map((m) => {
            const v = paperArcValue(m.id, s.short);
            return v === null ? null : v / 100;
          })
        ),
      },
    ],
  });
  const paperOf = (id: string) => {
    const [set, model] = id.split(".") as [string, string];
    return fraction(paperArcValue(model, set as "arc1" | "arc2"));
  };
  sections.push({
    heading: "pass@2 and pass@1 with intervals over tasks (scored evaluation tasks)",
    text: [
      bootstrapText + " A dash: the row has no per-task scores (a run older than eval_tasks.json).",
    ],
    table: {
      columns: [
        { key: "row" },
        { key: "pass2", header: "pass@2", format: { percent: 1 } },
        { key: "pass2_iv", header: `pass@2 ${level} interval` },
        { key: "paper", header: "paper pass@2 (Table 1)", format: { percent: 1 } },
        { key: "pass1", header: "pass@1", format: { percent: 1 } },
        { key: "pass1_iv", header: `pass@1 ${level} interval` },
        { key: "tasks", header: "tasks", format: "int" },
      ],
      rows: finishedRows.map((row) => {
        const id = row.plan.id;
        const v = arcPassAt(row.results);
        const iv = intervals.get(id);
        return {
          row: row.plan.label,
          pass2: v?.pass2 ?? null,
          pass2_iv: pctInterval(iv?.pass2Interval ?? null),
          paper: paperOf(id),
          pass1: v?.pass1 ?? null,
          pass1_iv: pctInterval(iv?.pass1Interval ?? null),
          tasks: v?.tasks ?? null,
        };
      }),
    },
  });
  const pairRows = Object.entries(pairs).map(([key, p]) => {
    const set = TABLE1_SETS.find((s) => key.startsWith(`${s.short}.`))!;
    const pair = PAIRS.find((x) => key === `${set.short}.${x.size}`)!;
    const pd = paperArcValue(pair.dis, set.short);
    const pt = paperArcValue(pair.trm, set.short);
    return {
      pair: `${pair.size} (${set.label})`,
      tasks: p.tasks,
      trm: p.a,
      dis: p.b,
      diff: p.diff === null ? "—" : signedPoints(p.diff),
      diff_iv: pointsInterval(p.diffInterval),
      paper: pd === null || pt === null ? "—" : signedPoints((pd - pt) / 100),
    };
  });
  if (pairRows.length > 0) {
    sections.push({
      heading: "DIS − TRM, paired over the same tasks",
      text: [
        "pass@2 of DIS minus that of TRM of the same size, in percentage points, over the tasks both rows scored; " +
        `the interval resamples those tasks once for both rows (stream \`${ARC_BOOTSTRAP.stream}/<TRM row>-<DIS row>\`), ` +
        "so a task both solve or both miss does not widen it. An interval that contains 0 does not separate the " +
        "methods on these tasks.",
      ],
      table: {
        columns: [
          { key: "pair" },
          { key: "tasks", header: "tasks paired", format: "int" },
          { key: "trm", header: "TRM pass@2", format: { percent: 1 } },
          { key: "dis", header: "DIS pass@2", format: { percent: 1 } },
          { key: "diff", header: "DIS − TRM (points)" },
          { key: "diff_iv", header: `${level} paired interval (points)` },
          { key: "paper", header: "paper DIS − TRM (points)" },
        ],
        rows: pairRows,
      },
    });
  }
  const budgetRows = Object.entries(budget).map(([key, b]) => {
    const set = TABLE1_SETS.find((s) => key.startsWith(`${s.short}.`))!;
    const pair = PAIRS.find((x) => key === `${set.short}.${x.size}`)!;
    const mark = (step: number) => step === b.trm_final_step ? `${grouped(step)} (final)` : grouped(step);
    return {
      pair: `${pair.size} (${set.label})`,
      dis_steps: b.dis_steps,
      dis_calls: b.dis_net_calls,
      dis_pass2: b.dis_pass2,
      steps_step: mark(b.trm_at_steps.step),
      steps_pass2: b.trm_at_steps.pass2,
      calls_step: mark(b.trm_at_net_calls.step),
      calls_pass2: b.trm_at_net_calls.pass2,
    };
  });
  if (budgetRows.length > 0) {
    const same = budgetRows.filter((r) => r.steps_step === r.calls_step).map((r) => r.pair);
    sections.push({
      heading: "TRM at DIS's training budget",
      text: [
        "Training network applications: one call of the block stack on one sample; an optimiser step makes batch × " +
        "T(n + 1) of them for either method (TRM's halted samples are replaced, so every slot runs a supervision " +
        "step), as each row's `forward_passes.training.net_calls` counts. TRM is read from its evaluation curve at " +
        "DIS's optimiser steps, and at the first step where it has made at least DIS's training network " +
        "applications. A dash: TRM's curve has no evaluation at that step (set the TRM row's " +
        "`train.eval_interval` so that it has one).",
        ...(same.length > 0
          ? [
            `For ${same.join(", ")} the two points are the same step: both rows train at the same batch with the ` +
            "same T(n + 1) per sample.",
          ]
          : []),
      ],
      table: {
        columns: [
          { key: "pair" },
          { key: "dis_steps", header: "DIS steps", format: "int" },
          { key: "dis_calls", header: "DIS training network applications", format: "int" },
          { key: "dis_pass2", header: "DIS pass@2", format: { percent: 1 } },
          { key: "steps_step", header: "TRM at DIS's steps: step" },
          { key: "steps_pass2", header: "pass@2", format: { percent: 1 } },
          { key: "calls_step", header: "TRM at DIS's network applications: step" },
          { key: "calls_pass2", header: "pass@2", format: { percent: 1 } },
        ],
        rows: budgetRows,
      },
    });
  }
  if (validation.size > 0) {
    sections.push({
      heading: "Validation split (never scored)",
      text: [
        "The held-out test pairs of training tasks (`data.validation`): the recipes are chosen on these figures, " +
        "never on the scored evaluation tasks above, and they are not part of any figure above. Intervals as above, " +
        `from stream \`${ARC_BOOTSTRAP.stream}/<row>/validation\`.`,
      ],
      table: {
        columns: [
          { key: "row" },
          { key: "tasks", header: "validation tasks", format: "int" },
          { key: "pass2", header: "validation pass@2", format: { percent: 1 } },
          { key: "pass2_iv", header: `${level} interval` },
          { key: "pass1", header: "validation pass@1", format: { percent: 1 } },
          { key: "pass1_iv", header: `${level} interval` },
        ],
        rows: [...validation.entries()].map(([id, v]) => ({
          row: label(id),
          tasks: v.tasks,
          pass2: v.pass2,
          pass2_iv: pctInterval(v.pass2Interval),
          pass1: v.pass1,
          pass1_iv: pctInterval(v.pass1Interval),
        })),
      },
    });
  }
  sections.push({
    heading: "Chain-of-thought LLMs (quoted from the paper, not run)",
    text: ["These rows are quoted from the paper's Table 1 for context; this project does not run them."],
    table: {
      columns: [
        { key: "name", header: "model (quoted)" },
        { key: "params" },
        { key: "arc1", header: "ARC-AGI-1 pass@2", format: { percent: 1 } },
        { key: "arc2", header: "ARC-AGI-2 pass@2", format: { percent: 1 } },
      ],
      rows: TABLE1_QUOTED.map((q) => ({ ...q, arc1: fraction(q.arc1), arc2: fraction(q.arc2) })),
    },
  });

  const summary: string[] = [];
  const sentences: string[] = [];
  for (const set of TABLE1_SETS) {
    const said: string[] = [];
    for (const [trm, dis] of [["trm-compact", "dis-compact"], ["trm-medium", "dis-medium"], ["trm", "dis"]] as const) {
      const t = cell(set, TABLE1_MODELS.find((m) => m.id === trm)!);
      const d = cell(set, TABLE1_MODELS.find((m) => m.id === dis)!);
      if (!t || !d || t.pass2 === null || d.pass2 === null) continue;
      const size = trm === "trm" ? "7M" : trm.slice(4);
      const verdict = d.pass2 > t.pass2 ? "DIS ahead" : d.pass2 < t.pass2 ? "TRM ahead" : "a tie";
      const paired = pairs[`${set.short}.${size}`];
      const diff = paired?.diff !== null && paired?.diffInterval
        ? `, DIS − TRM ${signedPoints(paired.diff)} points, ${level} interval ${pointsInterval(paired.diffInterval)}`
        : "";
      said.push(
        `${size}: DIS ${pct(d.pass2)} against TRM ${pct(t.pass2)} (${verdict}${diff}; paper ` +
          `${pct(fraction(paperArcValue(dis, set.short)))} against ${pct(fraction(paperArcValue(trm, set.short)))})`,
      );
    }
    if (said.length > 0) sentences.push(`On ${set.label}, ${said.join("; ")}.`);
  }
  const tasks = [...ctx.finished.values()].map((r) => arcPassAt(r.results)?.tasks ?? 0);
  if (sentences.length === 0) {
    summary.push(
      "What this shows: no TRM/DIS pair of the same size has finished on the same set yet, so there is no comparison.",
    );
  } else {
    summary.push(
      `What this shows: ${sentences.join(" ")} Our numbers come from ${Math.min(...tasks)}–${Math.max(...tasks)} ` +
        "evaluated tasks per row; with few tasks, one solved task moves pass@2 by many points.",
    );
  }

  return {
    title: "ARC-AGI-1 and ARC-AGI-2 pass@2 (paper Table 1)",
    summary,
    sections,
    plots,
    results: {
      paper: {
        rows: Object.fromEntries(TABLE1_MODELS.map((m) => [m.id, {
          params: m.paperParams,
          arc1: paperArcValue(m.id, "arc1"),
          arc2: paperArcValue(m.id, "arc2"),
        }])),
        quoted: TABLE1_QUOTED,
        unit: "pass@2 in percent, TRM's per-task average",
      },
      ours: Object.fromEntries(
        [...ctx.finished.values()].map((r): [string, OursRow] => {
          const iv = intervals.get(r.plan.id);
          return [r.plan.id, {
            pass1: null,
            pass2: null,
            pass2PerOutput: null,
            tasks: null,
            testInputs: null,
            ...arcPassAt(r.results),
            params: r.results.params.total,
            forward_passes: r.results.forward_passes,
            steps: r.results.steps,
            eval: r.results.eval,
            eval_curve: r.results.eval_curve,
            scored: scoredOf(r),
            intervals: iv ? { pass1: iv.pass1Interval, pass2: iv.pass2Interval } : null,
            validation: validation.get(r.plan.id) ?? null,
          }];
        }),
      ),
      pairs,
      budget,
      bootstrap: { resamples: ARC_BOOTSTRAP.resamples, level: ARC_BOOTSTRAP.level, stream: ARC_BOOTSTRAP.stream },
      assumptions: {
        dis: "DIS 7M = DIS with T = 3, n = 4 (TRM's ARC command) on the medium backbone; the paper does not say",
      },
    },
  };
}

/** The headline figures `--seeds` gathers: each finished row's pass@2 beside the paper's. */
function headline(results: Table1Results): Headline[] {
  return Object.keys(results.ours).sort().map((id) => {
    const [set, model] = id.split(".") as [string, string];
    const m = TABLE1_MODELS.find((x) => x.id === model);
    const s = TABLE1_SETS.find((x) => x.short === set);
    return {
      key: `${id}.pass2`,
      label: `${m?.label ?? model} (${s?.label ?? set}) pass@2`,
      value: results.ours[id].pass2,
      paper: fraction(paperArcValue(model, set as "arc1" | "arc2")),
    };
  });
}

/** The experiment, for `reproduce table1` and `verify`. */
export const spec: ExperimentSpec<Table1Config, Table1Results> = {
  name: "table1",
  info,
  configDir: fileURLToPath(new URL(".", import.meta.url)),
  schema,
  needsArcData: true,
  rows,
  summarize,
  headline,
};

if (import.meta.main) {
  const { main } = await import("../cli/main.ts");
  Deno.exit(await main(["reproduce", "table1", ...Deno.args]));
}
