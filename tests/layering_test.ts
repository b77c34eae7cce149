/**
 * The layout's rules, checked on the source: no folder of lib/ imports another in a loop (data flows one
 * way: data -> model -> method -> train -> eval -> report, with experiment composing them), lib/model
 * holds the network and inference only (no trainer), and only lib/env.ts reads the environment.
 *
 * Imports are read from every lib/ module except the tests beside the code (`*_test.ts`), which may
 * exercise a folder with a higher one (a trainer test uses lib/train's optimisers). Comments are removed
 * first, so the JSDoc examples' imports do not count.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importGraph, libModules, stripComments } from "./_source.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The one module of lib/ that may read environment variables. */
const ENV_MODULE = "lib/env.ts";
const ENV_ACCESS = /\bDeno\s*\.\s*env\b/;

Deno.test("lib/ has no folder-level import loop", async () => {
  const graph = await importGraph(ROOT);
  const cycle = findCycle(graph);
  assert.equal(
    cycle,
    null,
    cycle ? `lib/ folders import each other in a loop: ${cycle.join(" -> ")} (${explain(graph, cycle)})` : "",
  );
});

Deno.test("lib/model holds no trainer and imports no training folder", async () => {
  const graph = await importGraph(ROOT);
  const model = graph.get("model") ?? new Map();
  for (const up of ["method", "train", "eval", "experiment"]) {
    assert.ok(!model.has(up), `lib/model imports lib/${up} (${model.get(up)?.join(", ")})`);
  }
  for (const file of await libModules(ROOT)) {
    if (!file.startsWith("lib/model/")) continue;
    const code = stripComments(await Deno.readTextFile(join(ROOT, file)));
    assert.ok(!/class\s+\w*Trainer\b/.test(code), `${file} defines a trainer; trainers live in lib/method`);
  }
});

Deno.test("only lib/env.ts touches Deno.env in lib/ (everything else takes typed options)", async () => {
  const found: string[] = [];
  for (const file of await libModules(ROOT)) {
    if (file === ENV_MODULE) continue;
    const lines = stripComments(await Deno.readTextFile(join(ROOT, file))).split("\n");
    lines.forEach((line, i) => {
      if (ENV_ACCESS.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, [], `lib/ reads the environment outside ${ENV_MODULE}:\n${found.join("\n")}`);
  assert.ok(ENV_ACCESS.test('const x = Deno.env.get("HOME");') && ENV_ACCESS.test("Deno . env"));
});

Deno.test("the loop check finds a loop", () => {
  const graph = new Map([
    ["a", new Map([["b", ["lib/a/x.ts"]]])],
    ["b", new Map([["c", ["lib/b/y.ts"]]])],
    ["c", new Map([["a", ["lib/c/z.ts"]]])],
  ]);
  assert.deepEqual(findCycle(graph), ["a", "b", "c", "a"]);
  graph.get("c")!.delete("a");
  assert.equal(findCycle(graph), null);
});

/** A loop of folders (first = last), or null. */
function findCycle(graph: Map<string, Map<string, string[]>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, "open");
    path.push(n);
    for (const m of [...(graph.get(n)?.keys() ?? [])].sort()) {
      if (state.get(m) === "open") return [...path.slice(path.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    path.pop();
    state.set(n, "done");
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

/** The files that make each edge of a loop. */
function explain(graph: Map<string, Map<string, string[]>>, cycle: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    parts.push(`${cycle[i]} -> ${cycle[i + 1]}: ${graph.get(cycle[i])!.get(cycle[i + 1])!.join(", ")}`);
  }
  return parts.join("; ");
}
