#!/usr/bin/env bash
# Checks what tools/install.sh installs, as a device without Swift would get it:
#   - libsvae.so.ABI: its SONAME, the libsvae.so link, stripped, at most 8 MB, exports exactly the
#     functions svae.h declares, needs only libc, libm, libstdc++, libgcc_s, libopenblas and
#     libzstd (and what those need), nothing from the Swift toolchain (readelf -d, ldd);
#   - bin/svae, bin/svae-convert and bin/svae-bench: the same dependency rule;
#   - with the toolchain's folder hidden (a mount namespace over it when `unshare -m` is allowed,
#     as root in CI; always: the loader's own trace, LD_DEBUG=libs, must never mention it):
#     a C program reads the ABI of the loaded library, bin/svae reconstructs with the shipped
#     model in share/svae, tools/test-c-examples.sh --prefix runs the C and C++ examples against
#     the installed library on the random test model and on the shipped model, and the Python
#     package's tests (python/tests/test_api.py, test_library.py, test_perplexity.py) run with
#     SVAE_LIBRARY set to the installed libsvae.so.ABI, in the venv tools/test-python.sh made
#     (.venv-test; run that first).
# Prints one line per check and, last, `install: N passed, M failed`; exits non-zero on a failure.
#
# Usage: tools/test-install.sh     Environment: CONFIGURATION=release|debug (default release).
set -uo pipefail
cd "$(dirname "$0")/.."
configuration="${CONFIGURATION:-release}"
work="$(mktemp -d "${TMPDIR:-/tmp}/svae-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
max_bytes=8000000

passed=0
failed=0
# check NAME COMMAND...: runs COMMAND, counts it, shows its output when it fails.
check() {
    local name="$1"
    shift
    if "$@" > "$work/check.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/     /' "$work/check.log"
    fi
}
finish() {
    echo "install: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

# The toolchain: the folder that holds bin/swift (/opt/swift/usr here). When Swift lives in /usr
# itself, only its runtime folder usr/lib/swift can be hidden.
toolchain="$(cd "$(dirname "$(readlink -f "$(command -v swift)")")/.." && pwd)"
[ "$toolchain" = /usr ] && toolchain=/usr/lib/swift

header=Sources/CSVAEAPI/include/svae.h
abi="$(sed -n 's/^#define SVAE_ABI_VERSION \([0-9][0-9]*\)$/\1/p' "$header")"
lib="$prefix/lib/libsvae.so.$abi"

# The random-weight test models of Tests/CAPITests (need the toolchain, so written first).
test_model() {
    SVAE_CAPI_MODEL_OUT="$work/model.svae" SVAE_CAPI_SLLM_OUT="$work/sllm.svae" SVAE_CAPI_OPT_OUT="$work/opt.svae" swift test --filter 'CAPITests.CAPITests/writeModelForScripts' > "$work/model.log" 2>&1
    [ -s "$work/model.svae" ] || { cat "$work/model.log"; return 1; }
}
check "test model written (swift test --filter CAPITests.CAPITests/writeModelForScripts)" test_model
check "tools/install.sh --prefix $prefix --configuration $configuration" \
    tools/install.sh --prefix "$prefix" --configuration "$configuration"
[ -f "$lib" ] || { echo "no $lib: nothing more to check"; failed=$((failed + 1)); finish; }

# ---------------------------------------------------------------- the files

installed_files() {
    local f ok=0
    for f in "lib/libsvae.so.$abi" include/svae.h lib/pkgconfig/svae.pc bin/svae bin/svae-convert bin/svae-bench \
        share/svae/svae-tiny.svae share/svae/svae-tiny/README.md; do
        [ -f "$prefix/$f" ] || { echo "expected $f, found none"; ok=1; }
    done
    [ "$(readlink "$prefix/lib/libsvae.so")" = "libsvae.so.$abi" ] \
        || { echo "expected lib/libsvae.so -> libsvae.so.$abi, found $(readlink "$prefix/lib/libsvae.so" || echo 'no link')"; ok=1; }
    return $ok
}
check "installed files, lib/libsvae.so -> libsvae.so.$abi" installed_files

soname() {
    local found
    found="$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    echo "SONAME: expected libsvae.so.$abi, found ${found:-none}"
    [ "$found" = "libsvae.so.$abi" ]
}
check "SONAME libsvae.so.$abi" soname

size() {
    local bytes
    bytes="$(stat -c %s "$lib")"
    echo "$lib: $bytes bytes, at most $max_bytes expected"
    [ "$bytes" -le "$max_bytes" ]
}
check "library size <= $max_bytes bytes" size

stripped() {
    ! readelf -S -W "$1" | grep -q ' \.symtab ' || { echo "$1 has a .symtab section"; return 1; }
}
check "library stripped" stripped "$lib"

# The global symbols it defines are exactly the functions svae.h declares (comments aside).
exports() {
    grep -v '^ \*\|^/\*' "$header" | grep -oE '\bsvae_[a-z0-9_]+[[:space:]]*\(' | sed 's/[[:space:]]*($//' | sort -u > "$work/declared"
    nm -D --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort -u > "$work/exported"
    echo "declared in svae.h: $(wc -l < "$work/declared"), exported: $(wc -l < "$work/exported")"
    diff "$work/declared" "$work/exported"
}
check "exports exactly the functions of svae.h" exports

# NEEDED entries of FILE: the allowed libraries only (glibc's split-off libdl/libpthread/librt
# count as libc on older systems); RUNPATH, if any, only $ORIGIN.
needed() {
    local ok=0 n r
    for n in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case "$n" in
            libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|libopenblas.so.*|libzstd.so.*|ld-linux*.so.*) echo "needs $n" ;;
            libdl.so.*|libpthread.so.*|librt.so.*) echo "needs $n" ;;
            *) echo "needs $n: not allowed"; ok=1 ;;
        esac
    done
    for r in $(readelf -d "$1" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p' | tr : ' '); do
        [ "$r" = '$ORIGIN' ] || { echo "search path $r: expected none or \$ORIGIN"; ok=1; }
    done
    return $ok
}
# ldd: every library resolves, and none from the toolchain.
closure() {
    ldd "$1" > "$work/ldd" 2>&1 || { cat "$work/ldd"; return 1; }
    cat "$work/ldd"
    ! grep -q 'not found' "$work/ldd" || { echo "unresolved libraries"; return 1; }
    ! grep -qF "$toolchain/" "$work/ldd" || { echo "resolved inside the toolchain $toolchain"; return 1; }
}
for f in "lib/libsvae.so.$abi" bin/svae bin/svae-convert bin/svae-bench; do
    check "$f: needs only libc, libm, libstdc++, libgcc_s, libopenblas, libzstd (readelf -d)" needed "$prefix/$f"
    check "$f: nothing resolved from $toolchain (ldd)" closure "$prefix/$f"
done

# ---------------------------------------------------------------- running without the toolchain

# hidden COMMAND...: COMMAND without LD_LIBRARY_PATH, under LD_DEBUG=libs (trace files
# $work/trace.PID), and with an empty tmpfs over the toolchain when a mount namespace is allowed.
if unshare -m -- sh -c 'mount -t tmpfs -o ro,size=64k svae-hidden "$0"' "$toolchain" 2> "$work/unshare.log"; then
    echo "toolchain $toolchain hidden by an empty tmpfs in a mount namespace (unshare -m)"
    namespace=1
else
    echo "no mount namespace (unshare -m, mount: $(head -1 "$work/unshare.log")): the loader's trace alone shows the toolchain unused"
    namespace=0
fi
hidden() {
    if [ "$namespace" = 1 ]; then
        env -u LD_LIBRARY_PATH LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/trace" \
            unshare -m -- sh -c 'mount -t tmpfs -o ro,size=64k svae-hidden "$0" && exec "$@"' "$toolchain" "$@"
    else
        env -u LD_LIBRARY_PATH LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/trace" "$@"
    fi
}
if [ "$namespace" = 1 ]; then
    check "the toolchain is empty inside the namespace" hidden sh -c '[ -z "$(ls -A "$0")" ]' "$toolchain"
fi

cat > "$work/abi.c" <<'C'
#include <stdio.h>
#include "svae.h"
int main(void) {
    printf("header %d, library %d, version %s\n", SVAE_ABI_VERSION, svae_abi_version(), svae_version());
    return svae_abi_version() == SVAE_ABI_VERSION ? 0 : 1;
}
C
abi_program() {
    local flags
    flags="$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs svae)" || return 1
    gcc -std=c99 -Wall -Werror "$work/abi.c" $flags -o "$work/abi" || return 1
    readelf -d "$work/abi" | grep -F "[libsvae.so.$abi]" || { echo "the program does not record libsvae.so.$abi"; return 1; }
    hidden "$work/abi"
}
check "a C program built with pkg-config loads libsvae.so.$abi and reads ABI $abi" abi_program

reconstruct() {
    local text="Returns the attachment point of a body."
    hidden "$prefix/bin/svae" reconstruct --json "$prefix/share/svae/svae-tiny.svae" "$text" > "$work/reconstruct.json" || return 1
    cat "$work/reconstruct.json"
    python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).read()); assert r["text"] == sys.argv[2] and r["output"], r' \
        "$work/reconstruct.json" "$text"
}
check "bin/svae reconstruct share/svae/svae-tiny.svae" reconstruct
check "C, C++ and bin/svae agree on the test model" hidden tools/test-c-examples.sh --prefix "$prefix" "$work/model.svae"
check "C, C++ and bin/svae agree on the shipped model" hidden tools/test-c-examples.sh --prefix "$prefix" "$prefix/share/svae/svae-tiny.svae"

# The Python package of .venv-test (tools/test-python.sh), on the installed library: the models
# its tests read (conftest.py), the shipped one as installed.
venv="${SVAE_TEST_VENV:-.venv-test}"
python_tests() {
    [ -x "$venv/bin/python" ] || { echo "no $venv/bin/python: run tools/test-python.sh first"; return 1; }
    mkdir -p "$work/models"
    ln -sf "$work/model.svae" "$work/models/svae.svae"
    ln -sf "$work/model.no-tokenizer.svae" "$work/models/svae.no-tokenizer.svae"
    ln -sf "$work/sllm.svae" "$work/models/sllm.svae"
    ln -sf "$work/opt.svae" "$work/models/opt.svae"
    ln -sf "$prefix/share/svae/svae-tiny.svae" "$work/models/tiny.svae"
    ln -sf "$prefix/share/svae/svae-tiny/samples.txt" "$work/models/tiny-samples.txt"
    # From python/tests, so that `import svae` is the venv's package; SVAE_LIBRARY overrides its copy.
    hidden env SVAE_LIBRARY="$lib" SVAE_TEST_MODELS="$work/models" sh -c 'cd python/tests && exec "$0" -m pytest -q -p no:cacheprovider test_api.py test_library.py test_perplexity.py' "$PWD/$venv/bin/python"
}
check "Python package tests (python/tests/test_api.py, test_library.py, test_perplexity.py) on lib/libsvae.so.$abi" python_tests

# The loader's trace of every process above (compilers, shells, Python included).
trace() {
    local n
    n="$(ls "$work"/trace.* 2> /dev/null | wc -l)"
    echo "$n traced processes"
    [ "$n" -gt 0 ] || return 1
    grep -q "$prefix/lib/libsvae.so.$abi" "$work"/trace.* || { echo "no trace loads $prefix/lib/libsvae.so.$abi"; return 1; }
    ! grep -F "$toolchain/" "$work"/trace.* | head -5 | grep . || { echo "the loader looked into $toolchain"; return 1; }
}
check "the loader never looked into $toolchain (LD_DEBUG=libs)" trace
finish
