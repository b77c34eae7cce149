/**
 * Writing datasets to disk: the compact index (default), TRM's on-disk layout (`--format trm`: the
 * `.npy` arrays, `dataset.json`, `identifiers.json`, `test_puzzles.json` that TRM's `PuzzleDataset` reads),
 * and JSON Lines (`--format jsonl`: one object per example, for inspection and other tools).
 *
 * Every writer fills a fresh temporary directory that replaces the output directory only when complete
 * (lib/io `replaceOutputDir`), so a failed or interrupted build leaves no partial output. Only a missing or
 * empty folder, or an earlier dataset (its `.trm-dis-output.json` marker, or nothing but dataset files), is
 * replaced: anything else is refused with exit 2 and left as it is.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { namedWriteError, replaceOutputDir } from "../io/mod.ts";
import { InputError } from "../errors.ts";
import {
  type ArcIndex,
  arcIndexToJson,
  type ArcSplit,
  type ArcSplitName,
  arcSplits,
  identifierName,
  numIdentifiers,
} from "./arc_index.ts";
import { taskToJson } from "./arc.ts";
import { ceilingByGiven, type NQueensExample, type NQueensSet, nqueensSplit } from "./nqueens.ts";
import { npyBody, npyHeader } from "./npy.ts";
import { numExamples, type PuzzleSplit } from "./sampler.ts";
import type { DataProgress } from "./arc_index.ts";

/** Output formats. `index` is the compact default. */
export const DATA_FORMATS = ["index", "trm", "jsonl"] as const;
/**
 * One of {@linkcode DATA_FORMATS}: `index` (the compact index), `trm` (TRM's `.npy` layout) or `jsonl` (one JSON object
 * per example).
 */
export type DataFormat = typeof DATA_FORMATS[number];

/** Checks a format name from the command line. */
export function parseDataFormat(name: string): DataFormat {
  if (!(DATA_FORMATS as readonly string[]).includes(name)) {
    throw new InputError(
      `Cannot write the dataset: unknown format "${name}" (expected ${DATA_FORMATS.map((f) => `"${f}"`).join(", ")})`,
    );
  }
  return name as DataFormat;
}

/** Size and SHA-256 of each file written, by path relative to the output directory. */
export type FileHashes = Record<string, { bytes: number; sha256: string }>;

/** A buffered file writer that hashes what it writes. */
class Sink {
  #file: Deno.FsFile;
  #path: string;
  #hash: Hash = createHash("sha256");
  #buf = new Uint8Array(1 << 20);
  #used = 0;
  bytes = 0;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  static async open(path: string): Promise<Sink> {
    try {
      return new Sink(await Deno.open(path, { write: true, create: true, truncate: true }), path);
    } catch (e) {
      throw namedWriteError(path, e);
    }
  }

  async write(data: Uint8Array): Promise<void> {
    this.#hash.update(data);
    this.bytes += data.length;
    if (this.#used + data.length > this.#buf.length) await this.#flush();
    if (data.length >= this.#buf.length) {
      await this.#writeAll(data);
      return;
    }
    this.#buf.set(data, this.#used);
    this.#used += data.length;
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < data.length) off += await this.#file.write(data.subarray(off));
    } catch (e) {
      // The OS error of a full disk names no file.
      throw namedWriteError(this.#path, e);
    }
  }

  async #flush(): Promise<void> {
    await this.#writeAll(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  async close(): Promise<{ bytes: number; sha256: string }> {
    await this.#flush();
    try {
      await this.#file.sync();
    } catch (e) {
      throw namedWriteError(this.#path, e);
    } finally {
      this.#file.close();
    }
    return { bytes: this.bytes, sha256: this.#hash.digest("hex") };
  }
}

async function writeWhole(dir: string, rel: string, data: Uint8Array, hashes: FileHashes): Promise<void> {
  const sink = await Sink.open(join(dir, rel));
  await sink.write(data);
  hashes[rel] = await sink.close();
}

const enc = new TextEncoder();
const CHUNK = 2048;

/** TRM's `dataset.json` for a split. */
export function trmMetadata(split: PuzzleSplit): Record<string, unknown> {
  const P = split.puzzleIdentifiers.length;
  return {
    pad_id: 0,
    ignore_label_id: split.ignoreLabelId,
    blank_identifier_id: 0,
    vocab_size: split.vocabSize,
    seq_len: split.seqLen,
    num_puzzle_identifiers: split.numIdentifiers,
    total_groups: split.groupIndices.length - 1,
    mean_puzzle_examples: P === 0 ? 0 : numExamples(split) / P,
    total_puzzles: P,
    sets: ["all"],
  };
}

/** Writes one split in TRM's layout into `dir/<name>/`, streaming the example arrays in chunks. */
async function writeTrmSplit(
  dir: string,
  name: string,
  split: PuzzleSplit,
  hashes: FileHashes,
  progress: (n: number) => void,
): Promise<void> {
  await Deno.mkdir(join(dir, name), { recursive: true });
  const L = split.seqLen;
  const N = numExamples(split);
  const inputs = await Sink.open(join(dir, name, "all__inputs.npy"));
  const labels = await Sink.open(join(dir, name, "all__labels.npy"));
  await inputs.write(npyHeader("|u1", [N, L]));
  await labels.write(npyHeader("|u1", [N, L]));
  const bi = new Uint8Array(CHUNK * L);
  const bl = new Uint8Array(CHUNK * L);
  for (let start = 0; start < N; start += CHUNK) {
    const n = Math.min(CHUNK, N - start);
    bi.fill(0);
    bl.fill(0);
    for (let i = 0; i < n; i++) split.writeExample(start + i, bi, bl, i * L);
    await inputs.write(bi.subarray(0, n * L));
    await labels.write(bl.subarray(0, n * L));
    progress(n);
  }
  hashes[`${name}/all__inputs.npy`] = await inputs.close();
  hashes[`${name}/all__labels.npy`] = await labels.close();
  const arrays: [string, Int32Array][] = [
    ["puzzle_identifiers", split.puzzleIdentifiers],
    ["puzzle_indices", split.puzzleIndices],
    ["group_indices", split.groupIndices],
  ];
  for (const [k, a] of arrays) {
    const h = npyHeader("<i4", [a.length]);
    const body = npyBody(a);
    const all = new Uint8Array(h.length + body.length);
    all.set(h);
    all.set(body, h.length);
    await writeWhole(dir, `${name}/all__${k}.npy`, all, hashes);
  }
  await writeWhole(dir, `${name}/dataset.json`, enc.encode(JSON.stringify(trmMetadata(split))), hashes);
}

/** What a writer produced: counts per split and the files with their hashes. */
export interface WriteSummary {
  /** The format written. */
  format: DataFormat;
  /** Per split name: groups, puzzles and examples written. */
  splits: Record<string, { groups: number; puzzles: number; examples: number }>;
  /** Every file written, by path relative to the output directory, with its size and SHA-256. */
  files: FileHashes;
}

function splitCounts(split: PuzzleSplit) {
  return {
    groups: split.groupIndices.length - 1,
    puzzles: split.puzzleIdentifiers.length,
    examples: numExamples(split),
  };
}

/**
 * Writes an ARC index to `outDir` (replaced atomically) in the given format:
 * - `index`: `index.json` (tasks and accepted augmentations; {@linkcode arcIndexFromJson} reads it);
 * - `trm`: TRM's layout, `train/` and `test/` with `dataset.json` and `all__*.npy`, plus
 *   `identifiers.json` and `test_puzzles.json`;
 * - `jsonl`: `train.jsonl` and `test.jsonl`, `{"id", "task", "dihedral", "colors", "input", "label"}` per
 *   example (id `<puzzle name>#<pair>`; labels raw, PAD 0 is the unsupervised token).
 */
export async function writeArcDataset(
  outDir: string,
  index: ArcIndex,
  format: DataFormat,
  opts: { onProgress?: DataProgress; summary?: Record<string, unknown> } = {},
): Promise<WriteSummary> {
  const { onProgress } = opts;
  const all = arcSplits(index);
  // The validation split (held-out test pairs of training tasks) is written beside train and test.
  const splits: Partial<Record<ArcSplitName, ArcSplit>> = { train: all.train, test: all.test };
  if (all.validation) splits.validation = all.validation;
  const names = Object.keys(splits) as ArcSplitName[];
  const total = names.reduce((a, k) => a + numExamples(splits[k]!), 0);
  let done = 0;
  const tick = (n: number) => {
    done += n;
    onProgress?.({ done, total });
  };
  const files: FileHashes = {};
  const counts = Object.fromEntries(names.map((k) => [k, splitCounts(splits[k]!)]));
  await replaceOutputDir(outDir, "dataset", async (dir) => {
    await writeArcFiles(dir);
    if (opts.summary) await writeSummary(dir, { ...opts.summary, format, splits: counts }, files);
  });
  return { format, splits: counts, files };

  async function writeArcFiles(dir: string): Promise<void> {
    if (format === "index") {
      await writeWhole(dir, "index.json", enc.encode(JSON.stringify(arcIndexToJson(index))), files);
      return;
    }
    if (format === "trm") {
      for (const which of names) await writeTrmSplit(dir, which, splits[which]!, files, tick);
      const ids = await Sink.open(join(dir, "identifiers.json"));
      const n = numIdentifiers(index);
      await ids.write(enc.encode("["));
      for (let id = 0; id < n; id++) {
        await ids.write(enc.encode((id === 0 ? "" : ", ") + JSON.stringify(identifierName(index, id))));
      }
      await ids.write(enc.encode("]"));
      files["identifiers.json"] = await ids.close();
      const testPuzzles: Record<string, unknown> = {};
      for (const t of index.tasks) if (t.subset === index.testSubset) testPuzzles[t.id] = taskToJson(t);
      await writeWhole(dir, "test_puzzles.json", enc.encode(JSON.stringify(testPuzzles)), files);
      return;
    }
    for (const which of names) {
      files[`${which}.jsonl`] = await writeArcJsonl(join(dir, `${which}.jsonl`), splits[which]!, tick);
    }
  }
}

/** `summary.json`: the caller's facts plus the size and SHA-256 of every other file written. */
async function writeSummary(dir: string, summary: Record<string, unknown>, files: FileHashes): Promise<void> {
  const sortedFiles: FileHashes = {};
  for (const k of Object.keys(files).sort()) sortedFiles[k] = files[k];
  await Deno.writeTextFile(
    join(dir, "summary.json"),
    JSON.stringify({ ...summary, files: sortedFiles }, null, 2) + "\n",
  );
}

async function writeArcJsonl(path: string, split: ArcSplit, tick: (n: number) => void) {
  const sink = await Sink.open(path);
  const inp = new Uint8Array(split.seqLen);
  const lab = new Uint8Array(split.seqLen);
  const N = numExamples(split);
  for (let e = 0; e < N; e++) {
    inp.fill(0);
    lab.fill(0);
    split.writeExample(e, inp, lab, 0);
    const d = split.describe(e);
    const line = JSON.stringify({
      id: `${split.puzzleName(d.puzzle)}#${d.pair}`,
      task: d.task,
      dihedral: d.dihedral,
      colors: d.colors,
      input: Array.from(inp),
      label: Array.from(lab),
    });
    await sink.write(enc.encode(line + "\n"));
    if ((e + 1) % CHUNK === 0 || e + 1 === N) tick((e % CHUNK) + 1);
  }
  return await sink.close();
}

/** The N-Queens facts a summary reports: counts, hashes, overlap, and the exact-match ceiling by Q. */
export interface NQueensSummary {
  /** The generator variant (`paper` or `released-code`). */
  variant: string;
  /** The seed the set was generated from. */
  seed: number;
  /** Train examples, groups, and examples per Q (index Q = 0..7). */
  train: { examples: number; groups: number; byGiven: number[] };
  /** Test examples, and examples per Q (index Q = 0..7). */
  test: { examples: number; byGiven: number[] };
  /** SHA-256 of the example hashes, per split and of both. */
  hashes: NQueensSet["hashes"];
  /** Test examples whose input (or whole example) also occurs in train. */
  overlap: NQueensSet["overlap"];
  /** Mean 1/k over test inputs, overall and per Q = 0..7 (null where no input has that Q). */
  testCeiling: { overall: number; byGiven: (number | null)[] };
}

/** Summarises an N-Queens set for `summary.json` and the CLI. */
export function nqueensSummary(set: NQueensSet): NQueensSummary {
  const byGiven = (xs: NQueensExample[]) => {
    const c = new Array(8).fill(0);
    for (const e of xs) c[e.given] += 1;
    return c;
  };
  const ceil = ceilingByGiven(set.test.map((e) => e.input));
  return {
    variant: set.variant,
    seed: set.seed,
    train: { examples: set.train.length, groups: set.train.length / set.trainGroupSize, byGiven: byGiven(set.train) },
    test: { examples: set.test.length, byGiven: byGiven(set.test) },
    hashes: set.hashes,
    overlap: set.overlap,
    testCeiling: { overall: ceil.overall, byGiven: ceil.byGiven.map((x) => (Number.isNaN(x) ? null : x)) },
  };
}

const tokens = (b: Uint8Array) => Array.from(b).join("");

/**
 * Writes an N-Queens set to `outDir` (replaced atomically):
 * - `index`: `nqueens.json`, every example with tokens as 64-digit strings, plus the summary;
 * - `trm`: TRM's layout as DIS writes it (`train/`, `test/`, `identifiers.json` = `["<blank>"]`);
 * - `jsonl`: `train.jsonl` and `test.jsonl`, `{"id", "input", "label", "given"}` per example.
 */
export async function writeNQueensDataset(
  outDir: string,
  set: NQueensSet,
  format: DataFormat,
  opts: { summary?: boolean } = {},
): Promise<WriteSummary> {
  const files: FileHashes = {};
  const train = nqueensSplit(set, "train");
  const test = nqueensSplit(set, "test");
  const counts = { train: splitCounts(train), test: splitCounts(test) };
  await replaceOutputDir(outDir, "dataset", async (dir) => {
    await writeFiles(dir);
    if (opts.summary) await writeSummary(dir, { ...nqueensSummary(set), format, splits: counts }, files);
  });
  return { format, splits: counts, files };

  async function writeFiles(dir: string): Promise<void> {
    if (format === "index") {
      const ex = (e: NQueensExample) => ({ id: e.id, input: tokens(e.input), label: tokens(e.label), given: e.given });
      const doc = {
        format: "trm-dis-nqueens",
        version: 1,
        ...nqueensSummary(set),
        trainGroupSize: set.trainGroupSize,
        examples: { train: set.train.map(ex), test: set.test.map(ex) },
      };
      await writeWhole(dir, "nqueens.json", enc.encode(JSON.stringify(doc)), files);
      return;
    }
    if (format === "trm") {
      await writeTrmSplit(dir, "train", train, files, () => {});
      await writeTrmSplit(dir, "test", test, files, () => {});
      await writeWhole(dir, "identifiers.json", enc.encode(JSON.stringify(["<blank>"])), files);
      return;
    }
    for (const [name, xs] of [["train", set.train], ["test", set.test]] as const) {
      const lines = xs.map((e) =>
        JSON.stringify({ id: e.id, input: Array.from(e.input), label: Array.from(e.label), given: e.given }) + "\n"
      );
      await writeWhole(dir, `${name}.jsonl`, enc.encode(lines.join("")), files);
    }
  }
}
