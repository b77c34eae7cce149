/**
 * What the ARC experiments (table1, figure3, dis-variants) share: the rows of the paper's Table 1 with
 * their presets, base configs and the paper's values, the quoted LLM rows, the two sets, and reading
 * pass@k from a row.
 *
 * @module
 */
import type { RunResults } from "../lib/train/mod.ts";

/** The two evaluation sets, with the short names row ids use. */
export const TABLE1_SETS = [
  { name: "arc-agi-1", short: "arc1", label: "ARC-AGI-1" },
  { name: "arc-agi-2", short: "arc2", label: "ARC-AGI-2" },
] as const;
export type SetShort = typeof TABLE1_SETS[number]["short"];

/** One small-sample row of Table 1. */
export interface Table1ModelRow {
  id: string;
  label: string;
  /** The lib/model preset the row trains. */
  preset: string;
  /** Config set on top of the preset (before the profile's `common`). */
  base: Record<string, unknown>;
  /** The paper's parameter column. */
  paperParams: string;
  /** pass@2 in percent from the paper's Table 1. */
  paper: { arc1: number; arc2: number };
  /** The row's config is our assumption (the paper does not say). */
  assumption?: boolean;
}

/** Table 1's small-sample rows in the paper's order. */
export const TABLE1_MODELS: readonly Table1ModelRow[] = [
  {
    id: "trm-compact",
    label: "TRM-compact",
    preset: "arc-trm-compact",
    base: {},
    paperParams: "0.8M",
    paper: { arc1: 12.0, arc2: 0.0 },
  },
  {
    id: "dis-compact",
    label: "DIS-compact",
    preset: "arc-dis-compact",
    base: {},
    paperParams: "0.8M",
    paper: { arc1: 24.0, arc2: 0.0 },
  },
  {
    id: "trm-medium",
    label: "TRM-medium",
    preset: "arc-trm-medium",
    base: {},
    paperParams: "7M",
    paper: { arc1: 27.1, arc2: 0.0 },
  },
  {
    id: "dis-medium",
    label: "DIS-medium",
    preset: "arc-dis-medium",
    base: {},
    paperParams: "7M",
    paper: { arc1: 40.0, arc2: 2.5 },
  },
  { id: "trm", label: "TRM", preset: "arc-trm", base: {}, paperParams: "7M", paper: { arc1: 40.4, arc2: 3.3 } },
  {
    id: "dis",
    label: "DIS",
    preset: "arc-dis-medium",
    // Assumption (docs/upstream.md §8): TRM's recursion budget per step, as the `trm` row (TRM's ARC command).
    base: { model: { h_cycles: 3, l_cycles: 4 } },
    paperParams: "7M",
    paper: { arc1: 41.3, arc2: 6.0 },
    assumption: true,
  },
];
export type Table1Model = "trm-compact" | "dis-compact" | "trm-medium" | "dis-medium" | "trm" | "dis";

/**
 * The first config layers of a Table 1 model's row on an ARC set: the seed, the set and the model's preset,
 * then the model's `base`. Table 1 and Figure 3 lay their profile's overrides on top, so a Figure 3 row
 * trains what the same model's ARC-AGI-1 row of Table 1 trains.
 */
export function table1Layers(
  model: Table1ModelRow,
  set: typeof TABLE1_SETS[number]["name"],
  seed: number,
): Record<string, unknown>[] {
  return [{ seed, data: { kind: "arc", set }, model: { preset: model.preset } }, model.base];
}

/** The chain-of-thought LLM rows of Table 1, quoted (never run here). */
export const TABLE1_QUOTED: readonly { name: string; params: string; arc1: number; arc2: number }[] = [
  { name: "Deepseek R1", params: "671B", arc1: 15.8, arc2: 1.3 },
  { name: "Claude 3.7 16K", params: "?", arc1: 28.6, arc2: 0.7 },
  { name: "o3-mini-high", params: "?", arc1: 34.5, arc2: 3.0 },
  { name: "Gemini 2.5 Pro 32K", params: "?", arc1: 37.0, arc2: 4.9 },
  { name: "Grok-4-thinking", params: "1.7T", arc1: 66.7, arc2: 16.0 },
  { name: "Bespoke (Grok-4)", params: "1.7T", arc1: 79.6, arc2: 29.4 },
];

/** The paper's pass@2 (percent) of a Table 1 row on a set, or null for an unknown row. */
export function paperArcValue(model: string, set: SetShort): number | null {
  return TABLE1_MODELS.find((m) => m.id === model)?.paper[set] ?? null;
}

/** pass@1 and pass@2 of a finished ARC row (TRM's per-task average and the official per-output one). */
export interface ArcPassAt {
  pass1: number | null;
  pass2: number | null;
  pass2PerOutput: number | null;
  /** Evaluated tasks and their test inputs. */
  tasks: number | null;
  testInputs: number | null;
}

/**
 * Reads pass@k from the `results` object of a row's results.json (lib/train runResults); null when the
 * row has no ARC evaluation.
 *
 * @example
 * ```ts
 * import { arcPassAt } from "./_arc.ts";
 * import type { ArcEvalJson } from "../lib/train/mod.ts";
 * const e = { pass_at_k_per_task: { "pass@2": 0.5 }, pass_at_k_per_output: {}, counts: { tasks: 2 } };
 * arcPassAt({ eval: e as unknown as ArcEvalJson })?.pass2; // 0.5
 * ```
 */
export function arcPassAt(results: Pick<RunResults, "eval">): ArcPassAt | null {
  const e = results.eval;
  if (!e || !("pass_at_k_per_task" in e)) return null;
  return {
    pass1: e.pass_at_k_per_task?.["pass@1"] ?? null,
    pass2: e.pass_at_k_per_task?.["pass@2"] ?? null,
    pass2PerOutput: e.pass_at_k_per_output?.["pass@2"] ?? null,
    tasks: e.counts?.tasks ?? null,
    testInputs: e.counts?.testInputs ?? null,
  };
}

/** The pass@2 curve of a finished row (evaluation step -> TRM's per-task pass@2). */
export function passCurve(results: Pick<RunResults, "eval_curve">): [number, number][] {
  const c = results.eval_curve ?? [];
  return c.filter((p) => typeof p["pass@2"] === "number").map((p) => [p.step, p["pass@2"] as number]);
}
