import assert from "node:assert/strict";
import { initBackend, type Tensor, tf, type Variable } from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";
import { assertClose, loadOptimFixture } from "./_fixture_test_util.ts";
import { createOptimizer, OPTIMIZER_KINDS, type OptimizerKind, SparseSignSGD } from "./optimizers.ts";

await initBackend("cpu");
const fx = await loadOptimFixture();
const TOL = { atol: 1e-6, rtol: 1e-5 };

function makeVars(prefix: string): Variable[] {
  return Object.entries(fx.params0).map(([name, t]) =>
    tf.variable(tf.tensor(t.data, t.shape, "float32"), true, `${prefix}${name}`)
  );
}

function gradsAt(step: number, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(fx.grads[step])) out[prefix + name] = tf.tensor(t.data, t.shape, "float32");
  return out;
}

for (const kind of OPTIMIZER_KINDS) {
  Deno.test(`${kind} matches the PyTorch reference over ${fx.grads.length} steps`, async () => {
    const prefix = `parity.${kind}.`;
    const vars = makeVars(prefix);
    const opt = createOptimizer(kind, vars, {
      beta1: fx.hyper.beta1,
      beta2: fx.hyper.beta2,
      weightDecay: fx.hyper.weight_decay,
      eps: fx.hyper.eps,
    });
    let worst = { abs: 0, rel: 0 };
    for (let t = 0; t < fx.grads.length; t++) {
      tf.tidy(() => opt.apply(gradsAt(t, prefix), fx.schedule.lrs[t]));
      const want = fx.results[kind][t];
      const state = await opt.getState();
      assert.equal(state.step.data[0], t + 1);
      for (const v of vars) {
        const name = v.name.slice(prefix.length);
        const d = assertClose(`${kind} step ${t + 1} ${name}`, await v.data(), want.params[name].data, TOL);
        worst = { abs: Math.max(worst.abs, d.abs), rel: Math.max(worst.rel, d.rel) };
        assert.equal(state[`step/${v.name}`].data[0], want.steps[name], `${name} step count`);
        assertClose(`${kind} exp_avg ${name}`, state[`exp_avg/${v.name}`].data, want.exp_avg[name].data, TOL);
        assertClose(`${kind} exp_avg_sq ${name}`, state[`exp_avg_sq/${v.name}`].data, want.exp_avg_sq[name].data, TOL);
      }
    }
    console.log(`${kind}: weights maxdiff ${worst.abs.toExponential(2)} (relative ${worst.rel.toExponential(2)})`);
    opt.dispose();
    vars.forEach((v) => v.dispose());
  });
}

Deno.test("SparseSignSGD matches the PyTorch reference bit for bit", () => {
  const s = fx.sign_sgd;
  const table = new Float32Array(s.table0.data);
  const sgd = new SparseSignSGD(table, s.dim, { weightDecay: s.weight_decay });
  for (const [t, step] of s.steps.entries()) {
    const before = table.slice();
    sgd.apply(new Int32Array(step.ids), new Float32Array(step.grad.data), step.lr);
    const d = assertClose(`sign-SGD step ${t + 1}`, table, step.table.data, { atol: 0, rtol: 0 });
    console.log(`sign-SGD step ${t + 1}: maxdiff ${d.abs}`);
    for (let r = 0; r < s.rows; r++) {
      if (step.ids.includes(r)) continue;
      assert.deepEqual(table.subarray(r * s.dim, (r + 1) * s.dim), before.subarray(r * s.dim, (r + 1) * s.dim));
    }
  }
});

Deno.test("SparseSignSGD sums duplicate ids before taking the sign", () => {
  const table = new Float32Array([1, 1, 1, 1]);
  const sgd = new SparseSignSGD(table, 2, { weightDecay: 0 });
  // Row 1 appears twice: +3 and -1 sum to +2 (sign +1), not two separate sign steps.
  sgd.apply(new Int32Array([1, 1]), new Float32Array([3, -1, -1, -1]), 0.5);
  assert.deepEqual([...table], [1, 1, 0.5, 1.5]);
  assert.throws(() => sgd.apply(new Int32Array([2]), new Float32Array([0, 0]), 0.1), /outside the table's 2 rows/);
  assert.throws(() => sgd.apply(new Int32Array([0]), new Float32Array([0]), 0.1), /expected 1x2/);
});

Deno.test("optimizer state survives getState/setState into a fresh optimizer exactly", async () => {
  const kind: OptimizerKind = "adam-atan2";
  const a = makeVars("state.a.");
  const b = makeVars("state.b.");
  const opts = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };
  const optA = createOptimizer(kind, a, opts);
  for (let t = 0; t < 2; t++) tf.tidy(() => optA.apply(gradsAt(t, "state.a."), fx.schedule.lrs[t]));
  // b gets a's weights and a's state under b's names, then both take the same two further steps.
  a.forEach((v, i) => b[i].assign(v));
  const rename = (k: string) => k.replace("state.a.", "state.b.");
  const saved = await optA.getState();
  const optB = createOptimizer(kind, b, opts);
  optB.setState(Object.fromEntries(Object.entries(saved).map(([k, v]) => [rename(k), v])));
  assert.equal(optB.step, 2);
  for (let t = 2; t < 4; t++) {
    tf.tidy(() => optA.apply(gradsAt(t, "state.a."), fx.schedule.lrs[t]));
    tf.tidy(() => optB.apply(gradsAt(t, "state.b."), fx.schedule.lrs[t]));
  }
  for (let i = 0; i < a.length; i++) assert.deepEqual(await b[i].data(), await a[i].data());

  assert.throws(() => optB.setState({ ...saved }), CheckpointError);
  assert.throws(
    () => optB.setState({ step: saved.step, "exp_avg/nope": saved.step }),
    /entry "exp_avg\/nope" matches no variable/,
  );
  const wrongShape = { ...Object.fromEntries(Object.entries(saved).map(([k, v]) => [rename(k), v])) };
  wrongShape["exp_avg/state.b.b.vec"] = { shape: [4], data: new Float32Array(4) };
  assert.throws(() => optB.setState(wrongShape), /has shape \[4\], expected \[5\]/);
  for (const o of [optA, optB]) o.dispose();
  [...a, ...b].forEach((v) => v.dispose());
});

Deno.test("optimizers leak no tensors and reject bad gradients", () => {
  const vars = makeVars("leak.");
  for (const kind of OPTIMIZER_KINDS) {
    const opt = createOptimizer(kind, vars, { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
    tf.tidy(() => opt.apply(gradsAt(0, "leak."), 0.01)); // burn-in creates the moments
    const before = tf.memory().numTensors;
    for (let t = 1; t < 4; t++) tf.tidy(() => opt.apply(gradsAt(t, "leak."), 0.01));
    assert.equal(tf.memory().numTensors, before, `${kind} leaks`);
    tf.tidy(() => {
      assert.throws(() => opt.apply({ "leak.nope": tf.ones([1]) }, 0.01), /gradient "leak.nope" matches no variable/);
      assert.throws(() => opt.apply({ "leak.b.vec": tf.ones([4]) }, 0.01), /has shape \[4\], variable has \[5\]/);
      assert.throws(() => opt.apply({}, Number.NaN), /lr must be/);
    });
    opt.dispose();
    assert.equal(tf.memory().numTensors, before - 2 * vars.length, `${kind} dispose frees the moments`);
  }
  assert.throws(() => createOptimizer("adamw", vars, { beta1: 1, beta2: 0.95, weightDecay: 0 }), /beta1/);
  vars.forEach((v) => v.dispose());
});
