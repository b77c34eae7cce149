/**
 * The temporaries that atomic writes leave when a process is killed mid-write, and their safe removal.
 *
 * Every temporary this tool makes is named `.<target>.tmp-<pid>-<n>` (a folder being replaced also gets a
 * `.<target>.tmp-<pid>-<n>.old` while it is swapped), in the target's own folder, so the name says which
 * output it belongs to and which process made it. {@linkcode sweepStaleTemps} removes only names of that
 * shape whose process is gone: never a file the tool did not name, and never a live process's work.
 *
 * @module
 */
import { join } from "node:path";

/** `.<target>.tmp-<pid>-<n>` and its `.old` twin: the names lib/io gives its temporaries. */
const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-(\d+)(\.old)?$/;

/**
 * The name of a temporary for `target` (a plain file or folder name) made by process `pid`.
 *
 * @example
 * ```ts
 * import { tempName } from "./temp.ts";
 * tempName("out", 42, 1); // ".out.tmp-42-1"
 * ```
 */
export function tempName(target: string, pid: number, n: number): string {
  return `.${target}.tmp-${pid}-${n}`;
}

/**
 * What a temporary's name says: the target it stands for and the pid that made it; null for any other name.
 *
 * @example
 * ```ts
 * import { parseTempName } from "./temp.ts";
 * parseTempName(".latest.tmp-42-3"); // { target: "latest", pid: 42 }
 * parseTempName("notes.txt"); // null
 * ```
 */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const m = TEMP_NAME.exec(name);
  if (!m) return null;
  const pid = Number(m[2]);
  return Number.isSafeInteger(pid) && pid > 0 ? { target: m[1], pid } : null;
}

/**
 * Whether process `pid` is alive on this machine. Where that cannot be told (an OS without `/proc` or
 * `kill`), the answer is true: a temporary or lock is then kept rather than taken from a live process.
 *
 * @example
 * ```ts
 * import { pidAlive } from "./temp.ts";
 * pidAlive(Deno.pid); // true
 * ```
 */
export function pidAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      return true;
    }
  }
  if (Deno.build.os === "windows") return true;
  try {
    return new Deno.Command("kill", { args: ["-0", String(pid)], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return true;
  }
}

/** Options of {@linkcode sweepStaleTemps}. */
export interface SweepOptions {
  /** Only temporaries of this target (a name, or a pattern the target name must match); default any. */
  target?: string | RegExp;
}

/**
 * Removes the stale temporaries in `dir`: names of the shape lib/io gives them (`.<target>.tmp-<pid>-<n>`,
 * optionally `.old`) whose pid is not a live process on this machine. Anything else, and every temporary of a
 * live process (this one included), is left alone. Returns the names removed; a missing `dir` is no error.
 *
 * @example
 * ```ts
 * import { sweepStaleTemps } from "./temp.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/.latest.tmp-${Deno.pid}-1`, "mine, still writing");
 * await sweepStaleTemps(dir, { target: "latest" }); // [] (this process is alive)
 * ```
 */
export async function sweepStaleTemps(dir: string, opts: SweepOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return removed;
    throw e;
  }
  for (const e of entries) {
    const t = parseTempName(e.name);
    if (t === null) continue;
    const want = opts.target;
    if (typeof want === "string" && t.target !== want) continue;
    if (want instanceof RegExp && !want.test(t.target)) continue;
    if (pidAlive(t.pid)) continue;
    try {
      await Deno.remove(join(dir, e.name), { recursive: true });
      removed.push(e.name);
    } catch (err) {
      // Another process sweeping the same folder got there first.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return removed.sort();
}
