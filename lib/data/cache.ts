/**
 * The fetch cache is checked when it is read, not only when `data fetch` fills it: before a subset is
 * loaded from a cache, every file of the manifest under that subset's folder must be there with its
 * SHA-256, and no other file may be there. A cache is a folder holding {@linkcode CACHE_INDEX_FILE} (which
 * `data fetch` writes) or the default cache folder ({@linkcode defaultCacheDir}); a data folder of one's
 * own (`--data-dir`, `$TRM_DIS_DATA_DIR`, `data.data_dir`, without that file) is read as it is.
 *
 * So that an unchanged cache costs no hashing, the index records each file's size, modification time and
 * status-change time (ctime, which no tool can set back) beside its hash; a file whose three facts match
 * the index is taken as checked, and only a file whose facts changed is hashed again. The index is a
 * cache of work, never of trust: a hash is compared with the committed manifest, not with the index.
 *
 * - a file that differs: a DataError (exit 2) naming it, the manifest's hash and the file's, and the
 *   `data fetch` command that restores it;
 * - a file missing: a DataError naming it and the same command;
 * - a file that the manifest does not list (an extra task would be read as one): a DataError naming it
 *   (the first few of them and how many); remove it, or re-fetch the set, which rebuilds its folders.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { DataError } from "../errors.ts";
import { writeTextAtomic } from "../io/mod.ts";
import { sha256Hex } from "./_hash.ts";
import { defaultCacheDir, MANIFEST } from "./fetch.ts";

/** The file, at the cache's root, that marks a folder as a fetch cache and holds its index. */
export const CACHE_INDEX_FILE = "cache-index.json";

const INDEX_FORMAT = "trm-dis-cache-index";

interface IndexEntry {
  size: number;
  mtimeMs: number | null;
  ctimeMs: number | null;
  sha256: string;
}

type CacheIndex = Record<string, IndexEntry>;

/** The manifest's files by cache path, with the set each belongs to. */
function manifestFiles(): Map<string, { set: string; sha256: string }> {
  const out = new Map<string, { set: string; sha256: string }>();
  for (const [set, spec] of Object.entries(MANIFEST.sets)) {
    for (const [rel, sha256] of Object.entries(spec.files)) out.set(rel, { set, sha256 });
  }
  return out;
}

async function readIndex(cacheDir: string): Promise<CacheIndex | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(cacheDir, CACHE_INDEX_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const v = JSON.parse(text);
    // A damaged index only costs hashing again: every file is then checked against the manifest.
    return v?.format === INDEX_FORMAT && typeof v.files === "object" && v.files !== null ? v.files : {};
  } catch {
    return {};
  }
}

async function writeIndex(cacheDir: string, index: CacheIndex): Promise<void> {
  const files: CacheIndex = {};
  for (const k of Object.keys(index).sort()) files[k] = index[k];
  const text = JSON.stringify({ format: INDEX_FORMAT, version: 1, files }, null, 1) + "\n";
  // A cache one may read but not write (shared, read-only) is still checked; it is only hashed again next time.
  await writeTextAtomic(join(cacheDir, CACHE_INDEX_FILE), text).catch(() => {});
}

function facts(info: Deno.FileInfo): Omit<IndexEntry, "sha256"> {
  return { size: info.size, mtimeMs: info.mtime?.getTime() ?? null, ctimeMs: info.ctime?.getTime() ?? null };
}

function sameFacts(a: IndexEntry | undefined, b: Omit<IndexEntry, "sha256">): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs &&
    a.mtimeMs !== null && a.ctimeMs !== null;
}

/**
 * Whether `dir` is a fetch cache: it holds {@linkcode CACHE_INDEX_FILE}, or it is the default cache folder
 * (a cache filled before the index existed).
 */
export async function isFetchCache(dir: string): Promise<boolean> {
  try {
    await Deno.stat(join(dir, CACHE_INDEX_FILE));
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
  }
  let home: string;
  try {
    home = defaultCacheDir();
  } catch {
    return false;
  }
  return resolve(dir) === resolve(home);
}

async function filesUnder(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(root, d)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      const r = `${d}${e.name}`;
      if (e.isDirectory) await walk(`${r}/`);
      else out.push(r);
    }
  };
  await walk(rel);
  return out.sort();
}

/**
 * Checks the files of a fetch cache under `prefix` (a folder of the cache, ending in `/`, such as
 * `arc-agi-1/training/`) against the manifest, hashing only files whose size, mtime or ctime changed since
 * the index last saw them; throws a {@linkcode DataError} naming the first problem. Records what it hashed.
 *
 * @example
 * ```ts ignore
 * await verifyCachedFiles(defaultCacheDir(), "arc-agi-1/evaluation/");
 * ```
 */
export async function verifyCachedFiles(cacheDir: string, prefix: string): Promise<void> {
  const manifest = manifestFiles();
  const wanted = [...manifest.keys()].filter((k) => k.startsWith(prefix)).sort();
  if (wanted.length === 0) return;
  const set = manifest.get(wanted[0])!.set;
  const refetch = `run "deno task cli data fetch --set ${set}${
    resolve(cacheDir) === resolve(defaultCacheDirOrNull() ?? "") ? "" : ` --cache ${cacheDir}`
  }" to restore it`;
  const where = `Cannot read the data cache "${cacheDir}"`;
  const index = (await readIndex(cacheDir)) ?? {};
  let changed = false;
  for (const rel of wanted) {
    const file = join(cacheDir, rel);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new DataError(`${where}: "${rel}" is missing (the manifest lists it); ${refetch}`, { cause: e });
      }
      throw e;
    }
    const expected = manifest.get(rel)!.sha256;
    const now = facts(info);
    const known = index[rel];
    if (sameFacts(known, now) && known!.sha256 === expected) continue;
    const actual = sha256Hex(await Deno.readFile(file));
    if (actual !== expected) {
      throw new DataError(
        `${where}: "${rel}" has been changed since it was fetched: its SHA-256 is ${actual}, the manifest's ` +
          `(lib/data/manifest.json) is ${expected}; ${refetch}`,
      );
    }
    index[rel] = { ...now, sha256: actual };
    changed = true;
  }
  const top = prefix.split("/")[0];
  const wantedSet = new Set(wanted);
  const extra = (await filesUnder(cacheDir, prefix)).filter((r) => !wantedSet.has(r));
  if (extra.length > 0) {
    const shown = extra.slice(0, 5).map((r) => `"${r}"`).join(", ");
    throw new DataError(
      `${where}: ${extra.length} file${extra.length === 1 ? "" : "s"} in "${top}/" that \`data fetch\` did not ` +
        `put there (${shown}${extra.length > 5 ? ", ..." : ""}), which would be read as data; remove ` +
        `${extra.length === 1 ? "it" : "them"}, or ${refetch.replace("to restore it", "to rebuild the set")}`,
    );
  }
  if (changed) await writeIndex(cacheDir, index);
}

function defaultCacheDirOrNull(): string | null {
  try {
    return defaultCacheDir();
  } catch {
    return null;
  }
}

/**
 * Records the files of `sets` in the cache's index as `data fetch` has just checked them (each against its
 * manifest hash), so the next read does not hash them again; creates the index, which marks the folder as
 * a cache.
 */
export async function recordCachedSets(cacheDir: string, sets: readonly string[]): Promise<void> {
  const index = (await readIndex(cacheDir)) ?? {};
  for (const set of sets) {
    for (const [rel, sha256] of Object.entries(MANIFEST.sets[set].files)) {
      try {
        index[rel] = { ...facts(await Deno.stat(join(cacheDir, rel))), sha256 };
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        delete index[rel];
      }
    }
  }
  await writeIndex(cacheDir, index);
}

/** Files under the folders of `set` in `cacheDir` that its manifest does not list (cache paths). */
export async function extraCachedFiles(cacheDir: string, set: string): Promise<string[]> {
  const spec = MANIFEST.sets[set];
  const listed = new Set(Object.keys(spec.files));
  const out: string[] = [];
  for (const to of new Set(Object.values(spec.paths))) {
    for (const r of await filesUnder(cacheDir, to)) if (!listed.has(r)) out.push(r);
  }
  return out;
}
