import assert from "node:assert/strict";
import { Rng } from "../random/mod.ts";
import { bootstrapRatios, meanInterval, pairedMeanIntervals, quantile } from "./bootstrap.ts";

Deno.test("quantile interpolates between order statistics (type 7)", () => {
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10, 20, 30, 40, 50], 0.025), 11);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("bootstrapRatios: a constant statistic has a point interval; ratios weight by the denominator", () => {
  const [c] = bootstrapRatios([{ num: [2, 4, 6], den: [1, 2, 3] }], {
    resamples: 50,
    level: 0.95,
    rng: Rng.fromSeed(0),
  });
  assert.ok(Math.abs(c[0] - 2) < 1e-12 && Math.abs(c[1] - 2) < 1e-12, `${c}`);
});

Deno.test("bootstrapRatios: the interval of a mean covers it, narrows with more data, and is seeded", () => {
  const rng = Rng.fromSeed(3);
  const small = Array.from({ length: 40 }, () => rng.normal());
  const large = Array.from({ length: 1000 }, () => rng.normal());
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const run = (x: number[], seed: number) =>
    bootstrapRatios([{ num: x, den: x.map(() => 1) }], { resamples: 400, level: 0.9, rng: Rng.fromSeed(seed) })[0];
  const [lo, hi] = run(small, 1);
  assert.ok(lo < mean(small) && mean(small) < hi);
  // A 90% interval of a mean of n unit normals is about 2 * 1.645 / sqrt(n) wide.
  const width = hi - lo;
  assert.ok(width > 0.35 && width < 0.7, `width ${width} for n = 40`);
  const [lo2, hi2] = run(large, 1);
  assert.ok(hi2 - lo2 < width / 3, `width ${hi2 - lo2} for n = 1000`);
  assert.deepEqual(run(small, 1), [lo, hi]);
  assert.notDeepEqual(run(small, 2), [lo, hi]);
});

Deno.test("bootstrapRatios: paired statistics share resamples; bad options throw", () => {
  const x = [0, 1, 0, 1, 1, 0, 1, 1];
  const ones = x.map(() => 1);
  const [a, b] = bootstrapRatios([{ num: x, den: ones }, { num: x, den: ones }], {
    resamples: 100,
    level: 0.8,
    rng: Rng.fromSeed(5),
  });
  assert.deepEqual(a, b);
  const [none] = bootstrapRatios([{ num: [1, 2], den: [0, 0] }], { resamples: 10, level: 0.9, rng: Rng.fromSeed(0) });
  assert.ok(Number.isNaN(none[0]) && Number.isNaN(none[1]));
  assert.throws(() => bootstrapRatios([{ num: [1], den: [1] }], { resamples: 0, level: 0.9, rng: Rng.fromSeed(0) }));
  assert.throws(() => bootstrapRatios([{ num: [1], den: [1] }], { resamples: 5, level: 1, rng: Rng.fromSeed(0) }));
  assert.throws(
    () => bootstrapRatios([{ num: [1, 2], den: [1] }], { resamples: 5, level: 0.9, rng: Rng.fromSeed(0) }),
    /statistic 0 has 2 numerators and 1 denominators/,
  );
});

Deno.test("meanInterval: a 90% interval of a Bernoulli mean covers the true mean about 90% of the time", () => {
  // 200 data sets of 60 tasks, each solved with probability 0.3: the percentile interval's coverage should be near
  // its level; the bounds allow about 3 standard errors of a coverage measured on 200 sets.
  const data = Rng.fromSeed(11);
  const p = 0.3;
  let covered = 0;
  const sets = 200;
  for (let s = 0; s < sets; s++) {
    const x = Array.from({ length: 60 }, () => (data.float() < p ? 1 : 0));
    const [lo, hi] = meanInterval(x, { resamples: 200, level: 0.9, rng: Rng.fromSeed(1000 + s) });
    if (lo <= p && p <= hi) covered++;
  }
  const coverage = covered / sets;
  assert.ok(coverage > 0.82 && coverage < 0.96, `coverage ${coverage}`);
});

Deno.test("meanInterval and pairedMeanIntervals are functions of the seed", () => {
  const a = [0, 1, 0, 0.5, 1, 0, 0, 1];
  const b = [1, 1, 0, 0.5, 1, 1, 0, 1];
  const opts = (seed: number) => ({ resamples: 300, level: 0.95, rng: Rng.fromSeed(seed) });
  assert.deepEqual(meanInterval(a, opts(4)), meanInterval(a, opts(4)));
  assert.deepEqual(pairedMeanIntervals(a, b, opts(4)), pairedMeanIntervals(a, b, opts(4)));
  assert.notDeepEqual(pairedMeanIntervals(a, b, opts(4)), pairedMeanIntervals(a, b, opts(5)));
  // The paired call's interval of mean(a) is meanInterval's on the same generator: the same resamples.
  assert.deepEqual(pairedMeanIntervals(a, b, opts(4)).a, meanInterval(a, opts(4)));
});

Deno.test("pairedMeanIntervals: the difference keeps the pairing", () => {
  const rng = Rng.fromSeed(8);
  // 80 tasks: a solves about half; b solves what a solves plus 8 more. Every paired difference is 0 or 1, so the
  // difference's interval lies in [0, 1] and excludes 0 (8 of 80 tasks gained), while the two means' own intervals
  // overlap: an unpaired comparison could not tell them apart.
  const a = Array.from({ length: 80 }, () => (rng.float() < 0.5 ? 1 : 0));
  const b = a.slice();
  let gained = 0;
  for (let i = 0; i < b.length && gained < 8; i++) if (b[i] === 0) (b[i] = 1, gained++);
  const iv = pairedMeanIntervals(a, b, { resamples: 2000, level: 0.95, rng: Rng.fromSeed(2) });
  assert.ok(iv.diff[0] > 0 && iv.diff[1] < 0.25, `diff ${iv.diff}`);
  assert.ok(iv.a[1] > iv.b[0], `a ${iv.a}, b ${iv.b}: the unpaired intervals overlap`);
  // Identical scores: the difference is exactly 0 on every resample.
  assert.deepEqual(pairedMeanIntervals(a, a, { resamples: 50, level: 0.9, rng: Rng.fromSeed(0) }).diff, [0, 0]);
  // b − a mirrors a − b.
  const fwd = pairedMeanIntervals(a, b, { resamples: 200, level: 0.9, rng: Rng.fromSeed(3) }).diff;
  const back = pairedMeanIntervals(b, a, { resamples: 200, level: 0.9, rng: Rng.fromSeed(3) }).diff;
  assert.ok(Math.abs(fwd[0] + back[1]) < 1e-12 && Math.abs(fwd[1] + back[0]) < 1e-12, `${fwd} ${back}`);
  assert.throws(
    () => pairedMeanIntervals([1, 0], [1], { resamples: 5, level: 0.9, rng: Rng.fromSeed(0) }),
    /2 items against 1/,
  );
});
