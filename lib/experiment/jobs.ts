/**
 * A small process pool: runs one subprocess per item, at most `jobs` at a time, and hands every line
 * each child writes to a callback (the CLI prefixes it with the item and prints it). Once a child
 * fails, no new child starts; those already running are left to finish, so their rows end at a clean
 * checkpoint.
 *
 * @module
 */

/** How to start the child for one item. */
export interface JobCommand {
  /** The executable (e.g. `Deno.execPath()`). */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Working directory of the child (default: the parent's). */
  cwd?: string;
}

/** How one child ended. */
export interface JobResult {
  /** The item the child ran. */
  id: string;
  /** Exit code, or null when the child was never started (an earlier one failed). */
  code: number | null;
  /** The child's last stderr lines (for error messages). */
  tail: string[];
}

/** Options of {@linkcode runJobs}. */
export interface JobOptions {
  /** Children at a time (at least 1). */
  jobs: number;
  /** The child to start for item `id`. */
  command(id: string): JobCommand;
  /** Every line a child writes, as it comes. */
  onLine?(id: string, line: string, stream: "stdout" | "stderr"): void;
  /** Lines of stderr kept for {@linkcode JobResult.tail}; default 5. */
  tailLines?: number;
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    // Progress renderers end a line with \r when redrawing; treat it as a line end too.
    const parts = rest.split(/\r?\n|\r/);
    rest = parts.pop() ?? "";
    for (const p of parts) if (p.trim() !== "") onLine(p);
  }
  if (rest.trim() !== "") onLine(rest);
}

/**
 * Runs a child per id, `jobs` at a time, in the order given; returns one result per id, in that order.
 *
 * @example
 * ```ts
 * import { runJobs } from "./jobs.ts";
 * const r = await runJobs(["a", "b"], {
 *   jobs: 2,
 *   command: (id) => ({ command: Deno.execPath(), args: ["eval", `console.log("${id}")`] }),
 * });
 * r.map((x) => x.code); // [0, 0]
 * ```
 */
export async function runJobs(ids: readonly string[], opts: JobOptions): Promise<JobResult[]> {
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new RangeError(`Cannot run jobs: jobs must be >= 1`);
  const keep = opts.tailLines ?? 5;
  const results: JobResult[] = ids.map((id) => ({ id, code: null, tail: [] }));
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < ids.length) {
      const i = next++;
      const id = ids[i];
      const c = opts.command(id);
      const child = new Deno.Command(c.command, {
        args: c.args,
        cwd: c.cwd,
        env: c.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const tail = results[i].tail;
      await Promise.all([
        readLines(child.stdout, (l) => opts.onLine?.(id, l, "stdout")),
        readLines(child.stderr, (l) => {
          tail.push(l);
          if (tail.length > keep) tail.shift();
          opts.onLine?.(id, l, "stderr");
        }),
      ]);
      const status = await child.status;
      results[i].code = status.code;
      if (status.code !== 0) failed = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, ids.length) }, worker));
  return results;
}
