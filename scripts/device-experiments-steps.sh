# The steps of scripts/device-experiments.sh, sourced by scripts/device-check.sh --experiments after
# its build: $root, $build, $logs, $deps, step and note are device-check.sh's.
experiment_sizes=(1024 4096 16384)
experiment_tokens=16384  # per step at every n: b = tokens / n
corpus=$deps/usr/share/doc/jargon-text/jargon.txt.gz
[ -f "$corpus" ] || corpus=/usr/share/doc/jargon-text/jargon.txt.gz
for n in "${experiment_sizes[@]}"; do
  for flavour in gau flash transformer_pp; do
    run_dir=$build/experiments/$flavour-n$n
    rm -rf "$run_dir"
    step "experiment-$flavour-n$n" 40 "$build/gau" train "$root/configs/experiments/$flavour.yaml" \
      --run-dir "$run_dir" --set train.device=cuda --set precision=bf16 --set "data.path=$corpus" \
      --set "data.seq_len=$n" --set "model.max_length=$n" --set "data.batch_size=$((experiment_tokens / n))" \
      --set train.steps=10 --set train.eval_every=0 --set train.eval_steps=1 --set schedule.warmup_steps=1 \
      --set train.log_every=1 --set train.sample_tokens=0 --set logging.progress=lines --set logging.tensorboard=false
    cp "$run_dir/metrics.jsonl" "$logs/experiment-$flavour-n$n.metrics.jsonl" 2>/dev/null
  done
done
# tokens/s: the median of steps 6-10 (the first ones warm up the allocator and cuBLAS).
python3 - "$logs" >"$logs/experiment_context.json" <<'PY'
import glob, json, os, re, statistics, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "experiment-*-n*.metrics.jsonl"))):
    flavour, n = re.search(r"experiment-(\w+)-n(\d+)\.metrics", path).groups()
    train = [r for r in map(json.loads, open(path)) if r["kind"] == "train"]
    steady = [r["tokens_per_s"] for r in train if r["step"] > 5]
    rows.append({"flavour": flavour, "n": int(n), "steps": len(train),
                 "tokens_per_s": statistics.median(steady) if steady else None,
                 "peak_memory_mib": max(r["peak_memory_bytes"] for r in train) / 2**20 if train else None})
json.dump(rows, sys.stdout, indent=1)
PY
sizes_csv=$(IFS=,; echo "${experiment_sizes[*]}")
step bench-model-long 90 "$build/gau" bench model --device cuda --sizes "${experiment_sizes[@]}" --repeats 5 \
  --warmup-s 0.5 --out "$logs/bench_model_long.json"
step model-torch-gpu-long 120 sh -c "python3 '$root/bench/model_torch_gpu.py' --json --sizes $sizes_csv --repeats 5 >'$logs/model_torch_gpu_long.json'"
python3 - "$logs/experiment_context.json" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
for r in json.load(open(sys.argv[1])):
    rate = "-" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:.0f} tokens/s"
    mem = "-" if r["peak_memory_mib"] is None else f"{r['peak_memory_mib']:.0f} MiB"
    print(f"  {r['flavour']} n={r['n']}: {rate}, peak {mem}")
PY
