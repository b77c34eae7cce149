import assert from "node:assert/strict";
import { runJobs } from "./jobs.ts";

const script = (code: string) => ({ command: Deno.execPath(), args: ["eval", code] });

Deno.test("runJobs: every child's lines reach the callback, results come back in the order given", async () => {
  const lines: string[] = [];
  const r = await runJobs(["a", "b", "c"], {
    jobs: 2,
    command: (id) => script(`console.log("out ${id}"); console.error("err ${id}\\r\\nlast ${id}");`),
    onLine: (id, line, stream) => lines.push(`${id} ${stream} ${line}`),
  });
  assert.deepEqual(r.map((x) => [x.id, x.code]), [["a", 0], ["b", 0], ["c", 0]]);
  assert.deepEqual(r[1].tail, ["err b", "last b"]);
  assert.deepEqual(lines.filter((l) => l.startsWith("c ")).sort(), [
    "c stderr err c",
    "c stderr last c",
    "c stdout out c",
  ]);
});

Deno.test("runJobs: after a failure no new child starts; running ones finish", async () => {
  const r = await runJobs(["bad", "later"], {
    jobs: 1,
    command: (id) => script(id === "bad" ? 'console.error("boom"); Deno.exit(3);' : "0"),
  });
  assert.deepEqual(r.map((x) => [x.id, x.code]), [["bad", 3], ["later", null]]);
  assert.deepEqual(r[0].tail, ["boom"]);
  await assert.rejects(() => runJobs(["x"], { jobs: 0, command: () => script("0") }), RangeError);
});
