#!/usr/bin/env python3
"""PyTorch GPU reference figures for `gau bench attention --device cuda` (run by scripts/device-check.sh).

Prints one JSON document with:
  * sdpa_flash: torch scaled_dot_product_attention restricted to the FLASH_ATTENTION backend,
    bf16, head dim d = 128, forward and backward time and TFLOP/s for n in 512..16k, causal or not;
  * gau_eager: a PyTorch eager GAU attention (relu(q k^T / n)^2 v with s = 128, e = 1024, h = 1),
    forward+backward time and peak memory at n = 4k and 64k, or "oom".
Shapes are written into every record so they can be matched with gau's own JSON.

FLOPs: forward 4 b h n^2 d (two GEMMs), backward 2.5x forward (five GEMMs of the same size;
the recompute of S counts as one), both halved when causal; GAU uses 2 n^2 s + 2 n^2 e.
"""
import argparse
import json
import sys

import torch


def time_ms(fn, warmup=3, iters=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def sdpa_flash(batch, heads, d, lengths):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    records = []
    for n in lengths:
        for causal in (False, True):
            q, k, v = (torch.randn(batch, heads, n, d, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                       for _ in range(3))
            d_o = torch.randn_like(q)
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                fwd = time_ms(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal))
                o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

                def backward():
                    torch.autograd.grad(o, (q, k, v), d_o, retain_graph=True)

                bwd = time_ms(backward)
            flops = 4.0 * batch * heads * n * n * d * (0.5 if causal else 1.0)
            records.append({
                "b": batch, "h": heads, "n": n, "d": d, "dtype": "bf16", "causal": causal,
                "forward_ms": fwd, "backward_ms": bwd,
                "forward_tflops": flops / fwd / 1e9, "backward_tflops": 2.5 * flops / bwd / 1e9,
            })
            del q, k, v, d_o, o
            torch.cuda.empty_cache()
    return records


def gau_eager(lengths, s=128, e=1024):
    records = []
    for n in lengths:
        rec = {"b": 1, "h": 1, "n": n, "s": s, "e": e, "dtype": "bf16", "kernel": "relu2", "causal": False}
        try:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            q = torch.randn(1, n, s, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            k = torch.randn(1, n, s, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            v = torch.randn(1, n, e, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            d_o = torch.randn(1, n, e, device="cuda", dtype=torch.bfloat16)

            def step():
                a = torch.relu(q @ k.transpose(-1, -2) / n) ** 2  # A = relu(q k^T / n)^2, n x n
                o = a @ v
                torch.autograd.grad(o, (q, k, v), d_o)

            iters = 5 if n <= 8192 else 1
            rec["forward_backward_ms"] = time_ms(step, warmup=1, iters=iters)
            rec["peak_bytes"] = torch.cuda.max_memory_allocated()
            flops = (2.0 * n * n * s + 2.0 * n * n * e) * 3.5
            rec["tflops"] = flops / rec["forward_backward_ms"] / 1e9
        except torch.cuda.OutOfMemoryError:
            rec["result"] = "oom"
        finally:
            q = k = v = d_o = None
            torch.cuda.empty_cache()
        records.append(rec)
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--lengths", default="512,1024,2048,4096,8192,16384")
    parser.add_argument("--gau-lengths", default="4096,65536")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device visible to PyTorch"}))
        return 1
    out = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "sdpa_flash": sdpa_flash(args.batch, args.heads, 128, [int(x) for x in args.lengths.split(",")]),
        "gau_eager": gau_eager([int(x) for x in args.gau_lengths.split(",")]),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
