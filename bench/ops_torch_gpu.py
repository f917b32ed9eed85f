"""PyTorch on the GPU for the cases of `gau bench ops --device cuda`, timed the same way.

    python3 bench/ops_torch_gpu.py --json

Prints one JSON document: matmul (f32 and bf16, n in 512/1024/2048), a device copy, add on
64 MB f32 operands, softmax and sum over the last dim of a 64 MB f32 matrix. Timing: CUDA events
around each call, median of the repeats after warm-ups. PyTorch is only a comparison here; gau
never builds against it.
"""
import argparse
import json
import statistics

import torch


def time_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
            "repeats": repeats}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    dev = torch.device("cuda")
    results = []
    for n in (512, 1024, 2048):
        for dtype in (torch.float32, torch.bfloat16):
            a = torch.randn(n, n, device=dev, dtype=dtype)
            b = torch.randn(n, n, device=dev, dtype=dtype)
            t = time_ms(lambda: a @ b, args.warmup, args.repeats)
            results.append({"name": "matmul", "dtype": "f32" if dtype == torch.float32 else "bf16",
                            "shape": [n, n, n], "torch": t,
                            "torch_tflops": 2 * n**3 / (t["median_ms"] * 1e9)})
    rows, cols = 64 * 2**20 // 4 // 4096, 4096
    x = torch.randn(rows, cols, device=dev)
    y = torch.randn(rows, cols, device=dev)
    dst = torch.empty_like(x)
    size = x.numel() * 4
    cases = [("copy_", 2 * size, lambda: dst.copy_(x)),
             ("add", 3 * size, lambda: x + y),
             ("softmax_last_dim", 2 * size, lambda: torch.softmax(x, -1)),
             ("sum_last_dim", size, lambda: x.sum(-1))]
    for name, nbytes, fn in cases:
        t = time_ms(fn, args.warmup, args.repeats)
        results.append({"name": name, "dtype": "f32", "shape": [rows, cols], "torch": t, "bytes": nbytes,
                        "gbps": nbytes / (t["median_ms"] * 1e6)})
    report = {"family": "ops", "framework": "torch", "torch_version": torch.__version__,
              "device": torch.cuda.get_device_name(), "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
              "results": results}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
