/**
 * Atomic file writes: write to a temporary file in the same directory, flush it, then rename over the
 * target. A reader sees either the old file or the new one, never a partial file, and a killed process
 * leaves at most a stray `.tmp-*` file that the next write replaces.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { namedWriteError, WriteError } from "./write_error.ts";

let counter = 0;

function tempPath(path: string): string {
  counter += 1;
  const base = path.split("/").pop() ?? "file";
  return join(dirname(path), `.${base}.tmp-${Deno.pid}-${counter}`);
}

/**
 * Writes a file atomically by streaming: `write(file)` fills a temporary file in the target's directory,
 * which is flushed and renamed over `path`. If `write` throws, the temporary file is removed and `path`
 * is untouched; an OS error (a full disk, say) is rethrown as a `WriteError` that names `path`. Returns
 * what `write` returns.
 */
export async function writeStreamAtomic<T>(path: string, write: (file: Deno.FsFile) => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(path), { recursive: true });
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
 */
export async function replaceDirAtomic(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await Deno.mkdir(parent, { recursive: true });
  const tmp = tempPath(dir);
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw inFinalPlace(namedWriteError(dir, e), tmp, dir);
  }
  const old = `${tmp}.old`;
  let moved = false;
  try {
    await Deno.rename(dir, old);
    moved = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.rename(tmp, dir);
  if (moved) await Deno.remove(old, { recursive: true });
}
