/**
 * `data`: build the datasets and fetch the ARC data.
 *
 * - `data nqueens --variant paper|released-code --seed N --out DIR [--format index|trm|jsonl]`
 * - `data arc --set arc-agi-1|arc-agi-2 --augmentations N --seed N [--data-dir DIR] [--source dirs|kaggle]
 *   [--canvas G] [--validation N] --out DIR [--format index|trm|jsonl]`
 * - `data arc --counts [--set ...] [--data-dir DIR]`: per subset, the tasks and test inputs whose every
 *   grid fits a G x G canvas, for G = 8..15 (and --canvas G when given); builds nothing
 * - `data fetch [--set NAME...] [--cache DIR]`
 * - `data manifest --data-dir DIR --out FILE` (maintainers: rebuild the committed hash manifest)
 *
 * Each prints a summary (counts, hashes, time); long work reports progress on stderr.
 *
 * @module
 */
import { readEnv, runtimeSettings } from "../lib/env.ts";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  ARC_MAX_SIZE,
  ARC_SETS,
  buildArcIndex,
  buildManifest,
  canvasCounts,
  checkCanvas,
  DATA_FORMATS,
  DEFAULT_ARCHIVE_BASE_URL,
  defaultCacheDir,
  FETCH_SETS,
  fetchSets,
  generateNQueens,
  loadSubset,
  NQUEENS_VARIANTS,
  nqueensSummary,
  parseArcSet,
  parseArcSource,
  parseDataFormat,
  parseFetchSets,
  parseNQueensVariant,
  writeArcDataset,
  writeNQueensDataset,
  type WriteSummary,
} from "../lib/data/mod.ts";
import { checkOutput, isDirectory, writeTextAtomic } from "../lib/io/mod.ts";
import { InputError } from "../lib/errors.ts";
import { checkDataDir, outOption, print, printErr, seedOption } from "./_common.ts";
import { createProgress, formatDuration } from "./_progress.ts";

function canvasArg(v: string): number {
  const n = Number(v);
  try {
    if (!/^\d+$/.test(v)) throw new RangeError(`expected an integer in 1..${ARC_MAX_SIZE}, got "${v}"`);
    return checkCanvas(n);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}.`);
  }
}

function countOption(flags: string, description: string, defaultValue: number): Option {
  return new Option(flags, description).default(defaultValue).argParser((v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`Expected a non-negative integer, got "${v}".`);
    }
    return n;
  });
}

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const fmt4 = (x: number | null) => (x === null ? "-" : x.toFixed(4));

function printFiles(out: string, res: WriteSummary): void {
  print(`  files in ${out}:`);
  for (const [name, f] of Object.entries(res.files)) print(`    ${name}  ${f.bytes} bytes  sha256 ${f.sha256}`);
}

/** The default data directory: $TRM_DIS_DATA_DIR, else the fetch cache. */
function defaultDataDir(): string {
  return runtimeSettings().dataDir ?? defaultCacheDir();
}

function nqueensCommand(): Command {
  return new Command("nqueens")
    .description("generate the 8x8 N-Queens dataset (paper section 5.1)")
    .addOption(new Option("--variant <name>", `generator variant: ${NQUEENS_VARIANTS.join(", ")}`).default("paper"))
    .addOption(seedOption(0))
    .addOption(outOption().makeOptionMandatory())
    .addOption(new Option("--format <name>", `output: ${DATA_FORMATS.join(", ")}`).default("index"))
    .action(async (opts: { variant: string; seed: number; out: string; format: string }) => {
      const variant = parseNQueensVariant(opts.variant);
      const format = parseDataFormat(opts.format);
      await checkOutput(opts.out, "dataset", "Cannot build N-Queens");
      const t0 = performance.now();
      const set = generateNQueens(variant, opts.seed);
      const res = await writeNQueensDataset(opts.out, set, format, { summary: true });
      const s = nqueensSummary(set);
      print(`N-Queens "${variant}", seed ${opts.seed}, format ${format}`);
      print(
        `  train: ${set.train.length} examples in ${s.train.groups} groups; Q = 0..7: ${s.train.byGiven.join(" ")}`,
      );
      print(`  test:  ${set.test.length} examples; Q = 0..7: ${s.test.byGiven.join(" ")}`);
      print(`  hashes: set ${set.hashes.set}`);
      print(`          train ${set.hashes.train}`);
      print(`          test  ${set.hashes.test}`);
      print(
        `  overlap: ${set.overlap.inputs} of ${set.test.length} test inputs also occur in train` +
          ` (${set.overlap.examples} with the same label); by Q: ${set.overlap.inputsByGiven.join(" ")}`,
      );
      print(
        `  test exact-match ceiling: ${fmt4(s.testCeiling.overall)}; by Q: ${
          s.testCeiling.byGiven.map(fmt4).join(" ")
        }`,
      );
      printFiles(opts.out, res);
      print(`  time ${seconds(t0)}`);
    });
}

/** The canvas sides `data arc --counts` tabulates (docs/data.md has the table). */
const COUNT_SIDES = [8, 9, 10, 11, 12, 13, 14, 15];

async function printCanvasCounts(
  set: keyof typeof ARC_SETS,
  source: "dirs" | "kaggle",
  dataDir: string,
  extra?: number,
) {
  const sides = [...new Set([...COUNT_SIDES, ...(extra === undefined ? [] : [extra])])].sort((a, b) => a - b);
  const tasks = [];
  for (const s of ARC_SETS[set].subsets) tasks.push(...await loadSubset(dataDir, s, source));
  const counts = canvasCounts(tasks, sides);
  print(`ARC ${set} (${source} from ${dataDir}): tasks (test inputs) whose every grid fits G x G`);
  print(`| subset | all | ${sides.map((g) => `G = ${g}`).join(" | ")} |`);
  print(`|---|---|${sides.map(() => "---").join("|")}|`);
  for (const c of counts) {
    print(
      `| ${c.subset} | ${c.tasks} (${c.testInputs}) | ${
        c.kept.map((k) => `${k.tasks} (${k.testInputs})`).join(" | ")
      } |`,
    );
  }
}

function arcCommand(): Command {
  return new Command("arc")
    .description("build the ARC dataset as TRM does (augmentation index, or TRM's arrays, or JSON Lines)")
    .addOption(new Option("--set <name>", `${Object.keys(ARC_SETS).join(" or ")}`).default("arc-agi-1"))
    .addOption(countOption("--augmentations <n>", "augmentations per task (TRM: 1000)", 1000))
    .addOption(seedOption(0))
    .addOption(new Option("--data-dir <dir>", "ARC data (default: $TRM_DIS_DATA_DIR, else the fetch cache)"))
    .addOption(new Option("--source <name>", "dirs (upstream per-task files) or kaggle (TRM's files)").default("dirs"))
    .addOption(
      new Option("--canvas <G>", `canvas side 1..${ARC_MAX_SIZE}; tasks that do not fit are left out and counted`)
        .argParser(canvasArg),
    )
    .addOption(countOption("--validation <n>", "training tasks whose test pairs form a validation split", 0))
    .addOption(new Option("--counts", "print the tasks that fit G x G canvases per subset, build nothing"))
    .addOption(outOption())
    .addOption(new Option("--format <name>", `output: ${DATA_FORMATS.join(", ")}`).default("index"))
    .action(async (opts: {
      set: string;
      augmentations: number;
      seed: number;
      dataDir?: string;
      source: string;
      canvas?: number;
      validation: number;
      counts?: boolean;
      out?: string;
      format: string;
    }) => {
      const set = parseArcSet(opts.set);
      const source = parseArcSource(opts.source);
      const format = parseDataFormat(opts.format);
      const dataDir = opts.dataDir === undefined ? defaultDataDir() : await checkDataDir(opts.dataDir);
      if (opts.counts) {
        await printCanvasCounts(set, source, dataDir, opts.canvas);
        return;
      }
      if (opts.out === undefined) throw new InputError("Cannot build ARC: --out <dir> is required (or pass --counts)");
      const out = opts.out;
      // Before the (long) build: only a missing or empty folder, or an earlier dataset, is replaced.
      await checkOutput(out, "dataset", "Cannot build ARC");
      const canvas = opts.canvas ?? ARC_MAX_SIZE;
      const t0 = performance.now();
      const progress = createProgress({ label: "augment tasks" });
      const index = await (async () => {
        try {
          return await buildArcIndex({
            set,
            source,
            dataDir,
            seed: opts.seed,
            augmentations: opts.augmentations,
            augmentationsKey: "--augmentations",
            canvas,
            validation: opts.validation,
            onProgress: progress.update,
          });
        } finally {
          progress.stop();
        }
      })();
      const tIndex = performance.now();
      const perSubset: Record<string, number> = {};
      for (const t of index.tasks) perSubset[t.subset] = (perSubset[t.subset] ?? 0) + 1;
      const excluded: Record<string, number> = {};
      for (const x of index.excluded) excluded[x.subset] = (excluded[x.subset] ?? 0) + 1;
      let short = 0;
      for (let k = 0; k < index.tasks.length; k++) {
        if (index.augOffsets[k + 1] - index.augOffsets[k] < opts.augmentations) short++;
      }
      const summary = {
        kind: "arc",
        set,
        source,
        seed: opts.seed,
        augmentations: opts.augmentations,
        ...(canvas !== ARC_MAX_SIZE ? { canvas, excludedTasks: excluded } : {}),
        ...(index.validation.length > 0 ? { validationTasks: index.validation } : {}),
        tasks: perSubset,
        testSubset: index.testSubset,
        acceptedAugmentations: index.augDihedral.length,
        tasksWithFewerAugmentations: short,
        identifiers: 1 + index.tasks.length + index.augDihedral.length,
        sourceHash: index.sourceHash,
        augmentationHash: index.augmentationHash,
      };
      const write = createProgress({ label: "write examples" });
      const res = await (async () => {
        try {
          return await writeArcDataset(out, index, format, { onProgress: write.update, summary });
        } finally {
          write.stop();
        }
      })();
      print(
        `ARC ${set} (${source} from ${dataDir}), seed ${opts.seed}, ${opts.augmentations} augmentations, ` +
          `${canvas}x${canvas} canvas, format ${format}`,
      );
      if (canvas !== ARC_MAX_SIZE) {
        print(
          `  left out (a grid larger than ${canvas}x${canvas}): ${index.excluded.length} tasks` +
            (index.excluded.length > 0 ? ` (${Object.entries(excluded).map(([k, v]) => `${k} ${v}`).join(", ")})` : ""),
        );
      }
      if (index.validation.length > 0) {
        print(`  validation: the test pairs of ${index.validation.length} training tasks are held out of train`);
      }
      print(
        `  tasks: ${
          Object.entries(perSubset).map(([k, v]) => `${k} ${v}`).join(", ")
        }; test subset ${index.testSubset}`,
      );
      print(
        `  augmentations accepted: ${summary.acceptedAugmentations}` +
          ` (${short} tasks have fewer than ${opts.augmentations}); puzzle identifiers ${summary.identifiers}`,
      );
      for (const [k, v] of Object.entries(res.splits)) {
        print(`  ${k}: ${v.groups} groups, ${v.puzzles} puzzles, ${v.examples} examples`);
      }
      print(`  source hash ${index.sourceHash}`);
      print(`  augmentation hash ${index.augmentationHash}`);
      printFiles(out, res);
      print(`  time ${seconds(t0)} (index ${((tIndex - t0) / 1000).toFixed(1)} s)`);
    });
}

function fetchCommand(): Command {
  return new Command("fetch")
    .description("download the ARC data from GitHub at pinned commits into the cache, checking SHA-256 hashes")
    .addOption(new Option("--set <names...>", `sets to fetch (default: all): ${FETCH_SETS.join(", ")}`))
    .addOption(new Option("--cache <dir>", "cache directory (default: $TRM_DIS_CACHE_DIR, else ~/.cache/trm-dis/data)"))
    .addOption(
      new Option("--base-url <url>", "archive server (default: $TRM_DIS_ARCHIVE_BASE_URL, else GitHub's codeload)")
        .hideHelp(),
    )
    .action(async (opts: { set?: string[]; cache?: string; baseUrl?: string }) => {
      const sets = parseFetchSets(opts.set ?? [...FETCH_SETS]);
      const cacheDir = opts.cache ?? defaultCacheDir();
      const baseUrl = opts.baseUrl ?? readEnv("TRM_DIS_ARCHIVE_BASE_URL") ?? DEFAULT_ARCHIVE_BASE_URL;
      const t0 = performance.now();
      const results = await fetchSets({
        cacheDir,
        sets,
        baseUrl,
        onEvent: (e) => {
          if (e.kind === "download") printErr(`${e.set}: downloading ${e.url} (attempt ${e.attempt})`);
          else if (e.kind === "retry") {
            printErr(`${e.set}: bad download (${e.reason}); retrying in ${formatDuration(e.delayMs / 1000)}`);
          } else if (e.kind === "stale") {
            printErr(
              `${e.set}: cache incomplete (${e.missing} missing, ${e.corrupt} corrupt, ${e.extra} extra files)`,
            );
          }
        },
      });
      print(`Data cache ${cacheDir}`);
      for (const r of results) {
        print(
          `  ${r.set}: ${r.files} files ${
            r.downloaded ? `downloaded (${r.attempts} attempt${r.attempts > 1 ? "s" : ""})` : "already cached"
          }, verified; manifest hash ${r.hash}`,
        );
      }
      print(`  time ${seconds(t0)}`);
    });
}

function manifestCommand(): Command {
  return new Command("manifest")
    .description("rebuild the SHA-256 manifest from a verified data directory (maintainers)")
    .addOption(new Option("--data-dir <dir>", "a data directory laid out like the cache").makeOptionMandatory())
    .addOption(outOption(undefined, "manifest file to write").makeOptionMandatory())
    .action(async (opts: { dataDir: string; out: string }) => {
      if (await isDirectory(opts.out)) {
        throw new InputError(`Cannot write the manifest to "${opts.out}": it is a folder; expected a file path`);
      }
      const m = await buildManifest(opts.dataDir);
      await writeTextAtomic(opts.out, JSON.stringify(m, null, 1) + "\n");
      for (const [k, v] of Object.entries(m.sets)) print(`  ${k}: ${Object.keys(v.files).length} files`);
      print(`wrote ${opts.out}`);
    });
}

/** The `data` command. */
export function makeCommand(): Command {
  return new Command("data")
    .description("build the N-Queens and ARC datasets, fetch the ARC data")
    .addCommand(nqueensCommand())
    .addCommand(arcCommand())
    .addCommand(fetchCommand())
    .addCommand(manifestCommand());
}
