/**
 * Output of the benchmark: the JSON record (`--json`, one object per measurement) and the table.
 *
 * @module
 */
import type { GpuCounters } from "./gpu_counters.ts";
import type { BenchMeasurement } from "./measure.ts";
import type { KernelProfile } from "./profile.ts";
import type { ReferenceResult } from "./reference.ts";

/** Facts about the run that the CLI adds to each record (backend details, OpenBLAS, date). */
export type RunFacts = Record<string, string | number | boolean | null>;

const round = (x: number | null, digits = 3) => (x === null ? null : Number(x.toFixed(digits)));

/**
 * One measurement as a flat JSON object with snake_case keys: at least `preset`, `backend`, `batch`,
 * `train_samples_per_s`, `infer_samples_per_s` and `peak_rss_bytes`; with a reference, torch's figures and
 * the ratios ours / torch.
 *
 * @example
 * ```ts ignore
 * console.log(JSON.stringify(benchRecord(measurement, reference, { date: "2026-11-30" })));
 * ```
 */
export function benchRecord(
  m: BenchMeasurement,
  ref: ReferenceResult | null,
  facts: RunFacts = {},
  referenceNote?: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    preset: m.preset,
    backend: m.backend,
    batch: m.batch,
    train_unit: m.trainUnit,
    train_unit_ms: round(m.trainUnitMs, 1),
    train_samples_per_s: round(m.trainSamplesPerS),
    infer_ms: round(m.inferMs, 1),
    infer_samples_per_s: round(m.inferSamplesPerS),
    peak_rss_bytes: m.peakRssBytes,
    gpu_peak_bytes: m.gpuPeakBytes,
    train_times_ms: m.trainTimesMs.map((t) => round(t, 1)),
    infer_times_ms: m.inferTimesMs.map((t) => round(t, 1)),
    ...facts,
  };
  if (ref) {
    Object.assign(out, {
      torch_version: ref.torch,
      torch_threads: ref.threads,
      torch_device: ref.device,
      torch_train_unit_ms: ref.trainStepMs,
      torch_train_samples_per_s: ref.trainSamplesPerS,
      torch_infer_samples_per_s: ref.inferSamplesPerS,
      train_ratio: round(m.trainSamplesPerS / ref.trainSamplesPerS),
      infer_ratio: m.inferSamplesPerS === null || ref.inferSamplesPerS === null
        ? null
        : round(m.inferSamplesPerS / ref.inferSamplesPerS),
    });
  } else if (referenceNote) {
    out.reference = referenceNote;
  }
  if (m.gpuTrain) {
    out.dispatches_per_unit = m.gpuTrain.dispatches;
    out.host_ms_per_unit = round(m.gpuTrain.hostMs, 1);
    out.gpu_train = gpuRecord(m.gpuTrain);
  }
  if (m.gpuInfer) out.gpu_infer = gpuRecord(m.gpuInfer);
  if (m.profile) out.profile = m.profile;
  return out;
}

/** The webgpu counters of one unit, snake_case, per unit. */
function gpuRecord(c: GpuCounters): Record<string, unknown> {
  return {
    dispatches_per_unit: c.dispatches,
    host_ms_per_unit: round(c.hostMs, 1),
    host_ms_clock: c.clock,
    submit_ms_per_unit: round(c.submitMs, 1),
    wall_ms_per_unit: round(c.wallMs, 1),
    compute_passes_per_unit: c.computePasses,
    submits_per_unit: c.submits,
    copies_per_unit: c.copies,
    readbacks_per_unit: c.readbacks,
    buffer_creates_per_unit: c.bufferCreates,
    buffer_acquires_per_unit: c.bufferAcquires,
    bind_groups_per_unit: c.bindGroups,
    uploads_per_unit: c.uploads,
    upload_bytes_per_unit: c.uploadBytes,
    pipelines_compiled_per_unit: c.pipelines,
  };
}

const num = (x: number | null, digits = 2) =>
  x === null ? "-" : x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (x: number | null) => (x === null ? "-" : `${(x / 2 ** 20).toFixed(0)} MiB`);

/** Pads columns to their widest cell. */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd()
  )
    .join("\n");
}

/**
 * The human-readable table of one measurement, with the PyTorch row and the ratios when present.
 *
 * @example
 * ```ts ignore
 * console.log(benchTable(measurement, reference));
 * ```
 */
export function benchTable(m: BenchMeasurement, ref: ReferenceResult | null, referenceNote?: string): string {
  const rows = [
    ["", "batch", "train samples/s", "train unit ms", "infer samples/s", "peak RSS", "GPU peak"],
    [
      `ours (${m.backend})`,
      String(m.batch),
      num(m.trainSamplesPerS),
      num(m.trainUnitMs, 0),
      num(m.inferSamplesPerS),
      mib(m.peakRssBytes),
      mib(m.gpuPeakBytes),
    ],
  ];
  if (ref) {
    rows.push([
      ref.device === "cpu"
        ? `torch ${ref.torch} (cpu, ${ref.threads} threads)`
        : `torch ${ref.torch} (${ref.device}, fp32)`,
      String(m.batch),
      num(ref.trainSamplesPerS),
      num(ref.trainStepMs, 0),
      num(ref.inferSamplesPerS),
      "",
      "",
    ]);
    rows.push([
      "ratio ours / torch",
      "",
      `${num(m.trainSamplesPerS / ref.trainSamplesPerS)}x`,
      "",
      m.inferSamplesPerS === null || ref.inferSamplesPerS === null
        ? "-"
        : `${num(m.inferSamplesPerS / ref.inferSamplesPerS)}x`,
      "",
      "",
    ]);
  }
  const lines = [`${m.preset}: train unit = ${m.trainUnit}, median of ${m.trainTimesMs.length}`, columns(rows)];
  if (!ref && referenceNote) lines.push(`PyTorch reference: ${referenceNote}`);
  for (const [what, c] of [["training unit", m.gpuTrain], ["inference", m.gpuInfer]] as const) {
    if (!c) continue;
    lines.push(
      `webgpu ${what}: ${c.dispatches} dispatches, host ${num(c.hostMs, 1)} ms (${c.clock}; ` +
        `${num(c.submitMs, 1)} ms in submit), ${c.submits} submits, ${c.readbacks} readbacks, ` +
        `${c.bufferAcquires} buffers from the pool (${c.bufferCreates} created), ${c.uploads} uploads`,
    );
  }
  if (m.profile) lines.push("", profileTable(m.profile));
  return lines.join("\n");
}

/** The largest kernels of a profile, and the time outside kernels. */
export function profileTable(p: KernelProfile, top = 15): string {
  const rows = [["kernel (own time)", "launches", "ms", "share"]];
  for (const k of p.kernels.slice(0, top)) {
    rows.push([k.name, String(k.count), num(k.ms, 0), `${((100 * k.ms) / p.wallMs).toFixed(1)}%`]);
  }
  const outside = p.wallMs - p.kernelMs;
  rows.push(["(outside kernels)", "", num(outside, 0), `${((100 * outside) / p.wallMs).toFixed(1)}%`]);
  return `profile of one training unit on ${p.backend}: ${num(p.wallMs, 0)} ms, ${p.launches} kernel launches\n` +
    columns(rows);
}
