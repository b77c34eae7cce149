/**
 * `list`: the experiments in `experiments/` and their profiles.
 *
 * @module
 */
import { Command } from "commander";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { experimentRegistry } from "../lib/experiment/mod.ts";
import { InputError } from "../lib/errors.ts";
import { print } from "./_common.ts";

/** This project's experiments folder. */
export const DEFAULT_EXPERIMENTS_DIR: string = fileURLToPath(new URL("../experiments/", import.meta.url));

function shown(dir: string): string {
  const rel = relative(Deno.cwd(), dir);
  return rel === "" ? "." : rel.startsWith("..") ? dir : rel;
}

/** The `list` command. */
export function makeCommand(): Command {
  return new Command("list")
    .description("list the experiments and their profiles")
    .option("--dir <dir>", "experiments folder (default: this project's experiments/)")
    .action(async (opts: { dir?: string }) => {
      const dir = opts.dir ?? DEFAULT_EXPERIMENTS_DIR;
      let stat: Deno.FileInfo | null = null;
      try {
        stat = await Deno.stat(dir);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (stat === null) {
        if (opts.dir !== undefined) throw new InputError(`Cannot list experiments: folder "${dir}" does not exist`);
        print(`No experiments yet: ${shown(dir)}/ does not exist.`);
        return;
      }
      if (!stat.isDirectory) throw new InputError(`Cannot list experiments: "${dir}" is not a folder`);
      const entries = await experimentRegistry(dir);
      if (entries.length === 0) {
        print(`No experiments in ${shown(dir)}.`);
        return;
      }
      const width = Math.max(...entries.map((e) => e.name.length));
      print(`Experiments in ${shown(dir)} (run one with: deno task reproduce <name> --profile <profile>):`);
      for (const { name, info } of entries) {
        print(`  ${name.padEnd(width)}  ${info.title}`);
        const profiles = Object.keys(info.profiles);
        const pw = Math.max(0, ...profiles.map((p) => p.length));
        for (const p of profiles) print(`  ${"".padEnd(width)}    ${p.padEnd(pw)}  ${info.profiles[p]}`);
      }
    });
}
