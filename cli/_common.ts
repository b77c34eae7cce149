/**
 * What every subcommand shares: option factories (`--backend`, `--seed`, `--out`, `--set`), printing,
 * and {@linkcode runCli}, which turns errors into exit codes:
 *
 * - 0: done, or `--help`;
 * - 2: a usage or input error (commander's parse errors, any thrown `InputError` such as a
 *   `ConfigError`): a short usage line and `error: ...` on stderr;
 * - 1: any other error: `error: <message>` on one line; `--verbose` adds the cause chain and stacks;
 * - 130 or 143: stopped by SIGINT or SIGTERM (an `InterruptedError`, or {@linkcode resumeOnInterrupt}).
 *
 * A subcommand file exports `makeCommand(): Command` and throws errors from its action; it never
 * calls `Deno.exit`.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES, type BackendInfo, type BackendRequest, initBackend, parseBackend } from "../lib/backend/mod.ts";
import { type RuntimeSettings, runtimeSettings } from "../lib/env.ts";
import { InputError, InterruptedError } from "../lib/errors.ts";
import { onLockTakeover } from "../lib/io/mod.ts";
import type { MicroBatchChoice } from "../lib/train/mod.ts";

/** Prints a line (or lines) to stdout. */
export function print(text = ""): void {
  console.log(text);
}

/** Prints a line (or lines) to stderr: progress, warnings, errors. */
export function printErr(text = ""): void {
  console.error(text);
}

/**
 * `--backend <name>`: `auto` or a backend name, checked with lib/backend's `parseBackend`.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { backendOption } from "./_common.ts";
 * const cmd = new Command("train").addOption(backendOption()).action(() => {});
 * cmd.parse(["--backend", "wasm"], { from: "user" });
 * cmd.opts().backend; // "wasm"
 * ```
 */
export function backendOption(defaultValue = "auto"): Option {
  return new Option("--backend <name>", `tensor backend: auto, ${BACKEND_NAMES.join(", ")}`)
    .default(parseBackend(defaultValue))
    .argParser((v) => {
      try {
        return parseBackend(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    });
}

/**
 * `--allow-backend-change`: resume a run on a backend other than the one its checkpoint was written on
 * (refused by default, since the bytes differ across backends); run.json then lists every backend used.
 */
export function allowBackendChangeOption(): Option {
  return new Option(
    "--allow-backend-change",
    "with --resume: continue a run on another backend than its checkpoint's (outputs then differ from a run " +
      "that never changed; run.json lists every backend used)",
  );
}

/**
 * What the environment sets for every command (lib/env.ts reads it, and run.json records each
 * variable read): the ARC data folder, the OpenBLAS switch and the puzzle-table placement. Commands
 * pass these down as typed options; their flags win.
 */
export function settings(): RuntimeSettings {
  return runtimeSettings();
}

/**
 * Starts the backend a `--backend` option chose, with OpenBLAS unless the environment turns it off
 * (`TRM_DIS_BLAS=off`: the exact reference cpu backend).
 */
export async function startBackend(request: BackendRequest): Promise<BackendInfo> {
  return await initBackend(request, { blas: settings().blas });
}

/**
 * `--seed <n>`: the master seed, a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { seedOption } from "./_common.ts";
 * const cmd = new Command("x").addOption(seedOption(0)).action(() => {});
 * cmd.parse(["--seed", "42"], { from: "user" });
 * cmd.opts().seed; // 42
 * ```
 */
export function seedOption(defaultValue?: number): Option {
  const opt = new Option("--seed <n>", "master seed; every random stream is derived from it").argParser((v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`Expected a non-negative integer, got "${v}".`);
    }
    return n;
  });
  return defaultValue === undefined ? opt : opt.default(defaultValue);
}

/**
 * `--out <dir>`: the output folder.
 *
 * @example
 * ```ts
 * import { outOption } from "./_common.ts";
 * outOption("runs/nqueens/smoke").defaultValue; // "runs/nqueens/smoke"
 * ```
 */
export function outOption(defaultDir?: string, description = "output folder"): Option {
  const opt = new Option("--out <dir>", description);
  return defaultDir === undefined ? opt : opt.default(defaultDir);
}

/**
 * Checks a `--data-dir` folder before anything reads it: a path that does not exist, or names a regular
 * file (or anything else that is not a folder), is an {@linkcode InputError} (exit 2) naming the path and
 * what was expected, instead of the OS error a read would raise later. Returns the path as given.
 *
 * @example
 * ```ts
 * import { checkDataDir } from "./_common.ts";
 * await checkDataDir(Deno.cwd()); // Deno.cwd()
 * ```
 */
export async function checkDataDir(path: string, flag = "--data-dir"): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      throw new InputError(
        `Cannot use ${flag} "${path}": it does not exist (expected the ARC data folder, with arc-agi-1/, ` +
          "arc-agi-2/ and concept-arc/ in it, as `data fetch` lays it out)",
        { cause: e },
      );
    }
    throw e;
  }
  if (!info.isDirectory) {
    const kind = info.isFile ? "a regular file" : "not a folder";
    throw new InputError(
      `Cannot use ${flag} "${path}": it is ${kind} (expected the ARC data folder, with arc-agi-1/, ` +
        "arc-agi-2/ and concept-arc/ in it, as `data fetch` lays it out)",
    );
  }
  return path;
}

/**
 * `--set <key=value>`, repeatable: config overrides, collected in order into a string array for
 * lib/config's `loadConfig(path, schema, { overrides })`, which type-checks them. `example` is a key that
 * the command accepts, shown in its help.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { setOption } from "./_common.ts";
 * const cmd = new Command("x").addOption(setOption()).action(() => {});
 * cmd.parse(["--set", "a=1", "--set", "b.c=x"], { from: "user" });
 * cmd.opts().set; // ["a=1", "b.c=x"]
 * ```
 */
export function setOption(example = "train.steps=100"): Option {
  return new Option("--set <key=value>", `override a config value (repeatable), e.g. --set ${example}`)
    .default([])
    .argParser((v: string, previous: string[]) => {
      if (!/^[\w-]+(\.[\w-]+)*=/.test(v)) {
        throw new InvalidArgumentError(`Expected key.path=value, got "${v}".`);
      }
      return [...previous, v];
    });
}

function errorLines(e: unknown): string[] {
  return e instanceof Error ? e.message.split("\n") : [String(e)];
}

/**
 * The text printed for a failure: `error: <message>`; with `verbose`, then each cause
 * (`caused by: ...`) and the stacks.
 *
 * @example
 * ```ts
 * import { formatError } from "./_common.ts";
 * formatError(new Error("Cannot x", { cause: new Error("disk full") }), false); // "error: Cannot x"
 * ```
 */
export function formatError(e: unknown, verbose: boolean, oneLine = false): string {
  const msg = errorLines(e);
  const head = `error: ${oneLine ? msg.map((l) => l.trim()).filter((l) => l).join(" ") : msg.join("\n")}`;
  if (!verbose) return head;
  const lines = [head];
  const seen = new Set<unknown>([e]);
  let cause = e instanceof Error ? e.cause : undefined;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    const name = cause instanceof Error ? `${cause.name}: ` : "";
    lines.push(`caused by: ${name}${errorLines(cause).join("\n  ")}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  // Each stack starts with its own "Name: message" line, so they are printed as they are.
  for (const err of seen) if (err instanceof Error && err.stack) lines.push("", err.stack);
  return lines.join("\n");
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** The short usage printed before a usage error. */
export function shortUsage(cmd: Command): string {
  return `Usage: ${commandPath(cmd)} ${cmd.usage()}\nRun "${commandPath(cmd)} --help" for details.`;
}

function prepare(cmd: Command, onError: (c: Command) => void): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: () => onError(cmd),
  });
  for (const sub of cmd.commands) prepare(sub, onError);
}

/**
 * Parses `argv` and runs the chosen command; returns the exit code and prints what the user needs.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { runCli } from "./_common.ts";
 * const program = new Command("demo").addCommand(new Command("hello").action(() => {}));
 * await runCli(program, ["hello"]); // 0
 * ```
 */
export async function runCli(program: Command, argv: readonly string[]): Promise<number> {
  let failed: Command = program;
  let running: Command | null = null;
  prepare(program, (c) => (failed = c));
  program.hook("preAction", (_self, action) => {
    running = action;
  });
  const dashDash = argv.indexOf("--");
  const verbose = () =>
    Boolean(program.opts().verbose) || (dashDash < 0 ? argv : argv.slice(0, dashDash)).includes("--verbose");
  // lib/ never prints: a stale lock taken over (lib/io lock.ts) is said here, on stderr.
  const quiet = onLockTakeover((t) => printErr(t.message));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help") {
        if (e.exitCode === 0) return 0;
        printErr("error: missing command");
        return 2;
      }
      printErr(shortUsage(failed));
      printErr(`error: ${e.message.replace(/^error: /, "")}`);
      return 2;
    }
    if (e instanceof InterruptedError) {
      printErr(e.message);
      return signalExitCode(e.signal);
    }
    if (e instanceof InputError) {
      printErr(shortUsage(running ?? program));
      printErr(formatError(e, verbose()));
      return 2;
    }
    printErr(formatError(e, verbose(), true));
    return 1;
  } finally {
    quiet();
  }
}

/** One argument as a POSIX shell reads it back: bare when safe, else in single quotes. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The exit code a shell reports for a process stopped by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: "SIGINT" | "SIGTERM"): number {
  return signal === "SIGINT" ? 130 : 143;
}

/**
 * The line printed when a signal stops a resumable command: the signal and the command that resumes it
 * (`deno task cli` and `args`, which should end in `--resume`).
 *
 * @example
 * ```ts
 * import { interruptMessage } from "./_common.ts";
 * interruptMessage("SIGINT", ["train", "a.yaml", "--resume"]);
 * // "\nInterrupted (SIGINT); the last checkpoint is kept. To resume: deno task cli train a.yaml --resume"
 * ```
 */
export function interruptMessage(signal: Deno.Signal, args: readonly string[]): string {
  const line = `deno task cli ${args.map(shellWord).join(" ")}`;
  return `\nInterrupted (${signal}); the last checkpoint is kept. To resume: ${line}`;
}

/** Subprocesses that a signal must stop before the parent exits (lib/experiment's `JobControl`). */
export interface Children {
  /** How many run now. */
  readonly running: number;
  /** Forwards the signal to each; they must then exit within a bounded time (the caller's contract). */
  stop(signal: "SIGINT" | "SIGTERM"): void;
}

/**
 * Until the returned function is called, Ctrl-C (SIGINT) or SIGTERM prints one line on stderr naming the
 * command that resumes the run ({@linkcode interruptMessage}) and exits 130 or 143, as a shell reports a
 * process stopped by that signal. Stopping mid-checkpoint is safe: checkpoints are written to a temporary
 * folder and renamed, so the last whole one stays the one to resume from.
 *
 * While `children` has subprocesses running, the signal is forwarded to them instead and this process does
 * not exit here: the work that waits on them throws an InterruptedError once they have exited, and
 * {@linkcode runCli} prints it and returns 130 or 143. A second signal then kills them at once.
 *
 * The folder locks this process holds (lib/io lock.ts) are removed as it exits: `Deno.exit` runs their
 * unload hook.
 *
 * @example
 * ```ts ignore
 * const release = resumeOnInterrupt(["train", "fixtures/train/dis_tiny.yaml", "--out", "runs/x", "--resume"]);
 * try {
 *   await work();
 * } finally {
 *   release();
 * }
 * ```
 */
export function resumeOnInterrupt(
  args: readonly string[],
  beforeExit?: () => void,
  children?: Children,
): () => void {
  // Windows delivers SIGINT (and SIGBREAK) only.
  const signals: ("SIGINT" | "SIGTERM")[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (children && children.running > 0) {
        children.stop(signal);
        return;
      }
      beforeExit?.();
      printErr(interruptMessage(signal, args));
      Deno.exit(signalExitCode(signal));
    };
    Deno.addSignalListener(signal, handler);
    return { signal, handler };
  });
  return () => {
    for (const { signal, handler } of handlers) Deno.removeSignalListener(signal, handler);
  };
}

/**
 * The line that says a run accumulates gradients (or null when it runs the full batch in one pass as
 * the config left it): the micro-batch, the passes per step and why.
 */
export function microBatchLine(c: MicroBatchChoice): string | null {
  if (c.source === "auto" && c.passes === 1) return null;
  return `micro-batch ${c.microBatch} of batch ${c.batch} (${c.passes} forward/backward passes per optimiser step, ` +
    `one update): ${c.reason}`;
}
