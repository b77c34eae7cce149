/** `bench` through a subprocess: help, and usage errors exit 2 before any measurement starts. */
import assert from "node:assert/strict";
import { cli } from "./_testing.ts";

Deno.test("bench --help lists the presets and the JSON option", async () => {
  const r = await cli("bench", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: trm-dis bench \[options\]/);
  assert.match(r.stdout, /dis-compact-nqueens,\s+trm-compact-nqueens, dis-compact-arc, dis-medium-arc/);
  assert.match(r.stdout, /--json/);
});

Deno.test("bench rejects an unknown preset and a zero batch with exit 2", async () => {
  const preset = await cli("bench", "--preset", "nope");
  assert.equal(preset.code, 2);
  assert.equal(preset.stdout, "");
  assert.match(
    preset.stderr,
    /error: option '--preset <name>' argument 'nope' is invalid\. Expected one of dis-compact-nqueens/,
  );
  const batch = await cli("bench", "--batch", "0");
  assert.equal(batch.code, 2);
  assert.match(batch.stderr, /Expected a batch size >= 1, got "0"/);
});
