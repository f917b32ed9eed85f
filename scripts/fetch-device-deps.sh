#!/usr/bin/env bash
# Run HERE (not on the GPU machine): fetches the Debian packages the GPU machine lacks and
# unpacks them into .device-deps/ (ignored by git), which the device tool carries along:
#   run(command="bash scripts/device-check.sh", carry=[".device-deps"], timeout_s=330)
# Only headers and shared libraries are kept (static archives are dropped, except GoogleTest's,
# which is only shipped static), and of the documentation only the Jargon File, the default run's
# corpus (configs/default.yaml), which device-check.sh trains on: about 45 MiB, under the 64 MiB
# the tool carries in all.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps=$root/.device-deps
packages=(
  libyaml-cpp-dev libyaml-cpp0.7                              # configs
  libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0  # CPU BLAS
  libgtest-dev                                                # tests
  libcli11-dev nlohmann-json3-dev                             # header-only
  libsentencepiece-dev libsentencepiece0 zlib1g-dev zlib1g    # trainers/data: tokenizers, gzip text
  jargon-text                                                 # the default run's corpus
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}")
rm -rf "$deps"
mkdir -p "$deps"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$deps"; done
find "$deps" -name '*.a' ! -name 'libgtest*.a' -delete
# gau links libopenblas itself, which holds BLAS and LAPACK: the separate copies are not needed.
rm -f "$deps"/usr/lib/x86_64-linux-gnu/openblas-pthread/lib{blas,lapack}.so*
# A -dev package's library link may be absolute (zlib1g-dev's libz.so -> /lib/.../libz.so.1.2.13),
# which the GPU machine's own files would not satisfy: point it at the copy unpacked here.
find "$deps" -type l -lname '/*' | while read -r link; do
  target=$deps$(readlink "$link")
  if [ -e "$target" ]; then ln -sfr "$target" "$link"; fi  # not `&&`: a false test would end set -e's script
done
jargon=usr/share/doc/jargon-text/jargon.txt.gz
mv "$deps/$jargon" "$work/"
rm -rf "$deps/usr/share/doc" "$deps/usr/share/lintian" "$deps/usr/share/man"
mkdir -p "$(dirname "$deps/$jargon")" && mv "$work/jargon.txt.gz" "$deps/$jargon"
echo "fetch-device-deps: $(du -sh "$deps" | cut -f1) in $deps"
