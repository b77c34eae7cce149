import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeSafetensors,
  encodeSafetensors,
  hashFile,
  readSafetensorsFile,
  type TensorMap,
  writeSafetensorsFile,
} from "./safetensors.ts";

const sample = (): TensorMap => ({
  "z.mask": { shape: [2, 3], data: new Uint8Array([1, 0, 1, 1, 0, 255]) },
  "b.weights": { shape: [2, 2], data: new Float32Array([0.1, -2.5, 1e-30, 3.4e38]) },
  "a.ids": { shape: [3], data: new Int32Array([-1, 2147483647, 7]) },
  "scalar": { shape: [], data: new Float32Array([Math.PI]) },
  "empty": { shape: [0, 4], data: new Float32Array(0) },
});

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("safetensors header layout follows the spec", () => {
  const bytes = encodeSafetensors(sample(), { format: "pt", step: "12" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "data starts 8-byte aligned");
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{"__metadata__":\{"format":"pt","step":"12"\},/);
  assert.match(text, / *$/, "padding is spaces");
  const header = JSON.parse(text);
  // Widest dtype first, then by name; offsets contiguous from 0 to the end of the file.
  const order = Object.keys(header).filter((k) => k !== "__metadata__");
  assert.deepEqual(order, ["a.ids", "b.weights", "empty", "scalar", "z.mask"]);
  assert.deepEqual(header["a.ids"], { dtype: "I32", shape: [3], data_offsets: [0, 12] });
  assert.deepEqual(header["b.weights"], { dtype: "F32", shape: [2, 2], data_offsets: [12, 28] });
  assert.deepEqual(header["empty"], { dtype: "F32", shape: [0, 4], data_offsets: [28, 28] });
  assert.deepEqual(header["scalar"], { dtype: "F32", shape: [], data_offsets: [28, 32] });
  assert.deepEqual(header["z.mask"], { dtype: "U8", shape: [2, 3], data_offsets: [32, 38] });
  assert.equal(bytes.length, 8 + n + 38);
  // Little-endian values: -1 as I32 is ff ff ff ff, 2^31-1 is ff ff ff 7f.
  assert.deepEqual([...bytes.subarray(8 + n, 8 + n + 8)], [255, 255, 255, 255, 255, 255, 255, 127]);
});

Deno.test("safetensors round-trips in memory and on disk, byte-identical and hashed", async () => {
  const tensors = sample();
  const bytes = encodeSafetensors(tensors, { format: "pt" });
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { format: "pt" });
  for (const [k, t] of Object.entries(tensors)) {
    assert.deepEqual(back.tensors[k].shape, t.shape);
    assert.deepEqual(back.tensors[k].data, t.data, k);
  }
  const dir = await Deno.makeTempDir();
  const path = join(dir, "t.safetensors");
  const digest = await writeSafetensorsFile(path, tensors, { format: "pt" });
  assert.deepEqual(await Deno.readFile(path), bytes, "streamed file equals the in-memory encoding");
  assert.deepEqual(digest, { bytes: bytes.length, sha256: await sha256(bytes) });
  assert.deepEqual(await hashFile(path), digest);
  const read = await readSafetensorsFile(path);
  assert.deepEqual(read.digest, digest);
  assert.deepEqual(read.tensors, back.tensors);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["t.safetensors"], "no temporary file left");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors refuses malformed input with what is wrong", async () => {
  const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 5)), /too short/);
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1)), /cover 8 data bytes, the file holds 7/);
  const huge = bytes.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => decodeSafetensors(huge), /header size 1099511627776 exceeds/);
  const withHeader = (h: string) => {
    const json = new TextEncoder().encode(h);
    const out = new Uint8Array(8 + json.length + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  assert.throws(() => decodeSafetensors(withHeader("{not json")), /header is not valid JSON/);
  assert.throws(
    () => decodeSafetensors(withHeader('{"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}')),
    /dtype "BF16", expected F32, I32 or U8/,
  );
  assert.throws(
    () => decodeSafetensors(withHeader('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}')),
    /spans 8 bytes, its F32 shape \[3\] needs 12/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader(
          '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        ),
      ),
    /"b" starts at byte 0, expected 4/,
  );
  assert.throws(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }), /has 2 values/);
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cut.safetensors");
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 3));
  await assert.rejects(() => readSafetensorsFile(path), SyntaxError);
  await Deno.remove(dir, { recursive: true });
});

async function pythonWithReader(): Promise<string | null> {
  for (const exe of ["/usr/bin/python3", "python3"]) {
    try {
      const r = await new Deno.Command(exe, { args: ["-c", "import json, struct"], stderr: "null" }).output();
      if (r.success) return exe;
    } catch {
      // not installed under this name
    }
  }
  return null;
}

const python = await pythonWithReader();

Deno.test({
  name: "safetensors written here are read by the Python reference reader (torch.frombuffer when torch is present)",
  ignore: python === null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = join(dir, "model.safetensors");
    const tensors = sample();
    await writeSafetensorsFile(path, tensors, { format: "pt", config_hash: "abc" });
    const script = new URL("../../tools/reference/optim_ref.py", import.meta.url).pathname;
    const r = await new Deno.Command(python!, { args: [script, "read-safetensors", path] }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const out = JSON.parse(new TextDecoder().decode(r.stdout));
    console.log(`read by ${python} with the ${out.reader} reader`);
    assert.deepEqual(out.metadata, { format: "pt", config_hash: "abc" });
    for (const [k, t] of Object.entries(tensors)) {
      assert.deepEqual(out.tensors[k].shape, t.shape, k);
      assert.deepEqual(out.tensors[k].data, Array.from(t.data), k);
    }
    await Deno.remove(dir, { recursive: true });
  },
});
