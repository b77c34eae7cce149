/**
 * Markdown for `report.md`: tables with a fixed column order and number formatting, plot embeds, and a
 * whole-report renderer. Everything here is a pure function of its input, so a report generated twice
 * from the same results is byte-identical.
 *
 * @module
 */

/** How a table cell's number is written. */
export type NumberFormat =
  /** Fixed decimals: `{ decimals: 3 }` writes 0.5 as `0.500`. */
  | { decimals: number }
  /** A fraction as a percentage with fixed decimals: `{ percent: 1 }` writes 0.6912 as `69.1%`. */
  | { percent: number }
  /** Rounded to an integer with thousands separators: 12345.6 as `12,346`. */
  | "int";

/** One table column. */
export interface Column {
  /** The row field shown in this column. */
  key: string;
  /** Header text; defaults to `key`. */
  header?: string;
  /** Alignment; defaults to right for columns holding numbers, left otherwise. */
  align?: "left" | "right" | "center";
  /** Number format, or a function for full control; defaults to {@linkcode formatNumber}. */
  format?: NumberFormat | ((value: unknown, row: Record<string, unknown>) => string);
}

/** Written for a missing (null or undefined) cell. */
export const MISSING = "—";

/**
 * Formats a number for a report: integers as they are, others with fixed decimals (default 3).
 * `-0` and values that round to zero are written without a minus sign.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./markdown.ts";
 * formatNumber(2 / 3); // "0.667"
 * formatNumber(7); // "7"
 * ```
 */
export function formatNumber(x: number, decimals = 3): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  if (Number.isSafeInteger(x)) return String(x === 0 ? 0 : x);
  return unsignZero(x.toFixed(decimals));
}

function unsignZero(s: string): string {
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

function applyFormat(value: unknown, row: Record<string, unknown>, format: Column["format"]): string {
  if (typeof format === "function") return format(value, row);
  if (value === null || value === undefined) return MISSING;
  if (typeof value !== "number") return String(value);
  if (format === undefined) return formatNumber(value);
  if (!Number.isFinite(value)) return formatNumber(value);
  if (format === "int") {
    const s = unsignZero(Math.round(value).toFixed(0));
    return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  if ("percent" in format) return `${unsignZero((value * 100).toFixed(format.percent))}%`;
  return unsignZero(value.toFixed(format.decimals));
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/**
 * Orders names with their numbers compared as numbers: `pass@2` before `pass@10`, `step 9` before `step 10`.
 * Other text compares by UTF-16 code units, so the order does not depend on the locale.
 *
 * @example
 * ```ts
 * import { compareNatural } from "./markdown.ts";
 * ["pass@10", "pass@2", "pass@1", "exact"].sort(compareNatural); // ["exact", "pass@1", "pass@2", "pass@10"]
 * ```
 */
export function compareNatural(a: string, b: string): number {
  const parts = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A markdown table. Columns appear in the order given and rows in the order given (sort them before,
 * by a stable key).
 *
 * @example
 * ```ts
 * import { markdownTable } from "./markdown.ts";
 * markdownTable(
 *   [{ key: "model" }, { key: "acc", header: "exact", format: { percent: 1 } }],
 *   [{ model: "TRM", acc: 0.5 }, { model: "DIS", acc: 0.69 }],
 * );
 * // "| model | exact |\n| :--- | ---: |\n| TRM | 50.0% |\n| DIS | 69.0% |\n"
 * ```
 */
export function markdownTable(columns: readonly Column[], rows: readonly Record<string, unknown>[]): string {
  if (columns.length === 0) throw new RangeError("Cannot build a markdown table: no columns were given");
  const header = columns.map((c) => escapeCell(c.header ?? c.key));
  const rule = columns.map((c) => {
    const align = c.align ?? (rows.some((r) => typeof r[c.key] === "number") ? "right" : "left");
    return align === "right" ? "---:" : align === "center" ? ":---:" : ":---";
  });
  const body = rows.map((row) => columns.map((c) => escapeCell(applyFormat(row[c.key], row, c.format))));
  return [header, rule, ...body].map((cells) => `| ${cells.join(" | ")} |\n`).join("");
}

/**
 * An embedded image, for plots written beside the report.
 *
 * @example
 * ```ts
 * import { markdownImage } from "./markdown.ts";
 * markdownImage("Accuracy", "accuracy.svg"); // "![Accuracy](accuracy.svg)"
 * ```
 */
export function markdownImage(title: string, file: string): string {
  return `![${title.replace(/[[\]]/g, "")}](${encodeURI(file)})`;
}

/** One section of a report. */
export interface ReportSection {
  /** The section's heading (a `##` line). */
  heading: string;
  /** Paragraphs, written before the table. */
  text?: string[];
  /** A markdown table: `columns` say which key of each row to show and how. */
  table?: { columns: readonly Column[]; rows: readonly Record<string, unknown>[] };
  /** Plots beside `report.md`, embedded after the table. */
  plots?: { title: string; file: string }[];
}

/** A whole report. */
export interface ReportDoc {
  /** The report's title (the `#` line). */
  title: string;
  /** The profile the numbers come from, stated under the title (smoke / small / paper). */
  profile?: string;
  /** Paragraphs under the title. */
  summary?: string[];
  /** The sections, in order, after the summary. */
  sections: ReportSection[];
  /** Content hashes, written at the foot so a reader can match the report to its results. */
  hashes?: Record<string, string>;
}

/**
 * Renders a report as markdown.
 *
 * @example
 * ```ts
 * import { renderReport } from "./markdown.ts";
 * const md = renderReport({ title: "N-Queens", profile: "smoke", sections: [{ heading: "Accuracy", text: ["..."] }] });
 * md.startsWith("# N-Queens\n"); // true
 * ```
 */
export function renderReport(doc: ReportDoc): string {
  const blocks: string[] = [`# ${doc.title}`];
  if (doc.profile !== undefined) blocks.push(`**Profile: \`${doc.profile}\`**`);
  for (const p of doc.summary ?? []) blocks.push(p);
  for (const s of doc.sections) {
    blocks.push(`## ${s.heading}`);
    for (const p of s.text ?? []) blocks.push(p);
    if (s.table) blocks.push(markdownTable(s.table.columns, s.table.rows).trimEnd());
    for (const plot of s.plots ?? []) blocks.push(markdownImage(plot.title, plot.file));
  }
  if (doc.hashes && Object.keys(doc.hashes).length > 0) {
    const lines = Object.keys(doc.hashes).sort().map((k) => `- ${k}: \`${doc.hashes![k]}\``);
    blocks.push(`---\n\nContent hashes (SHA-256):\n\n${lines.join("\n")}`);
  }
  return blocks.join("\n\n") + "\n";
}
