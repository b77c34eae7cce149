/**
 * DIS as the paper describes it against DIS as the released code runs it (docs/upstream.md §6.2 and §8), on
 * N-Queens and on a small ARC-AGI-1 subset. Four factors differ: the target kernel (code: reveal the
 * label on a growing random subset of the differing cells; paper: masking / replacement), the step
 * weights (code: uniform; paper: linearly increasing), the optimiser (code: lucidrains' Adam-atan2 for
 * N-Queens and AdamW for ARC; paper: Adam-atan2) and the autoregressive input (code: the previous step's
 * prediction; paper: the fixed input). Each task runs the code's setting, the paper's setting, and the
 * code's setting with one factor switched at a time, everything else (backbone, N_sup, data, budget)
 * held fixed.
 *
 * The file name has a hyphen because it is the experiment's name (`reproduce dis-variants`).
 *
 * Run: `deno run -A experiments/dis-variants.ts --profile smoke --data-dir DATA` or
 * `deno task reproduce dis-variants`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { ConfigError, type ExperimentInfo, z } from "../lib/config/mod.ts";
import {
  experimentBase,
  type ExperimentReport,
  type ExperimentSpec,
  partialRunSchema,
  pct,
  points,
  type RowPlan,
  rowPlan,
  type SummaryContext,
} from "../lib/experiment/mod.ts";
import type { StepWeights, TargetKind } from "../lib/model/mod.ts";
import { barChartSvg, type ReportSection } from "../lib/report/mod.ts";
import type { RunResults } from "../lib/train/mod.ts";
import { arcPassAt } from "./_arc.ts";

/** What `list` shows. */
export const info: ExperimentInfo = {
  title: "DIS as written against DIS as released: targets, step weights, optimiser, autoregressive input",
  profiles: {
    smoke: "the 7 N-Queens variants and 2 ARC ones as tiny models, a few steps; CPU, about a minute (needs ARC data)",
    small: "7 variants x (N-Queens, D = 64; ARC, 8 tasks per subset); hours on a CPU",
    paper: "7 variants x (N-Queens, the 0.8M model; ARC-AGI-1, DIS-compact); days on GPUs",
  },
};

const TASKS = ["nqueens", "arc"] as const;
type Task = typeof TASKS[number];

interface Setting {
  targets: TargetKind;
  step_weights: StepWeights;
  /** "code" = the released code's optimiser for the task. */
  optimizer: "code" | "adam-atan2";
  autoregressive: boolean;
}

const CODE: Setting = { targets: "reveal", step_weights: "uniform", optimizer: "code", autoregressive: true };
const PAPER: Setting = { targets: "mask", step_weights: "linear", optimizer: "adam-atan2", autoregressive: false };

/** The variants, in report order: both endpoints, then one factor of the code switched at a time. */
export const VARIANTS: readonly { id: string; label: string; setting: Setting }[] = [
  { id: "code", label: "released code", setting: CODE },
  { id: "paper", label: "paper text", setting: PAPER },
  { id: "targets-mask", label: "code, masked targets", setting: { ...CODE, targets: "mask" } },
  { id: "targets-replace", label: "code, replacement targets", setting: { ...CODE, targets: "replace" } },
  { id: "step-weights-linear", label: "code, linear step weights", setting: { ...CODE, step_weights: "linear" } },
  { id: "optimizer-adam-atan2", label: "code, Adam-atan2", setting: { ...CODE, optimizer: "adam-atan2" } },
  { id: "autoregressive-off", label: "code, fixed input", setting: { ...CODE, autoregressive: false } },
];

/** Each task's base: the preset, the data, and the released code's optimiser. */
const TASK_BASE: Record<Task, { label: string; preset: string; data: Record<string, unknown>; codeOptimizer: string }> =
  {
    nqueens: {
      label: "N-Queens",
      preset: "nqueens-dis-paper",
      data: { kind: "nqueens", variant: "paper" },
      codeOptimizer: "adam-atan2-lucidrains",
    },
    arc: {
      label: "ARC-AGI-1 subset",
      preset: "arc-dis-compact",
      data: { kind: "arc", set: "arc-agi-1" },
      codeOptimizer: "adamw",
    },
  };

const schema = z.strictObject({
  ...experimentBase,
  /** Per-task training-config overrides, applied over `common`. */
  tasks: z.strictObject({ nqueens: partialRunSchema.default({}), arc: partialRunSchema.default({}) }).prefault({}),
  /** Per-row overrides by row id (e.g. `arc.paper`), applied last. */
  rows: z.record(z.string(), partialRunSchema).default({}),
});
type VariantsConfig = z.output<typeof schema>;

function rows(config: VariantsConfig, source: string): RowPlan[] {
  const out: RowPlan[] = [];
  for (const task of TASKS) {
    const base = TASK_BASE[task];
    for (const v of VARIANTS) {
      const s = v.setting;
      const id = `${task}.${v.id}`;
      out.push(rowPlan(id, `${base.label}: ${v.label}`, [
        {
          seed: config.seed,
          data: base.data,
          model: {
            preset: base.preset,
            targets: s.targets,
            step_weights: s.step_weights,
            autoregressive: s.autoregressive,
          },
          train: { optimizer: s.optimizer === "code" ? base.codeOptimizer : s.optimizer },
        },
        config.common,
        config.tasks[task],
        config.rows[id] ?? {},
      ], source));
    }
  }
  const ids = new Set(out.map((r) => r.id));
  const unknown = Object.keys(config.rows).filter((k) => !ids.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Cannot load config "${source}": key "rows" names ${unknown.map((u) => `"${u}"`).join(", ")}, which ` +
        `${unknown.length === 1 ? "is not a row" : "are not rows"} (rows: ${[...ids].join(", ")})`,
    );
  }
  return out;
}

function metricOf(task: Task, results: RunResults): { main: number | null; second: number | null } {
  if (task === "nqueens") {
    const o = results.eval && "overall" in results.eval ? results.eval.overall : null;
    return { main: o?.exact ?? null, second: o?.valid ?? null };
  }
  const a = arcPassAt(results);
  return { main: a?.pass2 ?? null, second: a?.pass1 ?? null };
}

/** One variant's figures: its setting and the task's two metrics (exact/valid or pass@2/pass@1), by name. */
export type VariantFigures =
  & { setting: Record<string, unknown> }
  & Record<string, number | null | Record<string, unknown>>;

/** The `results` of the dis-variants experiment's results.json (beside the runner's `rows`). */
export interface DisVariantsResults {
  /** Per task (`nqueens`, `arc1`), the finished variants by id. */
  variants: Record<string, Record<string, VariantFigures>>;
}

async function summarize(ctx: SummaryContext<VariantsConfig>): Promise<ExperimentReport<DisVariantsResults>> {
  const sections: ReportSection[] = [];
  const plots: Record<string, string> = {};
  const sentences: string[] = [];
  const results: DisVariantsResults["variants"] = {};
  for (const task of TASKS) {
    const names = task === "nqueens" ? ["exact", "valid"] : ["pass@2", "pass@1"];
    const values = VARIANTS.map((v) => {
      const row = ctx.finished.get(`${task}.${v.id}`);
      return { v, m: row ? metricOf(task, row.results) : null };
    });
    if (values.every((x) => x.m === null)) continue;
    const base = values[0].m?.main ?? null;
    const optimizerName = (s: Setting) => (s.optimizer === "code" ? TASK_BASE[task].codeOptimizer : s.optimizer);
    sections.push({
      heading: `${TASK_BASE[task].label}`,
      text: [
        `Every row trains \`${TASK_BASE[task].preset}\`'s backbone and N_sup with the same data and budget; only the ` +
        `four factors change. Δ = ${names[0]} minus the released code's.`,
      ],
      table: {
        columns: [
          { key: "variant" },
          { key: "targets" },
          { key: "weights", header: "step weights" },
          { key: "optimizer" },
          { key: "ar", header: "autoregressive" },
          { key: "main", header: names[0], format: { percent: 1 } },
          { key: "second", header: names[1], format: { percent: 1 } },
          { key: "delta", header: "Δ vs code", align: "right" },
        ],
        rows: values.map(({ v, m }) => ({
          variant: v.label,
          targets: v.setting.targets,
          weights: v.setting.step_weights,
          optimizer: optimizerName(v.setting),
          ar: v.setting.autoregressive ? "on" : "off",
          main: m?.main ?? null,
          second: m?.second ?? null,
          delta: m?.main == null || base === null || v.id === "code" ? "—" : points(m.main, base),
        })),
      },
      plots: [{ title: `${TASK_BASE[task].label}: ${names[0]} per variant`, file: `variants_${task}.svg` }],
    });
    plots[`variants_${task}.svg`] = await barChartSvg({
      title: `${TASK_BASE[task].label}: ${names[0]} per variant`,
      xLabel: "variant",
      yLabel: names[0],
      yDomain: [0, 1],
      y: { percent: true },
      categories: VARIANTS.map((v) => v.id),
      series: [{ name: names[0], values: values.map((x) => x.m?.main ?? null) }],
    });
    results[task] = Object.fromEntries(
      values.filter((x) => x.m !== null).map(({ v, m }) => [v.id, {
        setting: { ...v.setting, optimizer: optimizerName(v.setting) },
        [names[0]]: m!.main,
        [names[1]]: m!.second,
      }]),
    );
    const paper = values[1].m?.main ?? null;
    const singles = values.slice(2).filter((x) => x.m?.main != null && base !== null);
    const parts: string[] = [];
    if (base !== null && paper !== null) {
      parts.push(`the paper's setting reaches ${pct(paper)} ${names[0]} against ${pct(base)} for the released code`);
    }
    if (singles.length > 0 && base !== null) {
      const biggest = singles.reduce((a, b) => Math.abs(b.m!.main! - base) > Math.abs(a.m!.main! - base) ? b : a);
      const d = biggest.m!.main! - base;
      parts.push(
        Math.abs(d) < 0.0005
          ? "no single factor changes it"
          : `the factor that moves it most on its own is ${biggest.v.label.replace(/^code, /, "")} ` +
            `(${points(biggest.m!.main!, base)})`,
      );
    }
    if (parts.length > 0) sentences.push(`On ${TASK_BASE[task].label}, ${parts.join("; ")}.`);
  }
  return {
    title: "DIS variants: the paper's text against the released code",
    summary: [
      sentences.length > 0
        ? `What this shows: ${sentences.join(" ")}`
        : "What this shows: no variant pair has finished yet, so there is no comparison.",
    ],
    sections,
    plots,
    results: { variants: results },
  };
}

/** The experiment, for `reproduce dis-variants` and `verify`. */
export const spec: ExperimentSpec<VariantsConfig, DisVariantsResults> = {
  name: "dis-variants",
  info,
  configDir: fileURLToPath(new URL(".", import.meta.url)),
  schema,
  needsArcData: true,
  rows,
  summarize,
};

if (import.meta.main) {
  const { main } = await import("../cli/main.ts");
  Deno.exit(await main(["reproduce", "dis-variants", ...Deno.args]));
}
