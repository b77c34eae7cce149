/**
 * N-Queens, paper section 5.1 and Figure 2: TRM (T = 3, n = 6, N_sup = 16, ACT) against DIS (T = 1,
 * n = 2, N_sup = 6) on the same generated boards. Reports the accuracy curves over training (exact and
 * valid), the final figures beside the paper's 0.69, the exact-match ceiling, network applications per
 * board at inference, per-Q accuracy, and the per-step policy-improvement margins of both (lib/analysis).
 *
 * `variant: paper` (default) uses the paper's data (Q = 1..7, 7,200 train / 200 test) and the
 * `nqueens-*-paper` presets; `variant: released-code` switches both to the released code's generator and
 * the `nqueens-*-code` presets. Profiles: nqueens.{smoke,small,paper}.yaml.
 *
 * Run: `deno run -A experiments/nqueens.ts --profile smoke` or `deno task reproduce nqueens`.
 *
 * @module
 */
import { type AnalysisResult, analysisSections, analyzeModel, type NamedAnalysis } from "../lib/analysis/mod.ts";
import { ConfigError, type ExperimentInfo, z } from "../lib/config/mod.ts";
import { NQUEENS_VARIANTS } from "../lib/data/mod.ts";
import {
  compareSentence,
  experimentBase,
  type ExperimentReport,
  type ExperimentSpec,
  type Headline,
  partialRunSchema,
  pct,
  ratio,
  type RowPlan,
  rowPlan,
  type SummaryContext,
} from "../lib/experiment/mod.ts";
import { barChartSvg, lineChartSvg, type LineSeries, type ReportSection } from "../lib/report/mod.ts";
import { type NQueensEvalJson, openTrainedRun, type RunResults } from "../lib/train/mod.ts";
import { fileURLToPath } from "node:url";

/** What `list` shows. */
export const info: ExperimentInfo = {
  title: "N-Queens: TRM against DIS (paper section 5.1, Figure 2)",
  profiles: {
    smoke: "tiny models, a few steps on 16 boards; CPU, well under a minute (CI, verify)",
    small: "D = 64 models on the full 7,200 / 200 boards with 200 validation boards; DIS 24,500 steps, TRM at " +
      "DIS's training network applications; about 75 minutes on a 2-core CPU",
    long: "the small recipe until the curves flatten: DIS 98,000 steps, TRM at twice DIS's network applications; " +
      "about 6-7 hours on a 2-core CPU",
    paper: "the paper's 0.8M models and budgets (about 940k steps at batch 768); days on a GPU",
  },
};

/** The paper's exact accuracy for both methods (section 5.1: "the same 0.69 accuracy"). */
export const PAPER_EXACT = 0.69;

const METHODS = ["trm", "dis"] as const;
type Method = typeof METHODS[number];
const NAMES: Record<Method, string> = { trm: "TRM", dis: "DIS" };

const schema = z.strictObject({
  ...experimentBase,
  /** Data generator and presets: the paper's text or the released code. */
  variant: z.enum(NQUEENS_VARIANTS).default("paper"),
  /**
   * Validation boards (their own stream, disjoint from the test boards), evaluated beside the test boards at
   * every evaluation; recipes are chosen on them, never on the test figure. 0 = none.
   */
  validation: z.int().nonnegative().max(100_000).default(0),
  /**
   * TRM's training budget. `explicit`: the steps its config gives. `dis-network-calls`: TRM trains until it has
   * made at least as many training network applications (steps x batch x T(n + 1)) as DIS, and evaluates at the
   * same network-application points, so the two curves compare equal compute.
   */
  trm_budget: z.enum(["explicit", "dis-network-calls"]).default("explicit"),
  /** Per-row training-config overrides, applied over `common`. */
  rows: z.strictObject({ trm: partialRunSchema.default({}), dis: partialRunSchema.default({}) }).prefault({}),
  /** The policy-improvement analysis of both trained models on the test boards. */
  analysis: z.strictObject({
    enabled: z.boolean().default(true),
    max_examples: z.int().positive().nullable().default(null),
    batch_size: z.int().positive().default(100),
    resamples: z.int().positive().default(1000),
    weights: z.array(z.number()).min(1).default([0, 0.5, 1, 1.5, 2]),
  }).prefault({}),
});
type NQueensExperimentConfig = z.output<typeof schema>;

function rows(config: NQueensExperimentConfig, source: string): RowPlan[] {
  const suffix = config.variant === "paper" ? "paper" : "code";
  const parts = (m: Method) => [
    {
      seed: config.seed,
      data: {
        kind: "nqueens",
        variant: config.variant,
        ...(config.validation > 0 ? { validation: config.validation } : {}),
      },
      model: { preset: `nqueens-${m}-${suffix}` },
    },
    config.common,
    config.rows[m],
  ];
  const dis = rowPlan("dis", NAMES.dis, parts("dis"), source);
  const trmParts = parts("trm");
  if (config.trm_budget === "dis-network-calls") {
    const trial = rowPlan("trm", NAMES.trm, trmParts, source).loaded.config;
    trmParts.push({ train: matchedBudget(dis.loaded.config, trial, source) });
  }
  return [rowPlan("trm", NAMES.trm, trmParts, source), dis];
}

/** Training network applications per optimiser step: every slot runs one supervision step of T(n + 1) calls. */
function callsPerStep(c: RowPlan["loaded"]["config"]): number {
  return c.train.batch_size * c.model.h_cycles * (c.model.l_cycles + 1);
}

/** TRM's steps and evaluation interval at DIS's network applications (rounded up: at least as many). */
function matchedBudget(
  dis: RowPlan["loaded"]["config"],
  trm: RowPlan["loaded"]["config"],
  source: string,
): { steps: number; eval_interval: number } {
  if (dis.train.steps === null) {
    throw new ConfigError(
      `Cannot match TRM's budget to DIS's in "${source}": key "trm_budget" needs DIS's "train.steps", not epochs`,
    );
  }
  const [d, t] = [callsPerStep(dis), callsPerStep(trm)];
  return {
    steps: Math.ceil((dis.train.steps * d) / t),
    eval_interval: dis.train.eval_interval === 0 ? 0 : Math.max(1, Math.round((dis.train.eval_interval * d) / t)),
  };
}

type Summary = NQueensEvalJson["overall"];
type ByQ = NQueensEvalJson["by_q"][number];

function evalOf(results: RunResults): { overall: Summary; byQ: ByQ[] } | null {
  const e = results.eval;
  if (!e || !("overall" in e)) return null;
  return { overall: e.overall, byQ: e.by_q ?? [] };
}

/** One method's part of the experiment's results. */
export interface NQueensMethodResults {
  preset: string;
  params: number;
  steps: number;
  batch_size: number;
  forward_passes: RunResults["forward_passes"];
  eval: RunResults["eval"];
  eval_curve: RunResults["eval_curve"];
  validation_curve?: RunResults["validation_curve"];
}

/** The `results` of the nqueens experiment's results.json (beside the runner's `rows`). */
export interface NQueensResults {
  variant: NQueensExperimentConfig["variant"];
  paper: { exact: number; source: string };
  /** The finished methods by id. */
  methods: Partial<Record<Method, NQueensMethodResults>>;
  /** The policy-improvement analysis of each finished method. */
  analysis: Record<string, AnalysisResult>;
}

async function analyse(ctx: SummaryContext<NQueensExperimentConfig>): Promise<NamedAnalysis[]> {
  const a = ctx.config.analysis;
  const out: NamedAnalysis[] = [];
  for (const m of METHODS) {
    const row = ctx.finished.get(m);
    if (!row) continue;
    const run = await openTrainedRun(row.dir, { scope: `nqueens.analysis.${m}.` });
    try {
      const result: AnalysisResult = await analyzeModel(run.model, run.method, run.data.test, {
        kind: "nqueens",
        weights: a.weights,
        guidance: a.weights,
        batchSize: a.batch_size,
        limit: a.max_examples ?? undefined,
        seed: ctx.config.seed,
        resamples: a.resamples,
        onProgress: ctx.onProgress && ((p) => ctx.onProgress!({ ...p, label: `${m} analysis` })),
      });
      out.push({ name: NAMES[m], result });
    } finally {
      run.dispose();
    }
  }
  return out;
}

/**
 * The paper's claim (section 5.1): DIS reaches TRM's accuracy with 18 network applications per board instead of
 * 336. One sentence, from the numbers: whether DIS's exact accuracy is at least TRM's here, at what inference cost,
 * after how much training compute, and where both stand against the paper's 0.69.
 */
function claimSentence(
  dis: number | null,
  trm: number | null,
  disPasses: number | null,
  trmPasses: number | null,
  trainCalls: (m: Method) => number | null,
): string {
  if (dis === null || trm === null) return "The claim cannot be judged: a final evaluation is missing.";
  const [cd, ct] = [trainCalls("dis"), trainCalls("trm")];
  const budget = cd === null || ct === null
    ? ""
    : ` after ${ct >= cd ? "at least as many" : "fewer"} training network applications for TRM (${
      (ct / 1e6).toFixed(1)
    }M against DIS's ${(cd / 1e6).toFixed(1)}M)`;
  const verdict = dis >= trm
    ? `holds at this scale: DIS reaches ${pct(dis)} exact with ${disPasses} network applications per board, ` +
      `TRM ${pct(trm)} with ${trmPasses}`
    : `does not hold at this scale: DIS reaches ${pct(dis)} exact with ${disPasses} network applications per board, ` +
      `${((trm - dis) * 100).toFixed(1)} points below TRM's ${pct(trm)} with ${trmPasses}`;
  const paper = Math.max(dis, trm) >= PAPER_EXACT
    ? `; ${dis >= PAPER_EXACT ? "DIS" : "TRM"} reaches the paper's ${pct(PAPER_EXACT)}`
    : `; neither reaches the paper's ${pct(PAPER_EXACT)}`;
  return `The paper's claim that DIS matches TRM's accuracy with far fewer network applications ${verdict}${budget}${paper}.`;
}

function marginSentence(runs: NamedAnalysis[]): string {
  const parts = runs.map(({ name, result: r }) => {
    const w1 = r.weights.indexOf(1);
    const positive = r.steps.filter((s) => s.margin[w1] > 0).length;
    const dead = r.deadSteps.length === 0 ? "none dead" : `dead: ${r.deadSteps.join(", ")}`;
    return `${name}'s margin at w = 1 is positive at ${positive} of ${r.steps.length} supervision steps (${dead})`;
  });
  return `Read as policy improvement (section 3), ${parts.join("; ")}.`;
}

async function summarize(ctx: SummaryContext<NQueensExperimentConfig>): Promise<ExperimentReport<NQueensResults>> {
  const sections: ReportSection[] = [];
  const plots: Record<string, string> = {};
  const finished = METHODS.filter((m) => ctx.finished.has(m));
  const res = (m: Method) => ctx.finished.get(m)!.results;
  const ev = Object.fromEntries(finished.map((m) => [m, evalOf(res(m))])) as Partial<
    Record<Method, ReturnType<typeof evalOf>>
  >;
  const passes = (m: Method) => res(m).forward_passes.per_sample_inference;
  const methodText = (m: Method) => {
    const c = ctx.rows.find((r) => r.id === m)!.loaded.config.model;
    return `${c.n_sup} / ${c.h_cycles} / ${c.l_cycles}`;
  };

  const finalRows = finished.map((m) => {
    const r = res(m);
    const o = ev[m]?.overall;
    const fp = r.forward_passes;
    return {
      method: NAMES[m],
      preset: `\`${r.preset}\``,
      params: r.params.total,
      recursion: methodText(m),
      passes: passes(m),
      trainPasses: fp.training.mean_per_completed_sample,
      exact: o?.exact ?? null,
      valid: o?.valid ?? null,
      ceiling: o?.ceiling ?? null,
      paper: PAPER_EXACT,
    };
  });
  const boards = finished.length > 0 ? ev[finished[0]]?.overall.count ?? 0 : 0;
  sections.push({
    heading: "Final accuracy (paper section 5.1)",
    text: [
      `Exact = the prediction equals the generated label on all 64 cells; valid = 8 non-attacking queens that keep the ` +
      `given ones; ceiling = the best exact accuracy possible on these ${boards} boards (mean of 1/k over boards with ` +
      "k completions). The paper reports 69.0% for both methods without naming the metric; the released code logs " +
      "exact match against the generated label, so this report reads it as exact match (docs/upstream.md §7). " +
      "Network applications per board: N_sup × T × (n + 1) at inference (every step runs).",
    ],
    table: {
      columns: [
        { key: "method" },
        { key: "preset" },
        { key: "params", header: "parameters", format: "int" },
        { key: "recursion", header: "N_sup / T / n" },
        { key: "passes", header: "network calls per board (inference)", format: "int" },
        { key: "trainPasses", header: "per finished training board (mean)", format: { decimals: 1 } },
        { key: "exact", format: { percent: 1 } },
        { key: "valid", format: { percent: 1 } },
        { key: "ceiling", format: { percent: 1 } },
        { key: "paper", header: "paper (exact)", format: { percent: 1 } },
      ],
      rows: finalRows,
    },
  });

  const curve = (m: Method) => res(m).eval_curve;
  const series: LineSeries[] = [];
  for (const key of ["exact", "valid"] as const) {
    for (const m of finished) {
      const pts = curve(m).filter((p) => typeof p[key] === "number").map((p) => [p.step, p[key]!] as const);
      if (pts.length > 0) series.push({ name: `${NAMES[m]} ${key}`, points: pts });
    }
  }
  const curveRows = finished.flatMap((m) =>
    curve(m).map((p) => ({ method: NAMES[m], step: p.step, exact: p.exact ?? null, valid: p.valid ?? null }))
  );
  // Training network applications at a step: every optimiser step runs one supervision step, T × (n + 1) network
  // calls, on each of the batch's boards (the trainers' forward_passes.training.net_calls counts the same).
  const netCallsPerStep = (m: Method) => {
    const r = res(m);
    return r.forward_passes.per_step * r.batch_size;
  };
  const byApplications: LineSeries[] = [];
  for (const key of ["exact", "valid"] as const) {
    for (const m of finished) {
      const per = netCallsPerStep(m);
      if (per === null) continue;
      const pts = curve(m).filter((p) => typeof p[key] === "number").map((p) => [p.step * per, p[key]!] as const);
      if (pts.length > 0) byApplications.push({ name: `${NAMES[m]} ${key}`, points: pts });
    }
  }
  const ceiling = finished.length > 0 ? ev[finished[0]]?.overall.ceiling ?? null : null;
  const references = [
    { label: `paper ${pct(PAPER_EXACT)} (exact)`, y: PAPER_EXACT },
    ...(ceiling === null ? [] : [{ label: `exact-match ceiling ${pct(ceiling)}`, y: ceiling }]),
  ];
  if (series.length > 0) {
    plots["accuracy_curves.svg"] = await lineChartSvg({
      title: "N-Queens test accuracy over optimiser steps (Figure 2)",
      xLabel: "optimiser step",
      yLabel: "test accuracy",
      yDomain: [0, 1],
      x: { integer: true },
      y: { percent: true },
      references,
      series,
    });
  }
  if (byApplications.length > 0) {
    plots["accuracy_vs_applications.svg"] = await lineChartSvg({
      title: "N-Queens test accuracy over training network applications",
      xLabel: "training network applications (optimiser steps × batch × T(n + 1))",
      yLabel: "test accuracy",
      yDomain: [0, 1],
      x: { integer: true },
      y: { percent: true },
      references,
      series: byApplications,
    });
  }
  sections.push({
    heading: "Accuracy over training (Figure 2)",
    text: [
      "Test-set accuracy at each evaluation. One optimiser step is one supervision step on every row of the batch, " +
      "for both methods; a DIS board takes all its N_sup steps, a TRM board halts earlier when its Q head says so.",
    ],
    table: {
      columns: [
        { key: "method" },
        { key: "step", format: "int" },
        { key: "exact", format: { percent: 1 } },
        { key: "valid", format: { percent: 1 } },
      ],
      rows: curveRows,
    },
    plots: [
      ...(series.length > 0 ? [{ title: "Accuracy over optimiser steps", file: "accuracy_curves.svg" }] : []),
      ...(byApplications.length > 0
        ? [{ title: "Accuracy over training network applications", file: "accuracy_vs_applications.svg" }]
        : []),
    ],
  });

  const qs = [...new Set(finished.flatMap((m) => ev[m]?.byQ.map((g) => g.q) ?? []))].sort((a, b) => a - b);
  if (qs.length > 0) {
    const at = (m: Method, q: number, key: "exact" | "valid") => ev[m]?.byQ.find((g) => g.q === q)?.[key] ?? null;
    plots["per_q_accuracy.svg"] = await barChartSvg({
      title: "Exact accuracy by number of given queens",
      xLabel: "given queens (Q)",
      yLabel: "exact accuracy",
      yDomain: [0, 1],
      y: { percent: true },
      categories: qs,
      series: [
        ...finished.map((m) => ({ name: `${NAMES[m]} exact`, values: qs.map((q) => at(m, q, "exact")) })),
        { name: "ceiling", values: qs.map((q) => ev[finished[0]]?.byQ.find((g) => g.q === q)?.ceiling ?? null) },
      ],
    });
    sections.push({
      heading: "Accuracy by number of given queens",
      text: ["Fewer given queens leave more completions, so exact match is capped by the ceiling; valid is not."],
      table: {
        columns: [
          { key: "q", header: "Q" },
          { key: "count", header: "boards", format: "int" },
          ...finished.flatMap((m) => [
            { key: `${m}_exact`, header: `${NAMES[m]} exact`, format: { percent: 1 } as const },
            { key: `${m}_valid`, header: `${NAMES[m]} valid`, format: { percent: 1 } as const },
          ]),
          { key: "ceiling", format: { percent: 1 } },
        ],
        rows: qs.map((q) => {
          const g = ev[finished[0]]!.byQ.find((x) => x.q === q);
          const row: Record<string, unknown> = { q: String(q), count: g?.count ?? null, ceiling: g?.ceiling ?? null };
          for (const m of finished) {
            row[`${m}_exact`] = at(m, q, "exact");
            row[`${m}_valid`] = at(m, q, "valid");
          }
          return row;
        }),
      },
      plots: [{ title: "Exact accuracy by Q", file: "per_q_accuracy.svg" }],
    });
  }

  let analysis: NamedAnalysis[] = [];
  if (ctx.config.analysis.enabled && finished.length > 0) {
    analysis = await analyse(ctx);
    const a = analysisSections(analysis, { plotPrefix: "analysis_" });
    for (const p of a.plots) plots[p.file] = await lineChartSvg(p.chart);
    sections.push(...a.sections);
  }

  const summary: string[] = [];
  const trainCalls = (m: Method) => res(m).forward_passes.training.net_calls;
  if (finished.length === 2) {
    const [t, d] = [ev.trm?.overall, ev.dis?.overall];
    const sentences = [
      "What this shows: " +
      compareSentence(
        { name: "DIS", value: d?.exact ?? null },
        { name: "TRM", value: t?.exact ?? null },
        `exact accuracy on the ${boards} test boards`,
      ),
      compareSentence(
        { name: "DIS", value: d?.valid ?? null },
        { name: "TRM", value: t?.valid ?? null },
        "valid completions",
      ),
      `DIS runs ${passes("dis")} network applications per board at inference against ${passes("trm")} for TRM ` +
      `(${ratio(passes("trm") ?? 0, passes("dis") ?? 0)} fewer).`,
      `The paper reports ${pct(PAPER_EXACT)} exact accuracy for both; on these boards exact match cannot exceed ` +
      `their ${pct(d?.ceiling ?? null)} ceiling.`,
    ];
    sentences.push(claimSentence(d?.exact ?? null, t?.exact ?? null, passes("dis"), passes("trm"), trainCalls));
    if (analysis.length === 2) sentences.push(marginSentence(analysis));
    summary.push(sentences.join(" "));
  } else {
    const missing = METHODS.filter((m) => !ctx.finished.has(m)).map((m) => NAMES[m]);
    summary.push(
      `What this shows: only ${finished.map((m) => NAMES[m]).join(" and ")} has finished; ` +
        `${missing.join(" and ")} has not run, so there is no comparison yet.`,
    );
  }

  return {
    title: `N-Queens: TRM against DIS (${ctx.config.variant === "paper" ? "paper" : "released-code"} variant)`,
    summary,
    sections,
    plots,
    results: {
      variant: ctx.config.variant,
      paper: { exact: PAPER_EXACT, source: "section 5.1: the same 0.69 accuracy for TRM and DIS" },
      methods: Object.fromEntries(finished.map((m) => {
        const r = res(m);
        return [m, {
          preset: r.preset,
          params: r.params.total,
          steps: r.steps,
          batch_size: r.batch_size,
          forward_passes: r.forward_passes,
          eval: r.eval,
          eval_curve: r.eval_curve,
          ...(r.validation_curve ? { validation_curve: r.validation_curve } : {}),
        }];
      })),
      analysis: Object.fromEntries(analysis.map((a) => [a.name, a.result])),
    },
  };
}

/** The headline figures `--seeds` gathers: each method's exact and valid accuracy on the test boards. */
function headline(results: NQueensResults): Headline[] {
  return METHODS.flatMap((m) => {
    const e = results.methods[m]?.eval;
    const o = e && "overall" in e ? e.overall : undefined;
    return [
      { key: `${m}.exact`, label: `${NAMES[m]} exact`, value: o?.exact ?? null, paper: PAPER_EXACT },
      { key: `${m}.valid`, label: `${NAMES[m]} valid`, value: o?.valid ?? null, paper: null },
    ];
  });
}

/** The experiment, for `reproduce nqueens` and `verify`. */
export const spec: ExperimentSpec<NQueensExperimentConfig, NQueensResults> = {
  name: "nqueens",
  info,
  configDir: fileURLToPath(new URL(".", import.meta.url)),
  schema,
  needsArcData: false,
  rows,
  summarize,
  headline,
};

if (import.meta.main) {
  const { main } = await import("../cli/main.ts");
  Deno.exit(await main(["reproduce", "nqueens", ...Deno.args]));
}
