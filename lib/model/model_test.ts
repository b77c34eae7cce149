import assert from "node:assert/strict";
import { initBackend } from "../backend/mod.ts";
import { stream } from "../random/mod.ts";
import { ConfigError } from "../errors.ts";
import {
  BACKBONE_DEFAULTS,
  type BackboneConfig,
  backboneFor,
  BACKBONES,
  forwardPasses,
  getPreset,
  type MethodConfig,
  paramCount,
  PRESETS,
  RecursiveModel,
  ropeTables,
  swigluHidden,
  validateModelConfig,
} from "./mod.ts";
import { erf, truncatedStd } from "./_init.ts";
import { REVEAL_DIS as DIS, tinyBackbone } from "./_testing.ts";

await initBackend("cpu");

const TRM: MethodConfig = {
  method: "trm",
  nSup: 3,
  hCycles: 2,
  lCycles: 2,
  haltExplorationProb: 0,
  qLossWeight: 0.5,
  loss: "stablemax",
};

function tiny(method: MethodConfig, over: Partial<BackboneConfig> = {}): BackboneConfig {
  return tinyBackbone(method, { seqLen: 8, numPuzzleIds: 2 }, over);
}

Deno.test("SwiGLU width follows TRM's formula (768 for D=256, 1536 for D=512)", () => {
  assert.equal(swigluHidden(256, 4), 768);
  assert.equal(swigluHidden(512, 4), 1536);
  assert.equal(swigluHidden(32, 4, 32), 96); // round(85.3) = 85 -> 96
  assert.equal(swigluHidden(64, 4), 256);
});

Deno.test("compact and medium presets have the paper's parameter counts (0.8M and 7M)", () => {
  const data = { vocabSize: 12, seqLen: 900, numPuzzleIds: 876_406 };
  const compact = paramCount(backboneFor(BACKBONES.compact, data, getPreset("arc-trm-compact").method));
  assert.equal(compact.total, 12 * 256 + 1 * (256 * 768 + 256 * 256 + 256 * 1536 + 768 * 256) + 256 * 12 + 514);
  assert.ok(compact.total > 0.84e6 && compact.total < 0.87e6, `compact: ${compact.total}`);
  const medium = paramCount(backboneFor(BACKBONES.medium, data, getPreset("arc-dis-medium").method));
  assert.ok(medium.total > 6.8e6 && medium.total < 6.9e6, `medium: ${medium.total}`);
  assert.equal(medium.stepEmbed, 8 * 512);
  assert.equal(medium.qHead, 0);
  assert.equal(medium.puzzleEmbValues, 876_406 * 512);
  assert.equal(medium.puzzleEmbBytes, 876_406 * 512 * 4);
});

Deno.test("forward passes: DIS 18, TRM 336 (T=3, n=6, N_sup=16), TRM's ARC command 240", () => {
  assert.equal(forwardPasses(getPreset("arc-dis-compact").method).perSampleInference, 18);
  assert.equal(forwardPasses(getPreset("nqueens-trm-paper").method).perSampleInference, 336);
  assert.equal(forwardPasses(getPreset("arc-trm").method).perSampleInference, 240);
  const t = forwardPasses({ nSup: 16, hCycles: 3, lCycles: 6 });
  assert.deepEqual([t.perStep, t.withGradPerStep], [21, 7]);
});

Deno.test("every preset validates, and the DIS mask variant gets one extra class", () => {
  for (const p of PRESETS) {
    validateModelConfig({
      backbone: backboneFor(p.backbone, { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 }, p.method),
      method: p.method,
    });
  }
  const masked = getPreset("nqueens-dis-paper");
  assert.equal(masked.method.method === "dis" && masked.method.targets, "mask");
  assert.equal(backboneFor(masked.backbone, { vocabSize: 3, seqLen: 64, numPuzzleIds: 1 }, masked.method).vocabSize, 4);
  assert.throws(() => getPreset("nope"), /Unknown model preset "nope": expected one of nqueens-dis-paper/);
});

Deno.test("config validation names the key and what was expected", () => {
  const b = tiny(DIS);
  assert.throws(
    () => validateModelConfig({ backbone: { ...b, heads: 3 }, method: DIS }),
    (e) => e instanceof ConfigError && /"backbone.heads" must be a divisor of hidden \(16\), got 3/.test(e.message),
  );
  assert.throws(
    () => validateModelConfig({ backbone: b, method: { ...DIS, nSup: 0 } }),
    /"method.nSup" must be a positive integer, got 0/,
  );
  assert.throws(
    () => validateModelConfig({ backbone: { ...b, stepEmbedRows: 2 }, method: DIS }),
    /"backbone.stepEmbedRows" must be >= nSup \+ 1 \(4\) for DIS/,
  );
  assert.throws(() => validateModelConfig({ backbone: tiny(DIS), method: TRM }), /"backbone.qHead" must be true/);
});

Deno.test("truncated LeCun normal: erf, the std correction, and the drawn statistics", () => {
  assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 1e-15);
  assert.ok(Math.abs(truncatedStd() - 0.8796256610342398) < 1e-12);
  const model = new RecursiveModel({
    ...BACKBONE_DEFAULTS,
    hidden: 64,
    layers: 1,
    vocabSize: 3,
    seqLen: 4,
    numPuzzleIds: 1,
  }, {
    rng: stream(0, "init"),
  });
  return (async () => {
    const w = await model.getWeights();
    const stats = (a: Float32Array) => {
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
      return { sd, max: a.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
    };
    const qkv = stats(w["blocks.0.attn.qkv.weight"].data);
    assert.ok(Math.abs(qkv.sd - 1 / 8) < 0.005, `qkv sd ${qkv.sd}`);
    assert.ok(qkv.max <= 2 / 8 / truncatedStd() + 1e-6, `qkv clipped at 2 sigma: ${qkv.max}`);
    const down = stats(w["blocks.0.mlp.down.weight"].data);
    assert.ok(Math.abs(down.sd - 1 / Math.sqrt(256)) < 0.002, `down sd ${down.sd}`);
    assert.deepEqual(Array.from(w["q_head.bias"].data), [-5, -5]);
    assert.ok(w["q_head.weight"].data.every((v) => v === 0));
    assert.ok(w["puzzle_emb.weight"].data.every((v) => v === 0));
    assert.equal(w["y_init"].shape[0], 64);
    model.dispose();
  })();
});

Deno.test("the same seed gives the same weights; names and layouts are the documented ones", async () => {
  const a = new RecursiveModel(tiny(DIS), { rng: stream(5, "init"), scope: "a." });
  const b = new RecursiveModel(tiny(DIS), { rng: stream(5, "init"), scope: "b." });
  const wa = await a.getWeights();
  const wb = await b.getWeights();
  assert.deepEqual(Object.keys(wa), [
    "embed_tokens.weight",
    "step_embed.weight",
    "blocks.0.attn.qkv.weight",
    "blocks.0.attn.o.weight",
    "blocks.0.mlp.gate_up.weight",
    "blocks.0.mlp.down.weight",
    "lm_head.weight",
    "y_init",
    "z_init",
    "puzzle_emb.weight",
  ]);
  for (const k of Object.keys(wa)) assert.deepEqual(wa[k], wb[k]);
  assert.deepEqual(wa["blocks.0.mlp.gate_up.weight"].shape, [16, 2 * 48]); // round(42.7) -> 48
  assert.equal(a.trainableVariables().length, 7);
  assert.equal(a.stableName(a.v("lm_head.weight")), "lm_head.weight");
  a.dispose();
  b.dispose();
});

Deno.test("setWeights round-trips and refuses wrong names and shapes; duplicate names are explained", async () => {
  const m = new RecursiveModel(tiny(TRM), { rng: stream(1, "init") });
  const w = await m.getWeights();
  w["lm_head.weight"].data[0] = 42;
  w["puzzle_emb.weight"].data[3] = -1;
  m.setWeights(w);
  const back = await m.getWeights();
  assert.equal(back["lm_head.weight"].data[0], 42);
  assert.equal(m.puzzleTable[3], -1);
  assert.throws(
    () => m.setWeights({ ...w, "extra.weight": { shape: [1], data: new Float32Array(1) } }),
    /unknown variable "extra.weight"/,
  );
  assert.throws(
    () => m.setWeights({ ...w, "lm_head.weight": { shape: [3, 16], data: new Float32Array(48) } }),
    /Cannot set "lm_head.weight": shape \[3,16\] but the model has \[16,3\]/,
  );
  const { y_init: _, ...missing } = w;
  assert.throws(() => m.setWeights(missing), /missing y_init/);
  assert.throws(
    () => new RecursiveModel(tiny(TRM), { rng: stream(1, "init") }),
    /Cannot create model variable "embed_tokens.weight": .*already registered.*distinct scope/,
  );
  assert.throws(() => m.puzzleRows([0, 2]), /id 2 at batch row 1 is outside 0..1/);
  m.dispose();
});

Deno.test("RoPE tables: cos/sin of p * theta^(-2i/hd), halves repeated", () => {
  const { cos, sin } = ropeTables(5, 8, 10000);
  const p = 3;
  const i = 1;
  const angle = p / 10000 ** (2 * i / 8);
  assert.ok(Math.abs(cos[p * 8 + i] - Math.cos(angle)) < 1e-6);
  assert.ok(Math.abs(sin[p * 8 + 4 + i] - Math.sin(angle)) < 1e-6);
  assert.equal(cos[0], 1);
  assert.equal(sin[0], 0);
});
