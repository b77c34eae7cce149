import assert from "node:assert/strict";
import { createProgress, formatDuration, progressLine } from "./_progress.ts";

Deno.test("formatDuration: two units, rounded once, days past 48 hours, '?' for what is not a duration", () => {
  assert.equal(formatDuration(12.4), "12s");
  assert.equal(formatDuration(275), "4m35s");
  assert.equal(formatDuration(3599.6), "1h00m");
  assert.equal(formatDuration(7199), "2h00m");
  assert.equal(formatDuration(47 * 3600 + 59 * 60), "47h59m");
  assert.equal(formatDuration(400 * 3600), "16d16h");
  assert.equal(formatDuration(1014946 * 3600), "42289d10h");
  assert.equal(formatDuration(Infinity), "?");
  assert.equal(formatDuration(NaN), "?");
  assert.equal(formatDuration(-1), "?");
});

Deno.test("plain progress lines use the same formatter for the ETA, also past 100 hours", () => {
  assert.equal(
    progressLine({ done: 1, total: 1_000_001 }, "train", 1 / 3600),
    "train 1/1000001 (0%) 0.00028 it/s ETA 41666d16h",
  );
  assert.equal(progressLine({ done: 4, total: 4 }, "eval", 2), "eval 4/4 (100%) 2.00 it/s ETA 0s");
  let t = 0;
  const lines: string[] = [];
  const p = createProgress({ label: "x", interactive: false, write: (l) => lines.push(l), now: () => t });
  p.update({ done: 0, total: 10 });
  t = 5000;
  p.update({ done: 5, total: 10 });
  p.stop();
  assert.deepEqual(lines, ["x 5/10 (50%) 1.00 it/s ETA 5s"]);
});
