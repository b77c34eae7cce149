import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, isDirectory } from "./mod.ts";

Deno.test("exists and isDirectory tell a file, a folder and a missing path apart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a.txt");
    await Deno.writeTextFile(file, "a");
    assert.deepEqual([await exists(dir), await exists(file), await exists(join(dir, "none"))], [true, true, false]);
    assert.deepEqual([await isDirectory(dir), await isDirectory(file), await isDirectory(join(dir, "none"))], [
      true,
      false,
      false,
    ]);
    // Only absence is an answer: stat through a file (ENOTDIR) is an error, not "missing".
    await assert.rejects(() => exists(join(file, "x")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
