import assert from "node:assert/strict";
import { Rng } from "../random/mod.ts";
import { bootstrapRatios, quantile } from "./bootstrap.ts";

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
