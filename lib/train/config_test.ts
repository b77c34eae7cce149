import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { getPreset } from "../model/mod.ts";
import { configHash } from "../config/mod.ts";
import {
  loadTrainConfig,
  methodConfig,
  parseTrainConfig,
  resolveTrainConfig,
  sameTrainConfig,
  totalSteps,
} from "./config.ts";

async function tempConfig(text: string): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "train_config_test_" });
  const path = join(dir, "run.yaml");
  await Deno.writeTextFile(path, text);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("resolution fills the preset's model, method and training values and keeps what the file sets", () => {
  const { config } = parseTrainConfig(
    "data: {kind: nqueens}\nmodel: {preset: nqueens-trm-paper, hidden: 64}\ntrain: {steps: 10, lr: 0.002}\n",
  );
  const p = getPreset("nqueens-trm-paper");
  assert.equal(config.model.hidden, 64);
  assert.equal(config.model.layers, p.backbone.layers);
  assert.equal(config.model.h_cycles, 3);
  assert.equal(config.model.l_cycles, 6);
  assert.equal(config.model.n_sup, 16);
  assert.equal(config.model.halt_exploration_prob, 0.1);
  assert.equal(config.model.targets, undefined);
  assert.equal(config.train.lr, 0.002);
  assert.equal(config.train.batch_size, p.train.globalBatch);
  assert.equal(config.train.optimizer, p.train.optimizer);
  assert.deepEqual([config.train.steps, config.train.epochs], [10, null]);
  // TRM has no DIS fetch mode; DIS gets the released code's default.
  assert.equal(config.train.dis_fetch, undefined);
  const dis = parseTrainConfig("data: {kind: nqueens}\nmodel: {preset: arc-dis-compact}\n").config;
  assert.equal(dis.train.dis_fetch, "every-step");
  assert.equal(dis.train.epochs, 200000);
  assert.deepEqual(methodConfig(dis), { ...getPreset("arc-dis-compact").method });
});

Deno.test("the resolved YAML resolves to itself: same text, same hash", () => {
  for (const preset of ["nqueens-trm-paper", "nqueens-dis-code", "arc-trm"]) {
    const a = parseTrainConfig(`seed: 3\ndata: {kind: nqueens, variant: released-code}\nmodel: {preset: ${preset}}\n`);
    const b = parseTrainConfig(a.resolvedYaml, { source: "config.yaml" });
    assert.equal(b.resolvedYaml, a.resolvedYaml);
    assert.equal(b.hash, a.hash);
  }
  const x = parseTrainConfig("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\n");
  const y = parseTrainConfig("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\ntrain: {lr: 0.5}\n");
  assert.notEqual(x.hash, y.hash);
});

Deno.test("unknown keys, wrong types and bad overrides name the file (or override) and the key", async () => {
  await using f = await tempConfig(
    "data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\ntrain: {lr_warmup: 5}\n",
  );
  await assert.rejects(
    loadTrainConfig(f.path),
    (e) =>
      e instanceof ConfigError && e.message.startsWith(`Cannot load config "${f.path}": unknown key "train.lr_warmup"`),
  );
  await using g = await tempConfig("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\n");
  await assert.rejects(
    loadTrainConfig(g.path, { overrides: ["train.batch_size=abc"] }),
    new ConfigError(
      `Cannot apply override "--set train.batch_size=abc" to config "${g.path}": key "train.batch_size": expected ` +
        `integer, got "abc"`,
    ),
  );
  assert.equal((await loadTrainConfig(g.path, { overrides: ["train.batch_size=8"] })).config.train.batch_size, 8);
  await using h = await tempConfig("data: {kind: arc, variant: paper}\nmodel: {preset: arc-dis-compact}\n");
  await assert.rejects(loadTrainConfig(h.path), /unknown key "data\.variant"/);
});

Deno.test("keys of the other method, unknown presets, bad shapes and steps+epochs are refused", () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseTrainConfig(text, { source: "c.yaml" }), re);
  bad(
    "data: {kind: nqueens}\nmodel: {preset: nqueens-trm-paper, targets: reveal}\n",
    /^ConfigError: Cannot load config "c\.yaml": key "model\.targets" applies to DIS only, but preset "nqueens-trm-paper" trains TRM$/,
  );
  bad(
    "data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper, q_loss_weight: 1}\n",
    /key "model\.q_loss_weight" applies to TRM only/,
  );
  bad("data: {kind: nqueens}\nmodel: {preset: nqueens-trm-paper}\ntrain: {dis_fetch: when-needed}\n", /dis_fetch/);
  bad("data: {kind: nqueens}\nmodel: {preset: nope}\n", /c\.yaml.*key "model\.preset": Unknown model preset "nope"/);
  bad("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper, hidden: 30, heads: 4}\n", /c\.yaml.*backbone\.heads/);
  bad(
    "data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\ntrain: {steps: 5, epochs: 2}\n",
    /both set; give one of them/,
  );
  assert.throws(
    () => resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper", hidden: -1 } }, "code"),
    /Cannot load config "code": key "model\.hidden"/,
  );
});

Deno.test("totalSteps: train.steps, or TRM's floor(epochs * groups * mean puzzle examples / batch)", () => {
  assert.equal(totalSteps({ steps: 7, epochs: null, batch_size: 64 }, { groups: 1, examples: 1, puzzles: 1 }), 7);
  // N-Queens paper: 7,200 one-example groups; released-code: 800 groups of nine one-example puzzles.
  assert.equal(
    totalSteps({ steps: null, epochs: 2, batch_size: 64 }, { groups: 7200, examples: 7200, puzzles: 7200 }),
    225,
  );
  assert.equal(
    totalSteps({ steps: null, epochs: 2, batch_size: 64 }, { groups: 800, examples: 7200, puzzles: 7200 }),
    25,
  );
  // ARC-1 (docs/upstream.md §3): 960 groups, 4.154 examples per puzzle, batch 768, 100k epochs -> about 519k steps.
  const arc = totalSteps({ steps: null, epochs: 100000, batch_size: 768 }, {
    groups: 960,
    examples: 4154,
    puzzles: 1000,
  });
  assert.equal(arc, Math.floor((100000 * 960 * 4.154) / 768));
  assert.throws(
    () => totalSteps({ steps: null, epochs: 0.001, batch_size: 64 }, { groups: 10, examples: 10, puzzles: 10 }),
    /give no optimiser step/,
  );
});

Deno.test("the resolved config names its method; model.method must be the preset's and is not hashed", () => {
  const a = resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } }, "a");
  assert.equal(a.config.model.method, "dis");
  assert.match(a.resolvedYaml, /^ {2}method: dis$/m);
  const b = resolveTrainConfig(
    { data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper", method: "dis" } },
    "b",
  );
  assert.equal(b.hash, a.hash);
  const { method: _m, ...model } = a.config.model;
  assert.equal(a.hash, configHash({ ...a.config, model }));
  assert.ok(sameTrainConfig(a.resolvedYaml.replace(/^ {2}method: dis\n/m, ""), a.hash));
  assert.ok(!sameTrainConfig("not: [yaml", a.hash));
  assert.throws(
    () => resolveTrainConfig({ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper", method: "trm" } }, "c"),
    /Cannot load config "c": key "model.method" is "trm", but preset "nqueens-dis-paper" trains dis/,
  );
});
