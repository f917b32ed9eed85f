"""Checks gau's safetensors files against Python's `safetensors` package, both ways.

    python safetensors_check.py write OUT.safetensors   # Python writes the reference tensors
    python safetensors_check.py check IN.safetensors    # Python reads a gau-written file

The reference tensors are defined by their raw bytes (byte j of tensor k is a fixed function of
j and k), so tests/trainers/safetensors_test.cpp builds the same ones bit for bit without any
shared float arithmetic. `write` made tests/reference/fixtures/safetensors_golden.safetensors,
which the C++ test compares byte for byte with what gau writes for the same tensors.
"""
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

import golden_cli

# name, torch dtype, shape, seed: keep in step with kReference in safetensors_test.cpp.
REFERENCE = [
    ("w.f32", torch.float32, (2, 3), 1),
    ("b.bf16", torch.bfloat16, (5,), 2),
    ("steps.i64", torch.int64, (2, 2), 3),
    ("d.f64", torch.float64, (3,), 4),
    ("h.f16", torch.float16, (1, 3), 5),
    ("n.i32", torch.int32, (4,), 6),
    ("mask", torch.bool, (3,), 7),
    ("scalar", torch.float32, (), 8),
    ("empty", torch.float32, (0, 4), 9),
]
METADATA = {"format": "pt"}


def reference_bytes(nbytes, seed, is_bool):
    j = np.arange(nbytes, dtype=np.uint64)
    if is_bool:
        return ((j * np.uint64(7) + np.uint64(seed)) % np.uint64(3) == 0).astype(np.uint8)
    return ((j * np.uint64(37) + np.uint64(seed) * np.uint64(11) + (j >> np.uint64(3))) & np.uint64(0xFF)).astype(
        np.uint8)


def reference_tensor(dtype, shape, seed):
    itemsize = torch.empty((), dtype=dtype).element_size()
    numel = int(np.prod(shape)) if shape else 1
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    raw = reference_bytes(numel * itemsize, seed, dtype == torch.bool)
    return torch.from_numpy(raw.copy()).view(dtype).reshape(shape)


def reference():
    return {name: reference_tensor(dt, shape, seed) for name, dt, shape, seed in REFERENCE}


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bytes(a.contiguous().reshape(-1).view(torch.uint8).numpy()) == bytes(
        b.contiguous().reshape(-1).view(torch.uint8).numpy())


def check(path):
    want = reference()
    got = load_file(path)
    problems = []
    if set(got) != set(want):
        problems.append(f"names: got {sorted(got)}, expected {sorted(want)}")
    for name in sorted(set(got) & set(want)):
        if not same_bits(got[name], want[name]):
            problems.append(f"{name}: got {got[name].dtype}{list(got[name].shape)}, "
                            f"expected {want[name].dtype}{list(want[name].shape)} with other bits")
    with safe_open(path, framework="pt") as f:
        if f.metadata() != METADATA:
            problems.append(f"metadata: got {f.metadata()}, expected {METADATA}")
    return golden_cli.report(path, problems, f"{len(got)} tensors read by safetensors, bits and metadata as expected")


def write(path):
    save_file(reference(), path, metadata=METADATA)


if __name__ == "__main__":
    sys.exit(golden_cli.main(__doc__, write, check))
