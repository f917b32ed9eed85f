#!/usr/bin/env bash
# Builds gau and runs every test: the README's test command, and what .ci/run calls.
#   bash scripts/test.sh
# The build goes to $GAU_BUILD_DIR (default: build/ in the repository). The CUDA backend is built
# whenever nvcc is found (GAU_CUDA=AUTO); tests labelled `gpu` skip themselves without a GPU.
# Extra configure flags can be passed in $GAU_CMAKE_ARGS (e.g. -DGAU_CUDA=OFF).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GAU_BUILD_DIR:-$root/build}

# nvcc usually lives outside the PATH on Debian with NVIDIA's packages.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi

bash "$root/scripts/setup.sh"
# libgau compiles each folder's sources in unity batches (cmake/unity.cmake): no internal name may
# be defined twice in one folder. A second or so; it needs python3.
if command -v python3 >/dev/null; then
  python3 "$root/scripts/unity-check.py" "$root"
else
  echo "test.sh: no python3, scripts/unity-check.py skipped"
fi
# ccache (used when installed) keys on absolute paths; rewriting those under the clone lets a
# fresh clone elsewhere reuse the objects an earlier clone compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
# shellcheck disable=SC2086  # GAU_CMAKE_ARGS is a list of flags
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGAU_CUDA=AUTO ${GAU_CMAKE_ARGS:-}
ninja -C "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2
# The command itself, end to end: it must start, describe itself, train, resume, evaluate and
# generate (tests/cli/smoke.sh), and run the smallest case of each benchmark family.
"$build/gau" info
bash "$root/tests/cli/smoke.sh" "$build/gau"
# The installed gau, as a user meets it: install, headers alone, pkg-config, both examples out of
# the tree (the custom layer trained through `gau train` with its plugin), the .deb.
bash "$root/tests/install/check.sh" "$build"
for family in $("$build/gau" bench --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}'); do
  "$build/gau" bench "$family" --quick --warmup-s 0 --repeats 1
done
# allreduce above only notes that it needs a launcher; with MPI, run it under one too (CI is root).
if "$build/gau" info | grep -q 'mpi=on' && command -v mpirun >/dev/null; then
  mpirun -np 2 --oversubscribe --allow-run-as-root "$build/gau" bench allreduce --quick --warmup-s 0 --repeats 1
fi
