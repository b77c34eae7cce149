/**
 * The model of a run's config: the network for the data's shape, initialised from the run's seed, and
 * the method it is trained with.
 *
 * @module
 */
import { CheckpointError } from "../errors.ts";
import { type BackboneConfig, type MethodConfig, RecursiveModel } from "../model/mod.ts";
import { stream } from "../random/mod.ts";
import { backboneConfig, methodConfig, type TrainConfig } from "./config.ts";
import type { NamedArrays } from "./optimizers.ts";
import type { TensorMap } from "./safetensors.ts";
import { type RunData } from "./run_data.ts";

/** A model built for a run: the network, the method it is trained with, and its backbone. */
export interface BuiltModel {
  /** The network, initialised from the "init" stream of the run's seed. */
  model: RecursiveModel;
  /** The method the run trains, from the config's `model` section. */
  method: MethodConfig;
  /** The backbone the network was built with, sized from the config and the data. */
  backbone: BackboneConfig;
}

/**
 * Builds the run's model, initialised from the "init" stream of its seed (the puzzle table starts at
 * zero, as TRM's). Leave `scope` empty for the model a run trains, so tfjs names equal the stable names.
 */
export function buildModel(cfg: TrainConfig, data: RunData, opts: { scope?: string } = {}): BuiltModel {
  const backbone = backboneConfig(cfg, data);
  const model = new RecursiveModel(backbone, { rng: stream(cfg.seed, "init"), scope: opts.scope ?? "" });
  return { model, method: methodConfig(cfg), backbone };
}

/** Float32 arrays of a checkpoint section, refusing other dtypes (the file names the section). */
export function asFloatArrays(map: TensorMap, what: string): NamedArrays {
  const out: NamedArrays = {};
  for (const [name, t] of Object.entries(map)) {
    if (!(t.data instanceof Float32Array)) {
      throw new CheckpointError(`Cannot restore ${what}: tensor "${name}" is not float32`);
    }
    out[name] = { shape: t.shape, data: t.data };
  }
  return out;
}
