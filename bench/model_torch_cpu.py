#!/usr/bin/env python3
"""PyTorch eager CPU reference figures for `gau bench model` (one language-model training step).

The same models as gau's (layers/models/language_model.h, at the sizes matched_size_config
gives), written in plain PyTorch eager and timed the same way: one forward + backward step
(zero the gradients, cross-entropy loss over random byte ids, backward; no optimizer), on the
CPU with the same number of threads (OMP_NUM_THREADS, or --threads). Prints one JSON document
with the step's median milliseconds, tokens/s, the model FLOPs of the step with gau's count
(bench/model_flops.h) and the MFU against torch.mm's 2048^3 f32 GEMM timed alongside.

  GAU LM (layers/gau.h, the block defaults): ScaleNorm (g = sqrt(d)) -> ONE Linear d -> 2e + s
    with bias -> silu -> u, v, z; q, k = z * gamma_i + beta_i; RoPE (rotate-half) on q and k;
    A = relu(q k^T / n)^2 with the causal mask; o = Linear e -> d (u * (A v)); y = x + o.
  FLASH LM (layers/flash_block.h, --flavours gau,flash,transformer_pp): the GAU block with four
    scale-offsets qq, kq, ql, kl (all rotated) and the causal mixed-chunk attention of
    layers/attention/flash.h at its defaults (chunk c = 256, linear_norm chunk) in place of A v.
  Transformer++ LM (layers/transformer_pp.h): RMSNorm -> fused QKV (no bias) -> RoPE ->
    F.scaled_dot_product_attention(is_causal=True) -> out projection; RMSNorm -> SwiGLU; both
    residual. Its SwiGLU width is set, as matched_size_config does, to the multiple of 8 that
    brings its parameter count nearest the GAU model of 2L layers.
  Both: embedding N(0, 0.02) tied to the logits, final RMSNorm, mean cross-entropy.

PyTorch comes from PyPI (pip install torch); it is only ever used by this script.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def rope_table(n, s, base=10000.0):
    inv = base ** (-torch.arange(0, s // 2, dtype=torch.float64) * 2 / s)  # omega_j = base^(-2j/s)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]  # [n, s/2]
    return ang.cos().float(), ang.sin().float()


def rope(x, cos, sin):
    # x [..., n, s], rotate-half: [x1 | x2] -> [x1 c - x2 t | x2 c + x1 t]
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class ScaleNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.g = nn.Parameter(torch.full((1,), math.sqrt(d)))
        self.eps = eps

    def forward(self, x):
        return self.g * x / x.norm(dim=-1, keepdim=True).clamp(min=self.eps)


class Gau(nn.Module):
    def __init__(self, d, e, s, n):
        super().__init__()
        self.e, self.s, self.n = e, s, n
        self.norm = ScaleNorm(d)
        self.w_in = nn.Linear(d, 2 * e + s)
        self.gamma = nn.Parameter(torch.randn(2, s) * 0.02)
        self.beta = nn.Parameter(torch.zeros(2, s))
        self.w_out = nn.Linear(e, d)

    def forward(self, x, cos, sin, mask):
        u, v, z = F.silu(self.w_in(self.norm(x))).split([self.e, self.e, self.s], dim=-1)
        q = rope(z * self.gamma[0] + self.beta[0], cos, sin)
        k = rope(z * self.gamma[1] + self.beta[1], cos, sin)
        a = F.relu((q @ k.transpose(-1, -2)) / self.n).square().masked_fill(mask, 0.0)  # [b, n, n]
        return x + self.w_out(u * (a @ v))


def flash_attention(qq, kq, ql, kl, v, c, mask):
    """layers/attention/flash.h, causal, linear_norm chunk: qq, kq, ql, kl [b, n, s], v [b, n, e].

    quad_g = relu(qq_g kq_g^T / c)^2 v_g with j <= i inside chunk g, lin_g = ql_g (sum_{h<g} kl_h^T
    v_h) / c. n is padded with zeros to whole chunks, as gau does: in a causal attention the padded
    keys come after every real query, and the padded queries are cut off again.
    """
    n = qq.shape[1]
    g = -(-n // c)
    pad = g * c - n
    if pad:
        qq, kq, ql, kl, v = (F.pad(x, (0, 0, 0, pad)) for x in (qq, kq, ql, kl, v))
    qq, kq, ql, kl, v = (x.unflatten(1, (g, c)) for x in (qq, kq, ql, kl, v))  # [b, g, c, .]
    a = F.relu((qq @ kq.transpose(-1, -2)) / c).square().masked_fill(mask, 0.0)  # [b, g, c, c]
    kv = kl.transpose(-1, -2) @ v  # [b, g, s, e]
    kv = kv.cumsum(dim=1) - kv  # the chunks before g
    o = a @ v + (ql @ kv) / c
    return o.flatten(1, 2)[:, :n]


class Flash(nn.Module):
    def __init__(self, d, e, s, chunk):
        super().__init__()
        self.e, self.s, self.chunk = e, s, chunk
        self.norm = ScaleNorm(d)
        self.w_in = nn.Linear(d, 2 * e + s)
        self.gamma = nn.Parameter(torch.randn(4, s) * 0.02)  # qq, kq, ql, kl
        self.beta = nn.Parameter(torch.zeros(4, s))
        self.w_out = nn.Linear(e, d)
        self.register_buffer("chunk_mask", torch.ones(chunk, chunk, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, x, cos, sin, mask):  # mask: the n x n one, not used
        u, v, z = F.silu(self.w_in(self.norm(x))).split([self.e, self.e, self.s], dim=-1)
        qq, kq, ql, kl = (rope(z * self.gamma[i] + self.beta[i], cos, sin) for i in range(4))
        return x + self.w_out(u * flash_attention(qq, kq, ql, kl, v, self.chunk, self.chunk_mask))


class TransformerPP(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads, self.hidden = heads, hidden
        self.attn_norm = nn.RMSNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.ffn_norm = nn.RMSNorm(d, eps=1e-5)
        self.w_in = nn.Linear(d, 2 * hidden, bias=False)
        self.w_out = nn.Linear(hidden, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, n, d = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(rope(q, cos, sin), rope(k, cos, sin), v, is_causal=True)
        h = x + self.out(o.transpose(1, 2).reshape(b, n, d))
        gate, up = self.w_in(self.ffn_norm(h)).split(self.hidden, dim=-1)
        return h + self.w_out(F.silu(gate) * up)


class LanguageModel(nn.Module):
    def __init__(self, vocab, d, blocks, rope_width, n):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.RMSNorm(d, eps=1e-5)
        cos, sin = rope_table(n, rope_width)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.ones(n, n, dtype=torch.bool).triu(1), persistent=False)

    def loss(self, ids, targets):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        logits = self.norm(x) @ self.embed.weight.T  # tied
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def build(flavour, vocab, d, layers, n):
    """The GAU or FLASH model of 2L layers, or the Transformer++ model of L layers matched to the GAU one."""
    e, s, chunk = 2 * d, 128, 256
    if flavour == "flash":
        return LanguageModel(vocab, d, [Flash(d, e, s, chunk) for _ in range(2 * layers)], s, n), \
            {"e": e, "s": s, "chunk": chunk}
    gau = LanguageModel(vocab, d, [Gau(d, e, s, n) for _ in range(2 * layers)], s, n)
    if flavour == "gau":
        return gau, {"e": e, "s": s}
    heads = max(1, d // 64)
    target = parameters(gau)
    # The count is affine in the SwiGLU width h: per layer 3 d h + (4 d^2 + 2 d); solve for h.
    fixed = vocab * d + d + layers * (4 * d * d + 2 * d)
    hidden = max(8, round((target - fixed) / (3 * d * layers) / 8) * 8)
    model = LanguageModel(vocab, d, [TransformerPP(d, heads, hidden) for _ in range(layers)], d // heads, n)
    return model, {"heads": heads, "hidden": hidden}


def step_flops(flavour, vocab, d, layers, b, n, shape):
    """gau's model FLOPs of one step (bench/model_flops.h): 6 P T + 3 x the attention forward."""
    def pairs(m):  # causal
        return m * (m + 1) / 2

    if flavour in ("gau", "flash"):
        e, s, blocks = shape["e"], shape["s"], 2 * layers
        per_block = d * (2 * e + s) + e * d
        if flavour == "gau":
            attention = blocks * b * pairs(n) * 2 * (s + e)
        else:  # within chunks, plus the linear part's kl^T v and ql KV
            c = shape["chunk"]
            local = n // c * pairs(c) + pairs(n % c)
            attention = blocks * b * (local * 2 * (s + e) + 4 * n * s * e)
    else:
        blocks = layers
        per_block = 4 * d * d + 3 * d * shape["hidden"]
        attention = blocks * b * pairs(n) * 2 * (2 * d)
    matmul_params = vocab * d + blocks * per_block
    return 6 * matmul_params * b * n + 3 * attention


def time_interleaved(fns, warmup_s, repeats):
    """Like gau's bench::time_interleaved: warm up by time, then rounds alternating in order."""
    start = time.perf_counter()
    while True:
        for fn in fns:
            fn()
        if time.perf_counter() - start >= warmup_s:
            break
    samples = [[] for _ in fns]
    for r in range(repeats):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            samples[i].append((time.perf_counter() - t0) * 1e3)
    return [{"median_ms": statistics.median(x), "min_ms": min(x), "max_ms": max(x), "repeats": repeats}
            for x in samples]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--sizes", default="512", help="sequence lengths n")
    parser.add_argument("--flavours", default="gau,transformer_pp", help="of gau, flash, transformer_pp")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2, help="Transformer++ layers L (GAU: 2L)")
    parser.add_argument("--vocab", type=int, default=256)
    parser.add_argument("--tokens", type=int, default=4096, help="tokens per step: b = max(1, tokens / n)")
    parser.add_argument("--sgemm", type=int, default=2048, help="the reference GEMM's n")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0")) or None)
    parser.add_argument("--warmup-s", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    a, bm = torch.randn(args.sgemm, args.sgemm), torch.randn(args.sgemm, args.sgemm)
    records = []
    for n in (int(x) for x in args.sizes.split(",")):
        b = max(1, args.tokens // n)
        ids = torch.randint(0, args.vocab, (b, n))
        targets = torch.randint(0, args.vocab, (b, n))
        for flavour in args.flavours.split(","):
            model, shape = build(flavour, args.vocab, args.dim, args.layers, n)

            def step():
                model.zero_grad(set_to_none=True)
                model.loss(ids, targets).backward()

            t_step, t_mm = time_interleaved([step, lambda: torch.mm(a, bm)], args.warmup_s, args.repeats)
            flops = step_flops(flavour, args.vocab, args.dim, args.layers, b, n, shape)
            step_gflops = flops / t_step["median_ms"] / 1e6
            mm_gflops = 2.0 * args.sgemm ** 3 / t_mm["median_ms"] / 1e6
            records.append({
                "name": "lm_step", "flavour": flavour, "dtype": "f32", "n": n, "b": b, "tokens": b * n,
                "dim": args.dim, "layers": len(model.blocks), "vocab": args.vocab, **shape,
                "parameters": parameters(model), "step": t_step,
                "tokens_per_s": b * n / (t_step["median_ms"] * 1e-3), "model_flops": flops,
                "model_gflops": step_gflops,
                "sgemm": {"n": args.sgemm, "timing": t_mm, "gflops": mm_gflops}, "mfu": step_gflops / mm_gflops,
            })
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": records}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
