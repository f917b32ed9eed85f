#!/usr/bin/env python3
"""Ablation of FLASH's causal linear normaliser `linear_norm` (chunk | n | prefix).

Reference tool only (PyTorch, CPU); not part of gau's build. See docs/flash_linear_norm.md.

A tiny causal FLASH language model (docs/model.md, "FLASH: mixed chunk attention"), same maths as
gau's layers/attention/flash.h:

    h        = rmsnorm(x)
    [u|v|z]  = h W_in + b_in            one fused projection d -> 2e + s
    u, v, z  = silu(u), silu(v), silu(z)
    qq, kq, ql, kl = z * gamma_i + beta_i          gamma ~ N(0, 0.02), beta = 0
    local:   quad_g = relu(qq_g kq_g^T / c + r[i - j])^2 v_g     causal inside chunk g
    global:  lin_g  = ql_g (sum_{h<g} kl_h^T v_h) / norm_g         exclusive prefix over chunks
    o        = (u * (quad + lin)) W_o + b_o ;  y = x + o

norm_g:
    chunk   c                                   (constant)
    n       N = the configured length (max_length); at eval lengths != N two readings exist:
            'n'      keeps N = the training length (gau with max_length set),
            'n_in'   uses N = the input length   (gau with max_length = 0)
    prefix  g * c (tokens before chunk g); chunk 0 has no global part.
    none    control, not a gau option: the global part is dropped (local attention only).

Two offline tasks that need cross-chunk information:
    text  byte-level LM on CPython's standard library sources (/usr/lib/python3.*), files split
          into disjoint train / eval sets; loss over all positions.
    mqar  multi-query associative recall: 8 key-value pairs in chunk 0, then noise tokens with
          query keys scattered over chunks >= 1; loss / accuracy only on the query positions, so
          every scored prediction needs information from another chunk.

Each (task, norm, seed) is trained at length N_train and evaluated at N_train and 2 N_train.

Usage:  python flash_linear_norm.py [--tasks text,mqar] [--seeds 0,1,2] [--steps 300] [--json out.json]
        python flash_linear_norm.py --summarize a.json b.json      (table of saved runs)
The runs recorded in docs/flash_linear_norm.md (two single-thread processes side by side):
        python flash_linear_norm.py --tasks text --batch 16 --steps 400 --threads 1 --json text.json
        python flash_linear_norm.py --tasks mqar --batch 32 --steps 400 --threads 1 --json mqar.json
"""
import argparse
import glob
import json
import math
import os
import platform
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------
# Model


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


class FlashLayer(nn.Module):
    def __init__(self, d, s, e, c):
        super().__init__()
        self.d, self.s, self.e, self.c = d, s, e, c
        self.norm = RMSNorm(d)
        self.w_in = nn.Linear(d, 2 * e + s)
        self.gamma = nn.Parameter(torch.randn(4, s) * 0.02)
        self.beta = nn.Parameter(torch.zeros(4, s))
        self.bias = nn.Parameter(torch.zeros(2 * c - 1))  # r[i - j] = bias[i - j + c - 1]
        self.w_o = nn.Linear(e, d)

    def forward(self, x, linear_norm, norm_n):
        b, n, _ = x.shape
        c, s, e = self.c, self.s, self.e
        h = self.norm(x)
        u, v, z = F.silu(self.w_in(h)).split([e, e, s], dim=-1)
        qk = z.unsqueeze(2) * self.gamma + self.beta  # [b, n, 4, s]
        qq, kq, ql, kl = qk.unbind(2)

        g = (n + c - 1) // c
        pad = g * c - n
        if pad:  # padded keys: v = 0 removes them from every sum (local and global)
            qq, kq, ql, kl, v = (F.pad(t, (0, 0, 0, pad)) for t in (qq, kq, ql, kl, v))
        qq, kq, ql, kl = (t.view(b, g, c, s) for t in (qq, kq, ql, kl))
        vc = v.view(b, g, c, e)

        # local relu^2, causal inside the chunk
        idx = torch.arange(c, device=x.device)
        rel = self.bias[(idx[:, None] - idx[None, :]) + c - 1]  # [c, c]
        scores = qq @ kq.transpose(-1, -2) / c + rel
        a = F.relu(scores).square().masked_fill(idx[None, :] > idx[:, None], 0.0)
        quad = a @ vc  # [b, g, c, e]

        # global causal linear part: exclusive prefix over chunks
        kv = kl.transpose(-1, -2) @ vc  # [b, g, s, e]
        state = kv.cumsum(1) - kv
        lin = ql @ state  # [b, g, c, e]
        if linear_norm == "chunk":
            lin = lin / c
        elif linear_norm == "n":
            lin = lin / norm_n
        elif linear_norm == "prefix":
            cnt = (torch.arange(g, device=x.device, dtype=x.dtype) * c).clamp(min=1.0)  # g=0: state is 0
            lin = lin / cnt.view(1, g, 1, 1)
        elif linear_norm == "none":  # control: local part only, no information across chunks
            lin = torch.zeros_like(lin)
        else:
            raise ValueError(linear_norm)

        o = (quad + lin).reshape(b, g * c, e)[:, :n]
        return x + self.w_o(u * o)


class FlashLM(nn.Module):
    def __init__(self, vocab, d, s, e, c, layers):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        nn.init.normal_(self.emb.weight, std=0.02 * math.sqrt(d))
        self.layers = nn.ModuleList(FlashLayer(d, s, e, c) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, tokens, linear_norm, norm_n):
        x = self.emb(tokens)
        for layer in self.layers:
            x = layer(x, linear_norm, norm_n)
        return self.head(self.norm(x))


# ----------------------------------------------------------------------------------------------
# Data


def load_python_sources():
    """CPython stdlib .py files (top level of /usr/lib/python3.X), sorted; every 8th file -> eval."""
    roots = sorted(glob.glob("/usr/lib/python3.[0-9]*/"))
    if not roots:
        raise SystemExit("no /usr/lib/python3.* found")
    files = sorted(glob.glob(os.path.join(roots[-1], "*.py")))
    train, held = [], []
    for i, f in enumerate(files):
        with open(f, "rb") as fh:
            data = fh.read()
        (held if i % 8 == 0 else train).append(data)
    to_t = lambda chunks: torch.frombuffer(bytearray(b"".join(chunks)), dtype=torch.uint8).long()
    return to_t(train), to_t(held), roots[-1], len(files)


class TextTask:
    vocab = 256

    def __init__(self):
        self.train, self.held, self.root, self.nfiles = load_python_sources()

    def batch(self, gen, bsz, n, split="train"):
        data = self.train if split == "train" else self.held
        start = torch.randint(0, data.numel() - n - 1, (bsz,), generator=gen)
        seq = torch.stack([data[i : i + n + 1] for i in start.tolist()])
        x, y = seq[:, :-1], seq[:, 1:].clone()
        return x, y  # every position scored


class MQARTask:
    """Keys 0..K-1, values K..K+V-1, noise K+V..K+V+Z-1. Pairs (k v) fill chunk 0 (P = c/2 pairs);
    after that, noise tokens with Q query keys (drawn from the P keys) at random positions in
    chunks >= 1; the target at a query position is its key's value; other positions are ignored."""

    def __init__(self, c, K=64, V=64, Z=32, Q=16):
        self.c, self.K, self.V, self.Z, self.Q = c, K, V, Z, Q
        self.P = c // 2
        self.vocab = K + V + Z

    def batch(self, gen, bsz, n, split="train"):
        c, K, V, Z, P = self.c, self.K, self.V, self.Z, self.P
        q = self.Q * n // 128  # query density fixed per token (16 per 128 tokens)
        keys = torch.argsort(torch.rand(bsz, K, generator=gen), dim=1)[:, :P]
        vals = K + torch.randint(0, V, (bsz, P), generator=gen)
        x = K + V + torch.randint(0, Z, (bsz, n), generator=gen)
        y = torch.full((bsz, n), -100, dtype=torch.long)
        x[:, 0 : 2 * P : 2] = keys
        x[:, 1 : 2 * P : 2] = vals
        # query positions: distinct, in [c, n)
        pos = torch.argsort(torch.rand(bsz, n - c, generator=gen), dim=1)[:, :q] + c
        which = torch.randint(0, P, (bsz, q), generator=gen)
        rows = torch.arange(bsz)[:, None]
        x[rows, pos] = keys.gather(1, which)
        y[rows, pos] = vals.gather(1, which)
        return x, y


# ----------------------------------------------------------------------------------------------
# Train / eval


def evaluate(model, task, norm, norm_n, n, nbatches, bsz, seed, n_train):
    gen = torch.Generator().manual_seed(10_000 + seed)  # same eval data for every norm
    tot = {"loss": 0.0, "cnt": 0, "correct": 0, "tail_loss": 0.0, "tail_cnt": 0}
    model.eval()
    with torch.no_grad():
        for _ in range(nbatches):
            x, y = task.batch(gen, bsz, n, split="eval")
            logits = model(x, norm, norm_n)
            lp = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none", ignore_index=-100).view_as(y)
            m = y != -100
            tot["loss"] += lp[m].sum().item()
            tot["cnt"] += m.sum().item()
            tot["correct"] += (logits.argmax(-1)[m] == y[m]).sum().item()
            if n > n_train:
                mt = m.clone()
                mt[:, :n_train] = False
                tot["tail_loss"] += lp[mt].sum().item()
                tot["tail_cnt"] += mt.sum().item()
    model.train()
    out = {"loss": tot["loss"] / tot["cnt"], "acc": tot["correct"] / tot["cnt"]}
    if tot["tail_cnt"]:
        out["tail_loss"] = tot["tail_loss"] / tot["tail_cnt"]
    return out


def run(task_name, task, norm, seed, a):
    torch.manual_seed(seed)
    model = FlashLM(task.vocab, a.d, a.s, 2 * a.d, a.c, a.layers)
    decay = [p for nm, p in model.named_parameters() if p.dim() >= 2]
    other = [p for nm, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98))
    warm = max(1, a.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, a.steps) / a.steps)))
    gen = torch.Generator().manual_seed(seed)  # same training data for every norm at a given seed
    t0 = time.time()
    losses = []
    for step in range(a.steps):
        x, y = task.batch(gen, a.batch, a.n)
        logits = model(x, norm, a.n)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
    train_time = time.time() - t0
    k = max(1, a.steps // 10)
    res = {"task": task_name, "norm": norm, "seed": seed, "train_loss": sum(losses[-k:]) / len(losses[-k:]),
           "train_time_s": train_time, "curve": losses[:: max(1, a.steps // 20)]}
    res["eval_n"] = evaluate(model, task, norm, a.n, a.n, a.eval_batches, a.batch, seed, a.n)
    res["eval_2n"] = evaluate(model, task, norm, a.n, 2 * a.n, a.eval_batches // 2, a.batch, seed, a.n)
    if norm == "n":  # the other reading of 'n' at a longer input: N = input length
        res["eval_2n_n_in"] = evaluate(model, task, norm, 2 * a.n, 2 * a.n, a.eval_batches // 2, a.batch, seed, a.n)
    res["total_time_s"] = time.time() - t0
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", default="text,mqar")
    p.add_argument("--norms", default="chunk,n,prefix")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--c", type=int, default=16)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--s", type=int, default=32)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--eval_batches", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default="")
    p.add_argument("--summarize", nargs="*", help="only print the table of these result JSON files")
    a = p.parse_args()
    if a.summarize:
        results = []
        for f in a.summarize:
            with open(f) as fh:
                results += json.load(fh)["results"]
        summarize(results)
        return
    torch.set_num_threads(a.threads)

    meta = {"torch": torch.__version__, "python": platform.python_version(), "machine": platform.processor() or
            platform.machine(), "threads": a.threads, "args": vars(a), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    print(json.dumps(meta), flush=True)
    results = []
    for task_name in a.tasks.split(","):
        if task_name == "text":
            task = TextTask()
            print(f"# text: {task.root} {task.nfiles} files, train {task.train.numel()} B, eval {task.held.numel()} B",
                  flush=True)
        else:
            task = MQARTask(a.c)
        for seed in [int(x) for x in a.seeds.split(",")]:
            for norm in a.norms.split(","):
                r = run(task_name, task, norm, seed, a)
                results.append(r)
                extra = f" 2n[n_in]={r['eval_2n_n_in']['loss']:.4f}" if "eval_2n_n_in" in r else ""
                print(f"{task_name:5s} {norm:6s} seed={seed} train={r['train_loss']:.4f} "
                      f"eval@n={r['eval_n']['loss']:.4f} (acc {r['eval_n']['acc']:.3f}) "
                      f"eval@2n={r['eval_2n']['loss']:.4f} (acc {r['eval_2n']['acc']:.3f}, "
                      f"tail {r['eval_2n']['tail_loss']:.4f}){extra} [{r['total_time_s']:.0f}s]", flush=True)
                if a.json:
                    with open(a.json, "w") as fh:
                        json.dump({"meta": meta, "results": results}, fh, indent=1)
    summarize(results)


def summarize(results):
    import statistics as st

    def ms(vals):
        if len(vals) == 1:
            return f"{vals[0]:.4f}"
        return f"{st.mean(vals):.4f} ± {st.stdev(vals):.4f}"

    print("\n| task | norm | train loss | eval loss @n | eval loss @2n | tail loss @2n (pos >= n) | acc @n | acc @2n |")
    print("|---|---|---|---|---|---|---|---|")
    keys = []
    for r in results:
        if (r["task"], r["norm"]) not in keys:
            keys.append((r["task"], r["norm"]))
    for task, norm in keys:
        rs = [r for r in results if r["task"] == task and r["norm"] == norm]
        variants = [("eval_2n", norm)]
        if norm == "n":
            variants = [("eval_2n", "n (N = n_train)"), ("eval_2n_n_in", "n (N = input length)")]
        for key, label in variants:
            print(f"| {task} | {label} | {ms([r['train_loss'] for r in rs])} | {ms([r['eval_n']['loss'] for r in rs])} "
                  f"| {ms([r[key]['loss'] for r in rs])} | {ms([r[key]['tail_loss'] for r in rs])} "
                  f"| {ms([r['eval_n']['acc'] for r in rs])} | {ms([r[key]['acc'] for r in rs])} |")

    # Paired by seed (same init seed, same training and eval batches): loss(norm) - loss(chunk).
    print("\n| task | norm | Δ train | Δ eval @n | Δ eval @2n | Δ tail @2n | seeds |")
    print("|---|---|---|---|---|---|---|")
    for task, norm in keys:
        if norm == "chunk":
            continue
        base = {r["seed"]: r for r in results if r["task"] == task and r["norm"] == "chunk"}
        rs = [r for r in results if r["task"] == task and r["norm"] == norm and r["seed"] in base]
        if not rs:
            continue
        variants = [("eval_2n", norm)]
        if norm == "n":
            variants = [("eval_2n", "n (N = n_train)"), ("eval_2n_n_in", "n (N = input length)")]
        for key, label in variants:
            d = lambda f: ms([f(r) - f(base[r["seed"]]) for r in rs])
            at2n = lambda r: r.get(key, r["eval_2n"])  # chunk has only eval_2n
            print(f"| {task} | {label} | {d(lambda r: r['train_loss'])} | {d(lambda r: r['eval_n']['loss'])} "
                  f"| {d(lambda r: at2n(r)['loss'])} | {d(lambda r: at2n(r)['tail_loss'])} | {len(rs)} |")


if __name__ == "__main__":
    main()
