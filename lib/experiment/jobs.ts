/**
 * A small process pool: runs one subprocess per item, at most `jobs` at a time, and hands every line
 * each child writes to a callback (the CLI prefixes it with the item and prints it). Once a child
 * fails, no new child starts; those already running are left to finish, so their rows end at a clean
 * checkpoint.
 *
 * A {@linkcode JobControl} passed in stops the pool from outside (the CLI calls it on SIGINT or SIGTERM):
 * no new child starts, the running ones get the same signal, any still alive after a grace period get
 * SIGKILL, and {@linkcode runJobs} then throws an InterruptedError once every child has exited. A killed
 * child loses at most the steps since its last checkpoint, which is written atomically, so its row resumes.
 *
 * @module
 */
import { InterruptedError } from "../errors.ts";

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

/** Seconds a stopped child has to exit before it gets SIGKILL. */
export const STOP_GRACE_SECONDS = 10;

/**
 * The running children of {@linkcode runJobs}, and the way to stop them from outside.
 *
 * @example
 * ```ts
 * import { JobControl, runJobs } from "./jobs.ts";
 * const control = new JobControl();
 * const done = runJobs(["a"], {
 *   jobs: 1,
 *   control,
 *   command: () => ({ command: Deno.execPath(), args: ["eval", "setTimeout(() => {}, 60_000)"] }),
 * }).catch((e) => e.name);
 * setTimeout(() => control.stop("SIGTERM"), 500);
 * await done; // "InterruptedError"
 * ```
 */
export class JobControl {
  readonly #running = new Map<string, Deno.ChildProcess>();
  #stopping: "SIGINT" | "SIGTERM" | null = null;
  #killTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #graceMs: number;

  /** `graceSeconds`: how long a stopped child has before SIGKILL (default {@linkcode STOP_GRACE_SECONDS}). */
  constructor(graceSeconds: number = STOP_GRACE_SECONDS) {
    this.#graceMs = graceSeconds * 1000;
  }

  /** Children running now. */
  get running(): number {
    return this.#running.size;
  }

  /** The signal {@linkcode JobControl.stop} was called with, or null. */
  get stopping(): "SIGINT" | "SIGTERM" | null {
    return this.#stopping;
  }

  /**
   * Starts no new child and sends `signal` to the running ones; those alive after the grace period get
   * SIGKILL. A second call sends SIGKILL at once.
   */
  stop(signal: "SIGINT" | "SIGTERM"): void {
    if (this.#stopping !== null) {
      this.#killAll();
      return;
    }
    this.#stopping = signal;
    for (const child of this.#running.values()) kill(child, signal);
    if (this.#running.size > 0) this.#killTimer = setTimeout(() => this.#killAll(), this.#graceMs);
  }

  #killAll(): void {
    for (const child of this.#running.values()) kill(child, "SIGKILL");
  }

  /** @internal */
  add(id: string, child: Deno.ChildProcess): void {
    this.#running.set(id, child);
    if (this.#stopping !== null) kill(child, this.#stopping);
  }

  /** @internal */
  remove(id: string): void {
    this.#running.delete(id);
    if (this.#running.size === 0 && this.#killTimer !== null) {
      clearTimeout(this.#killTimer);
      this.#killTimer = null;
    }
  }
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch (e) {
    // It exited between the check and the kill.
    if (!(e instanceof TypeError) && !(e instanceof Deno.errors.NotFound)) throw e;
  }
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
  /** Stops the children from outside (see the module doc). */
  control?: JobControl;
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
 * Throws an InterruptedError, after every child has exited, when `control` was stopped.
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
  const control = opts.control;
  const worker = async () => {
    while (!failed && control?.stopping == null && next < ids.length) {
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
      control?.add(id, child);
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
      control?.remove(id);
      results[i].code = status.code;
      if (status.code !== 0) failed = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, ids.length) }, worker));
  const signal = control?.stopping;
  if (signal) {
    const stopped = results.filter((r) => r.code !== null).map((r) => r.id);
    throw new InterruptedError(signal, `Stopped by ${signal}: ${stopped.join(", ") || "no job had started"}`);
  }
  return results;
}
