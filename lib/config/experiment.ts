/**
 * Experiment discovery. Every experiment is one module, `experiments/<name>.ts`, that exports `info`
 * (an {@linkcode ExperimentInfo}) and runs only when it is the main module, so it can be imported to
 * describe it without running it.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { checkConfig } from "./load.ts";

/** The `info` export of an experiment module. */
export interface ExperimentInfo {
  /** One line: what the experiment reproduces, e.g. "N-Queens, paper section 5.1 and Figure 2". */
  title: string;
  /** Profile name -> one line on what it runs and how long it takes; every experiment has smoke, small, paper. */
  profiles: Record<string, string>;
}

/**
 * The schema `info` exports are checked against.
 *
 * @example
 * ```ts
 * import { experimentInfoSchema } from "./experiment.ts";
 * experimentInfoSchema.parse({ title: "N-Queens", profiles: { smoke: "CPU, 1 minute" } });
 * ```
 */
export const experimentInfoSchema: z.ZodType<ExperimentInfo> = z.strictObject({
  title: z.string().min(1),
  profiles: z.record(z.string().min(1), z.string()),
});

/** One experiment found by {@linkcode listExperiments}. */
export interface ExperimentEntry {
  /** The file name without `.ts`: what `reproduce <name>` takes. */
  name: string;
  /** Path of the module: the folder joined with its file name. */
  file: string;
  /** The module's validated `info`. */
  info: ExperimentInfo;
  /** The loaded module (lib/experiment's registry reads its `spec`). */
  module: Record<string, unknown>;
}

/**
 * The experiments in `dir`: every `*.ts` file except `_*.ts` helpers and `*_test.ts` tests, by name.
 * Each module is imported; one that fails to load or lacks a valid `info` export is an error naming it
 * (with the underlying error as its cause).
 *
 * @example
 * ```ts
 * import { listExperiments } from "./experiment.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/demo.ts`, 'export const info = { title: "Demo", profiles: { smoke: "1 s" } };');
 * (await listExperiments(dir))[0].name; // "demo"
 * ```
 */
export async function listExperiments(dir: string): Promise<ExperimentEntry[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (
      (e.isFile || e.isSymlink) && e.name.endsWith(".ts") && !e.name.startsWith("_") && !e.name.endsWith("_test.ts")
    ) {
      names.push(e.name);
    }
  }
  names.sort();
  const out: ExperimentEntry[] = [];
  for (const fileName of names) {
    const file = join(dir, fileName);
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(resolve(file)).href);
    } catch (e) {
      throw new Error(`Cannot list experiments in "${dir}": module "${fileName}" failed to load`, { cause: e });
    }
    let info: ExperimentInfo;
    try {
      info = checkConfig(mod.info ?? null, experimentInfoSchema, { source: "info" }).config;
    } catch (e) {
      const why = (e as Error).message.replace(/^Cannot load config "info": /, "");
      throw new Error(`Cannot list experiments in "${dir}": module "${fileName}" has no valid "info" export: ${why}`, {
        cause: e,
      });
    }
    out.push({ name: fileName.slice(0, -3), file, info, module: mod });
  }
  return out;
}
