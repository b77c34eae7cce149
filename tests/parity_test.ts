/**
 * Parity of our TRM and DIS with the PyTorch reference (tools/reference/model_ref.py, fixture
 * fixtures/parity/parity_v1.*): the same weights, batches, exploration draws and reveal orders go through
 * our trainers with the real optimisers of lib/train; the first step's logits, halting logits and every
 * gradient, the per-step losses and halting decisions, and the weights and puzzle table after 3 optimiser
 * steps must match within float32 tolerance. Each case prints its max differences.
 *
 * The reference computes stablemax in float64, as TRM does; we compute it in float32. The fixture also
 * holds the reference's float32 loss and the float64-vs-float32 difference of dLoss/dlogits, printed here.
 *
 * Backends: cpu, wasm, and webgpu where an adapter exists (a software one is fine). Each case first checks
 * that its optimiser leaves weights whose gradient is exactly 0 alone (tfjs webgpu's own atan2(0, 0) is
 * 3pi/4, not 0; lib/backend's atan2 guards it).
 */
import assert from "node:assert/strict";
import { type Tensor, tf } from "../lib/backend/mod.ts";
import { initBackendOrSkip } from "../lib/backend/_testing.ts";
import { Rng } from "../lib/random/mod.ts";
import { type BackboneConfig, type MethodConfig, type NamedArrays, RecursiveModel } from "../lib/model/mod.ts";
import { DisTrainer, type GradientEvent, revealFrames, type StepBatch, TrmTrainer } from "../lib/method/mod.ts";
import { createOptimizer, decodeSafetensors, type OptimizerKind, SparseSignSGD } from "../lib/train/mod.ts";

interface Case {
  name: string;
  backbone: BackboneConfig;
  method: MethodConfig;
  train: {
    optimizer: OptimizerKind;
    lr: number;
    puzzleLr: number;
    beta1: number;
    beta2: number;
    weightDecay: number;
    puzzleWeightDecay: number;
  };
  batchSize: number;
  globalBatch: number;
  exploreU: number[][] | null;
  exploreK: number[][] | null;
  rankCount: number;
  losses: number[];
  lossF32: number;
  dlogitsF64VsF32MaxDiff: number;
  dlogitsMaxAbs: number;
  fresh: number[][];
  halted: number[][];
  stepIdx: (number[] | null)[];
}

/**
 * Weights after 3 steps: every Adam-family first step moves a weight by about lr * sign(g) whatever |g|
 * is, so a gradient component whose true value is at float32 noise level (|g| ~ 1e-8 here) may move
 * differently in the two implementations (AdamW's eps = 1e-8 makes such components sensitive, a sign flip
 * under atan2 moves them 2 * lr apart). So all but 0.1% of the weights must agree to WEIGHT_TOL, and none
 * may be further apart than what one such step-1 disagreement explains (3 * lr).
 */
const WEIGHT_TOL = 1e-5;
const MAX_OFF_FRACTION = 1e-3;

const dir = new URL("../fixtures/parity/", import.meta.url);
const manifest = JSON.parse(await Deno.readTextFile(new URL("parity_v1.json", dir))) as {
  format: string;
  version: number;
  cases: Case[];
};
const { tensors } = decodeSafetensors(await Deno.readFile(new URL("parity_v1.safetensors", dir)));

function t(name: string): { shape: number[]; data: Float32Array | Int32Array } {
  const x = tensors[name];
  if (!x) throw new Error(`parity fixture has no tensor "${name}"`);
  return x as { shape: number[]; data: Float32Array | Int32Array };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function weightsOf(c: Case, tag: "w0" | "w3", table: "table0" | "table3"): NamedArrays {
  const out: NamedArrays = {};
  const pre = `${c.name}/${tag}/`;
  for (const [k, v] of Object.entries(tensors)) {
    if (k.startsWith(pre)) out[k.slice(pre.length)] = { shape: v.shape, data: v.data as Float32Array };
  }
  const tab = t(`${c.name}/${table}`);
  out["puzzle_emb.weight"] = { shape: tab.shape, data: tab.data as Float32Array };
  return out;
}

function batchOf(c: Case, step: number): StepBatch {
  return {
    inputs: t(`${c.name}/batch${step}/inputs`).data as Int32Array,
    labels: t(`${c.name}/batch${step}/labels`).data as Int32Array,
    puzzleIds: t(`${c.name}/batch${step}/puzzle_ids`).data as Int32Array,
  };
}

interface Outcome {
  logitsDiff: number;
  qDiff: number;
  worstGradRel: number;
  worstGradName: string;
  lossDiffs: number[];
  lossVsF32: number;
  weightsDiff: number;
  weightsOff: number;
  weightsTotal: number;
  tableDiff: number;
}

async function runCase(c: Case, backend: string): Promise<Outcome> {
  const method = c.method;
  const model = new RecursiveModel(c.backbone, { rng: Rng.fromSeed(1), scope: `parity.${backend}.${c.name}.` });
  model.setWeights(weightsOf(c, "w0", "table0"));
  const optimizer = createOptimizer(c.train.optimizer, model.trainableVariables(), {
    beta1: c.train.beta1,
    beta2: c.train.beta2,
    weightDecay: c.train.weightDecay,
  });
  const puzzleOptimizer = new SparseSignSGD(model.puzzleTable, c.backbone.hidden, {
    weightDecay: c.train.puzzleWeightDecay,
  });
  let step = 0;
  const source = { next: () => batchOf(c, step) };
  let captured: { grads: Record<string, Tensor>; logits: Tensor; q?: Tensor } | undefined;
  const onGradients = (e: GradientEvent) => {
    if (captured) return;
    captured = {
      grads: Object.fromEntries(Object.entries(e.grads).map(([k, g]) => [k, g.clone()])),
      logits: e.logits.clone(),
      q: e.qHaltLogits?.clone(),
    };
  };
  const base = { batchSize: c.batchSize, globalBatch: c.globalBatch, optimizer, puzzleOptimizer, onGradients };
  let rank = 0;
  const trainer = method.method === "trm"
    ? new TrmTrainer(model, method, {
      ...base,
      exploration: {
        draw: () => ({ u: Float64Array.from(c.exploreU![step]), k: Int32Array.from(c.exploreK![step]) }),
      },
    })
    : new DisTrainer(model, method, {
      ...base,
      rng: Rng.fromSeed(0),
      targets: (x0, label) => revealFrames(x0, label, t(`${c.name}/rank${rank++}`).data, method.nSup),
    });
  const lossDiffs: number[] = [];
  let lossVsF32 = 0;
  for (step = 0; step < 3; step++) {
    const r = await trainer.step(source, { lr: c.train.lr, puzzleLr: c.train.puzzleLr });
    const m = await r.read();
    lossDiffs.push(Math.abs(m.loss - c.losses[step]));
    if (step === 0) lossVsF32 = Math.abs(m.loss - c.lossF32);
    assert.deepEqual(
      Array.from(trainer.slots.halted),
      c.halted[step],
      `${c.name}: halted flags after step ${step + 1}`,
    );
    if (trainer instanceof DisTrainer) {
      // This step's targets, from our path of each slot at its step index.
      const l = c.backbone.seqLen;
      const want = t(`${c.name}/step${step}/targets`).data;
      const idx = c.stepIdx[step]!;
      for (let i = 0; i < c.batchSize; i++) {
        const off = (i * method.nSup + idx[i] - 1) * l;
        assert.deepEqual(
          Array.from(trainer.frames.subarray(off, off + l)),
          Array.from(want.subarray(i * l, (i + 1) * l)),
          `${c.name}: targets of slot ${i} at step ${step + 1}`,
        );
      }
    }
  }
  assert.equal(rank, c.rankCount, `${c.name}: reveal paths drawn`);
  const cap = captured!;
  const logitsDiff = maxDiff(await cap.logits.data(), t(`${c.name}/step0/logits`).data);
  const qDiff = cap.q ? maxDiff(await cap.q.data(), t(`${c.name}/step0/q`).data) : 0;
  let worstGradRel = 0;
  let worstGradName = "";
  const refGrads = Object.keys(tensors).filter((k) => k.startsWith(`${c.name}/grad/`));
  assert.equal(Object.keys(cap.grads).length, refGrads.length, `${c.name}: number of gradients`);
  for (const key of refGrads) {
    const name = key.slice(`${c.name}/grad/`.length);
    const ours = cap.grads[name === "puzzle_rows" ? "puzzle_emb.batch_rows" : name];
    assert.ok(ours, `${c.name}: no gradient for ${name}`);
    const ref = t(key).data;
    const rel = maxDiff(await ours.data(), ref) / Math.max(maxAbs(ref), 1e-6);
    if (rel > worstGradRel) [worstGradRel, worstGradName] = [rel, name];
  }
  const after = await model.getWeights();
  const want = weightsOf(c, "w3", "table3");
  let weightsDiff = 0;
  let weightsOff = 0;
  let weightsTotal = 0;
  for (const [k, v] of Object.entries(want)) {
    if (k === "puzzle_emb.weight") continue;
    weightsDiff = Math.max(weightsDiff, maxDiff(after[k].data, v.data));
    for (let i = 0; i < v.data.length; i++) if (Math.abs(after[k].data[i] - v.data[i]) > WEIGHT_TOL) weightsOff++;
    weightsTotal += v.data.length;
  }
  const tableDiff = maxDiff(after["puzzle_emb.weight"].data, want["puzzle_emb.weight"].data);
  for (const x of [...Object.values(cap.grads), cap.logits, cap.q]) x?.dispose();
  trainer.dispose();
  optimizer.dispose();
  model.dispose();
  return {
    logitsDiff,
    qDiff,
    worstGradRel,
    worstGradName,
    lossDiffs,
    lossVsF32,
    weightsDiff,
    weightsOff,
    weightsTotal,
    tableDiff,
  };
}

Deno.test("parity fixture is the version this test reads", () => {
  assert.equal(manifest.format, "trm-dis-parity");
  assert.equal(manifest.version, 1);
  assert.equal(manifest.cases.length, 4);
});

/**
 * Whether an optimiser leaves a weight with a zero gradient alone (apart from decay), as torch does
 * (atan2(0, 0) = 0). tfjs's webgpu atan2(0, 0) returns 3pi/4, which moves such weights by ~2.4 lr.
 */
async function zeroGradSafe(kind: OptimizerKind): Promise<boolean> {
  const zero = tf.zeros([1]);
  const v = tf.variable(zero, true, `parity.probe.${kind}`);
  zero.dispose();
  const opt = createOptimizer(kind, [v], { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
  tf.tidy(() => opt.apply({ [v.name]: tf.zeros([1]) }, 0.1));
  const moved = (await v.data())[0];
  opt.dispose();
  v.dispose();
  return moved === 0;
}

for (const backend of ["cpu", "wasm", "webgpu"] as const) {
  Deno.test(`TRM and DIS match the PyTorch reference on ${backend}`, async (t) => {
    if (!(await initBackendOrSkip(t, backend))) return;
    const before = tf.memory().numTensors;
    for (const c of manifest.cases) {
      assert.ok(
        await zeroGradSafe(c.train.optimizer),
        `${c.name}: ${c.train.optimizer} moves weights whose gradient is 0 on ${backend} (atan2(0, 0) != 0)`,
      );
      const o = await runCase(c, backend);
      console.log(
        `parity ${backend} ${c.name}: logits ${o.logitsDiff.toExponential(2)}, q ${o.qDiff.toExponential(2)}, ` +
          `grads worst rel ${o.worstGradRel.toExponential(2)} (${o.worstGradName}), ` +
          `loss |ours - ref f64| ${o.lossDiffs.map((d) => d.toExponential(2)).join("/")}, ` +
          `|ours - ref f32| ${o.lossVsF32.toExponential(2)}, weights@3 ${o.weightsDiff.toExponential(2)} ` +
          `(${o.weightsOff} of ${o.weightsTotal} beyond ${WEIGHT_TOL}), ` +
          `puzzle table@3 ${o.tableDiff.toExponential(2)}; ref stablemax f64 vs f32: dL/dlogits diff ` +
          `${c.dlogitsF64VsF32MaxDiff.toExponential(2)} of max ${c.dlogitsMaxAbs.toExponential(2)}`,
      );
      assert.ok(o.logitsDiff < 2e-5, `${c.name}: logits differ by ${o.logitsDiff}`);
      assert.ok(o.qDiff < 2e-5, `${c.name}: halting logits differ by ${o.qDiff}`);
      assert.ok(
        o.worstGradRel < 1e-4,
        `${c.name}: gradient ${o.worstGradName} differs by ${o.worstGradRel} (relative)`,
      );
      assert.ok(o.lossDiffs[0] < 1e-5, `${c.name}: loss differs by ${o.lossDiffs[0]}`);
      for (const d of o.lossDiffs) assert.ok(d < 1e-5, `${c.name}: loss differs by ${d}`);
      assert.ok(
        o.weightsOff <= MAX_OFF_FRACTION * o.weightsTotal,
        `${c.name}: ${o.weightsOff} of ${o.weightsTotal} weights differ by more than ${WEIGHT_TOL} after 3 steps`,
      );
      assert.ok(o.weightsDiff < 3 * c.train.lr, `${c.name}: weights after 3 steps differ by ${o.weightsDiff}`);
      assert.ok(o.tableDiff < 1e-6, `${c.name}: puzzle table after 3 steps differs by ${o.tableDiff}`);
    }
    assert.equal(tf.memory().numTensors, before, "tensors leaked by the parity runs");
  });
}
