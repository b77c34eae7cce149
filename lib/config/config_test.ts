import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { InputError } from "../errors.ts";
import { ConfigError, configHash, loadConfig, parseConfigText, parseOverride, z } from "./mod.ts";

const schema = z.object({
  model: z.object({
    hidden_size: z.int().positive(),
    name: z.enum(["trm", "dis"]),
    layers: z.int().default(2),
  }),
  lr: z.number().positive(),
  tags: z.array(z.string()).default([]),
});

async function fixture(files: Record<string, string>): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "config_test_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const BASE = "model:\n  hidden_size: 256\n  name: trm\nlr: 0.001\n";

async function rejects(p: Promise<unknown> | (() => unknown), message: string): Promise<void> {
  await assert.rejects(
    async () => typeof p === "function" ? p() : await p,
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
      assert.ok(e instanceof InputError);
      assert.equal(e.message, message);
      return true;
    },
  );
}

Deno.test("loadConfig merges one include, fills defaults and hashes the resolved config", async () => {
  await using fx = await fixture({
    "base.yaml": BASE,
    "top.yaml": "include: base.yaml\nmodel:\n  name: dis\ntags: [a]\n",
  });
  const dir = fx.dir;
  const top = join(dir, "top.yaml");
  const r = await loadConfig(top, schema);
  assert.deepEqual(r.config, { model: { hidden_size: 256, name: "dis", layers: 2 }, lr: 0.001, tags: ["a"] });
  assert.deepEqual(r.sources, [join(dir, "base.yaml"), top]);
  assert.equal(r.resolvedYaml, "lr: 0.001\nmodel:\n  hidden_size: 256\n  layers: 2\n  name: dis\ntags:\n  - a\n");
  assert.match(r.hash, /^[0-9a-f]{64}$/);
  // Key order does not change the hash; a value does.
  assert.equal(configHash({ b: 1, a: { d: 2, c: 3 } }), configHash({ a: { c: 3, d: 2 }, b: 1 }));
  assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
  // The resolved YAML reloads to the same config and hash.
  const again = parseConfigText(r.resolvedYaml, schema, { source: "config.yaml" });
  assert.deepEqual(again.config, r.config);
  assert.equal(again.hash, r.hash);
});

Deno.test("overrides are parsed as YAML values and applied before validation", async () => {
  assert.deepEqual(parseOverride("a.b=[1, 2]"), { text: "a.b=[1, 2]", path: ["a", "b"], value: [1, 2] });
  assert.equal(parseOverride("x=abc").value, "abc");
  assert.equal(parseOverride("x=").value, null);
  await using fx = await fixture({ "c.yaml": BASE });
  const dir = fx.dir;
  const r = await loadConfig(join(dir, "c.yaml"), schema, {
    overrides: ["model.hidden_size=512", "tags=[x, y]", "model={layers: 4}"],
  });
  assert.deepEqual(r.config.model, { hidden_size: 512, name: "trm", layers: 4 });
  assert.deepEqual(r.config.tags, ["x", "y"]);
  assert.deepEqual(r.overrides, ["model.hidden_size=512", "tags=[x, y]", "model={layers: 4}"]);
});

Deno.test("unknown keys are errors, even with a non-strict z.object, naming file, key and the known keys", async () => {
  await using fx = await fixture({ "c.yaml": BASE + "model_typo: 1\n" });
  const dir = fx.dir;
  const file = join(dir, "c.yaml");
  await rejects(
    loadConfig(file, schema),
    `Cannot load config "${file}": unknown key "model_typo" (expected one of: lr, model, tags)`,
  );
  const nested = join(dir, "n.yaml");
  await Deno.writeTextFile(nested, BASE.replace("name: trm", "name: trm\n  hiden_size: 3"));
  await rejects(
    loadConfig(nested, schema),
    `Cannot load config "${nested}": unknown key "model.hiden_size" (expected one of: hidden_size, layers, name)`,
  );
});

Deno.test("wrong types and missing keys name the key path, the expected type and the value found", async () => {
  await using fx = await fixture({ "c.yaml": "model:\n  hidden_size: abc\n  name: gpt\nlr: -1\n" });
  const dir = fx.dir;
  const file = join(dir, "c.yaml");
  await rejects(
    loadConfig(file, schema),
    `Cannot load config "${file}": 3 problems:\n` +
      `  - key "model.hidden_size": expected integer, got "abc"\n` +
      `  - key "model.name": expected one of "trm", "dis", got "gpt"\n` +
      `  - key "lr": expected number > 0, got -1`,
  );
  await rejects(
    () => parseConfigText("model: {name: trm}\nlr: 1\n", schema, { source: "t.yaml" }),
    `Cannot load config "t.yaml": missing key "model.hidden_size": expected integer`,
  );
  await rejects(
    () => parseConfigText("- 1\n", schema, { source: "t.yaml" }),
    `Cannot load config "t.yaml": expected a map at the top level, got a list of 1`,
  );
  await rejects(
    () => parseConfigText("lr: 1\nlr: 2\n", schema, { source: "t.yaml" }),
    `Cannot parse config "t.yaml": Map keys must be unique at line 2, column 1`,
  );
});

Deno.test("a problem in an included file names that file and the file that included it", async () => {
  await using fx = await fixture({ "base.yaml": BASE.replace("256", "2.5"), "top.yaml": "include: base.yaml\n" });
  const dir = fx.dir;
  await rejects(
    loadConfig(join(dir, "top.yaml"), schema),
    `Cannot load config "${join(dir, "base.yaml")}" (included by "${join(dir, "top.yaml")}"): ` +
      `key "model.hidden_size": expected integer, got 2.5`,
  );
});

Deno.test("bad includes: a missing file, an include inside an included file, a non-string include", async () => {
  await using fx = await fixture({
    "missing.yaml": "include: nowhere.yaml\n",
    "nested.yaml": "include: mid.yaml\n",
    "mid.yaml": "include: base.yaml\n",
    "base.yaml": BASE,
    "list.yaml": "include: [a, b]\n",
  });
  const dir = fx.dir;
  await rejects(
    loadConfig(join(dir, "missing.yaml"), schema),
    `Cannot load config "${join(dir, "missing.yaml")}": included file "${
      join(dir, "nowhere.yaml")
    }" cannot be read (file not found)`,
  );
  await rejects(
    loadConfig(join(dir, "nested.yaml"), schema),
    `Cannot load config "${join(dir, "mid.yaml")}" (included by "${join(dir, "nested.yaml")}"): ` +
      `includes go one level deep, but it has include: "base.yaml"`,
  );
  await rejects(
    loadConfig(join(dir, "list.yaml"), schema),
    `Cannot load config "${join(dir, "list.yaml")}": key "include": expected a file path, got a list of 2`,
  );
  await rejects(
    loadConfig(join(dir, "absent.yaml"), schema),
    `Cannot load config "${join(dir, "absent.yaml")}": file not found`,
  );
});

Deno.test("bad overrides: unknown path, wrong type, through a scalar, bad syntax", async () => {
  await using fx = await fixture({ "c.yaml": BASE });
  const dir = fx.dir;
  const file = join(dir, "c.yaml");
  const load = (o: string) => loadConfig(file, schema, { overrides: [o] });
  await rejects(
    load("model.hiden=3"),
    `Cannot apply override "--set model.hiden=3" to config "${file}": unknown key "model.hiden" ` +
      `(expected one of: hidden_size, layers, name)`,
  );
  await rejects(
    load("model.hidden_size=abc"),
    `Cannot apply override "--set model.hidden_size=abc" to config "${file}": key "model.hidden_size": ` +
      `expected integer, got "abc"`,
  );
  await rejects(
    load("lr.x=1"),
    `Cannot apply override "--set lr.x=1" to config "${file}": key "lr" is 0.001, not a map`,
  );
  await rejects(load("lr"), `Cannot parse override "lr": expected key.path=value`);
  await rejects(
    load("a..b=1"),
    `Cannot parse override "a..b=1": key path "a..b" must be names joined by dots, e.g. model.hidden_size`,
  );
  await rejects(
    load("lr=[1,"),
    `Cannot parse override "lr=[1,": its value is not valid YAML (Flow sequence must end with a ] at line 1, column 4)`,
  );
});

Deno.test("an absolute include stands as written; a relative one is relative to the including file", async () => {
  await using fx = await fixture({ "sub/base.yaml": BASE, "top.yaml": "include: sub/base.yaml\n" });
  await using other = await fixture({ "abs.yaml": "" });
  const abs = join(other.dir, "abs.yaml");
  await Deno.writeTextFile(abs, `include: ${join(fx.dir, "sub", "base.yaml")}\nlr: 0.5\n`);
  const r = await loadConfig(abs, schema);
  assert.equal(r.config.lr, 0.5);
  assert.equal(r.config.model.hidden_size, 256);
  assert.deepEqual(r.sources, [join(fx.dir, "sub", "base.yaml"), abs]);
  assert.equal((await loadConfig(join(fx.dir, "top.yaml"), schema)).config.lr, 0.001);
});

Deno.test("config reads are bounded: a device, a folder or an oversized file is refused by name", async () => {
  await using fx = await fixture({ "big.yaml": "", "top.yaml": "include: /dev/zero\n" });
  const big = join(fx.dir, "big.yaml");
  await Deno.writeTextFile(big, "# " + "x".repeat(1 << 20) + "\n");
  await rejects(
    loadConfig(big, schema),
    `Cannot load config "${big}": is ${(1 << 20) + 3} bytes, more than a config's limit of 1048576 (1 MiB)`,
  );
  const top = join(fx.dir, "top.yaml");
  await rejects(
    loadConfig(top, schema),
    `Cannot load config "${top}": included file "/dev/zero" is not a regular file (a device, FIFO or socket), ` +
      "expected a YAML file",
  );
  await rejects(loadConfig(fx.dir, schema), `Cannot load config "${fx.dir}": is a folder, expected a YAML file`);
});

Deno.test("a number beyond the float range (1e400) is reported as such, in a file and in an override", async () => {
  await using fx = await fixture({ "top.yaml": BASE.replace("0.001", "1e400") });
  const top = join(fx.dir, "top.yaml");
  const finite = z.object({ model: z.object({ hidden_size: z.int(), name: z.string() }), lr: z.number() });
  await rejects(
    loadConfig(top, finite),
    `Cannot load config "${top}": key "lr": expected number, got Infinity (a number beyond the float64 range, as ` +
      "1e400 is)",
  );
  await Deno.writeTextFile(top, BASE);
  await assert.rejects(loadConfig(top, finite, { overrides: ["lr=-1e400"] }), /got -Infinity \(a number beyond/);
});
