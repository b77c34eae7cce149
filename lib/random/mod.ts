/**
 * Seeded randomness: the xoshiro128** generator and named streams derived from one master seed.
 *
 * @example
 * ```ts
 * import { stream } from "./mod.ts";
 * const init = stream(0, "init");
 * init.normal();
 * ```
 *
 * @module
 */
export { Rng, type RngState, splitMix64 } from "./prng.ts";
export { deriveSeed, fnv1a64, stream, STREAM_NAMES, type StreamName, streamSeeds } from "./streams.ts";
