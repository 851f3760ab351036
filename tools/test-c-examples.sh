#!/usr/bin/env bash
# End-to-end check of the C API as users get it: install into a temporary prefix, build
# examples/c/encode.c and examples/cpp/encode.cpp with plain gcc/g++ and pkg-config, run them,
# and compare their vectors and reconstructions with the Swift API (the installed `svae` CLI).
# The Python package is tested by tools/test-python.sh (and against an installed library by
# tools/test-install.sh).
#
# Each check prints one line, "ok   NAME" or "FAIL NAME";
# .ci/run counts them.
#
# Usage: tools/test-c-examples.sh [--prefix DIR] [MODEL.svae [ECHO.svae]]
#   --prefix DIR  use what tools/install.sh installed there instead of installing (nothing is
#                 built then and the Swift toolchain is not needed: tools/test-install.sh runs
#                 it so, with the toolchain hidden)
#   Without a model, the random test model of Tests/CAPITests and its echo variant (which
#   reconstructs "the end" exactly) are written to temporary files
#   (SVAE_CAPI_MODEL_OUT=... swift test --filter CAPITests.writeModelForScripts).
# Environment: CONFIGURATION=release|debug for tools/install.sh (default release, whose build
# tools/test-install.sh reuses).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in gcc g++ pkg-config python3; do
    command -v "$tool" > /dev/null || { echo "FAIL test-c-examples: $tool is required and not on PATH" >&2; exit 1; }
done
configuration="${CONFIGURATION:-release}"
prefix=""
if [ "${1:-}" = --prefix ]; then
    prefix="${2:?--prefix needs a directory}"
    shift 2
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/svae-c-examples.XXXXXX")"
trap 'rm -rf "$work"' EXIT

model="${1:-}"
echo_model="${2:-}"
if [ -z "$model" ]; then
    model="$work/model.svae"
    echo_model="$work/model.echo.svae"
    SVAE_CAPI_MODEL_OUT="$model" swift test --filter 'CAPITests.CAPITests/writeModelForScripts' > "$work/model.log" 2>&1 \
        || { cat "$work/model.log"; exit 1; }
    [ -f "$model" ] && [ -f "$echo_model" ] || { echo "FAIL test-c-examples: the models were not written" >&2; cat "$work/model.log"; exit 1; }
fi

if [ -z "$prefix" ]; then
    prefix="$work/prefix"
    tools/install.sh --prefix "$prefix" --configuration "$configuration" > "$work/install.log" 2>&1 \
        || { cat "$work/install.log"; exit 1; }
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
gcc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/encode.c $(pkg-config --cflags --libs svae) -o "$work/encode-c"
g++ -std=c++17 -Wall -Wextra -Werror examples/cpp/encode.cpp $(pkg-config --cflags --libs svae) -o "$work/encode-cpp"

texts=("Hello there." "the end" "a b c" "x")
"$work/encode-c" "$model" "${texts[@]}" > "$work/c.out"
"$work/encode-cpp" "$model" "${texts[@]}" > "$work/cpp.out"
cmp "$work/c.out" "$work/cpp.out" || { echo "FAIL C and C++ examples agree" >&2; diff "$work/c.out" "$work/cpp.out" >&2; exit 1; }
echo "ok   C and C++ examples agree"

cli="$prefix/bin/svae"
"$cli" encode "$model" "${texts[@]}" > "$work/swift-vectors.out"
"$cli" reconstruct --json "$model" "${texts[@]}" > "$work/swift-reconstruct.out"

python3 - "$work" <<'PY'
import json, math, sys
work = sys.argv[1]
c = open(f"{work}/c.out").read().splitlines()
vectors = [list(map(float, l.split(":", 1)[1].split())) for l in c if l.startswith("vector[")]
outputs = [l.split(" output=", 1) for l in c if l.startswith("reconstruct[")]
swift_vectors = [list(map(float, l.split())) for l in open(f"{work}/swift-vectors.out").read().splitlines() if l.strip()]
swift_rec = [json.loads(l) for l in open(f"{work}/swift-reconstruct.out").read().splitlines() if l.strip()]
assert len(vectors) == len(swift_vectors) == len(outputs) == len(swift_rec), (len(vectors), len(swift_vectors), len(outputs), len(swift_rec))
assert all(len(v) == len(w) > 0 for v, w in zip(vectors, swift_vectors)), "vector lengths differ"
# A NaN never passes (max() would drop it, and NaN <= 1e-5 is False only when it is kept).
assert all(math.isfinite(x) for v in vectors + swift_vectors for x in v), "non-finite vector element"
diff = max(abs(a - b) for v, w in zip(vectors, swift_vectors) for a, b in zip(v, w))
assert diff <= 1e-5, f"vectors: max |C - Swift| = {diff}"
for (head, out), r in zip(outputs, swift_rec):
    exact = head.endswith("exact=1")
    assert out == r["output"] and exact == r["exact"], (head, out, r)
assert len(vectors) == 4, len(vectors)
print(f"ok   C, C++ and Swift agree on {len(vectors)} texts (vectors max diff {diff:.2g}, reconstructions equal)")
PY

echo "test-c-examples: ok"
