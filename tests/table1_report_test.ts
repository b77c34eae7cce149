/**
 * table1's report from made-up finished rows (no training): what was scored, the intervals over tasks, the
 * paired DIS − TRM difference, TRM read at DIS's budget from its evaluation curve, and the validation split
 * apart from the test figures. The numbers are chosen so each figure can be checked by hand.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spec } from "../experiments/table1.ts";
import { type FinishedRow, loadProfile } from "../lib/experiment/mod.ts";
import { renderReport, stableJson } from "../lib/report/mod.ts";
import type { RunResults } from "../lib/train/mod.ts";

type Task = { id: string; tests: number; "pass@1": number; "pass@2": number };

/** 40 scored tasks: TRM solves tasks 0-3 at pass@2, DIS tasks 0-11 (a superset), so DIS − TRM = 8 of 40 = 20 points. */
const test = (solved: number): Task[] =>
  Array.from({ length: 40 }, (_, i) => ({
    id: `e${String(i).padStart(2, "0")}`,
    tests: 1,
    "pass@1": i < solved / 2 ? 1 : 0,
    "pass@2": i < solved ? 1 : 0,
  }));
const validation = (solved: number): Task[] =>
  Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, tests: 1, "pass@1": 0, "pass@2": i < solved ? 1 : 0 }));

function results(method: "trm" | "dis", steps: number, solved: number, curve: [number, number][]): RunResults {
  const p2 = solved / 40;
  const arcEval = (pass2: number, tasks: number) => ({
    examples: 1000,
    summary: { "pass@2": pass2 },
    pass_at_k_per_task: { "pass@1": solved / 2 / 40, "pass@2": pass2 },
    pass_at_k_per_output: { "pass@1": 0, "pass@2": pass2 },
    counts: { tasks, testInputs: tasks + 3 } as never,
    forward_passes_per_sample: 18,
  });
  return {
    task: "arc",
    preset: `arc-${method}-compact`,
    method,
    steps,
    batch_size: 64,
    seed: 0,
    data: {
      canvas: 10,
      tasks: 254,
      tasks_excluded: 666,
      test_tasks: 40,
      test_inputs: 43,
      test_tasks_excluded: 360,
      test_inputs_excluded: 376,
      validation_tasks: 10,
    },
    params: {
      total: 1000,
      embed_tokens: 0,
      step_embed: 0,
      blocks: 0,
      lm_head: 0,
      q_head: 0,
      puzzle_emb_values: 0,
      puzzle_emb_bytes: 0,
    },
    forward_passes: {
      per_sample_inference: 18,
      per_sample_training_max: 18,
      per_step: 3,
      with_grad_per_step: 3,
      training: {
        optimizer_steps: steps,
        net_calls: steps * 64 * 3,
        net_calls_with_grad: steps * 64 * 3,
        samples_completed: 0,
        mean_per_completed_sample: null,
      },
    },
    final_train: null,
    eval: arcEval(p2, 40),
    validation: arcEval(0, 10),
    eval_curve: curve.map(([step, v]) => ({ step, "pass@2": v })),
  };
}

Deno.test("table1's report says what was scored, with intervals, the paired difference and TRM at DIS's budget", async () => {
  const dir = await Deno.makeTempDir({ prefix: "table1_report_test_" });
  try {
    const { config, file } = await loadProfile(spec.configDir, "table1", "small", spec.schema);
    const plans = spec.rows(config, file);
    const finished = new Map<string, FinishedRow>();
    // TRM trains longer than DIS here (4,000 steps against 3,000) so the two budget points are read from its curve.
    const made: [string, RunResults, Task[], Task[]][] = [
      [
        "arc1.trm-compact",
        results("trm", 4000, 4, [[1000, 0], [2000, 0.05], [3000, 0.075], [4000, 0.1]]),
        test(4),
        validation(1),
      ],
      ["arc1.dis-compact", results("dis", 3000, 12, [[3000, 0.3]]), test(12), validation(3)],
    ];
    for (const [id, res, t, v] of made) {
      const rowDir = join(dir, id);
      await Deno.mkdir(rowDir);
      await Deno.writeTextFile(join(rowDir, "eval_tasks.json"), stableJson({ test: t, validation: v }) + "\n");
      finished.set(id, { plan: plans.find((p) => p.id === id)!, dir: rowDir, results: res, dataHash: "", metrics: [] });
    }
    const ctx = { name: "table1", profile: "small" as const, config, rows: plans, finished };
    const report = await spec.summarize(ctx);
    const again = await spec.summarize(ctx);
    assert.equal(stableJson(again.results), stableJson(report.results), "deterministic");
    const md = renderReport({ title: report.title, summary: report.summary, sections: report.sections });

    assert.deepEqual(report.sections.map((s) => s.heading), [
      "What was scored",
      "Table 1: pass@2 (%)",
      "pass@2 and pass@1 with intervals over tasks (scored evaluation tasks)",
      "DIS − TRM, paired over the same tasks",
      "TRM at DIS's training budget",
      "Validation split (never scored)",
      "Chain-of-thought LLMs (quoted from the paper, not run)",
    ]);
    assert.ok(md.includes("**These figures are not Table 1's.**"));
    assert.ok(
      md.includes("| TRM-compact (ARC-AGI-1) | 10 × 10 | all that fit | 16 | 40 | 43 | 360 | 376 | 254 | 10 |"),
      md,
    );

    const r = report.results;
    // pass@2 is the mean of the per-task scores; its interval holds it.
    assert.equal(r.ours["arc1.dis-compact"].pass2, 0.3);
    const iv = r.ours["arc1.dis-compact"].intervals!.pass2!;
    assert.ok(iv[0] < 0.3 && 0.3 < iv[1] && iv[0] > 0.1 && iv[1] < 0.5, `${iv}`);
    // Paired: every task's difference is 0 or 1 and 8 of 40 are 1, so the interval lies above 0.
    const pair = r.pairs["arc1.compact"];
    assert.equal(pair.tasks, 40);
    assert.ok(Math.abs(pair.diff! - 0.2) < 1e-12);
    assert.ok(pair.diffInterval![0] > 0 && pair.diffInterval![1] < 0.4, `${pair.diffInterval}`);
    assert.match(
      md,
      /\| compact \(ARC-AGI-1\) \| 40 \| 10\.0% \| 30\.0% \| \+20\.0 \| \[\+\d+\.\d, \+\d+\.\d\] \| \+12\.0 \|/,
    );
    // TRM at DIS's 3,000 steps and at DIS's 3,000 x 64 x 3 network applications: the same step of its curve.
    const b = r.budget["arc1.compact"];
    assert.deepEqual(b.trm_at_steps, { step: 3000, pass2: 0.075 });
    assert.deepEqual(b.trm_at_net_calls, { step: 3000, net_calls: 576_000, pass2: 0.075 });
    assert.equal(b.dis_pass2, 0.3);
    // The validation split is reported apart: its own section and its own figures, not the test ones.
    assert.equal(r.ours["arc1.trm-compact"].validation!.pass2, 0.1);
    assert.equal(r.ours["arc1.dis-compact"].validation!.tasks, 10);
    assert.match(report.summary[0], /DIS − TRM \+20\.0 points, 95% interval \[\+/);
    // --seeds gathers each finished row's pass@2.
    assert.deepEqual(spec.headline!(r).map((h) => [h.key, h.value, h.paper]), [
      ["arc1.dis-compact.pass2", 0.3, 0.24],
      ["arc1.trm-compact.pass2", 0.1, 0.12],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
