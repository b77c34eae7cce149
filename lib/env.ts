/**
 * The one module of lib/ that reads environment variables. Every other module takes typed options; the
 * CLI fills them from its flags, then from {@linkcode runtimeSettings} (the variables below). Each read is
 * recorded, and lib/report's provenance (`run.json`) lists what was read, so a run says which variables
 * shaped it.
 *
 * @example
 * ```ts
 * import { envReads, readEnv } from "./env.ts";
 * readEnv("TRM_DIS_DATA_DIR");
 * "TRM_DIS_DATA_DIR" in envReads(); // true
 * ```
 *
 * @module
 */

/** The variables lib/ and cli/ read, with what each one sets. */
export const ENV_VARS = {
  TRM_DIS_DATA_DIR: "the ARC data folder, when --data-dir is not given",
  TRM_DIS_CACHE_DIR: "the download cache of `data fetch` (default $XDG_CACHE_HOME/trm-dis/data)",
  TRM_DIS_ARCHIVE_BASE_URL: "where `data fetch` downloads archives from",
  TRM_DIS_BLAS: "`off` (or `0`): no OpenBLAS, so cpu is the exact reference backend of the goldens",
  TRM_DIS_BLAS_LIB: "the OpenBLAS library file to load",
  TRM_DIS_BLAS_THREADS: "OpenBLAS threads (default: the machine's cores)",
  TRM_DIS_PUZZLE_TABLE: "`device`: keep the puzzle-embedding table on the device (webgpu only)",
  TRM_DIS_WEBGPU_KERNELS: "`0`: tfjs's own webgpu kernels instead of the fused WGSL ones",
  TRM_DIS_WEBGPU_CPU_FORWARD: "`1`: let tfjs run small webgpu data-movement ops on the CPU",
  TRM_DIS_WEBGPU_SUBMIT_BATCH: "webgpu dispatches per queue submit",
  TRM_DIS_PYTHON: "the Python with torch that `bench` and the parity fixtures use",
  XDG_CACHE_HOME: "the cache root, when TRM_DIS_CACHE_DIR is not set",
  HOME: "the home folder, for the default cache",
  USERPROFILE: "the home folder on Windows, for the default cache",
  XDG_RUNTIME_DIR: "checked (and set to TMPDIR when empty) so Vulkan's loader stays quiet",
  TMPDIR: "the temporary folder, for XDG_RUNTIME_DIR",
} as const;

/** A variable of {@linkcode ENV_VARS}. */
export type EnvVar = keyof typeof ENV_VARS;

const reads = new Map<EnvVar, string | null>();

/**
 * Reads a variable and records the read (an unset variable, or one that cannot be read without
 * `--allow-env`, as null). Returns undefined where unset or empty.
 */
export function readEnv(name: EnvVar): string | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(name);
  } catch {
    value = undefined; // no --allow-env: the defaults
  }
  reads.set(name, value === undefined || value === "" ? null : value);
  return value === "" ? undefined : value;
}

/**
 * Sets a variable where it is unset (Vulkan's loader reads XDG_RUNTIME_DIR itself); records the read.
 * Without `--allow-env` nothing happens.
 */
export function setEnvIfUnset(name: EnvVar, value: string): void {
  if (readEnv(name) !== undefined) return;
  try {
    Deno.env.set(name, value);
  } catch {
    // Without --allow-env the variable stays unset; nothing depends on it.
  }
}

/** Every variable read so far, by name in sorted order (null = unset); what provenance records. */
export function envReads(): Record<string, string | null> {
  return Object.fromEntries([...reads.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Where the puzzle-embedding table lives during training. */
export const PUZZLE_TABLE_PLACEMENTS = ["host", "device"] as const;
/** A placement of {@linkcode PUZZLE_TABLE_PLACEMENTS}. */
export type PuzzleTablePlacement = typeof PUZZLE_TABLE_PLACEMENTS[number];

/** The settings the environment gives the CLI's defaults, typed. */
export interface RuntimeSettings {
  /** The ARC data folder ($TRM_DIS_DATA_DIR), if set. */
  dataDir?: string;
  /** Whether OpenBLAS may be used ($TRM_DIS_BLAS=off or 0: no, the reference cpu backend). */
  blas: boolean;
  /** $TRM_DIS_PUZZLE_TABLE: `device` keeps the table on the device on webgpu; else `host`. */
  puzzleTable: PuzzleTablePlacement;
}

/**
 * The typed settings of the environment (each read recorded).
 *
 * @example
 * ```ts
 * import { runtimeSettings } from "./env.ts";
 * typeof runtimeSettings().blas; // "boolean"
 * ```
 */
export function runtimeSettings(): RuntimeSettings {
  const blas = readEnv("TRM_DIS_BLAS");
  return {
    dataDir: readEnv("TRM_DIS_DATA_DIR"),
    blas: !(blas === "off" || blas === "0"),
    puzzleTable: readEnv("TRM_DIS_PUZZLE_TABLE") === "device" ? "device" : "host",
  };
}
