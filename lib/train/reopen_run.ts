/**
 * Reopening a run folder: its resolved config, its data, and a model holding the weights of its latest
 * checkpoint.
 *
 * @module
 */
import { join } from "node:path";
import { CheckpointError, DataError } from "../errors.ts";
import { type MethodConfig, RecursiveModel } from "../model/mod.ts";
import { findLatestCheckpoint, loadCheckpoint } from "./checkpoint.ts";
import { type LoadedTrainConfig, parseTrainConfig, type TrainConfig } from "./config.ts";
import { PUZZLE_TABLE, RUN_FILES } from "./run_files.ts";
import { loadRunData, type RunData } from "./run_data.ts";
import { asFloatArrays, buildModel } from "./build_model.ts";

/** A trained run, reopened. */
export interface TrainedRun {
  /** The run folder. */
  dir: string;
  /** The resolved config from the folder's config.yaml, with its text and hash. */
  loaded: LoadedTrainConfig;
  /** The validated config (`loaded.config`). */
  config: TrainConfig;
  /** The run's task. */
  kind: "nqueens" | "arc";
  /** The model with the run's latest weights (EMA weights when the run uses EMA) and puzzle table. */
  model: RecursiveModel;
  /** The method the run trains. */
  method: MethodConfig;
  /** The run's data splits, rebuilt from the config. */
  data: RunData;
  /** The step of the checkpoint the weights come from. */
  step: number;
  /** Whether `model` holds the EMA weights. */
  ema: boolean;
  /** The checkpoint folder read. */
  checkpoint: string;
  /** Frees the model's variables. */
  dispose(): void;
}

/** Options of {@linkcode openTrainedRun}. */
export interface OpenRunOptions {
  /** tfjs variable-name prefix, to open a run beside another model (default ""). */
  scope?: string;
  /** Load the live weights even when the run uses EMA (default false: EMA weights, as evaluation uses). */
  liveWeights?: boolean;
  /** The ARC data folder where the config's `data.data_dir` is null (default: the fetch cache). */
  dataDir?: string;
}

/**
 * Reopens a run folder: its resolved config, its data, and a model holding the weights of its latest
 * checkpoint (the final one for a finished run). The checkpoint must belong to the folder's config.
 * Initialise the backend first. Call `dispose()` when done.
 *
 * @example
 * ```ts ignore
 * const run = await openTrainedRun("runs/train/nqueens_dis");
 * const p = await predict(run.model, run.method, { inputs, puzzleIds }, { keepSteps: true });
 * run.dispose();
 * ```
 */
export async function openTrainedRun(runDir: string, opts: OpenRunOptions = {}): Promise<TrainedRun> {
  const configPath = join(runDir, RUN_FILES.config);
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DataError(`Cannot open run "${runDir}": it has no ${RUN_FILES.config} (is it a run folder?)`);
    }
    throw e;
  }
  const loaded = parseTrainConfig(text, { source: configPath });
  const ckpt = await findLatestCheckpoint(runDir);
  if (ckpt === null) {
    throw new CheckpointError(`Cannot open run "${runDir}": it has no checkpoint yet (train it, or resume it)`);
  }
  const state = await loadCheckpoint(ckpt, { expectedConfigHash: loaded.hash });
  const data = await loadRunData(loaded.config, { dataDir: opts.dataDir });
  const built = buildModel(loaded.config, data, { scope: opts.scope });
  try {
    const useEma = loaded.config.train.ema && !opts.liveWeights;
    if (useEma && !state.ema) throw new CheckpointError(`Cannot open run "${runDir}": "${ckpt}" has no EMA weights`);
    const weights = {
      ...asFloatArrays(state.model, `the weights of "${ckpt}"`),
      ...(useEma ? asFloatArrays(state.ema!, `the EMA weights of "${ckpt}"`) : {}),
    };
    const table = state.extra[PUZZLE_TABLE];
    if (!table) throw new CheckpointError(`Cannot open run "${runDir}": "${ckpt}" has no "${PUZZLE_TABLE}"`);
    weights[PUZZLE_TABLE] = asFloatArrays({ [PUZZLE_TABLE]: table }, `the puzzle table of "${ckpt}"`)[PUZZLE_TABLE];
    built.model.setWeights(weights);
    return {
      dir: runDir,
      loaded,
      config: loaded.config,
      kind: data.kind,
      model: built.model,
      method: built.method,
      data,
      step: state.step,
      ema: useEma,
      checkpoint: ckpt,
      dispose: () => built.model.dispose(),
    };
  } catch (e) {
    built.model.dispose();
    throw e;
  }
}

// ---- results.json, report.md and the model files ----
