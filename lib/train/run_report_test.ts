import assert from "node:assert/strict";
import { curveKeys } from "./run_report.ts";
import { checkLoggedMetrics, expectedMetricSteps } from "./metrics_check.ts";
import { InputError } from "../errors.ts";
import type { TrainConfig } from "./config.ts";

Deno.test("curveKeys: evaluateModel's order whatever the points' key order (a resumed curve has sorted keys)", () => {
  const fresh = { exact: 0, valid: 0, ceiling: 1, accuracy: 0.5, count: 8, validation_exact: 0, validation_count: 4 };
  const sorted = Object.fromEntries(Object.entries(fresh).sort(([a], [b]) => (a < b ? -1 : 1)));
  const want = ["exact", "valid", "ceiling", "accuracy", "count", "validation_exact", "validation_count"];
  assert.deepEqual(curveKeys("nqueens", [{ step: 2, summary: fresh }]), want);
  assert.deepEqual(curveKeys("nqueens", [{ step: 2, summary: sorted }, { step: 4, summary: fresh }]), want);
  const arc = { "pass@10": 0, "pass@2": 0, "pass@2_per_output": 0, count: 3, "validation_pass@2": 0 };
  assert.deepEqual(curveKeys("arc", [{ step: 2, summary: arc }]), [
    "count",
    "pass@2",
    "pass@2_per_output",
    "pass@10",
    "validation_pass@2",
  ]);
});

Deno.test("checkLoggedMetrics: the records up to the checkpoint's step must all be there", () => {
  const cfg = { train: { log_interval: 2, eval_interval: 4 }, eval: { at_end: true } } as unknown as TrainConfig;
  assert.deepEqual(expectedMetricSteps(cfg, 6, 7), { train: [2, 4, 6], eval: [4] });
  assert.deepEqual(expectedMetricSteps(cfg, 7, 7), { train: [2, 4, 6, 7], eval: [4, 7] });
  const full = [2, 4, 6].map((step) => ({ step, kind: "train" })).concat([{ step: 4, kind: "eval" }]);
  checkLoggedMetrics(full, cfg, 6, 7, "m.jsonl", "resume");
  assert.throws(
    () => checkLoggedMetrics(full.slice(1), cfg, 6, 7, "m.jsonl", "resume"),
    (e) =>
      e instanceof InputError &&
      /"m\.jsonl" does not hold the metrics up to step 6 .*missing step\(s\) 2/.test(e.message),
  );
  assert.throws(() => checkLoggedMetrics([], cfg, 6, 7, "m.jsonl", "resume"), InputError);
});
