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
import { type BackendInfo, type Tensor, tf } from "../backend/mod.ts";
import { CheckpointError, InputError } from "../errors.ts";
import { type SamplerState, TrainSampler } from "../data/mod.ts";
import { type EvalResult, type EvalSummary, evaluateModel } from "../eval/mod.ts";
import { forwardPasses, type MethodConfig, type RecursiveModel } from "../model/mod.ts";
import { DisTrainer, type ForwardPassStats, rngExploration, type StepResult, TrmTrainer } from "../method/mod.ts";
import { deriveSeed, Rng, stream } from "../random/mod.ts";
import { type MetricRecord, type ProgressFn, RunFolder } from "../report/mod.ts";
import { type CheckpointState, findLatestCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { type LoadedTrainConfig, sameTrainConfig, totalSteps, type TrainConfig } from "./config.ts";
import { Ema } from "./ema.ts";
import { clipByGlobalNorm, findNonFinite, NonFiniteError } from "./grad.ts";
import { createOptimizer, type NamedArrays, type ParamOptimizer, SparseSignSGD } from "./optimizers.ts";
import { learningRate, type LrSchedule } from "./schedule.ts";
import { PUZZLE_TABLE, RUN_FILES } from "./run_files.ts";
import { evalData, loadRunData, type RunData } from "./run_data.ts";
import { asFloatArrays, buildModel } from "./build_model.ts";
import { type RunSummary, writeRunOutputs } from "./run_report.ts";

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
  /** The backend in use, for run.json. */
  backend?: BackendInfo | null;
  /** The command line, for run.json. */
  command?: readonly string[];
  /** Progress: `label` "data" (ARC index build), "train" (every step) and "eval" (every batch). */
  onProgress?: ProgressFn;
  /** Called after each logged window with the metrics.jsonl record. */
  onLog?: (record: MetricRecord) => void;
  /** Called after each evaluation. */
  onEval?: (point: EvalPoint, result: EvalResult) => void;
}

/** One point of the evaluation curve. */
export interface EvalPoint {
  step: number;
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
  evalSeconds: number;
  checkpointSeconds: number;
  /** This session, from the call to the return. */
  wallSeconds: number;
}

/** What {@linkcode runTraining} returns. */
export interface TrainOutcome {
  runDir: string;
  /** The last step (= totalSteps). */
  step: number;
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
  throughput: Throughput;
  /** The `results` object written to results.json. */
  results: Record<string, unknown>;
}

/** Names whose window value is a per-step quantity (averaged over steps); the rest are per-sample means. */
const PER_STEP = new Set(["loss", "lm_loss", "q_halt_loss", "grad_norm", "step_target_accuracy"]);
const WINDOW = "loop.window";

async function hasCheckpoints(runDir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(join(runDir, RUN_FILES.checkpoints))) return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  return false;
}

interface Parts {
  model: RecursiveModel;
  method: MethodConfig;
  optimizer: ParamOptimizer;
  ema: Ema | null;
  trainer: TrmTrainer | DisTrainer;
  sampler: TrainSampler;
  rngs: { halting: Rng; targets: Rng };
}

function restoreRng(state: CheckpointState | null, name: string, seed: number): Rng {
  const saved = state?.rng[name];
  return saved ? Rng.fromState(saved) : stream(seed, name);
}

/** Builds the model, optimisers, trainer and sampler, restored from `state` when given. */
function assemble(
  cfg: TrainConfig,
  data: RunData,
  state: CheckpointState | null,
  puzzleTable: "host" | "device" | undefined,
): Parts {
  const t = cfg.train;
  const { model, method } = buildModel(cfg, data);
  const made: { dispose(): void }[] = [model];
  try {
    if (state) {
      const table = state.extra[PUZZLE_TABLE];
      if (!table) throw new RangeError(`the checkpoint has no "${PUZZLE_TABLE}"`);
      model.setWeights({
        ...asFloatArrays(state.model, "the model weights"),
        ...asFloatArrays({ [PUZZLE_TABLE]: table }, "the puzzle table"),
      });
    }
    const optimizer = createOptimizer(t.optimizer, model.trainableVariables(), {
      beta1: t.beta1,
      beta2: t.beta2,
      weightDecay: t.weight_decay,
    });
    made.push(optimizer);
    if (state) optimizer.setState(state.optim);
    let ema: Ema | null = null;
    if (t.ema) {
      ema = new Ema(model.trainableVariables(), { decay: t.ema_rate });
      made.push(ema);
      if (state) {
        if (!state.ema) throw new RangeError("the run uses EMA but the checkpoint has no EMA weights");
        ema.setState(state.ema);
      }
    }
    const rngs = { halting: restoreRng(state, "halting", cfg.seed), targets: restoreRng(state, "targets", cfg.seed) };
    const clip = t.grad_clip;
    const common = {
      batchSize: t.batch_size,
      optimizer,
      puzzleOptimizer: new SparseSignSGD(model.puzzleTable, model.config.hidden, {
        weightDecay: t.puzzle_emb_weight_decay,
      }),
      transformGrads: clip === null ? undefined : (g: Record<string, Tensor>) => clipByGlobalNorm(g, clip).grads,
      puzzleTable,
    };
    const trainer = method.method === "dis"
      ? new DisTrainer(model, method, { ...common, rng: rngs.targets, fetch: t.dis_fetch, stagger: t.dis_stagger })
      : new TrmTrainer(model, method, { ...common, exploration: rngExploration(rngs.halting) });
    made.push(trainer);
    if (state) {
      const carry: NamedArrays = {};
      for (const [k, v] of Object.entries(asFloatArrays(state.extra, "the trainer state"))) {
        if (k.startsWith("carry.")) carry[k] = v;
      }
      trainer.setState(carry);
    }
    const sampler = state
      ? TrainSampler.fromState(data.train, state.sampler as unknown as SamplerState)
      : new TrainSampler(data.train, { batchSize: t.batch_size, seed: deriveSeed(cfg.seed, "sampler") });
    return { model, method, optimizer, ema, trainer, sampler, rngs };
  } catch (e) {
    for (const m of made.reverse()) m.dispose();
    throw e;
  }
}

/**
 * Trains (or resumes) a run and writes its folder: metrics.jsonl as it goes, checkpoints every
 * `train.checkpoint_interval` steps and at the end, then results.json, report.md, plots, run.json,
 * model.safetensors (and ema.safetensors, submission.json). Returns the final metrics, the evaluation
 * curve and the throughput. Throws NonFiniteError when training diverges (the last checkpoint stays),
 * CheckpointError for a checkpoint that is corrupt or from another config, InputError (exit 2) for a
 * folder that already holds another run.
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
  const cfg = loaded.config;
  const t = cfg.train;
  if (!opts.resume && (await hasCheckpoints(opts.runDir))) {
    throw new InputError(
      `Cannot start a run in "${opts.runDir}": it already holds checkpoints (pass --resume to continue that ` +
        "run, or choose another --out folder)",
    );
  }
  // The data first: a missing data folder then leaves no run folder behind.
  const data = await loadRunData(cfg, {
    dataDir: opts.dataDir,
    onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, label: "data" })),
  });
  const run = await RunFolder.open(opts.runDir, {
    config: { resolvedYaml: loaded.resolvedYaml, matches: (t) => sameTrainConfig(t, loaded.hash) },
    command: opts.command ?? [],
    masterSeed: cfg.seed,
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
  let parts: Parts;
  try {
    parts = assemble(cfg, data, state, opts.puzzleTable);
  } catch (e) {
    if (state === null) throw e;
    throw new CheckpointError(`Cannot resume "${opts.runDir}" from step ${start}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const { model, method, optimizer, ema, trainer, sampler, rngs } = parts;
  const schedule: LrSchedule = {
    baseLr: t.lr,
    warmupSteps: t.warmup_steps,
    totalSteps: total,
    minRatio: t.lr_min_ratio,
  };
  const puzzleSchedule: LrSchedule = { ...schedule, baseLr: t.puzzle_emb_lr };
  const savedJson = (state?.json ?? {}) as Record<string, unknown>;
  const trainSecondsBefore = typeof savedJson.trainSeconds === "number" ? savedJson.trainSeconds : 0;
  let window: Tensor | null = null;
  let windowSteps = typeof savedJson.windowSteps === "number" ? savedJson.windowSteps : 0;
  let windowSeconds = 0;
  let lastResult: StepResult | null = null;
  let names: readonly string[] = [];
  let normalise: (raw: number[]) => number[] = (r) => r;
  let finalTrain: Record<string, number | null> | null = null;
  let fields: Record<string, number | string> = {};
  const evalCurve: EvalPoint[] = [];
  let trainSeconds = 0;
  let evalSeconds = 0;
  let checkpointSeconds = 0;
  let finalEval: EvalResult | null = null;
  let finalValidation: EvalResult | null = null;

  // Metrics after the checkpoint belong to steps that will be redone.
  run.metrics.truncateTo(start);
  for (const r of run.metrics.records()) {
    if (r.kind === "train") finalTrain = numbersOf(r);
    if (r.kind === "eval") evalCurve.push({ step: r.step, summary: summaryOf(r) });
  }

  const readWindow = async (step: number): Promise<Record<string, number | null>> => {
    const raw = Array.from(await window!.data());
    const vals = normalise(raw);
    const out: Record<string, number | null> = {};
    const finished = raw[names.indexOf("count")];
    names.forEach((n, i) => {
      // Means over finished samples are undefined in a window where none finished (DIS: 5 of 6 steps).
      if (PER_STEP.has(n)) out[n] = vals[i] / windowSteps;
      else out[n] = n === "count" || finished > 0 ? vals[i] : null;
    });
    const bad = names.filter((_, i) => !Number.isFinite(raw[i]));
    if (bad.length > 0) {
      const first = step - windowSteps + 1;
      run.metrics.append({ kind: "train", step, ...out, window: windowSteps });
      await run.metrics.flush();
      throw new NonFiniteError(step, bad.map((n) => `${n} (steps ${first}..${step})`));
    }
    return out;
  };

  const evaluate = async (step: number, record: boolean): Promise<EvalResult> => {
    const t0 = performance.now();
    // Inference reads puzzle rows from the host table: bring back a device-resident one first (webgpu).
    await model.syncPuzzleTable();
    const run1 = (which: "test" | "validation") => () =>
      evaluateModel(model, method, evalData(data, which), {
        batchSize: cfg.eval.batch_size,
        maxExamples: cfg.eval.max_examples,
        onProgress: opts.onProgress,
      });
    const result = ema ? await ema.withShadow(run1("test")) : await run1("test")();
    const summary = { ...result.summary };
    if (data.validation) {
      // The held-out pairs of training tasks, scored beside the test split and kept apart by key prefix.
      const v = ema ? await ema.withShadow(run1("validation")) : await run1("validation")();
      for (const [k, x] of Object.entries(v.summary)) summary[`validation_${k}`] = x;
      if (step === total) finalValidation = v;
    }
    const point = { step, summary };
    if (record) {
      evalCurve.push(point);
      run.metrics.append({ kind: "eval", step, ...summary });
      await run.metrics.flush();
    }
    opts.onEval?.(point, result);
    evalSeconds += (performance.now() - t0) / 1000;
    return result;
  };

  const checkpoint = async (step: number): Promise<void> => {
    const t0 = performance.now();
    await model.syncPuzzleTable();
    const weights = await model.getWeights({ puzzleTable: false });
    const emaState = ema ? await ema.getState() : undefined;
    const extra: NamedArrays = {
      ...(await trainer.getState()),
      // No copy: nothing updates the table while the checkpoint is written (ARC's can be gigabytes).
      [PUZZLE_TABLE]: { shape: [model.config.numPuzzleIds, model.config.hidden], data: model.puzzleTable },
    };
    if (window) extra[WINDOW] = { shape: [window.size], data: Float32Array.from(await window.data()) };
    const check: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(weights)) check[k] = v.data;
    for (const [k, v] of Object.entries(emaState ?? {})) check[`ema/${k}`] = v.data;
    check[PUZZLE_TABLE] = extra[PUZZLE_TABLE].data;
    if (window) check["loss and gradient norm"] = extra[WINDOW].data;
    const bad = await findNonFinite(check);
    if (bad.length > 0) {
      throw new NonFiniteError(step, bad.length > 4 ? [...bad.slice(0, 3), `${bad.length - 3} more`] : bad);
    }
    await saveCheckpoint(opts.runDir, {
      step,
      configHash: loaded.hash,
      model: weights,
      ema: emaState,
      optim: await optimizer.getState(),
      extra,
      rng: { halting: rngs.halting.state(), targets: rngs.targets.state() },
      sampler: sampler.state() as unknown as CheckpointState["sampler"],
      json: { trainSeconds: trainSecondsBefore + trainSeconds, windowSteps },
    }, { keepLast: t.keep_checkpoints });
    checkpointSeconds += (performance.now() - t0) / 1000;
  };

  try {
    if (state && windowSteps > 0) {
      const w = state.extra[WINDOW];
      if (!w) throw new CheckpointError(`Cannot resume "${opts.runDir}": the checkpoint has no "${WINDOW}"`);
      window = tf.tensor1d(Float32Array.from(w.data));
    }
    for (let step = start + 1; step <= total; step++) {
      const t0 = performance.now();
      const rates = { lr: learningRate(step, schedule), puzzleLr: learningRate(step, puzzleSchedule) };
      lastResult = await trainer.step(sampler, rates);
      ema?.update();
      const prev = window;
      window = prev ? tf.tidy(() => tf.add(prev, lastResult!.stats)) : lastResult.stats.clone();
      prev?.dispose();
      names = lastResult.names;
      normalise = lastResult.normalise;
      lastResult.dispose();
      lastResult = null;
      windowSteps += 1;
      const logNow = step % t.log_interval === 0 || step === total;
      let record: MetricRecord | null = null;
      if (logNow) {
        finalTrain = await readWindow(step);
        const secs = windowSeconds + (performance.now() - t0) / 1000;
        record = {
          kind: "train",
          step,
          lr: rates.lr,
          ...finalTrain,
          window: windowSteps,
          samples_per_s: secs > 0 ? (windowSteps * t.batch_size) / secs : null,
        };
        window!.dispose();
        window = null;
        windowSteps = 0;
        windowSeconds = 0;
        fields = { loss: finalTrain.loss ?? NaN };
        if (finalTrain.accuracy != null) fields.acc = finalTrain.accuracy;
        if (finalTrain.exact_accuracy != null) fields.exact = finalTrain.exact_accuracy;
        fields["samples/s"] = Math.round((record.samples_per_s as number | null) ?? 0);
      }
      const dt = (performance.now() - t0) / 1000;
      trainSeconds += dt;
      if (!logNow) windowSeconds += dt;
      if (record) {
        run.metrics.append(record);
        await run.metrics.flush();
        opts.onLog?.(record);
      }
      opts.onProgress?.({ done: step, total, label: "train", fields });
      const last = step === total;
      if (last ? cfg.eval.at_end : t.eval_interval > 0 && step % t.eval_interval === 0) {
        const result = await evaluate(step, true);
        if (last) finalEval = result;
      }
      if (last || (t.checkpoint_interval > 0 && step % t.checkpoint_interval === 0)) await checkpoint(step);
    }
    // A finished run reopened with --resume: its final evaluation is already in the curve; recompute
    // the full result (deterministic) for the outputs.
    if (finalEval === null && cfg.eval.at_end) {
      finalEval = await evaluate(
        total,
        !evalCurve.some((p) => p.step === total),
      );
    }
    const forward = trainer.forwardPasses;
    const throughput: Throughput = {
      steps: total - start,
      samplesPerSecond: trainSeconds > 0 ? ((total - start) * t.batch_size) / trainSeconds : 0,
      trainSeconds,
      trainSecondsTotal: trainSecondsBefore + trainSeconds,
      evalSeconds,
      checkpointSeconds,
      wallSeconds: 0,
    };
    const summary: RunSummary = {
      loaded,
      data,
      model,
      method,
      totalSteps: total,
      finalTrain,
      finalEval,
      finalValidation,
      evalCurve,
      forwardPasses: forward,
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
    await run.writeProvenance({
      resumedFrom: state ? start : null,
      totalSteps: total,
      throughput,
      dataDir: data.dataDir ?? null,
      forwardPassesPerSampleInference: forwardPasses(method).perSampleInference,
    });
    return {
      runDir: opts.runDir,
      step: total,
      totalSteps: total,
      resumedFrom: state ? start : null,
      finalTrain,
      finalEval,
      evalCurve,
      forwardPasses: forward,
      throughput,
      results,
    };
  } finally {
    lastResult?.dispose();
    window?.dispose();
    trainer.dispose();
    optimizer.dispose();
    ema?.dispose();
    model.dispose();
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
