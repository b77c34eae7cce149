/**
 * A run folder: every file a run leaves, each written atomically.
 *
 * ```
 * <dir>/config.yaml     the resolved config (written when the run opens)
 * <dir>/metrics.jsonl   one record per logged step
 * <dir>/results.json    byte-stable results with config and data hashes
 * <dir>/report.md       generated from the results
 * <dir>/*.svg           plots embedded in report.md
 * <dir>/run.json        provenance: the only file with volatile facts
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type { BackendInfo } from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";
import { writeTextAtomic } from "../io/mod.ts";
import { MetricsLog } from "./metrics.ts";
import { collectProvenance, type Provenance } from "./provenance.ts";
import { stableJson } from "./stable_json.ts";

/** Format version of results.json; bump it when its layout changes. */
export const RESULTS_FORMAT = 1;

/** What results.json holds. */
export interface ResultsDoc {
  /** The experiment's name, or `train` for a single training run. */
  experiment: string;
  /** The profile the numbers come from, when there is one. */
  profile?: string;
  /** SHA-256 (hex) of the resolved config's canonical JSON: `configHash` from lib/config. */
  configHash: string;
  /** SHA-256 (hex) of the data the run used, computed by the caller. */
  dataHash: string;
  /** The command's numbers: a plain JSON object (typed by the writer, e.g. lib/train's RunResults). */
  results: object;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The text of results.json: the byte-stable rule of {@linkcode stableJson} plus a final newline.
 *
 * @example
 * ```ts
 * import { resultsJson } from "./run.ts";
 * const h = "0".repeat(64);
 * resultsJson({ experiment: "x", configHash: h, dataHash: h, results: { acc: 2 / 3 } }).includes('"acc": 0.666667'); // true
 * ```
 */
export function resultsJson(doc: ResultsDoc): string {
  for (const [name, h] of [["configHash", doc.configHash], ["dataHash", doc.dataHash]] as const) {
    if (!HEX64.test(h)) {
      throw new TypeError(`Cannot write results for "${doc.experiment}": ${name} must be 64 lowercase hex digits`);
    }
  }
  const body: Record<string, unknown> = {
    format: RESULTS_FORMAT,
    experiment: doc.experiment,
    hashes: { config_sha256: doc.configHash, data_sha256: doc.dataHash },
    results: doc.results,
  };
  if (doc.profile !== undefined) body.profile = doc.profile;
  return stableJson(body) + "\n";
}

/** Options of {@linkcode RunFolder.open}. */
export interface RunOptions {
  /**
   * The resolved config (from lib/config's `loadConfig`), written as config.yaml. `matches` says whether
   * an earlier config.yaml of a resumed run is the same config (default: the same text).
   */
  config?: { resolvedYaml: string; matches?: (previous: string) => boolean };
  /** The command line, for provenance. */
  command: readonly string[];
  /** The run's master seed, for provenance. */
  masterSeed?: number | null;
  /** The backend in use, for provenance. */
  backend?: BackendInfo | null;
  /**
   * Continue an earlier run in the same folder: keep its metrics (truncate them with
   * `metrics.truncateTo(step)`) and refuse a config that differs from its config.yaml.
   * Without it, the metrics log starts empty.
   */
  resume?: boolean;
  /**
   * When the work this folder records began (default: when the folder is opened). An experiment opens its
   * folder after its rows have trained, so it passes its own start here for run.json's wall time.
   */
  started?: Date;
}

/**
 * The output folder of one run.
 *
 * @example
 * ```ts
 * import { RunFolder } from "./run.ts";
 * const run = await RunFolder.open(await Deno.makeTempDir(), { command: ["demo"], masterSeed: 0 });
 * run.metrics.append({ step: 0, loss: 1 });
 * await run.metrics.flush();
 * await run.writeProvenance();
 * ```
 */
export class RunFolder {
  /** The run folder. */
  readonly dir: string;
  /** The folder's metrics.jsonl. */
  readonly metrics: MetricsLog;
  /** When the work this folder records began (`options.started`, default when it was opened). */
  readonly started: Date;
  readonly #options: RunOptions;

  private constructor(dir: string, metrics: MetricsLog, options: RunOptions) {
    this.dir = dir;
    this.metrics = metrics;
    this.started = options.started ?? new Date();
    this.#options = options;
  }

  /** Opens (creating) a run folder and writes config.yaml. */
  static async open(dir: string, options: RunOptions): Promise<RunFolder> {
    await Deno.mkdir(dir, { recursive: true });
    const configPath = join(dir, "config.yaml");
    if (options.resume && options.config) {
      let previous: string | null = null;
      try {
        previous = await Deno.readTextFile(configPath);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const same = (t: string) => t === options.config!.resolvedYaml || (options.config!.matches?.(t) ?? false);
      if (previous !== null && !same(previous)) {
        throw new CheckpointError(
          `Cannot resume run "${dir}": its config.yaml differs from the config being run ` +
            "(start a fresh run in another --out folder, or run with the same config)",
        );
      }
    }
    if (options.config) await writeTextAtomic(configPath, options.config.resolvedYaml);
    const metricsPath = join(dir, "metrics.jsonl");
    const metrics = options.resume ? await MetricsLog.load(metricsPath) : new MetricsLog(metricsPath);
    if (!options.resume) await metrics.flush();
    return new RunFolder(dir, metrics, options);
  }

  /** A path inside the folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes results.json and returns its text. */
  async writeResults(doc: ResultsDoc): Promise<string> {
    const text = resultsJson(doc);
    await writeTextAtomic(this.path("results.json"), text);
    return text;
  }

  /** Writes report.md. */
  async writeReport(markdown: string): Promise<void> {
    await writeTextAtomic(this.path("report.md"), markdown.endsWith("\n") ? markdown : markdown + "\n");
  }

  /** Writes a plot (SVG text) under `file`, a plain file name such as `accuracy.svg`. */
  async writePlot(file: string, svg: string): Promise<void> {
    if (!/^[\w.-]+\.svg$/.test(file)) {
      throw new RangeError(`Cannot write plot "${file}": expected a plain file name ending in .svg`);
    }
    await writeTextAtomic(this.path(file), svg);
  }

  /** Writes run.json (provenance, with the wall time from opening until now) and returns it. */
  async writeProvenance(extra: Record<string, unknown> = {}): Promise<Provenance> {
    const prov = await collectProvenance({
      command: this.#options.command,
      started: this.started,
      finished: new Date(),
      backend: this.#options.backend ?? null,
      masterSeed: this.#options.masterSeed ?? null,
      extra,
    });
    await writeTextAtomic(this.path("run.json"), JSON.stringify(prov, null, 2) + "\n");
    return prov;
  }
}
