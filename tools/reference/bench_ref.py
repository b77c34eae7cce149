"""PyTorch reference timing for `deno task bench`: the same training step as the project's models, so that
the benchmark can print a ratio measured side by side in the same run.

It is the math of lib/model at benchmark scale (not a parity oracle: see model_ref.py for that):
TRM-Att block (fused qkv, RoPE over the 16-position puzzle prefix and the sequence, non-causal attention,
post-norm RMSNorm without gain, SwiGLU), a 16-position prefix (row 0 a puzzle embedding), inputs scaled by
sqrt(D), softmax cross-entropy, AdamW.
- DIS step: N_sup=6 supervision steps, T=1, n=2, each under gradient with its own optimizer step, the state
  detached between steps; a learned step embedding added to the input. 18 block applications per sample.
- TRM step: one ACT supervision step, T=3, n=6: 2 cycles without gradient, then one with gradient
  (21 block applications, 7 under gradient), LM loss + 0.5 * BCE on the halting logit, one optimizer step.
- Inference: DIS 6 steps / TRM 16 steps without gradient (the per-sample cost at evaluation).

Usage: python3 bench_ref.py PRESET BATCH [THREADS] [ITERS]
Prints one JSON object: preset, batch, threads, train_step_ms, train_samples_per_s, infer_samples_per_s."""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # name: (D, heads, layers, seq_len, vocab, model)
    "dis-compact-nqueens": (256, 8, 1, 64, 3, "dis"),
    "trm-compact-nqueens": (256, 8, 1, 64, 3, "trm"),
    "dis-compact-arc": (256, 8, 1, 900, 12, "dis"),
    "dis-medium-arc": (512, 8, 2, 900, 12, "dis"),
}
PREFIX = 16


def rms(x, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


class Block(nn.Module):
    def __init__(self, d, heads, length):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        inter = int(math.ceil(round(4 * d * 2 / 3) / 256) * 256)
        self.gu = nn.Linear(d, 2 * inter, bias=False)
        self.down = nn.Linear(inter, d, bias=False)
        hd = d // heads
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(length).float(), inv)
        emb = torch.cat([f, f], -1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    def rope(self, x):  # [B, H, L, hd]
        h = x.shape[-1] // 2
        return x * self.cos + torch.cat([-x[..., h:], x[..., :h]], -1) * self.sin

    def forward(self, h):
        b, length, d = h.shape
        q, k, v = self.qkv(h).view(b, length, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = self.rope(q), self.rope(k)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1) @ v
        h = rms(h + self.o(a.transpose(1, 2).reshape(b, length, d)))
        g, u = self.gu(h).chunk(2, -1)
        return rms(h + self.down(F.silu(g) * u))


class Model(nn.Module):
    def __init__(self, d, heads, layers, seq_len, vocab, nsup=6):
        super().__init__()
        length = PREFIX + seq_len
        self.d = d
        self.emb = nn.Embedding(vocab, d)
        self.step_emb = nn.Embedding(nsup + 2, d)
        self.blocks = nn.ModuleList([Block(d, heads, length) for _ in range(layers)])
        self.head = nn.Linear(d, vocab, bias=False)
        self.q_head = nn.Linear(d, 2)
        self.register_buffer("y0", torch.randn(d))
        self.register_buffer("z0", torch.randn(d))

    def net(self, h):
        for blk in self.blocks:
            h = blk(h)
        return h

    def embed(self, tokens, puzzle_rows, step=None):
        x = self.emb(tokens)
        if step is not None:
            x = x + self.step_emb.weight[step]
        prefix = torch.zeros(tokens.shape[0], PREFIX, self.d)
        prefix[:, 0] = puzzle_rows
        if step is not None:
            prefix = prefix + self.step_emb.weight[step]
        return torch.cat([prefix, x], 1) * math.sqrt(self.d)


def dis_step(m, opt, tokens, rows, targets, n=2):
    b, length = tokens.shape[0], tokens.shape[1] + PREFIX
    y = m.y0.expand(b, length, m.d)
    z = m.z0.expand(b, length, m.d)
    for s, tgt in enumerate(targets):
        x = m.embed(tokens, rows, s + 1)
        for _ in range(n):
            z = m.net(z + y + x)
        y = m.net(y + z)
        logits = m.head(y[:, PREFIX:])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        y, z = y.detach(), z.detach()


def trm_step(m, opt, tokens, rows, labels, t_cycles=3, n=6):
    b, length = tokens.shape[0], tokens.shape[1] + PREFIX
    y = m.y0.expand(b, length, m.d)
    z = m.z0.expand(b, length, m.d)
    x = m.embed(tokens, rows)
    with torch.no_grad():
        for _ in range(t_cycles - 1):
            for _ in range(n):
                z = m.net(z + y + x)
            y = m.net(y + z)
    for _ in range(n):
        z = m.net(z + y + x)
    y = m.net(y + z)
    logits = m.head(y[:, PREFIX:])
    q = m.q_head(y[:, 0])[:, 0]
    correct = (logits.argmax(-1) == labels).all(-1).float()
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
    loss = loss + 0.5 * F.binary_cross_entropy_with_logits(q, correct)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


@torch.no_grad()
def infer(m, tokens, rows, kind):
    b, length = tokens.shape[0], tokens.shape[1] + PREFIX
    y = m.y0.expand(b, length, m.d)
    z = m.z0.expand(b, length, m.d)
    steps, t_cycles, n = (6, 1, 2) if kind == "dis" else (16, 3, 6)
    for s in range(steps):
        x = m.embed(tokens, rows, s + 1 if kind == "dis" else None)
        for _ in range(t_cycles):
            for _ in range(n):
                z = m.net(z + y + x)
            y = m.net(y + z)
    return m.head(y[:, PREFIX:]).argmax(-1)


def timed(fn, iters):
    fn()
    ts = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    preset, batch = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else torch.get_num_threads()
    iters = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d, heads, layers, seq_len, vocab, kind = PRESETS[preset]
    m = Model(d, heads, layers, seq_len, vocab)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    tokens = torch.randint(0, vocab, (batch, seq_len))
    rows = torch.zeros(batch, d)
    labels = torch.randint(0, vocab, (batch, seq_len))
    targets = [labels] * 6
    if kind == "dis":
        step = timed(lambda: dis_step(m, opt, tokens, rows, targets), iters)
    else:
        step = timed(lambda: trm_step(m, opt, tokens, rows, labels), iters)
    inf = timed(lambda: infer(m, tokens, rows, kind), iters)
    print(json.dumps({
        "preset": preset, "batch": batch, "threads": threads, "torch": torch.__version__,
        "train_step_ms": round(step * 1e3, 2), "train_samples_per_s": round(batch / step, 3),
        "infer_samples_per_s": round(batch / inf, 3),
    }), flush=True)


if __name__ == "__main__":
    main()
