/**
 * `eval RUN_DIR [--data test|validation|train] [--backend NAME] [--batch-size N] [--max-examples N]`:
 * evaluates the latest checkpoint of a run folder (EMA weights when the run used EMA), every sample for all
 * N_sup steps, streaming in batches. N-Queens: exact, valid, ceiling, overall and per Q; ARC: the
 * augmentation vote with pass@1/2/5/10 under both averaging rules and submission.json. `validation` is the
 * run's never-scored split (ARC: the held-out test pairs of `data.validation` training tasks; N-Queens: the
 * validation boards). Writes `RUN_DIR/eval/<split>-step-N/`.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { join } from "node:path";
import type { BackendRequest } from "../lib/backend/mod.ts";
import { InputError } from "../lib/errors.ts";
import { ROWS_DIR } from "../lib/experiment/mod.ts";
import { isDirectory } from "../lib/io/mod.ts";
import { compareNatural, type Progress, type ProgressFn } from "../lib/report/mod.ts";
import { evaluateRun } from "../lib/train/mod.ts";
import { backendOption, print, printErr, settings, startBackend } from "./_common.ts";
import { createProgress, type ProgressReporter } from "./_progress.ts";

/**
 * One progress renderer per label ("data", "train", "eval"), so a periodic evaluation does not reset the
 * training bar; a label's renderer is stopped when its work is done.
 */
export function progressRouter(): { update: ProgressFn; stop(): void } {
  const open = new Map<string, ProgressReporter>();
  return {
    update(p: Progress) {
      const label = p.label ?? "";
      let r = open.get(label);
      if (!r) open.set(label, r = createProgress({ label }));
      r.update(p);
      if (label !== "train" && p.total > 0 && p.done >= p.total) {
        r.stop();
        open.delete(label);
      }
    },
    stop() {
      for (const r of open.values()) r.stop();
      open.clear();
    },
  };
}

function positive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got "${v}".`);
  }
  return n;
}

const fmt = (x: number | null | undefined) =>
  x === null || x === undefined ? "—" : Number.isInteger(x) ? String(x) : x.toFixed(4);

/**
 * An experiment folder (`reproduce`'s, with its rows under `rows/`) is not a run: say which row folders
 * to evaluate instead of failing on its config.
 */
async function refuseExperimentFolder(dir: string): Promise<void> {
  const rowsDir = join(dir, ROWS_DIR);
  if (!(await isDirectory(rowsDir)) || await isDirectory(join(dir, "checkpoints"))) return;
  const rows: string[] = [];
  for await (const e of Deno.readDir(rowsDir)) if (e.isDirectory) rows.push(join(rowsDir, e.name));
  rows.sort();
  throw new InputError(
    `Cannot evaluate "${dir}": it is an experiment folder, not a run; evaluate one of its rows` +
      (rows.length > 0 ? `, e.g. ${rows.map((r) => `\`eval ${r}\``).join(" or ")}` : " (it has none yet)"),
  );
}

/** The `eval` command. */
export function makeCommand(): Command {
  return new Command("eval")
    .description("evaluate the latest checkpoint of a run folder")
    .argument("<run>", "run folder written by `train`")
    .addOption(
      new Option("--data <split>", "split to evaluate (validation: the run's data.validation split)")
        .choices(["test", "validation", "train"]).default("test"),
    )
    .addOption(backendOption())
    .addOption(
      new Option("--batch-size <n>", "rows per batch (default: the run's eval.batch_size)").argParser(positive),
    )
    .addOption(new Option("--max-examples <n>", "evaluate only the first N examples").argParser(positive))
    .action(async (
      runDir: string,
      opts: {
        data: "test" | "validation" | "train";
        backend: BackendRequest;
        batchSize?: number;
        maxExamples?: number;
      },
    ) => {
      await refuseExperimentFolder(runDir);
      const backend = await startBackend(opts.backend);
      printErr(`eval: ${runDir} (${opts.data}), backend ${backend.name}`);
      const progress = progressRouter();
      let out;
      try {
        out = await evaluateRun(runDir, {
          dataDir: settings().dataDir,
          split: opts.data,
          batchSize: opts.batchSize,
          maxExamples: opts.maxExamples,
          onProgress: progress.update,
        });
      } finally {
        progress.stop();
      }
      const r = out.result;
      print(`Evaluated ${runDir} at step ${out.step} on ${opts.data}: ${r.examples} examples`);
      for (const k of Object.keys(r.summary).sort(compareNatural)) print(`  ${k}: ${fmt(r.summary[k])}`);
      print(`  written to ${out.dir}`);
    });
}
