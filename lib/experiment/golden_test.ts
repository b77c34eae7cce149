import assert from "node:assert/strict";
import { join } from "node:path";
import { compareFiles, compareJson, formatJsonDifferences, lineDiff, textLinesOutsideTolerance } from "./golden.ts";

Deno.test("compareJson: exact mode finds every changed, missing and extra value with its path", () => {
  const golden = { a: 1, b: { c: [1, 2, 3], d: "x" }, e: null };
  assert.deepEqual(compareJson(golden, structuredClone(golden), null), []);
  const changed = { a: 1.0000001, b: { c: [1, 2], d: "y", f: true }, e: 0 };
  assert.deepEqual(compareJson(golden, changed, null).map((d) => d.path), ["a", "b.c[2]", "b.d", "b.f", "e"]);
  assert.deepEqual(
    formatJsonDifferences(compareJson(golden, changed, null)),
    [
      "a: expected 1, got 1.0000001",
      "b.c[2]: expected 3, got (missing)",
      'b.d: expected "x", got "y"',
      "b.f: expected (missing), got true",
      "e: expected null, got 0",
    ],
  );
});

Deno.test("compareJson: with a tolerance, numbers may move by atol + rtol * |golden| and nothing else may change", () => {
  const tol = { atol: 1e-3, rtol: 1e-2 };
  assert.deepEqual(compareJson({ x: 100, y: 0 }, { x: 100.9, y: 0.0009 }, tol), []);
  assert.deepEqual(compareJson({ x: 100 }, { x: 101.2 }, tol).map((d) => d.path), ["x"]);
  assert.deepEqual(compareJson({ s: "a" }, { s: "b" }, tol).map((d) => d.path), ["s"]);
  assert.deepEqual(compareJson({ n: 1 }, { n: "1" }, tol).map((d) => d.path), ["n"]);
});

Deno.test("lineDiff: changed lines with context, and nothing for equal texts", () => {
  assert.deepEqual(lineDiff("a\nb\nc\n", "a\nb\nc\n"), []);
  assert.deepEqual(lineDiff("1\n2\n3\n4\n5\n6\n", "1\n2\n3\nX\n5\n6\n", 1), ["@@ line 3 @@", " 3", "-4", "+X", " 5"]);
  const added = lineDiff("a\nc\n", "a\nb\nc\n", 0);
  assert.deepEqual(added, ["@@ line 2 @@", "+b"]);
});

Deno.test("textLinesOutsideTolerance: numbers within the tolerance, the text around them exact", () => {
  const tol = { atol: 1e-3, rtol: 0 };
  assert.deepEqual(textLinesOutsideTolerance("| DIS | 12.5% | 0.1234 |\n", "| DIS | 12.5% | 0.1238 |\n", tol), []);
  assert.deepEqual(textLinesOutsideTolerance("| DIS | 0.1234 |\n", "| DIS | 0.1334 |\n", tol), [1]);
  assert.deepEqual(textLinesOutsideTolerance("| DIS | 0.1 |\n", "| TRM | 0.1 |\n", tol), [1]);
  // An added line shifts the rest: every line from there on is reported.
  assert.deepEqual(textLinesOutsideTolerance("a\n", "a\nb\n", tol), [2, 3]);
});

Deno.test("compareFiles: identical, within tolerance, differs, and missing files", async () => {
  const root = await Deno.makeTempDir({ prefix: "golden_test_" });
  try {
    const g = join(root, "g");
    const o = join(root, "o");
    await Deno.mkdir(g);
    await Deno.mkdir(o);
    await Deno.writeTextFile(join(g, "r.json"), '{"acc": 0.5, "n": 3}\n');
    await Deno.writeTextFile(join(o, "r.json"), '{"acc": 0.50001, "n": 3}\n');
    await Deno.writeTextFile(join(g, "r.md"), "acc 0.5\n");
    await Deno.writeTextFile(join(o, "r.md"), "acc 0.5\n");
    const exact = await compareFiles(g, o, ["r.json", "r.md", "x.md"], null);
    assert.deepEqual(exact.map((c) => c.status), ["differs", "identical", "missing-golden"]);
    assert.deepEqual(exact[0].details, ["acc: expected 0.5, got 0.50001"]);
    const loose = await compareFiles(g, o, ["r.json"], { atol: 1e-4, rtol: 0 });
    assert.equal(loose[0].status, "within-tolerance");
    await Deno.writeTextFile(join(g, "y.md"), "y\n");
    assert.equal((await compareFiles(g, o, ["y.md"], null))[0].status, "missing-output");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
