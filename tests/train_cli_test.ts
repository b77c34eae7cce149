/**
 * `train` and `eval` through the real CLI (a subprocess): outputs and summary of a tiny run, exit codes and
 * one-line messages for bad configs, missing data, an unavailable backend, a folder that holds another
 * run, a corrupt or foreign checkpoint, and a diverging run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, type CliResult } from "../cli/_testing.ts";

const DIS = "fixtures/train/dis_tiny.yaml";
const WASM = ["--backend", "wasm"];

/** The last stderr line (progress lines come before it); asserts it is the only `error:` line. */
function errorLine(r: CliResult): string {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.filter((l) => l.startsWith("error: ")).length, 1, r.stderr);
  return lines.at(-1)!;
}

Deno.test("train writes the run folder and prints a summary; eval scores its latest checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const out = join(dir, "run");
    const r = await cli("train", DIS, "--out", out, ...WASM, "--set", "train.steps=12", "--seed", "3");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "Trained DIS (nqueens-dis-paper) on nqueens: 12 steps at batch 16, seed 3");
    assert.match(r.stdout, /\n {2}final eval \(32 examples\): exact \d/);
    assert.match(r.stdout, /\n {2}forward passes per sample: 18 at inference, 18 per finished training sample\n/);
    assert.match(r.stdout, /\n {2}throughput: [\d.]+ samples\/s over 12 steps/);
    assert.match(r.stderr, /^train: nqueens-dis-paper on nqueens, seed 3, backend wasm -> /);
    assert.match(r.stderr, /\ntrain 12\/12 \(100%\) .* loss=/);
    for (const f of ["config.yaml", "metrics.jsonl", "results.json", "report.md", "run.json", "model.safetensors"]) {
      await Deno.stat(join(out, f));
    }
    assert.match(await Deno.readTextFile(join(out, "config.yaml")), /^seed: 3$/m);
    const run = JSON.parse(await Deno.readTextFile(join(out, "run.json")));
    assert.equal(run.backend.name, "wasm");
    assert.deepEqual(run.command.slice(0, 2), ["train", DIS]);

    const e = await cli("eval", out, ...WASM, "--max-examples", "20", "--batch-size", "8");
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /^Evaluated .* at step 12 on test: 20 examples\n/);
    assert.match(e.stdout, /\n {2}exact: [\d.]+\n/);
    await Deno.stat(join(out, "eval", "test-step-000012", "eval.json"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config and input errors exit 2 naming the file and key; an unavailable backend exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const bad = join(dir, "bad.yaml");
    await Deno.writeTextFile(bad, "data: {kind: nqueens}\nmodel: {preset: nqueens-dis-paper}\ntrain: {step: 3}\n");
    const r = await cli("train", bad, "--out", join(dir, "x"), ...WASM);
    assert.equal(r.code, 2);
    assert.equal(
      errorLine(r),
      `error: Cannot load config "${bad}": unknown key "train.step" (expected one of: ` +
        "batch_size, beta1, beta2, checkpoint_interval, checkpoint_minutes, dis_fetch, dis_stagger, ema, ema_rate, " +
        "epochs, eval_interval, grad_clip, keep_checkpoints, log_interval, lr, lr_min_ratio, micro_batch, optimizer, " +
        "puzzle_emb_lr, puzzle_emb_weight_decay, ...)",
    );
    assert.match(r.stderr, /^Usage: trm-dis train \[options\] <config>\n/);

    const arc = join(dir, "arc.yaml");
    const missing = join(dir, "no-data");
    await Deno.writeTextFile(arc, `data: {kind: arc, data_dir: ${missing}}\nmodel: {preset: arc-dis-compact}\n`);
    const m = await cli("train", arc, "--out", join(dir, "arc-run"), ...WASM);
    assert.equal(m.code, 2);
    assert.match(errorLine(m), new RegExp(`^error: Cannot load ARC set "arc-agi-1": data directory "${missing}"`));
    await assert.rejects(Deno.stat(join(dir, "arc-run")), Deno.errors.NotFound);

    const o = await cli("train", DIS, "--out", join(dir, "y"), "--set", "train.lr=fast", ...WASM);
    assert.equal(o.code, 2);
    assert.match(
      errorLine(o),
      /^error: Cannot apply override "--set train\.lr=fast" .* key "train\.lr": expected number/,
    );

    const tf = await cli("train", DIS, "--out", join(dir, "z"), "--backend", "tensorflow");
    assert.equal(tf.code, 1);
    assert.match(errorLine(tf), /^error: Cannot use backend "tensorflow": /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder with another run, a changed config, a truncated or foreign checkpoint are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const out = join(dir, "run");
    const steps = ["--set", "train.steps=6", "--set", "train.checkpoint_interval=3", "--set", "eval.at_end=false"];
    assert.equal((await cli("train", DIS, "--out", out, ...WASM, ...steps)).code, 0);

    const again = await cli("train", DIS, "--out", out, ...WASM, ...steps);
    assert.equal(again.code, 2);
    assert.match(errorLine(again), /^error: Cannot start a run in ".*": it already holds checkpoints/);

    const changed = await cli("train", DIS, "--out", out, ...WASM, ...steps, "--set", "train.lr=0.002", "--resume");
    assert.equal(changed.code, 1);
    assert.match(
      errorLine(changed),
      /^error: Cannot resume run ".*": its config\.yaml differs from the config being run/,
    );

    // Truncate the latest checkpoint's weights.
    const weights = join(out, "checkpoints", "step-000006", "model.safetensors");
    const bytes = await Deno.readFile(weights);
    await Deno.writeFile(weights, bytes.subarray(0, bytes.length - 100));
    const cut = await cli("train", DIS, "--out", out, ...WASM, ...steps, "--resume");
    assert.equal(cut.code, 1);
    assert.equal(
      errorLine(cut),
      `error: Cannot load checkpoint "${join(out, "checkpoints", "step-000006")}": file "model.safetensors" is ` +
        `truncated (${bytes.length - 100} bytes, expected ${bytes.length})`,
    );

    // Checkpoints of another config (another seed) put into this run's folder.
    const other = join(dir, "other");
    assert.equal((await cli("train", DIS, "--out", other, ...WASM, ...steps, "--seed", "9")).code, 0);
    await Deno.remove(join(out, "checkpoints"), { recursive: true });
    await Deno.rename(join(other, "checkpoints"), join(out, "checkpoints"));
    const foreign = await cli("train", DIS, "--out", out, ...WASM, ...steps, "--resume");
    assert.equal(foreign.code, 1);
    assert.match(
      errorLine(foreign),
      /^error: Cannot load checkpoint ".*step-000006": it was written under another config/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a diverging run (lr 1e30) exits 1 naming the step and keeps its last good checkpoint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const out = join(dir, "run");
    const r = await cli(
      "train",
      DIS,
      "--out",
      out,
      ...WASM,
      ...["--set", "train.lr=1e30", "--set", "train.warmup_steps=0", "--set", "train.checkpoint_interval=1"],
    );
    assert.equal(r.code, 1);
    assert.match(errorLine(r), /^error: Cannot continue training at step 2: non-finite values \(NaN or infinity\) in /);
    assert.equal(await Deno.readTextFile(join(out, "checkpoints", "latest")), "step-000001\n");
    await assert.rejects(Deno.stat(join(out, "results.json")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: a canvas smaller than a task the config names is exit 2 naming the task and its size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const data = join(dir, "data", "arc-agi-1");
    for (const [sub, name] of [["training", "flip"], ["evaluation", "big"]]) {
      await Deno.mkdir(join(data, sub), { recursive: true });
      await Deno.copyFile(join("fixtures", "data", "tasks", `${name}.json`), join(data, sub, `${name}.json`));
    }
    await Deno.mkdir(join(dir, "data", "concept-arc"), { recursive: true });
    await Deno.copyFile(join("fixtures", "data", "tasks", "mono2x3.json"), join(dir, "data", "concept-arc", "m.json"));
    const cfg = join(dir, "arc.yaml");
    await Deno.writeTextFile(
      cfg,
      `data: {kind: arc, data_dir: ${join(dir, "data")}, canvas: 12, subset: {ids: [flip, big]}}\n` +
        "model: {preset: arc-dis-compact}\n",
    );
    const r = await cli("train", cfg, "--out", join(dir, "run"), ...WASM);
    assert.equal(r.code, 2, r.stderr);
    assert.match(errorLine(r), /names "big" \(evaluation\), whose 1x30 grid .* does not fit the 12x12 canvas/);
    await assert.rejects(Deno.stat(join(dir, "run")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval --data validation scores an ARC run's never-scored split; a run without one is exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train_cli_test_" });
  try {
    const data = join(dir, "data", "arc-agi-1");
    for (const [sub, name] of [["training", "flip"], ["training", "mono3x3"], ["evaluation", "grow"]]) {
      await Deno.mkdir(join(data, sub), { recursive: true });
      await Deno.copyFile(join("fixtures", "data", "tasks", `${name}.json`), join(data, sub, `${name}.json`));
    }
    await Deno.mkdir(join(dir, "data", "concept-arc"), { recursive: true });
    await Deno.copyFile(join("fixtures", "data", "tasks", "mono2x3.json"), join(dir, "data", "concept-arc", "m.json"));
    const config = (validation: string) =>
      `data: {kind: arc, data_dir: ${join(dir, "data")}, augmentations: 1, canvas: 6${validation}}\n` +
      "model: {preset: arc-dis-compact, hidden: 16, heads: 2, layers: 1, mlp_multiple: 16, puzzle_emb_len: 1, " +
      "n_sup: 2, h_cycles: 1, l_cycles: 1}\n" +
      "train: {batch_size: 2, steps: 2, warmup_steps: 1, log_interval: 1, checkpoint_interval: 0, ema: false}\n" +
      "eval: {batch_size: 4}\n";
    const cfg = join(dir, "arc.yaml");
    await Deno.writeTextFile(cfg, config(", validation: {tasks: 1}"));
    const out = join(dir, "run");
    const r = await cli("train", cfg, "--out", out, ...WASM);
    assert.equal(r.code, 0, r.stderr);
    const e = await cli("eval", out, ...WASM, "--data", "validation");
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /^Evaluated .* at step 2 on validation: \d+ examples\n/);
    assert.match(e.stdout, /\n {2}pass@2: [\d.]+\n/);
    const doc = JSON.parse(await Deno.readTextFile(join(out, "eval", "validation-step-000002", "eval.json")));
    assert.equal(doc.split, "validation");
    // One validation task (a training task's held-out test pair), scored apart from the evaluation task.
    assert.equal(doc.result.counts.tasks, 1);
    const results = JSON.parse(await Deno.readTextFile(join(out, "results.json"))).results;
    assert.deepEqual(doc.result.pass_at_k_per_task, results.validation.pass_at_k_per_task);

    const none = join(dir, "none.yaml");
    await Deno.writeTextFile(none, config(""));
    const plain = join(dir, "plain");
    assert.equal((await cli("train", none, "--out", plain, ...WASM)).code, 0);
    const n = await cli("eval", plain, ...WASM, "--data", "validation");
    assert.equal(n.code, 2, n.stderr);
    assert.match(errorLine(n), /^error: Cannot evaluate ARC on the "validation" split: the run has none/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
