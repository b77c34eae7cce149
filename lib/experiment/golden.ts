/**
 * Golden comparison for `verify`: an experiment's results.json and report.md against the committed
 * copies in fixtures/expected/. On the reference backend the files must be byte-identical; elsewhere
 * numbers may differ within a tolerance while everything else (keys, strings, the text around the
 * numbers) must match. Differences come back as readable lines: JSON paths with both values, and a
 * line diff with context for text.
 *
 * @module
 */
import { join } from "node:path";
import { readTextIfExists } from "../io/mod.ts";

/** Numbers a and b (golden) agree when |a - b| <= atol + rtol * |b|. */
export interface Tolerance {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance, as a fraction of the golden value. */
  rtol: number;
}

/**
 * The tolerance for backends other than the reference one (documented in fixtures/README.md). The
 * smoke runs are a few optimiser steps, so different float rounding moves their losses in the 5th or
 * 6th digit; a flipped argmax can move an accuracy over a handful of examples further, which this
 * tolerance reports as a difference on purpose.
 */
export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-3 };

/** One difference between two JSON values. */
export interface JsonDifference {
  /** Where, e.g. `results.rows.dis.eval.exact` or `results.curve[3]`. */
  path: string;
  /** The golden value there; an internal marker symbol when the golden lacks the path. */
  expected: unknown;
  /** The output's value there; an internal marker symbol when the output lacks the path. */
  actual: unknown;
}

function within(a: number, b: number, tol: Tolerance | null): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (tol === null) return false;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
}

function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

const MISSING = Symbol("missing");

/**
 * Every difference between two JSON values: exact (tol null) or with numbers within a tolerance.
 *
 * @example
 * ```ts
 * import { compareJson } from "./golden.ts";
 * compareJson({ a: 1, b: [0.5] }, { a: 1, b: [0.50001] }, { atol: 1e-3, rtol: 0 }); // []
 * compareJson({ a: 1 }, { a: 2 }, null); // [{ path: "a", expected: 1, actual: 2 }]
 * ```
 */
export function compareJson(expected: unknown, actual: unknown, tol: Tolerance | null, path = ""): JsonDifference[] {
  const out: JsonDifference[] = [];
  const walk = (e: unknown, a: unknown, p: string) => {
    if (typeof e === "number" && typeof a === "number") {
      if (!within(a, e, tol)) out.push({ path: p, expected: e, actual: a });
      return;
    }
    if (kind(e) !== kind(a)) {
      out.push({ path: p, expected: e, actual: a });
      return;
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      for (let i = 0; i < Math.max(e.length, a.length); i++) {
        walk(i < e.length ? e[i] : MISSING, i < a.length ? a[i] : MISSING, `${p}[${i}]`);
      }
      return;
    }
    if (kind(e) === "object") {
      const eo = e as Record<string, unknown>;
      const ao = a as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(eo), ...Object.keys(ao)])].sort();
      for (const k of keys) {
        walk(Object.hasOwn(eo, k) ? eo[k] : MISSING, Object.hasOwn(ao, k) ? ao[k] : MISSING, p ? `${p}.${k}` : k);
      }
      return;
    }
    if (e !== a) out.push({ path: p, expected: e, actual: a });
  };
  walk(expected, actual, path);
  return out;
}

function shown(v: unknown): string {
  if (v === MISSING) return "(missing)";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * JSON differences as lines: `path: expected X, got Y`, at most `max` of them and a count of the rest.
 *
 * @example
 * ```ts
 * import { formatJsonDifferences } from "./golden.ts";
 * formatJsonDifferences([{ path: "a", expected: 1, actual: 2 }]); // ["a: expected 1, got 2"]
 * ```
 */
export function formatJsonDifferences(diffs: readonly JsonDifference[], max = 20): string[] {
  const lines = diffs.slice(0, max).map((d) =>
    `${d.path || "(root)"}: expected ${shown(d.expected)}, got ${shown(d.actual)}`
  );
  if (diffs.length > max) lines.push(`... and ${diffs.length - max} more`);
  return lines;
}

/**
 * A line diff of two texts (longest common subsequence), with `context` unchanged lines around each
 * change: `-` lines are the golden's, `+` lines the new output's; each hunk starts with the golden's
 * line number of its first line. Empty when the texts are equal.
 *
 * @example
 * ```ts
 * import { lineDiff } from "./golden.ts";
 * lineDiff("a\nb\nc\n", "a\nx\nc\n", 1); // ["@@ line 1 @@", " a", "-b", "+x", " c"]
 * ```
 */
export function lineDiff(expected: string, actual: string, context = 2, maxLines = 80): string[] {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const n = a.length;
  const m = b.length;
  // Common prefix and suffix first: reports differ in a few numbers, so the LCS table stays small.
  let pre = 0;
  while (pre < n && pre < m && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < n - pre && suf < m - pre && a[n - 1 - suf] === b[m - 1 - suf]) suf++;
  const am = a.slice(pre, n - suf);
  const bm = b.slice(pre, m - suf);
  if (am.length === 0 && bm.length === 0) return [];
  const lcs: number[][] = Array.from({ length: am.length + 1 }, () => new Array(bm.length + 1).fill(0));
  for (let i = am.length - 1; i >= 0; i--) {
    for (let j = bm.length - 1; j >= 0; j--) {
      lcs[i][j] = am[i] === bm[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  type Op = { op: " " | "-" | "+"; text: string; line: number };
  const ops: Op[] = a.slice(0, pre).map((text, i) => ({ op: " ", text, line: i + 1 }));
  let i = 0;
  let j = 0;
  while (i < am.length || j < bm.length) {
    if (i < am.length && j < bm.length && am[i] === bm[j]) {
      ops.push({ op: " ", text: am[i], line: pre + i + 1 });
      i++;
      j++;
    } else if (i < am.length && (j === bm.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ op: "-", text: am[i], line: pre + i + 1 });
      i++;
    } else {
      ops.push({ op: "+", text: bm[j], line: pre + i + 1 });
      j++;
    }
  }
  for (let k = 0; k < suf; k++) ops.push({ op: " ", text: a[n - suf + k], line: n - suf + k + 1 });
  const keep = new Array(ops.length).fill(false);
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) keep[c] = true;
  });
  const out: string[] = [];
  let last = -2;
  for (let k = 0; k < ops.length; k++) {
    if (!keep[k]) continue;
    if (k !== last + 1) out.push(`@@ line ${ops[k].line} @@`);
    out.push(`${ops[k].op}${ops[k].text}`);
    last = k;
    if (out.length >= maxLines) {
      out.push("... (diff cut)");
      break;
    }
  }
  return out;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi;

/**
 * Whether two texts agree with every number within a tolerance and all other characters equal, line by
 * line; returns the 1-based numbers of the lines that do not (a line count mismatch marks the extra lines).
 *
 * @example
 * ```ts
 * import { textLinesOutsideTolerance } from "./golden.ts";
 * textLinesOutsideTolerance("acc 0.5000\n", "acc 0.5001\n", { atol: 1e-3, rtol: 0 }); // []
 * ```
 */
export function textLinesOutsideTolerance(expected: string, actual: string, tol: Tolerance): number[] {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const bad: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined || y === undefined) {
      bad.push(i + 1);
      continue;
    }
    const xs = x.split(NUMBER);
    const ys = y.split(NUMBER);
    const xn = x.match(NUMBER) ?? [];
    const yn = y.match(NUMBER) ?? [];
    const same = xs.length === ys.length && xs.every((s, k) => s === ys[k]) &&
      xn.every((v, k) => within(Number(yn[k]), Number(v), tol));
    if (!same) bad.push(i + 1);
  }
  return bad;
}

/** How one file compared. */
export interface FileComparison {
  /** The file's path relative to both folders. */
  file: string;
  /** `identical` byte for byte, `within-tolerance` (numbers differ within it), `differs`, or one side missing. */
  status: "identical" | "within-tolerance" | "differs" | "missing-golden" | "missing-output";
  /** Readable lines saying what differs (empty when it agrees). */
  details: string[];
}

/**
 * Compares the files of an output folder with a golden folder: exact when `tol` is null, otherwise
 * JSON files number-by-number and other text files line-by-line within the tolerance.
 *
 * @example
 * ```ts ignore
 * const cmp = await compareFiles("fixtures/expected/nqueens", "runs/verify/nqueens", ["results.json", "report.md"], null);
 * cmp.every((c) => c.status === "identical");
 * ```
 */
export async function compareFiles(
  goldenDir: string,
  outputDir: string,
  files: readonly string[],
  tol: Tolerance | null,
): Promise<FileComparison[]> {
  const out: FileComparison[] = [];
  for (const file of files) {
    const golden = await readTextIfExists(join(goldenDir, file));
    const actual = await readTextIfExists(join(outputDir, file));
    if (golden === null) {
      out.push({ file, status: "missing-golden", details: [`no golden ${join(goldenDir, file)}`] });
      continue;
    }
    if (actual === null) {
      out.push({ file, status: "missing-output", details: [`the run wrote no ${join(outputDir, file)}`] });
      continue;
    }
    if (golden === actual) {
      out.push({ file, status: "identical", details: [] });
      continue;
    }
    if (file.endsWith(".json")) {
      let diffs: JsonDifference[];
      try {
        diffs = compareJson(JSON.parse(golden), JSON.parse(actual), tol);
      } catch (e) {
        out.push({ file, status: "differs", details: [`cannot parse: ${(e as Error).message}`] });
        continue;
      }
      if (diffs.length === 0) {
        // Exact mode: same values written differently (key order, number format) still differ in bytes.
        out.push(
          tol === null
            ? { file, status: "differs", details: ["same values, different bytes:", ...lineDiff(golden, actual)] }
            : { file, status: "within-tolerance", details: [] },
        );
      } else out.push({ file, status: "differs", details: formatJsonDifferences(diffs) });
      continue;
    }
    if (tol !== null && textLinesOutsideTolerance(golden, actual, tol).length === 0) {
      out.push({ file, status: "within-tolerance", details: [] });
      continue;
    }
    out.push({ file, status: "differs", details: lineDiff(golden, actual) });
  }
  return out;
}
