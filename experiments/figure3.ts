/**
 * Figure 3 of the paper: pass@2 on ARC-AGI-1 over training for TRM and DIS, compact (left panel) and
 * medium (right panel). Four rows, each evaluated every `train.eval_interval` steps; the report draws one
 * chart per size and sets the last point beside the paper's Table 1 value (the figure itself gives no
 * numbers).
 *
 * Run: `deno run -A experiments/figure3.ts --profile smoke --data-dir DATA` or
 * `deno task reproduce figure3`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type ExperimentInfo, z } from "../lib/config/mod.ts";
import {
  experimentBase,
  type ExperimentReport,
  type ExperimentSpec,
  partialRunSchema,
  pct,
  type RowPlan,
  rowPlan,
  type SummaryContext,
} from "../lib/experiment/mod.ts";
import { lineChartSvg, type ReportSection } from "../lib/report/mod.ts";
import { type ArcPassAt, arcPassAt, paperArcValue, passCurve, TABLE1_MODELS, table1Layers } from "./_arc.ts";

/** What `list` shows. */
export const info: ExperimentInfo = {
  title: "ARC-AGI-1 pass@2 over training, Figure 3: TRM and DIS, compact and medium",
  profiles: {
    smoke: "tiny models, two evaluations each on 1 task per subset; CPU, about a minute (needs the ARC data)",
    small: "D = 64 models on 8 tasks per subset with 8 augmentations, 8 evaluations each; hours on a CPU",
    paper: "the paper's compact and medium models on ARC-AGI-1 with 1,000 augmentations; days on 4 GPUs per row",
  },
};

const SIZES = [
  { id: "compact", label: "compact (0.8M)" },
  { id: "medium", label: "medium (7M)" },
] as const;
const METHODS = ["trm", "dis"] as const;

const schema = z.strictObject({
  ...experimentBase,
  rows: z.strictObject({
    "trm-compact": partialRunSchema.default({}),
    "dis-compact": partialRunSchema.default({}),
    "trm-medium": partialRunSchema.default({}),
    "dis-medium": partialRunSchema.default({}),
  }).prefault({}),
});
type Figure3Config = z.output<typeof schema>;
type RowId = keyof Figure3Config["rows"];

function rows(config: Figure3Config, source: string): RowPlan[] {
  return SIZES.flatMap((size) =>
    METHODS.map((m) => {
      const id = `${m}-${size.id}` as RowId;
      const model = TABLE1_MODELS.find((x) => x.id === id)!;
      return rowPlan(id, model.label, [
        ...table1Layers(model, "arc-agi-1", config.seed),
        config.common,
        config.rows[id],
      ], source);
    })
  );
}

/** The `results` of the figure3 experiment's results.json (beside the runner's `rows`). */
export interface Figure3Results {
  /** The paper's Table 1 pass@2 (percent) of each row, null where it has none. */
  paper: Record<string, number | null>;
  /** Each finished row's pass@2 curve (fractions). */
  curves: Record<string, { step: number; pass2: number }[]>;
  /** Each finished row's final pass@k. */
  final: Record<string, ArcPassAt | null>;
}

async function summarize(ctx: SummaryContext<Figure3Config>): Promise<ExperimentReport<Figure3Results>> {
  const sections: ReportSection[] = [];
  const plots: Record<string, string> = {};
  const curves: Record<string, [number, number][]> = {};
  for (const [id, row] of ctx.finished) curves[id] = passCurve(row.results);
  const sentences: string[] = [];
  for (const size of SIZES) {
    const series = METHODS.flatMap((m) => {
      const id = `${m}-${size.id}`;
      return curves[id]?.length ? [{ name: m.toUpperCase(), points: curves[id] }] : [];
    });
    const file = `figure3_${size.id}.svg`;
    if (series.length > 0) {
      plots[file] = await lineChartSvg({
        title: `ARC-AGI-1 pass@2 over training, ${size.label}`,
        xLabel: "optimiser step",
        yLabel: "pass@2",
        yDomain: [0, 1],
        x: { integer: true },
        y: { percent: true },
        // The paper's final values (Table 1) for the rows of this size, dashed.
        references: METHODS.flatMap((m) => {
          const v = paperArcValue(`${m}-${size.id}`, "arc1");
          return v === null ? [] : [{ label: `paper ${m.toUpperCase()} ${v.toFixed(1)}%`, y: v / 100 }];
        }),
        series,
      });
    }
    const tableRows = METHODS.flatMap((m) => {
      const id = `${m}-${size.id}`;
      return (curves[id] ?? []).map(([step, v]) => ({ method: m.toUpperCase(), step, pass2: v }));
    });
    sections.push({
      heading: `Figure 3, ${size.label}`,
      text: [
        "pass@2 (TRM's per-task average after the vote) at each evaluation of the row. The last point is the " +
        `row's final result; the paper's Table 1 gives TRM-${size.id} ${
          paperArcValue(`trm-${size.id}`, "arc1")?.toFixed(1)
        }% ` +
        `and DIS-${size.id} ${paperArcValue(`dis-${size.id}`, "arc1")?.toFixed(1)}% on ARC-AGI-1.`,
      ],
      table: tableRows.length > 0
        ? {
          columns: [{ key: "method" }, { key: "step", format: "int" }, {
            key: "pass2",
            header: "pass@2",
            format: { percent: 1 },
          }],
          rows: tableRows,
        }
        : undefined,
      plots: series.length > 0 ? [{ title: `pass@2 over training, ${size.label}`, file }] : [],
    });
    const last = (m: string) => curves[`${m}-${size.id}`]?.at(-1)?.[1] ?? null;
    const best = (m: string) => {
      const c = curves[`${m}-${size.id}`] ?? [];
      return c.length ? Math.max(...c.map(([, v]) => v)) : null;
    };
    if (last("trm") !== null && last("dis") !== null) {
      sentences.push(
        `${size.label}: DIS ends at ${pct(last("dis"))} (best ${pct(best("dis"))}) and TRM at ${pct(last("trm"))} ` +
          `(best ${pct(best("trm"))}); the paper's final values are ${
            paperArcValue(`dis-${size.id}`, "arc1")?.toFixed(1)
          }% ` +
          `and ${paperArcValue(`trm-${size.id}`, "arc1")?.toFixed(1)}%.`,
      );
    }
  }
  const summary = [
    sentences.length > 0
      ? `What this shows: ${sentences.join(" ")}`
      : "What this shows: no size has both its TRM and its DIS row finished yet, so there is no comparison.",
  ];
  return {
    title: "ARC-AGI-1 pass@2 over training (paper Figure 3)",
    summary,
    sections,
    plots,
    results: {
      paper: Object.fromEntries(
        SIZES.flatMap((s) => METHODS.map((m) => [`${m}-${s.id}`, paperArcValue(`${m}-${s.id}`, "arc1")])),
      ),
      curves: Object.fromEntries(
        Object.entries(curves).map(([id, c]) => [id, c.map(([step, v]) => ({ step, pass2: v }))]),
      ),
      final: Object.fromEntries([...ctx.finished].map(([id, r]) => [id, arcPassAt(r.results)])),
    },
  };
}

/** The experiment, for `reproduce figure3` and `verify`. */
export const spec: ExperimentSpec<Figure3Config, Figure3Results> = {
  name: "figure3",
  info,
  configDir: fileURLToPath(new URL(".", import.meta.url)),
  schema,
  needsArcData: true,
  rows,
  summarize,
};

if (import.meta.main) {
  const { main } = await import("../cli/main.ts");
  Deno.exit(await main(["reproduce", "figure3", ...Deno.args]));
}
