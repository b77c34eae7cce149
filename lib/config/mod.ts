/**
 * Experiment configs: YAML files validated against a zod schema, with one level of `include:` and
 * type-checked `--set key=value` overrides. Unknown keys and wrong types are {@linkcode ConfigError}s
 * naming the file (or override), the key path and what was expected.
 *
 * Schemas are written with the `z` exported here (zod v4), so every experiment uses the same zod.
 *
 * @example
 * ```ts
 * import { loadConfig, z } from "./mod.ts";
 * const schema = z.object({
 *   model: z.object({ hidden_size: z.int().positive().default(256) }),
 *   lr: z.number().positive(),
 * });
 * const file = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(file, "model: {}\nlr: 1e-4\n");
 * const { config, hash } = await loadConfig(file, schema, { overrides: ["model.hidden_size=512"] });
 * config.model.hidden_size; // 512
 * ```
 *
 * @module
 */
export { z } from "zod";
/** zod's types that the exported schemas and loaders name in their signatures (`z.ZodType`, `z.output`, ...). */
export type { output, ZodArray, ZodDefault, ZodInt, ZodNullable, ZodString, ZodType } from "zod";
export { ConfigError } from "../errors.ts";
export {
  configHash,
  type ConfigOptions,
  INCLUDE_KEY,
  loadConfig,
  type LoadedConfig,
  type Override,
  parseConfigText,
  parseOverride,
} from "./load.ts";
export { type ExperimentEntry, type ExperimentInfo, experimentInfoSchema, listExperiments } from "./experiment.ts";
