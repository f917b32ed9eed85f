#!/usr/bin/env python3
"""PyTorch CPU reference figures for `gau bench optim`: torch.optim.AdamW(fused=True).

Times one AdamW step (lr 1e-4, betas (0.9, 0.95), weight decay 0.1, f32) over one flat parameter
of n elements with a fixed gradient, at the sizes gau's optimizer benchmark uses (10M and 100M;
--sizes overrides), with the same number of threads (OMP_NUM_THREADS, or --threads), and prints
one JSON document with the same case name and byte count (7 × 4 bytes per parameter) as gau's.

PyTorch comes from PyPI (pip install torch); it is only ever used by this script.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch


def time_ms(fn, warmup_s, repeats):
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < warmup_s:
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
            "repeats": repeats}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--sizes", default="10000000,100000000")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "0")) or None)
    parser.add_argument("--warmup-s", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    records = []
    for n in (int(x) for x in args.sizes.split(",")):
        p = torch.nn.Parameter(torch.randn(n))
        p.grad = torch.randn(n)
        opt = torch.optim.AdamW([p], lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
        timing = time_ms(opt.step, args.warmup_s, args.repeats)
        bytes_moved = 7 * 4 * n
        records.append({"name": "adamw_step", "dtype": "f32", "params": n, "threads": torch.get_num_threads(),
                        "torch_fused": timing, "bytes": bytes_moved,
                        "gbps": bytes_moved / (timing["median_ms"] * 1e6)})
        del opt, p
    json.dump({"family": "optim", "torch": torch.__version__, "results": records}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
