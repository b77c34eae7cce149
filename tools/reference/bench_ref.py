"""PyTorch timing twin of `deno task bench`: the same training step as the project's trainers, at
benchmark scale, so that the benchmark can print a ratio measured side by side in the same run.

It is the math of lib/model and lib/train (not a parity oracle: model_ref.py is that), with the same
structure and matmul FLOPs:
- TRM-Att block: fused qkv, RoPE over the P = 16 puzzle-prefix positions and the sequence, non-causal
  attention, post-norm RMSNorm without gain, SwiGLU (fused gate/up) with width ceil(round(4D*2/3)/m)*m.
- Input: sqrt(D) * ([puzzle row, 0 x (P-1)] ++ embed(tokens) (+ step_embed[s] for DIS)); the batch's puzzle
  rows are a leaf with a gradient, updated by sparse sign-SGD after each step (TRM's puzzle optimiser).
- Loss: stablemax (float32, as lib/train computes it) or softmax cross-entropy, the mean over each sample's
  tokens, weighted per sample (DIS's linear step weights), summed / B. TRM adds 0.5 * BCE(q_halt, exact).
- Optimiser: the preset's (adam-atan2, lucidrains' adam-atan2 or AdamW), from optim_ref.py.
- DIS step: N_sup supervision steps, each T cycles of (n latent updates, 1 answer update), the first T-1
  without gradient, then one optimiser step; y, z detached between steps. samples/s = B / (N_sup steps).
- TRM step: one ACT supervision step (T-1 cycles without gradient, one with), one optimiser step, the halting
  logits read back. samples/s = B / step.
- Inference: all N_sup steps without gradient; samples/s = B / time.

Usage:
  python3 bench_ref.py --preset NAME --batch B [--threads N] [--iters K]      standalone, a named preset
  python3 bench_ref.py --config JSON --batch B [--threads N] [--iters K]      what `deno task bench` runs
  python3 bench_ref.py --config JSON --batch B --serve                         alternate with the caller
  (each also takes --device cuda: the GPU in fp32 with TF32 off, to compare with the webgpu backend)
  python3 bench_ref.py --print-presets                                         the preset table (no torch)
Prints one JSON object: preset, batch, threads, torch, train_step_ms, train_samples_per_s,
infer_samples_per_s. With --serve it prints {"ready": true, "torch": ..., "threads": ...} once built, then
answers each line "train" or "infer" on stdin with {"ms": ...} (one unit, timed), until "quit" or EOF: the
benchmark alternates its own units with these, so both sides see the same load on a shared machine.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The benchmark presets, as lib/bench/presets.ts builds them (a test there compares the two tables).
_COMPACT = {"hidden": 256, "heads": 8, "layers": 1, "expansion": 4}
_MEDIUM = {"hidden": 512, "heads": 8, "layers": 2, "expansion": 4}
_COMMON = {"mlp_multiple": 256, "puzzle_emb_len": 16, "rope_theta": 10000.0, "norm_eps": 1e-5}
_DIS = {"method": "dis", "n_sup": 6, "h_cycles": 1, "l_cycles": 2, "loss": "stablemax"}
PRESETS = {
    "dis-compact-nqueens": {**_COMPACT, **_COMMON, **_DIS, "vocab": 4, "seq_len": 64, "num_puzzle_ids": 1,
                            "step_weights": "linear", "optimizer": "adam-atan2"},
    "trm-compact-nqueens": {**_COMPACT, **_COMMON, "method": "trm", "n_sup": 16, "h_cycles": 3, "l_cycles": 6,
                            "loss": "stablemax", "vocab": 3, "seq_len": 64, "num_puzzle_ids": 1,
                            "step_weights": "uniform", "optimizer": "adam-atan2"},
    "dis-compact-arc": {**_COMPACT, **_COMMON, **_DIS, "vocab": 12, "seq_len": 900, "num_puzzle_ids": 1024,
                        "step_weights": "uniform", "optimizer": "adamw"},
    "dis-medium-arc": {**_MEDIUM, **_COMMON, **_DIS, "vocab": 12, "seq_len": 900, "num_puzzle_ids": 1024,
                       "step_weights": "uniform", "optimizer": "adamw"},
}
OPT_ARGS = {"beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1}
LR, PUZZLE_LR, PUZZLE_WD = 1e-4, 1e-2, 0.1


def swiglu_hidden(d, expansion, multiple):
    return int(math.ceil(round(expansion * d * 2 / 3) / multiple) * multiple)


def build(cfg, batch, device):
    import torch

    d, v, p = cfg["hidden"], cfg["vocab"], cfg["puzzle_emb_len"]
    inter = swiglu_hidden(d, cfg["expansion"], cfg["mlp_multiple"])
    g = torch.Generator().manual_seed(0)

    def w(*shape, fan_in):
        return (torch.randn(*shape, generator=g) / math.sqrt(fan_in)).to(device).requires_grad_(True)

    params = {"embed": w(v, d, fan_in=d)}
    if cfg["method"] == "dis":
        params["step_embed"] = w(cfg["n_sup"] + 2, d, fan_in=d)
    for i in range(cfg["layers"]):
        params[f"{i}.qkv"] = w(d, 3 * d, fan_in=d)
        params[f"{i}.o"] = w(d, d, fan_in=d)
        params[f"{i}.gate_up"] = w(d, 2 * inter, fan_in=d)
        params[f"{i}.down"] = w(inter, d, fan_in=inter)
    params["lm_head"] = w(d, v, fan_in=d)
    if cfg["method"] == "trm":
        params["q_w"] = torch.zeros(d, 2, device=device, requires_grad=True)
        params["q_b"] = torch.full((2,), -5.0, device=device, requires_grad=True)
    hd = d // cfg["heads"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    f = torch.outer(torch.arange(p + cfg["seq_len"], dtype=torch.float32), inv)
    emb = torch.cat([f, f], -1)
    state = {
        "cos": emb.cos().view(1, -1, 1, hd).to(device), "sin": emb.sin().view(1, -1, 1, hd).to(device),
        "y0": torch.randn(d, generator=g).to(device), "z0": torch.randn(d, generator=g).to(device),
        "table": torch.zeros(cfg["num_puzzle_ids"], d, device=device),
    }
    tokens = torch.randint(0, min(v, 3), (batch, cfg["seq_len"]), generator=g).to(device)
    labels = torch.randint(0, min(v, 3), (batch, cfg["seq_len"]), generator=g).to(device)
    ids = (torch.arange(batch) % cfg["num_puzzle_ids"]).to(device)
    return params, state, tokens, labels, ids


def rms(x, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def block(h, params, i, cfg, st):
    b, s, d = h.shape
    heads = cfg["heads"]
    qkv = (h @ params[f"{i}.qkv"]).view(b, s, 3 * heads, d // heads)  # [B, S, 3H, hd]
    q, k, v = qkv.split(heads, dim=2)
    q = q * st["cos"] + rotate_half(q) * st["sin"]
    k = k * st["cos"] + rotate_half(k) * st["sin"]
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, S, hd]
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1) @ v
    h = rms(h + a.transpose(1, 2).reshape(b, s, d) @ params[f"{i}.o"], cfg["norm_eps"])
    gate, up = (h @ params[f"{i}.gate_up"]).chunk(2, -1)
    return rms(h + (F.silu(gate) * up) @ params[f"{i}.down"], cfg["norm_eps"])


def net(h, injection, params, cfg, st):
    h = h + injection
    for i in range(cfg["layers"]):
        h = block(h, params, i, cfg, st)
    return h


def embed(tokens, rows, step, params, cfg):
    b = tokens.shape[0]
    d, p = cfg["hidden"], cfg["puzzle_emb_len"]
    x = torch.cat([rows.view(b, 1, d), rows.new_zeros(b, p - 1, d), params["embed"][tokens]], 1)
    if step is not None:
        x = x + params["step_embed"][step].view(1, 1, d)
    return x * math.sqrt(d)


def cycles(x, y, z, params, cfg, st, count):
    for _ in range(count):
        for _ in range(cfg["l_cycles"]):
            z = net(z, y + x, params, cfg, st)
        y = net(y, z, params, cfg, st)
    return y, z


def per_sample_ce(logits, labels, kind):
    if kind == "stablemax":
        s = torch.where(logits < 0, 1 / (1 - logits + 1e-30), logits + 1)
        logp = torch.log(s / s.sum(-1, keepdim=True))
    else:
        logp = torch.log_softmax(logits, -1)
    return -torch.gather(logp, -1, labels.unsqueeze(-1)).squeeze(-1).mean(-1)  # [B]


def optimizer_step(cfg, params, opt_state):
    import optim_ref

    grads = {k: p.grad for k, p in params.items() if p.grad is not None}
    step = {"adam-atan2": optim_ref.adam_atan2_step, "adam-atan2-lucidrains": optim_ref.adam_atan2_lucidrains_step,
            "adamw": optim_ref.adamw_step}[cfg["optimizer"]]
    step(params, grads, opt_state, LR, **OPT_ARGS)
    for p in params.values():
        p.grad = None


def sparse_sign_sgd(table, ids, grad):
    """optim_ref.sparse_sign_sgd_step on any device: rows sharing an id are summed, then signed."""
    with torch.no_grad():
        uniq, inv = ids.unique(return_inverse=True)
        summed = grad.new_zeros(uniq.shape[0], grad.shape[1]).index_add_(0, inv, grad)
        table[uniq] = table[uniq] * (1.0 - PUZZLE_LR * PUZZLE_WD) - PUZZLE_LR * torch.sign(summed)


def supervision_step(cfg, params, st, opt_state, tokens, labels, ids, y, z, s):
    """One trainer step: returns the detached y, z."""
    b, p = tokens.shape[0], cfg["puzzle_emb_len"]
    rows = st["table"][ids].clone().requires_grad_(True)
    dis = cfg["method"] == "dis"
    step = s if dis else None
    x = embed(tokens, rows, step, params, cfg)
    if cfg["h_cycles"] > 1:
        with torch.no_grad():
            y, z = cycles(x, y, z, params, cfg, st, cfg["h_cycles"] - 1)
    y, z = cycles(x, y, z, params, cfg, st, 1)
    logits = y[:, p:] @ params["lm_head"]  # [B, L, V]
    ce = per_sample_ce(logits, labels, cfg["loss"])
    exact = (logits.argmax(-1) == labels).all(-1).float()
    if dis:
        weight = 2 * s / (cfg["n_sup"] + 1) if cfg["step_weights"] == "linear" else 1.0
        loss = (ce * weight).sum() / b
    else:
        q = (y[:, 0] @ params["q_w"] + params["q_b"])[:, 0]
        loss = ce.sum() / b + 0.5 * F.binary_cross_entropy_with_logits(q, exact, reduction="sum") / b
    loss.backward()
    optimizer_step(cfg, params, opt_state)
    sparse_sign_sgd(st["table"], ids, rows.grad)
    if not dis:
        (q > 0).tolist()  # the halting decision is made on the host
    return y.detach(), z.detach()


def train_step(cfg, params, st, opt_state, tokens, labels, ids):
    b, s = tokens.shape[0], cfg["puzzle_emb_len"] + cfg["seq_len"]
    y = st["y0"].expand(b, s, -1)
    z = st["z0"].expand(b, s, -1)
    for step in range(1, (cfg["n_sup"] if cfg["method"] == "dis" else 1) + 1):
        y, z = supervision_step(cfg, params, st, opt_state, tokens, labels, ids, y, z, step)


def infer(cfg, params, st, tokens, ids):
    with torch.no_grad():
        b, s = tokens.shape[0], cfg["puzzle_emb_len"] + cfg["seq_len"]
        y = st["y0"].expand(b, s, -1)
        z = st["z0"].expand(b, s, -1)
        rows = st["table"][ids]
        dis = cfg["method"] == "dis"
        x = None if dis else embed(tokens, rows, None, params, cfg)
        for step in range(1, cfg["n_sup"] + 1):
            if dis:
                x = embed(tokens, rows, step, params, cfg)
            y, z = cycles(x, y, z, params, cfg, st, cfg["h_cycles"])
            pred = (y[:, cfg["puzzle_emb_len"]:] @ params["lm_head"]).argmax(-1)
            if dis:
                tokens = pred  # autoregressive input costs the same as a fixed one
        return pred


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, iters):
    fn()
    sync()
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset")
    ap.add_argument("--config")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--print-presets", action="store_true")
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (fp32, TF32 off) beside a GPU backend")
    a = ap.parse_args(argv)
    if a.print_presets:
        print(json.dumps(PRESETS, sort_keys=True))
        return
    cfg = json.loads(a.config) if a.config else PRESETS[a.preset]
    global torch, F
    import torch
    import torch.nn.functional as F

    threads = a.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = a.device if a.device == "cpu" or torch.cuda.is_available() else "cpu"
    params, st, tokens, labels, ids = build(cfg, a.batch, torch.device(device))
    opt_state = {}
    if a.serve:
        units = {"train": lambda: train_step(cfg, params, st, opt_state, tokens, labels, ids),
                 "infer": lambda: infer(cfg, params, st, tokens, ids)}
        print(json.dumps({"ready": True, "torch": torch.__version__, "threads": threads, "device": device}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "quit":
                break
            t = time.perf_counter()
            units[cmd]()
            sync()
            print(json.dumps({"ms": round((time.perf_counter() - t) * 1e3, 2)}), flush=True)
        return
    step = timed(lambda: train_step(cfg, params, st, opt_state, tokens, labels, ids), a.iters)
    inf = timed(lambda: infer(cfg, params, st, tokens, ids), a.iters)
    print(json.dumps({
        "preset": a.preset or cfg.get("name", "custom"), "batch": a.batch, "threads": threads,
        "torch": torch.__version__, "device": device, "train_step_ms": round(step * 1e3, 2),
        "train_samples_per_s": round(a.batch / step, 3), "infer_samples_per_s": round(a.batch / inf, 3),
    }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
