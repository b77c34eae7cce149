/**
 * The experiment folder's files (layout in run.ts): results.json and report.md (byte-stable), the
 * plots, metrics.jsonl, and the volatile timing.json / timing.md / run.json.
 *
 * @module
 */
import { join } from "node:path";
import { writeTextAtomic } from "../io/mod.ts";
import { markdownTable, type MetricRecord, renderReport, type ReportSection, type RunFolder } from "../report/mod.ts";
import { RUN_FILES } from "../train/mod.ts";
import type { ProfileName, RowPlan } from "./config.ts";
import { profileCaveat, TIMING_SENTENCE } from "./narrative.ts";
import type { ExperimentReport, FinishedRow } from "./spec.ts";

/** What {@linkcode writeExperimentOutputs} writes from. */
export interface ExperimentOutputs {
  /** The experiment's name (`nqueens`, `table1`, ...). */
  name: string;
  /** The profile that ran. */
  profile: ProfileName;
  /** Every row of the profile, in report order. */
  rows: RowPlan[];
  /** The rows that finished, by row id. */
  finished: Map<string, FinishedRow>;
  /** The experiment's results object and report sections. */
  report: ExperimentReport;
  /** SHA-256 of the experiment's settings (`version` and `paper` left out) and every row's config hash. */
  configHash: string;
  /** SHA-256 over the finished rows' ids and data hashes. */
  dataHash: string;
  /** Every row's metrics records, written to metrics.jsonl. */
  metrics: MetricRecord[];
  /** When this invocation started (for the wall time in run.json and timing.md). */
  started: Date;
  /** Extra provenance for run.json. */
  extra?: Record<string, unknown>;
}

/** Timing of one row, from its run.json. */
export interface RowTiming {
  /** The row's id. */
  row: string;
  /** The tfjs backend it trained on, from run.json (null when unknown). */
  backend: string | null;
  /** Optimiser steps of the run. */
  steps: number | null;
  /** Training samples per second of training time, in the last session. */
  samplesPerSecond: number | null;
  /** Training seconds over every session of the run. */
  trainSecondsTotal: number | null;
  /** Seconds spent evaluating, in the last session. */
  evalSeconds: number | null;
  /** The last session's wall time, seconds. */
  wallSeconds: number | null;
  /** The checkpoint step the last session resumed from, or null for a fresh start. */
  resumedFrom: number | null;
  /** When the last session finished, ISO 8601 UTC. */
  finished: string | null;
}

/**
 * The status of every row for results.json: finished rows with their config hash, the others marked.
 *
 * @example
 * ```ts ignore
 * rowStatus(rows, finished).dis; // { label: "DIS", preset: "nqueens-dis-paper", status: "finished", ... }
 * ```
 */
export function rowStatus(rows: readonly RowPlan[], finished: Map<string, FinishedRow>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) {
    const c = r.loaded.config;
    out[r.id] = {
      label: r.label,
      preset: c.model.preset,
      status: finished.has(r.id) ? "finished" : "not run",
      config_sha256: r.loaded.hash,
      data_sha256: finished.get(r.id)?.dataHash ?? null,
    };
  }
  return out;
}

function rowsSection(rows: readonly RowPlan[], finished: Map<string, FinishedRow>): ReportSection {
  return {
    heading: "Rows",
    text: [
      "Each row is one training run, kept in `rows/<row>/` (a `train` run folder with its own report, checkpoints " +
      'and weights). Rows marked "not run" have no finished run in this folder; run them with `--rows`.',
    ],
    table: {
      columns: [
        { key: "row" },
        { key: "label" },
        { key: "preset" },
        { key: "recursion", header: "N_sup / T / n" },
        { key: "backbone", header: "D / layers" },
        { key: "batch", format: "int" },
        { key: "steps" },
        { key: "status" },
      ],
      rows: rows.map((r) => {
        const c = r.loaded.config;
        const f = finished.get(r.id);
        const steps = f ? f.results.steps : c.train.steps;
        return {
          row: r.id,
          label: r.label,
          preset: `\`${c.model.preset}\``,
          recursion: `${c.model.n_sup} / ${c.model.h_cycles} / ${c.model.l_cycles}`,
          backbone: `${c.model.hidden} / ${c.model.layers}`,
          batch: c.train.batch_size,
          steps: typeof steps === "number" ? String(steps) : `${c.train.epochs} epochs`,
          status: f ? "finished" : "not run",
        };
      }),
    },
  };
}

async function rowTiming(row: FinishedRow): Promise<RowTiming> {
  let prov: Record<string, unknown> = {};
  try {
    prov = JSON.parse(await Deno.readTextFile(join(row.dir, RUN_FILES.provenance)));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  const extra = (prov.extra ?? {}) as Record<string, unknown>;
  const th = (extra.throughput ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  return {
    row: row.plan.id,
    backend: ((prov.backend ?? null) as { name?: string } | null)?.name ?? null,
    steps: num(extra.totalSteps),
    samplesPerSecond: num(th.samplesPerSecond),
    trainSecondsTotal: num(th.trainSecondsTotal),
    evalSeconds: num(th.evalSeconds),
    wallSeconds: num(prov.wallSeconds),
    resumedFrom: num(extra.resumedFrom),
    finished: typeof prov.finished === "string" ? prov.finished : null,
  };
}

function duration(s: number | null): string {
  if (s === null) return "—";
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** timing.md: per-row speed and times (volatile, so outside report.md). */
export function timingMarkdown(name: string, profile: ProfileName, timings: RowTiming[], wallSeconds: number): string {
  const table = markdownTable(
    [
      { key: "row" },
      { key: "backend" },
      { key: "steps", format: "int" },
      { key: "sps", header: "training samples/s", format: { decimals: 1 } },
      { key: "train", header: "training time (all sessions)" },
      { key: "eval", header: "evaluation time (last session)" },
      { key: "wall", header: "wall time (last session)" },
      { key: "resumed", header: "last session resumed from step" },
    ],
    timings.map((t) => ({
      row: t.row,
      backend: t.backend ?? "—",
      steps: t.steps,
      sps: t.samplesPerSecond,
      train: duration(t.trainSecondsTotal),
      eval: duration(t.evalSeconds),
      wall: duration(t.wallSeconds),
      resumed: t.resumedFrom === null ? "—" : String(t.resumedFrom),
    })),
  );
  return `# Timing: ${name} (profile \`${profile}\`)\n\n` +
    "Samples/s counts batch rows per second of optimiser steps (evaluation and checkpoints excluded). These numbers " +
    "change from run to run and machine to machine; report.md leaves them out.\n\n" + table +
    `\nThis invocation (training the rows it ran, then the report): ${duration(wallSeconds)}.\n`;
}

/**
 * Writes the experiment folder's files and returns the results.json text.
 *
 * @example
 * ```ts ignore
 * const text = await writeExperimentOutputs(run, { name, profile, rows, finished, report, ... });
 * ```
 */
export async function writeExperimentOutputs(run: RunFolder, o: ExperimentOutputs): Promise<string> {
  const results = { ...o.report.results, rows: rowStatus(o.rows, o.finished) };
  const text = await run.writeResults({
    experiment: o.name,
    profile: o.profile,
    configHash: o.configHash,
    dataHash: o.dataHash,
    results,
  });
  for (const [file, svg] of Object.entries(o.report.plots).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    await run.writePlot(file, svg);
  }
  const markdown = renderReport({
    title: o.report.title,
    profile: o.profile,
    summary: [profileCaveat(o.profile), ...o.report.summary, TIMING_SENTENCE],
    sections: [...o.report.sections, rowsSection(o.rows, o.finished)],
    hashes: { config: o.configHash, data: o.dataHash },
  });
  await run.writeReport(markdown);
  for (const m of o.metrics) run.metrics.append(m);
  await run.metrics.flush();
  const timings: RowTiming[] = [];
  for (const r of o.rows) {
    const f = o.finished.get(r.id);
    if (f) timings.push(await rowTiming(f));
  }
  const wall = (Date.now() - o.started.getTime()) / 1000;
  await writeTextAtomic(
    run.path("timing.json"),
    JSON.stringify({ experiment: o.name, profile: o.profile, invocationWallSeconds: wall, rows: timings }, null, 2) +
      "\n",
  );
  await writeTextAtomic(run.path("timing.md"), timingMarkdown(o.name, o.profile, timings, wall));
  await run.writeProvenance({ experiment: o.name, profile: o.profile, rows: timings, ...o.extra });
  return text;
}
