import assert from "node:assert/strict";
import { join } from "node:path";
import { FolderLockedError, LOCK_FILE, lockFolder, type LockTakeover, onLockTakeover, withFolderLock } from "./mod.ts";
import { deadPid } from "./_testing.ts";

Deno.test("lockFolder records the holder, refuses a second lock while held, and releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lock = await lockFolder(dir, { command: ["train", "x.yaml"] });
    const info = JSON.parse(await Deno.readTextFile(join(dir, LOCK_FILE)));
    assert.deepEqual([info.pid, info.host, info.command], [Deno.pid, Deno.hostname(), ["train", "x.yaml"]]);
    assert.ok(!Number.isNaN(Date.parse(info.started)));
    const err = await lockFolder(dir).then(() => null, (e) => e);
    assert.ok(err instanceof FolderLockedError);
    assert.match(err.message, new RegExp(`^Cannot write "${dir}": it is being written by process ${Deno.pid} on host`));
    assert.match(err.message, /started \d{4}-\d\d-\d\dT.*\(train x\.yaml\)/);
    lock.release();
    lock.release();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    await withFolderLock(dir, {}, () => Promise.resolve(assert.ok(Deno.statSync(join(dir, LOCK_FILE)).isFile)));
    await assert.rejects(withFolderLock(dir, {}, () => Promise.reject(new Error("boom"))), /boom/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "released after an error too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stale lock (a dead pid on this host) is taken over with a message; another host's is not", async () => {
  const dir = await Deno.makeTempDir();
  const seen: LockTakeover[] = [];
  const off = onLockTakeover((t) => seen.push(t));
  try {
    const stale = { pid: await deadPid(), host: Deno.hostname(), started: "2026-01-01T00:00:00.000Z", command: [] };
    await Deno.writeTextFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const lock = await lockFolder(dir);
    assert.deepEqual(lock.takenOver, stale);
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, new RegExp(`stale lock of "${dir}": process ${stale.pid} .* is no longer running`));
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, LOCK_FILE))).pid, Deno.pid);
    lock.release();
    const remote = { ...stale, host: `not-${Deno.hostname()}` };
    await Deno.writeTextFile(join(dir, LOCK_FILE), JSON.stringify(remote));
    await assert.rejects(lockFolder(dir), (e: Error) => e instanceof FolderLockedError && /by hand/.test(e.message));
    // A torn lock (created, not yet written) is someone taking it now, unless it is old.
    await Deno.writeTextFile(join(dir, LOCK_FILE), "");
    await assert.rejects(lockFolder(dir), /taking its lock right now/);
    await Deno.utime(join(dir, LOCK_FILE), 0, 0);
    (await lockFolder(dir)).release();
    assert.equal(seen.length, 2);
  } finally {
    off();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock still held when the process exits is removed (Deno.exit, as the signal handlers call)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mod = new URL("./lock.ts", import.meta.url).href;
    const code = `const { lockFolder } = await import(${JSON.stringify(mod)}); await lockFolder(${
      JSON.stringify(dir)
    }); Deno.exit(143);`;
    const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "piped" }).output();
    assert.equal(out.code, 143, new TextDecoder().decode(out.stderr));
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
