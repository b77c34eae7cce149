/**
 * Reproduction of "Your Latent Reasoning is Secretly Policy Improvement Operator" (Deep Improvement
 * Supervision on Tiny Recursive Models) in TypeScript on Deno and TensorFlow.js.
 *
 * As a library this module re-exports the public API of each `lib/` area; run as the main module it
 * is the command line tool (`deno task cli --help`).
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
export * from "./lib/backend/mod.ts";
export * from "./lib/io/mod.ts";
export * from "./lib/errors.ts";
export * from "./lib/config/mod.ts";
export * from "./lib/report/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/model/mod.ts";
export * from "./lib/train/mod.ts";
export * from "./lib/eval/mod.ts";
export * from "./lib/analysis/mod.ts";
export * from "./lib/experiment/mod.ts";

if (import.meta.main) {
  const { main } = await import("./cli/main.ts");
  Deno.exit(await main(Deno.args));
}
