import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { DataError } from "../errors.ts";
import { type ArcSubset, loadKaggleSubset, loadSubset, loadTaskFile, parseArcSet, taskToJson } from "./arc.ts";
import { FIXTURES, realDataDir } from "./_testing.ts";

const data = realDataDir();

Deno.test("every bad input file gives a DataError naming the file, the task and the defect", async () => {
  const expected: Record<string, RegExp> = {
    "malformed.json": /malformed JSON/,
    "not_rectangular.json": /grid "train\[0\]\.input" is not rectangular \(row 2 has 4 cells, expected 5\)/,
    "empty_row.json": /grid "train\[0\]\.input" has 0 columns \(expected 1\.\.30\)/,
    "too_wide.json": /grid "train\[0\]\.output" has 31 columns \(expected 1\.\.30\)/,
    "too_tall.json": /grid "test\[0\]\.input" has 31 rows \(expected 1\.\.30\)/,
    "value_out_of_range.json": /grid "train\[0\]\.input" cell \[1\]\[1\] is 10 \(expected an integer 0\.\.9\)/,
    "value_negative.json": /grid "test\[0\]\.output" cell \[0\]\[0\] is -1/,
    "value_not_integer.json": /cell \[0\]\[1\] is 2\.5/,
    "missing_train.json": /"train" is missing/,
    "missing_test.json": /"test" is missing/,
    "missing_output.json": /grid "train\[0\]\.output" is not a list of rows/,
    "not_an_object.json": /not a JSON object/,
  };
  const files = [...Deno.readDirSync(join(FIXTURES, "bad"))].map((e) => e.name).sort();
  assert.deepEqual(files, Object.keys(expected).sort(), "every bad fixture has an expected message");
  for (const name of files) {
    const file = join(FIXTURES, "bad", name);
    const id = basename(name, ".json");
    await assert.rejects(loadTaskFile(file, "training"), (e: Error) => {
      assert.ok(e instanceof DataError, `${name}: ${e}`);
      assert.ok(e.message.startsWith(`Cannot load task "${id}" from "${file}": `), e.message);
      assert.match(e.message, expected[name]);
      return true;
    });
  }
  assert.throws(
    () => parseArcSet("arc-agi-3"),
    (e: Error) => e instanceof DataError && /unknown set "arc-agi-3"/.test(e.message),
  );
  await assert.rejects(loadSubset(join(FIXTURES, "nowhere"), "training"), DataError);
});

Deno.test("good fixture tasks load, extra keys are ignored, grids round-trip to JSON", async () => {
  const file = join(FIXTURES, "tasks", "flip.json");
  const task = await loadTaskFile(file, "training");
  assert.equal(task.id, "flip");
  assert.equal(task.train.length, 2);
  assert.deepEqual(taskToJson(task), (({ train, test }) => ({ train, test }))(JSON.parse(Deno.readTextFileSync(file))));
});

const README_COUNTS: [string, ArcSubset, number, number, number][] = [
  ["dirs", "training", 400, 1302, 416],
  ["dirs", "evaluation", 400, 1363, 419],
  ["dirs", "training2", 1000, 3232, 1076],
  ["dirs", "evaluation2", 120, 359, 167],
  ["dirs", "concept", 160, 427, 480],
  ["kaggle", "training", 400, 1302, 416],
  ["kaggle", "evaluation", 400, 1363, 419],
  ["kaggle", "training2", 1000, 3232, 1076],
  ["kaggle", "evaluation2", 120, 358, 172],
  ["kaggle", "concept", 160, 427, 480],
];

Deno.test({
  name: "task, pair and test-input counts match the data README for every set and both layouts",
  ignore: data === null,
  fn: async () => {
    const loaded: Record<string, Awaited<ReturnType<typeof loadSubset>>> = {};
    for (const [source, subset, tasks, trainPairs, testInputs] of README_COUNTS) {
      const ts = source === "dirs"
        ? await loadSubset(data!, subset, "dirs")
        : await loadKaggleSubset(join(data!, "trm-kaggle-combined", "arc-agi"), subset);
      loaded[`${source}/${subset}`] = ts;
      const got = [ts.length, ts.reduce((s, t) => s + t.train.length, 0), ts.reduce((s, t) => s + t.test.length, 0)];
      assert.deepEqual(got, [tasks, trainPairs, testInputs], `${source}/${subset}`);
    }
    // ConceptARC's MinimalTasks are in the data directory but in no build.
    const minimalDir = join(data!, "concept-arc-minimal");
    const minimal = await Promise.all(
      [...Deno.readDirSync(minimalDir)].map((e) => loadTaskFile(join(minimalDir, e.name), "concept")),
    );
    const minimalCounts = [
      minimal.length,
      ...["train", "test"].map((k) => minimal.reduce((s, t) => s + t[k as "train"].length, 0)),
    ];
    assert.deepEqual(minimalCounts, [16, 46, 48], "concept-arc-minimal");
    // The README says the Kaggle copy of ARC-AGI-1 evaluation has identical content to the per-task files.
    const byId = new Map(loaded["dirs/evaluation"].map((t) => [t.id, JSON.stringify(taskToJson(t))]));
    for (const t of loaded["kaggle/evaluation"]) assert.equal(JSON.stringify(taskToJson(t)), byId.get(t.id), t.id);
  },
});
