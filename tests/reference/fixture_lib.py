"""Shared pieces of the scripts that make gau's layer fixtures (tests/reference/*.py).

Weights, inputs and the upstream gradient come from a counter-based generator that gau's tests
reimplement (tests/support/fixture.h), so a fixture stores only what the reference computed, not
the megabytes of weights that produced it. A fixture is one JSON file: the outputs and gradients,
each summarised as a sample of its elements (every `stride`-th, in the reference's layout), its
sum, its sum of squares and its inner products with two fixed generated tensors. Any broad
difference changes the inner products; any local one the samples.

PyTorch is used only here, to make fixtures; gau's build and tests never need it.
"""
import json

import numpy as np
import torch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def counter_uniform(shape, seed, low, high):
    """Element i (row-major) is low + (high - low) * u(seed, i), u in [0, 1) from a splitmix64
    finaliser of seed * golden + i * mix1; as float64, rounded to float32 by the caller."""
    n = int(np.prod(shape)) if len(shape) else 1
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * _GOLDEN + np.arange(n, dtype=np.uint64) * _MIX1
        z ^= z >> np.uint64(30)
        z *= _MIX1
        z ^= z >> np.uint64(27)
        z *= _MIX2
        z ^= z >> np.uint64(31)
    u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return torch.from_numpy(low + (high - low) * u).reshape(shape)


PROBE_SEEDS = (7001, 7002)


def summary(t, samples=256):
    """What a fixture keeps of a tensor (see the module docstring): about `samples` elements,
    at an odd stride so that the samples do not line up with a power-of-two row length."""
    flat = t.detach().double().reshape(-1)
    stride = max(1, flat.numel() // samples) | 1
    probes = [float((flat * counter_uniform(tuple(flat.shape), s, -1.0, 1.0)).sum()) for s in PROBE_SEEDS]
    return {
        "shape": list(t.shape),
        "stride": stride,
        "samples": flat[::stride].tolist(),
        "sum": float(flat.sum()),
        "sumsq": float((flat * flat).sum()),
        "probes": probes,
    }


def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
