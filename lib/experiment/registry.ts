/**
 * The experiment registry: the one list of experiments that `list`, `reproduce` and `verify` read. An
 * experiment is a module `<dir>/<name>.ts` (not `_*.ts`, not `*_test.ts`) exporting `info` (checked
 * against lib/config's schema) and `spec` ({@linkcode ExperimentSpec}); the registry holds them by name,
 * in name order.
 *
 * @module
 */
import { type ExperimentInfo, listExperiments } from "../config/mod.ts";
import { InputError } from "../errors.ts";
import type { ExperimentSpec } from "./spec.ts";

/** One experiment of the registry. */
export interface RegisteredExperiment {
  /** The file name without `.ts`: what `reproduce <name>` takes. */
  name: string;
  /** Path of the module: the folder joined with its file name. */
  file: string;
  /** The module's `info`: title and one line per profile. */
  info: ExperimentInfo;
  /** The module's `spec`, or null when it exports none (`list` still shows it; `reproduce` refuses it). */
  spec: ExperimentSpec | null;
}

function isSpec(v: unknown): v is ExperimentSpec {
  return typeof v === "object" && v !== null && typeof (v as { summarize?: unknown }).summarize === "function" &&
    typeof (v as { rows?: unknown }).rows === "function";
}

/**
 * The experiments in a folder, by name. A module that fails to load or exports no valid `info` is an
 * error naming the folder and the module.
 *
 * @example
 * ```ts ignore
 * const all = await experimentRegistry("experiments");
 * all.map((e) => e.name); // ["dis-variants", "figure3", "nqueens", "table1"]
 * ```
 */
export async function experimentRegistry(dir: string): Promise<RegisteredExperiment[]> {
  const out: RegisteredExperiment[] = [];
  for (const e of await listExperiments(dir)) {
    const spec = (e.module as { spec?: unknown }).spec;
    out.push({ name: e.name, file: e.file, info: e.info, spec: isSpec(spec) ? spec : null });
  }
  return out;
}

/**
 * The spec of experiment `name`; an unknown name is an InputError listing the experiments, a module
 * without a spec an Error naming its file. `action` starts the messages (e.g. `Cannot reproduce "x"`).
 */
export function experimentSpec(
  registry: readonly RegisteredExperiment[],
  name: string,
  action: string,
): ExperimentSpec {
  const entry = registry.find((e) => e.name === name);
  if (!entry) {
    throw new InputError(
      `${action}: no such experiment (expected one of ${registry.map((e) => e.name).join(", ")})`,
    );
  }
  if (!entry.spec) throw new Error(`${action}: experiments/${name}.ts exports no experiment "spec"`);
  return entry.spec;
}
