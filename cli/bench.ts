/**
 * `bench`: training and inference speed of the real trainers on a preset, with the PyTorch twin
 * (tools/reference/bench_ref.py) run in the same invocation where a Python with torch exists, and the
 * ratio of the two.
 *
 * `deno task bench [--backend NAME] [--preset NAME]... [--batch N] [--repeats N] [--json] [--profile]`
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { type BackendRequest, blasStatus } from "../lib/backend/mod.ts";
import {
  BENCH_PRESETS,
  benchRecord,
  benchSpec,
  benchTable,
  findTorchPython,
  parseBenchPreset,
  type ReferenceResult,
  ReferenceSession,
  runBenchmark,
} from "../lib/bench/mod.ts";
import { backendOption, print, printErr, settings, startBackend } from "./_common.ts";

function positive(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`Expected ${name} >= 1, got "${v}".`);
    }
    return n;
  };
}

interface Opts {
  backend: BackendRequest;
  preset: string[];
  batch: number;
  repeats: number;
  warmup: number;
  infer: boolean;
  reference: boolean;
  profile: boolean;
  json: boolean;
}

/** The `bench` command. */
export function makeCommand(): Command {
  return new Command("bench")
    .description("measure training and inference speed, side by side with PyTorch where it is installed")
    .addOption(backendOption())
    .addOption(
      new Option("--preset <name>", `benchmark preset (repeatable): ${BENCH_PRESETS.join(", ")}`)
        .default([], "dis-compact-nqueens")
        .argParser((v: string, prev: string[]) => {
          if (!(BENCH_PRESETS as readonly string[]).includes(v)) {
            throw new InvalidArgumentError(`Expected one of ${BENCH_PRESETS.join(", ")}, got "${v}".`);
          }
          return [...prev, v];
        }),
    )
    .addOption(new Option("--batch <n>", "batch size").default(64).argParser(positive("a batch size")))
    .addOption(
      new Option("--repeats <n>", "timed repeats; the median counts").default(3).argParser(positive("repeats")),
    )
    .addOption(
      new Option("--warmup <n>", "untimed units first").default(1).argParser((v) => {
        if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`Expected a non-negative integer, got "${v}".`);
        return Number(v);
      }),
    )
    .option("--no-infer", "skip the inference measurement")
    .option("--no-reference", "do not run the PyTorch reference")
    .option("--profile", "also profile one training unit's kernels", false)
    .option("--json", "print one JSON object per measurement instead of the table", false)
    .action(async (opts: Opts) => {
      const presets = (opts.preset.length ? opts.preset : ["dis-compact-nqueens"]).map(parseBenchPreset);
      const info = await startBackend(opts.backend);
      const blas = blasStatus();
      const threads = blas.active && blas.threads ? blas.threads : navigator.hardwareConcurrency;
      const torch = opts.reference ? await findTorchPython() : { python: null, reason: "skipped (--no-reference)" };
      if (!opts.json) {
        const details = Object.entries(info.details).map(([k, v]) => `${k}=${v}`).join(", ");
        print(`backend ${info.name} (${details}); ${navigator.hardwareConcurrency} cores`);
      }
      for (const name of presets) {
        const spec = benchSpec(name);
        const say = (m: string) => printErr(`[${name}] ${m}`);
        let session: ReferenceSession | undefined;
        if (torch.python) {
          say(`starting the PyTorch reference (${torch.python}, torch ${torch.torch}, ${threads} threads)`);
          // Beside a GPU backend torch runs on the GPU (fp32, TF32 off) where it can, else on the CPU.
          const device = info.name === "webgpu" || info.name === "tensorflow-gpu" ? "cuda" : "cpu";
          session = await ReferenceSession.start(torch.python, spec, { batch: opts.batch, threads, device });
        }
        let ref: ReferenceResult | null = null;
        let m;
        try {
          // Each of our units is followed by one of the reference's, so both see the same machine load.
          m = await runBenchmark(spec, {
            puzzleTable: settings().puzzleTable,
            batch: opts.batch,
            repeats: opts.repeats,
            warmup: opts.warmup,
            infer: opts.infer,
            profile: opts.profile,
            alongside: session,
            onProgress: say,
          });
          ref = session?.summary(opts.batch) ?? null;
        } finally {
          await session?.close();
        }
        const note = torch.python === null ? torch.reason : undefined;
        if (opts.json) {
          const facts = {
            date: new Date().toISOString(),
            cores: navigator.hardwareConcurrency,
            deno: Deno.version.deno,
            tfjs: info.tfjs,
            ...Object.fromEntries(Object.entries(info.details).map(([k, v]) => [`backend_${k}`, v])),
          };
          print(JSON.stringify(benchRecord(m, ref, facts, note)));
        } else {
          print("");
          print(benchTable(m, ref, note));
        }
      }
    });
}
