/**
 * Reproduction of "Your Latent Reasoning is Secretly Policy Improvement Operator" (Deep Improvement
 * Supervision on Tiny Recursive Models) in TypeScript on Deno and TensorFlow.js.
 *
 * As a library this module re-exports the public API of each `lib/` area (each area is also an entry
 * point of its own: `./random`, `./backend`, `./config`, `./data`, `./model`, `./train`, `./eval`,
 * `./analysis`, `./report`, `./experiment`, `./io`; see deno.json's `exports`); run as the main module it is
 * the command line tool (`deno task cli --help`). tfjs and zod are not re-exported here: `./backend`
 * exports the `tf` the project uses and `./config` the `z` its schemas are written with.
 *
 * @example
 * ```ts
 * import { sha256Hex, stream } from "./mod.ts";
 * const rng = stream(0, "data");
 * sha256Hex(String(rng.u32())).length; // 64
 * ```
 *
 * @module
 */
export * from "./lib/random/mod.ts";
// Backend selection and the project's ops, not all of tfjs: import `tf` from the `./backend` entry point
// (or from npm:@tensorflow/tfjs) where a caller needs tensors directly.
export {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  BackendUnavailableError,
  type BlasStatus,
  blasStatus,
  initBackend,
  parseBackend,
  type Tensor,
} from "./lib/backend/mod.ts";
export * from "./lib/io/mod.ts";
export * from "./lib/errors.ts";
// The config loader without zod itself: schemas import `z` from the `./config` entry point.
export {
  ConfigError,
  configHash,
  type ConfigOptions,
  type ExperimentEntry,
  type ExperimentInfo,
  experimentInfoSchema,
  INCLUDE_KEY,
  listExperiments,
  loadConfig,
  type LoadedConfig,
  type Override,
  parseConfigText,
  parseOverride,
} from "./lib/config/mod.ts";
export * from "./lib/report/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/model/mod.ts";
export * from "./lib/method/mod.ts";
export * from "./lib/train/mod.ts";
export * from "./lib/eval/mod.ts";
export * from "./lib/analysis/mod.ts";
export * from "./lib/experiment/mod.ts";

if (import.meta.main) {
  const { main } = await import("./cli/main.ts");
  Deno.exit(await main(Deno.args));
}
