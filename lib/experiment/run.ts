/**
 * Running an experiment: load a profile, plan its rows, train the selected rows (in this process, or in
 * `jobs` subprocesses), then build the report from every finished row and write the experiment folder:
 *
 * ```
 * OUT/                      default runs/<experiment>/<profile>/
 *   config.yaml             the resolved experiment config
 *   results.json            byte-stable: the experiment's numbers, each row's status and config hash
 *   report.md, *.svg        byte-stable: tables beside the paper's values, "what this shows", plots
 *   metrics.jsonl           every row's training and evaluation records, with a "row" field
 *   timing.json, timing.md  samples/s and wall times per row (volatile: verify does not compare them)
 *   run.json                provenance of this invocation (volatile)
 *   rows/<id>/              one lib/train run folder per row (config, checkpoints, model, its own report)
 * ```
 *
 * Rows are independent: a finished row (its results.json matches its config) is never trained again;
 * with `resume`, an unfinished one continues from its latest checkpoint, so an interrupted experiment
 * picks up where it stopped and a resumed row ends bit-identical to an uninterrupted one on a
 * deterministic backend. Without `resume`, a folder whose selected rows have all finished is complete: nothing
 * trains and the report is rebuilt from the rows (the same bytes); a folder that holds unfinished rows is
 * refused. `force` starts over in an empty folder after moving the old one aside to `OUT.old-N` (never
 * deleting it).
 *
 * The folder must be missing, empty or an earlier experiment folder (lib/io `checkOutput`), and it is locked
 * while this process writes it (lib/io `lockFolder`): a second `reproduce` into it is refused with exit 2.
 * Under `jobs`, the parent holds that lock and each row's subprocess locks only its row folder.
 *
 * @module
 */
import { join, resolve, sep } from "node:path";
import type { BackendInfo } from "../backend/mod.ts";
import { canonicalJson, type MetricRecord, MetricsLog, type ProgressFn, RunFolder, sha256Hex } from "../report/mod.ts";
import { InputError } from "../errors.ts";
import {
  checkOutput,
  claimOutput,
  exists,
  LOCK_FILE,
  lockFolder,
  readTextIfExists,
  sweepStaleTemps,
} from "../io/mod.ts";
import {
  checkLoggedMetrics,
  type MicroBatchChoice,
  NonFiniteError,
  RUN_FILES,
  type RunResults,
  runTraining,
  sameTrainConfig,
} from "../train/mod.ts";
import { type ExperimentBaseConfig, loadProfile, type ProfileName, type RowPlan, selectRows } from "./config.ts";
import { type ComputeEstimate, type EstimateDeps, estimateRow, formatEstimate } from "./estimate.ts";
import { type JobCommand, type JobControl, type JobResult, runJobs } from "./jobs.ts";
import type { ExperimentSpec, FinishedRow } from "./spec.ts";
import { writeExperimentOutputs } from "./outputs.ts";

/** Estimated wall time above which a run asks before it trains: a week. */
export const LONG_RUN_SECONDS = 7 * 86400;

/** The folder under the experiment folder that holds the rows. */
export const ROWS_DIR = "rows";

/** What the runner reports as it goes (the CLI prints it). */
export type ExperimentEvent =
  | { kind: "plan"; profile: ProfileName; file: string; rows: RowPlan[]; selected: string[]; out: string }
  | { kind: "estimate"; row: RowPlan; estimate: ComputeEstimate }
  | { kind: "row-skip"; row: RowPlan; reason: string }
  | { kind: "row-start"; row: RowPlan; resume: boolean }
  | { kind: "row-done"; row: RowPlan; seconds: number }
  | { kind: "row-output"; row: string; line: string }
  | { kind: "micro-batch"; row: RowPlan; choice: MicroBatchChoice }
  | { kind: "report"; dir: string; finished: string[]; missing: string[] }
  | { kind: "moved-aside"; from: string; to: string };

/** Options of {@linkcode runExperiment}. */
export interface RunExperimentOptions {
  /** The profile to run. */
  profile: ProfileName;
  /** The experiment folder. */
  out: string;
  /** `--set` overrides of the experiment config (the seed too: `seed=N`). */
  overrides?: readonly string[];
  /** The ARC data folder of the rows whose `data.data_dir` is null (default: the fetch cache). */
  dataDir?: string;
  /** Where the rows' trainers keep the puzzle table: `host` (default) or `device` (webgpu only). */
  puzzleTable?: "host" | "device";
  /** Continue the rows already in `out` (see the module doc). */
  resume?: boolean;
  /** Move an existing `out` aside to `out.old-N` and start over (see the module doc). */
  force?: boolean;
  /** Row selectors (`--rows`); null = the profile's `default_rows`, else all. */
  rows?: readonly string[] | null;
  /** Rows trained at a time in subprocesses; 1 (default) trains in this process. */
  jobs?: number;
  /** How to start the subprocess that trains one row (required when jobs > 1). */
  rowCommand?: (rowId: string) => JobCommand;
  /** Stops the row subprocesses from outside (on SIGINT or SIGTERM); see lib/experiment/jobs.ts. */
  rowControl?: JobControl;
  /** Train the selected rows and stop: no report (what a subprocess of `jobs` does). */
  trainOnly?: boolean;
  /** Print compute estimates (measured on the backend) before training. */
  estimate?: boolean;
  /** Stop after the estimates. */
  estimateOnly?: boolean;
  /**
   * Asked, with the estimated seconds of the rows to train, before a run whose estimate exceeds
   * {@linkcode LONG_RUN_SECONDS}; training starts only when it returns true (absent = refused).
   */
  confirmLongRun?: (seconds: number) => boolean | Promise<boolean>;
  /** Replaces the estimate's data loader or calibration (tests: the estimate builds no full dataset). */
  estimateDeps?: Partial<EstimateDeps>;
  /** The backend in use (initialise it first), for provenance and the rows' backend check on resume. */
  backend?: BackendInfo | null;
  /** Resume rows on a backend other than their checkpoints' (lib/train's `allowBackendChange`). */
  allowBackendChange?: boolean;
  /** The command line, for provenance. */
  command?: readonly string[];
  /** Called as rows are planned, skipped, started and finished, and when the report is written. */
  onEvent?: (e: ExperimentEvent) => void;
  /** Progress of training, evaluation and analysis; labels start with the row id. */
  onProgress?: ProgressFn;
}

/** What {@linkcode runExperiment} returns. */
export interface ExperimentOutcome {
  /** The experiment folder (`out`). */
  dir: string;
  /** Rows trained (or continued) in this invocation. */
  trained: string[];
  /** Rows found finished and left as they were. */
  skipped: string[];
  /** Rows of the profile with no finished run in the folder. */
  missing: string[];
  /** The results.json text, or null (trainOnly, estimateOnly). */
  resultsJson: string | null;
  /** The report's summary paragraphs ("what this shows" first); empty without a report. */
  summary: string[];
  /** Every selected row had finished before this invocation, so nothing was trained. */
  complete: boolean;
  /** The compute estimate of each row left to train, by row id (empty unless `estimate` or `estimateOnly`). */
  estimates: Map<string, ComputeEstimate>;
}

/**
 * Reads a row back when its run has finished with this row's config; null otherwise.
 *
 * @example
 * ```ts ignore
 * const row = await readFinishedRow(plan, "runs/nqueens/smoke/rows/dis");
 * row?.results.eval;
 * ```
 */
export async function readFinishedRow(plan: RowPlan, dir: string): Promise<FinishedRow | null> {
  const config = await readTextIfExists(join(dir, RUN_FILES.config));
  if (config === null || (config !== plan.loaded.resolvedYaml && !sameTrainConfig(config, plan.loaded.hash))) {
    return null;
  }
  const text = await readTextIfExists(join(dir, RUN_FILES.results));
  if (text === null) return null;
  const doc = JSON.parse(text) as {
    hashes?: { config_sha256?: string; data_sha256?: string };
    results?: Partial<RunResults>;
  };
  const r = doc.results;
  if (doc.hashes?.config_sha256 !== plan.loaded.hash || !r) return null;
  if (typeof r.method !== "string" || !Array.isArray(r.eval_curve) || typeof r.forward_passes !== "object") {
    throw new InputError(
      `Cannot read row "${plan.id}": "${join(dir, RUN_FILES.results)}" has no training-run results ` +
        "(expected the method, the evaluation curve and the forward passes; move the folder aside to retrain it)",
    );
  }
  const metricsFile = join(dir, RUN_FILES.metrics);
  const metrics = (await MetricsLog.load(metricsFile)).records();
  // The experiment's metrics.jsonl gathers the rows' logs: a row's missing log would drop out of it silently.
  const results = r as RunResults;
  checkLoggedMetrics(metrics, plan.loaded.config, results.steps, results.steps, metricsFile, `read row "${plan.id}"`);
  return { plan, dir, results, dataHash: doc.hashes.data_sha256 ?? "", metrics };
}

/**
 * Moves `dir` aside to the first free `dir.old-N` (N = 1, 2, ...) and returns that path; nothing is deleted.
 *
 * @example
 * ```ts ignore
 * await moveAside("runs/nqueens/smoke"); // "runs/nqueens/smoke.old-1"
 * ```
 */
export async function moveAside(dir: string): Promise<string> {
  const base = dir.replace(/[\\/]+$/, "");
  const abs = resolve(base);
  if (Deno.cwd() === abs || Deno.cwd().startsWith(abs + sep)) {
    // Renaming the folder one stands in would strand this process and the shell that started it.
    throw new InputError(`Cannot move "${dir}" aside (--force): it is the working folder; run from its parent`);
  }
  for (let n = 1;; n++) {
    const to = `${base}.old-${n}`;
    if (await exists(to)) continue;
    await Deno.rename(base, to);
    return to;
  }
}

/** The child's own message: its last `error:` line (the usage lines of an exit 2 come before it). */
function childMessage(r: JobResult): string {
  const line = r.tail.findLast((l) => l.startsWith("error: ")) ?? r.tail.at(-1);
  return line === undefined ? "(no output)" : line.replace(/^error: /, "");
}

/**
 * The error for rows whose subprocess failed. Its class follows the first failed row's exit code, so that
 * `--jobs N` exits as one process would: 2 (an InputError) when that row's input was wrong, 1 otherwise.
 */
function rowFailure(name: string, failed: JobResult[], notStarted: JobResult[]): Error {
  const why = failed.map((f) => `row "${f.id}" exited ${f.code}: ${childMessage(f)}`).join("; ");
  const message = `Cannot finish experiment "${name}": ${why}` +
    (notStarted.length > 0 ? ` (not started: ${notStarted.map((r) => r.id).join(", ")})` : "") +
    "; rerun with --resume to continue";
  return failed[0].code === 2 ? new InputError(message) : new Error(message);
}

async function hasEntries(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  return false;
}

/**
 * Runs (or resumes) an experiment's profile into its folder. Initialise the backend first.
 *
 * @example
 * ```ts ignore
 * import { spec } from "../../experiments/nqueens.ts";
 * await initBackend("wasm");
 * const out = await runExperiment(spec, { profile: "smoke", out: "runs/nqueens/smoke" });
 * ```
 */
export async function runExperiment<C extends Omit<ExperimentBaseConfig, "common">>(
  spec: ExperimentSpec<C & { common: Record<string, unknown> }>,
  opts: RunExperimentOptions,
): Promise<ExperimentOutcome> {
  const started = new Date();
  const loaded = await loadProfile(spec.configDir, spec.name, opts.profile, spec.schema, opts.overrides ?? []);
  const config = loaded.config as C & { common: Record<string, unknown> };
  const rows = spec.rows(config, loaded.file);
  const ids = rows.map((r) => r.id);
  const selected = selectRows(ids, opts.rows ?? config.default_rows);
  opts.onEvent?.({ kind: "plan", profile: opts.profile, file: loaded.file, rows, selected, out: opts.out });
  const rowsRoot = join(opts.out, ROWS_DIR);
  const rowDir = (id: string) => join(rowsRoot, id);
  const byId = new Map(rows.map((r) => [r.id, r]));
  // Only an earlier experiment folder (or a missing or empty one) is written into; a --train-only child
  // writes into its parent's, which the parent checked and locked, and locks only its own row folder.
  const action = `Cannot run experiment "${spec.name}"`;
  const before = await checkOutput(opts.out, "experiment", action);
  let lock = opts.trainOnly || opts.estimateOnly ? null : await lockFolder(opts.out, { command: opts.command ?? [] });
  try {
    if (lock !== null) {
      await claimOutput(opts.out, "experiment", action);
      await sweepStaleTemps(opts.out);
    }
    if (opts.force && before === "output") {
      const to = await moveAside(opts.out);
      opts.onEvent?.({ kind: "moved-aside", from: opts.out, to });
      if (lock !== null) {
        // The lock went aside with the folder: drop it there and lock the fresh folder.
        lock.release();
        await Deno.remove(join(to, LOCK_FILE)).catch(() => {});
        lock = await lockFolder(opts.out, { command: opts.command ?? [] });
        await claimOutput(opts.out, "experiment", action);
      }
    }
    return await trainAndReport(spec, opts, { started, loaded, config, rows, ids, selected, byId, rowDir, rowsRoot });
  } finally {
    lock?.release();
  }
}

/** What {@linkcode runExperiment} has planned before it trains. */
interface Planned<C> {
  started: Date;
  loaded: Awaited<ReturnType<typeof loadProfile>>;
  config: C;
  rows: RowPlan[];
  ids: string[];
  selected: string[];
  byId: Map<string, RowPlan>;
  rowDir: (id: string) => string;
  rowsRoot: string;
}

/** Trains the rows that need it and writes the report, in a folder already checked and locked. */
async function trainAndReport<C extends Omit<ExperimentBaseConfig, "common">>(
  spec: ExperimentSpec<C & { common: Record<string, unknown> }>,
  opts: RunExperimentOptions,
  planned: Planned<C & { common: Record<string, unknown> }>,
): Promise<ExperimentOutcome> {
  const { started, loaded, config, rows, ids, selected, byId, rowDir, rowsRoot } = planned;
  // With --force the old folder was moved aside above, so no earlier row is left to refuse.
  if (!opts.resume && await hasEntries(rowsRoot)) {
    const unfinished: string[] = [];
    for (const id of selected) if (!(await readFinishedRow(byId.get(id)!, rowDir(id)))) unfinished.push(id);
    if (unfinished.length > 0) {
      throw new InputError(
        `Cannot start experiment "${spec.name}" in "${opts.out}": it holds an unfinished run (rows not finished: ` +
          `${unfinished.join(", ")}); pass --resume to continue it, --force to move it aside and start over, or ` +
          "choose another --out folder",
      );
    }
  }
  const toTrain: RowPlan[] = [];
  const skipped: string[] = [];
  for (const id of selected) {
    const plan = byId.get(id)!;
    if (await readFinishedRow(plan, rowDir(id))) {
      skipped.push(id);
      opts.onEvent?.({ kind: "row-skip", row: plan, reason: "finished earlier" });
    } else toTrain.push(plan);
  }
  const complete = toTrain.length === 0;

  const estimates = new Map<string, ComputeEstimate>();
  if (opts.estimate || opts.estimateOnly) {
    for (const plan of toTrain) {
      const estimate = await estimateRow(plan.loaded, {
        dataDir: opts.dataDir,
        backend: opts.backend ?? undefined,
        deps: opts.estimateDeps,
        onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: `${plan.id} ${p.label ?? ""}` })),
      });
      estimates.set(plan.id, estimate);
      opts.onEvent?.({ kind: "estimate", row: plan, estimate });
    }
    if (opts.estimateOnly) {
      return { dir: opts.out, trained: [], skipped, missing: [], resultsJson: null, estimates, summary: [], complete };
    }
    const seconds = [...estimates.values()].reduce((a, e) => a + (e.expectedSeconds ?? 0), 0);
    if (seconds > LONG_RUN_SECONDS && !(await opts.confirmLongRun?.(seconds))) {
      throw new InputError(
        `Cannot start experiment "${spec.name}" (profile ${opts.profile}): its estimate is ` +
          `${formatEstimate(seconds)} on this machine, over a week (pass --yes to train anyway, or run it on GPUs)`,
      );
    }
  }

  const jobs = opts.jobs ?? 1;
  if (jobs > 1 && toTrain.length > 1) {
    if (!opts.rowCommand) throw new RangeError("Cannot run rows in subprocesses: no rowCommand was given");
    const t0 = performance.now();
    for (const plan of toTrain) opts.onEvent?.({ kind: "row-start", row: plan, resume: Boolean(opts.resume) });
    const results = await runJobs(toTrain.map((p) => p.id), {
      jobs,
      command: opts.rowCommand,
      control: opts.rowControl,
      onLine: (id, line) => opts.onEvent?.({ kind: "row-output", row: id, line }),
    });
    const failed = results.filter((r) => r.code !== 0 && r.code !== null);
    if (failed.length > 0) throw rowFailure(spec.name, failed, results.filter((r) => r.code === null));
    for (const plan of toTrain) {
      opts.onEvent?.({ kind: "row-done", row: plan, seconds: (performance.now() - t0) / 1000 });
    }
  } else {
    for (const plan of toTrain) {
      const dir = rowDir(plan.id);
      const resume = Boolean(opts.resume) && await exists(dir);
      opts.onEvent?.({ kind: "row-start", row: plan, resume });
      const t0 = performance.now();
      try {
        await runTraining(plan.loaded, {
          runDir: dir,
          dataDir: opts.dataDir,
          puzzleTable: opts.puzzleTable,
          resume,
          backend: opts.backend ?? null,
          allowBackendChange: opts.allowBackendChange,
          command: opts.command ?? [],
          onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: `${plan.id} ${p.label ?? ""}` })),
          onMicroBatch: (choice) => opts.onEvent?.({ kind: "micro-batch", row: plan, choice }),
        });
      } catch (e) {
        // Name the row: under reproduce the run folder alone does not say which one diverged.
        if (e instanceof NonFiniteError && e.context) throw e.within({ ...e.context, row: plan.id });
        throw e;
      }
      opts.onEvent?.({ kind: "row-done", row: plan, seconds: (performance.now() - t0) / 1000 });
    }
  }
  const trained = toTrain.map((p) => p.id);
  if (opts.trainOnly) {
    return { dir: opts.out, trained, skipped, missing: [], resultsJson: null, estimates, summary: [], complete };
  }

  const finished = new Map<string, FinishedRow>();
  for (const plan of rows) {
    const row = await readFinishedRow(plan, rowDir(plan.id));
    if (row) finished.set(plan.id, row);
  }
  const missing = ids.filter((id) => !finished.has(id));
  if (finished.size === 0) {
    throw new Error(`Cannot write the report of "${spec.name}": no row of profile "${opts.profile}" has finished`);
  }
  const report = await spec.summarize({
    name: spec.name,
    profile: opts.profile,
    config,
    rows,
    finished,
    onProgress: opts.onProgress,
  });
  // version and paper describe the experiment; they are not settings, so they stay out of the hash.
  const { version, paper, ...settings } = config;
  const configHash = sha256Hex(canonicalJson({
    experiment: sha256Hex(canonicalJson(settings)),
    rows: rows.map((r) => [r.id, r.loaded.hash]),
  }));
  const dataHash = sha256Hex(canonicalJson([...finished.values()].map((r) => [r.plan.id, r.dataHash])));
  const run = await RunFolder.open(opts.out, {
    config: { resolvedYaml: loaded.resolvedYaml },
    command: opts.command ?? [],
    masterSeed: config.seed,
    backend: opts.backend ?? null,
    started,
  });
  const metrics: MetricRecord[] = [];
  for (const r of finished.values()) for (const m of r.metrics) metrics.push({ ...m, row: r.plan.id });
  const resultsText = await writeExperimentOutputs(run, {
    name: spec.name,
    profile: opts.profile,
    rows,
    finished,
    report,
    configHash,
    dataHash,
    metrics,
    started,
    extra: { version, paper, trained, skipped, missing, configFile: loaded.file, overrides: loaded.overrides },
  });
  opts.onEvent?.({ kind: "report", dir: opts.out, finished: [...finished.keys()], missing });
  return {
    dir: opts.out,
    trained,
    skipped,
    missing,
    resultsJson: resultsText,
    estimates,
    summary: report.summary,
    complete,
  };
}
