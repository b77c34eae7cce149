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
  /** Legend label; unique within the chart. */
  name: string;
  /** `[x, y]` pairs, drawn in the order given. */
  points: readonly (readonly [number, number])[];
  /** `[low, high]` per point (e.g. a bootstrap interval), drawn as a band around the line; null = none there. */
  intervals?: readonly (readonly [number, number] | null)[];
}

/** A horizontal reference line across the plot, labelled at its right end (the paper's value, a ceiling, 0). */
export interface ReferenceLine {
  /** Text written at the line's right end. */
  label: string;
  /** Height of the line, in y units. */
  y: number;
}

/** How an axis writes its numbers. */
export interface AxisFormat {
  /** Values are fractions shown as percentages (0.69 as "69%"), as the tables show them. */
  percent?: boolean;
  /** Values are counts or step numbers: ticks only at integers, written without decimals. */
  integer?: boolean;
}

/** Input of {@linkcode lineChartSvg}. */
export interface LineChart {
  /** Title above the plot. */
  title: string;
  /** Caption of the x axis. */
  xLabel: string;
  /** Caption of the y axis. */
  yLabel: string;
  /** The lines, drawn in order and named in the legend. */
  series: readonly LineSeries[];
  /** Fixed y range, e.g. `[0, 1]` for accuracies; default: fitted to the data. */
  yDomain?: readonly [number, number];
  /** Number style of the x and y axes. */
  x?: AxisFormat;
  /** Number style of the y axis. */
  y?: AxisFormat;
  /** Horizontal reference lines, drawn dashed with their labels. */
  references?: readonly ReferenceLine[];
  /** Plot area width in pixels (default 480). */
  width?: number;
  /** Plot area height in pixels (default 280). */
  height?: number;
}

/** Input of {@linkcode barChartSvg}: one group of bars per category, one bar per series. */
export interface BarChart {
  /** Title above the plot. */
  title: string;
  /** Caption of the x axis. */
  xLabel: string;
  /** Caption of the y axis. */
  yLabel: string;
  /** Group labels along x, in the order drawn (e.g. number of given queens). */
  categories: readonly (string | number)[];
  /** `values[i]` is the bar for `categories[i]`; `null` leaves the slot empty. */
  series: readonly {
    name: string;
    values: readonly (number | null)[];
    /** `[low, high]` per category, drawn as an error bar on the bar; null = none there. */
    intervals?: readonly (readonly [number, number] | null)[];
  }[];
  /** Fixed y range, e.g. `[0, 1]` for accuracies; default: fitted to the data. */
  yDomain?: readonly [number, number];
  /** Number style of the y axis. */
  y?: AxisFormat;
  /** Horizontal reference lines, drawn dashed with their labels. */
  references?: readonly ReferenceLine[];
  /** Plot area width in pixels (default 480). */
  width?: number;
  /** Plot area height in pixels (default 280). */
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
  legend: { orient: "right", symbolOpacity: 1 },
} as const;

/** vega's estimate of a label's width at the default 10 px axis font, in pixels. */
const LABEL_CHAR_PX = 6;

/** The axis properties of an {@linkcode AxisFormat}. */
function axisFormat(f: AxisFormat | undefined): Record<string, unknown> {
  if (f?.percent) return { format: ".0%" };
  if (f?.integer) return { format: ",d", tickMinStep: 1 };
  return {};
}

/** A chart's vega-lite spec: the title, size and config every kind shares, then its layers. */
function chartSpec(chart: LineChart | BarChart, layers: unknown[]): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: chart.title,
    width: chart.width ?? 480,
    height: chart.height ?? 280,
    config: BASE_CONFIG,
    layer: layers,
  } as TopLevelSpec;
}

/** The y axis: `field`, titled with the chart's yLabel, over its yDomain when it has one. */
function yEncoding(field: string, chart: LineChart | BarChart): Record<string, unknown> {
  const y: Record<string, unknown> = { field, type: "quantitative", title: chart.yLabel, axis: axisFormat(chart.y) };
  if (chart.yDomain) y.scale = { domain: [...chart.yDomain] };
  return y;
}

/** One colour per series, in the order given (which is also the legend's). */
function seriesColor(names: string[]): Record<string, unknown> {
  return { field: "series", type: "nominal", title: null, scale: { domain: names }, sort: names };
}

/** The dashed reference lines and their labels, as two layers with their own data (none when there are none). */
function referenceLayers(chart: LineChart | BarChart): unknown[] {
  const refs = chart.references ?? [];
  refs.forEach((r, i) => checkFinite(r.y, `"${chart.title}", reference line ${i} ("${r.label}")`));
  if (refs.length === 0) return [];
  const values = refs.map((r) => ({ label: r.label, y: r.y }));
  const y = { field: "y", type: "quantitative" };
  return [
    { data: { values }, mark: { type: "rule", strokeDash: [5, 4], color: "#555" }, encoding: { y } },
    {
      data: { values },
      mark: { type: "text", align: "right", baseline: "bottom", dx: -2, dy: -2, color: "#333", fontSize: 10 },
      encoding: { y, x: { value: chart.width ?? 480 }, text: { field: "label" } },
    },
  ];
}

function checkInterval(iv: readonly [number, number] | null | undefined, what: string): void {
  if (iv === null || iv === undefined) return;
  checkFinite(iv[0], `${what} interval low`);
  checkFinite(iv[1], `${what} interval high`);
  if (iv[0] > iv[1]) throw new RangeError(`Cannot plot ${what}: interval [${iv[0]}, ${iv[1]}] has low above high`);
}

/**
 * A line chart with one line (and point marks) per series, optional bands for intervals and dashed
 * reference lines; legend order = series order.
 *
 * @example
 * ```ts
 * import { lineChartSvg } from "./plots.ts";
 * const svg = await lineChartSvg({
 *   title: "Exact accuracy", xLabel: "step", yLabel: "accuracy", yDomain: [0, 1],
 *   x: { integer: true }, y: { percent: true }, references: [{ label: "paper 69%", y: 0.69 }],
 *   series: [{ name: "DIS", points: [[0, 0.1], [100, 0.6]], intervals: [[0.05, 0.15], [0.5, 0.7]] }],
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  checkNames(chart.series.map((s) => s.name), chart.title);
  const values: { series: string; x: number; y: number; order: number }[] = [];
  const bands: { series: string; x: number; lo: number; hi: number }[] = [];
  for (const s of chart.series) {
    if (s.intervals && s.intervals.length !== s.points.length) {
      throw new RangeError(
        `Cannot plot "${chart.title}": series "${s.name}" has ${s.intervals.length} intervals for ` +
          `${s.points.length} points`,
      );
    }
    s.points.forEach(([x, y], i) => {
      checkFinite(x, `"${chart.title}", series "${s.name}", point ${i} x`);
      checkFinite(y, `"${chart.title}", series "${s.name}", point ${i} y`);
      values.push({ series: s.name, x, y, order: i });
      const iv = s.intervals?.[i];
      checkInterval(iv, `"${chart.title}", series "${s.name}", point ${i}`);
      if (iv) bands.push({ series: s.name, x, lo: iv[0], hi: iv[1] });
    });
  }
  const names = chart.series.map((s) => s.name);
  const x = { field: "x", type: "quantitative", title: chart.xLabel, axis: axisFormat(chart.x) };
  const layers: unknown[] = [];
  if (bands.length > 0) {
    layers.push({
      data: { values: bands },
      mark: { type: "area", opacity: 0.18 },
      encoding: {
        x,
        y: { ...yEncoding("lo", chart) },
        y2: { field: "hi" },
        color: seriesColor(names),
      },
    });
  }
  layers.push({
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x,
      y: yEncoding("y", chart),
      color: seriesColor(names),
      order: { field: "order", type: "quantitative" },
    },
  });
  layers.push(...referenceLayers(chart));
  return await renderSvg(chartSpec(chart, layers));
}

/**
 * A grouped bar chart: for each category, one bar per series side by side, with optional error bars
 * and dashed reference lines. Category labels that would not fit side by side are drawn slanted.
 *
 * @example
 * ```ts
 * import { barChartSvg } from "./plots.ts";
 * const svg = await barChartSvg({
 *   title: "Accuracy by given queens", xLabel: "given queens", yLabel: "exact", yDomain: [0, 1],
 *   categories: [1, 2, 3], y: { percent: true },
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
  const bars: { series: string; category: string; lo: number; hi: number }[] = [];
  for (const s of chart.series) {
    for (const [what, n] of [["values", s.values.length], ["intervals", s.intervals?.length ?? cats.length]] as const) {
      if (n !== cats.length) {
        throw new RangeError(
          `Cannot plot "${chart.title}": series "${s.name}" has ${n} ${what}, expected ${cats.length} ` +
            "(one per category)",
        );
      }
    }
    s.values.forEach((v, i) => {
      if (v === null) return;
      checkFinite(v, `"${chart.title}", series "${s.name}", category ${cats[i]}`);
      values.push({ series: s.name, category: cats[i], value: v });
      const iv = s.intervals?.[i];
      checkInterval(iv, `"${chart.title}", series "${s.name}", category ${cats[i]}`);
      if (iv) bars.push({ series: s.name, category: cats[i], lo: iv[0], hi: iv[1] });
    });
  }
  const names = chart.series.map((s) => s.name);
  const width = chart.width ?? 480;
  // Slant the labels when the longest would overlap its neighbours, and give them room below the axis.
  const longest = Math.max(0, ...cats.map((c) => c.length)) * LABEL_CHAR_PX;
  const slant = cats.length > 0 && longest > width / cats.length - 4;
  const x = {
    field: "category",
    type: "nominal",
    title: chart.xLabel,
    sort: cats,
    scale: { domain: cats },
    axis: slant ? { labelAngle: -40, labelAlign: "right", labelBaseline: "top", labelLimit: 180 } : { labelAngle: 0 },
  };
  const xOffset = { field: "series", type: "nominal", sort: names, scale: { domain: names } };
  const layers: unknown[] = [{
    data: { values },
    mark: "bar",
    encoding: { x, xOffset, y: yEncoding("value", chart), color: seriesColor(names) },
  }];
  if (bars.length > 0) {
    layers.push({
      data: { values: bars },
      mark: { type: "rule", color: "#222" },
      encoding: { x, xOffset, y: yEncoding("lo", chart), y2: { field: "hi" } },
    });
  }
  layers.push(...referenceLayers(chart));
  return await renderSvg(chartSpec(chart, layers));
}
