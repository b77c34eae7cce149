import assert from "node:assert/strict";
import { InterruptedError } from "../errors.ts";
import { JobControl, runJobs, STOP_GRACE_SECONDS } from "./jobs.ts";

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

const SLEEP = "setTimeout(() => {}, 60_000);";

Deno.test({
  name: "JobControl: stop forwards the signal to the running children, starts no new one, and runJobs throws",
  ignore: Deno.build.os === "windows",
  async fn() {
    const control = new JobControl();
    const started: string[] = [];
    const done = runJobs(["a", "b", "c"], {
      jobs: 2,
      control,
      command: (id) => {
        started.push(id);
        return script(`console.log("up"); ${SLEEP}`);
      },
      onLine: () => {
        if (control.running === 2) control.stop("SIGTERM");
      },
    });
    const t0 = performance.now();
    const e = await done.then(() => null, (e) => e);
    assert.ok(e instanceof InterruptedError, String(e));
    assert.equal(e.signal, "SIGTERM");
    assert.deepEqual(started, ["a", "b"]);
    assert.equal(control.running, 0);
    assert.ok(performance.now() - t0 < STOP_GRACE_SECONDS * 1000, "the children did not stop on SIGTERM");
  },
});

Deno.test({
  name: "JobControl: a child that ignores the signal gets SIGKILL after the grace period",
  ignore: Deno.build.os === "windows",
  async fn() {
    const control = new JobControl(0.5);
    const done = runJobs(["stubborn"], {
      jobs: 1,
      control,
      command: () => script(`Deno.addSignalListener("SIGINT", () => {}); console.log("up"); ${SLEEP}`),
      onLine: () => control.stop("SIGINT"),
    });
    const t0 = performance.now();
    await assert.rejects(done, InterruptedError);
    const waited = performance.now() - t0;
    assert.ok(waited >= 400 && waited < 20_000, `waited ${waited} ms`);
  },
});
