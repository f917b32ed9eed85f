#!/usr/bin/env bash
# The study behind docs/results.md, in one command: GAU, FLASH and Transformer++ at matched size,
# the ablations, FLASH at twice its training length, and step time and memory against context.
#
#   bash scripts/experiments.sh                  # about 45 minutes on 2 idle cores
#   bash scripts/experiments.sh --quick          # CI: every config trains and lowers its loss (~2 min)
#   bash scripts/experiments.sh --part context   # one part: main, ablations, extrapolation, context
#   bash scripts/experiments.sh --part seeds     # the extra part, not in the default run (~20 min)
#
# Options: --gau PATH (default build/gau), --out DIR (default runs/experiments), --part NAME
# (repeatable; default all four). Parts:
#   main           configs/experiments/{gau,flash,transformer_pp}.yaml, 600 steps each
#                  (scripts/compare.sh: same data, tokens and seed)
#   ablations      configs/experiments/ablations/*.yaml, the same length
#   extrapolation  the FLASH runs of main and ablations evaluated at n = 256 and 512 (needs both)
#   context        each main config at n in {256, 512, 1024, 2048, 4096}, 4096 tokens per step,
#                  a few steps each: tokens/s and peak memory
#   seeds          (only when asked for) the main configs and gau_inv_sqrt_s again with seed 2:
#                  how far one draw of the weights and of the data order moves the results
# Writes DIR/<part>/... (runs, report.md, plots) and DIR/summary.json, DIR/summary.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gau=$root/build/gau
out=runs/experiments
quick=0
parts=()
while [ $# -gt 0 ]; do
  case $1 in
    --gau) gau=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --part) parts+=("$2"); shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "experiments.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(main ablations extrapolation context)
exp=$root/configs/experiments
main_configs=("$exp/gau.yaml" "$exp/flash.yaml" "$exp/transformer_pp.yaml")
ablation_configs=("$exp"/ablations/*.yaml)
compare=(bash "$root/scripts/compare.sh" --gau "$gau" --set logging.progress=lines)
[ $quick -eq 1 ] && compare+=(--quick)
mkdir -p "$out"
start=$(date +%s)
has_part() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
elapsed() { echo "$(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"; }

if has_part main; then
  echo "== main ($(elapsed))"
  "${compare[@]}" --out "$out/main" "${main_configs[@]}"
fi
if has_part ablations; then
  echo "== ablations ($(elapsed))"
  "${compare[@]}" --out "$out/ablations" "${ablation_configs[@]}"
fi
if has_part extrapolation; then
  echo "== extrapolation ($(elapsed))"
  lengths=(256 512)
  batches=10
  if [ $quick -eq 1 ]; then lengths=(64); batches=2; fi  # --quick trains at max_length 64
  : >"$out/extrapolation.jsonl"
  for run in "$out/main/flash" "$out"/ablations/flash_*; do
    [ -d "$run" ] || { echo "experiments.sh: $run is missing: run the main and ablations parts first" >&2; exit 1; }
    for n in "${lengths[@]}"; do
      # The eval's own JSON, tagged with the run and length, one line each.
      "$gau" eval "$run" --set "data.seq_len=$n" --batches "$batches" --json |
        python3 -c 'import json,sys; j=json.load(sys.stdin); j.update(run=sys.argv[1], seq_len=int(sys.argv[2])); print(json.dumps(j))' \
          "$(basename "$run")" "$n" >>"$out/extrapolation.jsonl"
    done
  done
  cat "$out/extrapolation.jsonl"
fi
if has_part seeds; then
  echo "== seeds ($(elapsed))"
  "${compare[@]}" --out "$out/seeds" --set train.seed=2 --set data.seed=2 \
    "${main_configs[@]}" "$exp/ablations/gau_inv_sqrt_s.yaml"
fi
if has_part context; then
  echo "== context ($(elapsed))"
  lengths=(256 512 1024 2048 4096)
  tokens=4096
  steps=6
  if [ $quick -eq 1 ]; then lengths=(64 128); tokens=256; steps=3; fi
  for n in "${lengths[@]}"; do
    # The same models and tokens per step at every length; the first steps warm up, and
    # compare.sh's tokens/s is the median of the second half.
    bash "$root/scripts/compare.sh" --gau "$gau" --out "$out/context/n$n" --set logging.progress=lines \
      --set "data.seq_len=$n" --set "model.max_length=$n" --set "data.batch_size=$((tokens / n))" \
      --set "train.steps=$steps" --set train.eval_every=0 --set train.eval_steps=1 --set schedule.warmup_steps=1 \
      --set train.log_every=1 "${main_configs[@]}"
  done
fi

python3 "$root/scripts/experiments_summary.py" "$out"
echo "experiments: done in $(elapsed); summary: $out/summary.md"
