/**
 * analyzeModel on tiny untrained TRM (T = 2) and DIS models over N-Queens test boards: every row agrees
 * with a float64 recomputation from the logits the recursion hooks expose; guided decoding at w = 1 is
 * ordinary inference bit for bit, and autoregressive DIS feeds its guided prediction to the next step;
 * the analysis and the folder it writes are deterministic.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, type Tensor, tf } from "../backend/mod.ts";
import { type Batch, countQueens, generateNQueens, nqueensSplit, testBatches } from "../data/mod.ts";
import { backboneFor, type MethodConfig, predict, RecursiveModel } from "../model/mod.ts";
import { cyclesNoGrad } from "../model/recursion.ts";
import { REVEAL_DIS as DIS_AR } from "../model/_testing.ts";
import { OUTPUT_MARKER } from "../io/mod.ts";
import { stableJson } from "../report/mod.ts";
import { stream } from "../random/mod.ts";
import { analyzeModel, type PolicyRow } from "./analyze.ts";
import { improvementAt, MARGIN_EPS } from "./policy.ts";
import { writeAnalysis } from "./report.ts";

await initBackend("cpu");

const TRM: MethodConfig = {
  method: "trm",
  nSup: 3,
  hCycles: 2,
  lCycles: 1,
  haltExplorationProb: 0.1,
  qLossWeight: 0.5,
  loss: "stablemax",
};
const DIS: MethodConfig = { ...DIS_AR, autoregressive: false };

const SPLIT = nqueensSplit(generateNQueens("paper", 0), "test");
const LIMIT = 12;
const BATCH = 5;

function tiny(method: MethodConfig, scope: string): RecursiveModel {
  const backbone = backboneFor(
    { hidden: 16, heads: 2, layers: 1, expansion: 2, mlpMultiple: 16, puzzleEmbLen: 1 },
    { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 },
    method,
  );
  const model = new RecursiveModel(backbone, { rng: stream(7, "init"), scope });
  // Larger head weights spread the untrained policies, so margins and accuracies are not all alike.
  const head = model.v("lm_head.weight");
  tf.tidy(() => head.assign(tf.mul(head, 4)));
  return model;
}

function batches(): Batch[] {
  const out: Batch[] = [];
  let done = 0;
  for (const b of testBatches(SPLIT, BATCH)) {
    if (done >= LIMIT) break;
    const size = Math.min(b.size, LIMIT - done);
    done += size;
    out.push({ ...b, size });
  }
  return out;
}

interface Pair {
  step: number;
  cycle: number | null;
  before: Float32Array;
  after: Float32Array;
}

/** The logits of every answer update, and of every whole step, read back from an ordinary run. */
async function capture(model: RecursiveModel, method: MethodConfig, batch: Batch): Promise<Pair[]> {
  const kept: { step: number; cycle: number; before: Tensor; after: Tensor }[] = [];
  await predict(model, method, batch, {
    hooks: {
      onYUpdate: (e) =>
        kept.push({ step: e.step, cycle: e.cycle, before: tf.keep(e.before.clone()), after: tf.keep(e.after.clone()) }),
    },
  });
  const pairs: Pair[] = [];
  for (const k of kept) {
    pairs.push({
      step: k.step,
      cycle: k.cycle,
      before: (await k.before.data()) as Float32Array,
      after: (await k.after.data()) as Float32Array,
    });
    tf.dispose([k.before, k.after]);
  }
  const T = method.hCycles;
  const whole = Array.from({ length: method.nSup }, (_, s) => {
    const first = pairs.find((p) => p.step === s + 1 && p.cycle === 0)!;
    const last = pairs.find((p) => p.step === s + 1 && p.cycle === T - 1)!;
    return { step: s + 1, cycle: null, before: first.before, after: last.after };
  });
  return [...(T > 1 ? pairs : []), ...whole];
}

/** Expected rows from float64 arithmetic per token, grouped by a key per (example, token). */
function expected(
  data: { batch: Batch; pairs: Pair[] }[],
  weights: number[],
  groupOf: (input: Int32Array, label: number) => string,
): Map<
  string,
  {
    tokens: number;
    margin: number[];
    positive: number[];
    ce: number[];
    acc: number[];
    exact: number[];
    examples: number;
  }
> {
  const out = new Map();
  const L = 64;
  const V = 3;
  for (const { batch, pairs } of data) {
    for (const p of pairs) {
      for (let b = 0; b < batch.size; b++) {
        const input = batch.inputs.subarray(b * L, (b + 1) * L);
        const seen = new Map<string, { right: [number, number]; count: number }>();
        for (let l = 0; l < L; l++) {
          const y = batch.labels[b * L + l];
          const at = (b * L + l) * V;
          const u = p.before.subarray(at, at + V);
          const c = p.after.subarray(at, at + V);
          const key = `${p.step}/${p.cycle}/${groupOf(input, y)}`;
          let e = out.get(key);
          if (!e) {
            out.set(
              key,
              e = {
                tokens: 0,
                examples: 0,
                margin: weights.map(() => 0),
                positive: weights.map(() => 0),
                ce: [0, 0],
                acc: [0, 0],
                exact: [0, 0],
              },
            );
          }
          const s = seen.get(key) ?? { right: [0, 0] as [number, number], count: 0 };
          seen.set(key, s);
          e.tokens++;
          s.count++;
          weights.forEach((w, i) => {
            const r = improvementAt(u, c, y, w);
            e.margin[i] += r.margin;
            e.positive[i] += r.margin > MARGIN_EPS ? 1 : 0;
            if (i === 0) {
              e.ce[0] += r.ceBefore;
              e.ce[1] += r.ceAfter;
            }
          });
          const argmax = (x: Float32Array) => x.indexOf(Math.max(...x));
          if (argmax(u) === y) (e.acc[0]++, s.right[0]++);
          if (argmax(c) === y) (e.acc[1]++, s.right[1]++);
        }
        for (const [key, s] of seen) {
          const e = out.get(key);
          e.examples++;
          if (s.right[0] === s.count) e.exact[0]++;
          if (s.right[1] === s.count) e.exact[1]++;
        }
      }
    }
  }
  return out;
}

function compare(
  row: PolicyRow,
  want: ReturnType<typeof expected> extends Map<string, infer E> ? E : never,
  exact: boolean,
) {
  const close = (a: number, b: number, what: string) =>
    assert.ok(
      Math.abs(a - b) <= 2e-5 * Math.max(1, Math.abs(b)),
      `${row.step}/${row.cycle}/${row.group} ${what}: ${a} vs ${b}`,
    );
  assert.equal(row.tokens, want.tokens);
  assert.equal(row.examples, want.examples);
  row.margin.forEach((m, i) => close(m, want.margin[i] / want.tokens, `margin[${i}]`));
  row.positive.forEach((m, i) => close(m, want.positive[i] / want.tokens, `positive[${i}]`));
  close(row.ceBefore, want.ce[0] / want.tokens, "ceBefore");
  close(row.ceAfter, want.ce[1] / want.tokens, "ceAfter");
  close(row.tokenAccBefore, want.acc[0] / want.tokens, "tokenAccBefore");
  close(row.tokenAccAfter, want.acc[1] / want.tokens, "tokenAccAfter");
  if (exact) {
    assert.equal(row.exactBefore, want.exact[0] / want.examples);
    assert.equal(row.exactAfter, want.exact[1] / want.examples);
  }
}

Deno.test("analyzeModel rows agree with float64 arithmetic on the hooked logits (TRM, T = 2)", async () => {
  const model = tiny(TRM, "analysis.oracle.");
  try {
    const weights = [0, 0.5, 1, 2];
    const tensors = tf.memory().numTensors;
    const r = await analyzeModel(model, TRM, SPLIT, {
      kind: "nqueens",
      limit: LIMIT,
      batchSize: BATCH,
      weights,
      guidance: [2],
      resamples: 200,
    });
    assert.equal(tf.memory().numTensors, tensors, "analyzeModel leaks no tensors");
    assert.deepEqual(r.weights, weights);
    assert.equal(r.examples, LIMIT);
    assert.equal(r.tokens, LIMIT * 64);
    assert.equal(r.steps.length, 3);
    assert.equal(r.updates.length, 6);
    const data = [];
    for (const batch of batches()) data.push({ batch, pairs: await capture(model, TRM, batch) });
    const all = expected(data, weights, () => "all");
    for (const row of [...r.steps, ...r.updates]) compare(row, all.get(`${row.step}/${row.cycle}/all`)!, true);
    const byClass = expected(data, weights, (_, y) => ["pad", "empty", "queen"][y]);
    assert.equal(r.byClass.length, 6);
    for (const row of r.byClass) compare(row, byClass.get(`${row.step}/null/${row.group}`)!, false);
    const byGiven = expected(data, weights, (input) => `Q=${countQueens(input)}`);
    assert.ok(r.byGiven.length >= 3 * 3, "several Q groups per step");
    for (const row of r.byGiven) compare(row, byGiven.get(`${row.step}/null/${row.group}`)!, true);
    for (const row of r.steps) {
      assert.equal(row.dLdw0, -row.margin[0]);
      assert.equal(row.dLdw1, -row.margin[2]);
      const iv = row.intervals!;
      const inside = (x: number, [lo, hi]: [number, number]) => lo - 1e-9 <= x && x <= hi + 1e-9;
      assert.ok(inside(row.ceBefore - row.ceAfter, iv.ceDrop), `CE drop outside ${iv.ceDrop}`);
      assert.ok(inside(row.tokenAccAfter - row.tokenAccBefore, iv.tokenAccGain));
      row.margin.forEach((m, i) => assert.ok(inside(m, iv.margin[i])));
      assert.equal(row.dead, !(iv.ceDrop[0] > 0 || iv.tokenAccGain[0] > 0 || iv.exactGain[0] > 0));
    }
    assert.deepEqual(r.deadSteps, r.steps.filter((s) => s.dead).map((s) => s.step));
  } finally {
    model.dispose();
  }
});

Deno.test("guided decoding with w = 1 reproduces ordinary inference exactly (TRM, DIS, autoregressive DIS)", async () => {
  for (const [i, method] of [TRM, DIS, DIS_AR].entries()) {
    const model = tiny(method, `analysis.w1.${i}.`);
    try {
      for (const batch of batches().slice(0, 2)) {
        const plain = await predict(model, method, batch, { keepSteps: true });
        const guided = await predict(model, method, batch, { keepSteps: true, guidance: { w: 1 } });
        assert.deepEqual(guided, plain);
        const other = await predict(model, method, batch, { keepSteps: true, guidance: { w: 0 } });
        // w = 0 reads step 1 from y_init, whose logits are the same at every position.
        const first = other.stepPreds![0];
        assert.ok(first.every((t) => t === first[0]));
      }
    } finally {
      model.dispose();
    }
  }
  const model = tiny(DIS, "analysis.w1.bad.");
  await assert.rejects(
    () => predict(model, DIS, batches()[0], { guidance: { w: Infinity } }),
    /w must be a finite number, got Infinity/,
  );
  model.dispose();
});

Deno.test("guided decoding: autoregressive DIS feeds the guided prediction on; otherwise only the readout changes", async () => {
  const w = 3;
  const batch = batches()[0];
  const B = batch.puzzleIds.length;
  for (const [i, method] of [DIS_AR, DIS, TRM].entries()) {
    const model = tiny(method, `analysis.feed.${i}.`);
    try {
      const got = await predict(model, method, batch, { keepSteps: true, guidance: { w } });
      // Reference: the recursion by hand, guided readout of (start of step, end of step) logits.
      const want: Int32Array[] = [];
      const rows = tf.tensor2d(model.puzzleRows(batch.puzzleIds), [B, model.config.hidden]);
      let tokens: Tensor = tf.tensor2d(batch.inputs, [B, 64], "int32");
      let { y, z } = model.initialState(B);
      for (let s = 1; s <= method.nSup; s++) {
        const stepT = method.method === "dis" ? tf.tensor1d(new Int32Array(B).fill(s), "int32") : undefined;
        const x = tf.tidy(() => model.inputEmbedding(tokens, rows, stepT));
        const lu = tf.tidy(() => model.lmLogits(y));
        const next = cyclesNoGrad(model, x, y, z, method.lCycles, method.hCycles);
        tf.dispose([x, y, z, stepT as Tensor]);
        ({ y, z } = next);
        const pred = tf.tidy(() => tf.argMax(tf.add(tf.mul(lu, 1 - w), tf.mul(model.lmLogits(y), w)), -1));
        lu.dispose();
        want.push((await pred.data()) as Int32Array);
        if (method.method === "dis" && method.autoregressive) {
          tokens.dispose();
          tokens = pred;
        } else {
          pred.dispose();
        }
      }
      tf.dispose([rows, tokens, y, z]);
      assert.deepEqual(got.stepPreds, want);
      assert.deepEqual(got.preds, want[want.length - 1]);
      // Guidance must change something, or the comparison above could not tell feeding from not feeding.
      const plain = await predict(model, method, batch, { keepSteps: true });
      assert.notDeepEqual(plain.stepPreds, got.stepPreds);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("the analysis is deterministic: same results, byte-identical folders with TRM and DIS side by side", async () => {
  const trm = tiny(TRM, "analysis.det.trm.");
  const dis = tiny(DIS_AR, "analysis.det.dis.");
  const dirs: string[] = [];
  try {
    const opts = { kind: "nqueens" as const, limit: 6, batchSize: 6, guidance: [0, 2], resamples: 100, seed: 3 };
    const runs = [
      { name: "TRM", result: await analyzeModel(trm, TRM, SPLIT, opts) },
      { name: "DIS", result: await analyzeModel(dis, DIS_AR, SPLIT, opts) },
    ];
    const again = await analyzeModel(dis, DIS_AR, SPLIT, opts);
    assert.equal(stableJson(again), stableJson(runs[1].result));
    assert.deepEqual(again.guidance.map((g) => g.w), [0, 1, 2]);
    const other = await analyzeModel(dis, DIS_AR, SPLIT, { ...opts, seed: 4 });
    assert.notDeepEqual(other.steps[0].intervals, again.steps[0].intervals, "the bootstrap follows the seed");
    for (let k = 0; k < 2; k++) {
      const dir = join(await Deno.makeTempDir({ prefix: "analysis_test_" }), "analysis");
      dirs.push(dir);
      await writeAnalysis(dir, runs, { configHash: "ab".repeat(32) });
    }
    // The output marker (lib/io) says what wrote the folder; it holds a date, so it is not compared.
    const files = [...Deno.readDirSync(dirs[0])].map((e) => e.name).filter((n) => n !== OUTPUT_MARKER).sort();
    assert.ok(Deno.statSync(join(dirs[0], OUTPUT_MARKER)).isFile);
    assert.deepEqual(files, [
      "analysis_accuracy.svg",
      "analysis_cross_entropy.svg",
      "analysis_guidance.svg",
      "analysis_guidance_valid.svg",
      "analysis_margin.svg",
      "analysis_token_accuracy.svg",
      "report.md",
      "results.json",
    ]);
    for (const f of files) {
      assert.deepEqual(await Deno.readFile(join(dirs[1], f)), await Deno.readFile(join(dirs[0], f)), f);
    }
    const report = await Deno.readTextFile(join(dirs[0], "report.md"));
    for (const s of [1, 2, 3]) {
      assert.match(report, new RegExp(`^\\| TRM \\| ${s} \\| -?\\d`, "m"), `TRM step ${s} row`);
      assert.match(report, new RegExp(`^\\| DIS \\| ${s} \\| -?\\d`, "m"), `DIS step ${s} row`);
    }
    assert.match(report, /## Policy improvement per answer update/);
    assert.match(report, /## Guided decoding/);
    const json = JSON.parse(await Deno.readTextFile(join(dirs[0], "results.json")));
    assert.deepEqual(Object.keys(json.results.runs), ["DIS", "TRM"]);
    assert.equal(json.results.runs.TRM.steps.length, 3);
    assert.equal(json.results.runs.TRM.updates.length, 6);
  } finally {
    trm.dispose();
    dis.dispose();
    for (const d of dirs) await Deno.remove(join(d, ".."), { recursive: true });
  }
});
