/**
 * Atomic file writes: write to a temporary file in the same directory, flush it, then rename over the
 * target. A reader sees either the old file or the new one, never a partial file. A killed process leaves
 * at most a stray `.<name>.tmp-<pid>-<n>` (lib/io temp.ts); the next write of the same name in a later
 * process removes it once its pid is gone, and never touches a live process's temporaries.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve, sep as SEPARATOR } from "node:path";
import { sweepStaleTemps, tempName } from "./temp.ts";
import { namedWriteError, WriteError } from "./write_error.ts";

let counter = 0;

function tempPath(path: string): string {
  counter += 1;
  return join(dirname(path), tempName(basename(path), Deno.pid, counter));
}

/** The (folder, target) pairs whose stale temporaries this process has already swept. */
const swept = new Set<string>();

/** Removes the dead processes' temporaries of `path`, once per process and path. */
async function sweepOnce(path: string): Promise<void> {
  const key = `${dirname(path)}\0${basename(path)}`;
  if (swept.has(key)) return;
  swept.add(key);
  await sweepStaleTemps(dirname(path), { target: basename(path) });
}

/**
 * Writes a file atomically by streaming: `write(file)` fills a temporary file in the target's directory,
 * which is flushed and renamed over `path`. If `write` throws, the temporary file is removed and `path`
 * is untouched; an OS error (a full disk, say) is rethrown as a `WriteError` that names `path`. Returns
 * what `write` returns.
 */
export async function writeStreamAtomic<T>(path: string, write: (file: Deno.FsFile) => Promise<T>): Promise<T> {
  path = resolve(path);
  await Deno.mkdir(dirname(path), { recursive: true });
  await sweepOnce(path);
  const tmp = tempPath(path);
  try {
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    let result: T;
    try {
      result = await write(f);
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
    return result;
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    // A full disk fails the write with an OS error that names no file: name the one being written.
    throw namedWriteError(path, e);
  }
}

/** Writes bytes atomically, creating parent directories. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await writeStreamAtomic(path, async (f) => {
    let off = 0;
    while (off < data.length) off += await f.write(data.subarray(off));
  });
}

/** Writes UTF-8 text atomically. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/** Whether this process's working folder is `dir` or inside it. */
function holdsCwd(dir: string): boolean {
  const cwd = Deno.cwd();
  return cwd === dir || cwd.startsWith(dir.endsWith(SEPARATOR) ? dir : dir + SEPARATOR);
}

/** A write error inside the temporary folder `tmp`, renamed to the place the file would have had in `dir`. */
function inFinalPlace(e: unknown, tmp: string, dir: string): unknown {
  if (!(e instanceof WriteError) || !e.path.startsWith(`${tmp}/`)) return e;
  const path = join(dir, relative(tmp, e.path));
  return new WriteError(path, e.message.replaceAll(e.path, path), { cause: e.cause });
}

/**
 * Replaces a whole directory atomically: `build(tmpDir)` fills a fresh temporary sibling directory,
 * which is then renamed over `dir` (an existing `dir` is moved aside and removed). If `build` throws,
 * nothing is left behind and `dir` is untouched.
 *
 * It replaces whatever `dir` holds: callers that write a user's `--out` check it first (lib/io output.ts
 * `replaceOutputDir`). The folder this process works in (`--out .`) cannot be renamed away without
 * stranding the shell that stands in it, so there the entries are swapped instead of the folder.
 */
export async function replaceDirAtomic(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  if (parent === target) throw new RangeError(`Cannot replace "${dir}": it is the root of the file system`);
  await Deno.mkdir(parent, { recursive: true });
  await sweepOnce(target);
  const tmp = tempPath(target);
  const old = `${tmp}.old`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
    if (holdsCwd(target)) {
      await Deno.mkdir(old);
      for await (const e of Deno.readDir(target)) await Deno.rename(join(target, e.name), join(old, e.name));
      for await (const e of Deno.readDir(tmp)) await Deno.rename(join(tmp, e.name), join(target, e.name));
      await Deno.remove(tmp, { recursive: true });
      await Deno.remove(old, { recursive: true });
      return;
    }
    let moved = false;
    try {
      await Deno.rename(target, old);
      moved = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await Deno.rename(tmp, target);
    if (moved) await Deno.remove(old, { recursive: true });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw inFinalPlace(namedWriteError(dir, e), tmp, target);
  }
}
