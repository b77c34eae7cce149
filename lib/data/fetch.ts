/**
 * `data fetch`: downloads the ARC sets from their upstream GitHub repositories at pinned commits (GitHub's
 * zip archives) into a cache directory laid out like the project's data directory, and checks every file
 * against the committed manifest of SHA-256 hashes (`manifest.json`).
 *
 * A set already in the cache with every file intact is not downloaded again. A download that is cut short
 * or corrupt (a failed request, an HTTP error, a body shorter than its Content-Length, an archive that does
 * not unzip, a file missing from it or whose hash differs) is detected and redone, up to `attempts` times,
 * waiting `retryDelayMs` before the first retry and twice as long before each next one (2 s, 4 s, 8 s by
 * default), so a network that is briefly down gets time to come back. The final error keeps the underlying
 * cause (a DNS or connection error) in its message and as its `cause`. Files reach the cache only through
 * an atomic directory swap, so an interrupted fetch never leaves a half-written set.
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { namedWriteError, replaceDirAtomic } from "../io/mod.ts";
import { DataError } from "../errors.ts";
import { sha256Hex } from "./_hash.ts";
import { extraCachedFiles, recordCachedSets } from "./cache.ts";
import manifestJson from "./manifest.json" with { type: "json" };

/** One downloadable set: a repository at a commit and where its folders go in the cache. */
export interface ManifestSet {
  /** GitHub repository, `owner/name`. */
  repo: string;
  /** The pinned commit, 40 hex digits. */
  commit: string;
  /** SPDX identifier of the data's licence (e.g. `Apache-2.0`). */
  licence: string;
  /** Folder in the archive (below `<repo>-<commit>/`) -> folder in the cache. */
  paths: Record<string, string>;
  /** Cache path -> SHA-256 (hex) of the file. */
  files: Record<string, string>;
}

/** The manifest: every set and the hash of every file. */
export interface Manifest {
  /** Layout version of the manifest. */
  version: 1;
  /** The sets by name. */
  sets: Record<string, ManifestSet>;
}

/** The committed manifest. */
export const MANIFEST: Manifest = manifestJson as Manifest;

/** The sets `data fetch` knows, in the manifest's order. */
export const FETCH_SETS: readonly string[] = Object.keys(MANIFEST.sets);

/** Where archives are downloaded from: `<base>/<owner>/<repo>/zip/<commit>`. */
export const DEFAULT_ARCHIVE_BASE_URL = "https://codeload.github.com";

/**
 * The default cache directory: `$TRM_DIS_CACHE_DIR`, else `$XDG_CACHE_HOME/trm-dis/data`, else
 * `~/.cache/trm-dis/data`.
 */
export function defaultCacheDir(): string {
  const env = readEnv("TRM_DIS_CACHE_DIR");
  if (env) return env;
  const xdg = readEnv("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "trm-dis", "data");
  const home = readEnv("HOME") ?? readEnv("USERPROFILE");
  if (!home) {
    throw new DataError("Cannot choose a data cache: neither TRM_DIS_CACHE_DIR nor HOME is set (pass --cache)");
  }
  return join(home, ".cache", "trm-dis", "data");
}

/** Checks set names for `data fetch --set`. */
export function parseFetchSets(names: string[]): string[] {
  for (const n of names) {
    if (!Object.hasOwn(MANIFEST.sets, n)) {
      throw new DataError(
        `Cannot fetch: unknown set "${n}" (expected ${FETCH_SETS.map((s) => `"${s}"`).join(", ")})`,
      );
    }
  }
  return names;
}

/**
 * Files of a set that are missing or differ from the manifest in `cacheDir`, and files in its folders that
 * the manifest does not list (`extra`). Every file is hashed: this is the full check `data fetch` makes.
 */
export async function verifySet(
  cacheDir: string,
  set: string,
): Promise<{ missing: string[]; corrupt: string[]; extra: string[] }> {
  const missing: string[] = [];
  const corrupt: string[] = [];
  for (const [rel, hash] of Object.entries(MANIFEST.sets[set].files)) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(cacheDir, rel));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        missing.push(rel);
        continue;
      }
      throw e;
    }
    if (sha256Hex(bytes) !== hash) corrupt.push(rel);
  }
  return { missing, corrupt, extra: await extraCachedFiles(cacheDir, set) };
}

/** What happened while fetching, for the CLI to show. */
export type FetchEvent =
  | { set: string; kind: "cached"; files: number }
  | { set: string; kind: "download"; url: string; attempt: number }
  | { set: string; kind: "retry"; url: string; attempt: number; reason: string; delayMs: number }
  | { set: string; kind: "stale"; missing: number; corrupt: number; extra: number }
  | { set: string; kind: "done"; files: number; bytes: number };

/** Result per set. */
export interface FetchResult {
  /** The set's name in the manifest. */
  set: string;
  /** False when the cache already held every file intact. */
  downloaded: boolean;
  /** Downloads made (0 when cached). */
  attempts: number;
  /** Files of the set in the cache. */
  files: number;
  /** SHA-256 over the set's sorted `path hash` lines: one value to compare with the manifest. */
  hash: string;
}

/** The hash that summarises a set's manifest entry. */
export function setHash(set: string): string {
  const files = MANIFEST.sets[set].files;
  return sha256Hex(Object.keys(files).sort().map((k) => `${k} ${files[k]}\n`).join(""));
}

class BadDownload extends Error {}

/**
 * An error's message followed by its causes' (`fetch failed: error sending request ...: dns error: ...`):
 * Deno's fetch says only "fetch failed" and keeps the reason in `cause`.
 */
function messageChain(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let x: unknown = e; x !== undefined && x !== null && !seen.has(x); x = (x as Error).cause) {
    seen.add(x);
    const m = x instanceof Error ? x.message : String(x);
    if (m !== "" && !parts.some((p) => p.includes(m))) parts.push(m);
    if (!(x instanceof Error)) break;
  }
  return parts.join(": ");
}

async function download(url: string, fetchFn: typeof fetch): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new BadDownload(`request failed (${messageChain(e)})`, { cause: e });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new BadDownload(`HTTP ${res.status}`);
  }
  let body: Uint8Array;
  try {
    body = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new BadDownload(`the download was cut short (${messageChain(e)})`, { cause: e });
  }
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) !== body.length) {
    throw new BadDownload(`the download was cut short (${body.length} of ${declared} bytes)`);
  }
  return body;
}

function extract(set: string, archive: Uint8Array): Map<string, Uint8Array> {
  const spec = MANIFEST.sets[set];
  const top = `${spec.repo.split("/")[1]}-${spec.commit}/`;
  const toCache = (name: string): string | null => {
    if (!name.startsWith(top)) return null;
    const inner = name.slice(top.length);
    for (const [from, to] of Object.entries(spec.paths)) {
      if (inner.startsWith(from)) {
        const rel = to + inner.slice(from.length);
        return Object.hasOwn(spec.files, rel) ? rel : null;
      }
    }
    return null;
  };
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(archive, { filter: (f) => toCache(f.name) !== null });
  } catch (e) {
    throw new BadDownload(`the archive does not unzip (${messageChain(e)})`, { cause: e });
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of Object.entries(entries)) out.set(toCache(name)!, bytes);
  for (const [rel, hash] of Object.entries(spec.files)) {
    const bytes = out.get(rel);
    if (bytes === undefined) throw new BadDownload(`the archive lacks "${rel}"`);
    if (sha256Hex(bytes) !== hash) throw new BadDownload(`"${rel}" does not match its SHA-256 in the manifest`);
  }
  return out;
}

/** The wait before the first retry of a download; each next retry waits twice as long. */
export const DEFAULT_RETRY_DELAY_MS = 2000;

/** Options of {@linkcode fetchSets}. */
export interface FetchOptions {
  /** Where the sets are unpacked, e.g. {@linkcode defaultCacheDir}. */
  cacheDir: string;
  /** Set names (default: every set of the manifest). */
  sets?: string[];
  /** Archive server (default: GitHub's codeload). */
  baseUrl?: string;
  /** Downloads per set before giving up (default 4). */
  attempts?: number;
  /** Wait before the first retry (default {@linkcode DEFAULT_RETRY_DELAY_MS}); doubled before each next one. */
  retryDelayMs?: number;
  /** The wait itself (default: a timer); tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** The fetch function (default: the global `fetch`); tests pass a stub. */
  fetch?: typeof fetch;
  /** Called as each set is found cached, downloaded, retried, found stale, and done. */
  onEvent?: (e: FetchEvent) => void;
}

/**
 * Fetches sets into `cacheDir`, skipping those already intact.
 *
 * @example
 * ```ts ignore
 * const results = await fetchSets({ cacheDir: defaultCacheDir(), sets: ["arc-agi-1", "concept-arc"] });
 * ```
 */
export async function fetchSets(opts: FetchOptions): Promise<FetchResult[]> {
  const sets = parseFetchSets(opts.sets ?? [...FETCH_SETS]);
  const base = (opts.baseUrl ?? DEFAULT_ARCHIVE_BASE_URL).replace(/\/+$/, "");
  const attempts = opts.attempts ?? 4;
  const firstDelay = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const fetchFn = opts.fetch ?? fetch;
  const results: FetchResult[] = [];
  for (const set of sets) {
    const spec = MANIFEST.sets[set];
    const nFiles = Object.keys(spec.files).length;
    const state = await verifySet(opts.cacheDir, set);
    if (state.missing.length === 0 && state.corrupt.length === 0 && state.extra.length === 0) {
      await recordCachedSets(opts.cacheDir, [set]);
      opts.onEvent?.({ set, kind: "cached", files: nFiles });
      results.push({ set, downloaded: false, attempts: 0, files: nFiles, hash: setHash(set) });
      continue;
    }
    if (state.missing.length < nFiles) {
      opts.onEvent?.({
        set,
        kind: "stale",
        missing: state.missing.length,
        corrupt: state.corrupt.length,
        extra: state.extra.length,
      });
    }
    const url = `${base}/${spec.repo}/zip/${spec.commit}`;
    let files: Map<string, Uint8Array> | null = null;
    let attempt = 0;
    let last: BadDownload | null = null;
    while (files === null && attempt < attempts) {
      attempt += 1;
      opts.onEvent?.({ set, kind: "download", url, attempt });
      try {
        files = extract(set, await download(url, fetchFn));
      } catch (e) {
        if (!(e instanceof BadDownload)) throw e;
        last = e;
        if (attempt < attempts) {
          const delayMs = firstDelay * 2 ** (attempt - 1);
          opts.onEvent?.({ set, kind: "retry", url, attempt, reason: e.message, delayMs });
          await sleep(delayMs);
        }
      }
    }
    if (files === null) {
      throw new Error(
        `Cannot fetch "${set}" from ${url}: ${last?.message} (after ${attempts} attempts): check the ` +
          "network connection and run the fetch again",
        { cause: last?.cause ?? last },
      );
    }
    let bytes = 0;
    for (const top of new Set(Object.values(spec.paths).map((p) => p.split("/")[0]))) {
      await replaceDirAtomic(join(opts.cacheDir, top), async (tmp) => {
        for (const [rel, data] of files!) {
          if (rel.split("/")[0] !== top) continue;
          const path = join(tmp, rel.slice(top.length + 1));
          await Deno.mkdir(join(path, ".."), { recursive: true });
          try {
            await Deno.writeFile(path, data);
          } catch (e) {
            throw namedWriteError(path, e);
          }
          bytes += data.length;
        }
      });
    }
    await recordCachedSets(opts.cacheDir, [set]);
    opts.onEvent?.({ set, kind: "done", files: files.size, bytes });
    results.push({ set, downloaded: true, attempts: attempt, files: files.size, hash: setHash(set) });
  }
  return results;
}

/**
 * Builds the manifest from a data directory laid out like the cache (used once to write `manifest.json`
 * from a verified copy; `deno task cli data manifest` runs it).
 */
export async function buildManifest(dataDir: string): Promise<Manifest> {
  const sets: Record<string, ManifestSet> = {};
  for (const [name, spec] of Object.entries(SOURCES)) {
    const files: Record<string, string> = {};
    for (const to of Object.values(spec.paths)) {
      const walk = async (rel: string) => {
        const entries = await Array.fromAsync(Deno.readDir(join(dataDir, rel)));
        for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
          const r = `${rel}${e.name}`;
          if (e.isDirectory) await walk(`${r}/`);
          else if (e.isFile && e.name.endsWith(".json")) files[r] = sha256Hex(await Deno.readFile(join(dataDir, r)));
        }
      };
      await walk(to);
    }
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(files).sort()) sorted[k] = files[k];
    sets[name] = { ...spec, files: sorted };
  }
  return { version: 1, sets };
}

/** The upstream repositories, commits and folder mapping (the manifest adds the file hashes). */
export const SOURCES: Record<string, Omit<ManifestSet, "files">> = {
  "arc-agi-1": {
    repo: "fchollet/ARC-AGI",
    commit: "399030444e0ab0cc8b4e199870fb20b863846f34",
    licence: "Apache-2.0",
    paths: { "data/training/": "arc-agi-1/training/", "data/evaluation/": "arc-agi-1/evaluation/" },
  },
  "arc-agi-2": {
    repo: "arcprize/ARC-AGI-2",
    commit: "f3283f727488ad98fe575ea6a5ac981e4a188e49",
    licence: "Apache-2.0",
    paths: { "data/training/": "arc-agi-2/training/", "data/evaluation/": "arc-agi-2/evaluation/" },
  },
  "concept-arc": {
    repo: "victorvikram/ConceptARC",
    commit: "b22ef526b4656679816b7811e78f55cc24d736d7",
    licence: "MIT",
    paths: { "corpus/": "concept-arc/", "MinimalTasks/": "concept-arc-minimal/" },
  },
  "trm-kaggle-combined": {
    repo: "SamsungSAILMontreal/TinyRecursiveModels",
    commit: "e7b68717f0a6c4cbb4ce6fbef787b14f42083bd9",
    licence: "MIT",
    paths: { "kaggle/combined/": "trm-kaggle-combined/" },
  },
};
