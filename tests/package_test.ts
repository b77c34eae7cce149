/**
 * The package surface: deno.json's explicit exports map names files that exist and load, the root module
 * does not re-export all of tfjs and zod, there is an MIT licence beside deno.json, and `deno doc --lint`
 * over the entry points finds nothing in the project's own files.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url);

Deno.test("deno.json's exports map: every entry point exists and loads", async () => {
  const exports = denoJson.exports as Record<string, string>;
  assert.equal(exports["."], "./mod.ts");
  assert.ok(Object.keys(exports).length > 5, "stable entry points beside the root");
  for (const [name, path] of Object.entries(exports)) {
    const mod = await import(new URL(path, ROOT).href);
    assert.ok(Object.keys(mod).length > 0, `entry point "${name}" (${path}) exports something`);
  }
});

Deno.test("mod.ts does not re-export tfjs or zod, while ./backend and ./config still give tf and z", async () => {
  const root = await import(new URL("./mod.ts", ROOT).href);
  assert.ok(!("tf" in root), "mod.ts re-exports tf");
  assert.ok(!("z" in root), "mod.ts re-exports z");
  assert.equal(typeof root.initBackend, "function");
  assert.equal(typeof root.loadConfig, "function");
  const backend = await import(new URL("./lib/backend/mod.ts", ROOT).href);
  const config = await import(new URL("./lib/config/mod.ts", ROOT).href);
  assert.equal(typeof backend.tf.tensor, "function");
  assert.equal(typeof config.z.object, "function");
});

Deno.test("the licence is MIT, in LICENSE and in deno.json", async () => {
  assert.equal(denoJson.license, "MIT");
  const text = await Deno.readTextFile(fileURLToPath(new URL("LICENSE", ROOT)));
  assert.match(text, /^MIT License\n/);
  assert.match(text, /Permission is hereby granted, free of charge/);
});

/**
 * `deno doc --lint` over the exports map's entry points, keeping the errors located in this repository's
 * files. The rest come from the npm packages that `./backend` (`tf`) and `./config` (`z`) re-export, whose
 * declarations are not ours to document.
 */
async function projectDocLintErrors(): Promise<{ errors: string[]; code: number; output: string }> {
  const root = fileURLToPath(ROOT);
  const entries = Object.values(denoJson.exports as Record<string, string>);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const errors: string[] = [];
  for (const m of output.matchAll(/^error\[([\w-]+)\]: (.*)\n\s*--> (?:file:\/\/)?(\S+?):(\d+):\d+/gm)) {
    const [, rule, message, file, line] = m;
    if (file.startsWith(root) && !file.includes("/node_modules/")) {
      errors.push(`${file.slice(root.length)}:${line} ${rule}: ${message}`);
    }
  }
  return { errors, code, output };
}

Deno.test("deno doc --lint finds nothing to fix in the project's own files", async () => {
  const { errors, code, output } = await projectDocLintErrors();
  if (code !== 0) {
    assert.match(
      output,
      /Found \d+ documentation lint errors/,
      `deno doc --lint failed to run:\n${output.slice(-2000)}`,
    );
  }
  assert.deepEqual(errors, [], `deno doc --lint errors in project files:\n${errors.join("\n")}`);
});
