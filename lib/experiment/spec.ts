/**
 * What an experiment module provides: its profiles' schema, its rows (each one training run), and the
 * report it builds from the finished rows. lib/experiment's runner does the rest (loading the profile,
 * running or resuming rows in-process or in subprocesses, writing the outputs).
 *
 * @module
 */
import type { ExperimentInfo, z } from "../config/mod.ts";
import type { MetricRecord, ProgressFn, ReportSection } from "../report/mod.ts";
import type { RunResults } from "../train/mod.ts";
import type { ExperimentBaseConfig, ProfileName, RowPlan } from "./config.ts";

/** A row whose training run has finished, read back from its folder. */
export interface FinishedRow {
  /** The row as the profile planned it: id, resolved training config, label. */
  plan: RowPlan;
  /** The row's run folder (`OUT/rows/<id>`), a complete `train` run folder. */
  dir: string;
  /** The `results` object of the row's results.json (lib/train runResults). */
  results: RunResults;
  /** The row's data hash (from its results.json). */
  dataHash: string;
  /** The row's metrics.jsonl records. */
  metrics: MetricRecord[];
}

/** What an experiment's `summarize` gets. */
export interface SummaryContext<C> {
  /** The experiment's name. */
  name: string;
  /** The profile that ran. */
  profile: ProfileName;
  /** The experiment's validated config for that profile. */
  config: C;
  /** Every row of the profile, in report order. */
  rows: RowPlan[];
  /** The finished rows by id (rows not run yet are absent). */
  finished: Map<string, FinishedRow>;
  /** For work the report does itself (e.g. the policy-improvement analysis). */
  onProgress?: ProgressFn;
}

/**
 * The report an experiment builds; the runner adds the profile banner, the row list and the hashes.
 * `R` is the experiment's own results type.
 */
export interface ExperimentReport<R extends object = object> {
  /** The report's title (report.md's first heading). */
  title: string;
  /** Paragraphs under the profile banner, the "what this shows" text first. */
  summary: string[];
  /** The report's sections, after the summary. */
  sections: ReportSection[];
  /** Plot file name -> SVG text, written beside report.md. */
  plots: Record<string, string>;
  /** The experiment's part of results.json (the runner adds `rows`). Byte-stable values only. */
  results: R;
}

/** One headline figure of an experiment's results (what `--seeds` gathers across seeds). */
export interface Headline {
  /** A stable key, e.g. `dis.exact`. */
  key: string;
  /** What a reader sees, e.g. "DIS exact". */
  label: string;
  /** null when the row has not run. */
  value: number | null;
  /** The paper's value of the same figure, or null. */
  paper: number | null;
}

/**
 * An experiment: exported as `spec` by `experiments/<name>.ts`. `C` is its config type, `R` the type of
 * the `results` its report writes (and its `headline` reads back).
 */
export interface ExperimentSpec<C extends ExperimentBaseConfig = ExperimentBaseConfig, R extends object = object> {
  /** The file name without `.ts`, what `reproduce <name>` takes. */
  name: string;
  /** Title and profile descriptions, for `list`. */
  info: ExperimentInfo;
  /** The folder holding `<name>.<profile>.yaml`. */
  configDir: string;
  /** Validates a profile's YAML (after `include:` and `--set`) into `C`. */
  schema: z.ZodType<C>;
  /** Whether the experiment reads ARC data (verify skips it when the data is absent). */
  needsArcData: boolean;
  /** The rows a config defines, in report order; `source` names the profile file in errors. */
  rows(config: C, source: string): RowPlan[];
  /** Builds the report from the finished rows. */
  summarize(ctx: SummaryContext<C>): Promise<ExperimentReport<R>>;
  /** The headline figures of a finished experiment's `results` (for `--seeds`); absent = none. */
  headline?(results: R): Headline[];
}
