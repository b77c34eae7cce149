/**
 * The speed benchmark behind `deno task bench`: presets, the measurement on the real trainers, a kernel
 * profiler, the PyTorch reference runner, and the table / JSON output.
 *
 * @example
 * ```ts ignore
 * import { initBackend } from "../backend/mod.ts";
 * import { benchSpec, benchTable, runBenchmark } from "./mod.ts";
 * await initBackend("wasm");
 * const m = await runBenchmark(benchSpec("dis-compact-nqueens"), { batch: 64, repeats: 3 });
 * console.log(benchTable(m, null));
 * ```
 *
 * @module
 */
export {
  BENCH_PRESETS,
  type BenchPresetName,
  type BenchSpec,
  benchSpec,
  parseBenchPreset,
  referenceConfig,
} from "./presets.ts";
export { type BenchMeasurement, type BenchOptions, median, medianCounters, peakRss, runBenchmark } from "./measure.ts";
export { countGpuWork, type GpuCounters } from "./gpu_counters.ts";
export { type KernelProfile, profileKernels } from "./profile.ts";
export {
  BENCH_REF_SCRIPT,
  findTorchPython,
  type ReferenceResult,
  ReferenceSession,
  type TorchPython,
} from "./reference.ts";
export { benchRecord, benchTable, profileTable, type RunFacts } from "./format.ts";
