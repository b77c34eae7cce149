import assert from "node:assert/strict";
import { Rng } from "../random/mod.ts";
import {
  maskFrames,
  noiseRate,
  replaceFrames,
  revealFrames,
  revealRank,
  stepWeight,
  targetGenerator,
} from "./targets.ts";

const IGN = -100;

Deno.test("reveal: frame s shows floor(s * n_diff / N) label cells in one random order, the last is the label", () => {
  const x0 = Int32Array.from([1, 1, 2, 1, 1, 0, 0, 1]);
  const x1 = Int32Array.from([2, 1, 2, 2, 2, IGN, IGN, 1]); // 5 differing positions (two ignored)
  const rng = Rng.fromSeed(3);
  const rank = revealRank(x0, x1, rng);
  const diffRanks = [0, 3, 4, 5, 6].map((i) => rank[i]).sort();
  assert.deepEqual(diffRanks, [0, 1, 2, 3, 4]);
  assert.deepEqual([rank[1], rank[2], rank[7]], [8, 8, 8]); // equal cells are never revealed
  const n = 3;
  const frames = revealFrames(x0, x1, rank, n);
  let prevRevealed = new Set<number>();
  for (let s = 1; s <= n; s++) {
    const f = frames.subarray((s - 1) * 8, s * 8);
    const revealed = new Set<number>();
    for (let i = 0; i < 8; i++) {
      assert.ok(f[i] === x0[i] || f[i] === x1[i], `frame ${s} cell ${i}`);
      if (x0[i] !== x1[i] && f[i] === x1[i]) revealed.add(i);
    }
    assert.equal(revealed.size, Math.floor((s * 5) / n));
    for (const i of prevRevealed) assert.ok(revealed.has(i), "revealed cells stay revealed");
    prevRevealed = revealed;
  }
  assert.deepEqual(Array.from(frames.subarray((n - 1) * 8)), Array.from(x1));
});

Deno.test("reveal: the code's formula with an explicit order, and no difference means every frame is the input", () => {
  assert.deepEqual(
    Array.from(revealFrames([1, 1, 1, 1], [2, 2, 2, 2], [2, 0, 3, 1], 2)),
    [1, 2, 1, 2, 2, 2, 2, 2],
  );
  assert.deepEqual(Array.from(revealFrames([1, 2], [1, 2], revealRank([1, 2], [1, 2], Rng.fromSeed(1)), 3)), [
    1,
    2,
    1,
    2,
    1,
    2,
  ]);
});

Deno.test("mask: rate beta_s = 1 - s/N per supervised cell, mask token = data vocabulary, ignored stay ignored", () => {
  const n = 4;
  const l = 2000;
  const label = Int32Array.from({ length: l }, (_, i) => (i % 10 === 0 ? IGN : 1 + (i % 2)));
  const frames = maskFrames(label, n, 3, Rng.fromSeed(11));
  for (let s = 1; s <= n; s++) {
    let masked = 0;
    let supervised = 0;
    for (let i = 0; i < l; i++) {
      const v = frames[(s - 1) * l + i];
      if (label[i] === IGN) {
        assert.equal(v, IGN);
        continue;
      }
      supervised++;
      if (v === 3) masked++;
      else assert.equal(v, label[i]);
    }
    const rate = masked / supervised;
    assert.ok(Math.abs(rate - noiseRate(s, n)) < 0.04, `step ${s}: mask rate ${rate}`);
  }
});

Deno.test("replace: wrong tokens at rate beta_s, drawn from 1..V-1 without the label's, never PAD", () => {
  const n = 3;
  const l = 3000;
  const vocab = 12;
  const label = Int32Array.from({ length: l }, (_, i) => 1 + (i % 11));
  const frames = replaceFrames(label, n, vocab, Rng.fromSeed(5));
  const seen = new Set<number>();
  for (let s = 1; s <= n; s++) {
    let wrong = 0;
    for (let i = 0; i < l; i++) {
      const v = frames[(s - 1) * l + i];
      assert.ok(v >= 1 && v < vocab, `token ${v}`);
      if (v !== label[i]) {
        wrong++;
        seen.add(v);
      }
    }
    assert.ok(Math.abs(wrong / l - noiseRate(s, n)) < 0.04, `step ${s}: ${wrong / l}`);
  }
  assert.equal(seen.size, 11);
  assert.throws(() => replaceFrames(label, n, 2, Rng.fromSeed(1)), /no two non-PAD tokens/);
});

Deno.test("generators are deterministic per stream, and step weights average 1", () => {
  const x0 = Int32Array.from([1, 1, 1, 1, 2]);
  const y = Int32Array.from([2, 1, 2, 1, 2]);
  for (const kind of ["reveal", "mask", "replace"] as const) {
    const a = targetGenerator(kind, 4, 4, Rng.fromSeed(2))(x0, y);
    const b = targetGenerator(kind, 4, 4, Rng.fromSeed(2))(x0, y);
    assert.deepEqual(a, b);
    assert.equal(a.length, 20);
    assert.deepEqual(Array.from(a.subarray(15)), Array.from(y), `${kind}: last frame is the label`);
  }
  const n = 6;
  const w = Array.from({ length: n }, (_, i) => stepWeight("linear", i + 1, n));
  assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) / n - 1) < 1e-12);
  assert.ok(w.every((v, i) => i === 0 || v > w[i - 1]));
  assert.equal(stepWeight("uniform", 3, n), 1);
});
