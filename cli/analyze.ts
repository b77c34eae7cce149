/**
 * `analyze RUN_DIR [RUN_DIR...] [--data test|train] [--w LIST] [--guidance LIST | --no-guidance]
 * [--max-examples N] [--batch-size N] [--resamples N] [--seed N] [--backend NAME] [--out DIR]`:
 * the policy-improvement diagnostics of paper section 3 (lib/analysis, docs/analysis.md) for the latest
 * checkpoint of one or more run folders, side by side. Writes report.md, results.json, SVG plots and
 * run.json into `RUN_DIR/analysis/` for one run, or into a folder of their own,
 * `runs/analyze/<run>-vs-<run>...`, for a comparison of several, unless `--out` says otherwise; the runs'
 * own report.md and results.json are not touched.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { BackendRequest } from "../lib/backend/mod.ts";
import {
  type AnalysisResult,
  analyzeModel,
  DEFAULT_RESAMPLES,
  DEFAULT_WEIGHTS,
  type NamedAnalysis,
  writeAnalysis,
} from "../lib/analysis/mod.ts";
import { canonicalJson, collectProvenance, sha256Hex } from "../lib/report/mod.ts";
import { checkOutput } from "../lib/io/mod.ts";
import { openTrainedRun } from "../lib/train/mod.ts";
import { backendOption, outOption, print, printErr, seedOption, settings, startBackend } from "./_common.ts";
import { createProgress } from "./_progress.ts";

/** The folder inside a run that `analyze` writes by default. */
export const ANALYSIS_DIR = "analysis";

function positive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got "${v}".`);
  }
  return n;
}

/** A comma-separated list of finite weights, e.g. `0,0.5,1,1.5,2`. */
export function parseWeights(v: string): number[] {
  const parts = v.split(",").map((s) => s.trim());
  const ws = parts.map(Number);
  const bad = parts.findIndex((s, i) => s === "" || !Number.isFinite(ws[i]));
  if (bad >= 0) throw new InvalidArgumentError(`Expected comma-separated numbers such as 0,0.5,1,2, got "${v}".`);
  return ws;
}

/** Names for the runs' columns and legends: TRM / DIS when unambiguous, else the folder names. */
function runNames(dirs: string[], methods: string[]): string[] {
  const upper = methods.map((m) => m.toUpperCase());
  const names = upper.map((m, i) => (upper.filter((x) => x === m).length === 1 ? m : basename(resolve(dirs[i]))));
  return names.map((n, i) => (names.filter((x) => x === n).length === 1 ? n : `${n} (${i + 1})`));
}

const f3 = (x: number | null) => (x === null ? "—" : x.toFixed(3));

function summary(name: string, r: AnalysisResult): string[] {
  const w1 = r.weights.indexOf(1);
  const lines = [
    `${name}: ${r.examples} examples, dead steps: ${r.deadSteps.length ? r.deadSteps.join(", ") : "none"}`,
  ];
  for (const s of r.steps) {
    lines.push(
      `  step ${s.step}: margin(w=1) ${f3(s.margin[w1])}, CE ${f3(s.ceBefore)} -> ${f3(s.ceAfter)}, ` +
        `exact ${f3(s.exactBefore)} -> ${f3(s.exactAfter)}${s.dead ? "  (dead)" : ""}`,
    );
  }
  const last = (xs: number[]) => xs[xs.length - 1];
  lines.push(`  guided exact: ${r.guidance.map((g) => `w=${g.w} ${f3(last(g.exact))}`).join(", ")}`);
  return lines;
}

/**
 * Where `analyze` writes without `--out`: one run's own `RUN/analysis/`; a comparison of several runs in
 * a folder of its own, `runs/analyze/<run>-vs-<run>...`, never inside one of the runs it compares.
 */
export function defaultOut(dirs: readonly string[]): string {
  if (dirs.length === 1) return join(dirs[0], ANALYSIS_DIR);
  const names = dirs.map((d) => basename(resolve(d)));
  return join("runs", "analyze", names.join("-vs-"));
}

/** The `analyze` command. */
export function makeCommand(): Command {
  return new Command("analyze")
    .description("policy-improvement diagnostics of trained runs (margins, dead compute, guided decoding)")
    .argument("<runs...>", "run folders written by `train` (several are compared side by side)")
    .addOption(new Option("--data <split>", "split to analyse").choices(["test", "train"]).default("test"))
    .addOption(
      new Option("--w <list>", "weights w of the advantage margins (0 and 1 are always added)")
        .argParser(parseWeights)
        .default([...DEFAULT_WEIGHTS], DEFAULT_WEIGHTS.join(",")),
    )
    .addOption(
      new Option("--guidance <list>", "weights of the guided-decoding sweep (default: the --w list; 1 is always added)")
        .argParser(parseWeights),
    )
    .addOption(new Option("--no-guidance", "skip the guided-decoding sweep"))
    .addOption(new Option("--max-examples <n>", "analyse only the first N examples of the split").argParser(positive))
    .addOption(new Option("--batch-size <n>", "rows per batch").argParser(positive).default(64))
    .addOption(
      new Option("--resamples <n>", "bootstrap resamples over examples").argParser(positive).default(DEFAULT_RESAMPLES),
    )
    .addOption(seedOption(0))
    .addOption(backendOption())
    .addOption(
      outOption(
        undefined,
        `output folder (default: <run>/${ANALYSIS_DIR} for one run, runs/analyze/<run>-vs-<run> for several)`,
      ),
    )
    .action(async (
      dirs: string[],
      opts: {
        data: "test" | "train";
        w: number[];
        guidance?: number[] | boolean;
        maxExamples?: number;
        batchSize: number;
        resamples: number;
        seed: number;
        backend: BackendRequest;
        out?: string;
      },
    ) => {
      const started = new Date();
      const out = opts.out ?? defaultOut(dirs);
      // Before any work: the folder is replaced at the end, and only an earlier analysis may be.
      await checkOutput(out, "analysis", "Cannot write the analysis");
      const backend = await startBackend(opts.backend);
      const guidance = opts.guidance === false ? [] : Array.isArray(opts.guidance) ? opts.guidance : opts.w;
      printErr(`analyze: ${dirs.join(", ")} (${opts.data}), backend ${backend.name}`);
      const results: { result: AnalysisResult; method: string; configHash: string; step: number; dir: string }[] = [];
      for (const [i, dir] of dirs.entries()) {
        const run = await openTrainedRun(dir, { scope: `analyze${i}.`, dataDir: settings().dataDir });
        const progress = createProgress({ label: `analyze ${basename(resolve(dir))}` });
        try {
          const split = opts.data === "test" ? run.data.test : run.data.train;
          const result = await analyzeModel(run.model, run.method, split, {
            kind: run.kind,
            weights: opts.w,
            guidance,
            batchSize: opts.batchSize,
            limit: opts.maxExamples,
            seed: opts.seed,
            resamples: opts.resamples,
            onProgress: progress.update,
          });
          results.push({ result, method: run.method.method, configHash: run.loaded.hash, step: run.step, dir });
        } finally {
          progress.stop();
          run.dispose();
        }
      }
      const names = runNames(dirs, results.map((r) => r.method));
      const runs: NamedAnalysis[] = results.map((r, i) => ({ name: names[i], result: r.result }));
      const configHash = results.length === 1
        ? results[0].configHash
        : sha256Hex(canonicalJson(results.map((r, i) => [names[i], r.configHash])));
      const provenance = await collectProvenance({
        command: ["analyze", ...Deno.args.slice(Deno.args.indexOf("analyze") + 1)],
        started,
        finished: new Date(),
        backend,
        masterSeed: opts.seed,
        extra: {
          split: opts.data,
          runs: results.map((r, i) => ({ name: names[i], dir: r.dir, checkpointStep: r.step })),
        },
      });
      await writeAnalysis(out, runs, {
        title: `Policy-improvement analysis (${opts.data} split)`,
        configHash,
        provenance,
      });
      for (const [i, r] of results.entries()) for (const line of summary(names[i], r.result)) print(line);
      print(`written to ${out}`);
    });
}
