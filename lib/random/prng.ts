/**
 * The project's seeded pseudo-random generator: xoshiro128** (Blackman & Vigna, 2018), seeded through
 * SplitMix64. It is the only source of randomness in `lib/`; nothing here reads a clock or `Math.random`.
 *
 * xoshiro128** has a 128-bit state, period 2^128 - 1, and passes BigCrush. It works on 32-bit words, so
 * it runs at full speed in JavaScript without BigInt (BigInt appears only while seeding).
 *
 * @module
 */

const MASK64 = (1n << 64n) - 1n;

/** One step of SplitMix64: returns the next 64-bit output and the advanced state. */
export function splitMix64(state: bigint): { value: bigint; state: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { value: z ^ (z >> 31n), state: next };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Serializable generator state: four unsigned 32-bit words, plus the cached spare normal if any. */
export interface RngState {
  /** The four xoshiro128** state words, each an unsigned 32-bit integer. */
  s: [number, number, number, number];
  /** The second normal deviate of the last Box-Muller pair, not yet returned; null when none is cached. */
  spare: number | null;
}

/**
 * A seeded xoshiro128** generator.
 *
 * @example
 * ```ts
 * import { Rng } from "./prng.ts";
 * const rng = Rng.fromSeed(42);
 * const u = rng.float(); // in [0, 1)
 * const k = rng.int(10); // in 0..9
 * ```
 */
export class Rng {
  #s: Uint32Array;
  #spare: number | null = null;

  private constructor(s: ArrayLike<number>) {
    this.#s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) this.#s[i] = s[i] >>> 0;
    if (this.#s.every((w) => w === 0)) {
      throw new RangeError("Cannot create Rng: the xoshiro128** state must not be all zero");
    }
  }

  /** Seeds from a non-negative integer (or bigint) through two SplitMix64 outputs, low word first. */
  static fromSeed(seed: number | bigint): Rng {
    if (typeof seed === "number" && (!Number.isSafeInteger(seed) || seed < 0)) {
      throw new RangeError(`Cannot seed Rng: seed must be a non-negative safe integer, got ${seed}`);
    }
    let state = BigInt(seed) & MASK64;
    const a = splitMix64(state);
    state = a.state;
    const b = splitMix64(state);
    return new Rng([
      Number(a.value & 0xffffffffn),
      Number(a.value >> 32n),
      Number(b.value & 0xffffffffn),
      Number(b.value >> 32n),
    ]);
  }

  /** Restores a generator from a state captured by {@linkcode Rng.state}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(state.s);
    r.#spare = state.spare;
    return r;
  }

  /** The full state, for checkpoints. */
  state(): RngState {
    return { s: [this.#s[0], this.#s[1], this.#s[2], this.#s[3]], spare: this.#spare };
  }

  /** An independent copy at the same position. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next unsigned 32-bit output. */
  u32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (Lemire's rejection on 32 bits). Requires 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new RangeError(`Cannot draw Rng.int(n): n must be an integer in 1..2^32, got ${n}`);
    }
    if (n === 1) return 0;
    const threshold = (4294967296 - n) % n; // 2^32 mod n
    for (;;) {
      const x = this.u32();
      const m = x * n; // exact: below 2^64 and we only need floor(m / 2^32) and m mod 2^32
      const lo = m % 4294967296;
      if (lo >= threshold) return Math.floor(m / 4294967296);
    }
  }

  /** Uniform integer in [lo, hi] inclusive. */
  intIn(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Cannot draw Rng.intIn(${lo}, ${hi}): empty range`);
    return lo + this.int(hi - lo + 1);
  }

  /** Bernoulli(p). */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal by the Box-Muller transform (both outputs used). */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Standard normal truncated to [lo, hi] by rejection. */
  truncatedNormal(lo = -2, hi = 2): number {
    for (;;) {
      const x = this.normal();
      if (x >= lo && x <= hi) return x;
    }
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** k distinct indices from 0..n-1, in random order (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`Cannot sample ${k} of ${n} without replacement`);
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a.slice(0, k);
  }
}
