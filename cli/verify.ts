/**
 * `verify [--only a,b] [--backend cpu] [--data-dir DIR] [--require-data] [--expected DIR] [--out DIR]
 * [--jobs N] [--atol X] [--rtol X] [--from DIR] [--update]`: re-runs the smoke profile of every experiment
 * (each in its own `reproduce` subprocess) and compares its results.json and report.md with the goldens
 * in fixtures/expected/<name>/ (fixtures/README.md says how they were made).
 *
 * On the reference backend (`cpu`, run with OpenBLAS off: `TRM_DIS_BLAS=off` is set for the children)
 * the files must be byte-identical; on any other backend numbers may differ within the tolerance
 * (`--atol`, `--rtol`). Experiments that read ARC data are skipped, with a message, when no data folder
 * is found (`--data-dir`, else `$TRM_DIS_DATA_DIR`); `--require-data` makes that a failure. Any
 * difference, failed run or required skip exits 1, after printing a readable diff. `--update` rewrites the
 * goldens from this run (reference backend only).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseBackend } from "../lib/backend/mod.ts";
import { InputError } from "../lib/errors.ts";
import { checkOutput, claimOutput, type FolderLock, isDirectory, lockFolder, writeTextAtomic } from "../lib/io/mod.ts";
import {
  compareFiles,
  DEFAULT_TOLERANCE,
  experimentRegistry,
  type ExperimentSpec,
  type FileComparison,
  runJobs,
  type Tolerance,
} from "../lib/experiment/mod.ts";
import { backendOption, checkDataDir, print, printErr, settings } from "./_common.ts";
import { DEFAULT_EXPERIMENTS_DIR } from "./list.ts";
import { DATA_DIR_ENV } from "./reproduce.ts";
import { formatDuration } from "./_progress.ts";

/** The backend whose goldens are exact (pure JS, OpenBLAS off). */
export const REFERENCE_BACKEND = "cpu";
/** The goldens. */
export const DEFAULT_EXPECTED_DIR: string = fileURLToPath(new URL("../fixtures/expected/", import.meta.url));
/** The files of an experiment folder that are compared. */
export const COMPARED_FILES = ["results.json", "report.md"] as const;

const MOD_PATH = fileURLToPath(new URL("../mod.ts", import.meta.url));

function positive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got "${v}".`);
  }
  return n;
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`Expected a non-negative number, got "${v}".`);
  }
  return n;
}

function commaList(v: string): string[] {
  const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new InvalidArgumentError(`Expected a comma-separated list, got "${v}".`);
  return items;
}

async function experiments(dir: string): Promise<{ name: string; spec: ExperimentSpec }[]> {
  const out: { name: string; spec: ExperimentSpec }[] = [];
  for (const e of await experimentRegistry(dir)) if (e.spec) out.push({ name: e.name, spec: e.spec });
  return out;
}

function statusText(c: FileComparison): string {
  return c.status === "identical" ? "identical" : c.status.replace(/-/g, " ");
}

/**
 * Checks and locks verify's `--out` folder and the experiment folders in it that are about to be replaced
 * (lib/io `checkOutput`): a file, a folder of the user's or another kind of output is refused with exit 2.
 */
async function claimVerifyRoot(root: string, names: readonly string[]): Promise<FolderLock> {
  const action = "Cannot run verify's smoke runs";
  await checkOutput(root, "verify", action);
  for (const name of names) await checkOutput(join(root, name), "experiment", action);
  const lock = await lockFolder(root, { command: ["verify", ...Deno.args] });
  try {
    await claimOutput(root, "verify", action);
    return lock;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** The `verify` command. */
export function makeCommand(): Command {
  return new Command("verify")
    .description("re-run every experiment's smoke profile and compare it with the goldens in fixtures/expected")
    .addOption(new Option("--only <list>", "only these experiments (comma-separated)").argParser(commaList))
    .addOption(backendOption(REFERENCE_BACKEND))
    .addOption(new Option("--data-dir <dir>", `ARC data folder (default: $${DATA_DIR_ENV})`))
    .addOption(new Option("--require-data", "fail when an experiment is skipped for lack of ARC data"))
    .addOption(new Option("--expected <dir>", "golden folder").default(DEFAULT_EXPECTED_DIR, "fixtures/expected"))
    .addOption(
      new Option("--out <dir>", "where the smoke runs go (replaced per experiment)").default(join("runs", "verify")),
    )
    .addOption(new Option("--jobs <n>", "experiments run at a time").argParser(positive).default(2))
    .addOption(
      new Option("--atol <x>", "absolute tolerance off the reference backend").argParser(nonNegative)
        .default(DEFAULT_TOLERANCE.atol),
    )
    .addOption(
      new Option("--rtol <x>", "relative tolerance off the reference backend").argParser(nonNegative)
        .default(DEFAULT_TOLERANCE.rtol),
    )
    .addOption(new Option("--from <dir>", "compare the experiment folders already in DIR/<name> (no runs)"))
    .addOption(new Option("--update", "rewrite the goldens from this run (reference backend only)"))
    .action(async (opts: {
      only?: string[];
      backend: string;
      dataDir?: string;
      requireData?: boolean;
      expected: string;
      out: string;
      jobs: number;
      atol: number;
      rtol: number;
      from?: string;
      update?: boolean;
    }) => {
      const backend = parseBackend(opts.backend);
      const reference = backend === REFERENCE_BACKEND;
      if (opts.update && !reference) {
        throw new InputError(
          `Cannot update the goldens from backend "${backend}": they are made on the reference backend "${REFERENCE_BACKEND}"`,
        );
      }
      const tol: Tolerance | null = reference ? null : { atol: opts.atol, rtol: opts.rtol };
      let all = await experiments(DEFAULT_EXPERIMENTS_DIR);
      if (opts.only) {
        const known = new Set(all.map((e) => e.name));
        const unknown = opts.only.filter((n) => !known.has(n));
        if (unknown.length > 0) {
          throw new InputError(
            `Cannot verify ${unknown.map((u) => `"${u}"`).join(", ")}: no such experiment (expected ${
              [...known].join(", ")
            })`,
          );
        }
        all = all.filter((e) => opts.only!.includes(e.name));
      }
      const dataDir = opts.dataDir ?? settings().dataDir;
      const haveData = dataDir !== undefined && await isDirectory(dataDir);
      if (opts.dataDir !== undefined) await checkDataDir(opts.dataDir);
      const skipped = haveData ? [] : all.filter((e) => e.spec.needsArcData).map((e) => e.name);
      for (const name of skipped) {
        print(
          `skip ${name}: it needs the ARC data, and ${
            dataDir === undefined ? `neither --data-dir nor $${DATA_DIR_ENV} is set` : `"${dataDir}" is not a folder`
          }`,
        );
      }
      const toRun = all.filter((e) => !skipped.includes(e.name)).map((e) => e.name);
      const outRoot = opts.from ?? opts.out;
      printErr(
        `verify: ${toRun.join(", ") || "nothing"} on backend ${backend}${
          reference ? " (reference: exact, OpenBLAS off)" : ""
        }` +
          `${opts.from ? `, comparing ${opts.from}` : ` -> ${outRoot}`}`,
      );
      const failures: string[] = [];
      // The smoke runs replace only what verify wrote before: never a file or a folder of the user's. The lock
      // is released when this block ends, however it ends.
      using _lock = !opts.from && toRun.length > 0 ? await claimVerifyRoot(outRoot, toRun) : null;
      if (!opts.from && toRun.length > 0) {
        const t0 = performance.now();
        for (const name of toRun) await Deno.remove(join(outRoot, name), { recursive: true }).catch(() => {});
        const env: Record<string, string> = { NO_COLOR: "1" };
        if (reference) env.TRM_DIS_BLAS = "off";
        if (haveData) env[DATA_DIR_ENV] = resolve(dataDir!);
        const runs = await runJobs(toRun, {
          jobs: opts.jobs,
          tailLines: 8,
          command: (name) => ({
            command: Deno.execPath(),
            args: [
              "run",
              "-q",
              "-A",
              MOD_PATH,
              "reproduce",
              name,
              "--profile",
              "smoke",
              "--backend",
              backend,
              "--out",
              join(outRoot, name),
            ],
            env,
          }),
          onLine: (name, line) => {
            if (/^(row |reproduce )/.test(line)) printErr(`[${name}] ${line}`);
          },
        });
        for (const r of runs) {
          if (r.code === 0) continue;
          failures.push(r.id);
          print(`FAIL ${r.id}: the smoke run ${r.code === null ? "did not start" : `exited ${r.code}`}`);
          for (const l of r.tail) print(`    ${l}`);
        }
        printErr(`verify: smoke runs took ${formatDuration((performance.now() - t0) / 1000)}`);
      }
      for (const name of toRun) {
        if (failures.includes(name)) continue;
        const goldenDir = join(opts.expected, name);
        const outDir = join(outRoot, name);
        if (opts.update) {
          for (const f of COMPARED_FILES) {
            await writeTextAtomic(join(goldenDir, f), await Deno.readTextFile(join(outDir, f)));
          }
          print(`updated ${name}: ${COMPARED_FILES.map((f) => join(goldenDir, f)).join(", ")}`);
          continue;
        }
        const cmp = await compareFiles(goldenDir, outDir, COMPARED_FILES, tol);
        const ok = cmp.every((c) => c.status === "identical" || c.status === "within-tolerance");
        print(`${ok ? "ok  " : "FAIL"} ${name}: ${cmp.map((c) => `${c.file} ${statusText(c)}`).join(", ")}`);
        if (!ok) {
          failures.push(name);
          for (const c of cmp) {
            if (c.details.length === 0) continue;
            print(`  ${c.file} (golden ${join(goldenDir, c.file)}, new ${join(outDir, c.file)}):`);
            for (const l of c.details) print(`    ${l}`);
          }
        }
      }
      const passed = toRun.length - failures.length;
      print(
        `verify: ${passed} passed, ${failures.length} failed, ${skipped.length} skipped (backend ${backend}, ` +
          `${tol ? `tolerance atol ${tol.atol} rtol ${tol.rtol}` : "exact"})`,
      );
      if (failures.length > 0) {
        throw new Error(
          `Verification failed for ${failures.join(", ")}: see the differences above` +
            (reference ? "; if the change is intended, regenerate the goldens with `deno task verify --update`" : ""),
        );
      }
      if (skipped.length > 0 && opts.requireData) {
        throw new Error(`Verification incomplete: ${skipped.join(", ")} skipped for lack of ARC data (--require-data)`);
      }
    });
}
