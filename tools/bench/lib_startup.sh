#!/usr/bin/env bash
# Start-up cost of libsvae in a C program (tools/bench/lib_startup.c): dlopen and a first call
# (svae_version), then also loading the shipped model, for the library tools/install.sh installs
# (Swift stdlib linked in) and for the plain SwiftPM build (libSVAECAPI.so on the toolchain's
# shared Swift runtime, as installed before issue 16), both from this tree. Wall-clock medians move
# with the machine's load; the minimum and the CPU time much less. Needs hyperfine (apt-get install hyperfine).
#
# Usage: tools/bench/lib_startup.sh [RUNS]      (run it with nice -n -10 on a shared machine)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-300}"
work="$(mktemp -d "${TMPDIR:-/tmp}/svae-lib-startup.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tools/install.sh --prefix "$work/prefix" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
swift build -c release --product SVAECAPI > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
shared="$(swift build -c release --show-bin-path)/libSVAECAPI.so"
static="$(readlink -f "$work/prefix/lib/libsvae.so")"
model="$work/prefix/share/svae/svae-tiny.svae"
gcc -O2 -std=c99 -Wall -Wextra -Werror -I Sources/CSVAEAPI/include tools/bench/lib_startup.c -ldl -o "$work/lib_startup"

# Bytes the loader maps for each: the library and every library it pulls in from the toolchain.
runtime_bytes() { ldd "$1" | awk '$3 ~ /^\// { print $3 }' | grep -F "$2" | xargs -r stat -L -c %s | awk '{ s += $1 } END { print s + 0 }'; }
toolchain="$(cd "$(dirname "$(readlink -f "$(command -v swift)")")/.." && pwd)"
echo "static: $static, $(stat -c %s "$static") bytes; needs $(readelf -d "$static" | grep -c NEEDED) libraries"
echo "shared runtime: $shared, $(stat -c %s "$shared") bytes + $(runtime_bytes "$shared" "$toolchain/") bytes of Swift runtime from $toolchain; needs $(ldd "$shared" | grep -c '=>') libraries in all"
echo "load average before: $(cat /proc/loadavg)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/times.json" \
    -n "process only (no library)" "$work/lib_startup" \
    -n "dlopen libopenblas.so.0 alone" "$work/lib_startup libopenblas.so.0" \
    -n "static stdlib: dlopen + svae_version" "$work/lib_startup $static" \
    -n "shared runtime: dlopen + svae_version" "$work/lib_startup $shared" \
    -n "static stdlib: + load and free svae-tiny.svae" "$work/lib_startup $static $model" \
    -n "shared runtime: + load and free svae-tiny.svae" "$work/lib_startup $shared $model" > "$work/hyperfine.log" 2>&1 \
    || { cat "$work/hyperfine.log"; exit 1; }
echo "load average after: $(cat /proc/loadavg)"
python3 - "$work/times.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print("| what | median ms | median minus the process | min ms | CPU ms (user + sys, mean) | runs |")
print("|---|---:|---:|---:|---:|---:|")
for r in results:
    print(f"| {r['command']} | {r['median'] * 1e3:.2f} | {(r['median'] - base) * 1e3:.2f} | {r['min'] * 1e3:.2f} | "
          f"{(r['user'] + r['system']) * 1e3:.2f} | {len(r['times'])} |")
PY
