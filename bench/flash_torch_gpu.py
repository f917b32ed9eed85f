#!/usr/bin/env python3
"""PyTorch eager FLASH figures for `gau bench flash --device cuda` (run by scripts/device-check.sh).

A PyTorch eager FLASH mixed chunk attention with the same math and options as gau's default
(layers/attention/flash.h): causal, chunk c = 256, bf16, s = 128, e = 1024, linear_norm "prefix":
  quad_g = relu(qq_g kq_g^T / c)^2 v_g (causal inside the chunk)
  lin_g  = ql_g (sum_{h<g} kl_h^T v_h) / (g c)       (chunk 0: 0)
Prints one JSON document with forward and forward+backward time and peak memory per n, in records
named "flash" with n, s, e, chunk, causal and dtype, so they pair with gau's own JSON.
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


def flash_eager(qq, kq, ql, kl, v, c):
    b, n, s = qq.shape
    e = v.shape[-1]
    g = n // c
    qq, kq, ql, kl = (x.view(b, g, c, s) for x in (qq, kq, ql, kl))
    v = v.view(b, g, c, e)
    mask = torch.ones(c, c, dtype=torch.bool, device=qq.device).triu(1)
    a = torch.relu(qq @ kq.transpose(-1, -2) / c).square().masked_fill(mask, 0)  # [b, g, c, c]
    quad = a @ v
    kv = torch.einsum("bgcs,bgce->bgse", kl.float(), v.float())  # f32 state, as gau keeps it
    kv = torch.cumsum(kv, dim=1) - kv  # exclusive prefix over chunks
    norm = torch.arange(g, device=qq.device, dtype=torch.float32) * c
    inv = torch.where(norm > 0, 1.0 / norm.clamp(min=1), torch.zeros_like(norm)).view(1, g, 1, 1)
    lin = torch.einsum("bgcs,bgse->bgce", ql.float(), kv * inv)
    return (quad.float() + lin).to(qq.dtype).view(b, n, e)


def run(lengths, s=128, e=1024, c=256):
    records = []
    for n in lengths:
        rec = {"name": "flash", "b": 1, "n": n, "s": s, "e": e, "chunk": c, "causal": True, "dtype": "bf16",
               "linear_norm": "prefix"}
        try:
            torch.cuda.empty_cache()
            xs = [torch.randn(1, n, s, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(4)]
            v = torch.randn(1, n, e, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            d_o = torch.randn(1, n, e, device="cuda", dtype=torch.bfloat16)

            def forward():
                with torch.no_grad():
                    flash_eager(*xs, v, c)

            def forward_backward():
                o = flash_eager(*xs, v, c)
                torch.autograd.grad(o, (*xs, v), d_o)

            iters = 10 if n <= 16384 else 3
            rec["forward_ms"] = time_ms(forward, warmup=2, iters=iters)
            rec["forward_backward_ms"] = time_ms(forward_backward, warmup=2, iters=iters)
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            forward_backward()
            torch.cuda.synchronize()
            rec["peak_bytes"] = torch.cuda.max_memory_allocated() - base
        except torch.cuda.OutOfMemoryError:
            rec["result"] = "oom"
        finally:
            xs = v = d_o = None
            torch.cuda.empty_cache()
        records.append(rec)
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--lengths", default="1024,4096,16384,65536")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device visible to PyTorch"}))
        return 1
    out = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "flash_eager": run([int(x) for x in args.lengths.split(",")]),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
