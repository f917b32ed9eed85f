#!/usr/bin/env bash
# The prepared GPU run (shared/DEVICE.md). On the GPU machine, in under 8 minutes, it
#   1. builds gau with CUDA for sm_90 (cuDNN and NCCL from the pip nvidia-* packages there),
#   2. runs every test labelled `gpu` (each compares the GPU with the CPU backend),
#   3. runs `gau bench ops|attention|flash --device cuda` and the PyTorch comparison scripts
#      bench/*_torch_gpu.py beside them on the same GPU, then runs a few gpu tests again under
#      compute-sanitizer memcheck and racecheck with the time left,
#   4. writes under $OUT: summary.txt (also printed last), results.json (every benchmark report,
#      keyed by name) and logs.tar.gz (every log and JSON file).
#
# The GPU machine has no yaml-cpp, OpenBLAS, GoogleTest, CLI11 or nlohmann-json and cannot download
# them, so they travel as unpacked Debian packages. From this machine:
#   bash scripts/fetch-device-deps.sh        # once: fills .device-deps/ (ignored by git)
#   device run: command "bash scripts/device-check.sh", carry [".device-deps"], timeout_s 540
#
# Here, without a GPU: `bash scripts/device-check.sh --build-only` configures and compiles the same
# CUDA build (system packages stand in for .device-deps/ when it is absent) and stops there.
# Extra configure flags can be passed in $GAU_CMAKE_ARGS; the build folder is $GAU_DEVICE_BUILD_DIR
# (default build-device/), and without $OUT the results go to its out/ folder.
set -uo pipefail  # not -e: a failed step is recorded and the later steps still run

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_only=0
[ "${1:-}" = "--build-only" ] && build_only=1
build=${GAU_DEVICE_BUILD_DIR:-$root/build-device}
out=${OUT:-$build/out}
logs=$out/logs
mkdir -p "$logs"
deps=$root/.device-deps
arch_dir=x86_64-linux-gnu
export PATH=/usr/local/cuda/bin:$PATH
export PYTHONUNBUFFERED=1

# Every step's time limit is cut to what is left of the whole run's budget, so the results are
# always written before the device tool's own limit (timeout_s 540) stops the command.
deadline=$((SECONDS + ${GAU_DEVICE_BUDGET_S:-480}))
summary=$out/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
# step NAME TIMEOUT_S CMD...: runs CMD with its output in logs/NAME.log, records status and time.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS))
  if [ $left -lt 15 ]; then
    printf '%-34s %s\n' "$name" "SKIPPED (run budget spent)" | tee -a "$summary"
    return 125
  fi
  [ $limit -gt $left ] && limit=$left
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  local verdict=ok
  [ $rc -ne 0 ] && verdict="FAILED (rc $rc)"
  [ $rc -eq 124 ] && verdict="TIMED OUT after ${limit}s"
  printf '%-34s %-22s %4ds\n' "$name" "$verdict" $((SECONDS - start)) | tee -a "$summary"
  return $rc
}

note "gau device-check $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  nvcc --version 2>&1 | tail -2
  cmake --version | head -1
  g++ --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
  nproc
} >"$logs/environment.log" 2>&1
note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo none visible)"

# ---- cuDNN and NCCL from Python's nvidia-* packages, when present ----
cmake_args=(-DGAU_CUDA=ON -DGAU_CUDA_ARCHS=90 -DGAU_MPI=OFF -DCMAKE_BUILD_TYPE=Release)
lib_path=""
site_dirs=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)
for pkg in cudnn nccl; do
  upper=$(echo "$pkg" | tr a-z A-Z)
  # shellcheck disable=SC2086  # site_dirs is a list
  header=$(find $site_dirs -path '*nvidia*' -name "$pkg.h" 2>/dev/null | head -1)
  # shellcheck disable=SC2086
  library=$(find $site_dirs -path '*nvidia*' -name "lib$pkg.so*" 2>/dev/null | sort | head -1)
  if [ -n "$header" ] && [ -n "$library" ]; then
    cmake_args+=("-DGAU_${upper}_INCLUDE=$(dirname "$header")" "-DGAU_${upper}_LIB=$library")
    lib_path=$lib_path:$(dirname "$library")
    note "$pkg: $library"
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

# ---- 1. build (no run budget here: building is all --build-only does) ----
build_limit=330
[ $build_only -eq 1 ] && deadline=$((SECONDS + 7200)) && build_limit=7000
# shellcheck disable=SC2086  # GAU_CMAKE_ARGS: extra configure flags, as in scripts/test.sh
step configure 120 cmake -S "$root" -B "$build" -G Ninja "${cmake_args[@]}" ${GAU_CMAKE_ARGS:-}
configured=$?
grep -E '^-- +(CUDA|cuDNN|NCCL|BLAS) ' "$logs/configure.log" | sed 's/^-- */  /' | tee -a "$summary"
built=1
if [ $configured -eq 0 ]; then
  step build $build_limit ninja -C "$build" -j"$(nproc)"
  built=$?
fi

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
  tar -czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$logs"
  echo "---- summary ----"
  cat "$summary"
  exit 0
}

if [ $build_only -eq 1 ] || [ $built -ne 0 ]; then
  [ $built -ne 0 ] && tail -n 40 "$logs/configure.log" "$logs/build.log" 2>/dev/null
  finish
fi

# ---- 2. gpu tests (compute-sanitizer runs after the benchmarks) ----
step ctest-gpu 180 ctest --test-dir "$build" -L gpu --output-on-failure -j4
grep -E 'tests passed|tests failed' "$logs/ctest-gpu.log" | sed 's/^/  /' | tee -a "$summary"

# ---- 3. benchmarks: gau, then PyTorch on the same GPU ----
families=$("$build/gau" bench --help 2>/dev/null | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}')
for family in $families; do
  step "bench-$family" 150 "$build/gau" bench "$family" --device cuda --out "$logs/bench_$family.json"
done
for script in "$root"/bench/*_torch_gpu.py; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .py)
  step "$name" 150 sh -c "python3 '$script' --json >'$logs/$name.json'"
done

# ---- 4. compute-sanitizer, on what is left of the run budget (the figures above come first) ----
# The kernels with shared memory and hand-written indexing come first.
mapfile -t gpu_tests < <(ls "$build"/tests/*_gpu_test 2>/dev/null |
  awk '/flash/ {print 0, $0; next} /attention/ {print 1, $0; next} {print 2, $0}' | sort | cut -d' ' -f2 | head -4)
for t in "${gpu_tests[@]}"; do
  for tool in memcheck racecheck; do
    step "sanitize-$tool-$(basename "$t")" 60 compute-sanitizer --tool "$tool" --error-exitcode 99 "$t"
  done
done

# ---- 5. results ----
finish
