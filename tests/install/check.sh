#!/usr/bin/env bash
# The installed gau, as a user meets it (issue 13). Run by scripts/test.sh after the build:
#   bash tests/install/check.sh BUILD_DIR
#
# 1. `cmake --install` into a temporary prefix; nothing installed may name the source or build tree.
# 2. Every installed header compiles on its own with only the installed tree and pkg-config's
#    flags, so a public header that includes an internal (uninstalled) one fails here.
# 3. A program built with `pkg-config --cflags --libs gau` alone runs.
# 4. examples/custom_layer, copied out of the tree, is configured against the prefix with
#    find_package(gau), built and tested; its YAML config trains through the installed `gau train`
#    with its plugin.
# 5. examples/train_loop, likewise, builds and trains for a few steps.
# 6. `cpack -G DEB` builds the .deb, whose contents run from where they are unpacked.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD_DIR}" && pwd)
jobs=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
step() { echo "install check: $*"; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for must in bin/gau lib/libgau.so include/gau/gau.h include/gau/core/version.h lib/cmake/gau/gauConfig.cmake \
            lib/cmake/gau/gauConfigVersion.cmake lib/cmake/gau/gauTargets.cmake lib/pkgconfig/gau.pc \
            share/gau/configs/default.yaml; do
  [ -e "$prefix/$must" ] || { echo "install check: $must is not installed" >&2; exit 1; }
done
# Text files only: the library's own debug strings may hold source paths (__FILE__ in errors).
if grep -rlI -e "$root" -e "$build" "$prefix/include" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
  echo "install check: the files above refer to the source or build tree" >&2
  exit 1
fi

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags gau)
step "every installed header compiles on its own ($(find "$prefix/include/gau" -name '*.h' | wc -l) headers)"
# shellcheck disable=SC2086  # cflags is a list of flags
(cd "$prefix/include" && find gau -name '*.h' | sort) |
  xargs -P "$jobs" -I{} sh -c "echo '#include <{}>' | g++ $cflags -fsyntax-only -x c++ - || { echo 'install check: {} does not compile alone' >&2; exit 255; }"

step "a program built with pkg-config alone"
cat > "$work/pkg_config_user.cpp" <<'EOF'
#include <gau/gau.h>

#include <cstdio>
#include <cstring>

int main() {
  gau::Tensor a = gau::ops::full({2, 3}, 1.5f);
  gau::Tensor s = gau::ops::sum(a);
  std::printf("gau %s (headers %s): sum = %g\n", gau::version(), GAU_VERSION_STRING, s.item());
  return std::strcmp(gau::version(), GAU_VERSION_STRING) == 0 && s.item() == 9.0 ? 0 : 1;
}
EOF
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
g++ "$work/pkg_config_user.cpp" -o "$work/pkg_config_user" $(pkg-config --cflags --libs gau)
"$work/pkg_config_user"

cmake_user() {  # configure, build and test an out-of-tree project against the prefix
  local src=$1 bin=$2
  cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$bin" -j "$jobs"
  if [ -f "$bin/CTestTestfile.cmake" ]; then ctest --test-dir "$bin" --output-on-failure; fi
}

step "examples/custom_layer against the installed gau"
cp -r "$root/examples/custom_layer" "$work/custom_layer"
rm -rf "$work/custom_layer/build"
cmake_user "$work/custom_layer" "$work/custom_layer/build"
step "gau info --plugin lists the example's layer"
"$prefix/bin/gau" info --plugin "$work/custom_layer/build/libgau_custom.so" | tee "$work/plugin_info.txt" | tail -1
grep -q 'layers:.*gated_conv' "$work/plugin_info.txt" || { echo "install check: gau info --plugin did not list gated_conv" >&2; exit 1; }
step "gau config --keys lists the plugin layer's keys with their help"
"$prefix/bin/gau" config --keys model.gated_conv --plugin "$work/custom_layer/build/libgau_custom.so" \
  | grep -A1 '^    kernel ' | grep -q 'taps of the causal depthwise convolution' \
  || { echo "install check: gau config --keys --plugin did not list gated_conv's kernel" >&2; exit 1; }
step "gau train with the example's plugin"
(cd "$work" && "$prefix/bin/gau" train custom_layer/train.yaml --run-dir "$work/custom_run" \
   --set train.steps=20 --set train.eval_every=10 --set train.eval_steps=2 --set train.log_every=5 \
   --set train.checkpoint_every=20 --set train.sample_tokens=16 --set logging.progress=lines)
[ -f "$work/custom_run/metrics.jsonl" ] || { echo "install check: the plugin run wrote no metrics" >&2; exit 1; }
"$prefix/bin/gau" eval "$work/custom_run" --batches 2

step "examples/train_loop against the installed gau"
cp -r "$root/examples/train_loop" "$work/train_loop"
rm -rf "$work/train_loop/build"
cmake_user "$work/train_loop" "$work/train_loop/build"
"$work/train_loop/build/train_loop" --steps 30

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
deb=$(find "$work/deb" -maxdepth 1 -name 'gau_*.deb' | head -1)
[ -n "$deb" ] || { echo "install check: cpack made no .deb" >&2; exit 1; }
dpkg-deb --field "$deb" Package Version Depends
dpkg-deb --field "$deb" Depends | grep -q libyaml-cpp || { echo "install check: the .deb does not depend on yaml-cpp" >&2; exit 1; }
# Every dependency must be a package apt can install on this Debian (the fresh-machine case).
if command -v apt-cache >/dev/null && [ -n "$(ls /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
  dpkg-deb --field "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep . | while read -r dep; do
    apt-cache show "$dep" >/dev/null 2>&1 || { echo "install check: the .deb depends on '$dep', which apt does not know" >&2; exit 1; }
  done
fi
dpkg-deb -x "$deb" "$work/deb/root"
"$work/deb/root/usr/bin/gau" info | head -2
[ -n "$(find "$work/deb/root/usr/lib" -name gauConfig.cmake)" ] || { echo "install check: the .deb has no gauConfig.cmake" >&2; exit 1; }
step "all good"
