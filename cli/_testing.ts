/**
 * Test helper: the CLI for real, as a subprocess (`deno run -q -A mod.ts ...` in the repository root, colour
 * off), with its exit code, stdout and stderr, for the tests that pin what a user sees.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root, where the subprocess runs. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** A finished CLI run: its exit code and what it printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode cliCommand}. */
export interface CliOptions {
  /** Variables of this process's environment that the subprocess must not see. */
  unset?: readonly string[];
}

/**
 * The CLI subprocess for `args`, not yet started: `.output()` runs it to the end, `.spawn()` starts it (to
 * kill it, say). It gets this process's environment (variables such as OPENBLAS_CORETYPE change OpenBLAS's
 * kernels and with them the last bits) less `unset`, plus `NO_COLOR=1`; `-q` keeps Deno's own download and
 * lifecycle-script notices out of stderr.
 *
 * @example
 * ```ts ignore
 * const child = cliCommand(["train", "fixtures/train/dis_tiny.yaml", "--out", dir]).spawn();
 * ```
 */
export function cliCommand(args: readonly string[], opts: CliOptions = {}): Deno.Command {
  const env = Deno.env.toObject();
  for (const name of opts.unset ?? []) delete env[name];
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "mod.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
}

/** The exit code and decoded output of a finished subprocess. */
export function cliResult(out: Deno.CommandOutput): CliResult {
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs `trm-dis ...args` to the end.
 *
 * @example
 * ```ts ignore
 * const r = await cli("bench", "--help");
 * r.code; // 0
 * ```
 */
export async function cli(...args: string[]): Promise<CliResult> {
  return cliResult(await cliCommand(args).output());
}
