#!/usr/bin/env bash
# Builds the svae Python wheel for machines without the Swift toolchain: the package's own build
# (python/build_backend/svae_build.py, which runs tools/install.sh) in release, so svae/_lib/
# carries libsvae.so.ABI and nothing else native: the library has the Swift standard library
# linked in and needs only libc, libm, libstdc++, libgcc_s, OpenBLAS and zstd. OpenBLAS and
# zstd stay system requirements (the wheel's Requires-External; Debian: libopenblas0 libzstd1).
#
# Usage: tools/build-wheel.sh [--out DIR] [--check [MODEL.svae]]
#   --out DIR     where the wheel goes (default dist/)
#   --check [M]   then install the wheel into a fresh venv (numpy from PyPI) and, with the Swift
#                 toolchain's folder hidden (an empty tmpfs over it in a private mount namespace;
#                 needs root or unshare rights) and under LD_DEBUG=libs, load the wheel's
#                 library, encode and reconstruct with model M (default: models/svae-tiny
#                 converted by the wheel build's own install) and check that the loader never
#                 looked into the toolchain: what a machine without Swift sees.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist
check=""
model=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --check)
            check=1
            if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then model="$2"; shift; fi
            shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "build-wheel.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
python3 -m pip wheel --no-deps --disable-pip-version-check -w "$out" --config-settings configuration=release ./python
wheel="$(ls -t "$out"/svae-*.whl | head -1)"
echo "built $wheel ($(stat -c %s "$wheel") bytes), native files:"
python3 -m zipfile -l "$wheel" | awk 'NR > 1 && $1 ~ /_lib\// { print "  " $1, $NF }'

[ -n "$check" ] || exit 0
work="$(mktemp -d "${TMPDIR:-/tmp}/svae-wheel-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [ -z "$model" ]; then
    # The converter of the install the wheel build just made (.build/install, release).
    converter="$(swift build -c release --scratch-path .build/install -Xswiftc -static-stdlib --show-bin-path)/svae-convert"
    "$converter" models/svae-tiny -o "$work/tiny.svae" --quant q8_0 > "$work/convert.log" 2>&1 \
        || { cat "$work/convert.log"; exit 1; }
    model="$work/tiny.svae"
fi
model="$(cd "$(dirname "$model")" && pwd)/$(basename "$model")"
toolchain="$(cd "$(dirname "$(readlink -f "$(command -v swift)")")/.." && pwd)"
[ "$toolchain" = /usr ] && toolchain=/usr/lib/swift
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
env -u LD_LIBRARY_PATH -u SVAE_LIBRARY -u SVAE_PREFIX LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/trace" \
    unshare -m -- sh -c 'mount -t tmpfs -o ro,size=64k svae-hidden "$0" && [ -z "$(ls -A "$0")" ] && cd / && exec "$@"' \
    "$toolchain" "$work/venv/bin/python" -c '
import sys
from pathlib import Path
import svae
lib = Path(svae.library_path())
assert lib.parent == Path(svae.__file__).parent / "_lib", lib
assert sorted(p.name for p in lib.parent.iterdir()) == [f"libsvae.so.{svae.ABI_VERSION}"], list(lib.parent.iterdir())
with svae.Model(sys.argv[1], threads=1) as m:
    v = m.encode(["Hello there.", "the end"])
    r = m.reconstruct(["Returns the attachment point of a body."])[0]
    assert v.shape == (2, m.hidden_size) and v.dtype.name == "float32", (v.shape, v.dtype)
print(f"without the toolchain: {lib}, vectors {v.shape} {v.dtype}, reconstruct -> {r.output!r}")
' "$model"
grep -q "_lib/libsvae.so" "$work"/trace.* || { echo "build-wheel.sh: no loader trace shows the wheel's libsvae" >&2; exit 1; }
if grep -F "$toolchain/" "$work"/trace.* | head -3 | grep .; then
    echo "build-wheel.sh: the loader looked into $toolchain" >&2
    exit 1
fi
echo "build-wheel.sh --check: ok (toolchain $toolchain hidden; the loader never looked into it)"
