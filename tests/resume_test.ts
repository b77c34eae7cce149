/**
 * Kill and resume for real: `train` runs as a subprocess, is killed with SIGKILL as soon as its first
 * checkpoint appears, and is run again with --resume; its final model.safetensors (and results.json and
 * report.md) must equal, byte for byte, those of an uninterrupted run of the same config. For DIS and for
 * TRM (with EMA), on the wasm backend, tiny models (fixtures/train).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, type CliResult, cliResult } from "../cli/_testing.ts";
import { exists } from "../lib/io/mod.ts";

const STEPS = 48;

function train(config: string, out: string, ...extra: string[]): Deno.ChildProcess {
  const args = ["train", `fixtures/train/${config}`, "--out", out, "--backend", "wasm"];
  return cliCommand([...args, "--set", `train.steps=${STEPS}`, ...extra]).spawn();
}

async function finish(p: Deno.ChildProcess): Promise<CliResult> {
  return cliResult(await p.output());
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function killResumeCompare(config: string): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "resume_test_" });
  try {
    const straight = join(root, "straight");
    const killed = join(root, "killed");
    const a = train(config, straight);
    const b = train(config, killed);
    const latest = join(killed, "checkpoints", "latest");
    const t0 = performance.now();
    while (!(await exists(latest))) {
      if (performance.now() - t0 > 60_000) throw new Error("no checkpoint appeared within 60 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    b.kill("SIGKILL");
    const killedRun = await finish(b);
    assert.notEqual(killedRun.code, 0, "the run finished before it could be killed");
    assert.equal(await exists(join(killed, "results.json")), false, "the killed run wrote its results");
    const stoppedAt = Number((await Deno.readTextFile(latest)).trim().slice("step-".length));
    assert.ok(stoppedAt < STEPS, `killed at step ${stoppedAt}`);

    const straightRun = await finish(a);
    assert.equal(straightRun.code, 0, straightRun.stderr);
    const resumed = await finish(train(config, killed, "--resume"));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /\(resumed from step \d+\)/);
    for (const f of ["model.safetensors", "results.json", "report.md"]) {
      // Digests, not the bytes: assert's diff of two large arrays takes minutes and gigabytes.
      assert.equal(await sha256(join(killed, f)), await sha256(join(straight, f)), `${f} differs`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("DIS: a run killed after its first checkpoint and resumed ends with the same bytes", async () => {
  await killResumeCompare("dis_tiny.yaml");
});

Deno.test("TRM with EMA: a run killed after its first checkpoint and resumed ends with the same bytes", async () => {
  await killResumeCompare("trm_tiny.yaml");
});
