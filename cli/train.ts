/**
 * `train CONFIG [--set k=v] [--out DIR] [--resume] [--backend NAME] [--seed N]`: trains TRM or DIS from
 * a training-run YAML (docs/training.md) into a run folder, with progress on stderr (a bar on a
 * terminal, periodic lines otherwise) and a summary on stdout. `--seed` is the same as `--set seed=N`.
 *
 * @module
 */
import { basename, join } from "node:path";
import { Command, Option } from "commander";
import type { BackendRequest } from "../lib/backend/mod.ts";
import { loadTrainConfig, runTraining, type TrainOutcome } from "../lib/train/mod.ts";
import {
  allowBackendChangeOption,
  backendOption,
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

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined ? "—" : Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

function summaryLines(o: TrainOutcome, label: string): string[] {
  const lines = [label];
  const t = o.finalTrain;
  if (t) {
    lines.push(
      `  final train window: loss ${fmt(t.loss)}, token accuracy ${fmt(t.accuracy)}, exact ${fmt(t.exact_accuracy)}`,
    );
  }
  const e = o.finalEval;
  if (e) {
    const keys = e.kind === "nqueens"
      ? ["exact", "valid", "ceiling", "accuracy"]
      : ["pass@1", "pass@2", "pass@2_per_output", "pass@10"];
    lines.push(`  final eval (${e.examples} examples): ${keys.map((k) => `${k} ${fmt(e.summary[k])}`).join(", ")}`);
  }
  const fp = (o.results.forward_passes ?? {}) as { per_sample_inference?: number };
  lines.push(
    `  forward passes per sample: ${fp.per_sample_inference} at inference, ` +
      `${fmt(o.forwardPasses.meanPerCompletedSample, 1)} per finished training sample`,
  );
  const th = o.throughput;
  lines.push(
    `  throughput: ${fmt(th.samplesPerSecond, 1)} samples/s over ${th.steps} steps ` +
      `(training ${th.trainSeconds.toFixed(1)} s, evaluation ${th.evalSeconds.toFixed(1)} s, ` +
      `checkpoints ${th.checkpointSeconds.toFixed(1)} s, wall ${th.wallSeconds.toFixed(1)} s)`,
  );
  lines.push(`  run folder: ${o.runDir}`);
  return lines;
}

/** Examples in `train --help`; tests/help_examples_test.ts checks that each one is accepted. */
export const TRAIN_EXAMPLES: string = `
Examples:
  deno task cli train fixtures/train/dis_tiny.yaml --out runs/train/dis_tiny
  deno task cli train fixtures/train/trm_tiny.yaml --set train.steps=20 --set model.hidden=32 --seed 1
  deno task cli train fixtures/train/dis_tiny.yaml --out runs/train/dis_tiny --resume

Config keys for --set: seed, data.*, model.* (preset, hidden, layers, n_sup, h_cycles, l_cycles, ...),
train.* (batch_size, steps, lr, eval_interval, checkpoint_interval, ...) and eval.*; docs/training.md lists
every key.`;

/** The `train` command. */
export function makeCommand(): Command {
  return new Command("train")
    .description("train TRM or DIS from a config into a run folder (resumable)")
    .argument("<config>", "training-run YAML (keys: docs/training.md)")
    .addOption(setOption())
    .addOption(outOption(undefined, "run folder (default: runs/train/<config file name>)"))
    .addOption(new Option("--resume", "continue the run in the folder from its latest checkpoint"))
    .addOption(backendOption())
    .addOption(allowBackendChangeOption())
    .addOption(seedOption())
    .addOption(new Option("--print-config", "print the resolved config (every value explicit) and stop"))
    .addHelpText("after", TRAIN_EXAMPLES)
    .action(async (
      configPath: string,
      opts: {
        set: string[];
        out?: string;
        resume?: boolean;
        backend: BackendRequest;
        allowBackendChange?: boolean;
        seed?: number;
        printConfig?: boolean;
      },
    ) => {
      const overrides = [...opts.set, ...(opts.seed === undefined ? [] : [`seed=${opts.seed}`])];
      const loaded = await loadTrainConfig(configPath, { overrides });
      if (opts.printConfig) {
        print(`# ${configPath}, resolved; config sha256 ${loaded.hash}`);
        print(loaded.resolvedYaml.trimEnd());
        return;
      }
      const out = opts.out ?? join("runs", "train", basename(configPath).replace(/\.ya?ml$/i, ""));
      const backend = await startBackend(opts.backend);
      const cfg = loaded.config;
      printErr(
        `train: ${cfg.model.preset} on ${cfg.data.kind}, seed ${cfg.seed}, backend ${backend.name}` +
          `${opts.resume ? ", resuming" : ""} -> ${out}`,
      );
      const progress = progressRouter();
      const release = resumeOnInterrupt([
        "train",
        configPath,
        ...opts.set.flatMap((s) => ["--set", s]),
        ...(opts.seed === undefined ? [] : ["--seed", String(opts.seed)]),
        "--out",
        out,
        "--backend",
        opts.backend,
        ...(opts.allowBackendChange ? ["--allow-backend-change"] : []),
        "--resume",
      ], () => progress.stop());
      let outcome: TrainOutcome;
      try {
        outcome = await runTraining(loaded, {
          runDir: out,
          dataDir: settings().dataDir,
          puzzleTable: settings().puzzleTable,
          resume: opts.resume,
          backend,
          allowBackendChange: opts.allowBackendChange,
          command: ["train", ...Deno.args.slice(Deno.args.indexOf("train") + 1)],
          onProgress: progress.update,
          onMicroBatch: (c) => {
            const line = microBatchLine(c);
            if (line !== null) printErr(`train: ${line}`);
          },
        });
      } finally {
        release();
        progress.stop();
      }
      const method = outcome.results.method === "dis" ? "DIS" : "TRM";
      const resumed = outcome.resumedFrom === null ? "" : ` (resumed from step ${outcome.resumedFrom})`;
      for (
        const line of summaryLines(
          outcome,
          `Trained ${method} (${cfg.model.preset}) on ${cfg.data.kind}: ${outcome.totalSteps} steps at batch ` +
            `${cfg.train.batch_size}, seed ${cfg.seed}${resumed}`,
        )
      ) print(line);
    });
}
