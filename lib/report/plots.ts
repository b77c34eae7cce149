/**
 * SVG plots: a vega-lite spec, compiled to vega and rendered headless with `View.toSVG()`. Text is
 * measured by vega's built-in estimate (no canvas is loaded), so the bytes depend only on the input.
 * Element ids that vega numbers from process-wide counters (clip paths, gradients) are renumbered per
 * document, so the same chart renders to the same bytes however many charts came before it.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One line of a line chart. */
export interface LineSeries {
  name: string;
  /** `[x, y]` pairs, drawn in the order given. */
  points: readonly (readonly [number, number])[];
}

/** Input of {@linkcode lineChartSvg}. */
export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Fixed y range, e.g. `[0, 1]` for accuracies; default: fitted to the data. */
  yDomain?: readonly [number, number];
  /** Plot area size in pixels (default 480 x 280). */
  width?: number;
  height?: number;
}

/** Input of {@linkcode barChartSvg}: one group of bars per category, one bar per series. */
export interface BarChart {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Group labels along x, in the order drawn (e.g. number of given queens). */
  categories: readonly (string | number)[];
  /** `values[i]` is the bar for `categories[i]`; `null` leaves the slot empty. */
  series: readonly { name: string; values: readonly (number | null)[] }[];
  yDomain?: readonly [number, number];
  width?: number;
  height?: number;
}

function checkFinite(x: number, what: string): void {
  if (!Number.isFinite(x)) throw new RangeError(`Cannot plot ${what}: expected a finite number, got ${x}`);
}

function checkNames(names: readonly string[], chart: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new RangeError(`Cannot plot "${chart}": series name "${n}" appears twice`);
    seen.add(n);
  }
}

/** Renumbers every `id` in an SVG document in order of first appearance, with its references. */
function normaliseIds(svg: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) {
    if (!ids.has(m[1])) ids.set(m[1], `p${ids.size}`);
  }
  if (ids.size === 0) return svg;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${ids.get(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (all, id) => ids.has(id) ? `url(#${ids.get(id)})` : all)
    .replace(/href="#([^"]+)"/g, (all, id) => ids.has(id) ? `href="#${ids.get(id)}"` : all);
}

/** Renders a vega-lite spec to deterministic SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return normaliseIds(await view.toSVG()) + "\n";
  } finally {
    view.finalize();
  }
}

const BASE_CONFIG = {
  font: "sans-serif",
  legend: { orient: "right" },
} as const;

/** A chart's vega-lite spec: the title, size and config both kinds share, then its data, mark and encoding. */
function chartSpec(
  chart: LineChart | BarChart,
  values: unknown[],
  mark: unknown,
  encoding: Record<string, unknown>,
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: chart.title,
    width: chart.width ?? 480,
    height: chart.height ?? 280,
    config: BASE_CONFIG,
    data: { values },
    mark,
    encoding,
  } as TopLevelSpec;
}

/** The y axis: `field`, titled with the chart's yLabel, over its yDomain when it has one. */
function yEncoding(field: string, chart: LineChart | BarChart): Record<string, unknown> {
  const y: Record<string, unknown> = { field, type: "quantitative", title: chart.yLabel };
  if (chart.yDomain) y.scale = { domain: [...chart.yDomain] };
  return y;
}

/** One colour per series, in the order given (which is also the legend's). */
function seriesColor(names: string[]): Record<string, unknown> {
  return { field: "series", type: "nominal", title: null, scale: { domain: names }, sort: names };
}

/**
 * A line chart with one line (and point marks) per series; legend order = series order.
 *
 * @example
 * ```ts
 * import { lineChartSvg } from "./plots.ts";
 * const svg = await lineChartSvg({
 *   title: "Exact accuracy", xLabel: "step", yLabel: "accuracy", yDomain: [0, 1],
 *   series: [{ name: "DIS", points: [[0, 0.1], [100, 0.6]] }],
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  checkNames(chart.series.map((s) => s.name), chart.title);
  const values: { series: string; x: number; y: number; order: number }[] = [];
  for (const s of chart.series) {
    s.points.forEach(([x, y], i) => {
      checkFinite(x, `"${chart.title}", series "${s.name}", point ${i} x`);
      checkFinite(y, `"${chart.title}", series "${s.name}", point ${i} y`);
      values.push({ series: s.name, x, y, order: i });
    });
  }
  return await renderSvg(chartSpec(chart, values, { type: "line", point: true }, {
    x: { field: "x", type: "quantitative", title: chart.xLabel },
    y: yEncoding("y", chart),
    color: seriesColor(chart.series.map((s) => s.name)),
    order: { field: "order", type: "quantitative" },
  }));
}

/**
 * A grouped bar chart: for each category, one bar per series side by side.
 *
 * @example
 * ```ts
 * import { barChartSvg } from "./plots.ts";
 * const svg = await barChartSvg({
 *   title: "Accuracy by given queens", xLabel: "given queens", yLabel: "exact", yDomain: [0, 1],
 *   categories: [1, 2, 3],
 *   series: [{ name: "TRM", values: [0.2, 0.4, 0.7] }, { name: "DIS", values: [0.3, 0.5, null] }],
 * });
 * svg.includes("</svg>"); // true
 * ```
 */
export async function barChartSvg(chart: BarChart): Promise<string> {
  checkNames(chart.series.map((s) => s.name), chart.title);
  const cats = chart.categories.map(String);
  if (new Set(cats).size !== cats.length) {
    throw new RangeError(`Cannot plot "${chart.title}": categories must be distinct`);
  }
  const values: { series: string; category: string; value: number }[] = [];
  for (const s of chart.series) {
    if (s.values.length !== cats.length) {
      throw new RangeError(
        `Cannot plot "${chart.title}": series "${s.name}" has ${s.values.length} values, expected ${cats.length} ` +
          "(one per category)",
      );
    }
    s.values.forEach((v, i) => {
      if (v === null) return;
      checkFinite(v, `"${chart.title}", series "${s.name}", category ${cats[i]}`);
      values.push({ series: s.name, category: cats[i], value: v });
    });
  }
  const names = chart.series.map((s) => s.name);
  return await renderSvg(chartSpec(chart, values, "bar", {
    x: {
      field: "category",
      type: "nominal",
      title: chart.xLabel,
      sort: cats,
      scale: { domain: cats },
      axis: { labelAngle: 0 },
    },
    xOffset: { field: "series", type: "nominal", sort: names, scale: { domain: names } },
    y: yEncoding("value", chart),
    color: seriesColor(names),
  }));
}
