import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTaskFile } from "./arc.ts";
import { arcSplits, buildArcIndexFromTasks, identifierName, numIdentifiers } from "./arc_index.ts";
import { writeArcDataset, writeNQueensDataset } from "./export.ts";
import { decodeNpy, encodeNpy, npyHeader } from "./npy.ts";
import { generateNQueens } from "./nqueens.ts";
import { numExamples, type PuzzleSplit } from "./sampler.ts";
import { FIXTURES } from "./_testing.ts";

async function fixtureIndex(augmentations: number) {
  const t = (n: string, s: "training" | "evaluation" | "concept") =>
    loadTaskFile(join(FIXTURES, "tasks", `${n}.json`), s);
  const tasks = [
    await t("flip", "training"),
    await t("grow", "evaluation"),
    await t("big", "evaluation"),
    await t("mono2x3", "concept"),
  ];
  return buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation", "concept"],
    testSubset: "evaluation",
    seed: 4,
    augmentations,
  });
}

const readNpy = async (path: string) => decodeNpy(await Deno.readFile(path));

function dense(split: PuzzleSplit): [Uint8Array, Uint8Array] {
  const N = numExamples(split);
  const L = split.seqLen;
  const i = new Uint8Array(N * L);
  const l = new Uint8Array(N * L);
  for (let e = 0; e < N; e++) split.writeExample(e, i, l, e * L);
  return [i, l];
}

/** numpy's own reading of the files, when Debian's python3 with numpy is there. */
async function numpySums(files: string[]): Promise<string[] | null> {
  const code =
    "import sys, numpy as np\nfor f in sys.argv[1:]:\n a = np.load(f)\n print(a.dtype.str, a.shape, int(a.astype(np.int64).sum()))";
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", code, ...files],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim().split("\n") : null;
  } catch {
    return null;
  }
}

Deno.test(".npy headers are 64-byte aligned and arrays round-trip", () => {
  for (const shape of [[3], [2, 900], [0, 64]]) assert.equal(npyHeader("|u1", shape).length % 64, 0);
  assert.match(
    new TextDecoder().decode(npyHeader("<i4", [5]).subarray(10)),
    /^\{'descr': '<i4', 'fortran_order': False, 'shape': \(5,\), \} *\n$/,
  );
  const a = Int32Array.from([1, -2, 3, 2147483647]);
  assert.deepEqual(decodeNpy(encodeNpy(a, [2, 2])), { dtype: "<i4", shape: [2, 2], data: a });
  const b = Uint8Array.from([0, 255, 7]);
  assert.deepEqual(decodeNpy(encodeNpy(b, [3])).data, b);
  assert.throws(() => decodeNpy(encodeNpy(b, [3]).subarray(0, 130)), SyntaxError);
});

Deno.test("the trm export round-trips: arrays, metadata, identifiers and test puzzles", async () => {
  const index = await fixtureIndex(5);
  const out = await Deno.makeTempDir();
  try {
    const summary = await writeArcDataset(join(out, "ds"), index, "trm");
    const splits = arcSplits(index);
    const npys: string[] = [];
    const expectedSums: string[] = [];
    for (const which of ["train", "test"] as const) {
      const s = splits[which];
      const dir = join(out, "ds", which);
      const [i, l] = dense(s);
      const N = numExamples(s);
      const inputs = await readNpy(join(dir, "all__inputs.npy"));
      const labels = await readNpy(join(dir, "all__labels.npy"));
      assert.deepEqual([inputs.dtype, inputs.shape], ["|u1", [N, 900]]);
      assert.deepEqual(inputs.data, i);
      assert.deepEqual(labels.data, l);
      assert.deepEqual((await readNpy(join(dir, "all__puzzle_identifiers.npy"))).data, s.puzzleIdentifiers);
      assert.deepEqual((await readNpy(join(dir, "all__puzzle_indices.npy"))).data, s.puzzleIndices);
      assert.deepEqual((await readNpy(join(dir, "all__group_indices.npy"))).data, s.groupIndices);
      const meta = JSON.parse(await Deno.readTextFile(join(dir, "dataset.json")));
      assert.deepEqual(meta, {
        pad_id: 0,
        ignore_label_id: 0,
        blank_identifier_id: 0,
        vocab_size: 12,
        seq_len: 900,
        num_puzzle_identifiers: numIdentifiers(index),
        total_groups: s.groupIndices.length - 1,
        mean_puzzle_examples: N / s.puzzleIdentifiers.length,
        total_puzzles: s.puzzleIdentifiers.length,
        sets: ["all"],
      });
      assert.equal(summary.splits[which].examples, N);
      npys.push(join(dir, "all__inputs.npy"), join(dir, "all__puzzle_identifiers.npy"));
      const P = s.puzzleIdentifiers.length;
      expectedSums.push(
        `|u1 (${N}, 900) ${i.reduce((x, y) => x + y, 0)}`,
        `<i4 (${P},) ${s.puzzleIdentifiers.reduce((x, y) => x + y, 0)}`,
      );
    }
    const ids = JSON.parse(await Deno.readTextFile(join(out, "ds", "identifiers.json")));
    assert.equal(ids.length, numIdentifiers(index));
    assert.deepEqual(ids, ids.map((_: string, id: number) => identifierName(index, id)));
    assert.equal(ids[0], "<blank>");
    const testPuzzles = JSON.parse(await Deno.readTextFile(join(out, "ds", "test_puzzles.json")));
    assert.deepEqual(Object.keys(testPuzzles).sort(), ["big", "grow"]);
    assert.deepEqual(testPuzzles.grow.test[1].output[0], [9, 9, 8, 8, 7, 7]);
    assert.match(summary.files["train/all__inputs.npy"].sha256, /^[0-9a-f]{64}$/);
    const viaNumpy = await numpySums(npys);
    if (viaNumpy === null) console.log("skipping the numpy cross-check: /usr/bin/python3 with numpy is not available");
    else assert.deepEqual(viaNumpy, expectedSums);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("jsonl exports keep the agreed keys, one object per example", async () => {
  const index = await fixtureIndex(2);
  const out = await Deno.makeTempDir();
  try {
    await writeArcDataset(join(out, "arc"), index, "jsonl");
    const { train, test } = arcSplits(index);
    for (const [name, split] of [["train", train], ["test", test]] as const) {
      const lines = (await Deno.readTextFile(join(out, "arc", `${name}.jsonl`))).trimEnd().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(lines.length, numExamples(split));
      const [i, l] = dense(split);
      lines.forEach((o, e) => {
        assert.deepEqual(Object.keys(o), ["id", "task", "dihedral", "colors", "input", "label"]);
        const d = split.describe(e);
        assert.equal(o.id, `${split.puzzleName(d.puzzle)}#${d.pair}`);
        assert.deepEqual([o.task, o.dihedral, o.colors], [d.task, d.dihedral, d.colors]);
        assert.deepEqual(o.input, Array.from(i.subarray(e * 900, e * 900 + 900)));
        assert.deepEqual(o.label, Array.from(l.subarray(e * 900, e * 900 + 900)));
      });
    }
    const set = generateNQueens("paper", 2);
    await writeNQueensDataset(join(out, "nq"), set, "jsonl");
    const lines = (await Deno.readTextFile(join(out, "nq", "test.jsonl"))).trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 200);
    assert.deepEqual(lines[3], {
      id: set.test[3].id,
      input: Array.from(set.test[3].input),
      label: Array.from(set.test[3].label),
      given: set.test[3].given,
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("N-Queens trm export matches DIS's layout", async () => {
  const set = generateNQueens("released-code", 2);
  const out = await Deno.makeTempDir();
  try {
    await writeNQueensDataset(out, set, "trm");
    const inputs = await readNpy(join(out, "train", "all__inputs.npy"));
    assert.deepEqual(inputs.shape, [7200, 64]);
    assert.deepEqual(inputs.data.subarray(64 * 9, 64 * 10), set.train[9].input);
    assert.equal((await readNpy(join(out, "train", "all__group_indices.npy"))).data.length, 801);
    const meta = JSON.parse(await Deno.readTextFile(join(out, "train", "dataset.json")));
    assert.deepEqual([meta.vocab_size, meta.seq_len, meta.num_puzzle_identifiers, meta.total_groups], [3, 64, 1, 800]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "identifiers.json"))), ["<blank>"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a build that fails midway leaves the previous output untouched and no partial files", async () => {
  const index = await fixtureIndex(3);
  index.augDihedral[1] = 9; // an impossible transform: materialising that augmentation throws
  const out = await Deno.makeTempDir();
  try {
    const target = join(out, "ds");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "summary.json"), "previous build");
    await assert.rejects(writeArcDataset(target, index, "trm"), RangeError);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["ds"]);
    assert.deepEqual([...Deno.readDirSync(target)].map((e) => e.name), ["summary.json"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
