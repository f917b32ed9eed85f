#!/usr/bin/env python3
"""PyTorch eager GPU figures for `gau bench model --device cuda` (run by scripts/device-check.sh).

One language-model training step (zero the gradients, cross-entropy over random byte ids,
backward; no optimizer) of the models in bench/model_torch_cpu.py (GAU, FLASH, Transformer++ at
matched size), at the shapes of bench/model_bench.cpp:
  default   d = 256, 4 GAU / 4 FLASH / 2 Transformer++ layers, vocab 256, 4096 tokens per step
            (b = 4096 / n), n in 512, 2048, 8192; the reference GEMM 8192^3
  --quick   d = 64, 2 / 2 / 1 layers, vocab 256, 256 tokens, n = 64; the GEMM 1024^3
            (the shapes of `gau bench model --quick`, which device-check runs by default)
in f32 and in bf16. Each case warms up for --warmup-s, then runs --repeats rounds that alternate
the step with a square GEMM of the step's dtype (as gau's time_interleaved does), each timed with
CUDA events and followed by a synchronize. Prints one JSON document: per case the median step,
tokens/s, gau's model FLOPs of the step (bench/model_flops.h), peak memory above the model's own,
and the MFU against the GEMM timed beside it.

f32: TF32 is off (torch.set_float32_matmul_precision("highest")), as gau's f32 cuBLASLt GEMMs
compute without it (core/ops/matmul_kernels.h).
bf16: the model converted with model.to(torch.bfloat16), not autocast. gau's `precision: bf16`
(docs/mixed_precision.md) stores parameters and activations in bf16 and computes each op in f32
inside, with no autocast; a bf16 PyTorch model does the same per op. Autocast would keep f32
weights and cast them to bf16 in every forward and run the norms and the loss in f32: more memory
traffic than gau's bf16 step, so a slower baseline. The one difference left favours PyTorch: its
gradients are bf16, gau's f32 (its f32 master weights live in the optimizer, outside this step).

Without CUDA it prints {"error": ...} and exits 1, as the other *_torch_gpu.py scripts do.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_torch_cpu import build, parameters, step_flops  # noqa: E402

# bench/model_bench.cpp's model_sizes() on CUDA, and its sequence lengths.
SHAPES = {
    "default": {"dim": 256, "layers": 2, "vocab": 256, "tokens": 4096, "gemm": 8192, "sizes": [512, 2048, 8192]},
    "quick": {"dim": 64, "layers": 1, "vocab": 256, "tokens": 256, "gemm": 1024, "sizes": [64]},
}
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}
DEVICE = torch.device("cuda")


def time_interleaved(fns, warmup_s, repeats):
    """gau's bench::time_interleaved on the GPU: warm up by time, then rounds alternating in order."""
    start = time.perf_counter()
    while True:
        for fn in fns:
            fn()
        torch.cuda.synchronize()
        if time.perf_counter() - start >= warmup_s:
            break
    samples = [[] for _ in fns]
    for r in range(repeats):
        for i in (range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))):
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            fns[i]()
            end.record()
            end.synchronize()
            samples[i].append(begin.elapsed_time(end))
    return [{"median_ms": statistics.median(x), "min_ms": min(x), "max_ms": max(x), "repeats": repeats}
            for x in samples]


def measure(flavour, n, dtype_name, shape, args):
    dtype = DTYPES[dtype_name]
    vocab, dim, layers, m = shape["vocab"], shape["dim"], shape["layers"], shape["gemm"]
    b = max(1, shape["tokens"] // n)
    model, widths = build(flavour, vocab, dim, layers, n)
    model.to(device=DEVICE, dtype=dtype)
    ids = torch.randint(0, vocab, (b, n), device=DEVICE)
    targets = torch.randint(0, vocab, (b, n), device=DEVICE)
    x, y = (torch.randn(m, m, device=DEVICE, dtype=dtype) for _ in range(2))

    def step():
        model.zero_grad(set_to_none=True)
        model.loss(ids, targets).backward()

    t_step, t_gemm = time_interleaved([step, lambda: x @ y], args.warmup_s, args.repeats)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()  # parameters, gradients, tables, the batch, the GEMM's operands
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base

    flops = step_flops(flavour, vocab, dim, layers, b, n, widths)
    step_gflops = flops / t_step["median_ms"] / 1e6
    gemm_gflops = 2.0 * m ** 3 / t_gemm["median_ms"] / 1e6
    return {
        "name": "lm_step", "flavour": flavour, "dtype": dtype_name, "n": n, "b": b, "tokens": b * n,
        "dim": dim, "layers": len(model.blocks), "vocab": vocab, **widths,
        "parameters": parameters(model), "step": t_step,
        "tokens_per_s": b * n / (t_step["median_ms"] * 1e-3), "peak_bytes": peak, "model_flops": flops,
        "model_gflops": step_gflops,
        "gemm": {"n": m, "dtype": dtype_name, "timing": t_gemm, "gflops": gemm_gflops},
        "mfu": step_gflops / gemm_gflops,
    }


def measure_or_error(flavour, n, dtype_name, shape, args):
    """A case that fails (out of memory, say) is reported, not fatal, as in gau's model bench."""
    try:
        return measure(flavour, n, dtype_name, shape, args)
    except Exception as err:  # noqa: BLE001 (torch.cuda.OutOfMemoryError is one)
        return {"name": "lm_step", "flavour": flavour, "dtype": dtype_name, "n": n,
                "error": f"{type(err).__name__}: {err}"}
    finally:
        torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--quick", action="store_true", help="the shapes of `gau bench model --quick`")
    parser.add_argument("--sizes", help="sequence lengths n (default: 512,2048,8192; --quick: 64)")
    parser.add_argument("--flavours", default="gau,flash,transformer_pp")
    parser.add_argument("--dtypes", default="f32,bf16", help="of f32, bf16")
    parser.add_argument("--warmup-s", type=float, default=0.5, help="untimed warm-up per case, seconds")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    shape = SHAPES["quick" if args.quick else "default"]
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else shape["sizes"]
    dtypes = args.dtypes.split(",")
    if any(d not in DTYPES for d in dtypes):
        parser.error(f"--dtypes: expected some of {', '.join(DTYPES)}, got {args.dtypes}")
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device visible to PyTorch"}))
        return 1
    torch.set_float32_matmul_precision("highest")
    torch.manual_seed(0)
    records = [measure_or_error(flavour, n, dtype, shape, args)
               for dtype in dtypes for n in sizes for flavour in args.flavours.split(",")]
    print(json.dumps({
        "family": "model", "framework": "torch", "torch": torch.__version__, "device": torch.cuda.get_device_name(0),
        "float32_matmul_precision": torch.get_float32_matmul_precision(), "bf16": "model.to(torch.bfloat16)",
        "results": records,
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
