#!/usr/bin/env python3
"""PyTorch CPU reference figures for `gau bench attention` (the CPU softmax comparison).

Runs torch.nn.functional.scaled_dot_product_attention on the CPU at the shapes gau's CPU
attention benchmark uses (f32, b = 1, h = 8, d = 64, n in 512..4096, causal or not), with the
same number of threads (OMP_NUM_THREADS, or --threads), and prints one JSON document:
forward and backward median milliseconds and GFLOP/s with gau's FLOP convention (forward
4 b h n^2 d, backward 10 b h n^2 d, both halved when causal). Backward is timed alone, as
torch.autograd.grad over a retained graph, like gau's benchmark.

PyTorch comes from PyPI (pip install torch); it is only ever used by this script.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch


def time_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
            "repeats": repeats}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--sizes", default="512,1024,2048,4096")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0")) or None)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, h, d = args.batch, args.heads, args.dim
    records = []
    for n in (int(x) for x in args.sizes.split(",")):
        for causal in (False, True):
            q, k, v = (torch.randn(b, h, n, d, requires_grad=True) for _ in range(3))
            d_o = torch.randn(b, h, n, d)
            sdpa = torch.nn.functional.scaled_dot_product_attention

            def forward():
                with torch.no_grad():
                    sdpa(q, k, v, is_causal=causal)

            fwd = time_ms(forward, args.warmup, args.repeats)
            o = sdpa(q, k, v, is_causal=causal)
            bwd = time_ms(lambda: torch.autograd.grad(o, (q, k, v), d_o, retain_graph=True), args.warmup,
                          args.repeats)
            flops = 4.0 * b * h * n * n * d * (0.5 if causal else 1.0)
            records.append({
                "name": "sdpa", "kernel": "softmax", "causal": causal, "b": b, "h": h, "n": n, "s": d, "e": d,
                "dtype": "f32", "forward": fwd, "backward": bwd,
                "forward_gflops": flops / fwd["median_ms"] / 1e6,
                "backward_gflops": 2.5 * flops / bwd["median_ms"] / 1e6,
            })
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": records}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
