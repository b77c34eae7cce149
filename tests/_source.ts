/**
 * Reading lib/'s source for the tests that check rules on it (no ambient randomness, the layering, where
 * the environment is read): comments removed, files listed in a stable order, imports resolved to folders.
 *
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";

/**
 * Blanks out comments, keeping line breaks so line numbers stay right. Quotes are tracked so `//` in
 * a string is not taken for a comment; single- and double-quoted strings end at a line break.
 */
export function stripComments(src: string): string {
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

/** Every .ts file under `dir`, depth first, in name order. */
export async function* tsFiles(dir: string): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(path);
    else if (e.isFile && e.name.endsWith(".ts")) yield path;
  }
}

/** The lib/ modules that are not tests beside the code (`*_test.ts`), as paths relative to `root`. */
export async function libModules(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of tsFiles(join(root, "lib"))) {
    const rel = relative(root, f);
    if (!rel.endsWith("_test.ts")) out.push(rel);
  }
  return out;
}

/** The folder of lib/ a path belongs to (`lib/errors.ts` and other top-level files: "(lib)"). */
export function libFolder(path: string): string | null {
  const parts = normalize(path).split("/");
  if (parts[0] !== "lib") return null;
  return parts.length > 2 ? parts[1] : "(lib)";
}

/** Relative module specifiers of a source text: static imports and re-exports, and dynamic `import()`. */
export function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) out.push(m[1]);
  return out;
}

/**
 * lib/'s folder graph: folder -> imported folder -> the files that import it. Only imports between
 * different folders are edges.
 */
export async function importGraph(root: string): Promise<Map<string, Map<string, string[]>>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of await libModules(root)) {
    const from = libFolder(file)!;
    const code = stripComments(await Deno.readTextFile(join(root, file)));
    for (const spec of specifiers(code)) {
      const to = libFolder(join(dirname(file), spec));
      if (to === null || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      const files = edges.get(to) ?? [];
      if (!files.includes(file)) files.push(file);
      edges.set(to, files);
    }
  }
  return graph;
}
