/**
 * The logging window of the training loop: an on-device sum of each optimiser step's raw statistics,
 * read back once per `log_interval` steps. The readback is also the non-finite check of the window's
 * steps (see loop.ts).
 *
 * @module
 */
import { type Tensor, tf } from "../backend/mod.ts";
import type { StepResult } from "../method/mod.ts";
import type { MetricRecord } from "../report/mod.ts";
import { NonFiniteError } from "./grad.ts";

/** Names whose window value is a per-step quantity (averaged over steps); the rest are per-sample means. */
const PER_STEP = new Set(["loss", "lm_loss", "q_halt_loss", "grad_norm", "step_target_accuracy"]);

/** The checkpoint key of an open window's sum. */
export const WINDOW_KEY = "loop.window";

/** The statistics of the steps since the last log, summed on the device. */
export class MetricWindow {
  #sum: Tensor | null = null;
  #names: readonly string[] = [];
  #normalise: (raw: number[]) => number[] = (r) => r;
  /** Steps summed since the last log. */
  steps: number;
  /** Seconds of those steps, the current one excluded. */
  seconds = 0;

  /** A window holding `steps` steps whose sum is `saved` (a resumed run), or an empty one. */
  constructor(steps = 0, saved: Float32Array | null = null) {
    this.steps = steps;
    if (saved) this.#sum = tf.tensor1d(Float32Array.from(saved));
  }

  /** Whether any step is summed and not yet read. */
  get open(): boolean {
    return this.#sum !== null;
  }

  /** Adds one step's statistics (does not dispose `result`). */
  add(result: StepResult): void {
    const prev = this.#sum;
    this.#sum = prev ? tf.tidy(() => tf.add(prev, result.stats)) : result.stats.clone();
    prev?.dispose();
    this.#names = result.names;
    this.#normalise = result.normalise;
    this.steps += 1;
  }

  /** The open sum, for a checkpoint, or null. */
  async saved(): Promise<Float32Array | null> {
    return this.#sum ? Float32Array.from(await this.#sum.data()) : null;
  }

  /**
   * Reads the window back as means (module doc of loop.ts) and closes it. A non-finite value appends
   * the window's record through `append`, then throws NonFiniteError naming the steps.
   */
  async read(step: number, append: (r: MetricRecord) => Promise<void>): Promise<Record<string, number | null>> {
    const raw = Array.from(await this.#sum!.data());
    const names = this.#names;
    const vals = this.#normalise(raw);
    const out: Record<string, number | null> = {};
    const finished = raw[names.indexOf("count")];
    names.forEach((n, i) => {
      // Means over finished samples are undefined in a window where none finished (DIS: 5 of 6 steps).
      if (PER_STEP.has(n)) out[n] = vals[i] / this.steps;
      else out[n] = n === "count" || finished > 0 ? vals[i] : null;
    });
    const bad = names.filter((_, i) => !Number.isFinite(raw[i]));
    if (bad.length > 0) {
      const first = step - this.steps + 1;
      await append({ kind: "train", step, ...out, window: this.steps });
      throw new NonFiniteError(step, bad.map((n) => `${n} (steps ${first}..${step})`));
    }
    return out;
  }

  /** Empties the window after a log. */
  reset(): void {
    this.#sum?.dispose();
    this.#sum = null;
    this.steps = 0;
    this.seconds = 0;
  }

  dispose(): void {
    this.#sum?.dispose();
    this.#sum = null;
  }
}
