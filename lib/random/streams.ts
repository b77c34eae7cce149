/**
 * Named random streams derived from one master seed. Each consumer (data generation, weight
 * initialisation, augmentation, halting exploration, target paths, ...) draws from its own stream, so
 * adding draws in one place never shifts another.
 *
 * @module
 */

import { Rng, splitMix64 } from "./prng.ts";

/** The stream names the project uses. Others may be derived with {@linkcode deriveSeed}. */
export const STREAM_NAMES = ["data", "init", "augmentation", "halting", "targets", "sampler"] as const;
/** One of {@linkcode STREAM_NAMES}. */
export type StreamName = typeof STREAM_NAMES[number];

/** FNV-1a 64-bit hash of a UTF-8 string. */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * Derives a 53-bit child seed from a master seed and a stream name:
 * SplitMix64(master XOR FNV-1a(name)). Stable across platforms and releases.
 *
 * @example
 * ```ts
 * import { deriveSeed } from "./streams.ts";
 * deriveSeed(0, "init") !== deriveSeed(0, "data"); // true
 * ```
 */
export function deriveSeed(master: number, name: string): number {
  if (!Number.isSafeInteger(master) || master < 0) {
    throw new RangeError(`Cannot derive a seed: master seed must be a non-negative safe integer, got ${master}`);
  }
  const { value } = splitMix64(BigInt(master) ^ fnv1a64(name));
  return Number(value >> 11n);
}

/** A generator for the named stream of a master seed. */
export function stream(master: number, name: string): Rng {
  return Rng.fromSeed(deriveSeed(master, name));
}

/** The child seeds of every standard stream, for provenance files. */
export function streamSeeds(master: number): Record<StreamName, number> {
  const out = {} as Record<StreamName, number>;
  for (const n of STREAM_NAMES) out[n] = deriveSeed(master, n);
  return out;
}
