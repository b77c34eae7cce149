/**
 * Hash helpers shared by the data builders: SHA-256 for content hashes that users compare, and a fast
 * 32-bit mixer for seeding counter-based generators.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Rng } from "../random/mod.ts";

/** SHA-256 of bytes or text, as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Murmur3's 32-bit finaliser: a bijection on u32 with full avalanche. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The two 32-bit halves of a 53-bit seed, as (low, high). */
export function seedWords(seed: number): [number, number] {
  return [seed % 4294967296 >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/**
 * A generator keyed by (key, a, b): the same key and counters always give the same stream, so a lazy
 * reader can draw an example's randomness without replaying everything before it.
 */
export function counterRng(key: [number, number], a: number, b: number): Rng {
  const h1 = fmix32((key[0] ^ Math.imul(a + 1, 0x9e3779b1)) >>> 0);
  const h2 = fmix32((key[1] ^ Math.imul(b + 1, 0x85ebca77)) >>> 0);
  const h3 = fmix32((h1 + Math.imul(h2, 0xc2b2ae3d)) >>> 0);
  const h4 = fmix32((h2 ^ Math.imul(h1 + 0x27d4eb2f, 0x165667b1)) >>> 0);
  // xoshiro's state must not be all zero.
  return Rng.fromState({ s: [h1, h2, h3, (h1 | h2 | h3 | h4) === 0 ? 1 : h4], spare: null });
}
