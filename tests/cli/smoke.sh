#!/usr/bin/env bash
# The gau command end to end, as a user runs it: train a small version of the default run, stop
# one with SIGTERM and resume it, evaluate, generate, plot, and run the experiments' study in its
# tiny version (scripts/experiments.sh --quick, which compares every experiment config). Each
# step must exit 0.
#   bash tests/cli/smoke.sh build/gau
set -euo pipefail

gau=$(realpath "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"

# The default run, shrunk to seconds: one narrow layer, short rows, 30 steps.
small=(--set model.dim=64 --set model.layers=1 --set model.max_length=64 --set data.seq_len=64
       --set train.eval_every=10 --set train.eval_steps=2 --set train.checkpoint_every=10
       --set train.sample_tokens=40 --set logging.progress=lines --set schedule.warmup_steps=5)
"$gau" train configs/default.yaml "${small[@]}" --set train.steps=30 --run-dir "$work/run"
test -f "$work/run/latest"
"$gau" eval "$work/run" --batches 2
"$gau" eval "$work/run" --batches 2 --json | grep -q '"bits_per_byte"'
first=$("$gau" generate "$work/run" --prompt "The " --max-tokens 30 --seed 5)
second=$("$gau" generate "$work/run" --prompt "The " --max-tokens 30 --seed 5)
[ "$first" = "$second" ] || { echo "smoke: gau generate is not deterministic under --seed"; exit 1; }
# A bad value is an error saying what was expected; the keys of a type are listed.
msg=$("$gau" generate "$work/run" --seed -1 2>&1) && { echo "smoke: gau generate took --seed -1"; exit 1; }
grep -q "expected an integer >= 0, got '-1'" <<<"$msg"
"$gau" config --keys model.gau | grep -q "e .*default 2 dim"
"$gau" generate "$work/run" --prompt= --max-tokens 5 >/dev/null  # the empty prompt: a new document
# What would fail the end-of-run sample fails at the start, leaving no run behind.
long_prompt=$(printf 'ab%.0s' $(seq 40))
msg=$("$gau" train configs/default.yaml "${small[@]}" --set train.sample_prompt="$long_prompt" \
  --run-dir "$work/long" 2>&1) && exit 1
grep -q "train.sample_prompt is 80 tokens, but model.max_length is 64" <<<"$msg"
[ ! -e "$work/long" ]
msg=$("$gau" train configs/default.yaml "${small[@]}" --set model.max_length=1 --set data.seq_len=1 \
  --set 'train.sample_prompt=""' --run-dir "$work/one" 2>&1) && exit 1
grep -q "model.max_length is 1: the end-of-run sample starts from the end-of-document token" <<<"$msg"
[ ! -e "$work/one" ]
msg=$("$gau" train --resume "" 2>&1) && exit 1
grep -q "gau train: --resume was given an empty RUN_DIR" <<<"$msg"
msg=$("$gau" trian 2>&1) && exit 1
grep -q "unknown command 'trian'; did you mean 'train'?" <<<"$msg"
# gau config builds the model to match the optimizer's patterns, as gau train does, and shows no
# source location (the user wrote the config, not gau).
msg=$("$gau" config configs/default.yaml --set 'optim.no_decay=[zzz]' 2>&1) && exit 1
grep -q "optim.no_decay (--set optim.no_decay=\[zzz\]): pattern 'zzz' matches no parameter" <<<"$msg"
if grep -q "(at [a-z_]*\.cpp:" <<<"$msg"; then echo "smoke: a config error shows gau's source location"; exit 1; fi
msg=$("$gau" config configs/models/gau_tiny.yaml 2>&1) && exit 1
grep -q "a model preset such as configs/models/gau_tiny.yaml is meant as a run config's base:" <<<"$msg"
# Under a launcher every failing rank prints its error, so the line names the rank.
msg=$(OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=1 "$gau" eval "$work/missing" 2>&1) && exit 1
grep -q "^gau: error (rank 1 of 2): .*missing does not exist" <<<"$msg"

# SIGTERM: the run finishes its step, checkpoints and exits 0; the resumed run completes.
"$gau" train configs/default.yaml "${small[@]}" --set train.steps=100000 --set train.log_every=1 \
  --run-dir "$work/sig" >"$work/sig.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -f "$work/sig/metrics.jsonl" ] && [ "$(wc -l <"$work/sig/metrics.jsonl")" -ge 3 ] && break
  sleep 0.1
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { echo "smoke: gau train exited $status after SIGTERM"; cat "$work/sig.log"; exit 1; }
grep -q "SIGTERM" "$work/sig.log"
test -f "$work/sig/latest"
step=$(sed -n 's/.*step_0*\([0-9][0-9]*\).*/\1/p' "$work/sig/latest")
"$gau" train --resume "$work/sig" --set train.steps=$((step + 5))

if command -v gnuplot >/dev/null && "$gau" plot --help >/dev/null 2>&1; then
  "$gau" plot "$work/run"
fi

# The experiments' harness on its tiny version: every config trains and lowers its loss.
bash scripts/experiments.sh --gau "$gau" --quick --out "$work/experiments"
echo "smoke: train, SIGTERM + resume, eval, generate, plot, experiments: all passed"
