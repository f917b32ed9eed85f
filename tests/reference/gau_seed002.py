#!/usr/bin/env python3
"""Fixture for gau's GAU layer: the reference GAU of the project's seed 002 (the FLASH-Quad
layer as the paper's notes write it in PyTorch), rewritten here from its math.

    h = LayerNorm(x)
    v, u = split(silu(h W_hidden + b_hidden), 2)      # value first, gate second
    z = silu(h W_qk + b_qk)
    q, k = z * gamma[0] + beta[0], z * gamma[1] + beta[1]
    A = relu(q k^T / n)^2                             # not causal, no positions
    out = (u * (A v)) W_out + b_out + x

dim 512, s = 128, expansion 2 (e = 1024), as in the seed; b = 2, n = 64 keep the file small.
Weights and inputs come from fixture_lib.counter_uniform (gau's tests generate the same
values). gamma and beta are drawn far wider than the seed's N(0, 0.02) initialisation, which
would make A vanish and leave the attention path untested. The loss is sum(out * R) for a
generated R, so every gradient below is d(sum(out * R)).

Run: python3 tests/reference/gau_seed002.py   (writes tests/reference/fixtures/gau_seed002.json)
"""
import math
import os

import torch
import torch.nn.functional as F

from fixture_lib import counter_uniform, summary, write

B, N, D, S, E = 2, 64, 512, 128, 1024


def main():
    torch.manual_seed(0)
    a_d, a_e = 1 / math.sqrt(D), 1 / math.sqrt(E)
    p = {
        "norm.weight": counter_uniform((D,), 1, 0.5, 1.5),
        "norm.bias": counter_uniform((D,), 2, -0.2, 0.2),
        "to_hidden.weight": counter_uniform((2 * E, D), 3, -a_d, a_d),
        "to_hidden.bias": counter_uniform((2 * E,), 4, -a_d, a_d),
        "to_qk.weight": counter_uniform((S, D), 5, -a_d, a_d),
        "to_qk.bias": counter_uniform((S,), 6, -a_d, a_d),
        "gamma": counter_uniform((2, S), 7, 0.5, 1.5),
        "beta": counter_uniform((2, S), 8, -0.5, 0.5),
        "to_out.weight": counter_uniform((D, E), 9, -a_e, a_e),
        "to_out.bias": counter_uniform((D,), 10, -a_e, a_e),
    }
    p = {k: v.float().requires_grad_() for k, v in p.items()}
    x = counter_uniform((B, N, D), 11, -1.0, 1.0).float().requires_grad_()
    r = counter_uniform((B, N, D), 12, -1.0, 1.0).float()

    h = F.layer_norm(x, (D,), p["norm.weight"], p["norm.bias"], eps=1e-5)
    v, u = F.silu(F.linear(h, p["to_hidden.weight"], p["to_hidden.bias"])).chunk(2, dim=-1)
    z = F.silu(F.linear(h, p["to_qk.weight"], p["to_qk.bias"]))
    q = z * p["gamma"][0] + p["beta"][0]
    k = z * p["gamma"][1] + p["beta"][1]
    a = F.relu(q @ k.transpose(-1, -2) / N) ** 2
    out = F.linear(u * (a @ v), p["to_out.weight"], p["to_out.bias"]) + x
    (out * r).sum().backward()

    doc = {
        "what": "seed 002 GAU: LayerNorm, scale 1/n, relu^2, no positions, not causal, residual",
        "config": {"b": B, "n": N, "d": D, "s": S, "e": E, "layer_norm_eps": 1e-5},
        "seeds": {"x": 11, "d_out": 12},
        "out": summary(out),
        "grads": {"x": summary(x.grad), **{k: summary(v.grad) for k, v in p.items()}},
        "torch": torch.__version__,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(here, "fixtures", "gau_seed002.json"), doc)


if __name__ == "__main__":
    main()
