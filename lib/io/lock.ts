/**
 * One writer per folder: a lock file, {@linkcode LOCK_FILE}, created atomically (O_EXCL) in a run or
 * experiment folder while a process writes it. It records the holder's pid, host, start time and command.
 *
 * - A second writer is refused with a {@linkcode FolderLockedError} (exit 2) naming the folder and the holder.
 * - A lock whose holder is gone (its pid is not alive on this host) is stale: it is taken over, and the
 *   listeners of {@linkcode onLockTakeover} (the CLI prints a line) are told whose it was.
 * - A lock from another host is never taken over: that process cannot be seen from here.
 * - Locks are released by {@linkcode FolderLock.release}, and, for any still held, when the process exits
 *   through `Deno.exit` (the CLI's signal handlers exit that way) or returns normally.
 *
 * `reproduce --jobs N` holds the experiment folder's lock in the parent; each row's child process locks only
 * its own row folder, so the parent never blocks its children.
 *
 * @module
 */
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { pidAlive } from "./temp.ts";

/** The lock file's name. */
export const LOCK_FILE = ".trm-dis.lock";

/** What the lock file records. */
export interface LockInfo {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name: a lock from another host is never taken over. */
  host: string;
  /** When the holder took the lock (ISO 8601). */
  started: string;
  /** The holder's command line. */
  command: string[];
}

/** The folder is locked by another live process: exit 2. */
export class FolderLockedError extends InputError {
  /**
   * A locked folder the CLI refuses with exit code 2.
   *
   * @param message The folder, its holder (pid, host, start, command) and what to do.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FolderLockedError";
  }
}

/** A held lock. */
export interface FolderLock {
  /** The locked folder. */
  readonly dir: string;
  /** The lock file. */
  readonly path: string;
  /** What the lock file records. */
  readonly info: LockInfo;
  /** The stale lock this one replaced, or null. */
  readonly takenOver: LockInfo | null;
  /** Removes the lock file (when it is still this lock's); idempotent. */
  release(): void;
  /** The same as {@linkcode FolderLock.release}, for `using`. */
  [Symbol.dispose](): void;
}

/** A stale lock taken over: the folder and whose lock it was. */
export interface LockTakeover {
  /** The folder. */
  dir: string;
  /** The stale lock's record, or null when it was unreadable. */
  stale: LockInfo | null;
  /** One line saying so, for the CLI to print. */
  message: string;
}

const listeners = new Set<(t: LockTakeover) => void>();

/**
 * Calls `listener` whenever a stale lock is taken over; returns the function that removes it. lib/ never
 * prints, so the CLI registers a listener that does.
 *
 * @example
 * ```ts
 * import { onLockTakeover } from "./lock.ts";
 * const off = onLockTakeover((t) => console.error(t.message));
 * off();
 * ```
 */
export function onLockTakeover(listener: (t: LockTakeover) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The locks this process holds, by lock-file path, removed at exit if still held. */
const held = new Map<string, LockInfo>();
let exitHookInstalled = false;

function sameLock(a: LockInfo, b: LockInfo): boolean {
  return a.pid === b.pid && a.host === b.host && a.started === b.started;
}

function readLockSync(path: string): LockInfo | null | "absent" {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "absent";
    throw e;
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (Number.isSafeInteger(v.pid) && typeof v.host === "string" && typeof v.started === "string") {
      return { pid: v.pid!, host: v.host, started: v.started, command: Array.isArray(v.command) ? v.command : [] };
    }
  } catch {
    // Empty or torn: a holder between creating the file and writing it, or one killed right there.
  }
  return null;
}

function releaseSync(path: string, info: LockInfo): void {
  if (!held.has(path)) return;
  held.delete(path);
  const now = readLockSync(path);
  if (now === "absent" || (now !== null && !sameLock(now, info))) return;
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // "unload" runs on a normal end and on Deno.exit (which the CLI's SIGINT/SIGTERM handlers call).
  globalThis.addEventListener("unload", () => {
    for (const [path, info] of [...held]) {
      try {
        releaseSync(path, info);
      } catch {
        // Exiting anyway; a lock left behind is stale and taken over next time.
      }
    }
  });
}

function describe(info: LockInfo): string {
  const cmd = info.command.length > 0 ? ` (${info.command.join(" ")})` : "";
  return `process ${info.pid} on host "${info.host}", started ${info.started}${cmd}`;
}

/** An unreadable lock younger than this is taken to be one being written right now. */
const TORN_GRACE_MS = 10_000;

/**
 * Locks `dir` (created if missing) for this process: creates {@linkcode LOCK_FILE} with O_EXCL. A live
 * holder gives a {@linkcode FolderLockedError}; a stale one is taken over (see the module doc).
 *
 * @example
 * ```ts
 * import { lockFolder } from "./lock.ts";
 * const lock = await lockFolder(await Deno.makeTempDir(), { command: ["demo"] });
 * lock.release();
 * ```
 */
export async function lockFolder(dir: string, opts: { command?: readonly string[] } = {}): Promise<FolderLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: Deno.pid,
    host: Deno.hostname(),
    started: new Date().toISOString(),
    command: [...(opts.command ?? [])],
  };
  let takenOver: LockInfo | null = null;
  let tookStale = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const other = readLockSync(path);
      if (other === "absent") continue;
      if (other === null) {
        const age = Date.now() - ((await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0);
        if (age < TORN_GRACE_MS) {
          throw new FolderLockedError(
            `Cannot write "${dir}": another process is taking its lock right now (${path}); try again`,
          );
        }
      } else if (other.host !== info.host || pidAlive(other.pid)) {
        const elsewhere = other.host !== info.host
          ? `; if that process is gone, remove "${path}" by hand (a lock from another host is never taken over)`
          : `; if no such run is going on, that pid now belongs to another program: remove "${path}" by hand`;
        throw new FolderLockedError(
          `Cannot write "${dir}": it is being written by ${describe(other)}; wait for it to finish or choose ` +
            `another folder${elsewhere}`,
        );
      }
      // Stale: move it aside under a name of our own, check that it is still the one we judged, then drop it.
      const aside = `${path}.stale-${Deno.pid}`;
      try {
        await Deno.rename(path, aside);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      const moved = readLockSync(aside);
      if (other !== null && moved !== "absent" && moved !== null && !sameLock(moved, other)) {
        // Someone else took over and locked in between: put theirs back and look again.
        await Deno.rename(aside, path).catch(() => {});
        continue;
      }
      await Deno.remove(aside).catch(() => {});
      takenOver = other;
      tookStale = true;
      continue;
    }
    try {
      await file.write(new TextEncoder().encode(JSON.stringify(info, null, 2) + "\n"));
      await file.sync();
    } finally {
      file.close();
    }
    installExitHook();
    held.set(path, info);
    if (tookStale) {
      const message = takenOver === null
        ? `Took over the unreadable stale lock of "${dir}"`
        : `Took over the stale lock of "${dir}": ${describe(takenOver)} is no longer running`;
      for (const l of listeners) l({ dir, stale: takenOver, message });
    }
    const release = () => releaseSync(path, info);
    return { dir, path, info, takenOver, release, [Symbol.dispose]: release };
  }
  throw new FolderLockedError(`Cannot write "${dir}": its lock (${path}) keeps changing hands; try again`);
}

/**
 * Runs `work` with `dir` locked, releasing the lock afterwards whether `work` succeeds or throws.
 *
 * @example
 * ```ts
 * import { withFolderLock } from "./lock.ts";
 * await withFolderLock(await Deno.makeTempDir(), {}, async () => {});
 * ```
 */
export async function withFolderLock<T>(
  dir: string,
  opts: { command?: readonly string[] },
  work: (lock: FolderLock) => Promise<T>,
): Promise<T> {
  const lock = await lockFolder(dir, opts);
  try {
    return await work(lock);
  } finally {
    lock.release();
  }
}
