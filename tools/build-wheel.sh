#!/usr/bin/env bash
# Builds the svae Python wheel for machines without the Swift toolchain: the package's own build
# (python/build_backend/svae_build.py, which runs tools/install.sh) in release with
# --bundle-runtime, so svae/_lib/ carries libsvae.so and the Swift runtime libraries it loads
# (found through its $ORIGIN RUNPATH). OpenBLAS and zstd stay system requirements (the wheel's
# Requires-External; Debian: libopenblas0 libzstd1).
#
# Usage: tools/build-wheel.sh [--out DIR] [--check MODEL.svae]
#   --out DIR     where the wheel goes (default dist/)
#   --check M     then install the wheel into a fresh venv and encode with model M while the
#                 toolchain's runtime directory is hidden (a private mount namespace; needs root
#                 or unshare rights): what a machine without Swift sees.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist
check=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --check) check="${2:?--check needs a model file}"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "build-wheel.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
python3 -m pip wheel --no-deps --disable-pip-version-check -w "$out" \
    --config-settings configuration=release --config-settings bundle-runtime=true ./python
wheel="$(ls -t "$out"/svae-*.whl | head -1)"
echo "built $wheel:"
python3 -m zipfile -l "$wheel" | awk 'NR > 1 && $1 ~ /_lib\// { print "  " $1 }'

if [ -n "$check" ]; then
    check="$(cd "$(dirname "$check")" && pwd)/$(basename "$check")"
    runtime="$(cd "$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux" && pwd)"
    venv="$(mktemp -d "${TMPDIR:-/tmp}/svae-wheel-check.XXXXXX")"
    trap 'rm -rf "$venv"' EXIT
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
    # An empty directory mounted over the toolchain's runtime: only the wheel's copies can load.
    unshare --mount -- sh -c "mount --bind '$venv' '$runtime' && cd / && '$venv/bin/python' -c '
import sys, svae
m = svae.Model(sys.argv[1], threads=1)
v = m.encode([\"Hello there.\", \"the end\"])
print(\"without the toolchain:\", svae.library_path(), v.shape, v.dtype)
' '$check'"
fi
