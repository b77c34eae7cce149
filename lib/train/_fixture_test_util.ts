/**
 * Test helpers: the optimiser fixture written by tools/reference/optim_ref.py, and float comparison
 * that reports the largest difference.
 *
 * @module
 */
import assert from "node:assert/strict";

/** A tensor as the fixture stores it. */
export interface FxTensor {
  shape: number[];
  data: number[];
}

/** The optimiser fixture (format "optim-fixture", version 1). */
export interface OptimFixture {
  format: string;
  version: number;
  torch: string;
  hyper: { beta1: number; beta2: number; weight_decay: number; eps: number };
  schedule: {
    base_lr: number;
    warmup_steps: number;
    total_steps: number;
    min_ratio: number;
    lrs: number[];
    probe: Record<string, number>;
  };
  params0: Record<string, FxTensor>;
  grads: Record<string, FxTensor>[];
  results: Record<string, {
    params: Record<string, FxTensor>;
    exp_avg: Record<string, FxTensor>;
    exp_avg_sq: Record<string, FxTensor>;
    steps: Record<string, number>;
  }[]>;
  sign_sgd: {
    rows: number;
    dim: number;
    weight_decay: number;
    table0: FxTensor;
    steps: { ids: number[]; grad: FxTensor; lr: number; table: FxTensor }[];
  };
}

/** Loads and checks the committed fixture. */
export async function loadOptimFixture(): Promise<OptimFixture> {
  const url = new URL("../../fixtures/optim/optim_v1.json", import.meta.url);
  const fx = JSON.parse(await Deno.readTextFile(url)) as OptimFixture;
  assert.equal(fx.format, "optim-fixture");
  assert.equal(fx.version, 1);
  return fx;
}

/** Largest |a - b| and largest |a - b| / max(|b|, 1e-30); asserts shapes and tolerance. */
export function assertClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { atol: number; rtol: number },
): { abs: number; rel: number } {
  assert.equal(got.length, want.length, `${what}: length ${got.length}, expected ${want.length}`);
  let abs = 0, rel = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(want[i]), 1e-30));
    assert.ok(
      d <= tol.atol + tol.rtol * Math.abs(want[i]),
      `${what}[${i}]: got ${got[i]}, expected ${want[i]} (diff ${d})`,
    );
  }
  return { abs, rel };
}
