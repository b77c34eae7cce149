import assert from "node:assert/strict";
import { join } from "node:path";
import { parseTempName, pidAlive, replaceDirAtomic, sweepStaleTemps, tempName, writeTextAtomic } from "./mod.ts";
import { deadPid } from "./_testing.ts";

Deno.test("tempName and parseTempName agree; other names are not temporaries", () => {
  assert.deepEqual(parseTempName(tempName("out", 42, 7)), { target: "out", pid: 42 });
  assert.deepEqual(parseTempName(".out.tmp-42-7.old"), { target: "out", pid: 42 });
  for (const n of ["out", ".out.tmp-", ".out.tmp-x-1", "notes.tmp-1-1", ".out.tmp-0-1"]) {
    assert.equal(parseTempName(n), null, n);
  }
});

Deno.test("pidAlive: this process is alive, an exited one is not", async () => {
  assert.equal(pidAlive(Deno.pid), true);
  assert.equal(pidAlive(await deadPid()), false);
});

Deno.test("sweepStaleTemps removes a dead pid's temporaries of the target only, never a live pid's or a user's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dead = await deadPid();
    const names = [
      tempName("out", dead, 1), // stale: removed
      `${tempName("out", dead, 2)}.old`, // stale: removed
      tempName("out", Deno.pid, 1), // this (live) process: kept
      tempName("out", 1, 1), // pid 1 is alive: kept
      tempName("other", dead, 1), // another target: kept with { target: "out" }
      "notes.txt",
      ".out.tmp-notes", // not the tool's pattern
    ];
    for (const n of names) await Deno.mkdir(join(dir, n));
    assert.deepEqual(await sweepStaleTemps(dir, { target: "out" }), [names[0], names[1]].sort());
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, names.slice(2).sort());
    assert.deepEqual(await sweepStaleTemps(dir), [names[4]]);
    assert.deepEqual(await sweepStaleTemps(join(dir, "missing")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic writes sweep a dead process's temporaries of the same name (a killed pointer write)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dead = await deadPid();
    const stale = tempName("latest", dead, 3);
    const live = tempName("latest", 1, 3);
    await Deno.writeTextFile(join(dir, stale), "step-0000");
    await Deno.writeTextFile(join(dir, live), "step-0000");
    await writeTextAtomic(join(dir, "latest"), "step-000010\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [live, "latest"].sort());
    const out = join(dir, "out");
    await Deno.mkdir(join(dir, tempName("out", dead, 1)));
    await replaceDirAtomic(out, async (tmp) => await Deno.writeTextFile(join(tmp, "x"), "1"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [live, "latest", "out"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceDirAtomic into the working folder swaps its entries and leaves no temporary", async () => {
  const parent = await Deno.makeTempDir();
  const here = Deno.cwd();
  try {
    const dir = join(parent, "work");
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "old"), "0");
    Deno.chdir(dir);
    await replaceDirAtomic(".", async (tmp) => await Deno.writeTextFile(join(tmp, "new"), "1"));
    assert.equal(Deno.cwd(), dir);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["new"]);
    assert.deepEqual([...Deno.readDirSync(parent)].map((e) => e.name), ["work"]);
  } finally {
    Deno.chdir(here);
    await Deno.remove(parent, { recursive: true });
  }
});
