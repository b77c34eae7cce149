/**
 * `reproduce <name> [--profile smoke|small|paper] [--out DIR] [--backend NAME] [--seed N] [--set k=v ...]
 * [--resume] [--data-dir DIR] [--rows a,b] [--jobs N] [--estimate-only]`, and `reproduce --list`: runs one
 * experiment of `experiments/` (lib/experiment does the work) and writes its folder, by default
 * `runs/<name>/<profile>/`. Progress and row output go to stderr, the summary to stdout. The paper
 * profile prints its compute estimate (measured on the backend) before it trains.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import type { BackendInfo, BackendRequest } from "../lib/backend/mod.ts";
import { InputError, InterruptedError } from "../lib/errors.ts";
import { checkOutput, claimOutput, lockFolder } from "../lib/io/mod.ts";
import {
  ALL_PROFILES,
  type ComputeEstimate,
  DEFAULT_PROFILE,
  type ExperimentEvent,
  experimentRegistry,
  type ExperimentSpec,
  experimentSpec,
  formatEstimate,
  GPU_PEAKS,
  type GpuProjection,
  JobControl,
  loadProfile,
  parseSeeds,
  type ProfileName,
  REFERENCE_STEP,
  referenceUtilisation,
  runExperiment,
  seedDir,
  spread,
  TF32_UTILISATION,
  writeSeedSummary,
} from "../lib/experiment/mod.ts";
import {
  allowBackendChangeOption,
  backendOption,
  checkDataDir,
  interruptMessage,
  microBatchLine,
  outOption,
  print,
  printErr,
  resumeOnInterrupt,
  seedOption,
  setOption,
  settings,
  startBackend,
} from "./_common.ts";
import { progressRouter } from "./eval.ts";
import { formatDuration } from "./_progress.ts";
import { formatBytes } from "../lib/train/mod.ts";
import * as list from "./list.ts";

/** The root module, which subprocesses run. */
const MOD_PATH = fileURLToPath(new URL("../mod.ts", import.meta.url));

/** The environment variable that names the ARC data folder (lib/train reads it). */
export const DATA_DIR_ENV = "TRM_DIS_DATA_DIR";

function positive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got "${v}".`);
  }
  return n;
}

function commaList(v: string): string[] {
  const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new InvalidArgumentError(`Expected a comma-separated list, got "${v}".`);
  return items;
}

/**
 * The `spec` of `experiments/<name>.ts` from lib/experiment's registry; an unknown name is an InputError
 * listing the experiments.
 *
 * @example
 * ```ts ignore
 * const spec = await loadExperiment("nqueens");
 * spec.info.title;
 * ```
 */
export async function loadExperiment(name: string, dir = list.DEFAULT_EXPERIMENTS_DIR): Promise<ExperimentSpec> {
  return experimentSpec(await experimentRegistry(dir), name, `Cannot reproduce "${name}"`);
}

function flops(x: number): string {
  const units: [number, string][] = [[1e18, "EFLOP"], [1e15, "PFLOP"], [1e12, "TFLOP"], [1e9, "GFLOP"], [1e6, "MFLOP"]];
  for (const [u, name] of units) if (x >= u) return `${(x / u).toFixed(2)} ${name}`;
  return `${x.toFixed(0)} FLOP`;
}

function estimateLines(id: string, e: ComputeEstimate, backend: string): string[] {
  const m = e.memory;
  const counts = e.counts === "measured build" ? "counts of the measured full build" : `counts from the ${e.counts}`;
  const lines = [
    `  ${id}: ${e.steps.toLocaleString("en-US")} steps at batch ${e.batchSize} (${counts}), ` +
    `${e.evaluations} evaluation(s) of ${e.evalExamples.toLocaleString("en-US")} examples; ` +
    `${flops(e.trainFlops)} training + ${flops(e.evalFlops)} evaluation = ${flops(e.totalFlops)} (matmul)`,
    `    memory: parameters ${formatBytes(m.parameters)}, optimiser state and EMA ${formatBytes(m.optimizerState)}, ` +
    `puzzle table ${formatBytes(m.puzzleTable)}, carry ${formatBytes(m.carry)}, activations ` +
    `${formatBytes(m.activationsPerMicroBatch)} per micro-batch of ${m.microBatch}` +
    (m.passes > 1 ? ` (${m.passes} passes per step on ${backend})` : ` (the full batch on ${backend})`),
  ];
  if (e.calibration && e.expectedSeconds !== null) {
    lines.push(
      `    this machine (${backend}, ${flops(e.calibration.flopsPerSecond)}/s calibrated): ` +
        `${formatEstimate(e.expectedSeconds)}`,
    );
  }
  lines.push(`    projected, one GPU: ${gpuLine(e.gpus)}`);
  return lines;
}

function gpuLine(gpus: GpuProjection[]): string {
  return gpus.map((g) => `${g.gpu} ${formatEstimate(g.seconds)} (fp32) / ${formatEstimate(g.secondsTf32)} (tf32)`)
    .join(", ");
}

/** How the GPU projections are made, printed once under the estimates. */
function gpuBasis(): string {
  const u = referenceUtilisation();
  const peaks = GPU_PEAKS.map((g) => `${g.name} ${g.fp32 / 1e12} / ${g.tf32 / 1e12}`).join(", ");
  return `  GPU projections, one GPU (N GPUs divide by N at best); peaks fp32 / TF32: ${peaks} TFLOP/s. fp32: ` +
    `${(100 * u).toFixed(1)}% of the fp32 peak, the measured ratio of the PyTorch reference on an ` +
    `${REFERENCE_STEP.gpu} (DIS compact N-Queens, batch ${REFERENCE_STEP.batch}, ${REFERENCE_STEP.seconds * 1000} ms ` +
    `per step; docs/performance.md). tf32: ${100 * TF32_UTILISATION}% of the TF32 peak, the rate TRM's 72 h on ` +
    "4 x H100 implies (docs/experiments.md)";
}

function eventPrinter(name: string, backend: BackendInfo): (e: ExperimentEvent) => void {
  let total = 0;
  let headed = false;
  const gpuTotals = new Map<string, number>();
  // Experiment-level progress: rows started out of those to train, and the time the finished ones took.
  let toTrain = 0;
  let started = 0;
  let done = 0;
  let spent = 0;
  return (e) => {
    switch (e.kind) {
      case "plan":
        toTrain = e.selected.length;
        printErr(
          `reproduce ${name}: profile ${e.profile} (${e.file}), rows ${e.selected.join(", ")} of ` +
            `${e.rows.length}, backend ${backend.name} -> ${e.out}`,
        );
        break;
      case "estimate":
        if (!headed) printErr("Compute estimate (before training):");
        headed = true;
        for (const l of estimateLines(e.row.id, e.estimate, backend.name)) printErr(l);
        total += e.estimate.expectedSeconds ?? 0;
        for (const g of e.estimate.gpus) gpuTotals.set(g.gpu, (gpuTotals.get(g.gpu) ?? 0) + g.seconds);
        break;
      case "row-skip":
        toTrain -= 1;
        printErr(`row ${e.row.id}: ${e.reason}, kept as it is`);
        break;
      case "moved-aside":
        printErr(`--force: moved the earlier run aside to ${e.to} (nothing deleted); starting over in ${e.from}`);
        break;
      case "row-start":
        if (total > 0) {
          const gpus = [...gpuTotals].map(([g, sec]) => `${g} ${formatEstimate(sec)} (fp32)`).join(", ");
          printErr(`  all rows: expected ${formatEstimate(total)} on ${backend.name}; projected, one GPU: ${gpus}`);
          printErr(gpuBasis());
          total = 0;
        }
        started += 1;
        printErr(
          `row ${e.row.id} (${e.row.label}, ${e.row.loaded.config.model.preset})${e.resume ? ": resuming" : ""}` +
            ` [row ${started} of ${toTrain} to train]`,
        );
        break;
      case "row-done": {
        done += 1;
        spent += e.seconds;
        const left = toTrain - done;
        const eta = left > 0 ? `; about ${formatDuration((spent / done) * left)} left for the other ${left}` : "";
        printErr(`row ${e.row.id}: done in ${formatDuration(e.seconds)} (${done} of ${toTrain} rows trained${eta})`);
        break;
      }
      case "row-output":
        printErr(`[${e.row}] ${e.line}`);
        break;
      case "micro-batch": {
        const line = microBatchLine(e.choice);
        if (line !== null) printErr(`row ${e.row.id}: ${line}`);
        break;
      }
      case "report":
        break;
    }
  };
}

/**
 * Whether to train a run estimated at over a week: yes with --yes; on a terminal, the user's answer; else
 * no (runExperiment then refuses with exit 2 and the estimate).
 */
function confirmLongRun(seconds: number, yes: boolean): boolean {
  if (yes) return true;
  if (!Deno.stdin.isTerminal()) return false;
  return confirm(`The estimate is ${formatEstimate(seconds)} on this machine, over a week. Train anyway?`);
}

/** Examples in `reproduce --help`; tests/help_examples_test.ts checks that each one is accepted. */
export const REPRODUCE_EXAMPLES: string = `
Examples:
  deno task reproduce --list
  deno task reproduce nqueens --profile smoke
  deno task reproduce nqueens --profile smoke --print-config
  deno task reproduce nqueens --profile smoke --set common.train.steps=4 --out runs/nqueens/smoke-4
  deno task reproduce nqueens --profile smoke --set rows.dis.model.n_sup=2 --rows dis --out runs/nqueens/dis-2
  deno task reproduce nqueens --profile paper --estimate-only

Config keys for --set (an experiment's config; --print-config shows it resolved):
  seed                      the master seed (the same as --seed)
  default_rows              the rows run when --rows is not given
  common.<key>              a training-run key for every row: common.train.steps, common.model.hidden, ...
  rows.<row id>.<key>       a training-run key for one row: rows.dis.model.n_sup, rows.trm.train.lr, ...
  <experiment keys>         the experiment's own, e.g. nqueens: variant, analysis.max_examples
Training-run keys (model.*, train.*, eval.*, data.*) are listed in docs/training.md; the experiments' own
keys in docs/experiments.md.`;

/** The `reproduce` command. */
export function makeCommand(): Command {
  return new Command("reproduce")
    .description("run an experiment's profile and write its report (see `list`)")
    .argument("[name]", "experiment name, e.g. nqueens")
    .addOption(
      new Option("--profile <name>", "profile to run").choices([...ALL_PROFILES]).default(DEFAULT_PROFILE),
    )
    .addOption(outOption(undefined, "experiment folder (default: runs/<name>/<profile>)"))
    .addOption(backendOption())
    .addOption(allowBackendChangeOption())
    .addOption(seedOption())
    .addOption(
      new Option(
        "--seeds <list>",
        "run the whole experiment once per seed (e.g. 0,1,2 or 0-2), each into OUT/seed-<N>/, and gather " +
          "the headline figures with mean and spread into OUT/seeds.md",
      ),
    )
    .addOption(setOption("common.train.steps=20"))
    .addOption(new Option("--resume", "continue the rows already in the folder (finished rows are kept)"))
    .addOption(new Option("--force", "move an existing folder aside to <out>.old-N (never deleted) and start over"))
    .addOption(new Option("--data-dir <dir>", `ARC data folder (default: $${DATA_DIR_ENV}, else the fetch cache)`))
    .addOption(
      new Option("--rows <list>", "run only these rows (ids or id parts, comma-separated)").argParser(commaList),
    )
    .addOption(new Option("--jobs <n>", "rows trained at a time, in subprocesses").argParser(positive).default(1))
    .addOption(new Option("--estimate-only", "print the compute estimate and stop"))
    .addOption(new Option("--yes", "train even when the estimate on this machine is over a week"))
    .addOption(new Option("--list", "list the experiments and their profiles"))
    .addOption(
      new Option("--print-config", "print the experiment's resolved config and each row's training config, then stop"),
    )
    .addHelpText("after", REPRODUCE_EXAMPLES)
    .addOption(new Option("--train-only", "train the rows and write no report (used by --jobs)").hideHelp())
    .action(async (
      name: string | undefined,
      opts: {
        profile: ProfileName;
        out?: string;
        backend: BackendRequest;
        allowBackendChange?: boolean;
        seed?: number;
        seeds?: string;
        set: string[];
        resume?: boolean;
        force?: boolean;
        dataDir?: string;
        rows?: string[];
        jobs: number;
        estimateOnly?: boolean;
        yes?: boolean;
        list?: boolean;
        printConfig?: boolean;
        trainOnly?: boolean;
      },
    ) => {
      if (opts.list) {
        await list.makeCommand().parseAsync([], { from: "user" });
        return;
      }
      if (name === undefined) {
        throw new InputError("Cannot reproduce: name an experiment (`reproduce --list` shows them)");
      }
      const spec = await loadExperiment(name);
      if (opts.printConfig) {
        const overrides = [...opts.set, ...(opts.seed === undefined ? [] : [`seed=${opts.seed}`])];
        const loaded = await loadProfile(spec.configDir, spec.name, opts.profile, spec.schema, overrides);
        const rows = spec.rows(loaded.config, loaded.file);
        print(`# ${name}, profile ${opts.profile} (${loaded.file}), resolved; config sha256 ${loaded.hash}`);
        print(loaded.resolvedYaml.trimEnd());
        for (const r of rows) {
          print(`\n# row ${r.id} (${r.label}): the training-run config it resolves to; sha256 ${r.loaded.hash}`);
          print(r.loaded.resolvedYaml.trimEnd());
        }
        return;
      }
      let dataDir = settings().dataDir;
      if (opts.dataDir !== undefined) {
        const dir = resolve(await checkDataDir(opts.dataDir));
        // An option, not a key of the row configs: a path in the config would change its hash.
        dataDir = dir;
      }
      const root = opts.out ?? join("runs", name, opts.profile);
      const seeds = opts.seeds === undefined ? null : parseSeeds(opts.seeds);
      if (seeds !== null && (opts.seed !== undefined || opts.trainOnly)) {
        throw new InputError("Cannot use --seeds with --seed or --train-only: --seeds runs each seed itself");
      }
      const backend = await startBackend(opts.backend);
      // The command that resumes this whole invocation (every seed of --seeds), printed on Ctrl-C.
      const resumeArgs = [
        "reproduce",
        name,
        "--profile",
        opts.profile,
        ...opts.set.flatMap((s) => ["--set", s]),
        ...(opts.seed === undefined ? [] : ["--seed", String(opts.seed)]),
        ...(opts.seeds === undefined ? [] : ["--seeds", opts.seeds]),
        ...(opts.rows === undefined ? [] : ["--rows", opts.rows.join(",")]),
        ...(opts.dataDir === undefined ? [] : ["--data-dir", opts.dataDir]),
        ...(opts.jobs > 1 ? ["--jobs", String(opts.jobs)] : []),
        "--backend",
        opts.backend,
        ...(opts.allowBackendChange ? ["--allow-backend-change"] : []),
        "--out",
        root,
        "--resume",
      ];
      const runOne = async (out: string, seed: number | undefined) => {
        const overrides = [...opts.set, ...(seed === undefined ? [] : [`seed=${seed}`])];
        const progress = progressRouter();
        const passOn = [
          "--backend",
          opts.backend,
          ...(opts.allowBackendChange ? ["--allow-backend-change"] : []),
          ...(dataDir === undefined ? [] : ["--data-dir", dataDir]),
          ...opts.set.flatMap((s) => ["--set", s]),
          ...(seed === undefined ? [] : ["--seed", String(seed)]),
        ];
        // A --train-only child of --jobs leaves the message to its parent, which names the whole experiment.
        // The parent forwards a signal to its row subprocesses and waits for them (bounded) before it exits.
        const rowControl = new JobControl();
        const release = opts.trainOnly ? () => {} : resumeOnInterrupt(resumeArgs, () => progress.stop(), rowControl);
        let outcome;
        try {
          outcome = await runExperiment(spec, {
            profile: opts.profile,
            out,
            overrides,
            resume: opts.resume || opts.trainOnly,
            force: opts.force && !opts.trainOnly,
            rows: opts.rows ?? null,
            dataDir,
            puzzleTable: settings().puzzleTable,
            jobs: opts.jobs,
            rowControl,
            trainOnly: opts.trainOnly,
            estimate: opts.profile === "paper" && !opts.trainOnly,
            estimateOnly: opts.estimateOnly,
            confirmLongRun: (seconds) => confirmLongRun(seconds, opts.yes === true),
            backend,
            allowBackendChange: opts.allowBackendChange,
            command: ["reproduce", name, ...Deno.args.slice(Deno.args.indexOf(name) + 1)],
            rowCommand: (id) => ({
              command: Deno.execPath(),
              args: [
                "run",
                "-A",
                MOD_PATH,
                "reproduce",
                name,
                "--profile",
                opts.profile,
                "--out",
                out,
                "--rows",
                id,
                "--train-only",
                ...passOn,
              ],
            }),
            onEvent: eventPrinter(name, backend),
            onProgress: progress.update,
          });
        } catch (e) {
          if (!(e instanceof InterruptedError)) throw e;
          progress.stop();
          throw new InterruptedError(e.signal, interruptMessage(e.signal, resumeArgs), { cause: e });
        } finally {
          release();
          progress.stop();
        }
        if (opts.estimateOnly) {
          const all = [...outcome.estimates.values()];
          const total = all.reduce((a, e) => a + (e.expectedSeconds ?? 0), 0);
          if (total > 0) print(`Expected time for the rows to train: ${formatEstimate(total)} on ${backend.name}`);
          if (all.length > 0) {
            const gpus = all[0].gpus.map((g, i) => ({
              ...g,
              seconds: all.reduce((a, e) => a + e.gpus[i].seconds, 0),
              secondsTf32: all.reduce((a, e) => a + e.gpus[i].secondsTf32, 0),
            }));
            print(`Projected, one GPU: ${gpuLine(gpus)}`);
            printErr(gpuBasis());
          }
        }
        if (opts.estimateOnly || opts.trainOnly) {
          if (opts.trainOnly) print(`Trained rows ${outcome.trained.join(", ") || "(none)"} in ${out}/rows`);
          return outcome;
        }
        print(
          `${spec.info.title}, profile ${opts.profile}${seed === undefined ? "" : `, seed ${seed}`}` +
            (outcome.complete ? ": complete" : ""),
        );
        if (outcome.complete) {
          print(
            `  every row had finished earlier, so nothing was trained; the report was rebuilt from them ` +
              "(--force starts over, moving this folder aside)",
          );
        }
        print(
          `  rows trained now: ${outcome.trained.join(", ") || "none"}; kept: ${outcome.skipped.join(", ") || "none"}`,
        );
        if (outcome.missing.length > 0) print(`  rows not run yet: ${outcome.missing.join(", ")}`);
        print(`  report: ${join(out, "report.md")}`);
        print(`  results: ${join(out, "results.json")}; timing: ${join(out, "timing.md")}`);
        // The closing headline: the report's "what this shows", our main figures beside the paper's.
        const headline = outcome.summary.find((p) => p.startsWith("What this shows"));
        if (headline) print(`\n${headline}`);
        return outcome;
      };
      if (seeds === null) {
        await runOne(root, opts.seed);
        return;
      }
      // The root holds one experiment folder per seed and the summary: it too is checked, and locked until
      // this block ends.
      const action = `Cannot run the seeds of experiment "${name}"`;
      await checkOutput(root, "seeds", action);
      using _lock = opts.estimateOnly ? null : await lockFolder(root, { command: [...Deno.args] });
      if (!opts.estimateOnly) await claimOutput(root, "seeds", action);
      const done = [];
      for (const seed of seeds) {
        const outcome = await runOne(seedDir(root, seed), seed);
        if (outcome.resultsJson !== null) {
          done.push({
            seed,
            results: (JSON.parse(outcome.resultsJson) as { results: Record<string, unknown> }).results,
          });
        }
      }
      if (opts.estimateOnly || done.length === 0) return;
      const summary = await writeSeedSummary(spec, root, opts.profile, done);
      print(`Seeds ${seeds.join(", ")} of ${name} (${opts.profile}):`);
      for (const h of summary.headlines) {
        const s = spread(h.values);
        const fmt = (v: number | null) => (v === null ? "—" : `${(100 * v).toFixed(1)}%`);
        print(
          `  ${h.label}: ${h.values.map(fmt).join(", ")}; mean ${fmt(s.mean)}, std ${fmt(s.std)}` +
            (h.paper === null ? "" : `; paper ${fmt(h.paper)}`),
        );
      }
      print(`  summary: ${join(root, "seeds.md")}`);
    });
}
