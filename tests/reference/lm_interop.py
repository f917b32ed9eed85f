#!/usr/bin/env python3
"""Checkpoint interop: gau's decoder-only language model (layers/models/language_model.h) with
GAU, FLASH and Transformer++ blocks, written again in PyTorch from docs/model.md, loads a gau
checkpoint and computes the same logits.

    python lm_interop.py check CKPT GAU_OUT [--rtol R]   # PyTorch's logits against gau's
    python lm_interop.py fixture CKPT GAU_OUT FIXTURE    # writes a fixture (JSON) for the C++ test

CKPT is a checkpoint directory (model.safetensors and state.json, trainers/checkpoint.h); the
model is built from the config in state.json and its weights loaded with strict load_state_dict
semantics: every tensor of the checkpoint fills exactly one parameter, under gau's name and
shape, and every parameter is filled. GAU_OUT is a safetensors file gau wrote with "ids" i64
[b, n] and "logits" f32 [b, n, V]. Everything here runs in float64.

`check` exits 1 unless every |gau - torch| <= rtol * (|torch| + rms(torch)), the tolerance of
tests/support/fixture.h's expect_matches. `fixture` writes the ids, a fingerprint of every
weight (sum, sum of squares, a probe) and a summary of the logits (fixture_lib.summary);
tests/trainers/checkpoint_interop_test.cpp makes the checkpoints and remakes its fixtures with

    GAU_TEST_PYTHON=.venv/bin/python GAU_INTEROP_WRITE_FIXTURES=1 build/tests/trainers_checkpoint_interop_test

What this implements is what the C++ test covers: GAU with the relu², softmax, softmax_plus and
Laplace kernels at each of its scales; GAU, FLASH and Transformer++ with RoPE, with no positions
or with a relative bias (per offset or T5 buckets; FLASH's one bias per offset inside a chunk);
every norm and eps; stacks given as one block or as a list of any mix of block types. Anything
else that would change the function is refused by name: another model type (masked_lm), non-causal
blocks (a language model's are causal), an unknown key or value.
Needs torch, numpy, safetensors and PyYAML.
"""
import argparse
import json
import math
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file

from fixture_lib import PROBE_SEEDS, counter_uniform, summary, write

DTYPE = torch.float64


class ConfigLoader(yaml.SafeLoader):
    """YAML 1.2's numbers: gau writes 1e-05 (trainers/config/yaml_text.h), which PyYAML's YAML 1.1
    rules read as a string because the mantissa has no dot."""


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
               r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
    list("-+0123456789."))


class Keys:
    """A config map read key by key, with gau's defaults. done() refuses keys nobody read, so a
    key this reference does not know cannot silently change the function it checks."""

    def __init__(self, node, where):
        if not isinstance(node, dict):
            raise ValueError(f"{where}: expected a map, got {node!r}")
        self.node, self.where, self.read = node, where, set()

    def get(self, key, default=None, allowed=None):
        self.read.add(key)
        if key not in self.node and default is None:
            raise ValueError(f"{self.where}: missing key '{key}'")
        value = self.node.get(key, default)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{self.where}.{key} = {value!r}: this reference implements only {allowed}")
        return value

    def ignore(self, *keys):
        """Keys that do not change the logits of a model in eval mode (dropout, init, ...)."""
        self.read.update(keys)

    def done(self):
        unknown = sorted(set(self.node) - self.read)
        if unknown:
            raise ValueError(f"{self.where}: keys this reference does not implement: {unknown}")


# ---- norms (layers/norm.h); parameter names as gau's ----

class ScaleNorm(nn.Module):
    """g · x / max(||x||, eps), g [1] (the GAU paper's norm)."""

    def __init__(self, d, eps):
        super().__init__()
        self.g = nn.Parameter(torch.empty(1, dtype=DTYPE))
        self.eps = eps

    def forward(self, x):
        return self.g * x / x.norm(dim=-1, keepdim=True).clamp(min=self.eps)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + eps) ⊙ weight."""

    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d, dtype=DTYPE))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + self.eps) * self.weight


class LayerNorm(nn.Module):
    """(x - mean) / sqrt(var + eps) ⊙ weight + bias, the biased (1/d) variance."""

    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d, dtype=DTYPE))
        self.bias = nn.Parameter(torch.empty(d, dtype=DTYPE))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


NORMS = {"scale_norm": ScaleNorm, "rms_norm": RMSNorm, "layer_norm": LayerNorm}


def linear(n_in, n_out, bias):
    return nn.Linear(n_in, n_out, bias=bias, dtype=DTYPE)


def rope(x, base=10000.0):
    """Rotate-half RoPE (core/ops/rope.h) over x [..., n, s], positions 0 .. n - 1: feature i turns
    with feature i + s/2 by the angle p · base^(-2i/s)."""
    n, s = x.shape[-2], x.shape[-1]
    theta = base ** (-2.0 * torch.arange(s // 2, dtype=DTYPE) / s)
    angle = torch.arange(n, dtype=DTYPE)[:, None] * theta[None, :]  # [n, s/2]
    cos, sin = torch.cos(angle).repeat(1, 2), torch.sin(angle).repeat(1, 2)
    x1, x2 = x[..., : s // 2], x[..., s // 2:]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


def causal_mask(n):
    """[n, n], True where key j <= query i."""
    return torch.ones(n, n, dtype=torch.bool).tril()


def offsets(n):
    """[n, n] rel = i - j, query position minus key position (n_q = n_k: no alignment shift)."""
    return torch.arange(n)[:, None] - torch.arange(n)[None, :]


def t5_bucket(rel, num_buckets, max_distance, bidirectional):
    """T5's bucket of rel (Raffel et al. 2020, as in its released code), in gau's sign: rel is the
    query's position minus the key's, T5's relative_position is -rel. Bidirectional: half the
    buckets each way, keys after the query (rel < 0) in the upper half; one-directional: every
    rel < 0 counts as 0. Per direction, distances below max_exact = buckets / 2 get a bucket
    each, the rest log-spaced up to max_distance, and the farther ones the last bucket."""
    if bidirectional:
        num_buckets //= 2
        base = torch.where(rel < 0, num_buckets, 0)
        dist = rel.abs()
    else:
        base = torch.zeros_like(rel)
        dist = rel.clamp(min=0)
    max_exact = num_buckets // 2
    # T5 truncates to an integer, a floor where it is used (the argument is >= 0 there); the clamp
    # only keeps log(0) out of the rows that take their exact bucket.
    large = max_exact + (torch.log(dist.clamp(min=1).double() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).floor().long()
    return base + torch.where(dist < max_exact, dist, large.clamp(max=num_buckets - 1))


class RelativeBias(nn.Module):
    """table[index(rel)] (docs/model.md, "Relative-position bias"): per_offset, 2 max_offset + 1
    entries at clamp(rel, ±max_offset) + max_offset, or t5, num_buckets entries at T5's bucket."""

    def __init__(self, k, causal):
        super().__init__()
        self.kind = k.get("relative_kind", "t5", allowed=["per_offset", "t5"])
        if self.kind == "per_offset":
            self.max_offset = k.get("max_offset", 127)
            size = 2 * self.max_offset + 1
        else:
            self.num_buckets, self.max_distance = k.get("num_buckets", 32), k.get("max_distance", 128)
            self.bidirectional = k.get("bidirectional", not causal)
            size = self.num_buckets
        k.ignore("relative_init_std")
        self.table = nn.Parameter(torch.empty(size, dtype=DTYPE))

    def forward(self, n):
        """[n, n] the bias of query i and key j."""
        rel = offsets(n)
        if self.kind == "per_offset":
            index = rel.clamp(-self.max_offset, self.max_offset) + self.max_offset
        else:
            index = t5_bucket(rel, self.num_buckets, self.max_distance, self.bidirectional)
        return self.table[index]


# ---- GAU and FLASH (layers/gated_input.h, gau.h, flash_block.h) ----

class ScaleOffset(nn.Module):
    """h heads of one shared z: head_i = z ⊙ gamma[i] + beta[i]; gamma, beta [h, s]."""

    def __init__(self, heads, s):
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(heads, s, dtype=DTYPE))
        self.beta = nn.Parameter(torch.empty(heads, s, dtype=DTYPE))

    def forward(self, z):
        return [z * self.gamma[i] + self.beta[i] for i in range(self.gamma.shape[0])]


class GatedBlock(nn.Module):
    """What GAU and FLASH share: the front t = norm(x); [u|v|z] = silu(t W_inᵀ + b_in) in that
    order; the scale-offset heads of z, each rotated (position: rope); and the back
    y = x + (u ⊙ a) W_outᵀ + b_out. Subclasses compute a from the heads and v."""

    def __init__(self, k, heads):
        super().__init__()
        self.d = k.get("dim")
        self.e = k.get("e", 2 * self.d)
        self.s = k.get("s", 128)
        self.max_length = k.get("max_length", 0)
        self.position = k.get("position", "rope", allowed=["rope", "relative", "none"])
        self.rope = self.position == "rope"
        k.get("causal", False, allowed=[True])  # a language model's blocks are causal
        k.ignore("type", "dropout", "checkpoint")
        self.norm = NORMS[k.get("norm", "scale_norm", allowed=list(NORMS))](self.d, k.get("norm_eps", 1e-5))
        self.w_in = linear(self.d, 2 * self.e + self.s, bias=True)
        self.heads = ScaleOffset(heads, self.s)
        self.w_out = linear(self.e, self.d, bias=True)

    def forward(self, x):
        u, v, z = F.silu(self.w_in(self.norm(x))).split([self.e, self.e, self.s], dim=-1)
        heads = self.heads(z)
        if self.rope:
            heads = [rope(h) for h in heads]
        return x + self.w_out(u * self.attend(heads, v))


LAPLACE_MU, LAPLACE_SIGMA = math.sqrt(0.5), math.sqrt(1 / (4 * math.pi))


def laplace(x):
    """0.5 (1 + erf((x - μ) / (σ √2))), μ = √(1/2), σ = √(1/(4π)) (docs/model.md, "Kernel variants")."""
    return 0.5 * (1 + torch.erf((x - LAPLACE_MU) / (LAPLACE_SIGMA * math.sqrt(2))))


class GauBlock(GatedBlock):
    """a = Σ_j f(S_ij) v_j over keys j <= i, S = scale · q_i·k_j + r(i - j) (docs/model.md, "GAU"),
    f = relu², laplace, or a softmax over j: softmax_plus is the softmax with scale multiplied by
    log n / log softmax_plus_base (the bias is not: it is added to the scaled product, as the op's
    log_length_base scales only q·k)."""

    def __init__(self, k):
        super().__init__(k, heads=2)
        self.scale = k.get("scale", "inv_n", allowed=["inv_n", "inv_sqrt_s", "inv_n_sqrt_s"])
        self.kernel = k.get("kernel", "relu2", allowed=["relu2", "softmax", "softmax_plus", "laplace"])
        self.plus_base = k.get("softmax_plus_base", 512.0) if self.kernel == "softmax_plus" else None
        self.bias = RelativeBias(k, causal=True) if self.position == "relative" else None
        k.ignore("attention_dropout")

    def attend(self, heads, v):
        q, k = heads
        n = q.shape[1]
        length = self.max_length or n  # inv_n: the configured length, fixed whatever the input's
        scale = {"inv_n": 1 / length, "inv_sqrt_s": 1 / math.sqrt(self.s),
                 "inv_n_sqrt_s": 1 / (length * math.sqrt(self.s))}[self.scale]
        if self.plus_base is not None:
            scale *= math.log(length) / math.log(self.plus_base)  # n as inv_n takes it
        scores = scale * q @ k.transpose(-1, -2)
        if self.bias is not None:
            scores = scores + self.bias(n)
        if self.kernel in ("softmax", "softmax_plus"):
            a = scores.masked_fill(~causal_mask(n), -math.inf).softmax(-1)
        else:
            a = (F.relu(scores) ** 2 if self.kernel == "relu2" else laplace(scores)).masked_fill(~causal_mask(n), 0)
        return a @ v


class FlashBlock(GatedBlock):
    """Mixed chunk attention (docs/model.md, "FLASH"), causal: chunks of c tokens (the last one
    padded; a configured c above max_length is clamped to it), relu(qq kqᵀ / c + r)² inside a chunk
    (keys j <= i; r = bias[i - j + c - 1] with position relative, i and j within the chunk, else 0),
    and ql_g (Σ_{h<g} kl_hᵀ v_h) / norm_g from the chunks before."""

    def __init__(self, k):
        super().__init__(k, heads=4)
        self.c = k.get("chunk", 256)
        if self.max_length:
            self.c = min(self.c, self.max_length)  # no sequence is longer, so no chunk need be
        self.linear_norm = k.get("linear_norm", "chunk", allowed=["chunk", "n", "prefix"])
        self.bias = nn.Parameter(torch.empty(2 * self.c - 1, dtype=DTYPE)) if self.position == "relative" else None

    def attend(self, heads, v):
        b, n, e = v.shape
        c = self.c
        g = -(-n // c)  # chunks

        def chunked(t):  # [b, n, w] -> [b, G, c, w], zeros past n
            return F.pad(t, (0, 0, 0, g * c - n)).reshape(b, g, c, t.shape[-1])

        qq, kq, ql, kl = (chunked(h) for h in heads)
        vc = chunked(v)
        scores = qq @ kq.transpose(-1, -2) / c  # [b, G, c, c]
        if self.bias is not None:
            # Padded keys get a bias too, but their v rows are 0, so they still add nothing.
            scores = scores + self.bias[offsets(c) + c - 1]
        local = F.relu(scores) ** 2
        quad = local.masked_fill(~causal_mask(c), 0) @ vc
        kv = kl.transpose(-1, -2) @ vc  # [b, G, s, e], one per chunk
        state = kv.cumsum(dim=1) - kv  # Σ_{h<g}: the chunks strictly before g
        norm = {"chunk": torch.full((g,), float(c), dtype=DTYPE),
                "n": torch.full((g,), float(self.max_length or n), dtype=DTYPE),
                # only the last chunk is short, so g c keys precede chunk g
                "prefix": torch.arange(g, dtype=DTYPE) * c}[self.linear_norm]
        inv = torch.where(norm > 0, 1 / norm.clamp(min=1), torch.zeros_like(norm))  # prefix's chunk 0: no global part
        lin = (ql @ state) * inv[None, :, None, None]
        return (quad + lin).reshape(b, g * c, e)[:, :n]


# ---- Transformer++ (layers/transformer_pp.h, mha.h, ffn.h) ----

class Attention(nn.Module):
    """softmax(q kᵀ / √s + r) v per head, causal; [q|k|v] = h W_qkvᵀ, heads of s = d / H, RoPE on
    q, k, or (position relative) one bias table r(i - j) that every head adds."""

    def __init__(self, d, heads, rope_base, bias, relative_bias):
        super().__init__()
        self.heads, self.rope_base = heads, rope_base
        self.qkv = linear(d, 3 * d, bias)
        self.out = linear(d, d, bias)
        self.relative_bias = relative_bias  # a module (state dict name attn.relative_bias.table) or None

    def forward(self, h):
        b, n, d = h.shape
        q, k, v = (t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2) for t in self.qkv(h).chunk(3, -1))
        if self.rope_base is not None:
            q, k = rope(q, self.rope_base), rope(k, self.rope_base)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        if self.relative_bias is not None:
            scores = scores + self.relative_bias(n)
        scores = scores.masked_fill(~causal_mask(n), -math.inf)
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))


class SwiGlu(nn.Module):
    """(silu(a) ⊙ g) W_outᵀ with [a|g] = x W_inᵀ (sections gate, up)."""

    def __init__(self, d, hidden, bias):
        super().__init__()
        self.w_in = linear(d, 2 * hidden, bias)
        self.w_out = linear(hidden, d, bias)

    def forward(self, x):
        a, g = self.w_in(x).chunk(2, -1)
        return self.w_out(F.silu(a) * g)


class TransformerPPBlock(nn.Module):
    """h = x + attn(rms(x)); y = h + ffn(rms(h))."""

    def __init__(self, k):
        super().__init__()
        d = k.get("dim")
        heads = k.get("heads")
        position = k.get("position", "rope", allowed=["rope", "relative", "none"])
        rope_base = k.get("rope_base", 10000.0) if position == "rope" else None
        k.get("causal", True, allowed=[True])
        relative_bias = RelativeBias(k, causal=True) if position == "relative" else None
        bias = k.get("bias", False)
        hidden = k.get("hidden", (8 * d + 23) // 24 * 8)  # ceil(8d/3) up to a multiple of 8, as gau's default
        eps = k.get("eps", 1e-5)
        k.ignore("type", "max_length", "backend", "dropout", "init", "init_std")
        self.attn_norm = RMSNorm(d, eps)
        self.attn = Attention(d, heads, rope_base, bias, relative_bias)
        self.ffn_norm = RMSNorm(d, eps)
        self.ffn = SwiGlu(d, hidden, bias)

    def forward(self, x):
        h = x + self.attn(self.attn_norm(x))
        return h + self.ffn(self.ffn_norm(h))


BLOCKS = {"gau": GauBlock, "flash": FlashBlock, "transformer_pp": TransformerPPBlock}


class LanguageModel(nn.Module):
    """logits = norm(blocks(E[ids])) Wᵀ, W = E (tied) or head.weight."""

    def __init__(self, config):
        super().__init__()
        k = Keys(config, "model")
        k.get("type", allowed=["language_model"])
        vocab, d, max_length = k.get("vocab"), k.get("dim"), k.get("max_length", 512)
        written = k.get("blocks")
        if isinstance(written, list):
            stack = written
            if k.get("layers", len(stack)) != len(stack):
                raise ValueError("model.layers disagrees with the list model.blocks")
        else:
            stack = [written] * k.get("layers")
        final_norm = k.get("final_norm", "rms_norm", allowed=[*NORMS, "none"])
        eps = k.get("norm_eps", 1e-5)
        tied = k.get("tie_embeddings", True)
        k.ignore("loss_chunk_rows", "ignore_index", "embedding_init_std")
        k.done()
        self.embed = nn.Embedding(vocab, d, dtype=DTYPE)
        blocks = []
        for i, block in enumerate(stack):
            # The model sets dim, causal and max_length on every block (layers/models/block_stack.h).
            bk = Keys({**block, "dim": d, "causal": True, "max_length": max_length}, f"model.blocks[{i}]")
            blocks.append(BLOCKS[bk.get("type", allowed=list(BLOCKS))](bk))
            bk.done()
        self.blocks = nn.ModuleList(blocks)
        self.norm = None if final_norm == "none" else NORMS[final_norm](d, eps)
        self.head = None if tied else linear(d, vocab, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x)
        if self.norm is not None:
            x = self.norm(x)
        return x @ (self.embed.weight if self.head is None else self.head.weight).T


def load_model(checkpoint):
    """The model of a checkpoint directory, its weights loaded strictly, in float64."""
    with open(os.path.join(checkpoint, "state.json")) as f:
        state = json.load(f)
    config = yaml.load(state["config"], Loader=ConfigLoader)
    model = LanguageModel(config["model"])
    weights = load_file(os.path.join(checkpoint, "model.safetensors"))
    # strict: a missing or unexpected name, or another shape, is an error naming it.
    model.load_state_dict({name: t.to(DTYPE) for name, t in weights.items()}, strict=True)
    return model.eval(), weights, state


def gau_output(path):
    out = load_file(path)
    return out["ids"].long(), out["logits"].to(DTYPE)


def torch_logits(model, ids):
    with torch.no_grad():
        return model(ids)


def worst(got, want):
    """max over elements of |got - want| / (|want| + rms(want)), and where."""
    rms = want.pow(2).mean().sqrt()
    err = (got - want).abs() / (want.abs() + rms)
    i = int(err.argmax())
    idx = tuple(int(j) for j in torch.unravel_index(torch.tensor(i), want.shape))
    return float(err.max()), idx, float(got.reshape(-1)[i]), float(want.reshape(-1)[i])


def check(args):
    model, _, _ = load_model(args.checkpoint)
    ids, gau = gau_output(args.gau_out)
    want = torch_logits(model, ids)
    if gau.shape != want.shape:
        print(f"gau's logits are {list(gau.shape)}, PyTorch's {list(want.shape)}")
        return 1
    err, idx, g, w = worst(gau, want)
    verdict = "within" if err <= args.rtol else "OUTSIDE"
    print(f"{args.checkpoint}: logits {list(want.shape)}, worst relative error {err:.3g} at {list(idx)} "
          f"(gau {g:.9g}, PyTorch {w:.9g}), {verdict} rtol {args.rtol:g}")
    return 0 if err <= args.rtol else 1


def fingerprint(t):
    flat = t.to(DTYPE).reshape(-1)
    probe = counter_uniform(tuple(flat.shape), PROBE_SEEDS[0], -1.0, 1.0)
    return {"shape": list(t.shape), "sum": float(flat.sum()), "sumsq": float((flat * flat).sum()),
            "probe": float((flat * probe).sum())}


def fixture(args):
    model, weights, state = load_model(args.checkpoint)
    ids, gau = gau_output(args.gau_out)
    logits = torch_logits(model, ids)
    err, _, _, _ = worst(gau, logits)
    write(args.fixture, {
        "what": "tests/reference/lm_interop.py: PyTorch (float64) logits of a gau checkpoint",
        "config": state["config"],
        "ids": ids.tolist(),
        "weights": {name: fingerprint(t) for name, t in sorted(weights.items())},
        "logits": summary(logits, samples=128),  # 128 keep the six fixtures near 6 KB each
        "gau_error_when_made": err,
        "torch": torch.__version__,
    })
    print(f"wrote {args.fixture}: gau's logits were within {err:.3g} of PyTorch's")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("check", help="compare gau's logits with PyTorch's")
    c.add_argument("checkpoint")
    c.add_argument("gau_out")
    c.add_argument("--rtol", type=float, default=1e-5)
    f = sub.add_parser("fixture", help="write the fixture of a checkpoint")
    f.add_argument("checkpoint")
    f.add_argument("gau_out")
    f.add_argument("fixture")
    args = parser.parse_args()
    return check(args) if args.mode == "check" else fixture(args)


if __name__ == "__main__":
    sys.exit(main())
