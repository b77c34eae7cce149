/**
 * Profiles and rows. An experiment's configs are YAML files beside its module, one per profile:
 * `<name>.paper.yaml` holds the paper's settings, and `<name>.small.yaml` / `<name>.smoke.yaml` include it
 * and override what they reduce, so a reduced profile reads as a diff from the paper. Each row of an
 * experiment is one training run; its config is merged from the experiment's base for the row (preset,
 * data), the profile's `common` section and the profile's entry for the row, then resolved by lib/train.
 *
 * @module
 */
import { join } from "node:path";
import { ConfigError, loadConfig, type LoadedConfig, z } from "../config/mod.ts";
import { InputError } from "../errors.ts";
import { type LoadedTrainConfig, resolveTrainConfig, type TrainConfigInput } from "../train/mod.ts";

/** The profiles every experiment has, from the cheapest. */
export const PROFILES = ["smoke", "small", "paper"] as const;
/** Profiles an experiment may add (`long`: trained until the validation curves flatten, hours on a CPU). */
export const EXTRA_PROFILES = ["long"] as const;
/** Every profile name, from the cheapest. */
export const ALL_PROFILES = ["smoke", "small", "long", "paper"] as const;
/** One of {@linkcode ALL_PROFILES}. */
export type ProfileName = typeof ALL_PROFILES[number];

/** The profile `reproduce` runs when none is given. */
export const DEFAULT_PROFILE: ProfileName = "small";

/**
 * Checks a profile name from the command line.
 *
 * @example
 * ```ts
 * import { parseProfile } from "./config.ts";
 * parseProfile("smoke"); // "smoke"
 * ```
 */
export function parseProfile(name: string): ProfileName {
  if (!(ALL_PROFILES as readonly string[]).includes(name)) {
    throw new InputError(`Unknown profile "${name}": expected one of ${ALL_PROFILES.join(", ")}`);
  }
  return name as ProfileName;
}

/**
 * The YAML file of a profile: `<dir>/<experiment>.<profile>.yaml`.
 *
 * @example
 * ```ts
 * import { profileFile } from "./config.ts";
 * profileFile("experiments", "nqueens", "smoke"); // "experiments/nqueens.smoke.yaml"
 * ```
 */
export function profileFile(dir: string, experiment: string, profile: ProfileName): string {
  return join(dir, `${experiment}.${profile}.yaml`);
}

/** A partial training-run config (lib/train's keys); validated when a row is resolved. */
export const partialRunSchema: z.ZodType<Record<string, unknown>> = z.record(z.string(), z.unknown());

/**
 * The keys every experiment config has: its `version` (bumped when its results change) and the `paper`
 * table, figure or section it reproduces, the master seed, settings shared by every row (`common`), and
 * the rows a profile runs when `--rows` is not given (`default_rows`, null = all). `version` and `paper`
 * are not part of the experiment's config hash; run.json records them.
 *
 * @example
 * ```ts
 * import { z } from "../config/mod.ts";
 * import { experimentBase } from "./config.ts";
 * const schema = z.strictObject({ ...experimentBase, variant: z.string() });
 * schema.parse({ version: 1, paper: "Table 1", variant: "paper" }).seed; // 0
 * ```
 */
export const experimentBase: {
  version: z.ZodInt;
  paper: z.ZodString;
  seed: z.ZodDefault<z.ZodInt>;
  common: z.ZodDefault<z.ZodType<Record<string, unknown>>>;
  default_rows: z.ZodDefault<z.ZodNullable<z.ZodArray<z.ZodString>>>;
} = {
  /** Bumped whenever a change alters the experiment's results (lm-evaluation-harness's task version). */
  version: z.int().positive(),
  /** The table, figure or section of the paper the experiment reproduces. */
  paper: z.string().min(1),
  seed: z.int().nonnegative().default(0),
  common: partialRunSchema.default({}),
  default_rows: z.array(z.string().min(1)).min(1).nullable().default(null),
};

/** The fields of {@linkcode experimentBase} after validation. */
export interface ExperimentBaseConfig {
  /** Bumped whenever a change alters the experiment's results. */
  version: number;
  /** The table, figure or section of the paper the experiment reproduces. */
  paper: string;
  /** Master seed of every row (default 0). */
  seed: number;
  /** Training-run settings shared by every row, merged under each row's own. */
  common: Record<string, unknown>;
  /** Rows run when `--rows` is not given; null runs them all. */
  default_rows: string[] | null;
}

/**
 * Loads a profile of an experiment with its `include:` and the `--set` overrides.
 *
 * @example
 * ```ts ignore
 * const { config } = await loadProfile("experiments", "nqueens", "smoke", schema, ["seed=3"]);
 * ```
 */
export async function loadProfile<S extends z.ZodType>(
  dir: string,
  experiment: string,
  profile: ProfileName,
  schema: S,
  overrides: readonly string[] = [],
): Promise<LoadedConfig<z.output<S>> & { file: string }> {
  const file = profileFile(dir, experiment, profile);
  try {
    await Deno.stat(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ConfigError(`Cannot load profile "${profile}" of experiment "${experiment}": "${file}" does not exist`);
    }
    throw e;
  }
  return { ...(await loadConfig(file, schema, { overrides })), file };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merges config maps key by key, later ones winning; lists and scalars replace (lib/config's rule).
 *
 * @example
 * ```ts
 * import { mergeConfigs } from "./config.ts";
 * mergeConfigs({ train: { lr: 1, steps: 2 } }, { train: { lr: 3 } }); // { train: { lr: 3, steps: 2 } }
 * ```
 */
export function mergeConfigs(...parts: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isMap(a) || !isMap(b)) return structuredClone(b);
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = Object.hasOwn(a, k) ? merge(a[k], v) : structuredClone(v);
    return out;
  };
  return parts.reduce<Record<string, unknown>>((acc, p) => merge(acc, p) as Record<string, unknown>, {});
}

/** One row of an experiment: one training run. */
export interface RowPlan {
  /** Folder name and `--rows` key, e.g. `dis` or `arc1.trm-compact`: dot-separated parts of [a-z0-9-]. */
  id: string;
  /** Shown in tables and legends, e.g. `TRM-compact`. */
  label: string;
  /** The resolved training-run config. */
  loaded: LoadedTrainConfig;
}

const ROW_ID = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/;

/**
 * Resolves one row: merges `parts` (base first) and resolves the result with lib/train, naming the
 * profile file and the row in any error.
 *
 * @example
 * ```ts
 * import { rowPlan } from "./config.ts";
 * const row = rowPlan("dis", "DIS", [
 *   { seed: 0, data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } },
 *   { train: { steps: 10 } },
 * ], "nqueens.smoke.yaml");
 * row.loaded.config.train.steps; // 10
 * ```
 */
export function rowPlan(
  id: string,
  label: string,
  parts: readonly Record<string, unknown>[],
  source: string,
): RowPlan {
  if (!ROW_ID.test(id)) throw new RangeError(`Cannot plan row "${id}": ids are dot-separated [a-z0-9-] names`);
  const merged = mergeConfigs(...parts);
  return { id, label, loaded: resolveTrainConfig(merged as unknown as TrainConfigInput, `${source} (row ${id})`) };
}

/**
 * The rows `--rows` (or the profile's `default_rows`) selects: a selector matches a row when it equals
 * the row's id or one of its dot-separated parts (`arc1` selects every ARC-AGI-1 row of table1,
 * `trm-compact` both sets' TRM-compact rows). Rows keep the experiment's order. An unknown selector is
 * an InputError that lists the rows.
 *
 * @example
 * ```ts
 * import { selectRows } from "./config.ts";
 * selectRows(["arc1.trm", "arc1.dis", "arc2.dis"], ["dis"]); // ["arc1.dis", "arc2.dis"]
 * ```
 */
export function selectRows(ids: readonly string[], selectors: readonly string[] | null): string[] {
  if (selectors === null) return [...ids];
  const matches = (id: string, s: string) => id === s || id.split(".").includes(s);
  const unknown = selectors.filter((s) => !ids.some((id) => matches(id, s)));
  if (unknown.length > 0) {
    throw new InputError(
      `Cannot select rows: ${unknown.map((u) => `"${u}"`).join(", ")} match${unknown.length === 1 ? "es" : ""} ` +
        `no row (rows: ${ids.join(", ")})`,
    );
  }
  return ids.filter((id) => selectors.some((s) => matches(id, s)));
}
