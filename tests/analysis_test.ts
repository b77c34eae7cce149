/**
 * `analyze` through a subprocess, on two tiny N-Queens runs trained by `train` (fixtures/train): TRM and
 * DIS side by side, per-step margins in the report, the run's own files untouched, the same bytes on a
 * second run, and exit code 2 for bad input.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../cli/_testing.ts";
import { exists } from "../lib/io/mod.ts";

Deno.test("analyze compares a TRM and a DIS run, deterministically, without writing into either run", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "analysis_cli_test_" });
  try {
    const trm = join(tmp, "trm");
    const dis = join(tmp, "dis");
    for (const [config, out] of [["trm_tiny.yaml", trm], ["dis_tiny.yaml", dis]]) {
      const r = await cli("train", join("fixtures", "train", config), "--out", out, "--backend", "wasm");
      assert.equal(r.code, 0, r.stderr);
    }
    const ownReport = await Deno.readFile(join(trm, "report.md"));
    const args = ["--max-examples", "16", "--resamples", "200", "--guidance", "0,2", "--backend", "wasm"];
    // Without --out a comparison goes to runs/analyze/trm-vs-dis (tests/eval_analyze_folders_test.ts); here a temp folder.
    const out = join(tmp, "compared");
    const r = await cli("analyze", trm, dis, ...args, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(lines[0], /^TRM: 16 examples, dead steps: /);
    assert.ok(lines.includes(`written to ${out}`), r.stdout);
    for (const s of [1, 2, 3, 4]) assert.ok(lines.some((l) => l.startsWith(`  step ${s}: margin(w=1) `)));
    assert.ok(lines.some((l) => /^DIS: 16 examples/.test(l)));
    assert.ok(lines.some((l) => l.startsWith("  guided exact: w=0 ") && l.includes("w=1 ") && l.includes("w=2 ")));

    assert.ok(!(await exists(join(trm, "analysis"))), "nothing written into the first run");
    const report = await Deno.readTextFile(join(out, "report.md"));
    for (const s of [1, 2, 3, 4]) assert.match(report, new RegExp(`^\\| TRM \\| ${s} \\| -?\\d+\\.\\d{3} \\|`, "m"));
    for (const s of [1, 2, 3, 4, 5, 6]) {
      assert.match(report, new RegExp(`^\\| DIS \\| ${s} \\| -?\\d+\\.\\d{3} \\|`, "m"));
    }
    assert.match(report, /!\[Advantage margin per step \(eq\. 18\)\]\(analysis_margin\.svg\)/);
    const results = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
    assert.equal(results.experiment, "analysis");
    assert.equal(results.results.runs.DIS.steps.length, 6);
    assert.deepEqual(results.results.runs.TRM.guidance.map((g: { w: number }) => g.w), [0, 1, 2]);
    const prov = JSON.parse(await Deno.readTextFile(join(out, "run.json")));
    assert.ok(JSON.stringify(prov).includes("--max-examples"), "run.json records the command line");
    assert.deepEqual(await Deno.readFile(join(trm, "report.md")), ownReport, "the run's own report is untouched");

    const again = join(tmp, "again");
    const r2 = await cli("analyze", trm, dis, ...args, "--out", again);
    assert.equal(r2.code, 0, r2.stderr);
    for (const f of ["report.md", "results.json", "analysis_margin.svg", "analysis_guidance.svg"]) {
      assert.deepEqual(await Deno.readFile(join(again, f)), await Deno.readFile(join(out, f)), f);
    }

    const bad = await cli("analyze", trm, "--w", "0,x");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error: option '--w <list>' argument '0,x' is invalid\. Expected comma-separated numbers/);
    const missing = await cli("analyze", join(tmp, "nope"), "--backend", "wasm");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: Cannot open run ".*nope": it has no config\.yaml/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
