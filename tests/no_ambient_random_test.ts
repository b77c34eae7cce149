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

/**
 * Blanks out comments, keeping line breaks so line numbers stay right. Quotes are tracked so `//` in
 * a string is not taken for a comment; single- and double-quoted strings end at a line break.
 */
function stripComments(src: string): string {
  let out = "";
  let i = 0;
  let quote: string | null = null;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (quote !== null) {
      out += c;
      if (c === "\\" && i + 1 < src.length) {
        out += next;
        i += 2;
        continue;
      }
      if (c === quote || (c === "\n" && quote !== "`")) quote = null;
      i++;
    } else if (c === "/" && next === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      i += 2;
      while (i < src.length && !(src[i] === "*" && src[i + 1] === "/")) {
        if (src[i] === "\n") out += "\n";
        i++;
      }
      i += 2;
    } else {
      if (c === '"' || c === "'" || c === "`") quote = c;
      out += c;
      i++;
    }
  }
  return out;
}

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

async function* tsFiles(dir: string): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.isFile && e.name.endsWith(".ts")) yield path;
  }
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
