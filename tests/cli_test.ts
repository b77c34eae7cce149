/**
 * The CLI through a subprocess (`deno run -A mod.ts ...`): stdout, stderr and exit codes 0/1/2, plus
 * the shared option helpers and the progress renderer in-process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Command } from "commander";
import { backendOption, runCli, seedOption, setOption } from "../cli/_common.ts";
import { cli, type CliResult } from "../cli/_testing.ts";
import { createProgress, formatDuration } from "../cli/_progress.ts";
import { ConfigError } from "../lib/errors.ts";

async function experimentsDir(files: Record<string, string>): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "cli_test_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const HELP = `Usage: trm-dis [options] [command]

Reproduce "Your Latent Reasoning is Secretly Policy Improvement Operator" (DIS
on Tiny Recursive Models).
Run as \`deno task cli <command>\` or \`deno run -A mod.ts <command>\`.

Options:
  --version                    print the version
  --verbose                    on a failure, also print the cause chain and
                               stack traces
  -h, --help                   display help for command

Commands:
  data                         build the N-Queens and ARC datasets, fetch the
                               ARC data
  bench [options]              measure training and inference speed, side by
                               side with PyTorch where it is installed
  list [options]               list the experiments and their profiles
  reproduce [options] [name]   run an experiment's profile and write its report
                               (see \`list\`)
  train [options] <config>     train TRM or DIS from a config into a run folder
                               (resumable)
  eval [options] <run>         evaluate the latest checkpoint of a run folder
  analyze [options] <runs...>  policy-improvement diagnostics of trained runs
                               (margins, dead compute, guided decoding)
  verify [options]             re-run every experiment's smoke profile and
                               compare it with the goldens in fixtures/expected
  help [command]               display help for command
`;

Deno.test("--help prints the commands to stdout and exits 0, also per command", async () => {
  assert.deepEqual(await cli("--help"), { code: 0, stdout: HELP, stderr: "" });
  const sub = await cli("list", "--help");
  assert.equal(sub.code, 0);
  assert.equal(sub.stderr, "");
  assert.ok(sub.stdout.startsWith("Usage: trm-dis list [options]\n\nlist the experiments and their profiles\n"));
});

Deno.test("usage errors exit 2 with a short usage and error: on stderr", async () => {
  assert.deepEqual(await cli("list", "--bogus"), {
    code: 2,
    stdout: "",
    stderr:
      "Usage: trm-dis list [options]\nRun \"trm-dis list --help\" for details.\nerror: unknown option '--bogus'\n",
  });
  const unknown = await cli("frobnicate");
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.stderr, /^Usage: trm-dis \[options\] \[command\]\n.*\nerror: unknown command 'frobnicate'\n$/);
  // A thrown InputError is a usage error too, with the usage of the command that ran.
  const missing = await cli("list", "--dir", "/nonexistent/experiments");
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    'Usage: trm-dis list [options]\nRun "trm-dis list --help" for details.\n' +
      'error: Cannot list experiments: folder "/nonexistent/experiments" does not exist\n',
  );
});

Deno.test("list prints each experiment's title and profiles", async () => {
  await using x = await experimentsDir({
    "nq.ts": 'export const info = { title: "N-Queens", profiles: { smoke: "1 min", paper: "days" } };\n',
    "_helper.ts": "export const notAnExperiment = 1;\n",
    "nq_test.ts": "throw new Error('tests are not experiments');\n",
  });
  const r = await cli("list", "--dir", x.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.split("\n").slice(1).join("\n"),
    "  nq  N-Queens\n        smoke  1 min\n        paper  days\n",
  );
});

Deno.test("a runtime failure exits 1 with one line; --verbose adds the cause chain and stacks", async () => {
  await using x = await experimentsDir({
    "broken.ts": 'throw new Error("boom", { cause: new RangeError("inner") });\n',
  });
  const plain = await cli("list", "--dir", x.dir);
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, "");
  assert.equal(plain.stderr, `error: Cannot list experiments in "${x.dir}": module "broken.ts" failed to load\n`);
  const verbose = await cli("--verbose", "list", "--dir", x.dir);
  assert.equal(verbose.code, 1);
  const lines = verbose.stderr.split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    `error: Cannot list experiments in "${x.dir}": module "broken.ts" failed to load`,
    "caused by: Error: boom",
    "caused by: RangeError: inner",
  ]);
  assert.ok(lines.some((l) => /^\s+at .*broken\.ts:1:/.test(l)), verbose.stderr);
});

async function capture(fn: () => Promise<number>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await fn();
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("shared options: --backend, --seed, --set are checked; InputError from an action exits 2", async () => {
  const seen: Record<string, unknown>[] = [];
  const program = () =>
    new Command("t").addCommand(
      new Command("run")
        .addOption(backendOption())
        .addOption(seedOption(0))
        .addOption(setOption())
        .action((opts) => {
          if (opts.set.includes("fail=1")) throw new ConfigError('Cannot load config "c.yaml": unknown key "x"');
          seen.push(opts);
        }),
    );
  const ok = await capture(() => runCli(program(), ["run", "--backend", "wasm", "--seed", "5", "--set", "a.b=1"]));
  assert.equal(ok.code, 0);
  assert.deepEqual(seen, [{ backend: "wasm", seed: 5, set: ["a.b=1"] }]);
  const bad = await capture(() => runCli(program(), ["run", "--backend", "tpu"]));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: option '--backend <name>' argument 'tpu' is invalid\. Unknown backend "tpu"/);
  assert.equal((await capture(() => runCli(program(), ["run", "--seed", "-1"]))).code, 2);
  assert.match(
    (await capture(() => runCli(program(), ["run", "--set", "novalue"]))).stderr,
    /Expected key\.path=value/,
  );
  const input = await capture(() => runCli(program(), ["run", "--set", "fail=1"]));
  assert.equal(input.code, 2);
  assert.equal(
    input.stderr,
    'Usage: t run [options]\nRun "t run --help" for details.\nerror: Cannot load config "c.yaml": unknown key "x"',
  );
});

Deno.test("plain progress: a line per 10% or per interval, with rate, ETA and fields, and a last line", () => {
  let t = 0;
  const lines: string[] = [];
  const p = createProgress({ label: "train", interactive: false, now: () => t, write: (l) => lines.push(l) });
  for (let done = 0; done <= 20; done++) {
    t = done * 500;
    p.update({ done, total: 20, fields: { loss: 1 / (done + 1) } });
  }
  p.stop();
  assert.equal(lines.length, 10);
  assert.equal(lines[0], "train 2/20 (10%) 2.00 it/s ETA 9s loss=0.3333");
  assert.equal(lines.at(-1), "train 20/20 (100%) 2.00 it/s ETA 0s loss=0.04762");
  // Slow work with unknown total: a line per interval only, and the last report on stop.
  const slow: string[] = [];
  t = 0;
  const q = createProgress({
    label: "eval",
    interactive: false,
    now: () => t,
    intervalMs: 10_000,
    write: (l) => slow.push(l),
  });
  for (let done = 0; done < 25; done++) {
    t = done * 1000;
    q.update({ done, total: 0 });
  }
  q.stop();
  assert.deepEqual(slow, ["eval 10 1.00 it/s", "eval 20 1.00 it/s", "eval 24 1.00 it/s"]);
  assert.equal(formatDuration(3725), "1h02m");
});
