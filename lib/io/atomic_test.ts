import assert from "node:assert/strict";
import { join } from "node:path";
import { namedWriteError, replaceDirAtomic, WriteError, writeStreamAtomic, writeTextAtomic } from "./mod.ts";

Deno.test("writeTextAtomic replaces the file and leaves no temp files", async () => {
  const dir = await Deno.makeTempDir();
  const p = join(dir, "sub", "a.txt");
  await writeTextAtomic(p, "one");
  await writeTextAtomic(p, "two");
  assert.equal(await Deno.readTextFile(p), "two");
  const names = [...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name);
  assert.deepEqual(names, ["a.txt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replaceDirAtomic leaves the old directory intact when the build fails", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "out");
  await replaceDirAtomic(out, async (tmp) => await Deno.writeTextFile(join(tmp, "x"), "1"));
  await assert.rejects(() =>
    replaceDirAtomic(out, async (tmp) => {
      await Deno.writeTextFile(join(tmp, "x"), "2");
      throw new Error("boom");
    }), /boom/);
  assert.equal(await Deno.readTextFile(join(out, "x")), "1");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"]);
  await replaceDirAtomic(out, async (tmp) => await Deno.writeTextFile(join(tmp, "y"), "3"));
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["y"]);
  await Deno.remove(dir, { recursive: true });
});

// /dev/full fails every write with ENOSPC, as a full disk does: the real OS error, which names no file.
const haveDevFull = (() => {
  try {
    return Deno.statSync("/dev/full").isCharDevice === true;
  } catch {
    return false;
  }
})();

async function diskFullError(): Promise<unknown> {
  const f = await Deno.open("/dev/full", { write: true });
  try {
    await f.write(new Uint8Array(64));
  } catch (e) {
    return e;
  } finally {
    f.close();
  }
  throw new Error("/dev/full accepted a write");
}

Deno.test({
  name: "a full disk during an atomic write names the file, keeps the old one and leaves no temporary",
  ignore: !haveDevFull,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const p = join(dir, "metrics.jsonl");
      await writeTextAtomic(p, "old\n");
      const e = await diskFullError();
      const err = await writeStreamAtomic(p, () => Promise.reject(e)).then(() => null, (x: unknown) => x);
      assert.ok(err instanceof WriteError);
      assert.equal(
        err.message,
        `Cannot write "${p}": No space left on device (os error 28) ` +
          "(the disk that holds it is full; free space there or write elsewhere)",
      );
      assert.equal(err.cause, e);
      assert.equal(await Deno.readTextFile(p), "old\n");
      assert.deepEqual([...Deno.readDirSync(dir)].map((x) => x.name), ["metrics.jsonl"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a full disk while building a folder names the file at its final place, not the temporary",
  ignore: !haveDevFull,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "out");
      const e = await diskFullError();
      await assert.rejects(
        () => replaceDirAtomic(out, (tmp) => Promise.reject(namedWriteError(join(tmp, "train", "inputs.npy"), e))),
        (err: unknown) => {
          assert.ok(err instanceof WriteError);
          assert.equal(err.path, join(out, "train", "inputs.npy"));
          assert.match(err.message, new RegExp(`^Cannot write "${join(out, "train", "inputs.npy")}": No space left`));
          return true;
        },
      );
      // An OS error the build raises without a file name names the folder.
      await assert.rejects(() => replaceDirAtomic(out, () => Promise.reject(e)), new RegExp(`Cannot write "${out}"`));
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
