#!/usr/bin/env bash
# The prepared GPU run (shared/DEVICE.md). On the GPU machine, in under 5 minutes (so that a second
# run fits in a 15-minute device window), it
#   1. checks the tools (cmake first), finds cuDNN and NCCL in Python's nvidia-* packages (the
#      environment's site-packages and the user's), puts every nvidia/*/lib folder on
#      LD_LIBRARY_PATH, and fails loudly when no cuDNN is found (the run goes on without it and
#      exits 1),
#   2. builds only what the run needs, the gpu test targets and the gau command (gau_cli), for
#      sm_90, and prints the cuDNN and cuBLAS versions the built library loads,
#   3. runs every test labelled `gpu` (each compares the GPU with the CPU backend), then one small
#      case per kernel under compute-sanitizer memcheck (and racecheck for the kernels with shared
#      memory), a few at once,
#   4. on the time left, in this order: `gau bench <family> --device cuda $GAU_DEVICE_BENCH_ARGS`
#      (default --quick) for every family; the whole trainer, `gau train configs/default.yaml`
#      on the GPU for 200 steps in fp32 and again in bf16 (the default run's model and batch on
#      the Jargon File; tokens/s from its metrics.jsonl); the PyTorch comparison scripts
#      bench/*_torch_gpu.py, with --quick when gau's benches ran with it and the script takes it
#      (model_torch_gpu.py does: its cases are then those of gau bench model --quick),
#   5. writes under $OUT: summary.txt (also printed last), results.json (every benchmark report,
#      keyed by name: bench_<family>, <family>_torch_gpu, train_cuda_fp32, train_cuda_bf16) and
#      logs.tar.gz (every log and JSON file, and the training runs' metrics.jsonl). It exits 1
#      when a step failed.
#
# What to copy into docs/benchmarks.md from results.json, with summary.txt's date, commit and GPU
# line: each bench_<family> beside its <family>_torch_gpu (bench_model's lm_step records beside
# model_torch_gpu's of the same flavour, n and dtype: step median_ms, tokens_per_s, mfu), and
# train_cuda_fp32 / train_cuda_bf16 (tokens_per_s, the median of the rates logged at steps 50-200;
# val_bits_per_byte after the 200 steps).
#
# The GPU machine has no yaml-cpp, OpenBLAS, GoogleTest, CLI11, nlohmann-json or sentencepiece
# (nor, perhaps, zlib's headers or the default run's corpus, Debian's jargon-text) and cannot
# download them, so they travel as unpacked Debian packages. From this machine:
#   bash scripts/fetch-device-deps.sh        # once: fills .device-deps/ (ignored by git)
#   device run: command "bash scripts/device-check.sh", carry [".device-deps"], timeout_s 330
#
# Here, without a GPU: `bash scripts/device-check.sh --build-only` runs steps 1 and 2 (system
# packages stand in for .device-deps/ when it is absent) and stops there. Settings:
#   GAU_CMAKE_ARGS         extra configure flags, as in scripts/test.sh
#   GAU_DEVICE_BUILD_DIR   the build folder (default build-device/); without $OUT the results go to
#                          its out/ folder
#   GAU_DEVICE_JOBS        parallel compile jobs (default: every core)
#   GAU_DEVICE_BUDGET_S    the whole run's time budget in seconds (default 285)
#   GAU_DEVICE_BENCH_ARGS  flags for gau bench (default --quick; set it empty for the full sizes,
#                          with a larger budget)
set -uo pipefail  # not -e: a failed step is recorded and the later steps still run

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_only=0
experiments=0
[ "${1:-}" = "--build-only" ] && build_only=1
[ "${1:-}" = "--experiments" ] && experiments=1  # scripts/device-experiments.sh: steps 1, 2, then its own
build=${GAU_DEVICE_BUILD_DIR:-$root/build-device}
out=${OUT:-$build/out}
logs=$out/logs
mkdir -p "$logs"
deps=$root/.device-deps
arch_dir=x86_64-linux-gnu
jobs=${GAU_DEVICE_JOBS:-$(nproc)}
bench_args=${GAU_DEVICE_BENCH_ARGS---quick}
export PATH=/usr/local/cuda/bin:$PATH
export PYTHONUNBUFFERED=1

# Every step's time limit is cut to what is left of the whole run's budget, so the results are
# always written before the device tool's own limit stops the command.
deadline=$((SECONDS + ${GAU_DEVICE_BUDGET_S:-285}))
summary=$out/summary.txt
: >"$summary"
failures=0
note() { echo "$*" | tee -a "$summary"; }
fail() {
  failures=$((failures + 1))
  echo "ERROR: $*" | tee -a "$summary" >&2
}
# step NAME TIMEOUT_S CMD...: runs CMD with its output in logs/NAME.log, records status and time.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ $left -lt 15 ]; then
    printf '%-34s %s\n' "$name" "SKIPPED (run budget spent)" | tee -a "$summary"
    return 125
  fi
  [ "$limit" -gt $left ] && limit=$left
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  local verdict=ok
  [ $rc -ne 0 ] && verdict="FAILED (rc $rc)" && failures=$((failures + 1))
  [ $rc -eq 124 ] && verdict="TIMED OUT after ${limit}s"
  printf '%-34s %-22s %4ds\n' "$name" "$verdict" $((SECONDS - start)) | tee -a "$summary"
  return $rc
}

finish() {
  if command -v python3 >/dev/null; then
    python3 - "$logs" "$out/results.json" <<'EOF'
import json, pathlib, sys
logs, dest = pathlib.Path(sys.argv[1]), sys.argv[2]
results = {}
for f in sorted(logs.glob("*.json")):
    try:
        results[f.stem] = json.loads(f.read_text())
    except ValueError as e:
        results[f.stem] = {"error": f"not JSON: {e}"}
json.dump(results, open(dest, "w"), indent=1)
EOF
  fi
  note "total ${SECONDS}s, $failures failed"
  tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"
  echo "---- summary ----"
  cat "$summary"
  [ $failures -eq 0 ]
  exit $?
}

note "gau device-check $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---- 1. tools, libraries and their paths ----
# CMake first: without it nothing can be built, and that should read as such, not as a cascade
# of later failures.
if ! command -v cmake >/dev/null; then
  fail "cmake is not on PATH ($PATH): gau needs CMake >= 3.25 and ninja to build; nothing was run"
  finish
fi
cmake_version=$(cmake --version | head -1 | awk '{print $3}')
if ! printf '3.25\n%s\n' "$cmake_version" | sort -V -C; then
  fail "cmake $cmake_version ($(command -v cmake)) is older than the 3.25 that CMakeLists.txt requires; nothing was run"
  finish
fi
if ! command -v ninja >/dev/null; then
  fail "ninja is not on PATH ($PATH): the build uses CMake's Ninja generator; nothing was run"
  finish
fi
note "cmake $cmake_version, ninja $(ninja --version), $(nproc) cores, $jobs compile jobs"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  nvcc --version 2>&1 | tail -2
  g++ --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
} >"$logs/environment.log" 2>&1
note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo none visible)"

# Python's nvidia-* packages: under the environment's site-packages (a venv's own on the GPU
# machine), the user's (pip install --user), or wherever the nvidia namespace package spans.
mapfile -t nvidia_dirs < <(
  python3 - 2>/dev/null <<'EOF'
import os, site
dirs = list(site.getsitepackages()) + [site.getusersitepackages()]
try:
    import nvidia
    dirs += [os.path.dirname(p) for p in nvidia.__path__]
except ImportError:
    pass
for d in dict.fromkeys(dirs):
    if os.path.isdir(os.path.join(d, "nvidia")):
        print(os.path.join(d, "nvidia"))
EOF
)
lib_path=""
for d in "${nvidia_dirs[@]}"; do
  for lib in "$d"/*/lib; do
    [ -d "$lib" ] && lib_path=$lib_path:$lib
  done
done
note "pip nvidia folders: ${nvidia_dirs[*]:-none}"

cmake_args=(-DGAU_CUDA=ON -DGAU_CUDA_ARCHS=90 -DGAU_MPI=OFF -DCMAKE_BUILD_TYPE=Release)
# find_first NAME: the first file called NAME (a glob) under the pip nvidia folders.
find_first() { [ ${#nvidia_dirs[@]} -gt 0 ] && find "${nvidia_dirs[@]}" -name "$1" 2>/dev/null | sort | head -1; }
for pkg in cudnn nccl; do
  upper=$(echo "$pkg" | tr '[:lower:]' '[:upper:]')
  header=$(find_first "$pkg.h")
  library=$(find_first "lib$pkg.so*")
  if [ -n "$header" ] && [ -n "$library" ]; then
    cmake_args+=("-DGAU_${upper}=ON" "-DGAU_${upper}_INCLUDE=$(dirname "$header")" "-DGAU_${upper}_LIB=$library")
    note "$pkg: $library"
  elif [ -f "/usr/local/cuda/include/$pkg.h" ]; then
    cmake_args+=("-DGAU_${upper}=ON")  # in the CUDA toolkit's own folders (as on the build machine)
    note "$pkg: the CUDA toolkit's (/usr/local/cuda)"
  elif [ "$pkg" = cudnn ]; then
    fail "no cuDNN: no nvidia/*/cudnn.h with libcudnn.so* under ${nvidia_dirs[*]:-any site-packages (python3 listed none)}, and no /usr/local/cuda/include/cudnn.h. The cuDNN attention backend is NOT built or tested in this run."
    cmake_args+=(-DGAU_CUDNN=OFF)
  else
    cmake_args+=("-DGAU_${upper}=OFF")
    note "$pkg: not found (built without it)"
  fi
done

# ---- the carried Debian packages (absent here, where system packages are installed) ----
if [ -d "$deps/usr" ]; then
  d=$deps/usr
  cmake_args+=(
    "-DCMAKE_PREFIX_PATH=$d"
    "-Dyaml-cpp_DIR=$d/lib/$arch_dir/cmake/yaml-cpp"
    "-DGTest_DIR=$d/lib/$arch_dir/cmake/GTest"
    "-Dnlohmann_json_DIR=$d/share/cmake/nlohmann_json"
    "-DCLI11_DIR=$d/share/cmake/CLI11"
    "-DGAU_CLI11_INCLUDE=$d/include"
    "-DGAU_CBLAS_INCLUDE=$d/include/$arch_dir/openblas-pthread"
    "-DGAU_OPENBLAS=$d/lib/$arch_dir/openblas-pthread/libopenblas.so"
  )
  lib_path=$lib_path:$d/lib/$arch_dir:$d/lib/$arch_dir/openblas-pthread
fi
export LD_LIBRARY_PATH=${lib_path#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >>"$logs/environment.log"

# ---- 2. build: the gpu tests and the gau command only ----
build_limit=170
[ $build_only -eq 1 ] && deadline=$((SECONDS + 7200)) && build_limit=7000
# shellcheck disable=SC2086  # GAU_CMAKE_ARGS: extra configure flags, as in scripts/test.sh
step configure 60 cmake -S "$root" -B "$build" -G Ninja "${cmake_args[@]}" ${GAU_CMAKE_ARGS:-}
configured=$?
grep -E '^-- +(CUDA|cuDNN|NCCL|BLAS) ' "$logs/configure.log" | sed 's/^-- */  /' | tee -a "$summary"
built=1
if [ $configured -eq 0 ]; then
  # gau_cli is the gau command; a test's target is its path under tests/ with / as _ and no
  # .cpp (CMakeLists.txt), so tests/core/ops/copy_gpu_test.cpp is core_ops_copy_gpu_test.
  mapfile -t targets < <(cd "$root/tests" && find . -name '*_gpu_test.cpp' | sed 's|^\./||; s|\.cpp$||; s|/|_|g' | sort)
  note "targets: gau_cli and ${#targets[@]} gpu tests"
  [ ${#targets[@]} -eq 0 ] && fail "no tests/**/*_gpu_test.cpp found: only the gau command is built"
  step build $build_limit ninja -C "$build" -j"$jobs" gau_cli "${targets[@]}"
  built=$?
fi

# The cuDNN and cuBLAS that the built library resolves (through LD_LIBRARY_PATH), with versions.
if [ $built -eq 0 ]; then
  python3 - "$build/libgau.so" >"$logs/versions.log" 2>&1 <<'EOF'
import ctypes, re, subprocess, sys
ldd = subprocess.run(["ldd", sys.argv[1]], capture_output=True, text=True).stdout
found = dict(re.findall(r"^\s*(lib(?:cudnn|cublas)\.so\S*) => (\S+)", ldd, re.M))
if not any(name.startswith("libcudnn.") for name in found):
    print("cuDNN: NOT linked into libgau.so")
for name, path in sorted(found.items()):
    if path == "not":
        print(f"{name}: NOT FOUND at run time")
        continue
    lib = ctypes.CDLL(path)
    if name.startswith("libcudnn."):
        lib.cudnnGetVersion.restype = ctypes.c_size_t
        v = lib.cudnnGetVersion()
        print(f"cuDNN {v // 10000}.{v // 100 % 100}.{v % 100} ({path})")
    else:
        parts = []
        for prop in range(3):  # MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
            value = ctypes.c_int(-1)
            lib.cublasGetProperty(prop, ctypes.byref(value))
            parts.append(str(value.value))
        print(f"cuBLAS {'.'.join(parts)} ({path})")
EOF
  sed 's/^/  /' "$logs/versions.log" | tee -a "$summary"
  grep -q 'NOT' "$logs/versions.log" && fail "a CUDA library is missing at run time (versions.log)"
fi

if [ $build_only -eq 1 ] || [ $built -ne 0 ]; then
  [ $built -ne 0 ] && tail -n 40 "$logs/configure.log" "$logs/build.log" 2>/dev/null
  finish
fi
if [ $experiments -eq 1 ]; then
  # shellcheck source=scripts/device-experiments-steps.sh
  source "$root/scripts/device-experiments-steps.sh"
  finish
fi

# ---- 3. gpu tests, then compute-sanitizer on one small case per kernel ----
step ctest-gpu 75 ctest --test-dir "$build" -L gpu --output-on-failure -j4
grep -E 'tests passed|tests failed' "$logs/ctest-gpu.log" | sed 's/^/  /' | tee -a "$summary"

# test binary | gtest filter | tools. racecheck only where a kernel uses shared memory; cuBLAS and
# cuDNN run under memcheck for the bounds of what gau hands them.
sanitize_cases=(
  "layers_attention_attention_gpu_test|AttentionGpu.UnequalLengthsAndOddSizes|memcheck racecheck"
  "layers_attention_attention_gpu_test|AttentionGpu.CudnnMatchesCpu|memcheck"
  "layers_attention_flash_gpu_test|FlashAttentionGpu.ChunkLongerThanTheSequenceMatchesCpu|memcheck racecheck"
  "core_ops_softmax_gpu_test|CudaSoftmaxTest.ForwardAndBackwardAllLayouts|memcheck racecheck"
  "core_ops_reduce_gpu_test|CudaReduceTest.LongRowsAndStridedInput:CudaReduceTest.MaxArgmaxLogsumexp|memcheck racecheck"
  "core_ops_loss_gpu_test|CudaLossTest.ForwardBackwardWithIgnoreAndSmoothing|memcheck racecheck"
  "core_ops_elementwise_gpu_test|CudaElementwiseTest.BinaryWithBroadcasting|memcheck"
  "core_ops_index_gpu_test|CudaIndexTest.EmbeddingForwardAndBackward|memcheck"
  "core_ops_copy_gpu_test|CudaCopyTest.StridedAndBroadcastCopies|memcheck"
  "core_ops_matmul_gpu_test|CudaMatmulTest.TwoDimWithTransposes|memcheck"
  "core_ops_norm_gpu_test|CudaNormTest.ForwardAndBackwardMatchTheCpu|memcheck racecheck"
  "core_ops_dropout_gpu_test|CudaDropoutTest.SameMaskAsTheCpu|memcheck"
  "core_ops_rope_gpu_test|CudaRopeTest.MatchesTheCpu|memcheck"
  "core_allocator_gpu_test|CudaAllocatorTest.RecordStream*|memcheck"
)
# sanitize N TOOL BINARY FILTER: case N under TOOL until sanitize_deadline, its verdict as a summary
# line in logs/NAME.status (runs in the background).
sanitize() {
  local tool=$2 binary=$3 filter=$4
  local name="sanitize-$1-$tool-${binary%_gpu_test}"
  local limit=$((sanitize_deadline - SECONDS)) start=$SECONDS verdict=ok
  if [ $limit -lt 10 ]; then
    verdict="SKIPPED (sanitizer time spent)"
  else
    timeout --kill-after=5 "$limit" compute-sanitizer --tool "$tool" --error-exitcode 99 \
      "$build/tests/$binary" --gtest_filter="$filter" >"$logs/$name.log" 2>&1
    local rc=$?
    if [ $rc -eq 124 ]; then
      verdict="TIMED OUT after ${limit}s"
    elif [ $rc -eq 99 ]; then
      verdict="ERRORS FOUND"
    elif [ $rc -ne 0 ]; then
      verdict="FAILED (rc $rc)"
    elif ! grep -q '\[  PASSED  \] [1-9]' "$logs/$name.log"; then
      verdict="NO TEST RAN"  # a renamed test: fix sanitize_cases
    fi
  fi
  printf '%-50s %-30s %4ds\n' "$name" "$verdict" $((SECONDS - start)) >"$logs/$name.status"
}
# At most 100 s for all of them, and 90 s kept for what follows (about 30 s for gau's quick
# benches, 10-20 s for the two training runs, 30-40 s for the PyTorch scripts).
sanitize_window=$((deadline - SECONDS - 90))
[ $sanitize_window -gt 100 ] && sanitize_window=100
sanitize_deadline=$((SECONDS + sanitize_window))
if [ $sanitize_window -ge 20 ] && command -v compute-sanitizer >/dev/null; then
  i=0
  for case in "${sanitize_cases[@]}"; do
    IFS='|' read -r binary filter tools <<<"$case"
    if [ ! -x "$build/tests/$binary" ]; then
      fail "sanitize: no test binary $binary (renamed? fix sanitize_cases)"
      continue
    fi
    for tool in $tools; do
      i=$((i + 1))
      while [ "$(jobs -rp | wc -l)" -ge 4 ]; do wait -n; done  # a few at once: the GPU has room
      sanitize "$(printf %02d $i)" "$tool" "$binary" "$filter" &
    done
  done
  wait
  for f in "$logs"/sanitize-*.status; do
    [ -e "$f" ] || continue
    tee -a "$summary" <"$f"
    grep -qE ' ok +[0-9]+s$' "$f" || failures=$((failures + 1))
    rm -f "$f"
  done
else
  fail "compute-sanitizer skipped: $(command -v compute-sanitizer >/dev/null && echo "only ${sanitize_window}s left" || echo "not on PATH")"
fi

# ---- 4. benchmarks: gau, the whole trainer, then PyTorch on the same GPU, on the time left ----
families=$("$build/gau" bench --help 2>/dev/null | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}')
for family in $families; do
  # shellcheck disable=SC2086  # bench_args is a list of flags
  step "bench-$family" 45 "$build/gau" bench "$family" --device cuda $bench_args --out "$logs/bench_$family.json"
done

# train_report METRICS PRECISION DEST: DEST gets one JSON report of a training run's metrics.jsonl
# and stdout one line. Each train record (every 10 steps) holds the rate over the 20 steps before
# it (trainers/progress.h, RateMeter), so the median of those logged after step 40 (steps 50, 60,
# ...: rates over steps 31 on) leaves the start-up out (CUDA and cuBLAS set-up, the allocator's
# first blocks).
train_steps=200
train_report() {
  python3 - "$@" "$train_steps" <<'EOF'
import json, statistics, sys
path, precision, dest, steps = sys.argv[1:]
report = {"name": "train_step", "config": "configs/default.yaml", "device": "cuda", "precision": precision,
          "steps": int(steps)}
try:
    records = [json.loads(line) for line in open(path) if line.strip()]
except (OSError, ValueError) as e:
    records, report["error"] = [], f"no metrics ({e}): see the run's log"
train = [r for r in records if r["kind"] == "train"]
steady_steps = [r["step"] for r in train if r["step"] > 40 and r["tokens_per_s"]]
steady = [r["tokens_per_s"] for r in train if r["step"] in steady_steps]
evals = [r for r in records if r["kind"] == "eval"]
if train:
    report.update(steps_done=train[-1]["step"], last_loss=train[-1]["loss"],
                  peak_memory_bytes=max(r["peak_memory_bytes"] for r in train))
if evals:
    report["val_bits_per_byte"] = evals[-1].get("bits_per_byte")
if steady:
    report.update(tokens_per_s=statistics.median(steady), tokens_per_s_min=min(steady),
                  tokens_per_s_max=max(steady), rates_logged_at=[steady_steps[0], steady_steps[-1]])
else:
    report.setdefault("error", "no train record after step 40: see the run's log")
json.dump(report, open(dest, "w"), indent=1)
if steady:
    bpb = report.get("val_bits_per_byte")
    print(f"{precision}: {report['tokens_per_s']:.0f} tokens/s (median of the rates logged at steps "
          f"{steady_steps[0]}-{steady_steps[-1]}), val {'-' if bpb is None else f'{bpb:.3f}'} bits/byte")
else:
    print(f"{precision}: {report['error']}")
EOF
}
# configs/default.yaml as it is, on the GPU: its model and batch (d 256, 4 GAU layers, 8 x 256
# bytes) on its own text, so the figure is a real run's (the loss falls as on the CPU) and pairs
# with the CPU default run's tokens/s. The run directory stays out of $OUT, since its final
# checkpoint (weights and AdamW state, 20-30 MB) is not wanted back; metrics.jsonl goes to logs/.
corpus=$deps/usr/share/doc/jargon-text/jargon.txt.gz  # carried (scripts/fetch-device-deps.sh)
[ -f "$corpus" ] || corpus=/usr/share/doc/jargon-text/jargon.txt.gz  # Debian's jargon-text, here
if [ -f "$corpus" ]; then
  for precision in fp32 bf16; do
    run_dir=$build/train-cuda-$precision
    rm -rf "$run_dir"  # a new run never writes into an existing one
    step "train-cuda-$precision" 40 "$build/gau" train "$root/configs/default.yaml" --run-dir "$run_dir" \
      --set train.device=cuda --set "train.steps=$train_steps" --set train.eval_every=0 \
      --set train.sample_tokens=0 --set logging.progress=lines --set logging.tensorboard=false \
      --set "data.path=$corpus" --set "precision=$precision"
    [ $? -eq 125 ] && continue  # skipped: the run budget is spent
    cp "$run_dir/metrics.jsonl" "$logs/train_cuda_$precision.metrics.jsonl" 2>/dev/null
    train_report "$run_dir/metrics.jsonl" "$precision" "$logs/train_cuda_$precision.json" 2>&1 |
      sed 's/^/  /' | tee -a "$summary"
  done
else
  fail "no Jargon File in .device-deps/ or /usr/share/doc/jargon-text: no training runs (scripts/fetch-device-deps.sh)"
fi

for script in "$root"/bench/*_torch_gpu.py; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .py)
  script_args=--json
  # A script with a --quick option runs gau's quick cases when gau's benches did (bench/bench.h).
  if [[ " $bench_args " == *" --quick "* ]] && grep -q -- 'add_argument("--quick"' "$script"; then
    script_args="--json --quick"
  fi
  step "$name" 45 sh -c "python3 '$script' $script_args >'$logs/$name.json'"
done

# ---- 5. results ----
finish
