/**
 * Weight initialisation from the project's seeded generator, as TRM's `trunc_normal_init_`: a standard
 * normal truncated to [-2, 2], rescaled so that the result has exactly the requested standard deviation
 * (JAX's truncated LeCun normal).
 *
 * @module
 */
import type { Rng } from "../random/mod.ts";

/** erf by its Maclaurin series; exact to double precision for |x| <= 3, which is all we need. */
export function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x * x / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return 2 / Math.sqrt(Math.PI) * sum;
}

/** Standard deviation of a standard normal truncated to [lo, hi]. */
export function truncatedStd(lo = -2, hi = 2): number {
  const z = (erf(hi / Math.SQRT2) - erf(lo / Math.SQRT2)) / 2;
  const c = 1 / Math.sqrt(2 * Math.PI);
  const pdfLo = c * Math.exp(-0.5 * lo * lo);
  const pdfHi = c * Math.exp(-0.5 * hi * hi);
  return Math.sqrt(1 - (hi * pdfHi - lo * pdfLo) / z - ((pdfHi - pdfLo) / z) ** 2);
}

const TRUNC_STD = truncatedStd();

/** `size` values with standard deviation `std`, clipped at +-2 of the untruncated scale. */
export function truncNormal(rng: Rng, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  if (std === 0) return out;
  const scale = std / TRUNC_STD;
  for (let i = 0; i < size; i++) out[i] = rng.truncatedNormal(-2, 2) * scale;
  return out;
}
