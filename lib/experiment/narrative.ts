/**
 * The "what this shows" text of a report, generated from the numbers: fixed phrasing and fixed number
 * formats, so the same results give the same sentences (report.md stays byte-stable). Each helper
 * returns one sentence or phrase; experiments put them together.
 *
 * @module
 */
import type { ProfileName } from "./config.ts";

/**
 * A fraction as a percentage with fixed decimals; null as "n/a".
 *
 * @example
 * ```ts
 * import { pct } from "./narrative.ts";
 * pct(0.6912); // "69.1%"
 * ```
 */
export function pct(x: number | null | undefined, decimals = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  const s = (x * 100).toFixed(decimals);
  return `${/^-0(\.0*)?$/.test(s) ? s.slice(1) : s}%`;
}

/**
 * The difference of two fractions in percentage points, signed: "+3.5 points".
 *
 * @example
 * ```ts
 * import { points } from "./narrative.ts";
 * points(0.5, 0.465); // "+3.5 points"
 * ```
 */
export function points(a: number, b: number, decimals = 1): string {
  const d = (a - b) * 100;
  const s = Math.abs(d).toFixed(decimals);
  if (Number(s) === 0) return `±${s} points`;
  return `${d > 0 ? "+" : "−"}${s} points`;
}

/**
 * A ratio as "18.7×" (one decimal), or "n/a" when the divisor is 0.
 *
 * @example
 * ```ts
 * import { ratio } from "./narrative.ts";
 * ratio(336, 18); // "18.7×"
 * ```
 */
export function ratio(a: number, b: number): string {
  if (b === 0 || !Number.isFinite(a / b)) return "n/a";
  return `${(a / b).toFixed(1)}×`;
}

/**
 * One sentence comparing two results on a metric: who is ahead and by how much, or a tie.
 *
 * @example
 * ```ts
 * import { compareSentence } from "./narrative.ts";
 * compareSentence({ name: "DIS", value: 0.5 }, { name: "TRM", value: 0.25 }, "exact accuracy");
 * // "DIS reaches 50.0% exact accuracy against 25.0% for TRM (+25.0 points)."
 * ```
 */
export function compareSentence(
  a: { name: string; value: number | null },
  b: { name: string; value: number | null },
  metric: string,
): string {
  if (a.value === null || b.value === null) {
    const missing = [a, b].filter((x) => x.value === null).map((x) => x.name).join(" and ");
    return `No ${metric} to compare for ${missing}.`;
  }
  if (pct(a.value) === pct(b.value)) return `${a.name} and ${b.name} reach the same ${metric}, ${pct(a.value)}.`;
  const [hi, lo] = a.value > b.value ? [a, b] : [b, a];
  return `${hi.name} reaches ${pct(hi.value)} ${metric} against ${pct(lo.value)} for ${lo.name} ` +
    `(${points(hi.value!, lo.value!)}).`;
}

/**
 * Where a number stands against the paper's: "against the paper's 69.0%, 12.0 points below".
 *
 * @example
 * ```ts
 * import { paperGap } from "./narrative.ts";
 * paperGap(0.57, 0.69); // "12.0 points below the paper's 69.0%"
 * ```
 */
export function paperGap(ours: number | null, paper: number): string {
  if (ours === null) return `no value to set beside the paper's ${pct(paper)}`;
  const d = (ours - paper) * 100;
  const s = Math.abs(d).toFixed(1);
  if (Number(s) === 0) return `the paper's ${pct(paper)}`;
  return `${s} points ${d > 0 ? "above" : "below"} the paper's ${pct(paper)}`;
}

/**
 * The sentence that states what a profile's numbers are worth; reduced profiles say plainly that they
 * are not the paper's numbers.
 *
 * @example
 * ```ts
 * import { profileCaveat } from "./narrative.ts";
 * profileCaveat("smoke").startsWith("Smoke profile"); // true
 * ```
 */
export function profileCaveat(profile: ProfileName): string {
  switch (profile) {
    case "smoke":
      return "Smoke profile: a tiny model trained for a few steps on a sliver of the data, to check that the whole " +
        "pipeline runs; its numbers say nothing about the methods and are not the paper's.";
    case "small":
      return "Small profile: reduced models, data and training budgets that fit a CPU; the comparison between rows " +
        "is indicative, and none of these numbers is the paper's. The paper's values are quoted beside them.";
    case "long":
      return "Long profile: the small profile's models trained until their validation curves flatten (hours on a " +
        "CPU); still reduced models and budgets, so none of these numbers is the paper's. The paper's values are " +
        "quoted beside them.";
    case "paper":
      return "Paper profile: the paper's settings (where the paper is silent, the released code's; each row says " +
        "which preset it uses).";
  }
}

/** The fixed sentence that links the timing file (kept out of the report, which must stay byte-stable). */
export const TIMING_SENTENCE: string =
  "Training speed (samples/s), wall time and the backend are in [timing.md](timing.md) and run.json: they change " +
  "from run to run, so this report leaves them out and stays byte-identical for the same seed and backend.";
