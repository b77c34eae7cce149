import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, type Tensor, tf, type Variable } from "../backend/mod.ts";
import { CheckpointError } from "../errors.ts";
import { deadPid } from "../io/_testing.ts";
import { Rng, stream } from "../random/mod.ts";
import {
  checkpointDirName,
  type CheckpointState,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { Ema } from "./ema.ts";
import { clipByGlobalNorm } from "./grad.ts";
import { createOptimizer, type OptimizerKind, type ParamOptimizer, SparseSignSGD } from "./optimizers.ts";
import type { TensorMap } from "./safetensors.ts";
import { learningRate } from "./schedule.ts";

// ---- a toy model with every kind of state a real run carries --------------------------------------

const B = 4, DIN = 4, H = 8, DOUT = 3, ROWS = 5;
const SCHEDULE = { baseLr: 0.05, warmupSteps: 2, totalSteps: 6, minRatio: 0.1 };

interface Toy {
  vars: Variable[];
  local: Variable; // the batch's puzzle-embedding rows, as TRM's local_weights buffer
  opt: ParamOptimizer;
  ema: Ema;
  sgd: SparseSignSGD;
  table: Float32Array;
  data: Rng;
  cursor: number;
  carry: Float32Array;
}

function createToy(kind: OptimizerKind, seed: number): Toy {
  const init = stream(seed, "init");
  const normals = (n: number, scale: number) => Float32Array.from({ length: n }, () => init.normal() * scale);
  // tidy frees the initial values; variables survive it.
  const vars = tf.tidy(() => [
    tf.variable(tf.tensor(normals(DIN * H, 0.5), [DIN, H]), true, "toy.w1"),
    tf.variable(tf.tensor(normals(H * DOUT, 0.5), [H, DOUT]), true, "toy.w2"),
  ]);
  const table = normals(ROWS * DIN, 0.1);
  return {
    vars,
    local: tf.tidy(() => tf.variable(tf.zeros([B, DIN]), true, "toy.local")),
    opt: createOptimizer(kind, vars, { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 }),
    ema: new Ema(vars, { decay: 0.9 }),
    sgd: new SparseSignSGD(table, DIN, { weightDecay: 0.1 }),
    table,
    data: stream(seed, "data"),
    cursor: 0,
    carry: new Float32Array(B * H),
  };
}

function disposeToy(t: Toy): void {
  t.opt.dispose();
  t.ema.dispose();
  t.local.dispose();
  t.vars.forEach((v) => v.dispose());
}

async function trainStep(t: Toy): Promise<void> {
  const ids = Int32Array.from({ length: B }, () => t.data.int(ROWS));
  const x = Float32Array.from({ length: B * DIN }, () => t.data.normal());
  const y = Float32Array.from({ length: B * DOUT }, () => t.data.normal());
  const rows = new Float32Array(B * DIN);
  ids.forEach((id, i) => rows.set(t.table.subarray(id * DIN, id * DIN + DIN), i * DIN));
  tf.tidy(() => t.local.assign(tf.tensor(rows, [B, DIN])));
  const lr = learningRate(t.opt.step + 1, SCHEDULE);
  const [localGrad, carry] = tf.tidy(() => {
    const [w1, w2] = t.vars;
    let hidden: Tensor | null = null;
    const { grads } = tf.variableGrads(() => {
      const h = tf.tanh(tf.matMul(tf.add(tf.tensor(x, [B, DIN]), t.local), w1)); // [B, H]
      hidden = tf.keep(h);
      const out = tf.matMul(h, w2); // [B, DOUT]
      return tf.mean(tf.square(tf.sub(out, tf.tensor(y, [B, DOUT])))) as tf.Scalar;
    }, [w1, w2, t.local]);
    const clipped = clipByGlobalNorm({ "toy.w1": grads["toy.w1"], "toy.w2": grads["toy.w2"] }, 0.5);
    t.opt.apply(clipped.grads, lr);
    t.ema.update();
    return [grads["toy.local"], hidden!];
  });
  t.sgd.apply(ids, new Float32Array(await localGrad.data()), lr * 2);
  t.carry = new Float32Array(await carry.data());
  localGrad.dispose();
  carry.dispose();
  t.cursor += B;
}

async function weightsOf(vars: Variable[]): Promise<TensorMap> {
  const out: TensorMap = {};
  for (const v of vars) out[v.name] = { shape: [...v.shape], data: new Float32Array(await v.data()) };
  return out;
}

async function snapshot(t: Toy, configHash = "cfg-a"): Promise<CheckpointState> {
  return {
    step: t.opt.step,
    configHash,
    model: await weightsOf(t.vars),
    ema: await t.ema.getState(),
    optim: await t.opt.getState(),
    extra: {
      "puzzle_emb": { shape: [ROWS, DIN], data: t.table },
      "carry/z": { shape: [B, H], data: t.carry },
      "carry/steps": { shape: [B], data: new Int32Array([1, 2, 3, 6]) },
    },
    rng: { data: t.data.state() },
    sampler: { cursor: t.cursor },
    json: { note: "toy", halted: [true, false, false, true] },
  };
}

function restore(t: Toy, s: CheckpointState): void {
  tf.tidy(() =>
    t.vars.forEach((v) => v.assign(tf.tensor(s.model[v.name].data as Float32Array, s.model[v.name].shape)))
  );
  t.opt.setState(s.optim);
  t.ema.setState(s.ema!);
  t.table.set(s.extra["puzzle_emb"].data);
  t.carry = s.extra["carry/z"].data as Float32Array;
  t.data = Rng.fromState(s.rng.data);
  t.cursor = (s.sampler as { cursor: number }).cursor;
}

function bytes(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameState(sa: CheckpointState, sb: CheckpointState): void {
  for (const section of ["model", "ema", "optim", "extra"] as const) {
    const ma = sa[section]!, mb = sb[section]!;
    assert.deepEqual(Object.keys(mb).sort(), Object.keys(ma).sort(), section);
    for (const k of Object.keys(ma)) {
      assert.deepEqual(bytes(mb[k].data), bytes(ma[k].data), `${section} "${k}" differs`);
    }
  }
  assert.deepEqual(sb.rng, sa.rng);
  assert.deepEqual(sb.sampler, sa.sampler);
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`resume on ${backend}: 3 steps + save + load into fresh objects + 3 steps == 6 steps, bit for bit`, async () => {
    await initBackend(backend);
    const before = tf.memory().numTensors;
    for (const kind of ["adam-atan2", "adamw"] as const) {
      const straight = createToy(kind, 7);
      for (let i = 0; i < 6; i++) await trainStep(straight);
      const reference = await snapshot(straight);
      disposeToy(straight);

      const runDir = await Deno.makeTempDir();
      const first = createToy(kind, 7);
      for (let i = 0; i < 3; i++) await trainStep(first);
      await saveCheckpoint(runDir, await snapshot(first));
      disposeToy(first); // the "kill"

      const resumed = createToy(kind, 99); // other seed: everything must come from the checkpoint
      const dir = await findLatestCheckpoint(runDir);
      assert.equal(dir, join(runDir, "checkpoints", "step-000003"));
      restore(resumed, await loadCheckpoint(dir!, { expectedConfigHash: "cfg-a" }));
      for (let i = 0; i < 3; i++) await trainStep(resumed);
      assert.equal(resumed.opt.step, 6);

      assertSameState(reference, await snapshot(resumed));
      disposeToy(resumed);
      await Deno.remove(runDir, { recursive: true });
    }
    assert.equal(tf.memory().numTensors, before, "no tensors leaked");
    await initBackend("cpu");
  });
}

// ---- layout, pointer, pruning, determinism -----------------------------------------------------------

function tinyState(step: number, configHash = "cfg-a"): CheckpointState {
  return {
    step,
    configHash,
    model: { "w": { shape: [2, 2], data: new Float32Array([1, 2, 3, step]) } },
    ema: { "w": { shape: [2, 2], data: new Float32Array([0.5, 1, 1.5, step / 2]) } },
    optim: { "step": { shape: [1], data: new Float32Array([step]) } },
    extra: { "puzzle_emb": { shape: [3, 2], data: new Float32Array(6).fill(step) } },
    rng: { data: Rng.fromSeed(step).state() },
    sampler: { epoch: 1, cursor: step * 8, order: [3, 1, 2] },
    json: { carry: { halted: [true, false] } },
  };
}

Deno.test("checkpoint round-trips every section and writes identical bytes for identical state", async () => {
  const runA = await Deno.makeTempDir(), runB = await Deno.makeTempDir();
  const state = tinyState(12);
  const saved = await saveCheckpoint(runA, state);
  await saveCheckpoint(runB, state);
  assert.equal(saved.dir, join(runA, "checkpoints", "step-000012"));
  const names = [...Deno.readDirSync(saved.dir)].map((e) => e.name).sort();
  assert.deepEqual(names, [
    "ema.safetensors",
    "extra.safetensors",
    "model.safetensors",
    "optim.safetensors",
    "state.json",
  ]);
  let total = 0;
  for (const n of names) {
    const a = await Deno.readFile(join(saved.dir, n));
    assert.deepEqual(a, await Deno.readFile(join(runB, "checkpoints", "step-000012", n)), `${n} is byte-stable`);
    total += a.length;
  }
  assert.equal(saved.bytes, total);
  assert.equal(await Deno.readTextFile(join(runA, "checkpoints", "latest")), "step-000012\n");
  const loaded = await loadCheckpoint(saved.dir, { expectedConfigHash: "cfg-a" });
  assert.deepEqual(loaded, state);
  const status = JSON.parse(await Deno.readTextFile(join(saved.dir, "state.json")));
  assert.equal(status.files["model.safetensors"].bytes, (await Deno.stat(join(saved.dir, "model.safetensors"))).size);
  assert.match(status.files["model.safetensors"].sha256, /^[0-9a-f]{64}$/);
  for (const d of [runA, runB]) await Deno.remove(d, { recursive: true });
});

Deno.test("checkpoints: latest pointer, keep the last N, clean stray temporaries, find without pointer", async () => {
  const run = await Deno.makeTempDir();
  assert.equal(await findLatestCheckpoint(run), null);
  const root = join(run, "checkpoints");
  await Deno.mkdir(join(root, `.step-000009.tmp-${await deadPid()}-1`), { recursive: true }); // a killed save
  for (const step of [5, 10, 15, 20]) await saveCheckpoint(run, tinyState(step), { keepLast: 2 });
  const dirs = [...Deno.readDirSync(root)].map((e) => e.name).sort();
  assert.deepEqual(dirs, ["latest", "step-000015", "step-000020"]);
  assert.equal(await findLatestCheckpoint(run), join(root, "step-000020"));
  // A resumed run that saves an earlier step than one on disk still points latest at what it wrote.
  await saveCheckpoint(run, tinyState(16), { keepLast: 2 });
  assert.equal(await findLatestCheckpoint(run), join(root, "step-000016"));
  await Deno.remove(join(root, "latest"));
  assert.equal(await findLatestCheckpoint(run), join(root, "step-000020"), "highest complete step without a pointer");
  await Deno.writeTextFile(join(root, "latest"), "step-000099\n");
  await assert.rejects(() => findLatestCheckpoint(run), /"latest" names "step-000099", which has no state.json/);
  await Deno.writeTextFile(join(root, "latest"), "../../etc\n");
  await assert.rejects(() => findLatestCheckpoint(run), CheckpointError);
  assert.equal(checkpointDirName(1_234_567), "step-1234567");
  await Deno.remove(run, { recursive: true });
});

// ---- refusing bad checkpoints ----------------------------------------------------------------------

async function damaged(edit: (dir: string) => Promise<void>): Promise<string> {
  const run = await Deno.makeTempDir();
  const { dir } = await saveCheckpoint(run, tinyState(7));
  await edit(dir);
  return dir;
}

async function flipByte(path: string, at: (size: number) => number): Promise<void> {
  const b = await Deno.readFile(path);
  b[at(b.length)] ^= 0x01;
  await Deno.writeFile(path, b);
}

const BAD_CASES: [string, (dir: string) => Promise<void>, RegExp][] = [
  [
    "another config",
    async () => {},
    /written under another config \(config hash "cfg-a" in state.json, this run's is "cfg-b"\)/,
  ],
  [
    "a truncated file",
    async (d) => await Deno.truncate(join(d, "model.safetensors"), 40),
    /file "model.safetensors" is truncated \(40 bytes, expected \d+\)/,
  ],
  [
    "a file with bytes appended",
    async (d) => await Deno.writeFile(join(d, "extra.safetensors"), new Uint8Array([0]), { append: true }),
    /file "extra.safetensors" has \d+ bytes, expected \d+/,
  ],
  [
    "a flipped byte in the data",
    (d) => flipByte(join(d, "optim.safetensors"), (n) => n - 1),
    /file "optim.safetensors" is corrupt \(SHA-256 [0-9a-f]{16}\.\.\., expected [0-9a-f]{16}\.\.\.\)/,
  ],
  [
    "a flipped byte in the header",
    (d) => flipByte(join(d, "ema.safetensors"), () => 10),
    /file "ema.safetensors" is corrupt \(SHA-256/,
  ],
  ["a missing file", (d) => Deno.remove(join(d, "extra.safetensors")), /file "extra.safetensors" is missing/],
  ["a missing state.json", (d) => Deno.remove(join(d, "state.json")), /file "state.json" is missing/],
  [
    "bad JSON",
    async (d) => await Deno.writeTextFile(join(d, "state.json"), '{"format": "trm-dis-checkpoint", '),
    /file "state.json" is not valid JSON/,
  ],
  [
    "an edited state.json",
    async (d) => {
      const p = join(d, "state.json");
      await Deno.writeTextFile(p, (await Deno.readTextFile(p)).replace('"step": 7', '"step": 8'));
    },
    /file "state.json" is corrupt \(checksum "[0-9a-f]{64}", its content hashes to "[0-9a-f]{64}"\)/,
  ],
  [
    "a newer format version",
    async (d) => {
      const p = join(d, "state.json");
      await Deno.writeTextFile(p, (await Deno.readTextFile(p)).replace('"version": 1', '"version": 2'));
    },
    /file "state.json" has version 2, this build reads 1/,
  ],
];

for (const [what, edit, message] of BAD_CASES) {
  Deno.test(`loadCheckpoint refuses ${what}`, async () => {
    const dir = await damaged(edit);
    const expected = what === "another config" ? "cfg-b" : "cfg-a";
    const err = await loadCheckpoint(dir, { expectedConfigHash: expected }).then(() => null, (e) => e);
    assert.ok(err instanceof CheckpointError, `expected a CheckpointError, got ${err}`);
    assert.ok(err.message.startsWith(`Cannot load checkpoint "${dir}": `), err.message);
    assert.match(err.message, message);
    await Deno.remove(join(dir, "..", ".."), { recursive: true });
  });
}
