import assert from "node:assert/strict";
import { join } from "node:path";
import { replaceDirAtomic, writeTextAtomic } from "./mod.ts";

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
