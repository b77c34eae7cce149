/**
 * Proves that lib/ has no ambient randomness: no `Math.random`, no tfjs random ops or random
 * initializers, no crypto randomness. All randomness must come from lib/random's seeded `Rng`.
 *
 * Code is scanned with comments removed, so prose that names a forbidden call is fine. `truncatedNormal`
 * is flagged only on `tf` (`tf.truncatedNormal`), because lib/random's `Rng.truncatedNormal` is the
 * allowed, seeded one.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { stripComments, tsFiles } from "./_source.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /\bMath\s*\.\s*random\b/, what: "Math.random" },
  { pattern: /\brandom(?:Normal|Uniform|UniformInt|Gamma|StandardNormal)\b/, what: "a tfjs random op" },
  { pattern: /\bmultinomial\b/, what: "a tfjs random op (multinomial)" },
  { pattern: /\btf\s*\.\s*truncatedNormal\b/, what: "a tfjs random op (tf.truncatedNormal)" },
  { pattern: /\btf\s*\.\s*(?:dropout|initializers)\b/, what: "tfjs dropout or initializers (unseeded)" },
  { pattern: /\btf\s*\.\s*util\s*\.\s*shuffle\b/, what: "tf.util.shuffle (Math.random)" },
  { pattern: /\b(?:getRandomValues|randomUUID|randomBytes|randomInt)\b/, what: "crypto randomness" },
];

/** Findings as `file:line: what: code`. */
function scanSource(file: string, src: string): string[] {
  const found: string[] = [];
  stripComments(src).split("\n").forEach((line, i) => {
    for (const { pattern, what } of FORBIDDEN) {
      if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
    }
  });
  return found;
}

Deno.test("the scanner flags each kind of ambient randomness with file:line, and not comments or Rng", () => {
  const src = [
    "// Math.random is banned; so is tf.randomNormal",
    "/* tf.multinomial(x)",
    "   Math.random() */",
    "const a = Math.random();",
    "const b = tf.randomUniform([2]);",
    "const c = tf.truncatedNormal([2]);",
    "const d = rng.truncatedNormal(-2, 2);",
    'const url = "https://x//y"; const e = tf.multinomial(l, 1);',
    "const { randomNormal } = tf;",
    "const f = tf.initializers.glorotUniform({});",
    "const g = crypto.getRandomValues(new Uint8Array(4));",
    "const h = `Math.random`;",
  ].join("\n");
  const found = scanSource("x.ts", src).map((f) => f.split(":").slice(0, 2).join(":"));
  assert.deepEqual(found, ["x.ts:4", "x.ts:5", "x.ts:6", "x.ts:8", "x.ts:9", "x.ts:10", "x.ts:11", "x.ts:12"]);
});

Deno.test("lib/ uses no Math.random, tfjs random ops or crypto randomness", async () => {
  const findings: string[] = [];
  let files = 0;
  for await (const file of tsFiles(join(ROOT, "lib"))) {
    files++;
    findings.push(...scanSource(relative(ROOT, file), await Deno.readTextFile(file)));
  }
  assert.ok(files > 0, "no .ts files found under lib/");
  assert.deepEqual(findings, [], `ambient randomness in lib/ (use an Rng from lib/random):\n${findings.join("\n")}`);
});
