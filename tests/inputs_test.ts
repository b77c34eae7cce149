/**
 * Issue 13, inputs and paths (docs/guarantees.md, "Inputs and paths"): symbolic links in the ARC data,
 * `--data-dir` naming something that is not a folder, absurd sizes, messages that name the file or the
 * key, and the fetch cache verified when read. Each case runs the real CLI as a subprocess.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../cli/_testing.ts";
import { FIXTURES, realDataDir } from "../lib/data/_testing.ts";
import { CACHE_INDEX_FILE, recordCachedSets, verifyCachedFiles } from "../lib/data/mod.ts";
import { parseTrainConfig } from "../lib/train/mod.ts";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "inputs_test_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** A data folder with one task per ARC-AGI-1 subset and one ConceptARC group. */
async function smallData(root: string): Promise<void> {
  const put = async (sub: string, name: string, as = name) => {
    await Deno.mkdir(join(root, sub), { recursive: true });
    await Deno.copyFile(join(FIXTURES, "tasks", `${name}.json`), join(root, sub, `${as}.json`));
  };
  await put("arc-agi-1/training", "flip");
  await put("arc-agi-1/evaluation", "grow");
  await put("concept-arc/Copy", "mono2x3");
}

Deno.test("a symlinked task file and a symlinked ConceptARC group are read; a link loop is refused by name", async () => {
  await using t = await tempDir();
  const root = join(t.dir, "data");
  await smallData(root);
  // Elsewhere on disk: one task file and one ConceptARC group, each linked into the data folder.
  const elsewhere = join(t.dir, "elsewhere");
  await Deno.mkdir(join(elsewhere, "Other"), { recursive: true });
  await Deno.copyFile(join(FIXTURES, "tasks", "mono3x3.json"), join(elsewhere, "Other", "other1.json"));
  await Deno.copyFile(join(FIXTURES, "tasks", "big.json"), join(elsewhere, "big.json"));
  await Deno.symlink(join(elsewhere, "big.json"), join(root, "arc-agi-1", "training", "big.json"));
  await Deno.symlink(join(elsewhere, "Other"), join(root, "concept-arc", "Other"));
  const r = await cli("data", "arc", "--data-dir", root, "--counts");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| training \| 2 \(2\) \|/);
  assert.match(r.stdout, /\| concept \| 2 \(\d+\) \|/);

  // A group folder that links back to its parent would be read forever; it is refused, naming the link.
  await Deno.symlink(join(root, "concept-arc"), join(root, "concept-arc", "Loop"));
  const loop = await cli("data", "arc", "--data-dir", root, "--counts");
  assert.equal(loop.code, 2, loop.stderr);
  assert.match(loop.stderr, /folder ".*concept-arc\/Loop" is the folder ".*concept-arc" again \(a symbolic link loop/);
  await Deno.remove(join(root, "concept-arc", "Loop"));

  // A link that points nowhere is named, not skipped.
  await Deno.symlink(join(t.dir, "gone.json"), join(root, "arc-agi-1", "evaluation", "gone.json"));
  const dangling = await cli("data", "arc", "--data-dir", root, "--counts");
  assert.equal(dangling.code, 2, dangling.stderr);
  assert.match(
    dangling.stderr,
    /"[^"]*evaluation\/gone\.json" is a symbolic link to "[^"]*gone\.json", which does not exist/,
  );
});

Deno.test("--data-dir naming a regular file or nothing is exit 2 naming the path and what was expected", async () => {
  await using t = await tempDir();
  const file = join(t.dir, "a-file");
  await Deno.writeTextFile(file, "not a folder\n");
  for (const args of [["data", "arc", "--counts"], ["data", "arc", "--out", join(t.dir, "out")]]) {
    const r = await cli(...args, "--data-dir", file);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /error: Cannot use --data-dir ".*a-file": it is a regular file \(expected the ARC data folder/,
    );
  }
  const missing = await cli("data", "arc", "--counts", "--data-dir", join(t.dir, "nothing"));
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /error: Cannot use --data-dir ".*nothing": it does not exist \(expected the ARC data/);
  const repro = await cli("reproduce", "table1", "--profile", "smoke", "--data-dir", file, "--out", join(t.dir, "r"));
  assert.equal(repro.code, 2, repro.stderr);
  assert.match(repro.stderr, /Cannot use --data-dir ".*a-file": it is a regular file/);
  // The same path as a config's data.data_dir.
  const cfg = join(t.dir, "arc.yaml");
  await Deno.writeTextFile(cfg, `data: {kind: arc, data_dir: ${file}}\nmodel: {preset: arc-dis-compact}\n`);
  const train = await cli("train", cfg, "--out", join(t.dir, "run"));
  assert.equal(train.code, 2, train.stderr);
  assert.match(train.stderr, /data directory ".*a-file" is not a folder/);
});

Deno.test("a wrong value inside a union names the inner key; a map of neither kind says what each kind holds", () => {
  const load = (subset: string) => () =>
    parseTrainConfig(`data: {kind: arc, subset: ${subset}}\nmodel: {preset: arc-dis-compact}\n`, { source: "u.yaml" });
  assert.throws(load("{tasks: abc}"), {
    message: 'Cannot load config "u.yaml": key "data.subset.tasks": expected integer, got "abc"',
  });
  assert.throws(load("{ids: [a, 1]}"), {
    message: 'Cannot load config "u.yaml": key "data.subset.ids.1": expected string, got 1',
  });
  assert.throws(load("{idz: [a]}"), {
    message: 'Cannot load config "u.yaml": key "data.subset": expected map with key tasks or map with key ids or ' +
      "null, got a map with key idz",
  });
});

Deno.test("a task id found in two ConceptARC groups is exit 2 naming both files", async () => {
  await using t = await tempDir();
  const root = join(t.dir, "data");
  await smallData(root);
  await Deno.mkdir(join(root, "concept-arc", "Other"), { recursive: true });
  await Deno.copyFile(join(FIXTURES, "tasks", "mono3x3.json"), join(root, "concept-arc", "Other", "mono2x3.json"));
  const r = await cli("data", "arc", "--data-dir", root, "--augmentations", "1", "--out", join(t.dir, "out"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /task id "mono2x3" occurs twice, in ".*concept-arc\/Copy\/mono2x3\.json" \(concept\) and in ".*concept-arc\/Other\/mono2x3\.json" \(concept\)/,
  );
});

Deno.test("absurd sizes are exit 2 before anything is allocated, naming the key, the bound and the memory", async () => {
  await using t = await tempDir();
  const out = join(t.dir, "run");
  const cases: [string, RegExp][] = [
    [
      "train.batch_size=100000000",
      /key "train\.batch_size" is 100000000, beyond the bound of 2\^24 = 16777216 .*would need [\d.]+ GiB/,
    ],
    [
      "eval.batch_size=10000000",
      /key "eval\.batch_size" is 10000000, beyond its bound of \d+: .* would need [\d.]+ TiB, against the 128 GiB memory limit/,
    ],
    [
      "model.hidden=1048576",
      /key "model\.hidden" is 1048576, beyond its bound of \d+: .* would need [\d.]+ TiB, against the 128 GiB/,
    ],
    ["model.n_sup=100000000", /key "model\.n_sup" is 100000000, beyond the bound of 2\^24 .* would need [\d.]+ GiB/],
    [
      "model.n_sup=1000000",
      /"model\.n_sup", "model\.h_cycles" and "model\.l_cycles" \(1000000, 1, 2\) give 3000000 network applications per example .* beyond the bound of 2\^20/,
    ],
  ];
  for (const [set, message] of cases) {
    const r = await cli("train", "fixtures/train/dis_tiny.yaml", "--set", set, "--out", out, "--print-config");
    assert.equal(r.code, 2, `${set}: ${r.stderr}`);
    assert.match(r.stderr, message, set);
  }
  // --augmentations: a task has only 8 x 9! variants; within that, 32-bit puzzle ids bound the build.
  const root = join(t.dir, "data");
  await smallData(root);
  const aug = await cli("data", "arc", "--data-dir", root, "--augmentations", "1000000000", "--out", join(t.dir, "o"));
  assert.equal(aug.code, 2, aug.stderr);
  assert.match(
    aug.stderr,
    /--augmentations is 1000000000, beyond its bound of 2903039: a task has at most 8 x 9! = 2903040 distinct .* would need [\d.]+ GiB for the index/,
  );
  // In a training run the puzzle-embedding table counts too: 3 tasks x 2,000,001 puzzles x D = 16384 floats.
  const cfg = join(t.dir, "arc.yaml");
  await Deno.writeTextFile(
    cfg,
    `data: {kind: arc, data_dir: ${root}, augmentations: 2000000}\n` +
      "model: {preset: arc-dis-compact, hidden: 16384}\neval: {batch_size: 8}\n",
  );
  const r = await cli("train", cfg, "--out", out);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /key "data\.augmentations" is 2000000, beyond its bound of \d+ for 3 tasks: 3 tasks with 2000000 augmentations each would need [\d.]+ GiB for the index and the puzzle-embedding table, against the 128 GiB/,
  );
});

const realData = realDataDir();

Deno.test({
  name:
    "the fetch cache is checked when read: an edited or an extra file is exit 2 naming it; unchanged costs no hashing",
  ignore: realData === null,
  fn: async () => {
    await using t = await tempDir();
    // A cache of ARC-AGI-1 and ConceptARC copied from the real data (which is never written to).
    const cache = join(t.dir, "cache");
    for (const sub of ["arc-agi-1/training", "arc-agi-1/evaluation", "concept-arc"]) {
      await copyTree(join(realData!, sub), join(cache, sub));
    }
    await recordCachedSets(cache, ["arc-agi-1", "concept-arc"]);
    const ok = await cli("data", "arc", "--data-dir", cache, "--counts");
    assert.equal(ok.code, 0, ok.stderr);

    // An unchanged cache is not hashed again: the index is not rewritten.
    const indexFile = join(cache, CACHE_INDEX_FILE);
    const before = (await Deno.stat(indexFile)).mtime?.getTime();
    await verifyCachedFiles(cache, "arc-agi-1/evaluation/");
    assert.equal((await Deno.stat(indexFile)).mtime?.getTime(), before);

    const rel = "arc-agi-1/evaluation/00576224.json";
    const original = await Deno.readFile(join(cache, rel));
    await Deno.writeTextFile(join(cache, rel), " ", { append: true });
    const edited = await cli("data", "arc", "--data-dir", cache, "--counts");
    assert.equal(edited.code, 2, edited.stderr);
    assert.match(
      edited.stderr,
      new RegExp(
        `Cannot read the data cache ".*cache": "${rel}" has been changed since it was fetched: its SHA-256 is ` +
          `[0-9a-f]{64}, the manifest's \\(lib/data/manifest\\.json\\) is [0-9a-f]{64}; run "deno task cli data fetch ` +
          `--set arc-agi-1 --cache .*cache" to restore it`,
      ),
    );
    await Deno.writeFile(join(cache, rel), original);

    await Deno.copyFile(join(FIXTURES, "tasks", "flip.json"), join(cache, "concept-arc", "Copy", "flip.json"));
    const extra = await cli("data", "arc", "--data-dir", cache, "--counts");
    assert.equal(extra.code, 2, extra.stderr);
    assert.match(
      extra.stderr,
      /1 file in "concept-arc\/" that `data fetch` did not put there \("concept-arc\/Copy\/flip\.json"\)/,
    );
  },
});

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}
