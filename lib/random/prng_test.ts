import assert from "node:assert/strict";
import { deriveSeed, Rng, splitMix64, stream } from "./mod.ts";

// Vectors from the reference C implementations (Vigna's splitmix64.c and xoshiro128starstar.c),
// compiled and run on this machine; they also match the test vectors of the rand_xoshiro crate.
Deno.test("splitMix64 matches the reference vector for seed 1234567", () => {
  let state = 1234567n;
  const out: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    const r = splitMix64(state);
    state = r.state;
    out.push(r.value);
  }
  assert.deepEqual(out, [
    6457827717110365317n,
    3203168211198807973n,
    9817491932198370423n,
    4593380528125082431n,
    16408922859458223821n,
  ]);
});

Deno.test("xoshiro128** matches the reference vector for state {1,2,3,4}", () => {
  const rng = Rng.fromState({ s: [1, 2, 3, 4], spare: null });
  const out = Array.from({ length: 10 }, () => rng.u32());
  assert.deepEqual(out, [
    11520,
    0,
    5927040,
    70819200,
    2031721883,
    1637235492,
    1287239034,
    3734860849,
    3729100597,
    4258142804,
  ]);
});

Deno.test("Rng.fromSeed(42) matches the reference seeding (SplitMix64 words, low first)", () => {
  const rng = Rng.fromSeed(42);
  assert.deepEqual(Array.from({ length: 6 }, () => rng.u32()), [
    1776835114,
    4165204688,
    17111135,
    2317295270,
    2792088233,
    2554630222,
  ]);
});

Deno.test("state round-trips and clones continue identically", () => {
  const a = Rng.fromSeed(7);
  a.normal(); // leaves a spare normal cached
  const b = Rng.fromState(a.state());
  const c = a.clone();
  for (let i = 0; i < 100; i++) {
    const x = a.normal();
    assert.deepEqual(b.normal(), x);
    assert.deepEqual(c.normal(), x);
  }
});

Deno.test("int is unbiased in range and covers every value", () => {
  const rng = Rng.fromSeed(1);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[rng.int(7)]++;
  for (const c of counts) {
    if (c < 9500 || c > 10500) throw new Error(`int(7) counts look biased: ${counts}`);
  }
  assert.throws(() => rng.int(0), RangeError);
});

Deno.test("float is in [0,1) with mean about 1/2; normal has mean 0 and variance 1", () => {
  const rng = Rng.fromSeed(3);
  let s = 0, s2 = 0, f = 0;
  const n = 50000;
  for (let i = 0; i < n; i++) {
    const u = rng.float();
    if (u < 0 || u >= 1) throw new Error(`float out of range: ${u}`);
    f += u;
    const z = rng.normal();
    s += z;
    s2 += z * z;
  }
  if (Math.abs(f / n - 0.5) > 0.01) throw new Error(`float mean ${f / n}`);
  if (Math.abs(s / n) > 0.02 || Math.abs(s2 / n - 1) > 0.03) throw new Error(`normal moments ${s / n} ${s2 / n}`);
});

Deno.test("shuffle, permutation and sample are permutations", () => {
  const rng = Rng.fromSeed(5);
  assert.deepEqual([...rng.permutation(50)].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  const s = rng.sample(20, 5);
  assert.deepEqual(new Set(s).size, 5);
  assert.throws(() => rng.sample(3, 4), RangeError);
});

Deno.test("derived streams are stable and distinct", () => {
  assert.deepEqual(deriveSeed(0, "init"), deriveSeed(0, "init"));
  assert.notDeepEqual(deriveSeed(0, "init"), deriveSeed(0, "data"));
  assert.notDeepEqual(deriveSeed(0, "init"), deriveSeed(1, "init"));
  assert.deepEqual(stream(9, "data").u32(), stream(9, "data").u32());
});
