import assert from "node:assert/strict";
import { loadOptimFixture } from "./_fixture_test_util.ts";
import { learningRate, validateSchedule } from "./schedule.ts";

Deno.test("schedule: warmup start, warmup end, cosine end", () => {
  const s = { baseLr: 1e-4, warmupSteps: 2000, totalSteps: 12_000, minRatio: 0.1 };
  assert.equal(learningRate(0, s), 0);
  assert.equal(learningRate(1, s), 1e-4 / 2000);
  assert.equal(learningRate(1000, s), 5e-5);
  assert.equal(learningRate(2000, s), 1e-4);
  assert.ok(Math.abs(learningRate(7000, s) - 1e-4 * (0.1 + 0.9 * 0.5)) < 1e-18, "half way down the cosine");
  assert.ok(Math.abs(learningRate(12_000, s) - 1e-5) < 1e-18, "ends at baseLr * minRatio");
});

Deno.test("schedule: minRatio 1 is constant after warmup (the TRM and DIS setting)", () => {
  const s = { baseLr: 1e-4, warmupSteps: 2000, totalSteps: 519_000, minRatio: 1 };
  for (const step of [2000, 2001, 100_000, 519_000]) assert.equal(learningRate(step, s), 1e-4);
  assert.equal(learningRate(1999, s), (1e-4 * 1999) / 2000);
});

Deno.test("schedule: equals TRM's Python function bit for bit", async () => {
  const fx = await loadOptimFixture();
  const s = {
    baseLr: fx.schedule.base_lr,
    warmupSteps: fx.schedule.warmup_steps,
    totalSteps: fx.schedule.total_steps,
    minRatio: fx.schedule.min_ratio,
  };
  for (const [step, want] of Object.entries(fx.schedule.probe)) {
    assert.equal(learningRate(Number(step), s), want, `step ${step}`);
  }
});

Deno.test("schedule: validation names the field", () => {
  assert.throws(
    () => validateSchedule({ baseLr: 1, warmupSteps: 1.5, totalSteps: 10, minRatio: 0 }),
    /warmupSteps is 1.5/,
  );
  assert.throws(() => validateSchedule({ baseLr: 1, warmupSteps: 1, totalSteps: 10, minRatio: 2 }), /minRatio is 2/);
  validateSchedule({ baseLr: 1e-4, warmupSteps: 0, totalSteps: 0, minRatio: 1 });
});
