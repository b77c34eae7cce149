/**
 * The PyTorch side of the benchmark: finds a Python that can `import torch` and runs
 * tools/reference/bench_ref.py with the same preset and batch in the same run, one unit at a time between
 * ours, so that both sides see the same load on a shared machine.
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { fileURLToPath } from "node:url";
import { median } from "./measure.ts";
import { type BenchSpec, referenceConfig } from "./presets.ts";

/** The reference script. */
export const BENCH_REF_SCRIPT: string = fileURLToPath(new URL("../../tools/reference/bench_ref.py", import.meta.url));

/** A Python with torch, or why there is none. */
export type TorchPython = { python: string; torch: string } | { python: null; reason: string };

/** The reference's figures (medians of its units). */
export interface ReferenceResult {
  /** The Python interpreter that ran the reference. */
  python: string;
  /** torch's version string. */
  torch: string;
  /** CPU threads torch was given. */
  threads: number;
  /** "cpu" or "cuda". */
  device: string;
  /** Median time of one training unit, milliseconds. */
  trainStepMs: number;
  /** Training throughput, samples per second. */
  trainSamplesPerS: number;
  /** Null when inference was not measured. */
  inferSamplesPerS: number | null;
}

async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first of `$TRM_DIS_PYTHON`, `python3`, `/usr/bin/python3`, `python` that imports torch. (A pyenv
 * `python3` first on PATH often lacks torch while Debian's /usr/bin/python3 has it.)
 *
 * @example
 * ```ts ignore
 * const p = await findTorchPython();
 * if (p.python) console.log(p.python, p.torch);
 * ```
 */
export async function findTorchPython(): Promise<TorchPython> {
  const named = readEnv("TRM_DIS_PYTHON");
  const candidates = named ? [named] : ["python3", "/usr/bin/python3", "python"];
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const r = await run(python, ["-c", "import torch; print(torch.__version__)"], 60_000);
      if (r.code === 0) return { python, torch: r.stdout.trim() };
      tried.push(`${python}: ${r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`}`);
    } catch (e) {
      tried.push(`${python}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return {
    python: null,
    reason: `no Python with torch (${tried.join("; ")}); install Debian's python3-torch or set TRM_DIS_PYTHON`,
  };
}

/** A running bench_ref.py in `--serve` mode: it times one unit per request, alternating with ours. */
export class ReferenceSession {
  /** Every timed training unit of the reference, milliseconds, in order. */
  readonly trainTimesMs: number[] = [];
  /** Every timed inference call of the reference, milliseconds, in order. */
  readonly inferTimesMs: number[] = [];
  /** Where torch runs: "cpu" or "cuda" (fp32, TF32 off). */
  device = "cpu";
  #child: Deno.ChildProcess;
  #lines: AsyncGenerator<string>;
  #stderr: string[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    readonly python: string,
    readonly torch: string,
    readonly threads: number,
    child: Deno.ChildProcess,
    lines: AsyncGenerator<string>,
    stderr: string[],
  ) {
    this.#child = child;
    this.#lines = lines;
    this.#stderr = stderr;
    this.#writer = child.stdin.getWriter();
  }

  /**
   * Starts bench_ref.py on the preset's exact configuration and waits until its model is built.
   * threads: torch's thread count (the benchmark passes the cores its own BLAS uses).
   */
  static async start(
    python: string,
    spec: BenchSpec,
    opts: { batch: number; threads: number; device?: "cpu" | "cuda" },
  ): Promise<ReferenceSession> {
    const args = [
      BENCH_REF_SCRIPT,
      "--config",
      JSON.stringify(referenceConfig(spec)),
      "--batch",
      String(opts.batch),
      "--threads",
      String(opts.threads),
      "--device",
      opts.device ?? "cpu",
      "--serve",
    ];
    const child = new Deno.Command(python, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    const stderr: string[] = [];
    (async () => {
      for await (const line of readLines(child.stderr)) stderr.push(line);
    })();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    let hello: { ready?: boolean; torch?: string; threads?: number; device?: string } = {};
    try {
      hello = JSON.parse(first.done ? "" : first.value);
    } catch {
      // Reported below with stderr.
    }
    if (!hello.ready) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(
        `Cannot start the PyTorch reference ${BENCH_REF_SCRIPT} with ${python}: no ready line ` +
          `(stderr: ${stderr.slice(-3).join(" | ")})`,
      );
    }
    const s = new ReferenceSession(python, String(hello.torch), Number(hello.threads), child, lines, stderr);
    s.device = String(hello.device ?? "cpu");
    return s;
  }

  /** Runs one unit and returns its time; recorded unless it is a warm-up. */
  async run(unit: "train" | "infer", record = true): Promise<number> {
    await this.#writer.write(new TextEncoder().encode(`${unit}\n`));
    const next = await this.#lines.next();
    let ms = NaN;
    try {
      ms = Number(JSON.parse(next.done ? "" : next.value).ms);
    } catch {
      // Reported below.
    }
    if (!Number.isFinite(ms)) {
      throw new Error(`Cannot time the PyTorch reference's ${unit} unit: ${this.#stderr.slice(-3).join(" | ")}`);
    }
    if (record) (unit === "train" ? this.trainTimesMs : this.inferTimesMs).push(ms);
    return ms;
  }

  /** Medians of the recorded units as samples/s for batch B. */
  summary(batch: number): ReferenceResult {
    const train = median(this.trainTimesMs);
    return {
      python: this.python,
      torch: this.torch,
      threads: this.threads,
      device: this.device,
      trainStepMs: train,
      trainSamplesPerS: batch / (train / 1000),
      inferSamplesPerS: this.inferTimesMs.length ? batch / (median(this.inferTimesMs) / 1000) : null,
    };
  }

  /** Ends the process. */
  async close(): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode("quit\n"));
      await this.#writer.close();
    } catch {
      // It has already exited.
    }
    await this.#child.status;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}
