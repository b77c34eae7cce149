import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../backend/mod.ts";
import { CheckpointError, DataError } from "../errors.ts";
import { predict } from "../model/mod.ts";
import { stableJson } from "../report/mod.ts";
import { loadTrainConfig, parseTrainConfig } from "./config.ts";
import { runTraining } from "./loop.ts";
import { evaluateRun, loadRunData, openTrainedRun } from "./mod.ts";
import { readSafetensorsFile } from "./safetensors.ts";

await initBackend("wasm");

const FIXTURES = new URL("../../fixtures/", import.meta.url).pathname;

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "run_dir_test_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("openTrainedRun gives the final weights (EMA when used), the method and the data; evaluateRun scores them", async () => {
  await using t = await tempDir();
  const loaded = await loadTrainConfig(join(FIXTURES, "train", "trm_tiny.yaml"), { overrides: ["train.steps=8"] });
  const out = await runTraining(loaded, { runDir: t.dir });
  const ema = (await readSafetensorsFile(join(t.dir, "ema.safetensors"))).tensors;
  const live = (await readSafetensorsFile(join(t.dir, "model.safetensors"))).tensors;
  const run = await openTrainedRun(t.dir, { scope: "opened." });
  try {
    assert.equal(run.step, 8);
    assert.equal(run.ema, true);
    assert.equal(run.kind, "nqueens");
    assert.equal(run.loaded.hash, loaded.hash);
    assert.deepEqual(run.method, { ...run.method, method: "trm", nSup: 4, hCycles: 1, lCycles: 2 });
    const w = await run.model.getWeights();
    assert.deepEqual(w["lm_head.weight"].data, ema["lm_head.weight"].data);
    assert.notDeepEqual(w["lm_head.weight"].data, live["lm_head.weight"].data);
    assert.deepEqual(w["puzzle_emb.weight"].data, live["puzzle_emb.weight"].data);
    assert.deepEqual(w["y_init"].data, live["y_init"].data);
    const p = await predict(run.model, run.method, {
      inputs: new Int32Array(64).fill(1),
      puzzleIds: new Int32Array(1),
    });
    assert.equal(p.preds.length, 64);
    assert.equal(run.data.counts.test_examples, 200);
  } finally {
    run.dispose();
  }
  const liveRun = await openTrainedRun(t.dir, { liveWeights: true });
  try {
    assert.deepEqual((await liveRun.model.getWeights())["lm_head.weight"].data, live["lm_head.weight"].data);
  } finally {
    liveRun.dispose();
  }
  // The final evaluation used the same weights and examples as evaluateRun does with the same cap.
  const ev = await evaluateRun(t.dir, { maxExamples: 32 });
  assert.equal(ev.dir, join(t.dir, "eval", "test-step-000008"));
  assert.deepEqual(ev.result.summary, out.finalEval?.summary);
  const doc = JSON.parse(await Deno.readTextFile(join(ev.dir, "eval.json")));
  assert.equal(doc.step, 8);
  assert.equal(doc.ema, true);
  assert.deepEqual(doc.result.summary, JSON.parse(stableJson(out.finalEval!.summary)));
  await Deno.stat(join(ev.dir, "report.md"));
  const train = await evaluateRun(t.dir, { split: "train", maxExamples: 10 });
  assert.equal(train.result.examples, 10);
});

Deno.test("openTrainedRun refuses a folder that is not a run, or has no checkpoint", async () => {
  await using t = await tempDir();
  await assert.rejects(openTrainedRun(t.dir), (e) => e instanceof DataError && /has no config\.yaml/.test(e.message));
  const loaded = parseTrainConfig("data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\n");
  await Deno.writeTextFile(join(t.dir, "config.yaml"), loaded.resolvedYaml);
  await assert.rejects(
    openTrainedRun(t.dir),
    (e) => e instanceof CheckpointError && /no checkpoint yet/.test(e.message),
  );
});

async function arcDataDir(root: string): Promise<string> {
  const put = async (dir: string, name: string) => {
    await Deno.mkdir(join(root, dir), { recursive: true });
    await Deno.copyFile(join(FIXTURES, "data", "tasks", `${name}.json`), join(root, dir, `${name}.json`));
  };
  await put("arc-agi-1/training", "flip");
  await put("arc-agi-1/training", "grow");
  await put("arc-agi-1/evaluation", "mono3x3");
  await put("arc-agi-1/evaluation", "mono2x3");
  await put("concept-arc/Big", "big");
  return root;
}

Deno.test("ARC data: subsets by count or ids; a missing folder or task id is a DataError naming it", async () => {
  await using t = await tempDir();
  const dataDir = await arcDataDir(t.dir);
  const cfg = (extra: string) =>
    parseTrainConfig(
      `data: {kind: arc, augmentations: 2, data_dir: ${dataDir}${extra}}\nmodel: {preset: arc-dis-compact}\n`,
    ).config;
  const all = await loadRunData(cfg(""));
  assert.equal(all.counts.tasks, 5);
  assert.equal(all.kind, "arc");
  const one = await loadRunData(cfg(", subset: {tasks: 1}"));
  assert.deepEqual(one.arc!.tasks.map((x) => x.id).sort(), ["big", "flip", "mono2x3"]);
  const ids = await loadRunData(cfg(", subset: {ids: [grow, mono3x3]}"));
  assert.deepEqual(ids.arc!.tasks.map((x) => x.id).sort(), ["grow", "mono3x3"]);
  assert.notEqual(ids.dataHash, all.dataHash);
  assert.equal((await loadRunData(cfg(""))).dataHash, all.dataHash);
  await assert.rejects(
    loadRunData(cfg(", subset: {ids: [grow, nope]}")),
    (e) => e instanceof DataError && /"nope", which the set does not have/.test(e.message),
  );
  await assert.rejects(
    loadRunData(cfg(", subset: {ids: [grow]}")),
    (e) => e instanceof DataError && /none of the test subset "evaluation"/.test(e.message),
  );
  const missing = join(t.dir, "nowhere");
  await assert.rejects(
    loadRunData(parseTrainConfig(`data: {kind: arc, data_dir: ${missing}}\nmodel: {preset: arc-dis-compact}\n`).config),
    (e) => e instanceof DataError && e.message.includes(`data directory "${missing}" does not exist`),
  );
});

/** A data directory of the hand-made tasks: flip (training), grow and big (evaluation), mono2x3 (concept). */
async function fixtureDataDir(root: string): Promise<string> {
  const put = async (sub: string, name: string) => {
    await Deno.mkdir(join(root, sub), { recursive: true });
    await Deno.copyFile(join(FIXTURES, "data", "tasks", `${name}.json`), join(root, sub, `${name}.json`));
  };
  await put("arc-agi-1/training", "flip");
  await put("arc-agi-1/evaluation", "grow");
  await put("arc-agi-1/evaluation", "big");
  await put("concept-arc/Copy", "mono2x3");
  return root;
}

Deno.test("ARC on a canvas: tasks that do not fit are left out and counted; a named one is a DataError", async () => {
  await using t = await tempDir();
  const dataDir = await fixtureDataDir(t.dir);
  const config = (data: string) =>
    parseTrainConfig(
      `data: {kind: arc, data_dir: ${dataDir}, augmentations: 2, ${data}}\nmodel: {preset: arc-dis-compact}\n`,
    )
      .config;
  const d = await loadRunData(config("canvas: 6, validation: {tasks: 1}"));
  assert.equal(d.seqLen, 36);
  assert.equal(d.arc!.canvas, 6);
  assert.deepEqual(d.arc!.tasks.map((x) => x.id).sort(), ["flip", "grow", "mono2x3"]);
  assert.deepEqual(d.arc!.excluded.map((x) => x.id), ["big"]);
  assert.deepEqual(
    [d.counts.canvas, d.counts.tasks_excluded, d.counts.test_tasks, d.counts.test_inputs, d.counts.validation_tasks],
    [6, 1, 1, 2, 1],
  );
  // "big", an evaluation task, is what the canvas left out of the scored subset: 1 task, its 1 test input.
  assert.deepEqual([d.counts.test_tasks_excluded, d.counts.test_inputs_excluded], [1, 1]);
  assert.ok(d.validation !== null);
  // `subset.tasks` picks among the tasks that fit: "big" sorts before "grow" but is not taken.
  const first = await loadRunData(config("canvas: 6, subset: {tasks: 1}"));
  assert.deepEqual(first.arc!.tasks.map((x) => x.id).sort(), ["flip", "grow", "mono2x3"]);
  // The default canvas keeps every task and adds no new counts (30 x 30 results are unchanged).
  const full = await loadRunData(config("subset: {tasks: 5}"));
  assert.equal(full.arc!.tasks.length, 4);
  assert.equal(full.seqLen, 900);
  assert.equal("canvas" in full.counts || "tasks_excluded" in full.counts, false);
  assert.equal(full.validation, null);
  await assert.rejects(
    () => loadRunData(config("canvas: 6, subset: {ids: [flip, big]}")),
    (e: Error) =>
      e instanceof DataError &&
      /names "big" \(evaluation\), whose 1x30 grid \(train\[0\]\.input\) does not fit the 6x6 canvas/.test(e.message),
  );
});
