/**
 * What the ARC experiments (table1, figure3, dis-variants) share: the rows of the paper's Table 1 with
 * their presets, base configs and the paper's values, the quoted LLM rows, the two sets, and reading
 * pass@k from a row.
 *
 * @module
 */
import { join } from "node:path";
import { bootstrapRatios, pairedMeanIntervals } from "../lib/analysis/mod.ts";
import { readTextIfExists } from "../lib/io/mod.ts";
import { type Rng, stream } from "../lib/random/mod.ts";
import { type ArcTaskScore, RUN_FILES, type RunResults } from "../lib/train/mod.ts";

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

/** One scored task of a row's eval_tasks.json (lib/train writes it). */
export type { ArcTaskScore };

/** A row's per-task scores: the scored test tasks, and the validation tasks when the run has them. */
export interface ArcTaskScores {
  test: ArcTaskScore[];
  validation: ArcTaskScore[] | null;
}

/** Reads a finished row's eval_tasks.json (lib/train writes it for ARC runs); null when it has none. */
export async function readArcTaskScores(rowDir: string): Promise<ArcTaskScores | null> {
  const text = await readTextIfExists(join(rowDir, RUN_FILES.evalTasks));
  if (text === null) return null;
  const doc = JSON.parse(text) as { test?: ArcTaskScore[]; validation?: ArcTaskScore[] };
  return { test: doc.test ?? [], validation: doc.validation ?? null };
}

/** How the ARC reports bootstrap over tasks: resamples, central coverage and the random stream's prefix. */
export const ARC_BOOTSTRAP = { resamples: 2000, level: 0.95, stream: "arc/bootstrap" } as const;

/** An interval `[low, high]`, null where there was nothing to resample. */
export type ArcInterval = [number, number] | null;

function interval(iv: [number, number]): ArcInterval {
  return Number.isFinite(iv[0]) && Number.isFinite(iv[1]) ? iv : null;
}

/**
 * The generator of one interval: stream `arc/bootstrap/<name>` of the experiment seed, so an interval
 * depends on its own row (or pair) only, never on which other rows have finished.
 */
export function arcBootstrapRng(seed: number, name: string): Rng {
  return stream(seed, `${ARC_BOOTSTRAP.stream}/${name}`);
}

/** pass@1 and pass@2 over tasks with their percentile-bootstrap intervals (shared resamples). */
export interface PassIntervals {
  tasks: number;
  pass1: number | null;
  pass2: number | null;
  pass1Interval: ArcInterval;
  pass2Interval: ArcInterval;
}

const mean = (x: readonly number[]) => x.length === 0 ? null : x.reduce((a, b) => a + b, 0) / x.length;

/**
 * pass@1 and pass@2 of per-task scores (TRM's per-task average) with percentile-bootstrap intervals over
 * the tasks, drawn from `rng`.
 *
 * @example
 * ```ts
 * import { Rng } from "../lib/random/mod.ts";
 * import { passIntervals } from "./_arc.ts";
 * const tasks = [{ id: "a", tests: 1, "pass@1": 1, "pass@2": 1 }, { id: "b", tests: 2, "pass@1": 0, "pass@2": 0.5 }];
 * passIntervals(tasks, Rng.fromSeed(0)).pass2; // 0.75
 * ```
 */
export function passIntervals(tasks: readonly ArcTaskScore[], rng: Rng): PassIntervals {
  const p1 = tasks.map((t) => t["pass@1"] ?? 0);
  const p2 = tasks.map((t) => t["pass@2"] ?? 0);
  const ones = tasks.map(() => 1);
  const [i1, i2] = bootstrapRatios([{ num: p1, den: ones }, { num: p2, den: ones }], {
    resamples: ARC_BOOTSTRAP.resamples,
    level: ARC_BOOTSTRAP.level,
    rng,
  });
  return {
    tasks: tasks.length,
    pass1: mean(p1),
    pass2: mean(p2),
    pass1Interval: interval(i1),
    pass2Interval: interval(i2),
  };
}

/** Two rows' pass@2 over the tasks both scored, and the difference b − a with its paired interval. */
export interface PairedPass2 {
  /** Tasks scored by both rows (the pairs resampled). */
  tasks: number;
  /** Tasks scored by only one of the rows (left out of the pairing). */
  unpaired: number;
  a: number | null;
  b: number | null;
  diff: number | null;
  aInterval: ArcInterval;
  bInterval: ArcInterval;
  diffInterval: ArcInterval;
}

/**
 * pass@2 of two rows over the tasks both scored (matched by id) and the difference b − a, with
 * percentile-bootstrap intervals from the same resamples of the tasks.
 *
 * @example
 * ```ts
 * import { Rng } from "../lib/random/mod.ts";
 * import { pairedPass2 } from "./_arc.ts";
 * const t = (id: string, p: number) => ({ id, tests: 1, "pass@1": p, "pass@2": p });
 * pairedPass2([t("a", 0), t("b", 1)], [t("a", 1), t("b", 1)], Rng.fromSeed(0)).diff; // 0.5
 * ```
 */
export function pairedPass2(a: readonly ArcTaskScore[], b: readonly ArcTaskScore[], rng: Rng): PairedPass2 {
  const byId = new Map(b.map((t) => [t.id, t]));
  const common = a.filter((t) => byId.has(t.id)).sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const pa = common.map((t) => t["pass@2"] ?? 0);
  const pb = common.map((t) => byId.get(t.id)!["pass@2"] ?? 0);
  const iv = pairedMeanIntervals(pa, pb, { resamples: ARC_BOOTSTRAP.resamples, level: ARC_BOOTSTRAP.level, rng });
  const ma = mean(pa);
  const mb = mean(pb);
  return {
    tasks: common.length,
    unpaired: a.length + b.length - 2 * common.length,
    a: ma,
    b: mb,
    diff: ma === null || mb === null ? null : mb - ma,
    aInterval: interval(iv.a),
    bInterval: interval(iv.b),
    diffInterval: interval(iv.diff),
  };
}
