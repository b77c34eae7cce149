import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { deriveSeed, stream } from "../random/mod.ts";
import { DataError } from "../errors.ts";
import { applyColors, augmentName, dihedral, encodeGrid, type Grid } from "./augment.ts";
import { type ArcSubset, type ArcTask, canvasCounts, fitCanvas, loadSubset, loadTaskFile } from "./arc.ts";
import {
  arcIndexFromJson,
  arcIndexToJson,
  arcSplits,
  augmentTask,
  buildArcIndex,
  buildArcIndexFromTasks,
  identifierName,
  numIdentifiers,
} from "./arc_index.ts";
import { counterRng, seedWords } from "./_hash.ts";
import { numExamples } from "./sampler.ts";
import { FIXTURES, realDataDir } from "./_testing.ts";

const data = realDataDir();

async function fixtureTasks(): Promise<ArcTask[]> {
  const t = (name: string, subset: ArcSubset) => loadTaskFile(join(FIXTURES, "tasks", `${name}.json`), subset);
  return [
    await t("flip", "training"),
    await t("grow", "evaluation"),
    await t("big", "evaluation"),
    await t("mono2x3", "concept"),
  ];
}

// ---- the dense reference: TRM's build_arc_dataset.py, written plainly, with TRM's SHA-256 puzzle hash ----

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const gridHash = (g: Grid) => sha(Uint8Array.from([g.h, g.w, ...g.cells]));
const puzzleHash = (pairs: [Grid, Grid][]) =>
  sha(pairs.map(([i, o]) => `${gridHash(i)}|${gridHash(o)}`).sort().join("|"));

interface Dense {
  inputs: number[][];
  labels: number[][];
  puzzleIdentifiers: number[];
  puzzleIndices: number[];
  groupIndices: number[];
}

/** TRM's `convert_single_arc_puzzle` augmentation loop, deduplicating with TRM's SHA-256 puzzle hash. */
function referenceGroup(task: ArcTask, numAug: number, seed: number) {
  const all: [Grid, Grid][] = [...task.train, ...task.test].map((p) => [p.input, p.output]);
  const group = [{ name: task.id, t: 0, colors: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }];
  if (numAug > 0) {
    const hashes = new Set([puzzleHash(all)]);
    const rng = stream(seed, `arc/augment/${task.id}`);
    for (let trial = 0; trial < 5 * numAug; trial++) {
      const t = rng.int(8);
      const colors = [0, ...rng.permutation(9).map((c) => c + 1)];
      const map = (g: Grid) => dihedral(applyColors(g, colors), t);
      const h = puzzleHash(all.map(([i, o]) => [map(i), map(o)]));
      if (!hashes.has(h)) {
        hashes.add(h);
        group.push({ name: augmentName(task.id, t, colors), t, colors });
      }
      if (group.length >= numAug + 1) break;
    }
  }
  return group;
}

/** The dense build on a `canvas` x `canvas` canvas; `held` tasks' test pairs go to a validation split. */
function denseBuild(
  tasks: ArcTask[],
  subsets: ArcSubset[],
  testSubset: ArcSubset,
  seed: number,
  numAug: number,
  canvas = 30,
  held: ReadonlySet<string> = new Set(),
) {
  const order: ArcTask[] = [];
  for (const s of subsets) {
    const ts = tasks.filter((t) => t.subset === s).sort((a, b) => (a.id < b.id ? -1 : 1));
    order.push(...stream(seed, `arc/order/${s}`).shuffle(ts));
  }
  const groups = order.map((task) => ({ task, group: referenceGroup(task, numAug, seed) }));
  const ids = new Map<string, number>();
  for (const { group } of groups) for (const a of group) if (!ids.has(a.name)) ids.set(a.name, ids.size + 1);
  const key = seedWords(deriveSeed(seed, "arc/translate"));
  const split = (which: "train" | "test" | "validation"): Dense => {
    const d: Dense = { inputs: [], labels: [], puzzleIdentifiers: [], puzzleIndices: [0], groupIndices: [0] };
    for (const { task, group } of groups) {
      const isTest = task.subset === testSubset;
      const isHeld = held.has(task.id);
      const pairs = which === "test"
        ? (isTest ? task.test : [])
        : which === "validation"
        ? (isHeld ? task.test : [])
        : (isTest || isHeld ? task.train : [...task.train, ...task.test]);
      if (pairs.length === 0) continue;
      for (const a of group) {
        const p = d.puzzleIdentifiers.length;
        const noAug = counterRng(key, p, -1).int(pairs.length);
        pairs.forEach((pair, j) => {
          const inp = dihedral(applyColors(pair.input, a.colors), a.t);
          const out = dihedral(applyColors(pair.output, a.colors), a.t);
          let r = 0;
          let c = 0;
          if (which === "train" && j !== noAug) {
            const rng = counterRng(key, p, j);
            r = rng.int(canvas - Math.max(inp.h, out.h) + 1);
            c = rng.int(canvas - Math.max(inp.w, out.w) + 1);
          }
          d.inputs.push([...encodeGrid(inp, { rowOffset: r, colOffset: c, canvas })]);
          d.labels.push([...encodeGrid(out, { rowOffset: r, colOffset: c, canvas })]);
        });
        d.puzzleIndices.push(d.inputs.length);
        d.puzzleIdentifiers.push(ids.get(a.name)!);
      }
      d.groupIndices.push(d.puzzleIdentifiers.length);
    }
    return d;
  };
  return {
    train: split("train"),
    test: split("test"),
    validation: split("validation"),
    identifiers: ["<blank>", ...ids.keys()],
  };
}

function assertMatchesDense(
  tasks: ArcTask[],
  subsets: ArcSubset[],
  testSubset: ArcSubset,
  seed: number,
  n: number,
  opts: { canvas?: number; validation?: number } = {},
) {
  const canvas = opts.canvas ?? 30;
  const index = buildArcIndexFromTasks(tasks, {
    subsets,
    testSubset,
    seed,
    augmentations: n,
    canvas: opts.canvas,
    validation: opts.validation,
  });
  assert.equal(index.validation.length, opts.validation ?? 0);
  const dense = denseBuild(tasks, subsets, testSubset, seed, n, canvas, new Set(index.validation));
  const splits = arcSplits(index);
  assert.equal(splits.validation === null, (opts.validation ?? 0) === 0);
  for (const which of ["train", "test", "validation"] as const) {
    const s = splits[which];
    const d = dense[which];
    if (s === null) {
      assert.equal(d.inputs.length, 0, "no validation split, no validation examples");
      continue;
    }
    assert.equal(s.seqLen, canvas * canvas);
    assert.deepEqual([...s.groupIndices], d.groupIndices, `${which} group indices`);
    assert.deepEqual([...s.puzzleIndices], d.puzzleIndices, `${which} puzzle indices`);
    assert.deepEqual([...s.puzzleIdentifiers], d.puzzleIdentifiers, `${which} puzzle identifiers`);
    const inp = new Uint8Array(canvas * canvas);
    const lab = new Uint8Array(canvas * canvas);
    for (let e = 0; e < numExamples(s); e++) {
      inp.fill(0);
      lab.fill(0);
      s.writeExample(e, inp, lab, 0);
      assert.deepEqual([...inp], d.inputs[e], `${which} example ${e} input`);
      assert.deepEqual([...lab], d.labels[e], `${which} example ${e} label`);
    }
  }
  assert.equal(numIdentifiers(index), dense.identifiers.length);
  for (let id = 0; id < dense.identifiers.length; id++) assert.equal(identifierName(index, id), dense.identifiers[id]);
  return index;
}

Deno.test("materialised examples equal a dense reference build (fixture tasks)", async () => {
  const tasks = await fixtureTasks();
  const index = assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 5, 20);
  assert.equal(index.augOffsets[1] - index.augOffsets[0], 20);
  assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 6, 0);
});

Deno.test("on a small canvas, materialised examples equal a dense reference build (fixture tasks)", async () => {
  // "big" (a 1x30 grid) does not fit; the others do, and translation stays inside the 6x6 canvas.
  const tasks = (await fixtureTasks()).filter((t) => t.id !== "big");
  const index = assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 5, 20, { canvas: 6 });
  assert.equal(index.canvas, 6);
  // The tightest canvas: grow's 2x6 output fills the canvas's width, so it has no EOS column.
  assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 7, 3, { canvas: 6, validation: 1 });
});

Deno.test("a task that does not fit the canvas is refused by name, with its largest grid", async () => {
  const tasks = await fixtureTasks();
  const opts = { subsets: ["training", "evaluation", "concept"] as ArcSubset[], testSubset: "evaluation" as const };
  assert.throws(
    () => buildArcIndexFromTasks(tasks, { ...opts, seed: 0, augmentations: 1, canvas: 29 }),
    (e: Error) =>
      e instanceof DataError && /task "big" \(evaluation\) has a 1x30 grid \(train\[0\]\.input\)/.test(e.message),
  );
  assert.throws(() => buildArcIndexFromTasks(tasks, { ...opts, seed: 0, augmentations: 1, canvas: 31 }), RangeError);
  assert.throws(
    () => buildArcIndexFromTasks(tasks, { ...opts, seed: 0, augmentations: 1, validation: 2 }),
    (e: Error) => e instanceof DataError && /2 validation tasks asked for, but subset "training" has 1/.test(e.message),
  );
});

Deno.test("the validation split holds the test pairs of the drawn training tasks, and train loses them", async () => {
  const tasks = await fixtureTasks();
  const index = buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation", "concept"],
    testSubset: "evaluation",
    seed: 1,
    augmentations: 4,
    validation: 1,
  });
  assert.deepEqual(index.validation, ["flip"]);
  const { train, validation } = arcSplits(index);
  const k = index.tasks.findIndex((t) => t.id === "flip");
  const copies = 1 + index.augOffsets[k + 1] - index.augOffsets[k];
  assert.equal(numExamples(validation!), copies * 1);
  assert.deepEqual([...validation!.groupTasks], [k]);
  const flipTrain = Array.from({ length: numExamples(train) }, (_, e) => train.describe(e)).filter((d) =>
    d.task === "flip"
  );
  // Only the two demonstrations of each copy stay in train.
  assert.equal(flipTrain.length, copies * 2);
  for (let e = 0; e < numExamples(validation!); e++) {
    assert.deepEqual([validation!.describe(e).rowOffset, validation!.describe(e).colOffset], [0, 0]);
  }
});

Deno.test({
  name: "materialised examples equal a dense reference build (real ARC-AGI-1 subset)",
  ignore: data === null,
  fn: async () => {
    const pick = async (s: ArcSubset, n: number) => (await loadSubset(data!, s)).slice(0, n);
    const tasks = [...await pick("training", 3), ...await pick("evaluation", 3), ...await pick("concept", 2)];
    assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 0, 6);
  },
});

Deno.test({
  name: "on the 10x10 canvas, materialised examples equal a dense reference build (real ARC-AGI-1 tasks that fit)",
  ignore: data === null,
  fn: async () => {
    const pick = async (s: ArcSubset, n: number) => fitCanvas(await loadSubset(data!, s), 10).kept.slice(0, n);
    const tasks = [...await pick("training", 4), ...await pick("evaluation", 3), ...await pick("concept", 2)];
    assertMatchesDense(tasks, ["training", "evaluation", "concept"], "evaluation", 0, 6, { canvas: 10, validation: 2 });
  },
});

Deno.test("deduplication drops identical augmentations of symmetric single-colour tasks", async () => {
  const mono3 = await loadTaskFile(join(FIXTURES, "tasks", "mono3x3.json"), "training");
  const mono23 = await loadTaskFile(join(FIXTURES, "tasks", "mono2x3.json"), "training");
  // Square, one colour: only the image of that colour matters, 9 choices, one is the original.
  assert.equal(augmentTask(mono3, 1000, 0).length, 8);
  // 2x3, one colour: two shapes times 9 colours, minus the original.
  const acc = augmentTask(mono23, 1000, 0);
  assert.equal(acc.length, 17);
  const distinct = new Set(acc.map(({ t, colors }) => `${[1, 3, 6, 7].includes(t) ? "3x2" : "2x3"}:${colors[4]}`));
  assert.equal(distinct.size, 17);
  // Asking for fewer stops early; asking for none gives only the original.
  assert.equal(augmentTask(mono23, 5, 0).length, 5);
  assert.equal(augmentTask(mono23, 0, 0).length, 0);
});

Deno.test({
  name: "fast deduplication accepts exactly what TRM's SHA-256 puzzle hash accepts (real tasks, 1000 augmentations)",
  ignore: data === null,
  fn: async () => {
    // Few-colour and symmetric tasks, where most candidates are duplicates.
    const cases: [ArcSubset, string][] = [
      ["training", "4522001f"],
      ["evaluation", "e619ca6e"],
      ["evaluation", "5b526a93"],
      ["training", "b0c4d837"],
    ];
    for (const [subset, id] of cases) {
      const task = (await loadSubset(data!, subset)).find((t) => t.id === id)!;
      const fast = augmentTask(task, 1000, 3).map(({ t, colors }) => augmentName(id, t, colors));
      const ref = referenceGroup(task, 1000, 3).slice(1).map((a) => a.name);
      assert.deepEqual(fast, ref, id);
    }
  },
});

Deno.test("splits follow TRM's rule: demonstrations train, evaluation tests held out, ids shared", async () => {
  const tasks = await fixtureTasks();
  const index = buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation", "concept"],
    testSubset: "evaluation",
    seed: 1,
    augmentations: 4,
  });
  const { train, test } = arcSplits(index);
  // flip (training): 2+1 pairs; grow: 2 demos; big: 1 demo; mono2x3 (concept): 1+1.
  const A = index.augOffsets;
  const per = index.tasks.map((_, k) => 1 + A[k + 1] - A[k]);
  const pairs = index.tasks.map((t) => ({ flip: 3, grow: 2, big: 1, mono2x3: 2 } as Record<string, number>)[t.id]);
  assert.equal(numExamples(train), per.reduce((s, n, k) => s + n * pairs[k], 0));
  assert.deepEqual([...test.groupTasks].map((k) => index.tasks[k].id).sort(), ["big", "grow"]);
  const testPairs = index.tasks.map((t) => ({ grow: 2, big: 1 } as Record<string, number>)[t.id] ?? 0);
  assert.equal(numExamples(test), per.reduce((s, n, k) => s + n * testPairs[k], 0));
  // A test puzzle's id is the id of the same augmented task in train.
  const trainNames = new Map<string, number>();
  for (let p = 0; p < train.puzzleIdentifiers.length; p++) {
    trainNames.set(train.puzzleName(p), train.puzzleIdentifiers[p]);
  }
  for (let p = 0; p < test.puzzleIdentifiers.length; p++) {
    assert.equal(trainNames.get(test.puzzleName(p)), test.puzzleIdentifiers[p]);
  }
  // Test examples sit at the top-left; every train puzzle keeps at least one example there.
  for (let e = 0; e < numExamples(test); e++) {
    const d = test.describe(e);
    assert.deepEqual([d.rowOffset, d.colOffset], [0, 0]);
  }
  const atOrigin = new Set<number>();
  let moved = 0;
  for (let e = 0; e < numExamples(train); e++) {
    const d = train.describe(e);
    if (d.rowOffset === 0 && d.colOffset === 0) atOrigin.add(d.puzzle);
    else moved++;
  }
  assert.equal(atOrigin.size, train.puzzleIdentifiers.length);
  assert.ok(moved > 0);
});

Deno.test("the index round-trips through index.json and refuses an edited one", async () => {
  const tasks = await fixtureTasks();
  const index = buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation", "concept"],
    testSubset: "evaluation",
    seed: 2,
    augmentations: 7,
  });
  const json = JSON.parse(JSON.stringify(arcIndexToJson(index)));
  const back = arcIndexFromJson(json, "index.json");
  assert.equal(back.augmentationHash, index.augmentationHash);
  assert.deepEqual(back.augColors, index.augColors);
  const a = arcSplits(index).train;
  const b = arcSplits(back).train;
  const x = new Uint8Array(900), y = new Uint8Array(900), u = new Uint8Array(900), v = new Uint8Array(900);
  for (let e = 0; e < numExamples(a); e += 3) {
    x.fill(0), y.fill(0), u.fill(0), v.fill(0);
    a.writeExample(e, x, y, 0);
    b.writeExample(e, u, v, 0);
    assert.deepEqual([x, y], [u, v]);
  }
  json.tasks[0].augmentations = json.tasks[0].augmentations.replace(/^./, (c: string) => String((Number(c) + 1) % 8));
  assert.throws(() => arcIndexFromJson(json, "index.json"), DataError);
  // A default index file has no canvas key (it is what it was before the option existed).
  assert.equal("canvas" in arcIndexToJson(index), false);
});

Deno.test("an index on a small canvas with a validation split round-trips through index.json", async () => {
  const tasks = (await fixtureTasks()).filter((t) => t.id !== "big");
  const index = buildArcIndexFromTasks(tasks, {
    subsets: ["training", "evaluation", "concept"],
    testSubset: "evaluation",
    seed: 2,
    augmentations: 3,
    canvas: 8,
    validation: 1,
  });
  const json = JSON.parse(JSON.stringify(arcIndexToJson(index)));
  assert.equal(json.canvas, 8);
  const back = arcIndexFromJson(json, "index.json");
  assert.equal(back.canvas, 8);
  assert.deepEqual(back.validation, index.validation);
  const a = arcSplits(index).validation!;
  const b = arcSplits(back).validation!;
  const x = new Uint8Array(64), y = new Uint8Array(64), u = new Uint8Array(64), v = new Uint8Array(64);
  for (let e = 0; e < numExamples(a); e++) {
    x.fill(0), y.fill(0), u.fill(0), v.fill(0);
    a.writeExample(e, x, y, 0);
    b.writeExample(e, u, v, 0);
    assert.deepEqual([x, y], [u, v]);
  }
  assert.throws(() => arcIndexFromJson({ ...json, canvas: 5 }, "index.json"), /does not fit its 5x5 canvas/);
});

Deno.test("the fit filter keeps exactly the tasks whose longest grid side fits, and counts them", async () => {
  const tasks = await fixtureTasks();
  // Longest sides: flip 4, grow 6, big 30, mono2x3 3.
  const fit = fitCanvas(tasks, 6);
  assert.deepEqual(fit.kept.map((t) => t.id), ["flip", "grow", "mono2x3"]);
  assert.deepEqual(fit.excluded.map((x) => [x.task.id, x.largest.h, x.largest.w]), [["big", 1, 30]]);
  assert.deepEqual(fitCanvas(tasks, 5).kept.map((t) => t.id), ["flip", "mono2x3"]);
  const counts = canvasCounts(tasks, [3, 4, 6, 30]);
  assert.deepEqual(counts.map((c) => [c.subset, c.tasks, c.testInputs]), [
    ["training", 1, 1],
    ["evaluation", 2, 3],
    ["concept", 1, 1],
  ]);
  assert.deepEqual(counts[1].kept.map((k) => [k.canvas, k.tasks, k.testInputs]), [[3, 0, 0], [4, 0, 0], [6, 1, 2], [
    30,
    2,
    3,
  ]]);
  assert.deepEqual(counts[0].kept.map((k) => k.tasks), [0, 1, 1, 1]);
});

Deno.test({
  name: "ARC-AGI-1 on the 10x10 canvas: the tasks left out are counted, and what is kept fits",
  ignore: data === null,
  fn: async () => {
    const a = await buildArcIndex({ set: "arc-agi-1", dataDir: data!, seed: 0, augmentations: 1, canvas: 10 });
    const kept: Record<string, number> = {};
    for (const t of a.tasks) kept[t.subset] = (kept[t.subset] ?? 0) + 1;
    const left: Record<string, number> = {};
    for (const x of a.excluded) left[x.subset] = (left[x.subset] ?? 0) + 1;
    // docs/data.md's table at G = 10.
    assert.deepEqual(kept, { training: 178, evaluation: 77, concept: 39 });
    assert.deepEqual(left, { training: 222, evaluation: 323, concept: 121 });
    for (const x of a.excluded) assert.ok(Math.max(x.h, x.w) > 10, x.id);
    assert.equal(arcSplits(a).test.seqLen, 100);
  },
});

Deno.test({
  name: "ARC-AGI-1 with 3 augmentations: counts, identifiers and determinism",
  ignore: data === null,
  fn: async () => {
    const a = await buildArcIndex({ set: "arc-agi-1", dataDir: data!, seed: 0, augmentations: 3 });
    const b = await buildArcIndex({ set: "arc-agi-1", dataDir: data!, seed: 0, augmentations: 3 });
    assert.equal(a.augmentationHash, b.augmentationHash);
    assert.equal(a.tasks.length, 960);
    const { train, test } = arcSplits(a);
    assert.equal(train.groupIndices.length - 1, 960);
    assert.equal(test.groupIndices.length - 1, 400);
    const A = a.augOffsets;
    let trainEx = 0;
    let testEx = 0;
    a.tasks.forEach((t, k) => {
      const n = 1 + A[k + 1] - A[k];
      trainEx += n * (t.subset === "evaluation" ? t.train.length : t.train.length + t.test.length);
      testEx += n * (t.subset === "evaluation" ? t.test.length : 0);
    });
    assert.equal(numExamples(train), trainEx);
    assert.equal(numExamples(test), testEx);
    // Every evaluation task is present with at most 3 augmentations: 419 test inputs per copy.
    assert.ok(testEx <= 419 * 4 && testEx >= 419);
    assert.equal(numIdentifiers(a), 1 + train.puzzleIdentifiers.length);
    const c = await buildArcIndex({ set: "arc-agi-1", dataDir: data!, seed: 1, augmentations: 3 });
    assert.notEqual(c.augmentationHash, a.augmentationHash);
  },
});
