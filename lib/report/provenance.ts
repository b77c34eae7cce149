/**
 * Provenance for `run.json`: the volatile facts about a run that results files leave out on purpose
 * (date, git commit, runtime versions, backend, host, wall time, seeds, command line, and the environment
 * variables the process read through lib/env.ts).
 *
 * @module
 */
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { BackendInfo } from "../backend/mod.ts";
import { envReads } from "../env.ts";
import { streamSeeds } from "../random/mod.ts";

/** The git state of the source tree, or why it is unknown. */
export type GitInfo =
  | { commit: string; dirty: boolean }
  | { commit: null; reason: string };

/** Everything `run.json` holds. */
export interface Provenance {
  /** When the run started, ISO 8601 UTC. */
  started: string;
  /** When the run finished, ISO 8601 UTC. */
  finished: string;
  /** Seconds from `started` to `finished`. */
  wallSeconds: number;
  /** The command line, without the executable. */
  command: string[];
  /** The repository's commit and whether the tree had uncommitted changes, or why it is unknown. */
  git: GitInfo;
  /** Versions of Deno, V8 and TypeScript. */
  runtime: { deno: string; v8: string; typescript: string };
  /** The chosen backend and its details, or null for work that runs no tensors. */
  backend: BackendInfo | null;
  /** The machine: host name, OS, architecture, CPU model and cores, total memory in bytes (0 when unreadable). */
  host: { hostname: string; os: string; arch: string; cpuModel: string; cpuCount: number; memoryBytes: number };
  /** The master seed and the seed each named stream derives from it; null when the run draws no random numbers. */
  seeds: { master: number; streams: Record<string, number> } | null;
  /** Every environment variable the process read (lib/env.ts), by name; null = unset. */
  env: Record<string, string | null>;
  /** Anything else the caller records (profile, resumed-from step, ...). */
  extra: Record<string, unknown>;
}

/** Input of {@linkcode collectProvenance}. */
export interface ProvenanceInput {
  /** The command line, e.g. `["reproduce", "nqueens", "--seed", "0"]`. */
  command: readonly string[];
  /** When the work began. */
  started: Date;
  /** When it ended. */
  finished: Date;
  /** The backend in use; null or absent for work that runs no tensors. */
  backend?: BackendInfo | null;
  /** The run's master seed, from which the stream seeds are derived; null or absent when there is none. */
  masterSeed?: number | null;
  /** Anything else to record, under `extra`. */
  extra?: Record<string, unknown>;
  /** Directory whose git state is recorded; defaults to this project's root. */
  gitDir?: string;
}

const PROJECT_ROOT = new URL("../../", import.meta.url);

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`git ${args.join(" ")} exited ${out.code}${err ? `: ${err}` : ""}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * The commit of the tree at `dir` and whether tracked files differ from it (untracked files are not
 * counted). Never throws: without git, or outside a repository, says why.
 *
 * @example
 * ```ts
 * import { gitInfo } from "./provenance.ts";
 * const g = await gitInfo(Deno.cwd());
 * g.commit === null || g.commit.length === 40; // true
 * ```
 */
export async function gitInfo(dir: string): Promise<GitInfo> {
  try {
    const commit = await git(["rev-parse", "HEAD"], dir);
    const status = await git(["status", "--porcelain", "--untracked-files=no"], dir);
    return { commit, dirty: status.length > 0 };
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound ? "git is not installed" : (e as Error).message;
    return { commit: null, reason };
  }
}

async function cpuModel(): Promise<string> {
  try {
    const text = await Deno.readTextFile("/proc/cpuinfo");
    const m = text.match(/^model name\s*:\s*(.+)$/m);
    if (m) return m[1].trim();
  } catch {
    // Not Linux: fall through to node:os.
  }
  return cpus()[0]?.model?.trim() || "unknown";
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

function memoryBytes(): number {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 0;
  }
}

/**
 * Gathers provenance. Facts that cannot be read (no git, no /proc) are recorded as unknown, never thrown.
 *
 * @example
 * ```ts
 * import { collectProvenance } from "./provenance.ts";
 * const now = new Date();
 * const p = await collectProvenance({ command: ["list"], started: now, finished: now, masterSeed: 0 });
 * p.seeds?.master; // 0
 * ```
 */
export async function collectProvenance(input: ProvenanceInput): Promise<Provenance> {
  const gitDir = input.gitDir ?? (PROJECT_ROOT.protocol === "file:" ? fileURLToPath(PROJECT_ROOT) : Deno.cwd());
  const seed = input.masterSeed ?? null;
  return {
    started: input.started.toISOString(),
    finished: input.finished.toISOString(),
    wallSeconds: Math.max(0, (input.finished.getTime() - input.started.getTime()) / 1000),
    command: [...input.command],
    git: await gitInfo(gitDir),
    runtime: { deno: Deno.version.deno, v8: Deno.version.v8, typescript: Deno.version.typescript },
    backend: input.backend ?? null,
    host: {
      hostname: hostname(),
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpuModel: await cpuModel(),
      cpuCount: navigator.hardwareConcurrency,
      memoryBytes: memoryBytes(),
    },
    seeds: seed === null ? null : { master: seed, streams: streamSeeds(seed) },
    env: envReads(),
    extra: input.extra ?? {},
  };
}
