/**
 * The experiments end to end on the wasm backend: the N-Queens smoke profile run twice gives
 * byte-identical results.json, report.md and plots; an interrupted experiment resumes to the same bytes;
 * `--jobs 2` (rows in subprocesses) gives the same bytes as one process; every profile of every
 * experiment loads and plans its rows; and `verify` passes identical folders, fails changed ones with a
 * readable diff, and skips the ARC experiments without data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { initBackend } from "../lib/backend/mod.ts";
import { InputError } from "../lib/errors.ts";
import { exists } from "../lib/io/mod.ts";
import {
  type ExperimentSpec,
  EXTRA_PROFILES,
  loadProfile,
  moveAside,
  type ProfileName,
  PROFILES,
  runExperiment,
  selectRows,
  TIMING_SENTENCE,
} from "../lib/experiment/mod.ts";
import { spec as nqueens } from "../experiments/nqueens.ts";
import { cliCommand, type CliResult, cliResult, ROOT } from "../cli/_testing.ts";

await initBackend("wasm");

const EXPERIMENTS = join(ROOT, "experiments");

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "experiments_test_" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function stableFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && (e.name === "results.json" || e.name === "report.md" || e.name.endsWith(".svg"))) out.push(e.name);
  }
  return out.sort();
}

async function assertSameBytes(a: string, b: string): Promise<void> {
  const files = await stableFiles(a);
  assert.deepEqual(await stableFiles(b), files);
  for (const f of files) assert.deepEqual(await Deno.readFile(join(b, f)), await Deno.readFile(join(a, f)), f);
}

/** The CLI without the data folder, so the ARC experiments are skipped. */
async function cli(args: string[]): Promise<CliResult> {
  return cliResult(await cliCommand(args, { unset: ["TRM_DIS_DATA_DIR"] }).output());
}

// One reference run that the tests below compare against.
const reference = await Deno.makeTempDir({ prefix: "experiments_test_ref_" });
const refOutcome = await runExperiment(nqueens, { profile: "smoke", out: reference });

Deno.test({
  name: "nqueens smoke twice: byte-identical results.json, report.md and plots; the report states the profile",
  async fn() {
    await using b = await tempDir();
    await runExperiment(nqueens, { profile: "smoke", out: b.dir });
    await assertSameBytes(reference, b.dir);
    assert.deepEqual(refOutcome.trained, ["trm", "dis"]);
    const report = await Deno.readTextFile(join(reference, "report.md"));
    assert.ok(report.includes("**Profile: `smoke`**"));
    assert.ok(report.includes("Smoke profile:"));
    assert.ok(report.includes(TIMING_SENTENCE));
    assert.ok(report.includes("Policy improvement per supervision step"));
    const results = JSON.parse(await Deno.readTextFile(join(reference, "results.json")));
    assert.equal(results.profile, "smoke");
    assert.equal(results.results.rows.dis.status, "finished");
    assert.deepEqual(Object.keys(results.results.analysis).sort(), ["DIS", "TRM"]);
    assert.equal(results.results.methods.dis.forward_passes.per_sample_inference, 9);
    for (const f of ["timing.md", "timing.json", "run.json", "metrics.jsonl", "config.yaml"]) {
      await Deno.stat(join(reference, f));
    }
    // The other seed gives other numbers.
    await using c = await tempDir();
    await runExperiment(nqueens, { profile: "smoke", out: c.dir, overrides: ["seed=1"] });
    assert.notDeepEqual(
      await Deno.readFile(join(c.dir, "results.json")),
      await Deno.readFile(join(reference, "results.json")),
    );
  },
});

Deno.test("resume: finished rows are kept and the completed experiment is byte-identical to an uninterrupted one", async () => {
  await using t = await tempDir();
  const first = await runExperiment(nqueens, { profile: "smoke", out: t.dir, rows: ["trm"] });
  assert.deepEqual([first.trained, first.missing], [["trm"], ["dis"]]);
  assert.match(await Deno.readTextFile(join(t.dir, "report.md")), /\| dis \| DIS \| .* \| not run \|/);
  await assert.rejects(() => runExperiment(nqueens, { profile: "smoke", out: t.dir }), InputError);
  const second = await runExperiment(nqueens, { profile: "smoke", out: t.dir, resume: true });
  assert.deepEqual([second.trained, second.skipped, second.missing], [["dis"], ["trm"], []]);
  await assertSameBytes(reference, t.dir);
});

Deno.test("a finished experiment run again is complete: nothing trains, the same bytes; --force moves it aside", async () => {
  await using t = await tempDir();
  const dir = join(t.dir, "exp");
  await copyTree(reference, dir);
  const again = await runExperiment(nqueens, { profile: "smoke", out: dir });
  assert.equal(again.complete, true);
  assert.deepEqual([again.trained, again.skipped], [[], ["trm", "dis"]]);
  assert.ok(again.summary.some((p) => p.startsWith("What this shows")), again.summary.join("\n"));
  await assertSameBytes(reference, dir);

  const aside = await moveAside(dir);
  assert.equal(aside, `${dir}.old-1`);
  assert.ok(await exists(join(aside, "rows", "dis", "results.json")), "the old run is kept whole");
  assert.ok(!(await exists(dir)));
  await Deno.mkdir(dir);
  assert.equal(await moveAside(dir), `${dir}.old-2`, "an earlier .old-1 is never overwritten");
});

Deno.test("--jobs 2 trains the rows in subprocesses and writes the same bytes as one process", async () => {
  await using t = await tempDir();
  const r = await cli([
    "reproduce",
    "nqueens",
    "--profile",
    "smoke",
    "--backend",
    "wasm",
    "--jobs",
    "2",
    "--out",
    t.dir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^\[trm\] /m);
  assert.match(r.stdout, /rows trained now: trm, dis/);
  await assertSameBytes(reference, t.dir);
});

Deno.test("every experiment has smoke, small and paper profiles that load and plan their rows", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(EXPERIMENTS)) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_")) names.push(e.name.slice(0, -3));
  }
  assert.deepEqual(names.sort(), ["dis-variants", "figure3", "nqueens", "table1"]);
  for (const name of names) {
    const mod = await import(pathToFileURL(join(EXPERIMENTS, `${name}.ts`)).href);
    const spec = mod.spec as ExperimentSpec;
    assert.equal(spec.name, name);
    const declared = Object.keys(mod.info.profiles);
    // The required profiles in order; optional ones (EXTRA_PROFILES) only where their YAML exists.
    assert.deepEqual(declared.filter((p) => (PROFILES as readonly string[]).includes(p)), [...PROFILES], name);
    const extra = declared.filter((p) => !(PROFILES as readonly string[]).includes(p));
    assert.ok(extra.every((p) => (EXTRA_PROFILES as readonly string[]).includes(p)), `${name}: ${extra}`);
    for (const profile of declared as ProfileName[]) {
      const { config, file } = await loadProfile(spec.configDir, name, profile, spec.schema);
      const rows = spec.rows(config, file);
      assert.ok(rows.length > 0, `${name} ${profile}`);
      assert.ok(selectRows(rows.map((r) => r.id), config.default_rows).length > 0, `${name} ${profile}`);
      for (const r of rows) assert.equal(r.loaded.config.seed, config.seed, `${name} ${profile} ${r.id}`);
    }
  }
});

Deno.test("verify: identical folders pass, changed ones fail with the paths and lines; ARC experiments skip without data", async () => {
  await using t = await tempDir();
  const from = join(t.dir, "from");
  const expected = join(t.dir, "expected");
  for (const root of [from, expected]) {
    await Deno.mkdir(join(root, "nqueens"), { recursive: true });
    for (const f of ["results.json", "report.md"]) await Deno.copyFile(join(reference, f), join(root, "nqueens", f));
  }
  const args = ["verify", "--only", "nqueens", "--from", from, "--expected", expected];
  const same = await cli(args);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^ok {3}nqueens: results\.json identical, report\.md identical$/m);

  const goldenResults = join(expected, "nqueens", "results.json");
  const text = await Deno.readTextFile(goldenResults);
  const doc = JSON.parse(text);
  const steps = doc.results.methods.dis.steps;
  await Deno.writeTextFile(goldenResults, text.replace(/("steps": )(\d+)/, (_, k) => `${k}${steps + 1}`));
  const goldenReport = join(expected, "nqueens", "report.md");
  const report = await Deno.readTextFile(goldenReport);
  await Deno.writeTextFile(goldenReport, report.replace("# N-Queens", "# N-Queens (old)"));
  const changed = await cli(args);
  assert.equal(changed.code, 1);
  assert.match(changed.stdout, /^FAIL nqueens: results\.json differs, report\.md differs$/m);
  assert.match(changed.stdout, new RegExp(`: expected ${steps + 1}, got ${steps}$`, "m"));
  assert.match(changed.stdout, /^ {4}-# N-Queens \(old\)/m);
  assert.match(changed.stdout, /^ {4}\+# N-Queens: TRM/m);
  assert.match(changed.stderr, /Verification failed for nqueens/);

  // Off the reference backend numbers may move within the tolerance; the text may not.
  await Deno.writeTextFile(goldenResults, text);
  await Deno.writeTextFile(goldenReport, report);
  const ceiling = /("ceiling": )(0\.\d+)/;
  assert.match(text, ceiling);
  await Deno.writeTextFile(goldenResults, text.replace(ceiling, (_, k, v) => `${k}${Number(v) + 1e-5}`));
  const exact = await cli(args);
  assert.equal(exact.code, 1);
  assert.match(exact.stdout, /ceiling: expected 0\.\d+, got 0\.\d+$/m);
  const loose = await cli([...args, "--backend", "wasm"]);
  assert.equal(loose.code, 0, loose.stdout);
  assert.match(loose.stdout, /^ok {3}nqueens: results\.json within tolerance, report\.md identical$/m);

  const skip = await cli(["verify", "--only", "table1", "--from", from, "--expected", expected]);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stdout, /^skip table1: it needs the ARC data/m);
  assert.match(skip.stdout, /0 passed, 0 failed, 1 skipped/);
  const required = await cli(["verify", "--only", "table1", "--from", from, "--expected", expected, "--require-data"]);
  assert.equal(required.code, 1);
  assert.match(required.stderr, /table1 skipped for lack of ARC data/);
});

Deno.test("reproduce: an unknown experiment or profile is a usage error (exit 2)", async () => {
  const unknown = await cli(["reproduce", "sudoku", "--profile", "smoke"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Cannot reproduce "sudoku": no such experiment \(expected one of dis-variants, figure3/);
  const profile = await cli(["reproduce", "nqueens", "--profile", "huge"]);
  assert.equal(profile.code, 2);
  assert.match(profile.stderr, /argument 'huge' is invalid/);
});

Deno.test({
  name: "cleanup of the reference run",
  sanitizeResources: false,
  async fn() {
    await Deno.remove(reference, { recursive: true });
  },
});
