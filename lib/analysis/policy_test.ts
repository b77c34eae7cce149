/**
 * The section-3 arithmetic on hand-computed cases (two-token vocabulary: every quantity has a closed form)
 * and the tensor path against the float64 definition on random logits.
 *
 * With pi_hat = (1/2, 1/2) and pi_plus = (3/4, 1/4): A = (ln 3/2, ln 1/2), A(0) - A(1) = ln 3, and for two
 * actions A(y*) - E_{pi_w}[A] = (1 - pi_w(y*)) (A(y*) - A(other)). pi_w(0) = 3^w / (3^w + 1):
 * 1/2, sqrt 3 / (1 + sqrt 3), 3/4 and 9/10 at w = 0, 1/2, 1, 2.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../backend/mod.ts";
import { Rng } from "../random/mod.ts";
import { improvementAt, MARGIN_EPS, policyStats, statLayout } from "./policy.ts";

await initBackend("cpu");

const LN3 = Math.log(3);
const WEIGHTS = [0, 0.5, 1, 2];
const P0 = [0.5, Math.sqrt(3) / (1 + Math.sqrt(3)), 0.75, 0.9]; // pi_w(0) per weight
const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);

Deno.test("improvementAt: two tokens with known logits give the closed-form margins and derivative signs", () => {
  WEIGHTS.forEach((w, i) => {
    const good = improvementAt([0, 0], [LN3, 0], 0, w);
    close(good.advantage[0], Math.log(1.5), 1e-12, "A(0)");
    close(good.advantage[1], Math.log(0.5), 1e-12, "A(1)");
    close(good.piW[0], P0[i], 1e-12, `pi_w(0) at w=${w}`);
    close(good.margin, (1 - P0[i]) * LN3, 1e-12, `margin for y*=0 at w=${w}`);
    assert.ok(good.dLdw < 0, "the step raised y*'s relative probability: more weight lowers the loss");
    const bad = improvementAt([0, 0], [LN3, 0], 1, w);
    close(bad.margin, -P0[i] * LN3, 1e-12, `margin for y*=1 at w=${w}`);
    assert.ok(bad.dLdw > 0, "the step lowered y*'s relative probability: more weight raises the loss");
  });
  const r = improvementAt([0, 0], [LN3, 0], 1, 1);
  close(r.ceBefore, Math.log(2), 1e-12, "CE before");
  close(r.ceAfter, Math.log(4), 1e-12, "CE after");
  // dL/dw is the derivative of L(w) = -log pi_w(y*): check it by a central difference.
  const loss = (w: number) => -Math.log(improvementAt([0.3, -1.2, 2], [1.1, 0.4, -0.5], 2, w).piW[2]);
  const h = 1e-5;
  close(
    improvementAt([0.3, -1.2, 2], [1.1, 0.4, -0.5], 2, 0.7).dLdw,
    (loss(0.7 + h) - loss(0.7 - h)) / (2 * h),
    1e-7,
    "dL/dw",
  );
});

Deno.test("policyStats: the hand case summed per sample and ground-truth token; -100 positions add nothing", async () => {
  const k = statLayout(WEIGHTS.length);
  // Sample 0: labels (0, 1, -100); sample 1: labels (1, 1, 0) with a step that changes nothing.
  const before = tf.tensor3d([[[0, 0], [0, 0], [50, -50]], [[2, 1], [2, 1], [2, 1]]]);
  const after = tf.tensor3d([[[LN3, 0], [LN3, 0], [-50, 50]], [[2, 1], [2, 1], [2, 1]]]);
  const labels = tf.tensor2d([[0, 1, -100], [1, 1, 0]], [2, 3], "int32");
  const out = policyStats(before, after, labels, WEIGHTS);
  assert.deepEqual(out.shape, [2, 2, k.width]);
  const d = await out.data();
  tf.dispose([before, after, labels, out]);
  const at = (b: number, v: number, c: number) => d[(b * 2 + v) * k.width + c];
  for (const v of [0, 1]) {
    assert.equal(at(0, v, k.count), 1);
    close(at(0, v, k.ceBefore), Math.log(2), 1e-6, "CE before");
    close(at(0, v, k.ceAfter), v === 0 ? -Math.log(0.75) : -Math.log(0.25), 1e-6, "CE after");
    // argmax of (0, 0) is the first index, as in inference.
    assert.equal(at(0, v, k.correctBefore), v === 0 ? 1 : 0);
    assert.equal(at(0, v, k.correctAfter), v === 0 ? 1 : 0);
    WEIGHTS.forEach((w, i) => {
      const want = v === 0 ? (1 - P0[i]) * LN3 : -P0[i] * LN3;
      close(at(0, v, k.margin + i), want, 1e-6, `margin, y*=${v}, w=${w}`);
      assert.equal(at(0, v, k.positive + i), v === 0 ? 1 : 0);
    });
  }
  // Sample 1: two tokens of class 1, one of class 0; an update that changes nothing has margin 0.
  assert.equal(at(1, 1, k.count), 2);
  assert.equal(at(1, 0, k.count), 1);
  assert.equal(at(1, 0, k.correctAfter), 1);
  assert.equal(at(1, 1, k.correctAfter), 0);
  for (let i = 0; i < WEIGHTS.length; i++) {
    assert.ok(Math.abs(at(1, 1, k.margin + i)) < MARGIN_EPS);
    assert.equal(at(1, 1, k.positive + i), 0, "a zero margin is not positive");
  }
});

Deno.test("policyStats matches the float64 definition on random logits (V = 5)", async () => {
  const rng = Rng.fromSeed(11);
  const [B, L, V] = [3, 7, 5];
  const u = Float32Array.from({ length: B * L * V }, () => 3 * rng.normal());
  const c = Float32Array.from({ length: B * L * V }, () => 3 * rng.normal());
  const y = Int32Array.from({ length: B * L }, (_, i) => i % 6 === 5 ? -100 : rng.int(V));
  const ws = [-0.5, 0, 1, 1.5, 3];
  const k = statLayout(ws.length);
  const [tu, tc, ty] = [tf.tensor3d(u, [B, L, V]), tf.tensor3d(c, [B, L, V]), tf.tensor2d(y, [B, L], "int32")];
  const out = policyStats(tu, tc, ty, ws);
  const d = await out.data();
  tf.dispose([tu, tc, ty, out]);
  const want = new Float64Array(B * V * k.width);
  for (let b = 0; b < B; b++) {
    for (let l = 0; l < L; l++) {
      const label = y[b * L + l];
      if (label < 0) continue;
      const at = (b * L + l) * V;
      const lu = u.subarray(at, at + V);
      const lc = c.subarray(at, at + V);
      const base = (b * V + label) * k.width;
      const argmax = (x: Float32Array) => x.indexOf(Math.max(...x));
      const r0 = improvementAt(lu, lc, label, 0);
      want[base + k.count] += 1;
      want[base + k.ceBefore] += r0.ceBefore;
      want[base + k.ceAfter] += r0.ceAfter;
      want[base + k.correctBefore] += argmax(lu) === label ? 1 : 0;
      want[base + k.correctAfter] += argmax(lc) === label ? 1 : 0;
      ws.forEach((w, i) => {
        const m = improvementAt(lu, lc, label, w).margin;
        want[base + k.margin + i] += m;
        want[base + k.positive + i] += m > MARGIN_EPS ? 1 : 0;
      });
    }
  }
  let maxDiff = 0;
  want.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - d[i]) / Math.max(1, Math.abs(x)))));
  assert.ok(maxDiff < 2e-5, `max relative difference ${maxDiff}`);
});

Deno.test("policyStats: margins where pi_w is nearly certain of y* keep their relative precision in float32", async () => {
  // pi_plus puts 1 - e^-g on y* = 0: the margin is a sum of tiny terms, down to 1e-12. Computed as
  // A(y*) - E[A] in float32 these cancel to 0 or lose a quarter of their value; the cancellation-free form keeps
  // every one within 1e-3 of the float64 value.
  const V = 6;
  const cases: number[][][] = [];
  for (let g = 8; g <= 16; g += 2) {
    cases.push([[0.3, 0, 0.1, -0.2, 0.4, 0], [g, 0, 0.5, -1, 0.2, 0.1]]);
    cases.push([[g - 3, 0, 0.5, -1, 0.2, 0.1], [g, 0, 0.5, -1, 0.2, 0.1]]);
  }
  const n = cases.length;
  const u = Float32Array.from(cases.flatMap((x) => x[0]));
  const c = Float32Array.from(cases.flatMap((x) => x[1]));
  const ws = [1, 2];
  const k = statLayout(ws.length);
  const [tu, tc, ty] = [tf.tensor3d(u, [n, 1, V]), tf.tensor3d(c, [n, 1, V]), tf.zeros([n, 1], "int32")];
  const out = policyStats(tu, tc, ty, ws);
  const d = await out.data();
  tf.dispose([tu, tc, ty, out]);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    ws.forEach((w, j) => {
      const want = improvementAt(u.subarray(i * V, (i + 1) * V), c.subarray(i * V, (i + 1) * V), 0, w).margin;
      assert.ok(want > 0, `case ${i}: the float64 margin is positive`);
      worst = Math.max(worst, Math.abs(d[i * V * k.width + k.margin + j] - want) / want);
    });
  }
  assert.ok(worst < 1e-3, `worst relative error of the float32 margin: ${worst}`);
});

Deno.test("policyStats rejects mismatched shapes and non-finite weights", () => {
  const a = tf.zeros([1, 2, 3]);
  const b = tf.zeros([1, 2, 2]);
  const y = tf.zeros([1, 2], "int32");
  assert.throws(() => policyStats(a, b, y, [1]), /same \[B, L, V\]/);
  const y3 = tf.zeros([1, 3], "int32");
  assert.throws(() => policyStats(a, a, y3, [1]), /labels are \[1,3\]/);
  assert.throws(() => policyStats(a, a, y, [NaN]), /not finite/);
  tf.dispose([a, b, y, y3]);
});
