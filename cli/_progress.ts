/**
 * Renders lib's progress callbacks on stderr: a progress bar (npm `cli-progress`) on a terminal, and
 * otherwise plain lines, one every `intervalMs` or each time another `everyPercent` is done, plus a final
 * one, so logs of long runs stay short and readable.
 *
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";
import type { Progress, ProgressFn } from "../lib/report/mod.ts";

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Shown before the numbers; a report's own `label` wins. */
  label?: string;
  /** Draw a bar (default: when stderr is a terminal). */
  interactive?: boolean;
  /** Plain mode: most time between two lines (default 10 s). */
  intervalMs?: number;
  /** Plain mode: also a line each time this many more percent are done (default 10). */
  everyPercent?: number;
  /** Plain mode: where lines go (default: stderr). */
  write?: (line: string) => void;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** A progress renderer: pass `update` to lib code, call `stop()` when the work ends. */
export interface ProgressReporter {
  readonly update: ProgressFn;
  stop(): void;
}

function fieldText(fields: Progress["fields"]): string {
  if (!fields) return "";
  return Object.entries(fields).map(([k, v]) =>
    `${k}=${typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`
  ).join(" ");
}

/**
 * A duration as `3d04h`, `1h02m`, `4m35s` or `12s`: the largest unit and the next, rounded once (so never
 * `1h60m`), days from 48 hours on.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./_progress.ts";
 * formatDuration(275); // "4m35s"
 * formatDuration(3599.6); // "1h00m"
 * formatDuration(400 * 3600); // "16d16h"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const m = Math.round(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
  const h = Math.round(s / 3600);
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** The time left at `rate` units per second, with {@linkcode formatDuration}; "0s" when done. */
function etaText(p: Progress, rate: number): string {
  if (p.total > 0 && p.done >= p.total) return "0s";
  return formatDuration((p.total - p.done) / rate);
}

function rateText(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return "?";
  return rate >= 100 ? rate.toFixed(0) : rate >= 1 ? rate.toFixed(2) : rate.toPrecision(2);
}

/**
 * One plain progress line: `train 120/1000 (12%) 3.20 it/s ETA 4m35s loss=0.123`.
 *
 * @example
 * ```ts
 * import { progressLine } from "./_progress.ts";
 * progressLine({ done: 120, total: 1000, fields: { loss: 0.1234567 } }, "train", 3.2);
 * // "train 120/1000 (12%) 3.20 it/s ETA 4m35s loss=0.1235"
 * ```
 */
export function progressLine(p: Progress, label: string, rate: number): string {
  const parts = [p.label ?? label];
  if (p.total > 0) {
    parts.push(`${p.done}/${p.total} (${Math.floor((100 * p.done) / p.total)}%)`, `${rateText(rate)} it/s`);
    parts.push(`ETA ${etaText(p, rate)}`);
  } else {
    parts.push(String(p.done), `${rateText(rate)} it/s`);
  }
  const f = fieldText(p.fields);
  if (f) parts.push(f);
  return parts.filter((x) => x !== "").join(" ");
}

/**
 * A progress reporter for the current stderr.
 *
 * @example
 * ```ts
 * import { createProgress } from "./_progress.ts";
 * const lines: string[] = [];
 * const progress = createProgress({ label: "eval", interactive: false, write: (l) => lines.push(l) });
 * for (let i = 1; i <= 4; i++) progress.update({ done: i, total: 4 });
 * progress.stop();
 * ```
 */
export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const label = options.label ?? "";
  const now = options.now ?? (() => performance.now());
  const interactive = options.interactive ?? Deno.stderr.isTerminal();
  let start = NaN;
  let startDone = 0;
  const rateOf = (p: Progress) => {
    const secs = (now() - start) / 1000;
    return secs > 0 ? (p.done - startDone) / secs : NaN;
  };

  if (interactive) {
    const bar = new cliProgress.SingleBar({
      stream: process.stderr,
      // Not cli-progress's {eta_formatted}, which prints "1h60m" and "NFs": the project's formatter, as in plain mode.
      format: "{label} [{bar}] {percentage}% | {value}/{total} | {rate} it/s | ETA {eta} | {fields}",
      hideCursor: true,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(p) {
        const payload = () => ({
          label: p.label ?? label,
          rate: rateText(rateOf(p)),
          eta: p.total > 0 ? etaText(p, rateOf(p)) : "?",
          fields: fieldText(p.fields),
        });
        if (!started) {
          started = true;
          start = now();
          startDone = p.done;
          bar.start(Math.max(p.total, 1), p.done, payload());
        } else {
          if (p.total > 0) bar.setTotal(p.total);
          bar.update(p.done, payload());
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }

  const write = options.write ?? ((line: string) => console.error(line));
  const intervalMs = options.intervalMs ?? 10_000;
  const everyPercent = options.everyPercent ?? 10;
  let lastAt = NaN;
  let lastBucket = -1;
  let last: Progress | null = null;
  let lastWritten: Progress | null = null;
  return {
    update(p) {
      last = p;
      const t = now();
      if (Number.isNaN(start)) {
        start = t;
        startDone = p.done;
        lastAt = t;
        lastBucket = p.total > 0 ? Math.floor((100 * p.done) / p.total / everyPercent) : -1;
        return;
      }
      const bucket = p.total > 0 ? Math.floor((100 * p.done) / p.total / everyPercent) : -1;
      const finished = p.total > 0 && p.done >= p.total;
      if (finished || t - lastAt >= intervalMs || bucket > lastBucket) {
        write(progressLine(p, label, rateOf(p)));
        lastAt = t;
        lastBucket = bucket;
        lastWritten = p;
      }
    },
    stop() {
      if (last !== null && last !== lastWritten) write(progressLine(last, label, rateOf(last)));
    },
  };
}
