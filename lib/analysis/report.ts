/**
 * The analysis as report sections, plot specs and an output folder: per-step tables with bootstrap
 * intervals and the dead-compute flags, per update, per token class, per number of given queens, the
 * guided-decoding sweep, and line charts of margin, accuracy and cross-entropy against step with one line
 * per run (TRM against DIS). The experiments embed the sections in their own reports; `cli analyze`
 * writes them with {@linkcode writeAnalysis}.
 *
 * @module
 */
import { join } from "node:path";
import { replaceOutputDir, writeTextAtomic } from "../io/mod.ts";
import {
  canonicalJson,
  type Column,
  formatNumber,
  type LineChart,
  lineChartSvg,
  type LineSeries,
  renderReport,
  type ReportSection,
  resultsJson,
  sha256Hex,
} from "../report/mod.ts";
import type { AnalysisResult, Interval, PolicyRow } from "./analyze.ts";

/** One analysed run and the name it carries in tables and legends (e.g. `TRM`, `DIS`). */
export interface NamedAnalysis {
  /** Label of the run in tables and plot legends. */
  name: string;
  /** The run's diagnostics, as `analyzeModel` returned them. */
  result: AnalysisResult;
}

/** A plot of the analysis: render `chart` with lineChartSvg and write it as `file` beside the report. */
export interface AnalysisPlot {
  /** File name of the SVG, relative to the report (starts with the section's `plotPrefix`). */
  file: string;
  /** Caption of the plot in the report. */
  title: string;
  /** The chart to render. */
  chart: LineChart;
}

/** Options of {@linkcode analysisSections}. */
export interface SectionOptions {
  /** Prefix of the plot file names (default `analysis_`), so they do not clash with a host report's. */
  plotPrefix?: string;
}

const pct = { percent: 1 } as const;
const dec = { decimals: 3 } as const;

/** Fixed 3 decimals, without the sign of a value that rounds to zero. */
function fixed(x: number): string {
  if (!Number.isFinite(x)) return formatNumber(x);
  const s = x.toFixed(3);
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

function interval(value: unknown, ci: Interval | undefined): string {
  if (typeof value !== "number") return "—";
  return ci ? `${fixed(value)} [${fixed(ci[0])}, ${fixed(ci[1])}]` : fixed(value);
}

/** "yes" for a dead step, "yes, worse" when an interval also lies wholly below 0. */
function deadText(s: PolicyRow): string {
  if (!s.dead) return "";
  const iv = s.intervals;
  const worse = iv && [iv.ceDrop, iv.tokenAccGain, iv.exactGain].some(([, hi]) => hi < 0);
  return worse ? "yes, worse" : "yes";
}

function wIndex(r: AnalysisResult, w: number): number {
  return r.weights.indexOf(w);
}

function wLabel(w: number): string {
  return `w=${w}`;
}

/** The margin columns for the weights every run shares, in ascending order. */
function sharedWeights(runs: readonly NamedAnalysis[]): number[] {
  return runs[0].result.weights.filter((w) => runs.every((x) => x.result.weights.includes(w)));
}

/** Columns of the policies before (π̂) and after (π⁺) a row's step: cross-entropy, token and exact accuracy. */
function beforeAfterColumns(withExact: boolean): Column[] {
  return [
    { key: "ceBefore", header: "CE π̂", format: dec },
    { key: "ceAfter", header: "CE π⁺", format: dec },
    { key: "tokB", header: "token acc π̂", format: pct },
    { key: "tokA", header: "token acc π⁺", format: pct },
    ...(withExact
      ? [{ key: "exB", header: "exact π̂", format: pct }, { key: "exA", header: "exact π⁺", format: pct }]
      : []),
  ];
}

/** The values of {@linkcode beforeAfterColumns} for one row. */
function beforeAfter(s: PolicyRow): Record<string, number | null> {
  return {
    ceBefore: s.ceBefore,
    ceAfter: s.ceAfter,
    tokB: s.tokenAccBefore,
    tokA: s.tokenAccAfter,
    exB: s.exactBefore,
    exA: s.exactAfter,
  };
}

function stepTable(runs: readonly NamedAnalysis[]): ReportSection["table"] {
  const ws = sharedWeights(runs);
  const columns: Column[] = [
    { key: "run" },
    { key: "step" },
    ...ws.map((w) => ({ key: `m${w}`, header: `margin ${wLabel(w)}`, format: dec })),
    { key: "pos1", header: "margin > 0 (w=1)", format: pct },
    { key: "dLdw0", header: "dL/dw at 0", format: dec },
    { key: "dLdw1", header: "dL/dw at 1", format: dec },
    ...beforeAfterColumns(true),
    { key: "ceDrop", header: "CE drop [CI]", align: "right" },
    { key: "tokGain", header: "token acc gain [CI]", align: "right" },
    { key: "exGain", header: "exact gain [CI]", align: "right" },
    { key: "dead", header: "dead compute", align: "center" },
  ];
  const rows = runs.flatMap(({ name, result: r }) =>
    r.steps.map((s) => ({
      run: name,
      step: s.step,
      ...Object.fromEntries(ws.map((w) => [`m${w}`, s.margin[wIndex(r, w)]])),
      pos1: s.positive[wIndex(r, 1)],
      dLdw0: s.dLdw0,
      dLdw1: s.dLdw1,
      ...beforeAfter(s),
      ceDrop: interval(s.ceBefore - s.ceAfter, s.intervals?.ceDrop),
      tokGain: interval(s.tokenAccAfter - s.tokenAccBefore, s.intervals?.tokenAccGain),
      exGain: interval((s.exactAfter ?? 0) - (s.exactBefore ?? 0), s.intervals?.exactGain),
      dead: deadText(s),
    }))
  );
  return { columns, rows };
}

function rowsTable(
  runs: readonly NamedAnalysis[],
  pick: (r: AnalysisResult) => PolicyRow[],
  lead: Column[],
  leadValues: (row: PolicyRow) => Record<string, unknown>,
  withExact: boolean,
): ReportSection["table"] {
  const columns: Column[] = [
    { key: "run" },
    ...lead,
    { key: "tokens", format: "int" },
    { key: "m0", header: "margin w=0", format: dec },
    { key: "m1", header: "margin w=1", format: dec },
    { key: "pos1", header: "margin > 0 (w=1)", format: pct },
    ...beforeAfterColumns(withExact),
  ];
  const rows = runs.flatMap(({ name, result: r }) =>
    pick(r).map((s) => ({
      run: name,
      ...leadValues(s),
      tokens: s.tokens,
      m0: s.margin[wIndex(r, 0)],
      m1: s.margin[wIndex(r, 1)],
      pos1: s.positive[wIndex(r, 1)],
      ...beforeAfter(s),
    }))
  );
  return { columns, rows };
}

function series(runs: readonly NamedAnalysis[], f: (s: PolicyRow, r: AnalysisResult) => number): LineSeries[] {
  return runs.map(({ name, result: r }) => ({
    name,
    points: r.steps.map((s) => [s.step, f(s, r)] as const),
  }));
}

/**
 * Report sections and plot specs for one or more analysed runs (e.g. TRM and DIS on the same test set).
 *
 * @example
 * ```ts ignore
 * const { sections, plots } = analysisSections([{ name: "TRM", result: trm }, { name: "DIS", result: dis }]);
 * for (const p of plots) await run.writePlot(p.file, await lineChartSvg(p.chart));
 * await run.writeReport(renderReport({ title: "N-Queens", sections }));
 * ```
 */
export function analysisSections(
  runs: readonly NamedAnalysis[],
  opts: SectionOptions = {},
): { sections: ReportSection[]; plots: AnalysisPlot[] } {
  if (runs.length === 0) throw new RangeError("Cannot build analysis sections: no runs were given");
  const names = runs.map((r) => r.name);
  if (new Set(names).size !== names.length) {
    throw new RangeError(`Cannot build analysis sections: run names must be distinct, got ${names.join(", ")}`);
  }
  const prefix = opts.plotPrefix ?? "analysis_";
  const boot = runs[0].result.bootstrap;
  const level = `${formatNumber(boot.level * 100, 0)}%`;
  // Accuracies (fixed [0, 1] domain) are drawn in %, as the tables show them; steps are integers.
  const plot = (key: string, title: string, yLabel: string, s: LineSeries[], yDomain?: [number, number]) => ({
    file: `${prefix}${key}.svg`,
    title,
    chart: {
      title,
      xLabel: "supervision step",
      yLabel,
      series: s,
      x: { integer: true },
      ...(yDomain ? { yDomain, y: { percent: true } } : {}),
    },
  });
  const marginSeries = [0, 1].flatMap((w) =>
    runs.map(({ name, result: r }) => ({
      name: `${name} ${wLabel(w)}`,
      points: r.steps.map((s) => [s.step, s.margin[wIndex(r, w)]] as const),
      intervals: r.steps.map((s) => s.intervals?.margin[wIndex(r, w)] ?? null),
    }))
  );
  const marginPlot = plot("margin", "Advantage margin per step (eq. 18)", "mean margin (nats)", marginSeries);
  const plots: AnalysisPlot[] = [
    {
      ...marginPlot,
      chart: { ...marginPlot.chart, references: [{ label: "margin 0: the step neither helps nor hurts", y: 0 }] },
    },
    plot("accuracy", "Exact accuracy of pi_plus per step", "exact accuracy", series(runs, (s) => s.exactAfter!), [
      0,
      1,
    ]),
    plot(
      "token_accuracy",
      "Token accuracy of pi_plus per step",
      "token accuracy",
      series(runs, (s) => s.tokenAccAfter),
      [0, 1],
    ),
    plot("cross_entropy", "Cross-entropy of pi_plus per step", "CE (nats)", series(runs, (s) => s.ceAfter)),
  ];
  const sections: ReportSection[] = [{
    heading: "Policy improvement per supervision step",
    text: [
      "Each supervision step s is read as one policy-improvement move (paper section 3): π̂ = softmax of the " +
      "output head on y at the start of the step, π⁺ = at its end, A(a) = log π⁺(a) − log π̂(a), " +
      "π_w ∝ π̂^(1−w) π⁺^w. The margin is A(y*) − E_{a~π_w}[A(a)] (eq. 18), averaged over supervised tokens; " +
      "dL/dw = −margin, so a positive margin means trusting the step more lowers the loss. y* is the final label.",
      `Intervals: percentile bootstrap over examples, ${boot.resamples} resamples, ${level} central interval ` +
      `(stream "${boot.stream}" of seed ${boot.seed}). A step is dead compute when none of the CE drop, the ` +
      "token-accuracy gain and the exact-accuracy gain has its interval above 0. The margin plot draws the margin's " +
      "intervals as bands around its lines.",
    ],
    table: stepTable(runs),
    plots: plots.map(({ file, title }) => ({ file, title })),
  }];
  const multi = runs.filter((r) => r.result.updates.length > 0);
  if (multi.length > 0) {
    sections.push({
      heading: "Policy improvement per answer update",
      text: ["Runs with T > 1 cycles per step: every answer update's own pair (y before and after that update)."],
      table: rowsTable(multi, (r) => r.updates, [{ key: "step" }, { key: "cycle" }], (s) => ({
        step: s.step,
        cycle: s.cycle,
      }), true),
    });
  }
  sections.push({
    heading: "Policy improvement per token class",
    text: [
      "Tokens grouped by their ground-truth value (N-Queens: empty or queen; ARC: EOS or colour; PAD is never " +
      "supervised). Exact accuracy is a property of whole examples and is not split by class.",
    ],
    table: rowsTable(runs, (r) => r.byClass, [{ key: "step" }, { key: "class" }], (s) => ({
      step: s.step,
      class: s.group,
    }), false),
  });
  const given = runs.filter((r) => r.result.byGiven.length > 0);
  if (given.length > 0) {
    sections.push({
      heading: "Policy improvement per number of given queens (last step)",
      text: ["Q = queens given in the input. results.json holds these rows for every step."],
      table: rowsTable(
        given,
        (r) => r.byGiven.filter((s) => s.step === r.recursion.nSup),
        [{ key: "q", header: "Q" }, { key: "examples" }],
        (s) => ({ q: Number(s.group.slice(2)), examples: s.examples }),
        true,
      ),
    });
  }
  sections.push({
    heading: "Dead compute",
    table: {
      columns: [
        { key: "run" },
        { key: "steps", header: "steps (N_sup)" },
        { key: "perStep", header: "network calls per step" },
        { key: "dead", header: "dead steps" },
        { key: "wasted", header: "dead network calls per sample" },
      ],
      rows: runs.map(({ name, result: r }) => {
        const perStep = r.recursion.forwardPasses / r.recursion.nSup;
        return {
          run: name,
          steps: r.recursion.nSup,
          perStep,
          dead: r.deadSteps.length === 0 ? "none" : r.deadSteps.join(", "),
          wasted: `${r.deadSteps.length * perStep} of ${r.recursion.forwardPasses}`,
        };
      }),
    },
  });
  const nq = runs.some((r) => r.result.kind === "nqueens");
  const guidePlot = (key: string, what: string, f: (g: AnalysisResult["guidance"][number]) => number[] | null) => {
    const title = `${what} of guided decoding against w (last step)`;
    const guideSeries = runs.map(({ name, result: r }) => ({
      name,
      points: r.guidance.map((g) => [g.w, (f(g) ?? [0]).at(-1)!] as const),
    }));
    return {
      file: `${prefix}${key}.svg`,
      title,
      chart: {
        title,
        xLabel: "w (1 = ordinary inference)",
        yLabel: what.toLowerCase(),
        series: guideSeries,
        yDomain: [0, 1] as [number, number],
        y: { percent: true },
      },
    };
  };
  const guidePlots = [
    guidePlot("guidance", "Exact accuracy", (g) => g.exact),
    nq
      ? guidePlot("guidance_valid", "Valid completion", (g) => g.valid)
      : guidePlot("guidance_token", "Token accuracy", (g) => g.tokenAcc),
  ];
  plots.push(...guidePlots);
  sections.push({
    heading: "Guided decoding",
    text: [
      "Every step is read out as argmax of π_w ∝ π̂^(1−w) π⁺^w (w = 1 is ordinary inference, w > 1 extrapolates " +
      "as classifier-free guidance does; the authors' config has an unused guidance weight of 2.0). With DIS's " +
      "autoregressive input the guided prediction is fed to the next step; otherwise only the readout changes. " +
      `Accuracies at the last step; gains against w = 1 with paired ${level} bootstrap intervals.`,
    ],
    table: {
      columns: [
        { key: "run" },
        { key: "w", format: (v) => String(v) },
        { key: "tok", header: "token acc", format: pct },
        { key: "exact", header: "exact", format: pct },
        ...(nq ? [{ key: "valid", header: "valid completion", format: pct }] : []),
        { key: "tokGain", header: "token acc gain vs w=1 [CI]", align: "right" },
        { key: "exGain", header: "exact gain vs w=1 [CI]", align: "right" },
        ...(nq ? [{ key: "validGain", header: "valid gain vs w=1 [CI]", align: "right" } as Column] : []),
      ],
      rows: runs.flatMap(({ name, result: r }) =>
        r.guidance.map((g) => {
          const last = g.exact.length - 1;
          const base = r.guidance.find((x) => x.w === 1)!;
          return {
            run: name,
            w: g.w,
            tok: g.tokenAcc[last],
            exact: g.exact[last],
            valid: g.valid ? g.valid[last] : null,
            tokGain: interval(g.tokenAcc[last] - base.tokenAcc[last], g.tokenAccGain),
            exGain: interval(g.exact[last] - base.exact[last], g.exactGain),
            validGain: g.valid && base.valid
              ? interval(g.valid[last] - base.valid[last], g.validGain ?? undefined)
              : "—",
          };
        })
      ),
    },
    plots: guidePlots.map(({ file, title }) => ({ file, title })),
  });
  return { sections, plots };
}

/** Options of {@linkcode writeAnalysis}. */
export interface WriteOptions extends SectionOptions {
  /** Report title (default "Policy-improvement analysis"). */
  title?: string;
  /** SHA-256 (hex) of the analysed runs' resolved configs. */
  configHash: string;
  /** Extra JSON written as run.json (provenance: the one file with volatile facts). */
  provenance?: unknown;
}

/**
 * Writes report.md, results.json, the SVG plots and (optionally) run.json into `dir`, replacing it as a
 * whole: a failure leaves the previous folder untouched. results.json is the standard wrapper of lib/report's
 * `resultsJson` (`format`, `experiment: "analysis"`, `hashes`, `results`) with the analyses in
 * `results.runs.<name>`; its data hash is the SHA-256 of the runs' data hashes.
 *
 * @example
 * ```ts ignore
 * await writeAnalysis("runs/nqueens/dis/analysis", [{ name: "DIS", result }], { configHash });
 * ```
 */
export async function writeAnalysis(dir: string, runs: readonly NamedAnalysis[], opts: WriteOptions): Promise<void> {
  const { sections, plots } = analysisSections(runs, opts);
  const svgs: string[] = [];
  for (const p of plots) svgs.push(await lineChartSvg(p.chart));
  const results = { runs: Object.fromEntries(runs.map((r) => [r.name, r.result])) };
  const dataHash = sha256Hex(canonicalJson(runs.map((r) => [r.name, r.result.dataHash])));
  const report = renderReport({
    title: opts.title ?? "Policy-improvement analysis",
    summary: [
      runs.map(({ name, result: r }) => {
        const method = r.method.toUpperCase();
        return `- ${name}: ${name === method ? "" : `${method}, `}N_sup = ${r.recursion.nSup}, ` +
          `T = ${r.recursion.hCycles}, n = ${r.recursion.lCycles}` +
          `${r.recursion.autoregressive ? ", autoregressive input" : ""}; ${r.examples} examples, ` +
          `${r.tokens} supervised tokens.`;
      }).join("\n"),
    ],
    sections,
    hashes: { config: opts.configHash, data: dataHash },
  });
  await replaceOutputDir(dir, "analysis", async (tmp) => {
    await writeTextAtomic(
      join(tmp, "results.json"),
      resultsJson({ experiment: "analysis", configHash: opts.configHash, dataHash, results }),
    );
    await writeTextAtomic(join(tmp, "report.md"), report);
    for (const [i, p] of plots.entries()) await writeTextAtomic(join(tmp, p.file), svgs[i]);
    if (opts.provenance !== undefined) {
      await writeTextAtomic(join(tmp, "run.json"), JSON.stringify(opts.provenance, null, 2) + "\n");
    }
  });
}
