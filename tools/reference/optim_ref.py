"""PyTorch reference for the project's optimisers, learning-rate schedule and safetensors files.

What it is: the test oracle for lib/train/optimizers.ts and lib/train/schedule.ts, and a stdlib-only
reader of the safetensors format that hands tensors to PyTorch (torch.frombuffer) when torch is present.
What it is not: a training script. The update rules are written out in torch ops, one function per
optimiser, so that tools/reference/model_ref.py can import them:

    adam_atan2_step            imoneoi's adam-atan2 (TRM): no epsilon, a = b = 1 (docs/upstream.md §2)
    adam_atan2_lucidrains_step lucidrains' adam-atan2-pytorch AdamAtan2 (DIS N-Queens): a = 1.27, b = 1,
                               decoupled_wd = False, so the decay is p *= 1 - lr * wd
    adamw_step                 torch.optim.AdamW itself (DIS ARC), eps 1e-8
    sparse_sign_sgd_step       TRM's CastedSparseEmbeddingSignSGD: rows sharing an id have their
                               gradients summed, then p = p * (1 - lr * wd) - lr * sign(g) on those rows
    lr_at                      TRM's cosine_schedule_with_warmup_lr_lambda (step = train_state.step,
                               1-based, already incremented)

Each *_step(params, grads, state, lr, ...) updates the float32 tensors of `params` (name -> tensor) in
place; a name missing from `grads` (or mapped to None) is skipped, as torch skips a parameter whose
.grad is None (no decay, no moment update, its step count unchanged). `state` is a dict the function
owns between calls.

Regenerate the committed fixture (Debian's python3-torch, 1.13); the script then runs `deno fmt` on it
(the repository's formatter owns JSON layout; run it yourself if deno is not on PATH):
    /usr/bin/python3 tools/reference/optim_ref.py fixture fixtures/optim/optim_v1.json
Read a safetensors file and print every tensor as JSON (used by lib/train/safetensors_test.ts):
    /usr/bin/python3 tools/reference/optim_ref.py read-safetensors FILE
"""
import json
import math
import shutil
import struct
import subprocess
import sys

FIXTURE_FORMAT = "optim-fixture"
FIXTURE_VERSION = 1


# ---- optimisers (need torch) ------------------------------------------------------------------------

def _moments(state, name, p):
    import torch
    s = state.setdefault(name, {})
    if not s:
        s["step"] = 0
        s["exp_avg"] = torch.zeros_like(p)
        s["exp_avg_sq"] = torch.zeros_like(p)
    return s


def adam_atan2_step(params, grads, state, lr, *, beta1, beta2, weight_decay):
    """imoneoi adam-atan2: p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = lerp(v, g^2, 1-b2);
    p -= (lr / (1 - b1^t)) * atan2(m, sqrt(v) / sqrt(1 - b2^t))."""
    import torch
    with torch.no_grad():
        for name, p in params.items():
            g = grads.get(name)
            if g is None:
                continue
            s = _moments(state, name, p)
            s["step"] += 1
            t = s["step"]
            bc1 = 1 - beta1 ** t
            bc2 = 1 - beta2 ** t
            p.mul_(1 - lr * weight_decay)
            s["exp_avg"].lerp_(g, 1 - beta1)
            s["exp_avg_sq"].lerp_(g * g, 1 - beta2)
            denom = s["exp_avg_sq"].sqrt() / math.sqrt(bc2)
            p.add_(torch.atan2(s["exp_avg"], denom), alpha=-(lr / bc1))


def adam_atan2_lucidrains_step(params, grads, state, lr, *, beta1, beta2, weight_decay, a=1.27, b=1.0):
    """lucidrains AdamAtan2 with its defaults (decoupled_wd=False): p *= 1 - lr*wd (only when wd > 0);
    m, v as above; p -= lr * a * atan2(m / (1 - b1^t), sqrt(v * b^2 / (1 - b2^t)))."""
    import torch
    with torch.no_grad():
        for name, p in params.items():
            g = grads.get(name)
            if g is None:
                continue
            if weight_decay > 0:
                p.mul_(1 - lr * weight_decay)
            s = _moments(state, name, p)
            s["step"] += 1
            t = s["step"]
            bc1 = 1 - beta1 ** t
            bc2 = 1 - beta2 ** t
            s["exp_avg"].lerp_(g, 1 - beta1)
            s["exp_avg_sq"].lerp_(g * g, 1 - beta2)
            den = s["exp_avg_sq"].mul(b * b / bc2).sqrt_()
            update = s["exp_avg"].mul(1 / bc1).atan2_(den)
            p.add_(update, alpha=-lr * a)


def adamw_step(params, grads, state, lr, *, beta1, beta2, weight_decay, eps=1e-8):
    """torch.optim.AdamW, one instance per `state` dict, lr set on its param group every step."""
    import torch
    if "_opt" not in state:
        state["_opt"] = torch.optim.AdamW(list(params.values()), lr=lr, betas=(beta1, beta2), eps=eps,
                                          weight_decay=weight_decay)
    opt = state["_opt"]
    for name, p in params.items():
        p.grad = None if grads.get(name) is None else grads[name].clone()
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    for p in params.values():
        p.grad = None


def adam_state(state, params, kind):
    """Moments of any of the three as {name: (step, exp_avg, exp_avg_sq)}, for comparison."""
    out = {}
    if kind == "adamw":
        opt = state.get("_opt")
        for name, p in params.items():
            s = opt.state.get(p) if opt is not None else None
            if s:
                out[name] = (int(s["step"].item()), s["exp_avg"], s["exp_avg_sq"])
        return out
    for name, s in state.items():
        out[name] = (s["step"], s["exp_avg"], s["exp_avg_sq"])
    return out


def sparse_sign_sgd_step(table, ids, grad, lr, *, weight_decay):
    """TRM's _sparse_emb_signsgd_dist on one process: table [rows, D], ids [B] int, grad [B, D]."""
    import torch
    with torch.no_grad():
        d = grad.shape[1]
        uniq, inv = ids.unique(return_inverse=True)
        summed = torch.zeros((uniq.shape[0], d), dtype=grad.dtype)
        summed.scatter_add_(0, inv.unsqueeze(-1).expand(-1, d), grad)
        rows = table[uniq]
        rows.mul_(1.0 - lr * weight_decay).add_(torch.sign(summed), alpha=-lr)
        table[uniq] = rows


def lr_at(step, *, base_lr, warmup_steps, total_steps, min_ratio, num_cycles=0.5):
    """TRM / DIS cosine_schedule_with_warmup_lr_lambda, same association of the arithmetic."""
    if step < warmup_steps:
        return base_lr * float(step) / float(max(1, warmup_steps))
    progress = float(step - warmup_steps) / float(max(1, total_steps - warmup_steps))
    return base_lr * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))))


# ---- fixture -----------------------------------------------------------------------------------------

def _t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def make_fixture():
    import torch
    gen = torch.Generator().manual_seed(20260101)

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen) * scale).float()

    shapes = {"w.qkv": (3, 4), "b.vec": (5,), "t.cube": (2, 3, 2)}
    params0 = {k: randn(*s) for k, s in shapes.items()}
    n_steps = 4
    grads = []
    for step in range(n_steps):
        g = {k: randn(*s, scale=0.1 * (step + 1)) for k, s in shapes.items()}
        g["w.qkv"][0, 0] = 0.0  # a zero gradient: atan2(0, 0) = 0, AdamW 0 / eps = 0
        g["b.vec"][1] = 40.0 if step == 0 else -40.0  # large, then flipping
        if step == 2:
            del g["t.cube"]  # no gradient: torch skips the parameter entirely
        grads.append(g)
    hyper = {"beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1, "eps": 1e-8}
    sched = {"base_lr": 0.05, "warmup_steps": 2, "total_steps": 6, "min_ratio": 0.1}
    lrs = [lr_at(t, **sched) for t in range(1, n_steps + 1)]

    steppers = {
        "adam-atan2": adam_atan2_step,
        "adam-atan2-lucidrains": adam_atan2_lucidrains_step,
        "adamw": adamw_step,
    }
    results = {}
    for kind, fn in steppers.items():
        params = {k: v.clone() for k, v in params0.items()}
        state = {}
        per_step = []
        for t in range(n_steps):
            kw = dict(hyper)
            if kind != "adamw":
                kw.pop("eps")
            fn(params, grads[t], state, lrs[t], **kw)
            moments = adam_state(state, params, kind)
            per_step.append({
                "params": {k: _t(v) for k, v in params.items()},
                "exp_avg": {k: _t(m[1]) for k, m in moments.items()},
                "exp_avg_sq": {k: _t(m[2]) for k, m in moments.items()},
                "steps": {k: m[0] for k, m in moments.items()},
            })
        results[kind] = per_step

    rows, dim = 6, 3
    table = randn(rows, dim)
    table0 = table.clone()
    sign_steps = []
    id_batches = [[1, 4, 1, 1], [0, 4, 5, 2]]
    for t, ids in enumerate(id_batches):
        ids_t = torch.tensor(ids, dtype=torch.int32)
        g = randn(len(ids), dim)
        if t == 0:
            # rows 1 (three copies) sum to exactly zero in column 0: sign 0, decay only
            g[0, 0], g[2, 0], g[3, 0] = 0.5, -0.25, -0.25
        lr = lrs[t] * 0.2
        sparse_sign_sgd_step(table, ids_t.long(), g, lr, weight_decay=0.5)
        sign_steps.append({"ids": ids, "grad": _t(g), "lr": lr, "table": _t(table)})

    return {
        "format": FIXTURE_FORMAT,
        "version": FIXTURE_VERSION,
        "regenerate": "/usr/bin/python3 tools/reference/optim_ref.py fixture fixtures/optim/optim_v1.json",
        "torch": torch.__version__,
        "hyper": hyper,
        "schedule": dict(sched, lrs=lrs, probe={str(t): lr_at(t, **sched) for t in range(0, 8)}),
        "params0": {k: _t(v) for k, v in params0.items()},
        "grads": [{k: _t(v) for k, v in g.items()} for g in grads],
        "results": results,
        "sign_sgd": {"rows": rows, "dim": dim, "weight_decay": 0.5, "table0": _t(table0), "steps": sign_steps},
    }


# ---- safetensors reader (stdlib; torch when present) ---------------------------------------------------

_DTYPES = {"F32": ("f", 4), "I32": ("i", 4), "U8": ("B", 1)}


def read_safetensors(path):
    """Returns (metadata, {name: (dtype, shape, values)}); values are torch tensors when torch imports,
    else lists. Checks the layout the spec requires: u64 LE header size, JSON header, contiguous data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for begin, end, name in spans:
        assert begin == pos, f"tensor {name} starts at {begin}, expected {pos}"
        pos = end
    assert pos == len(data), f"data section is {len(data)} bytes, tensors cover {pos}"
    try:
        import torch
        tdt = {"F32": torch.float32, "I32": torch.int32, "U8": torch.uint8}
    except ImportError:
        torch = None
    out = {}
    for name, v in header.items():
        begin, end = v["data_offsets"]
        code, size = _DTYPES[v["dtype"]]
        count = math.prod(v["shape"]) if v["shape"] else 1
        assert end - begin == count * size, f"tensor {name}: {end - begin} bytes for {count} values"
        chunk = data[begin:end]
        if torch is not None and count == 0:
            values = torch.empty(v["shape"], dtype=tdt[v["dtype"]])  # frombuffer refuses empty buffers
        elif torch is not None:
            values = torch.frombuffer(bytearray(chunk), dtype=tdt[v["dtype"]]).reshape(v["shape"])
        else:
            values = list(struct.unpack("<%d%s" % (count, code), chunk))
        out[name] = (v["dtype"], v["shape"], values)
    return meta, out


def _main(argv):
    if len(argv) >= 2 and argv[0] == "fixture":
        fx = make_fixture()
        with open(argv[1], "w") as f:
            json.dump(fx, f, separators=(",", ":"), sort_keys=True)
            f.write("\n")
        if shutil.which("deno"):
            subprocess.run(["deno", "fmt", "--quiet", argv[1]], check=True)
        else:
            sys.stderr.write(f"deno not found: run `deno fmt {argv[1]}` before committing\n")
        return 0
    if len(argv) == 2 and argv[0] == "read-safetensors":
        meta, tensors = read_safetensors(argv[1])
        reader = "torch" if tensors and not isinstance(next(iter(tensors.values()))[2], list) else "stdlib"
        out = {"metadata": meta, "reader": reader, "tensors": {}}
        for name, (dtype, shape, values) in tensors.items():
            flat = values.reshape(-1).tolist() if reader == "torch" else values
            out["tensors"][name] = {"dtype": dtype, "shape": list(shape), "data": flat}
        json.dump(out, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
