#!/usr/bin/env bash
# Installs the Debian packages gau builds against, only those missing, with apt-get.
# Downloads nothing else: every dependency is a Debian 12 package (see docs/ and DESIGN.md).
# CUDA is optional and not installed here: with nvcc on the PATH (or in /usr/local/cuda) the
# build compiles the CUDA backend too.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  libyaml-cpp-dev libopenblas-dev libopenblas-openmp-dev libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin zlib1g-dev libsentencepiece-dev jargon-text gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: not root and no sudo: install ${missing[*]} by hand" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
