/**
 * Run outputs: byte-stable results.json, report.md with tables and SVG plots, run.json provenance,
 * metrics.jsonl, content hashes, and the progress callback type.
 *
 * @example
 * ```ts
 * import { lineChartSvg, markdownTable, RunFolder, sha256Hex } from "./mod.ts";
 * const run = await RunFolder.open(await Deno.makeTempDir(), { command: ["demo"], masterSeed: 0 });
 * const h = sha256Hex("data");
 * await run.writeResults({ experiment: "demo", configHash: h, dataHash: h, results: { acc: 0.5 } });
 * await run.writePlot("acc.svg", await lineChartSvg({ title: "acc", xLabel: "step", yLabel: "acc", series: [] }));
 * await run.writeReport(markdownTable([{ key: "acc" }], [{ acc: 0.5 }]));
 * ```
 *
 * @module
 */
export { canonicalJson, sha256Hex } from "./hash.ts";
export { roundStable, SIGNIFICANT_DIGITS, stableJson, type StableJsonOptions } from "./stable_json.ts";
export {
  type Column,
  compareNatural,
  formatNumber,
  markdownImage,
  markdownTable,
  MISSING,
  type NumberFormat,
  renderReport,
  type ReportDoc,
  type ReportSection,
} from "./markdown.ts";
export {
  type AxisFormat,
  type BarChart,
  barChartSvg,
  type LineChart,
  lineChartSvg,
  type LineSeries,
  type ReferenceLine,
  renderSvg,
} from "./plots.ts";
/** The vega-lite spec {@linkcode renderSvg} takes (vega-lite's own type). */
export type { TopLevelSpec } from "vega-lite";
export { collectProvenance, type GitInfo, gitInfo, type Provenance, type ProvenanceInput } from "./provenance.ts";
export { type MetricRecord, MetricsLog } from "./metrics.ts";
export { RESULTS_FORMAT, type ResultsDoc, resultsJson, RunFolder, type RunOptions } from "./run.ts";
export type { Progress, ProgressFn } from "./progress.ts";
