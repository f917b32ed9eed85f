#!/usr/bin/env bash
# docs/results.md's context scaling on the GPU machine (issue 14): the experiment models
# (configs/experiments/{gau,flash,transformer_pp}.yaml) trained a few bf16 steps each at n up to
# 16k, beside the PyTorch eager GAU, FLASH and Transformer++ of bench/model_torch_gpu.py in the
# same run. It shares scripts/device-check.sh's set-up and build (steps 1 and 2, the carried
# Debian packages, cuDNN and NCCL from pip) and then runs scripts/device-experiments-steps.sh.
# Fits in 8 minutes; from this machine:
#   bash scripts/fetch-device-deps.sh
#   device run: command "bash scripts/device-experiments.sh", carry [".device-deps"], timeout_s 480
# Results: $OUT/summary.txt and $OUT/results.json (experiment_context: tokens/s and peak memory
# per flavour and n; bench_model_long and model_torch_gpu_long: gau's and PyTorch's step at the
# same sizes, f32 and bf16).
set -uo pipefail
export GAU_DEVICE_BUDGET_S=${GAU_DEVICE_BUDGET_S:-450}
exec bash "$(dirname "${BASH_SOURCE[0]}")/device-check.sh" --experiments
