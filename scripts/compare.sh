#!/usr/bin/env bash
# Trains several configs on the same data, for the same steps (so the same tokens) and the same
# seed, one after another, then writes one report: final validation bits per byte, parameters,
# tokens/s and peak memory per config, and the loss curves overlaid (gau plot).
#
#   bash scripts/compare.sh configs/experiments/{gau,flash,transformer_pp}.yaml
#   bash scripts/compare.sh --out runs/ctx1024 --set data.seq_len=1024 --set model.max_length=1024 CONFIG...
#   bash scripts/compare.sh --quick CONFIG...    # seconds per config: checks that each trains
#
# Options: --gau PATH (default build/gau), --out DIR (default runs/compare), --set key=value
# (repeatable, applied to every config), --quick (a tiny version of each: 40 steps of 64 tokens;
# it fails unless every config's validation loss ends below its first training loss).
# Writes DIR/report.md, DIR/report.json, DIR/<config>/ (each run) and DIR/plots/*.png.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gau=$root/build/gau
out=runs/compare
quick=0
sets=()
configs=()
while [ $# -gt 0 ]; do
  case $1 in
    --gau) gau=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) configs+=("$1"); shift ;;
  esac
done
[ ${#configs[@]} -gt 0 ] || { echo "compare.sh: give one or more CONFIG files (--help)" >&2; exit 2; }
if [ $quick -eq 1 ]; then
  sets=(--set train.steps=40 --set data.seq_len=64 --set model.max_length=64 --set schedule.warmup_steps=5
        --set train.eval_every=0 --set train.eval_steps=2 --set train.log_every=5 --set logging.progress=lines
        "${sets[@]}")
fi
mkdir -p "$out"
names=()
for config in "${configs[@]}"; do
  name=$(basename "$config" .yaml)
  names+=("$name")
  rm -rf "${out:?}/$name"
  echo "== $name: $config"
  "$gau" train "$config" "${sets[@]}" --run-dir "$out/$name"
  "$gau" config "$config" "${sets[@]}" >"$out/$name/summary.txt"
done
python3 - "$out" "$quick" "${names[@]}" <<'PY'
import json, math, re, statistics, sys
out, quick, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
rows = []
for name in names:
    train, evals = [], []
    for line in open(f"{out}/{name}/metrics.jsonl"):
        r = json.loads(line)
        (train if r["kind"] == "train" else evals).append(r)
    params = int(re.search(r"of (\d+) parameters", open(f"{out}/{name}/summary.txt").read()).group(1))
    last = evals[-1] if evals else {}
    rows.append({"config": name, "parameters": params, "steps": train[-1]["step"],
                 "val_loss": last.get("loss"), "val_bits_per_byte": last.get("bits_per_byte", last.get("bits_per_token")),
                 "tokens_per_s": statistics.median(r["tokens_per_s"] for r in train[len(train) // 2:]),
                 "peak_memory_mib": max(r["peak_memory_bytes"] for r in train) / 2**20,
                 "first_train_loss": train[0]["loss"]})
json.dump(rows, open(f"{out}/report.json", "w"), indent=1)
with open(f"{out}/report.md", "w") as f:
    f.write("| config | parameters | steps | val bits per byte | val loss | tokens/s | peak memory |\n")
    f.write("| --- | --- | --- | --- | --- | --- | --- |\n")
    for r in rows:
        f.write(f"| {r['config']} | {r['parameters']:,} | {r['steps']} | {r['val_bits_per_byte']:.4f} | "
                f"{r['val_loss']:.4f} | {r['tokens_per_s']:,.0f} | {r['peak_memory_mib']:.1f} MiB |\n")
print(open(f"{out}/report.md").read())
bad = [r["config"] for r in rows if not (r["val_loss"] is not None and r["val_loss"] < r["first_train_loss"])]
if bad:
    sys.exit(f"compare.sh: these configs did not lower their loss: {', '.join(bad)}")
PY
runs=()
for name in "${names[@]}"; do runs+=("$out/$name"); done
if command -v gnuplot >/dev/null; then "$gau" plot "${runs[@]}" --out "$out/plots"; fi
echo "report: $out/report.md"
