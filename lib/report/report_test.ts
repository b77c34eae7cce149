import assert from "node:assert/strict";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { CheckpointError } from "../errors.ts";
import { streamSeeds } from "../random/mod.ts";
import {
  barChartSvg,
  canonicalJson,
  compareNatural,
  formatNumber,
  lineChartSvg,
  markdownTable,
  MetricsLog,
  renderReport,
  renderSvg,
  resultsJson,
  RunFolder,
  sha256Hex,
  stableJson,
} from "./mod.ts";

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("sha256Hex matches the FIPS 180-2 vector and hashes bytes and text alike", () => {
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex(new TextEncoder().encode("abc")), sha256Hex("abc"));
  assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x", u: undefined }), '{"a":"x","b":[1,{"c":2,"d":1}]}');
  assert.throws(() => canonicalJson({ a: { b: NaN } }), /key "a\.b" is NaN/);
});

Deno.test("stableJson: sorted keys, 6 significant digits, -0 as 0, scalar arrays inline, non-finite named", () => {
  const text = stableJson({ z: -0, a: { y: 2 / 3, x: [1, 1e-9 / 3, 123456789.123] }, m: [{ k: 1 }], e: [], o: {} });
  assert.equal(
    text,
    '{\n  "a": {\n    "x": [1, 3.33333e-10, 123457000],\n    "y": 0.666667\n  },\n  "e": [],\n' +
      '  "m": [\n    {\n      "k": 1\n    }\n  ],\n  "o": {},\n  "z": 0\n}',
  );
  assert.throws(() => stableJson({ a: [1, Infinity] }), /Cannot write stable JSON: key "a\[1\]" is Infinity/);
  assert.throws(() => stableJson({ a: { b: undefined } }), /key "a\.b" is undefined/);
  assert.throws(() => stableJson({ d: new Date(0) }), /key "d" is a Date, expected a plain object/);
  assert.equal(stableJson({ loss: NaN }, { nonFinite: "string", pretty: false }), '{"loss":"NaN"}');
});

Deno.test("markdownTable keeps column order and formats numbers; formatNumber never prints -0", () => {
  const md = markdownTable(
    [
      { key: "model" },
      { key: "exact", format: { percent: 1 } },
      { key: "loss" },
      { key: "steps", format: "int" },
      { key: "note", header: "a|b" },
    ],
    [{ model: "TRM", exact: 0.5, loss: 1 / 3, steps: 12345.6, note: null }, {
      model: "DIS",
      exact: 0.69,
      loss: -0.0001,
      steps: 7,
      note: "x|y",
    }],
  );
  assert.equal(
    md,
    "| model | exact | loss | steps | a\\|b |\n| :--- | ---: | ---: | ---: | :--- |\n" +
      "| TRM | 50.0% | 0.333 | 12,346 | — |\n| DIS | 69.0% | 0.000 | 7 | x\\|y |\n",
  );
  assert.equal(formatNumber(-0), "0");
  assert.equal(formatNumber(2 / 3, 2), "0.67");
});

async function renderRun(dir: string): Promise<void> {
  const run = await RunFolder.open(dir, { config: { resolvedYaml: "lr: 0.001\n" }, command: ["t"], masterSeed: 7 });
  const curve = (a: number) => Array.from({ length: 6 }, (_, i) => [i * 10, 1 - Math.exp(-a * i)] as const);
  await run.writePlot(
    "accuracy.svg",
    await lineChartSvg({
      title: "Exact accuracy",
      xLabel: "step",
      yLabel: "accuracy",
      yDomain: [0, 1],
      series: [{ name: "TRM", points: curve(0.3) }, { name: "DIS", points: curve(0.5) }],
    }),
  );
  await run.writePlot(
    "per_q.svg",
    await barChartSvg({
      title: "Accuracy by given queens",
      xLabel: "given queens",
      yLabel: "exact",
      categories: [1, 2, 3],
      series: [{ name: "TRM", values: [0.1, 0.25, 0.5] }, { name: "DIS", values: [0.2, 1 / 3, null] }],
    }),
  );
  const results = { exact: { TRM: 0.61234567, DIS: 2 / 3 }, steps: 50 };
  const hash = sha256Hex("data");
  await run.writeResults({
    experiment: "demo",
    profile: "smoke",
    configHash: sha256Hex("lr: 0.001\n"),
    dataHash: hash,
    results,
  });
  await run.writeReport(renderReport({
    title: "Demo",
    profile: "smoke",
    sections: [{
      heading: "Accuracy",
      text: ["DIS beats TRM."],
      table: {
        columns: [{ key: "model" }, { key: "exact", format: { decimals: 3 } }],
        rows: [{ model: "TRM", exact: results.exact.TRM }, { model: "DIS", exact: results.exact.DIS }],
      },
      plots: [{ title: "Exact accuracy", file: "accuracy.svg" }, { title: "By Q", file: "per_q.svg" }],
    }],
    hashes: { data: hash },
  }));
  run.metrics.append({ step: 0, loss: 1.5 });
  await run.metrics.flush();
  await run.writeProvenance({ profile: "smoke" });
}

Deno.test("report files are byte-identical across two runs of the same input", async () => {
  await using a = await tempDir();
  await using b = await tempDir();
  await renderRun(a.dir);
  await renderRun(b.dir);
  for (const f of ["results.json", "report.md", "accuracy.svg", "per_q.svg", "config.yaml", "metrics.jsonl"]) {
    const x = await Deno.readFile(join(a.dir, f));
    const y = await Deno.readFile(join(b.dir, f));
    assert.ok(x.length > 0, f);
    assert.deepEqual(x, y, `${f} differs between two runs`);
  }
  const results = await Deno.readTextFile(join(a.dir, "results.json"));
  assert.equal(
    results,
    `{\n  "experiment": "demo",\n  "format": 1,\n  "hashes": {\n    "config_sha256": "${sha256Hex("lr: 0.001\n")}",\n` +
      `    "data_sha256": "${sha256Hex("data")}"\n  },\n  "profile": "smoke",\n  "results": {\n` +
      `    "exact": {\n      "DIS": 0.666667,\n      "TRM": 0.612346\n    },\n    "steps": 50\n  }\n}\n`,
  );
  const report = await Deno.readTextFile(join(a.dir, "report.md"));
  assert.ok(report.startsWith("# Demo\n\n**Profile: `smoke`**\n\n## Accuracy\n\nDIS beats TRM.\n\n| model | exact |"));
  assert.ok(report.includes("| DIS | 0.667 |\n\n![Exact accuracy](accuracy.svg)\n\n![By Q](per_q.svg)\n"));
  const svg = await Deno.readTextFile(join(a.dir, "accuracy.svg"));
  assert.match(svg, /^<svg [^>]*>/);
  for (const label of ["Exact accuracy", "TRM", "DIS", "step"]) assert.ok(svg.includes(`>${label}</text>`), label);
  const run = JSON.parse(await Deno.readTextFile(join(a.dir, "run.json")));
  assert.deepEqual(run.seeds, { master: 7, streams: streamSeeds(7) });
  assert.deepEqual(run.command, ["t"]);
  assert.equal(run.runtime.deno, Deno.version.deno);
  assert.ok(run.git.commit === null ? typeof run.git.reason === "string" : /^[0-9a-f]{40}$/.test(run.git.commit));
  assert.ok(run.host.cpuCount >= 1 && run.wallSeconds >= 0 && run.extra.profile === "smoke");
});

Deno.test("plots: clip-path ids are renumbered per document, and bad input is refused by name", async () => {
  const spec: TopLevelSpec = {
    data: { values: [{ x: 1, y: 2 }, { x: 2, y: 5 }] },
    mark: { type: "line", clip: true },
    encoding: {
      x: { field: "x", type: "quantitative" },
      y: { field: "y", type: "quantitative", scale: { domain: [0, 3] } },
    },
  };
  // vega numbers clip paths from a process-wide counter; without renumbering these would differ.
  const first = await renderSvg(spec);
  const second = await renderSvg(spec);
  assert.equal(first, second);
  assert.ok(first.includes('id="p0"') && first.includes("url(#p0)"));
  await assert.rejects(
    lineChartSvg({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", points: [[0, NaN]] }] }),
    /Cannot plot "t", series "a", point 0 y: expected a finite number, got NaN/,
  );
  await assert.rejects(
    barChartSvg({ title: "t", xLabel: "x", yLabel: "y", categories: [1, 2], series: [{ name: "a", values: [1] }] }),
    /series "a" has 1 values, expected 2/,
  );
});

Deno.test("MetricsLog: append, flush, load, truncate for resume, malformed lines named", async () => {
  await using t = await tempDir();
  const path = join(t.dir, "metrics.jsonl");
  const log = new MetricsLog(path);
  for (let step = 0; step < 5; step++) log.append({ step, loss: 1 / (step + 1), tag: "x" });
  log.append({ step: 5, loss: NaN });
  await log.flush();
  const text = await Deno.readTextFile(path);
  assert.equal(text.split("\n")[1], '{"loss":0.5,"step":1,"tag":"x"}');
  assert.ok(text.endsWith('{"loss":"NaN","step":5}\n'));
  const loaded = await MetricsLog.load(path);
  assert.equal(loaded.length, 6);
  loaded.truncateTo(2);
  assert.equal(loaded.lastStep, 2);
  await loaded.flush();
  assert.deepEqual((await MetricsLog.load(path)).records().map((r) => r.step), [0, 1, 2]);
  assert.throws(() => log.append({ step: -1 }), /step must be a non-negative integer/);
  await Deno.writeTextFile(path, '{"step":0}\n{"step":1\n');
  await assert.rejects(MetricsLog.load(path), new RegExp(`Cannot load metrics "${path}": line 2 is not valid JSON`));
  assert.equal((await MetricsLog.load(join(t.dir, "none.jsonl"))).length, 0);
});

Deno.test("RunFolder: resume keeps metrics and refuses a different config; a fresh open empties them", async () => {
  await using t = await tempDir();
  const config = { resolvedYaml: "lr: 1\n" };
  const run = await RunFolder.open(t.dir, { config, command: [] });
  run.metrics.append({ step: 3, loss: 1 });
  await run.metrics.flush();
  const resumed = await RunFolder.open(t.dir, { config, command: [], resume: true });
  assert.equal(resumed.metrics.lastStep, 3);
  await assert.rejects(
    RunFolder.open(t.dir, { config: { resolvedYaml: "lr: 2\n" }, command: [], resume: true }),
    (e: unknown) => e instanceof CheckpointError && /its config\.yaml differs/.test(e.message),
  );
  const fresh = await RunFolder.open(t.dir, { config, command: [] });
  assert.equal(fresh.metrics.length, 0);
  assert.equal(await Deno.readTextFile(join(t.dir, "metrics.jsonl")), "");
  await assert.rejects(fresh.writePlot("../x.svg", "<svg/>"), /expected a plain file name ending in \.svg/);
  assert.throws(
    () => resultsJson({ experiment: "x", configHash: "abc", dataHash: "abc", results: {} }),
    /configHash must be 64 lowercase hex digits/,
  );
});

Deno.test("RunFolder: run.json's wall time counts from the given start, not from when the folder was opened", async () => {
  await using t = await tempDir();
  // An experiment opens its folder after its rows have trained and passes its own start.
  const started = new Date(Date.now() - 3_600_000);
  const run = await RunFolder.open(t.dir, { command: [], started });
  const prov = await run.writeProvenance();
  assert.equal(prov.started, started.toISOString());
  assert.ok(prov.wallSeconds >= 3600, `wallSeconds ${prov.wallSeconds}`);
});

Deno.test("compareNatural sorts pass@k by k and keeps other names in code-unit order", () => {
  const keys = ["pass@10", "pass@2", "pass@1000", "pass@1", "exact", "pass@2_per_output", "pass@100", "pass@5"];
  assert.deepEqual([...keys].sort(compareNatural), [
    "exact",
    "pass@1",
    "pass@2",
    "pass@2_per_output",
    "pass@5",
    "pass@10",
    "pass@100",
    "pass@1000",
  ]);
  assert.equal(compareNatural("a", "a"), 0);
  assert.ok(compareNatural("step 9", "step 10") < 0);
});

/** The text of an SVG's `<text>` elements, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

Deno.test("plots: integer and percent axes, reference lines, interval bands and error bars are drawn", async () => {
  const line = await lineChartSvg({
    title: "acc",
    xLabel: "step",
    yLabel: "exact",
    yDomain: [0, 1],
    x: { integer: true },
    y: { percent: true },
    references: [{ label: "paper 69%", y: 0.69 }, { label: "ceiling", y: 0.8 }],
    series: [{ name: "DIS", points: [[1, 0.1], [2, 0.3], [3, 0.5]], intervals: [[0, 0.2], null, [0.4, 0.6]] }],
  });
  const texts = svgTexts(line);
  // Three steps would otherwise get ticks at 1.5 and 2.5; the accuracies are written as %.
  assert.ok(!texts.some((t) => /^\d+\.\d+$/.test(t)), `fractional tick labels: ${texts.join("|")}`);
  for (const t of ["1", "2", "3", "0%", "40%", "100%", "paper 69%", "ceiling"]) assert.ok(texts.includes(t), t);
  assert.equal((line.match(/aria-roledescription="area mark"/g) ?? []).length, 1, "one interval band");
  const big = svgTexts(
    await lineChartSvg({
      title: "calls",
      xLabel: "training network applications",
      yLabel: "exact",
      x: { integer: true },
      series: [{ name: "DIS", points: [[0, 0.1], [2_000_000, 0.3]] }],
    }),
  );
  assert.ok(big.includes("1,000,000"), `large counts get thousands separators: ${big.join("|")}`);
  assert.ok(!big.some((t) => /^\d{5,}$/.test(t)), `an unseparated large tick: ${big.join("|")}`);
  assert.equal((line.match(/aria-roledescription="rule mark"/g) ?? []).length, 2, "two reference lines");

  const bars = await barChartSvg({
    title: "pass@2",
    xLabel: "row",
    yLabel: "pass@2",
    yDomain: [0, 1],
    y: { percent: true },
    categories: ["TRM-compact arc1", "DIS-compact arc1", "TRM-medium arc1", "DIS-medium arc1", "TRM arc1", "DIS arc1"],
    series: [{
      name: "ours",
      values: [0.1, 0.2, 0.3, null, 0.4, 0.5],
      intervals: [[0, 0.2], null, null, null, null, null],
    }],
    references: [{ label: "paper", y: 0.4 }],
  });
  assert.ok(/rotate\(320\)/.test(bars), "long category labels are slanted, not overlapping");
  assert.ok(svgTexts(bars).includes("20%"));
  assert.equal(
    (bars.match(/aria-roledescription="rule mark"/g) ?? []).length,
    2,
    "one error bar and one reference line",
  );
  const short = await barChartSvg({
    title: "q",
    xLabel: "Q",
    yLabel: "exact",
    categories: [1, 2, 3],
    series: [{ name: "a", values: [0.1, 0.2, 0.3] }],
  });
  assert.ok(!/rotate\(320\)/.test(short), "short labels stay level");

  await assert.rejects(
    lineChartSvg({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [{ name: "a", points: [[0, 1], [1, 2]], intervals: [[0, 1]] }],
    }),
    /series "a" has 1 intervals for 2 points/,
  );
  await assert.rejects(
    lineChartSvg({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [{ name: "a", points: [[0, 1]], intervals: [[2, 1]] }],
    }),
    /interval \[2, 1\] has low above high/,
  );
});
