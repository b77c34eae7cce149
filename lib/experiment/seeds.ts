/**
 * Seeds as one command (`reproduce NAME --seeds 0,1,2`): each seed runs the whole experiment into its own
 * folder `OUT/seed-<N>/` (an ordinary experiment folder, resumable on its own), and this module gathers
 * their headline figures into `OUT/seeds.json`, `OUT/seeds.md` and `OUT/seeds.svg`: every seed's value,
 * the mean, the sample standard deviation and the range, beside the paper's value.
 *
 * The files are byte-stable: they depend only on the seeds' results.json, never on times or paths.
 *
 * @module
 */
import { join } from "node:path";
import { writeTextAtomic } from "../io/mod.ts";
import { barChartSvg, renderReport, stableJson } from "../report/mod.ts";
import { InputError } from "../errors.ts";
import type { ExperimentSpec, Headline } from "./spec.ts";

/** The folder of one seed under the `--seeds` folder. */
export function seedDir(out: string, seed: number): string {
  return join(out, `seed-${seed}`);
}

/**
 * Parses `--seeds`: a comma-separated list of distinct non-negative integers, or a range `A-B`.
 *
 * @example
 * ```ts
 * import { parseSeeds } from "./seeds.ts";
 * parseSeeds("0,1,2"); // [0, 1, 2]
 * parseSeeds("3-5"); // [3, 4, 5]
 * ```
 */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a || b - a > 1000) {
        throw new InputError(`Cannot use --seeds "${text}": range "${part}" is not A-B with A <= B`);
      }
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^\d+$/.test(part) && Number.isSafeInteger(Number(part))) {
      out.push(Number(part));
    } else {
      throw new InputError(`Cannot use --seeds "${text}": "${part}" is not a non-negative integer or a range A-B`);
    }
  }
  if (out.length === 0) throw new InputError(`Cannot use --seeds "${text}": expected at least one seed`);
  if (new Set(out).size !== out.length) throw new InputError(`Cannot use --seeds "${text}": a seed appears twice`);
  return out;
}

/** Mean, sample standard deviation (n - 1; null for one value) and range of the values present. */
export function spread(values: readonly (number | null)[]): {
  n: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
} {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { n: 0, mean: null, std: null, min: null, max: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { n: xs.length, mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

/** One seed's finished experiment: its seed and the `results` object of its results.json. */
export interface SeedResult {
  /** The master seed the experiment ran with. */
  seed: number;
  /** The `results` object of that seed's results.json. */
  results: Record<string, unknown>;
}

/** What {@linkcode writeSeedSummary} wrote. */
export interface SeedSummary {
  /** The seeds.json text (byte-stable). */
  json: string;
  /** The seeds.md text. */
  markdown: string;
  /**
   * Per headline figure: its key and label, the paper's value, and each seed's value in the order of the seeds given.
   */
  headlines: { key: string; label: string; paper: number | null; values: (number | null)[] }[];
}

/**
 * Gathers the seeds' headline figures (the experiment's `headline`) and writes seeds.json, seeds.md and
 * seeds.svg into `out`.
 *
 * @example
 * ```ts ignore
 * await writeSeedSummary(spec, "runs/nqueens/small", "small", [{ seed: 0, results }, { seed: 1, results: r1 }]);
 * ```
 */
export async function writeSeedSummary(
  spec: ExperimentSpec,
  out: string,
  profile: string,
  seeds: readonly SeedResult[],
): Promise<SeedSummary> {
  if (!spec.headline) throw new InputError(`Cannot summarise seeds of "${spec.name}": it declares no headline figures`);
  const per = seeds.map((s) => ({ seed: s.seed, figures: spec.headline!(s.results) }));
  const keys: Headline[] = [];
  for (const p of per) for (const h of p.figures) if (!keys.some((k) => k.key === h.key)) keys.push(h);
  const headlines = keys.map((k) => ({
    key: k.key,
    label: k.label,
    paper: k.paper,
    values: per.map((p) => p.figures.find((h) => h.key === k.key)?.value ?? null),
  }));
  const rows = headlines.map((h) => {
    const s = spread(h.values);
    const row: Record<string, unknown> = {
      figure: h.label,
      mean: s.mean,
      std: s.std,
      min: s.min,
      max: s.max,
      paper: h.paper,
    };
    per.forEach((p, i) => (row[`seed_${p.seed}`] = h.values[i]));
    return row;
  });
  const results = {
    experiment: spec.name,
    profile,
    seeds: seeds.map((s) => s.seed),
    figures: Object.fromEntries(headlines.map((h) => [h.key, {
      label: h.label,
      paper: h.paper,
      per_seed: Object.fromEntries(per.map((p, i) => [String(p.seed), h.values[i]])),
      ...spread(h.values),
    }])),
  };
  const json = stableJson({ results });
  const pctCol = (key: string, header?: string) => ({ key, header, format: { percent: 1 } as const });
  const columns = [
    { key: "figure" },
    ...per.map((p) => pctCol(`seed_${p.seed}`, `seed ${p.seed}`)),
    pctCol("mean"),
    { key: "std", header: "std (n − 1)", format: { percent: 1 } as const },
    pctCol("min"),
    pctCol("max"),
    pctCol("paper", "paper"),
  ];
  const markdown = renderReport({
    title: `${spec.info.title}: ${seeds.length} seeds`,
    profile,
    summary: [
      `Each seed is a whole run of the experiment in \`seed-<N>/\` (its own report.md); this page gathers their ` +
      `headline figures. std is the sample standard deviation over the ${seeds.length} seeds; the paper's value ` +
      "sits in its own column.",
    ],
    sections: [{
      heading: "Headline figures by seed",
      table: { columns, rows },
      plots: [{ title: "Headline figures by seed", file: "seeds.svg" }],
    }],
  });
  const svg = await barChartSvg({
    title: `${spec.name} (${profile}): headline figures by seed`,
    xLabel: "figure",
    yLabel: "value",
    categories: headlines.map((h) => h.label),
    series: [
      ...per.map((p, i) => ({ name: `seed ${p.seed}`, values: headlines.map((h) => h.values[i]) })),
      { name: "paper", values: headlines.map((h) => h.paper) },
    ],
  });
  await writeTextAtomic(join(out, "seeds.json"), json);
  await writeTextAtomic(join(out, "seeds.md"), markdown);
  await writeTextAtomic(join(out, "seeds.svg"), svg);
  return { json, markdown, headlines };
}
