/**
 * `metrics.jsonl`: one JSON object per line, each with an integer `step`. The whole file is rewritten
 * atomically at every flush, so a killed run leaves the last flushed version intact, never a torn line;
 * on resume the log is loaded and truncated to the checkpoint's step so no step appears twice.
 *
 * @module
 */
import { writeTextAtomic } from "../io/mod.ts";
import { stableJson } from "./stable_json.ts";

/** One metrics record: `step` plus flat named values. */
export type MetricRecord = { step: number } & Record<string, number | string | boolean | null>;

/**
 * An in-memory metrics log backed by a file.
 *
 * @example
 * ```ts
 * import { MetricsLog } from "./metrics.ts";
 * const log = new MetricsLog(await Deno.makeTempFile());
 * log.append({ step: 1, loss: 0.5 });
 * await log.flush();
 * ```
 */
export class MetricsLog {
  /** The metrics.jsonl file it writes. */
  readonly path: string;
  #lines: string[] = [];
  #steps: number[] = [];

  /** Starts an empty log; nothing is written until {@linkcode MetricsLog.flush}. */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Loads an existing log. A missing file gives an empty log; a malformed line is an error naming
   * the file and line.
   */
  static async load(path: string): Promise<MetricsLog> {
    const log = new MetricsLog(path);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return log;
      throw new Error(`Cannot load metrics "${path}": ${(e as Error).message}`, { cause: e });
    }
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    lines.forEach((line, i) => {
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (e) {
        throw new Error(`Cannot load metrics "${path}": line ${i + 1} is not valid JSON`, { cause: e });
      }
      const step = (rec as { step?: unknown } | null)?.step;
      if (typeof rec !== "object" || rec === null || Array.isArray(rec) || !isStep(step)) {
        throw new Error(`Cannot load metrics "${path}": line ${i + 1} is not an object with an integer "step"`);
      }
      log.#lines.push(line);
      log.#steps.push(step);
    });
    return log;
  }

  /** Number of records. */
  get length(): number {
    return this.#lines.length;
  }

  /** The step of the last record, or -1 when empty. */
  get lastStep(): number {
    return this.#steps.at(-1) ?? -1;
  }

  /** The records, parsed. */
  records(): MetricRecord[] {
    return this.#lines.map((l) => JSON.parse(l));
  }

  /**
   * Adds a record. Numbers follow the results rule (6 significant digits); NaN and ±Infinity are
   * kept as strings so a diverged loss is visible rather than fatal.
   */
  append(record: MetricRecord): void {
    if (!isStep(record.step)) {
      throw new RangeError(`Cannot append to metrics "${this.path}": step must be a non-negative integer`);
    }
    for (const [k, v] of Object.entries(record)) {
      if (v !== null && typeof v === "object") {
        throw new TypeError(`Cannot append to metrics "${this.path}": "${k}" is an object, expected a flat value`);
      }
    }
    this.#lines.push(stableJson(record, { nonFinite: "string", pretty: false }));
    this.#steps.push(record.step);
  }

  /** Drops every record with a step after `step` (for resuming from a checkpoint at `step`). */
  truncateTo(step: number): void {
    const keep = this.#steps.map((s, i) => (s <= step ? i : -1)).filter((i) => i >= 0);
    this.#lines = keep.map((i) => this.#lines[i]);
    this.#steps = keep.map((i) => this.#steps[i]);
  }

  /** Rewrites the file atomically with every record. */
  async flush(): Promise<void> {
    await writeTextAtomic(this.path, this.#lines.map((l) => l + "\n").join(""));
  }
}

function isStep(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
