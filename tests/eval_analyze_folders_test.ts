/**
 * `eval` on an experiment folder names the row folders to evaluate instead of failing on a config, and
 * `analyze A B` writes its comparison to a folder of its own, not into A.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultOut } from "../cli/analyze.ts";
import { main } from "../cli/main.ts";

Deno.test("eval on an experiment folder says which row folders to evaluate (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "rows", "trm"), { recursive: true });
    await Deno.mkdir(join(dir, "rows", "dis"), { recursive: true });
    const lines: string[] = [];
    const err = console.error;
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    let code: number;
    try {
      code = await main(["eval", dir]);
    } finally {
      console.error = err;
    }
    assert.equal(code, 2);
    const text = lines.join("\n");
    assert.match(text, /it is an experiment folder, not a run; evaluate one of its rows/);
    assert.ok(text.includes(`\`eval ${join(dir, "rows", "dis")}\` or \`eval ${join(dir, "rows", "trm")}\``), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyze: one run writes into it, several into a folder of their own", () => {
  assert.equal(defaultOut(["runs/nqueens/smoke/rows/dis"]), join("runs/nqueens/smoke/rows/dis", "analysis"));
  const both = defaultOut(["runs/nqueens/smoke/rows/trm", "runs/nqueens/smoke/rows/dis"]);
  assert.equal(both, join("runs", "analyze", "trm-vs-dis"));
  assert.ok(!both.startsWith("runs/nqueens/smoke/rows/trm"));
});
