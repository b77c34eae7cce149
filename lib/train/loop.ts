/**
 * The training loop: one resumable run of TRM or DIS from a resolved config into a run folder
 * (layout in run_files.ts), with periodic logs, evaluations and checkpoints.
 *
 * Per optimiser step: the learning rates of step s (warmup + cosine, the same schedule for the weights
 * and the puzzle table), one trainer step (lib/model: one supervision step on the rolling batch), the
 * EMA update, and one on-device add of the step's raw statistics into a window sum. Nothing is read
 * back per step except what the trainer itself needs (TRM reads its halting logits).
 *
 * Every `log_interval` steps (and at the last) the window sum is read back (one readback): the logged
 * losses and the gradient norm are means over the window's steps, accuracies are means over the samples
 * that finished in the window. The same readback is the non-finite check: a NaN or infinity in any
 * step's loss or gradient norm makes the sum non-finite, so the run stops with a NonFiniteError naming
 * the step. Before every checkpoint the open window, the weights, the EMA shadow and the puzzle table
 * are checked too, so a checkpoint never holds a non-finite value and the last one written stays the
 * one to resume from.
 *
 * Randomness: the model from stream "init", TRM's halting exploration from "halting", DIS's target paths
 * from "targets", the sampler from the seed of "sampler" (lib/random streams of the run's seed). The
 * checkpoint saves every generator's state, the sampler's position, the carry (trainer state), the
 * optimiser moments, the EMA shadow, the puzzle table and the open window, so a resumed run continues
 * bit for bit where the checkpoint was taken (on a deterministic backend: cpu, wasm).
 *
 * @module
 */
import { join } from "node:path";
import { type BackendInfo, tf } from "../backend/mod.ts";
import { CheckpointError, InputError } from "../errors.ts";
import { checkOutput, claimOutput, type FolderLock, lockFolder, sweepStaleTemps } from "../io/mod.ts";
import { type EvalResult, type EvalSummary, evaluateModel } from "../eval/mod.ts";
import { numExamples } from "../data/mod.ts";
import { forwardPasses } from "../model/mod.ts";
import type { ForwardPassStats } from "../method/mod.ts";
import { type MetricRecord, type ProgressFn, RunFolder } from "../report/mod.ts";
import {
  type CheckpointState,
  checkpointStep,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import {
  DEFAULT_CHECKPOINT_MINUTES,
  type LoadedTrainConfig,
  sameTrainConfig,
  totalSteps,
  type TrainConfig,
} from "./config.ts";
import { findNonFinite, NonFiniteError } from "./grad.ts";
import { checkLoggedMetrics } from "./metrics_check.ts";
import type { NamedArrays } from "./optimizers.ts";
import { learningRate, type LrSchedule } from "./schedule.ts";
import { PUZZLE_TABLE, RUN_FILES } from "./run_files.ts";
import { evalData, loadRunData, type RunData } from "./run_data.ts";
import { type RunResults, type RunSummary, writeRunOutputs } from "./run_report.ts";
import { assemble, disposeParts, type Parts } from "./assemble.ts";
import { MetricWindow, WINDOW_KEY } from "./window.ts";
import { type MicroBatchChoice, runMicroBatch } from "./memory.ts";

/** Options of {@linkcode runTraining}. Initialise the backend before calling. */
export interface TrainOptions {
  /** The run folder (created if missing). */
  runDir: string;
  /** The ARC data folder where the config's `data.data_dir` is null (default: the fetch cache). */
  dataDir?: string;
  /** Where the trainer keeps the puzzle table: `host` (default) or `device` (webgpu only). */
  puzzleTable?: "host" | "device";
  /**
   * Continue the run in `runDir` from its latest checkpoint (a run without one starts from scratch).
   * The folder's config.yaml must equal this config. Without `resume`, a folder that already holds
   * checkpoints is refused.
   */
  resume?: boolean;
  /**
   * The backend in use, for run.json, and for the check on resume: a checkpoint written on another backend
   * (see {@linkcode backendIdentity}) is refused unless `allowBackendChange`.
   */
  backend?: BackendInfo | null;
  /** Resume on a backend other than the checkpoint's; run.json then lists every backend the run used. */
  allowBackendChange?: boolean;
  /** The command line, for run.json. */
  command?: readonly string[];
  /** Progress: `label` "data" (ARC index build), "train" (every step) and "eval" (every batch). */
  onProgress?: ProgressFn;
  /** Called after each logged window with the metrics.jsonl record. */
  onLog?: (record: MetricRecord) => void;
  /** Called after each evaluation. */
  onEval?: (point: EvalPoint, result: EvalResult) => void;
  /** Called once before the first step with the micro-batch in use and why (also in run.json). */
  onMicroBatch?: (choice: MicroBatchChoice) => void;
}

/** One point of the evaluation curve. */
export interface EvalPoint {
  /** The optimiser step the evaluation ran after. */
  step: number;
  /** The evaluation's flat figures (what metrics.jsonl records). */
  summary: EvalSummary;
}

/** Training speed of this session, evaluation and checkpointing excluded. */
export interface Throughput {
  /** Optimiser steps taken in this session. */
  steps: number;
  /** Training samples (batch rows) per second of training time. */
  samplesPerSecond: number;
  /** Seconds spent in optimiser steps and log readbacks in this session. */
  trainSeconds: number;
  /** Training seconds over every session of the run (from the checkpoints). */
  trainSecondsTotal: number;
  /** Seconds spent evaluating in this session. */
  evalSeconds: number;
  /** Seconds spent writing checkpoints in this session. */
  checkpointSeconds: number;
  /** This session, from the call to the return. */
  wallSeconds: number;
}

/** What {@linkcode runTraining} returns. */
export interface TrainOutcome {
  /** The run folder. */
  runDir: string;
  /** The last step (= totalSteps). */
  step: number;
  /** Optimiser steps of the whole run. */
  totalSteps: number;
  /** The checkpoint step this session resumed from, or null for a fresh start. */
  resumedFrom: number | null;
  /** The last logged window's metrics (means, see the module doc), or null when nothing was logged. */
  finalTrain: Record<string, number | null> | null;
  /** The final evaluation (`eval.at_end`), or null. */
  finalEval: EvalResult | null;
  /** Every evaluation of the run, in step order, earlier sessions included. */
  evalCurve: EvalPoint[];
  /** Network applications counted by the trainer over the whole run. */
  forwardPasses: ForwardPassStats;
  /** Training speed of this session. */
  throughput: Throughput;
  /** The `results` object written to results.json. */
  results: RunResults;
}

async function hasCheckpoints(runDir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(join(runDir, RUN_FILES.checkpoints))) return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  return false;
}

/**
 * What a resumed run must share with its checkpoint to continue bit for bit: the backend's name and whether
 * OpenBLAS does its matrix products (`cpu` with and without it round differently), e.g. `wasm+openblas`.
 *
 * @example
 * ```ts
 * import { backendIdentity } from "./loop.ts";
 * backendIdentity({ name: "cpu", requested: "cpu", tfjs: "4.22.0", details: { blas: "off: TRM_DIS_BLAS=off" } }); // "cpu"
 * ```
 */
export function backendIdentity(info: BackendInfo): string {
  const blas = info.details.blas;
  return typeof blas === "string" && !blas.startsWith("off") ? `${info.name}+openblas` : info.name;
}

/** The checkpoint's `backends`: every backend identity its steps ran on, in order; null when not recorded. */
function savedBackends(state: CheckpointState | null): string[] | null {
  const b = (state?.json as Record<string, unknown> | null | undefined)?.backends;
  return Array.isArray(b) && b.length > 0 && b.every((x) => typeof x === "string") ? b : null;
}

/**
 * The backends the run has used, this session's last: refuses (InputError) to continue on a backend other
 * than the one the checkpoint was written on, unless `allowBackendChange`.
 */
function runBackends(state: CheckpointState | null, start: number, opts: TrainOptions): string[] {
  const now = opts.backend ? backendIdentity(opts.backend) : null;
  const before = savedBackends(state) ?? [];
  const last = before.at(-1);
  if (now === null) return before;
  if (last === undefined || last === now) return before.length > 0 ? before : [now];
  if (!opts.allowBackendChange) {
    throw new InputError(
      `Cannot resume "${opts.runDir}" on backend "${now}": its checkpoint at step ${start} was trained on ` +
        `"${last}", and a run continued on another backend does not give the same bytes as one that never ` +
        `changed (expected --backend ${last.replace(/\+openblas$/, "")}` +
        (last.endsWith("+openblas") ? " with OpenBLAS" : now.endsWith("+openblas") ? " with TRM_DIS_BLAS=off" : "") +
        "; or pass --allow-backend-change to continue anyway, and run.json records every backend used)",
    );
  }
  return [...before, now];
}

/** A run folder opened for training: its data, the checkpoint to resume from and the step range. */
interface OpenedRun {
  data: RunData;
  run: RunFolder;
  /** The latest checkpoint (resume), or null for a fresh start. */
  state: CheckpointState | null;
  /** The last step of the run. */
  total: number;
  /** The step the checkpoint holds (0 for a fresh start). */
  start: number;
  /** The run folder's lock, held until the run returns or throws. */
  lock: FolderLock;
  /** Every backend identity the run's steps ran on, in order, this session's last (empty: unknown). */
  backends: string[];
}

/** Refuses a folder holding another run, loads the data, opens the folder and finds the checkpoint. */
async function openRun(loaded: LoadedTrainConfig, opts: TrainOptions): Promise<OpenedRun> {
  const t = loaded.config.train;
  const action = opts.resume ? "Cannot resume a run" : "Cannot start a run";
  // Only an earlier run (or a missing or empty folder) is written into: never a file or the user's folder.
  await checkOutput(opts.runDir, "run", action);
  if (!opts.resume && (await hasCheckpoints(opts.runDir))) {
    throw new InputError(
      `Cannot start a run in "${opts.runDir}": it already holds checkpoints (pass --resume to continue that ` +
        "run, or choose another --out folder)",
    );
  }
  // The data first: a missing data folder then leaves no run folder behind.
  const data = await loadRunData(loaded.config, {
    dataDir: opts.dataDir,
    onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: "data" })),
  });
  // One writer per run folder: a second train or reproduce into it is refused while this one runs.
  const lock = await lockFolder(opts.runDir, { command: opts.command ?? [] });
  try {
    await claimOutput(opts.runDir, "run", action);
    // What a killed writer of this folder left half-written (its pid is gone; this folder is ours now).
    await sweepStaleTemps(opts.runDir);
    await sweepStaleTemps(join(opts.runDir, RUN_FILES.checkpoints));
    const run = await RunFolder.open(opts.runDir, {
      config: { resolvedYaml: loaded.resolvedYaml, matches: (t) => sameTrainConfig(t, loaded.hash) },
      command: opts.command ?? [],
      masterSeed: loaded.config.seed,
      backend: opts.backend ?? null,
      resume: opts.resume,
    });
    let state: CheckpointState | null = null;
    if (opts.resume) {
      const dir = await findLatestCheckpoint(opts.runDir);
      if (dir) state = await loadCheckpoint(dir, { expectedConfigHash: loaded.hash });
    }
    const total = totalSteps(t, {
      groups: data.counts.train_groups,
      examples: data.counts.train_examples,
      puzzles: data.counts.train_puzzles,
    });
    const start = state?.step ?? 0;
    if (start > total) {
      throw new InputError(
        `Cannot resume "${opts.runDir}": its checkpoint is at step ${start}, past the ${total} planned`,
      );
    }
    // The checkpoint holds no figures: the evaluation curve and the last window before it come from the log.
    if (start > 0) {
      checkLoggedMetrics(
        run.metrics.records(),
        loaded.config,
        start,
        total,
        run.metrics.path,
        `resume "${opts.runDir}" from its checkpoint at step ${start}`,
      );
    }
    const backends = runBackends(state, start, opts);
    return { data, run, state, total, start, lock, backends };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Builds the run's pieces; a failure to restore them from a checkpoint is a CheckpointError. */
function assembleRun(cfg: TrainConfig, opened: OpenedRun, opts: TrainOptions, microBatch: number): Parts {
  try {
    return assemble(cfg, opened.data, opened.state, opts.puzzleTable, microBatch);
  } catch (e) {
    if (opened.state === null) throw e;
    throw new CheckpointError(
      `Cannot resume "${opts.runDir}" from step ${opened.start}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Seconds spent per activity in this session. */
interface Timers {
  train: number;
  eval: number;
  checkpoint: number;
}

/**
 * One session of a run, from its opened folder and assembled pieces to its written outputs: the
 * optimiser steps with their logs, the evaluations and the checkpoints.
 */
class TrainingSession {
  readonly #loaded: LoadedTrainConfig;
  readonly #cfg: TrainConfig;
  readonly #opts: TrainOptions;
  readonly #opened: OpenedRun;
  readonly #parts: Parts;
  readonly #schedule: LrSchedule;
  readonly #puzzleSchedule: LrSchedule;
  /** Training seconds of the earlier sessions (from the checkpoint). */
  readonly #trainSecondsBefore: number;
  readonly #window: MetricWindow;
  readonly #timers: Timers = { train: 0, eval: 0, checkpoint: 0 };
  /** Every evaluation of the run, earlier sessions included. */
  readonly evalCurve: EvalPoint[] = [];
  /** The last logged window's metrics. */
  finalTrain: Record<string, number | null> | null = null;
  finalEval: EvalResult | null = null;
  #finalValidation: EvalResult | null = null;
  /** The progress bar's fields, updated at each log. */
  #fields: Record<string, number | string> = {};
  /** Wall clock (ms) at the session's start or its last checkpoint, for `train.checkpoint_minutes`. */
  #lastCheckpointAt = performance.now();

  constructor(loaded: LoadedTrainConfig, opts: TrainOptions, opened: OpenedRun, parts: Parts) {
    this.#loaded = loaded;
    this.#cfg = loaded.config;
    this.#opts = opts;
    this.#opened = opened;
    this.#parts = parts;
    const t = this.#cfg.train;
    this.#schedule = { baseLr: t.lr, warmupSteps: t.warmup_steps, totalSteps: opened.total, minRatio: t.lr_min_ratio };
    this.#puzzleSchedule = { ...this.#schedule, baseLr: t.puzzle_emb_lr };
    const saved = (opened.state?.json ?? {}) as Record<string, unknown>;
    this.#trainSecondsBefore = typeof saved.trainSeconds === "number" ? saved.trainSeconds : 0;
    this.#replayMetrics();
    this.#window = TrainingSession.#restoredWindow(opened, opts.runDir);
  }

  /** Drops the metrics of steps that will be redone and reads the earlier sessions' logs and evaluations. */
  #replayMetrics(): void {
    const run = this.#opened.run;
    // Metrics after the checkpoint belong to steps that will be redone.
    run.metrics.truncateTo(this.#opened.start);
    for (const r of run.metrics.records()) {
      if (r.kind === "train") this.finalTrain = numbersOf(r);
      if (r.kind === "eval") this.evalCurve.push({ step: r.step, summary: summaryOf(r) });
    }
  }

  /** Restores the checkpoint's open logging window, if it has one. */
  static #restoredWindow(opened: OpenedRun, runDir: string): MetricWindow {
    const saved = (opened.state?.json ?? {}) as Record<string, unknown>;
    const steps = typeof saved.windowSteps === "number" ? saved.windowSteps : 0;
    if (!opened.state || steps === 0) return new MetricWindow(steps);
    const w = opened.state.extra[WINDOW_KEY];
    if (!w) throw new CheckpointError(`Cannot resume "${runDir}": the checkpoint has no "${WINDOW_KEY}"`);
    return new MetricWindow(steps, w.data as Float32Array);
  }

  /** Runs the remaining optimiser steps with their logs, evaluations and checkpoints. */
  async train(): Promise<void> {
    const { start, total } = this.#opened;
    const t = this.#cfg.train;
    const minutes = t.checkpoint_minutes ?? DEFAULT_CHECKPOINT_MINUTES;
    // A checkpoint reads state back and changes none of it, so when one is taken never changes a training byte.
    const timeDue = () => minutes > 0 && performance.now() - this.#lastCheckpointAt >= minutes * 60_000;
    for (let step = start + 1; step <= total; step++) {
      await this.#step(step);
      const last = step === total;
      if (last ? this.#cfg.eval.at_end : t.eval_interval > 0 && step % t.eval_interval === 0) {
        const result = await this.#evaluate(step, true);
        if (last) this.finalEval = result;
      }
      if (last || (t.checkpoint_interval > 0 && step % t.checkpoint_interval === 0) || timeDue()) {
        await this.#checkpoint(step);
      }
    }
    // A finished run reopened with --resume: its final evaluation is already in the curve; recompute
    // the full result (deterministic) for the outputs.
    if (this.finalEval === null && this.#cfg.eval.at_end) {
      this.finalEval = await this.#evaluate(total, !this.evalCurve.some((p) => p.step === total));
    }
  }

  /** One optimiser step: the schedule's rates, the trainer step, the EMA, the window and, when due, the log. */
  async #step(step: number): Promise<void> {
    const t = this.#cfg.train;
    const { trainer, sampler, ema } = this.#parts;
    const { run, total } = this.#opened;
    const t0 = performance.now();
    const rates = { lr: learningRate(step, this.#schedule), puzzleLr: learningRate(step, this.#puzzleSchedule) };
    const result = await trainer.step(sampler, rates);
    try {
      ema?.update();
      this.#window.add(result);
    } finally {
      result.dispose();
    }
    const logNow = step % t.log_interval === 0 || step === total;
    let record: MetricRecord | null = null;
    if (logNow) {
      const w = this.#window;
      this.finalTrain = await w.read(step, async (r) => {
        run.metrics.append(r);
        await run.metrics.flush();
      });
      const secs = w.seconds + (performance.now() - t0) / 1000;
      record = {
        kind: "train",
        step,
        lr: rates.lr,
        ...this.finalTrain,
        window: w.steps,
        samples_per_s: secs > 0 ? (w.steps * t.batch_size) / secs : null,
      };
      w.reset();
      this.#fields = progressFields(this.finalTrain, record.samples_per_s as number | null);
    }
    const dt = (performance.now() - t0) / 1000;
    this.#timers.train += dt;
    if (!logNow) this.#window.seconds += dt;
    if (record) {
      run.metrics.append(record);
      await run.metrics.flush();
      this.#opts.onLog?.(record);
    }
    this.#opts.onProgress?.({ done: step, total, label: "train", fields: this.#fields });
  }

  /** Evaluates the model (the EMA shadow when there is one) on the test split and the validation split. */
  async #evaluate(step: number, record: boolean): Promise<EvalResult> {
    const t0 = performance.now();
    const { model, method, ema } = this.#parts;
    const { data, run, total } = this.#opened;
    // Inference reads puzzle rows from the host table: bring back a device-resident one first (webgpu).
    await model.syncPuzzleTable();
    // One progress bar per evaluation: the validation split continues the test split's count, rather than
    // reporting a second "eval" bar of its own (the CLI drew two bars per evaluation point).
    const cap = (n: number) => this.#cfg.eval.max_examples == null ? n : Math.min(n, this.#cfg.eval.max_examples);
    const testRows = cap(numExamples(evalData(data, "test").split));
    const rows = testRows + (data.validation ? cap(numExamples(evalData(data, "validation").split)) : 0);
    const onProgress = this.#opts.onProgress;
    const run1 = (which: "test" | "validation") => () =>
      evaluateModel(model, method, evalData(data, which), {
        batchSize: this.#cfg.eval.batch_size,
        maxExamples: this.#cfg.eval.max_examples,
        onProgress: onProgress &&
          ((p) => onProgress({ ...p, done: p.done + (which === "test" ? 0 : testRows), total: rows })),
      });
    const result = ema ? await ema.withShadow(run1("test")) : await run1("test")();
    const summary = { ...result.summary };
    if (data.validation) {
      // The held-out pairs of training tasks, scored beside the test split and kept apart by key prefix.
      const v = ema ? await ema.withShadow(run1("validation")) : await run1("validation")();
      for (const [k, x] of Object.entries(v.summary)) summary[`validation_${k}`] = x;
      if (step === total) this.#finalValidation = v;
    }
    const point = { step, summary };
    if (record) {
      this.evalCurve.push(point);
      run.metrics.append({ kind: "eval", step, ...summary });
      await run.metrics.flush();
    }
    this.#opts.onEval?.(point, result);
    this.#timers.eval += (performance.now() - t0) / 1000;
    return result;
  }

  /** Writes a checkpoint of everything a resumed run needs, after checking that all of it is finite. */
  async #checkpoint(step: number): Promise<void> {
    const t0 = performance.now();
    const { model, ema, trainer, optimizer, sampler, rngs } = this.#parts;
    await model.syncPuzzleTable();
    const weights = await model.getWeights({ puzzleTable: false });
    const emaState = ema ? await ema.getState() : undefined;
    const extra: NamedArrays = {
      ...(await trainer.getState()),
      // No copy: nothing updates the table while the checkpoint is written (ARC's can be gigabytes).
      [PUZZLE_TABLE]: { shape: [model.config.numPuzzleIds, model.config.hidden], data: model.puzzleTable },
    };
    const open = await this.#window.saved();
    if (open) extra[WINDOW_KEY] = { shape: [open.length], data: open };
    const check: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(weights)) check[k] = v.data;
    for (const [k, v] of Object.entries(emaState ?? {})) check[`ema/${k}`] = v.data;
    check[PUZZLE_TABLE] = extra[PUZZLE_TABLE].data;
    if (open) check["loss and gradient norm"] = open;
    const bad = await findNonFinite(check);
    if (bad.length > 0) {
      throw new NonFiniteError(step, bad.length > 4 ? [...bad.slice(0, 3), `${bad.length - 3} more`] : bad);
    }
    await saveCheckpoint(this.#opts.runDir, {
      step,
      configHash: this.#loaded.hash,
      model: weights,
      ema: emaState,
      optim: await optimizer.getState(),
      extra,
      rng: { halting: rngs.halting.state(), targets: rngs.targets.state() },
      sampler: sampler.state() as unknown as CheckpointState["sampler"],
      json: {
        trainSeconds: this.#trainSecondsBefore + this.#timers.train,
        windowSteps: this.#window.steps,
        backends: this.#opened.backends,
      },
    }, { keepLast: this.#cfg.train.keep_checkpoints });
    this.#timers.checkpoint += (performance.now() - t0) / 1000;
    this.#lastCheckpointAt = performance.now();
  }

  /** Writes results.json, report.md, plots, weights and run.json; returns the outcome. */
  async finish(wall0: number, microBatch: MicroBatchChoice): Promise<TrainOutcome> {
    const { model, method, ema, trainer } = this.#parts;
    const { data, run, state, start, total } = this.#opened;
    const batch = this.#cfg.train.batch_size;
    const timers = this.#timers;
    const throughput: Throughput = {
      steps: total - start,
      samplesPerSecond: timers.train > 0 ? ((total - start) * batch) / timers.train : 0,
      trainSeconds: timers.train,
      trainSecondsTotal: this.#trainSecondsBefore + timers.train,
      evalSeconds: timers.eval,
      checkpointSeconds: timers.checkpoint,
      wallSeconds: 0,
    };
    const summary: RunSummary = {
      loaded: this.#loaded,
      data,
      model,
      method,
      totalSteps: total,
      finalTrain: this.finalTrain,
      finalEval: this.finalEval,
      finalValidation: this.#finalValidation,
      evalCurve: this.evalCurve,
      forwardPasses: trainer.forwardPasses,
      metrics: run.metrics.records(),
    };
    await model.syncPuzzleTable();
    const results = await writeRunOutputs(run, summary, {
      weights: {
        ...(await model.getWeights({ puzzleTable: false })),
        [PUZZLE_TABLE]: { shape: [model.config.numPuzzleIds, model.config.hidden], data: model.puzzleTable },
      },
      ema: ema ? await ema.getState() : undefined,
    });
    throughput.wallSeconds = (performance.now() - wall0) / 1000;
    const resumedFrom = state ? start : null;
    await run.writeProvenance({
      resumedFrom,
      totalSteps: total,
      throughput,
      dataDir: data.dataDir ?? null,
      forwardPassesPerSampleInference: forwardPasses(method).perSampleInference,
      microBatch,
      // More than one only when a resume passed allowBackendChange: the run's bytes then depend on each.
      backendsUsed: this.#opened.backends,
    });
    return {
      runDir: this.#opts.runDir,
      step: total,
      totalSteps: total,
      resumedFrom,
      finalTrain: this.finalTrain,
      finalEval: this.finalEval,
      evalCurve: this.evalCurve,
      forwardPasses: trainer.forwardPasses,
      throughput,
      results,
    };
  }

  dispose(): void {
    this.#window.dispose();
  }
}

/** The progress bar's fields from a logged window. */
function progressFields(
  train: Record<string, number | null>,
  samplesPerSecond: number | null,
): Record<string, number | string> {
  const fields: Record<string, number | string> = { loss: train.loss ?? NaN };
  if (train.accuracy != null) fields.acc = train.accuracy;
  if (train.exact_accuracy != null) fields.exact = train.exact_accuracy;
  fields["samples/s"] = Math.round(samplesPerSecond ?? 0);
  return fields;
}

/**
 * Trains (or resumes) a run and writes its folder: metrics.jsonl as it goes, checkpoints every
 * `train.checkpoint_interval` steps, every `train.checkpoint_minutes` of wall time and at the end, then results.json, report.md, plots, run.json,
 * model.safetensors (and ema.safetensors, submission.json). Returns the final metrics, the evaluation
 * curve and the throughput. Throws NonFiniteError when training diverges (the last checkpoint stays),
 * CheckpointError for a checkpoint that is corrupt or from another config, InputError (exit 2) for a
 * folder that already holds another run, a folder that is not a run's (lib/io `checkOutput`), or one that
 * another live process is writing (lib/io `lockFolder`: the folder is locked while the run trains).
 *
 * @example
 * ```ts ignore
 * await initBackend("wasm");
 * const loaded = await loadTrainConfig("fixtures/train/dis_tiny.yaml");
 * const out = await runTraining(loaded, { runDir: "runs/train/dis_tiny", resume: true });
 * out.finalEval?.summary.exact;
 * ```
 */
export async function runTraining(loaded: LoadedTrainConfig, opts: TrainOptions): Promise<TrainOutcome> {
  const wall0 = performance.now();
  const opened = await openRun(loaded, opts);
  try {
    const micro = runMicroBatch(
      loaded.config,
      opened.data,
      opts.backend ?? { name: tf.getBackend() },
      systemMemory(),
    );
    opts.onMicroBatch?.(micro);
    const parts = assembleRun(loaded.config, opened, opts, micro.microBatch);
    let session: TrainingSession | null = null;
    try {
      session = new TrainingSession(loaded, opts, opened, parts);
      await session.train();
      return await session.finish(wall0, micro);
    } catch (e) {
      if (!(e instanceof NonFiniteError) || e.context !== null) throw e;
      const latest = await findLatestCheckpoint(opts.runDir);
      // From the folder name: no need to read a checkpoint that may be gigabytes.
      const lastCheckpoint = latest === null ? null : checkpointStep(latest);
      throw e.within({ runDir: opts.runDir, lastCheckpoint });
    } finally {
      session?.dispose();
      disposeParts(parts);
    }
  } finally {
    opened.lock.release();
  }
}

/** The machine's memory in bytes, or undefined without permission to read it (--allow-sys). */
function systemMemory(): number | undefined {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return undefined;
  }
}

function numbersOf(r: MetricRecord): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(r)) {
    if (["step", "kind", "lr", "samples_per_s", "window"].includes(k)) continue;
    if (typeof v === "number" || v === null) out[k] = v;
  }
  return out;
}

function summaryOf(r: MetricRecord): EvalSummary {
  const out: EvalSummary = {};
  for (const [k, v] of Object.entries(r)) {
    if (k !== "step" && k !== "kind" && (typeof v === "number" || v === null)) out[k] = v;
  }
  return out;
}
