/**
 * Benchmark: build the ARC index (TRM's augmentation and deduplication, kept as an index) and print the
 * wall time and peak RSS. Figures are recorded in docs/data.md.
 *
 *   deno run -A tools/bench/arc_index.ts [--set arc-agi-1] [--augmentations 1000] [--seed 0] [--data-dir DIR]
 *
 * The data directory defaults to $TRM_DIS_DATA_DIR, else the `data fetch` cache.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { arcSplits, buildArcIndex, defaultCacheDir, numExamples, TrainSampler } from "../../lib/data/mod.ts";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

function peakRssBytes(): number | null {
  // VmHWM is the kernel's high-water mark of resident memory for this process.
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const dataDir = arg("data-dir", Deno.env.get("TRM_DIS_DATA_DIR") ?? defaultCacheDir());
const set = arg("set", "arc-agi-1");
const augmentations = Number(arg("augmentations", "1000"));
const seed = Number(arg("seed", "0"));

const t0 = performance.now();
let lastPrint = t0;
const index = await buildArcIndex({
  set,
  dataDir,
  seed,
  augmentations,
  onProgress: ({ done, total }) => {
    const now = performance.now();
    if (now - lastPrint > 10_000 || done === total) {
      console.log(`  ${done}/${total} tasks, ${((now - t0) / 1000).toFixed(1)} s`);
      lastPrint = now;
    }
  },
});
const tBuild = performance.now();
const { train, test } = arcSplits(index);
const tSplits = performance.now();
const sampler = new TrainSampler(train, { batchSize: 768, seed });
const tSample0 = performance.now();
const batches = 20;
for (let i = 0; i < batches; i++) sampler.next();
const tSample = performance.now();
const rss = peakRssBytes();
console.log(`set ${set}, augmentations ${augmentations}, seed ${seed}, data ${dataDir}`);
console.log(`tasks ${index.tasks.length}, accepted augmentations ${index.augDihedral.length}`);
console.log(
  `train: ${train.groupIndices.length - 1} groups, ${train.puzzleIdentifiers.length} puzzles, ${
    numExamples(train)
  } examples`,
);
console.log(
  `test: ${test.groupIndices.length - 1} groups, ${test.puzzleIdentifiers.length} puzzles, ${
    numExamples(test)
  } examples`,
);
console.log(`augmentation hash ${index.augmentationHash}`);
console.log(`index build ${((tBuild - t0) / 1000).toFixed(2)} s, splits ${((tSplits - tBuild) / 1000).toFixed(2)} s`);
console.log(`sampler: ${batches} train batches of 768 in ${((tSample - tSample0) / 1000).toFixed(2)} s`);
console.log(`peak RSS ${rss === null ? "unknown" : `${(rss / 2 ** 20).toFixed(0)} MiB`}`);
