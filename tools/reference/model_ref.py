"""PyTorch reference for lib/model: the parity oracle for TRM and DIS.

What it is: tiny TRM (ACT on a rolling batch) and DIS (reveal targets) models written out in torch ops the
way TRM's and DIS's released code computes them (models/layers.py, models/recursive_reasoning/trm.py,
models/losses.py; docs/upstream.md §1, §2 and §6.2), trained for 3 optimiser steps from weights this
script draws. It writes a versioned fixture that tests/parity_test.ts loads into our TypeScript models:
inputs, the first step's logits, halting logits and loss, every gradient of the first step (puzzle rows
included), and the weights and puzzle table after 3 steps with each optimiser (adam-atan2, lucidrains'
adam-atan2, AdamW; the puzzle table always with sign-SGD). The optimiser updates come from optim_ref.py.

What it is not: the released code itself (no bfloat16, no torch.compile, no distributed code). The
forward runs in float32, and the stablemax loss in float64 as TRM does (our TypeScript computes it in
float32; the fixture records the float32 loss too, so the test can state the difference).

Regenerate the committed fixture (Debian's python3-torch 1.13; the JSON is then formatted with deno fmt):
    /usr/bin/python3 tools/reference/model_ref.py fixtures/parity
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optim_ref  # noqa: E402

FORMAT = "trm-dis-parity"
VERSION = 1
IGNORE = -100

# ---- the model -------------------------------------------------------------------------------------
# Weights use the project's layout ([in, out], x @ W); each linear below is F.linear(x, W.t()), i.e. the
# PyTorch layout nn.Linear.weight = W.t().


def swiglu_hidden(d, expansion, multiple):
    return -(round(expansion * d * 2 / 3) // -multiple) * multiple


def rope_tables(positions, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    t = torch.arange(positions, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rms_norm(x, eps):
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def lin(x, w):
    return F.linear(x, w.t())


def block(h, w, i, cfg, cos, sin):
    b, s, d = h.shape
    heads = cfg["heads"]
    hd = d // heads
    qkv = lin(h, w[f"blocks.{i}.attn.qkv.weight"]).view(b, s, 3 * heads, hd)
    q, k, v = qkv[:, :, :heads], qkv[:, :, heads:2 * heads], qkv[:, :, 2 * heads:]
    q = q * cos.unsqueeze(-2) + rotate_half(q) * sin.unsqueeze(-2)
    k = k * cos.unsqueeze(-2) + rotate_half(k) * sin.unsqueeze(-2)
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # B H S hd
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1) @ v  # non-causal
    att = att.transpose(1, 2).reshape(b, s, d)
    h = rms_norm(h + lin(att, w[f"blocks.{i}.attn.o.weight"]), cfg["normEps"])
    gate, up = lin(h, w[f"blocks.{i}.mlp.gate_up.weight"]).chunk(2, dim=-1)
    mlp = lin(F.silu(gate) * up, w[f"blocks.{i}.mlp.down.weight"])
    return rms_norm(h + mlp, cfg["normEps"])


def net(h, injection, w, cfg, rope):
    h = h + injection
    for i in range(cfg["layers"]):
        h = block(h, w, i, cfg, *rope)
    return h


def input_embedding(tokens, rows, step_idx, w, cfg):
    b = tokens.shape[0]
    d, p = cfg["hidden"], cfg["puzzleEmbLen"]
    emb = F.embedding(tokens.long(), w["embed_tokens.weight"])
    prefix = F.pad(rows, (0, p * d - d)).view(b, p, d)
    emb = torch.cat((prefix, emb), dim=-2)
    if step_idx is not None:
        emb = emb + F.embedding(step_idx.long(), w["step_embed.weight"])[:, None, :]
    return math.sqrt(d) * emb


def recursion(x, y, z, w, cfg, method, rope):
    """T-1 cycles without gradient, one with: z = net(z, y + x) n times, then y = net(y, z)."""
    with torch.no_grad():
        for _ in range(method["hCycles"] - 1):
            for _ in range(method["lCycles"]):
                z = net(z, y + x, w, cfg, rope)
            y = net(y, z, w, cfg, rope)
    for _ in range(method["lCycles"]):
        z = net(z, y + x, w, cfg, rope)
    y = net(y, z, w, cfg, rope)
    return y, z


# ---- losses (TRM models/losses.py semantics) ----------------------------------------------------------

def log_stablemax(x):
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    return torch.log(s / s.sum(-1, keepdim=True))


def token_ce(logits, labels, kind, dtype):
    """Per-token loss, 0 where the label is outside [0, V) (the DIS head maps those to -100)."""
    v = logits.shape[-1]
    valid = (labels >= 0) & (labels < v)
    safe = torch.where(valid, labels, torch.zeros_like(labels)).long()
    if kind == "stablemax":
        logp = log_stablemax(logits.to(dtype))
    else:
        logp = torch.log_softmax(logits.to(dtype), dim=-1)
    picked = torch.gather(logp, -1, safe.unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, torch.zeros_like(picked)), valid


def per_sample_ce(logits, labels, kind, dtype):
    loss, valid = token_ce(logits, labels, kind, dtype)
    return loss.sum(-1) / valid.sum(-1).clamp_min(1)


# ---- training -----------------------------------------------------------------------------------------

OPTIMISERS = {
    "adam-atan2": optim_ref.adam_atan2_step,
    "adam-atan2-lucidrains": optim_ref.adam_atan2_lucidrains_step,
    "adamw": optim_ref.adamw_step,
}


def reveal_frames(x0, x1, rank, n_sup):
    """Frames 1..n_sup: x0 with positions of rank < floor(s * n_diff / n_sup) taken from x1."""
    n_diff = int((x0 != x1).sum())
    frames = []
    for s in range(1, n_sup + 1):
        frames.append(torch.where(rank < (s * n_diff) // n_sup, x1, x0))
    return torch.stack(frames)


def train(case, w0, table0, batches, extra):
    """Runs 3 optimiser steps of TRM (ACT carry) or DIS (reveal path) and records what the test compares."""
    cfg, method, tr = case["backbone"], case["method"], case["train"]
    is_dis = method["method"] == "dis"
    w = {k: v.clone() for k, v in w0.items()}
    table = table0.clone()
    rope = rope_tables(cfg["puzzleEmbLen"] + cfg["seqLen"], cfg["hidden"] // cfg["heads"], cfg["ropeTheta"])
    trainable = [k for k in w if k not in ("y_init", "z_init")]
    b, l = case["batchSize"], cfg["seqLen"]
    n_sup = method["nSup"]
    s_len = cfg["puzzleEmbLen"] + l
    y = torch.zeros(b, s_len, cfg["hidden"])
    z = torch.zeros(b, s_len, cfg["hidden"])
    steps = torch.zeros(b, dtype=torch.int32)
    halted = torch.ones(b, dtype=torch.bool)
    cur = {"inputs": torch.zeros(b, l, dtype=torch.int32), "labels": torch.zeros(b, l, dtype=torch.int32),
           "puzzle_ids": torch.zeros(b, dtype=torch.int32)}
    frames = torch.zeros(b, n_sup, l, dtype=torch.int32)
    prev_pred = torch.zeros(b, l, dtype=torch.int32)
    ranks = iter(extra.get("ranks", []))
    opt_state = {}
    out = {"steps": []}
    for t, batch in enumerate(batches):
        fresh = halted.clone()
        for i in range(b):
            if fresh[i]:
                for k in cur:
                    cur[k][i] = batch[k][i]
                steps[i] = 0
                if is_dis:
                    frames[i] = reveal_frames(cur["inputs"][i], cur["labels"][i], next(ranks), n_sup)
        y = torch.where(fresh.view(-1, 1, 1), w["y_init"], y)
        z = torch.where(fresh.view(-1, 1, 1), w["z_init"], z)
        params = {k: w[k].clone().requires_grad_(True) for k in trainable}
        pw = dict(params, y_init=w["y_init"], z_init=w["z_init"])
        rows = table[cur["puzzle_ids"].long()].clone().requires_grad_(True)
        labels = cur["labels"]
        if is_dis:
            step_idx = (steps + 1).clamp(max=n_sup)
            tokens = torch.where(fresh.view(-1, 1), cur["inputs"], prev_pred) if method["autoregressive"] \
                else cur["inputs"]
            targets = frames[torch.arange(b), (step_idx - 1).long()]
            x = input_embedding(tokens, rows, step_idx, pw, cfg)
        else:
            x = input_embedding(cur["inputs"], rows, None, pw, cfg)
        y, z = recursion(x, y, z, pw, cfg, method, rope)
        logits = lin(y, pw["lm_head.weight"])[:, cfg["puzzleEmbLen"]:]
        g_batch = case["globalBatch"]
        rec = {"fresh": fresh.int().tolist()}
        if is_dis:
            weights = (step_idx.double() * 2 / (n_sup + 1)) if method["stepWeights"] == "linear" \
                else torch.ones(b, dtype=torch.float64)
            lm = per_sample_ce(logits, targets, method["loss"], torch.float64)
            total = (lm * weights).sum() / g_batch
            lm32 = per_sample_ce(logits, targets, method["loss"], torch.float32)
            total32 = (lm32 * weights.float()).sum() / g_batch
            rec.update(step_idx=step_idx.tolist(), targets=targets)
        else:
            q = (lin(y[:, 0], pw["q_head.weight"]) + pw["q_head.bias"]).float()[:, 0]
            with torch.no_grad():
                valid = (labels >= 0) & (labels < logits.shape[-1])
                right = (valid & (logits.argmax(-1) == labels)).sum(-1)
                seq_correct = right == valid.sum(-1)
            lm = per_sample_ce(logits, labels, method["loss"], torch.float64)
            q_loss = F.binary_cross_entropy_with_logits(q, seq_correct.float(), reduction="sum")
            total = (lm.sum() + method["qLossWeight"] * q_loss) / g_batch
            lm32 = per_sample_ce(logits, labels, method["loss"], torch.float32)
            total32 = (lm32.sum() + method["qLossWeight"] * q_loss) / g_batch
            rec.update(q=q.detach(), seq_correct=seq_correct.int().tolist())
        if t == 0:
            # The loss in float32 vs float64 (TRM) and its effect on dL/dlogits.
            g64 = torch.autograd.grad(total, logits, retain_graph=True)[0]
            g32 = torch.autograd.grad(total32, logits, retain_graph=True)[0]
            out["loss_f32"] = float(total32)
            out["dlogits_f64_vs_f32_maxdiff"] = float((g64 - g32).abs().max())
            out["dlogits_maxabs"] = float(g64.abs().max())
        total.backward()
        rec["loss"] = float(total)
        rec["logits"] = logits.detach()
        if t == 0:
            rec["grads"] = {k: p.grad.detach().clone() for k, p in params.items()}
            rec["grads"]["puzzle_rows"] = rows.grad.detach().clone()
        grads = {k: p.grad.detach() for k, p in params.items()}
        opt_kw = {"beta1": tr["beta1"], "beta2": tr["beta2"], "weight_decay": tr["weightDecay"]}
        params_now = {k: w[k] for k in trainable}
        OPTIMISERS[tr["optimizer"]](params_now, grads, opt_state, tr["lr"], **opt_kw)
        optim_ref.sparse_sign_sgd_step(table, cur["puzzle_ids"].long(), rows.grad.detach(), tr["puzzleLr"],
                                       weight_decay=tr["puzzleWeightDecay"])
        y, z = y.detach(), z.detach()
        steps = steps + 1
        if is_dis:
            prev_pred = logits.detach().argmax(-1).to(torch.int32)
            halted = steps >= n_sup
        else:
            halted = steps >= n_sup
            if n_sup > 1:
                u = torch.tensor(extra["explore_u"][t], dtype=torch.float64)
                kk = torch.tensor(extra["explore_k"][t], dtype=torch.int32)
                halted = halted | (rec["q"] > 0)
                min_halt = (u < method["haltExplorationProb"]).int() * kk
                halted = halted & (steps >= min_halt)
        rec["halted"] = halted.int().tolist()
        out["steps"].append(rec)
    out["weights"] = w
    out["table"] = table
    return out


# ---- cases --------------------------------------------------------------------------------------------

def make_case(name, layers, method, optimizer, gen):
    d, heads, vocab, seq, p, ids, b = 32, 4, 6, 16, 16, 5, 4
    backbone = {
        "vocabSize": vocab, "seqLen": seq, "hidden": d, "heads": heads, "layers": layers, "expansion": 4,
        "mlpMultiple": 32, "puzzleEmbLen": p, "numPuzzleIds": ids, "ropeTheta": 10000.0, "normEps": 1e-5,
        "stepEmbedRows": method["nSup"] + 2 if method["method"] == "dis" else 0,
        "qHead": method["method"] == "trm",
    }
    inter = swiglu_hidden(d, 4, 32)
    shapes = {"embed_tokens.weight": (vocab, d)}
    if backbone["stepEmbedRows"]:
        shapes["step_embed.weight"] = (backbone["stepEmbedRows"], d)
    for i in range(layers):
        shapes[f"blocks.{i}.attn.qkv.weight"] = (d, 3 * d)
        shapes[f"blocks.{i}.attn.o.weight"] = (d, d)
        shapes[f"blocks.{i}.mlp.gate_up.weight"] = (d, 2 * inter)
        shapes[f"blocks.{i}.mlp.down.weight"] = (inter, d)
    shapes["lm_head.weight"] = (d, vocab)
    if backbone["qHead"]:
        shapes["q_head.weight"] = (d, 2)
        shapes["q_head.bias"] = (2,)
    shapes["y_init"] = (d,)
    shapes["z_init"] = (d,)
    w = {}
    for k, s in shapes.items():
        fan_in = s[0] if len(s) == 2 and k != "embed_tokens.weight" and k != "step_embed.weight" else d
        w[k] = (torch.randn(*s, generator=gen) / math.sqrt(fan_in)).float()
    w["y_init"] = torch.randn(d, generator=gen).float()
    w["z_init"] = torch.randn(d, generator=gen).float()
    if backbone["qHead"]:
        # Random, not TRM's (0, -5), so that the halting logits straddle 0 and some slots halt early.
        w["q_head.bias"] = torch.tensor([0.2, -0.3])
    table = (torch.randn(ids, d, generator=gen) * 0.5).float()
    batches = []
    for t in range(3):
        inputs = torch.randint(0, vocab, (b, seq), generator=gen, dtype=torch.int32)
        labels = torch.randint(1, vocab, (b, seq), generator=gen, dtype=torch.int32)
        keep = torch.rand(b, seq, generator=gen) < 0.5
        labels = torch.where(keep, inputs, labels)  # partly equal to the input, as puzzles are
        labels[:, -3:] = IGNORE  # unsupervised tail (label PAD)
        labels[0, 0] = IGNORE
        if t == 0:
            labels[2] = IGNORE  # nothing supervised: loss 0, and TRM counts the sample as correct
        puzzle_ids = torch.tensor([1, 3, 1, 4], dtype=torch.int32)  # a shared id: rows summed by sign-SGD
        batches.append({"inputs": inputs, "labels": labels, "puzzle_ids": puzzle_ids})
    extra = {}
    if method["method"] == "dis":
        # One reveal order per sample entering a slot, as the code draws it: rand scores, non-diff last.
        ranks = []
        for t in range(3):
            if t % method["nSup"] != 0:
                continue
            for i in range(b):
                x0, x1 = batches[t]["inputs"][i], batches[t]["labels"][i]
                scores = torch.rand(seq, generator=gen)
                scores = torch.where(x0 != x1, scores, torch.full_like(scores, float("inf")))
                ranks.append(torch.argsort(torch.argsort(scores)).to(torch.int32))
        extra["ranks"] = ranks
    else:
        extra["explore_u"] = [[0.05, 0.5, 0.07, 0.9], [0.3, 0.02, 0.6, 0.08], [0.5, 0.5, 0.01, 0.5]]
        extra["explore_k"] = [[3, 2, 2, 3], [2, 3, 3, 2], [3, 3, 3, 2]]
    train_cfg = {"optimizer": optimizer, "lr": 0.01, "puzzleLr": 0.01, "beta1": 0.9, "beta2": 0.95,
                 "weightDecay": 0.1, "puzzleWeightDecay": 0.1}
    case = {"name": name, "backbone": backbone, "method": method, "train": train_cfg, "batchSize": b,
            "globalBatch": b}
    return case, w, table, batches, extra


TRM = {"method": "trm", "nSup": 3, "hCycles": 2, "lCycles": 2, "haltExplorationProb": 0.1, "qLossWeight": 0.5}
DIS = {"method": "dis", "nSup": 2, "hCycles": 1, "lCycles": 2, "targets": "reveal"}
CASES = [
    ("trm_l1_stablemax_adam-atan2", 1, dict(TRM, loss="stablemax"), "adam-atan2"),
    ("trm_l2_softmax_adamw", 2, dict(TRM, loss="softmax"), "adamw"),
    ("dis_l1_stablemax_adamw", 1, dict(DIS, loss="stablemax", stepWeights="uniform", autoregressive=False), "adamw"),
    ("dis_l2_stablemax_lucidrains_ar_linear", 2,
     dict(DIS, loss="stablemax", stepWeights="linear", autoregressive=True), "adam-atan2-lucidrains"),
]


# ---- fixture files ------------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """Minimal safetensors writer (F32 / I32), tensors in name order."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": FORMAT, "version": str(VERSION)}
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def main(out_dir):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(4242)
    tensors, manifest = {}, {"format": FORMAT, "version": VERSION, "torch": torch.__version__,
                             "regenerate": "/usr/bin/python3 tools/reference/model_ref.py fixtures/parity",
                             "cases": []}
    for name, layers, method, optimizer in CASES:
        case, w0, table0, batches, extra = make_case(name, layers, method, optimizer, gen)
        res = train(case, w0, table0, batches, extra)
        pre = name + "/"
        for k, v in w0.items():
            tensors[pre + "w0/" + k] = v
        tensors[pre + "table0"] = table0
        for t, bt in enumerate(batches):
            for k, v in bt.items():
                tensors[f"{pre}batch{t}/{k}"] = v
        for i, r in enumerate(extra.get("ranks", [])):
            tensors[f"{pre}rank{i}"] = r
        for k, v in res["steps"][0]["grads"].items():
            tensors[pre + "grad/" + k] = v
        for t, r in enumerate(res["steps"]):
            tensors[f"{pre}step{t}/logits"] = r["logits"]
            if "q" in r:
                tensors[f"{pre}step{t}/q"] = r["q"]
            if "targets" in r:
                tensors[f"{pre}step{t}/targets"] = r["targets"]
        for k, v in res["weights"].items():
            tensors[pre + "w3/" + k] = v
        tensors[pre + "table3"] = res["table"]
        entry = dict(case)
        entry.update({
            "exploreU": extra.get("explore_u"),
            "exploreK": extra.get("explore_k"),
            "rankCount": len(extra.get("ranks", [])),
            "losses": [r["loss"] for r in res["steps"]],
            "lossF32": res["loss_f32"],
            "dlogitsF64VsF32MaxDiff": res["dlogits_f64_vs_f32_maxdiff"],
            "dlogitsMaxAbs": res["dlogits_maxabs"],
            "fresh": [r["fresh"] for r in res["steps"]],
            "halted": [r["halted"] for r in res["steps"]],
            "stepIdx": [r.get("step_idx") for r in res["steps"]],
            "seqCorrect": [r.get("seq_correct") for r in res["steps"]],
        })
        manifest["cases"].append(entry)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, f"parity_v{VERSION}.safetensors"), tensors)
    jpath = os.path.join(out_dir, f"parity_v{VERSION}.json")
    with open(jpath, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    if shutil.which("deno"):
        subprocess.run(["deno", "fmt", "--quiet", jpath], check=True)
    else:
        sys.stderr.write(f"deno not found: run `deno fmt {jpath}` before committing\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
