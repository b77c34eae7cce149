import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkOutput,
  claimOutput,
  inspectOutput,
  OUTPUT_MARKER,
  OutputError,
  type OutputKind,
  replaceOutputDir,
} from "./mod.ts";

const KINDS: OutputKind[] = ["dataset", "run", "experiment", "seeds", "evaluation", "analysis", "verify"];

Deno.test("every kind refuses a regular file and a folder of user files, and accepts a missing or empty folder", async () => {
  const root = await Deno.makeTempDir();
  try {
    const file = join(root, "file.txt");
    await Deno.writeTextFile(file, "mine");
    const user = join(root, "user");
    await Deno.mkdir(user);
    await Deno.writeTextFile(join(user, "notes.txt"), "mine");
    await Deno.mkdir(join(user, ".hidden"));
    await Deno.mkdir(join(root, "empty"));
    for (const kind of KINDS) {
      await assert.rejects(
        checkOutput(file, kind),
        (e: Error) => e instanceof OutputError && /is a file/.test(e.message),
      );
      await assert.rejects(
        checkOutput(user, kind),
        (e: Error) => e instanceof OutputError && e.message.includes(`"${user}"`) && /notes\.txt/.test(e.message),
        kind,
      );
      assert.equal(await checkOutput(join(root, "none"), kind), "absent");
      assert.equal(await checkOutput(join(root, "empty"), kind), "empty");
    }
    assert.equal(await Deno.readTextFile(file), "mine");
    assert.equal(await Deno.readTextFile(join(user, "notes.txt")), "mine");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an output is replaced only by the same kind, known by its marker or (legacy) its files", async () => {
  const root = await Deno.makeTempDir();
  try {
    const ds = join(root, "ds");
    await replaceOutputDir(ds, "dataset", (tmp) => Deno.writeTextFile(join(tmp, "nqueens.json"), "1"));
    const marker = JSON.parse(await Deno.readTextFile(join(ds, OUTPUT_MARKER)));
    assert.deepEqual([marker.tool, marker.kind], ["trm-dis", "dataset"]);
    await replaceOutputDir(ds, "dataset", (tmp) => Deno.writeTextFile(join(tmp, "index.json"), "2"));
    assert.deepEqual([...Deno.readDirSync(ds)].map((e) => e.name).sort(), [OUTPUT_MARKER, "index.json"]);
    await assert.rejects(claimOutput(ds, "run"), /it holds a dataset/);
    // A run folder from before markers: resumable, and it gets its marker.
    const run = join(root, "run");
    await Deno.mkdir(join(run, "checkpoints"), { recursive: true });
    await Deno.writeTextFile(join(run, "config.yaml"), "seed: 0\n");
    await Deno.writeTextFile(join(run, "notes.txt"), "the user's note");
    assert.deepEqual(await inspectOutput(run, "run"), { state: "output", kind: "run", legacy: true });
    await claimOutput(run, "run");
    assert.equal(JSON.parse(await Deno.readTextFile(join(run, OUTPUT_MARKER))).kind, "run");
    assert.equal(await Deno.readTextFile(join(run, "notes.txt")), "the user's note");
    await assert.rejects(replaceOutputDir(run, "dataset", async () => {}), /it holds a training run/);
    // A legacy dataset holds nothing but dataset files: one user file makes it not ours to replace.
    const legacy = join(root, "legacy");
    await Deno.mkdir(join(legacy, "train"), { recursive: true });
    await Deno.writeTextFile(join(legacy, "summary.json"), "{}");
    assert.equal(await checkOutput(legacy, "dataset"), "output");
    await Deno.writeTextFile(join(legacy, "thesis.tex"), "mine");
    await assert.rejects(replaceOutputDir(legacy, "dataset", async () => {}), /thesis\.tex/);
    assert.equal(await Deno.readTextFile(join(legacy, "thesis.tex")), "mine");
    const exp = join(root, "exp");
    await Deno.mkdir(join(exp, "rows", "dis"), { recursive: true });
    assert.equal(await checkOutput(exp, "experiment"), "output");
    await assert.rejects(checkOutput(exp, "run"), /experiment folder/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
