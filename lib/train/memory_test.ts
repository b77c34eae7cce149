/**
 * The micro-batch choice (train.micro_batch, gradient accumulation): automatic from a memory limit (fake
 * limits here), explicit from the config, outside the config hash, and recorded in run.json by a real run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import { BACKBONE_DEFAULTS } from "../model/mod.ts";
import { loadTrainConfig } from "./config.ts";
import { runTraining } from "./loop.ts";
import {
  backendMemoryLimit,
  chooseMicroBatch,
  formatBytes,
  type MemoryNeed,
  memoryNeed,
  WASM_MEMORY_BYTES,
} from "./memory.ts";

await initBackend("wasm");

const FIXTURES = new URL("../../fixtures/train/", import.meta.url).pathname;
const MIB = 2 ** 20;

/** 1 MiB of activations per example, 64 KiB of carry, 8 MiB of weights and state, a 4 KiB largest tensor. */
const NEED: MemoryNeed = {
  parameters: 2 * MIB,
  optimizer: 4 * MIB,
  ema: 2 * MIB,
  puzzleTable: 0,
  carryPerExample: MIB / 16,
  activationsPerExample: MIB,
  largestTensorPerExample: 4096,
};

Deno.test("auto micro-batch: the largest that fits half the total after weights, state and carry", () => {
  // 512 MiB total: 256 MiB budget - 8 MiB state - 768 x 64 KiB carry (48 MiB) = 200 MiB -> 200 rows.
  const c = chooseMicroBatch(768, NEED, { totalBytes: 512 * MIB, tensorBytes: null, source: "a fake 512 MiB" });
  assert.equal(c.microBatch, 200);
  assert.equal(c.passes, 4);
  assert.equal(c.source, "auto");
  assert.match(c.reason, /^to fit a fake 512 MiB: activations of about 1\.0 MiB per example/);
  const big = chooseMicroBatch(768, NEED, { totalBytes: 64 * 2 ** 30, tensorBytes: null, source: "64 GiB" });
  assert.deepEqual([big.microBatch, big.passes, big.reason], [768, 1, "the full batch fits 64 GiB"]);
  const none = chooseMicroBatch(768, NEED, { totalBytes: null, tensorBytes: null, source: "tensorflow" });
  assert.equal(none.microBatch, 768);
  const tiny = chooseMicroBatch(768, NEED, { totalBytes: 100 * MIB, tensorBytes: null, source: "100 MiB" });
  assert.equal(tiny.microBatch, 1);
  assert.match(tiny.reason, /^even one example may not fit 100 MiB/);
});

Deno.test("auto micro-batch: one tensor must fit a webgpu buffer", () => {
  const limit = backendMemoryLimit({
    name: "webgpu",
    details: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 20 },
  });
  assert.equal(limit.tensorBytes, 2 ** 20);
  assert.equal(limit.totalBytes, null);
  const c = chooseMicroBatch(768, NEED, limit);
  assert.equal(c.microBatch, 256); // 1 MiB / 4 KiB
  assert.match(c.reason, /largest tensor \(4\.0 KiB per example\) within one buffer/);
});

Deno.test("an explicit train.micro_batch wins, capped at the batch", () => {
  const limit = backendMemoryLimit({ name: "wasm" });
  assert.equal(limit.totalBytes, WASM_MEMORY_BYTES);
  assert.deepEqual(
    [chooseMicroBatch(64, NEED, limit, 16).microBatch, chooseMicroBatch(64, NEED, limit, 16).source],
    [16, "config"],
  );
  assert.equal(chooseMicroBatch(64, NEED, limit, 100).microBatch, 64);
  assert.equal(backendMemoryLimit({ name: "cpu" }, 8 * 2 ** 30).totalBytes, 4 * 2 ** 30);
  assert.equal(formatBytes(1536), "1.5 KiB");
});

Deno.test("the paper's N-Queens TRM does not fit wasm at batch 768 or 192; the estimate chooses passes", () => {
  // The compact backbone (D = 256, 8 heads, 1 layer) on 64 + 16 tokens, TRM T = 3, n = 6.
  const backbone = {
    ...BACKBONE_DEFAULTS,
    hidden: 256,
    heads: 8,
    layers: 1,
    vocabSize: 3,
    seqLen: 64,
    numPuzzleIds: 7201,
  };
  const need = memoryNeed(backbone, { nSup: 16, hCycles: 3, lCycles: 6 }, { ema: true });
  const wasm = backendMemoryLimit({ name: "wasm" });
  assert.ok(192 * need.activationsPerExample > WASM_MEMORY_BYTES, "batch 192 failed on wasm");
  const c = chooseMicroBatch(768, need, wasm);
  assert.ok(c.microBatch > 8 && c.microBatch < 192, `micro-batch ${c.microBatch}`);
});

Deno.test("train.micro_batch is a config value outside the config hash, absent when not set", async () => {
  const plain = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"));
  const micro = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), { overrides: ["train.micro_batch=4"] });
  assert.ok(!("micro_batch" in plain.config.train));
  assert.equal(micro.config.train.micro_batch, 4);
  assert.match(micro.resolvedYaml, /micro_batch: 4/);
  assert.equal(micro.hash, plain.hash);
});

Deno.test("a run with train.micro_batch trains in passes and records the choice in run.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memory_test_" });
  try {
    const loaded = await loadTrainConfig(join(FIXTURES, "dis_tiny.yaml"), {
      overrides: ["train.steps=2", "train.micro_batch=6", "eval.at_end=false"],
    });
    const seen: number[] = [];
    await runTraining(loaded, { runDir: dir, onMicroBatch: (c) => seen.push(c.microBatch, c.passes) });
    assert.deepEqual(seen, [6, 3]);
    const run = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
    const m = run.extra?.microBatch ?? run.microBatch;
    assert.equal(m.microBatch, 6);
    assert.equal(m.batch, 16);
    assert.equal(m.source, "config");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
