#!/usr/bin/env python3
"""configs/default.yaml's run in PyTorch eager on the CPU: the baseline for gau's quality target.

The target: gau's default run reaches a lower validation bits per byte than the same model
trained for the same wall time in PyTorch eager on the same machine. This script is that PyTorch
run. It writes metrics.jsonl in gau's format (trainers/metrics.h), so that
`gau plot runs/default runs/default_torch` overlays the two, and prints one JSON line at the end.

  bench/default_run_torch.py --minutes 4.5 --threads 2 --out runs/default_torch/metrics.jsonl

What it matches (each checked against the gau sources named):
  model     the GAU LM of configs/default.yaml, from bench/model_torch_cpu.py's classes: vocab 256,
            d 256, 4 causal GAU layers (layers/gau.cpp, gated_input.cpp: ScaleNorm g = sqrt(d),
            eps 1e-5 pre-norm; one Linear d -> 2e + s with bias, e = 512, s = 128, sections u, v,
            z; silu; q, k = z gamma_i + beta_i; rotate-half RoPE, base 10000; relu(q k^T / n)^2 with
            n = max_length = 256 and the causal mask; y = x + W_out (u * A v)), final RMSNorm eps
            1e-5, logits tied to the embedding; 1,777,412 parameters. Checked: with the initial
            weights of gau's model (built from default.yaml, saved as safetensors) loaded into
            this one, the loss of the first training batch agreed, 5.6334248 against gau's 5.6334252
  init      gau's distributions (layers/init.h, linear.cpp): embedding and gamma N(0, 0.02), beta 0,
            Linear weights U(+-1/sqrt(fan_in)) (PyTorch's default too), biases 0 (PyTorch's default
            is uniform: reset here), norm weights 1, ScaleNorm g sqrt(d)
  data      the Jargon File's bytes plus an eos byte 0, the last 5% of the tokens held out, packed
            windows of 256, batch 8, and gau's shuffle: the very same batches in the same order
            (bench/gau_loader.py, verified against trainers/data/random.h's Philox draws)
  optimizer torch.optim.AdamW, lr 1e-2 (--lr), betas (0.9, 0.95), eps 1e-8, weight_decay 0.01 on
            every parameter (gau's optim.no_decay is empty by default; --no-decay takes gau's
            patterns over gau's parameter names); gradients clipped to global norm 1
            (--clip-norm, train.clip_norm: clip_grad_norm_, whose + 1e-6 gau leaves out)
  schedule  optim/schedule.h's cosine: lr(s) = lr (s + 1) / 50 for s < 50, then 0.1 lr + 0.9 lr
            (1 + cos(pi p)) / 2 with p = min((s - 50) / (steps - 50), 1), over the step count
            (--steps, train.steps = 1000) whether or not the time limit stops the run first
  eval      every --eval-every steps and at the end: the first eval_steps = 10 validation batches
            of 8 x 256 (validation is not shuffled, each evaluation starts at its first window);
            bits per byte = mean cross-entropy over their targets, in nats, / ln 2
  stopping  after --steps steps or once --minutes of wall time have passed since training began
            (evaluations included), whichever comes first; the final evaluation follows
  threads   torch.set_num_threads(--threads), 2 like train.threads

What it does not match:
  - the initial values themselves: same distributions, different random streams (gau's Philox vs
    torch's generator), so the two runs start from different weights
  - numerics: PyTorch materialises the n x n attention matrix and its own kernels sum in another
    order; the loss uses F.cross_entropy on full logits, gau a chunked fused linear cross-entropy
  - peak_memory_bytes is this process's peak resident set (getrusage), not an allocator's peak
    of tensor memory as in gau; loss_scale is always 1 (fp32)
  - metrics are logged every --log-every steps with that step's loss (step = optimizer steps
    done, lr = the lr of that step); tokens_per_s counts the interval's training steps only
  - no checkpoints, no TensorBoard events, no sample at the end

PyTorch comes from PyPI (pip install torch); it is only ever used by the bench/*.py scripts.
"""
import argparse
import fnmatch
import json
import math
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gau_loader import IGNORE_INDEX, Loader, read_byte_corpus, split_tokens  # noqa: E402
from model_torch_cpu import Gau, LanguageModel, parameters  # noqa: E402

# configs/default.yaml, with gau's defaults for the keys it leaves out.
CORPUS = "/usr/share/doc/jargon-text/jargon.txt.gz"
VOCAB, DIM, LAYERS, E, S, MAX_LENGTH = 256, 256, 4, 512, 128, 256
SEQ_LEN, BATCH, VAL_FRACTION, EOS = 256, 8, 0.05, 0
BETAS, EPS, WEIGHT_DECAY = (0.9, 0.95), 1e-8, 0.01
WARMUP_STEPS, MIN_RATIO = 50, 0.1
EVAL_STEPS = 10

EXAMPLES = """examples:
  bench/default_run_torch.py --out runs/default_torch/metrics.jsonl    the full run: 1000 steps or 4.5 min
  bench/default_run_torch.py --minutes 2 --eval-every 50 --out /tmp/t/metrics.jsonl
  build/gau plot runs/default runs/default_torch/metrics.jsonl         overlay it on gau's run"""


def lr_at(step, total_steps, peak):
    """optim/schedule.h, cosine with warmup: the lr of optimizer step `step` (0, 1, ...)."""
    if step < WARMUP_STEPS:
        return peak * (step + 1) / WARMUP_STEPS
    p = min((step - WARMUP_STEPS) / (total_steps - WARMUP_STEPS), 1.0)
    min_lr = MIN_RATIO * peak
    return min_lr + (peak - min_lr) * 0.5 * (1 + math.cos(math.pi * p))


def build_model():
    model = LanguageModel(VOCAB, DIM, [Gau(DIM, E, S, MAX_LENGTH) for _ in range(LAYERS)], S, MAX_LENGTH)
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.bias is not None:
            torch.nn.init.zeros_(module.bias)  # gau's Linear starts its bias at 0
    return model


def gau_name(torch_name):
    """The gau parameter name of a model_torch_cpu one: gau keeps gamma, beta in a ScaleOffset."""
    for table in ("gamma", "beta"):
        if torch_name.endswith("." + table):
            return torch_name[: -len(table)] + "heads." + table
    return torch_name


def load_gau_weights(model, checkpoint):
    """Copies a gau checkpoint's weights in, by gau's names: every parameter exactly once."""
    from safetensors.torch import load_file
    weights = load_file(os.path.join(checkpoint, "model.safetensors"))
    named = {gau_name(n): p for n, p in model.named_parameters()}
    if set(named) != set(weights):
        sys.exit(f"--init {checkpoint}: the names differ: missing {sorted(set(named) - set(weights))}, "
                 f"unexpected {sorted(set(weights) - set(named))}")
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(weights[name].reshape(p.shape))


def param_groups(model, no_decay):
    """optim/param_groups.h: parameters whose gau name matches a no_decay glob get no decay."""
    named = [(gau_name(n), p) for n, p in model.named_parameters()]
    for pattern in no_decay:
        if not any(fnmatch.fnmatchcase(n, pattern) for n, _ in named):
            sys.exit(f"--no-decay: pattern '{pattern}' matches no parameter; they are "
                     + ", ".join(n for n, _ in named[:6]) + f", ... ({len(named)} in all)")
    exempt = {n for n, _ in named if any(fnmatch.fnmatchcase(n, x) for x in no_decay)}
    groups = [{"params": [p for n, p in named if n not in exempt], "weight_decay": WEIGHT_DECAY}]
    if exempt:
        groups.append({"params": [p for n, p in named if n in exempt], "weight_decay": 0.0})
    return groups


@torch.no_grad()
def evaluate(model, val_tokens):
    """Mean cross-entropy (nats) over the targets of the first EVAL_STEPS validation batches."""
    model.eval()
    loader = Loader(val_tokens, SEQ_LEN, BATCH, shuffle=False, seed=0)
    total, count = 0.0, 0
    for _ in range(EVAL_STEPS):
        ids, targets = loader.next()
        n = int((targets != IGNORE_INDEX).sum())
        total += model.loss(ids, targets).item() * n
        count += n
    model.train()
    return total / count


class MetricsFile:
    """metrics.jsonl in gau's format (trainers/metrics.h): one JSON object per line, NaN as null."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.file = open(path, "w", encoding="utf-8")

    def write(self, kind, step, **values):
        line = {"kind": kind, "step": step, "time": time.time()}
        line.update({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()})
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    parser.add_argument("--minutes", type=float, default=4.5, help="wall-time limit (train.max_time_minutes)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (train.threads)")
    parser.add_argument("--steps", type=int, default=1000, help="step limit and the schedule's length (train.steps)")
    parser.add_argument("--lr", type=float, default=1e-2, help="the peak learning rate (optim.lr)")
    parser.add_argument("--clip-norm", type=float, default=1.0, help="global gradient-norm clip; 0: off (train.clip_norm)")
    parser.add_argument("--eval-every", type=int, default=250, help="steps between evaluations (train.eval_every)")
    parser.add_argument("--log-every", type=int, default=10, help="steps between train records (train.log_every)")
    parser.add_argument("--seed", type=int, default=1, help="initialisation and shuffle seed (train.seed)")
    parser.add_argument("--no-decay", action="append", default=[], metavar="GLOB",
                        help="a gau parameter-name pattern exempt from weight decay (optim.no_decay; repeatable)")
    parser.add_argument("--init", metavar="CHECKPOINT",
                        help="start from the weights of a gau checkpoint directory (its model.safetensors)")
    parser.add_argument("--data", default=CORPUS, help="the text file (data.path)")
    parser.add_argument("--out", default="runs/default_torch/metrics.jsonl", help="the metrics.jsonl to write")
    args = parser.parse_args()
    if args.steps <= WARMUP_STEPS:
        parser.error(f"--steps must be more than the {WARMUP_STEPS} warmup steps, got {args.steps}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_tokens, val_tokens = split_tokens(read_byte_corpus(args.data, EOS), VAL_FRACTION)
    loader = Loader(train_tokens, SEQ_LEN, BATCH, shuffle=True, seed=args.seed)
    model = build_model()
    if args.init:
        load_gau_weights(model, args.init)
    optimizer = torch.optim.AdamW(param_groups(model, args.no_decay), lr=args.lr, betas=BETAS, eps=EPS)
    metrics = MetricsFile(args.out)

    def log_eval(step):
        loss = evaluate(model, val_tokens)
        metrics.write("eval", step, split="val", loss=loss, bits_per_byte=loss / math.log(2))
        return loss

    start = time.perf_counter()
    deadline = start + args.minutes * 60
    train_seconds, interval_seconds, interval_tokens = 0.0, 0.0, 0
    step, val_loss, done = 0, float("nan"), False
    while not done:
        t0 = time.perf_counter()
        ids, targets = loader.next()
        lr = lr_at(step, args.steps, args.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(ids, targets)
        loss.backward()
        # The norm before clipping, as gau reports it.
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm if args.clip_norm > 0 else math.inf)
        optimizer.step()
        loss_value = loss.item()
        dt = time.perf_counter() - t0
        step += 1
        train_seconds += dt
        interval_seconds += dt
        interval_tokens += ids.numel()
        if not math.isfinite(loss_value):
            sys.exit(f"step {step}: the loss is {loss_value}")
        done = step >= args.steps or time.perf_counter() >= deadline
        if step % args.log_every == 0 or done:
            metrics.write("train", step, loss=loss_value, lr=lr, grad_norm=grad_norm.item(),
                          tokens_per_s=interval_tokens / interval_seconds, peak_memory_bytes=peak_rss_bytes(),
                          loss_scale=1.0)
            interval_seconds, interval_tokens = 0.0, 0
        if (args.eval_every > 0 and step % args.eval_every == 0) or done:
            val_loss = log_eval(step)
    print(json.dumps({
        "name": "default_run_torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "parameters": parameters(model), "steps": step, "stopped_by": "steps" if step >= args.steps else "time",
        "wall_s": round(time.perf_counter() - start, 2), "train_s": round(train_seconds, 2),
        "tokens_per_s": step * BATCH * SEQ_LEN / train_seconds if train_seconds else 0.0,
        "val_loss": val_loss, "val_bits_per_byte": val_loss / math.log(2), "metrics": args.out,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
