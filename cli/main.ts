/**
 * The program: global options and the subcommands. Each subcommand lives in its own file exporting
 * `makeCommand(): Command`; adding one is one line in {@linkcode COMMANDS}.
 *
 * @module
 */
import { Command } from "commander";
import denoJson from "../deno.json" with { type: "json" };
import { runCli } from "./_common.ts";
import * as analyze from "./analyze.ts";
import * as bench from "./bench.ts";
import * as data from "./data.ts";
import * as evalCmd from "./eval.ts";
import * as list from "./list.ts";
import * as reproduce from "./reproduce.ts";
import * as train from "./train.ts";
import * as verify from "./verify.ts";

/** The subcommands, in the order help lists them. */
const COMMANDS: { makeCommand(): Command }[] = [
  data,
  bench,
  list,
  reproduce,
  train,
  evalCmd,
  analyze,
  verify,
];

/** commander's program type, which {@linkcode makeProgram} returns. */
export type { Command } from "commander";

/** Builds the program with every subcommand. */
export function makeProgram(): Command {
  const program = new Command("trm-dis")
    .description(
      'Reproduce "Your Latent Reasoning is Secretly Policy Improvement Operator" (DIS on Tiny Recursive Models).\n' +
        "Run as `deno task cli <command>` or `deno run -A mod.ts <command>`.",
    )
    .version(denoJson.version, "--version", "print the version")
    .option("--verbose", "on a failure, also print the cause chain and stack traces")
    .showSuggestionAfterError(true);
  for (const c of COMMANDS) program.addCommand(c.makeCommand());
  return program;
}

/**
 * Runs the CLI and returns its exit code (0 ok, 1 runtime failure, 2 usage or input error).
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * await main(["--help"]); // 0
 * ```
 */
export async function main(argv: readonly string[] = Deno.args): Promise<number> {
  return await runCli(makeProgram(), argv);
}

if (import.meta.main) Deno.exit(await main());
