#!/usr/bin/env bash
# gau's default run against the same model in PyTorch eager, back to back on this machine: the
# issue's quality target (a lower validation bits per byte for the same wall time).
#   bash bench/compare_default_run.sh [GAU_BINARY] [PYTHON]      (defaults: build/gau, python3)
# 1. gau trains configs/default.yaml into runs/compare_gau, saving its initial weights (step 0).
# 2. bench/default_run_torch.py trains the PyTorch model from those very weights, on the same
#    batches, for gau's wall time (its train section: steps, lr, schedule, clipping alike).
# 3. gau plot overlays both runs in runs/compare_gau/plots/, and one JSON line per run is printed.
# Starting from the same weights matters: the GAU's attention starts asleep (gamma ~ N(0, 0.02))
# and when it wakes depends on the draw, which moves a 4-minute run's result by ~0.3 bits per byte.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gau=$(realpath "${1:-$root/build/gau}")
python=${2:-python3}
cd "$root"
rm -rf runs/compare_gau runs/compare_torch
start=$(date +%s.%N)
"$gau" train configs/default.yaml --set train.save_initial=true --set train.keep_checkpoints=5 \
  --set logging.progress=lines --run-dir runs/compare_gau
seconds=$("$python" -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")
mkdir -p runs/compare_torch
"$python" bench/default_run_torch.py --minutes "$("$python" -c "import sys; print(float(sys.argv[1]) / 60)" "$seconds")" \
  --init runs/compare_gau/checkpoints/step_000000 --out runs/compare_torch/metrics.jsonl
echo "{\"name\": \"gau\", \"wall_s\": $seconds, \"final\": $("$gau" eval runs/compare_gau --batches 10 --json)}"
"$gau" plot runs/compare_gau runs/compare_torch --out runs/compare_gau/plots
