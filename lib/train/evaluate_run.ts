/**
 * Evaluating a run folder's latest checkpoint: what `cli eval` does, written under `RUN/eval/`.
 *
 * @module
 */
import { join } from "node:path";
import { compareNatural, type ProgressFn, renderReport, type ReportSection, stableJson } from "../report/mod.ts";
import { type EvalResult, evaluateModel } from "../eval/mod.ts";
import { replaceOutputDir, writeTextAtomic } from "../io/mod.ts";
import { checkpointDirName } from "./checkpoint.ts";
import { RUN_FILES } from "./run_files.ts";
import { evalData } from "./run_data.ts";
import { openTrainedRun } from "./reopen_run.ts";
import { BY_Q_COLUMNS, cell, evalJson, METHOD_NAMES } from "./run_report.ts";

/** Options of {@linkcode evaluateRun}. */
export interface EvaluateRunOptions {
  /**
   * Which split. Default "test". "validation": the run's never-scored split (`data.validation`), an error
   * when it has none; ARC scores only "test" and "validation".
   */
  split?: "test" | "validation" | "train";
  /** Default: the run's `eval.batch_size`. */
  batchSize?: number;
  /** Default: all examples (the run's `eval.max_examples` is not applied). */
  maxExamples?: number | null;
  /** The ARC data folder where the config's `data.data_dir` is null (default: the fetch cache). */
  dataDir?: string;
  /** Called after every evaluation batch. */
  onProgress?: ProgressFn;
}

/** What {@linkcode evaluateRun} wrote. */
export interface RunEvaluation {
  /** The folder the outputs went to: `RUN/eval/<split>-step-NNNNNN`. */
  dir: string;
  /** The step of the checkpoint that was evaluated. */
  step: number;
  /** The evaluation's metrics, as written to the folder. */
  result: EvalResult;
}

/**
 * Evaluates the latest checkpoint of a run (EMA weights when the run uses EMA) on a split, streaming in
 * batches, and writes `RUN/eval/<split>-step-NNNNNN/` with eval.json (byte-stable), report.md and, for
 * ARC, submission.json. Initialise the backend first.
 *
 * @example
 * ```ts ignore
 * const { result } = await evaluateRun("runs/train/dis_tiny", { split: "test" });
 * ```
 */
export async function evaluateRun(runDir: string, opts: EvaluateRunOptions = {}): Promise<RunEvaluation> {
  const split = opts.split ?? "test";
  const run = await openTrainedRun(runDir, { dataDir: opts.dataDir });
  try {
    const data = evalData(run.data, split);
    const result = await evaluateModel(run.model, run.method, data, {
      batchSize: opts.batchSize ?? run.config.eval.batch_size,
      maxExamples: opts.maxExamples ?? null,
      onProgress: opts.onProgress,
    });
    const dir = join(runDir, RUN_FILES.eval, `${split}-${checkpointDirName(run.step)}`);
    const doc = {
      format: 1,
      split,
      step: run.step,
      ema: run.ema,
      hashes: { config_sha256: run.loaded.hash, data_sha256: run.data.dataHash },
      result: evalJson(result),
    };
    const sections: ReportSection[] = [{
      heading: "Summary",
      table: {
        columns: [{ key: "metric" }, { key: "value", format: cell }],
        rows: Object.keys(result.summary).sort(compareNatural).map((k) => ({ metric: k, value: result.summary[k] })),
      },
    }];
    if (result.kind === "nqueens") {
      sections.push({
        heading: "By number of given queens",
        table: {
          columns: BY_Q_COLUMNS,
          rows: result.metrics.byQ.map((g) => ({ ...g })),
        },
      });
    }
    const markdown = renderReport({
      title: `Evaluation of ${runDir} at step ${run.step} (${split})`,
      summary: [
        `${METHOD_NAMES[run.method.method]} (${run.config.model.preset}), ${
          run.ema ? "EMA" : "live"
        } weights, ${result.examples} examples, ${result.forwardPassesPerSample} network applications per sample.`,
      ],
      sections,
      hashes: { config: run.loaded.hash, data: run.data.dataHash },
    });
    await replaceOutputDir(dir, "evaluation", async (tmp) => {
      await writeTextAtomic(join(tmp, "eval.json"), stableJson(doc) + "\n");
      await writeTextAtomic(join(tmp, "report.md"), markdown);
      if (result.kind === "arc") {
        await writeTextAtomic(join(tmp, RUN_FILES.submission), JSON.stringify(result.submission) + "\n");
      }
    });
    return { dir, step: run.step, result };
  } finally {
    run.dispose();
  }
}
