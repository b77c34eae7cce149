/**
 * The pieces of a training run, built fresh or restored from a checkpoint: the model, its optimiser and
 * EMA, the method's trainer, the sampler and the run's random streams.
 *
 * @module
 */
import type { Tensor } from "../backend/mod.ts";
import { type SamplerState, TrainSampler } from "../data/mod.ts";
import type { MethodConfig, RecursiveModel } from "../model/mod.ts";
import { DisTrainer, rngExploration, TrmTrainer } from "../method/mod.ts";
import { deriveSeed, Rng, stream } from "../random/mod.ts";
import type { CheckpointState } from "./checkpoint.ts";
import type { TrainConfig } from "./config.ts";
import { Ema } from "./ema.ts";
import { clipByGlobalNorm } from "./grad.ts";
import { createOptimizer, type NamedArrays, type ParamOptimizer, SparseSignSGD } from "./optimizers.ts";
import { PUZZLE_TABLE } from "./run_files.ts";
import type { RunData } from "./run_data.ts";
import { asFloatArrays, buildModel } from "./build_model.ts";

/** What {@linkcode assemble} builds. */
export interface Parts {
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
export function assemble(
  cfg: TrainConfig,
  data: RunData,
  state: CheckpointState | null,
  puzzleTable: "host" | "device" | undefined,
  microBatch?: number,
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
      microBatch,
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

/** Disposes what {@linkcode assemble} built. */
export function disposeParts(p: Parts): void {
  p.trainer.dispose();
  p.optimizer.dispose();
  p.ema?.dispose();
  p.model.dispose();
}
