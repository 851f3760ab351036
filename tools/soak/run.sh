#!/usr/bin/env bash
# Soak test of the C API (not CI): builds libSVAECAPI (swift build, CONFIGURATION=debug|release,
# default debug, which reuses `swift test`'s build) and tools/soak/soak.c, then runs N threads on one model for SECONDS.
#   tools/soak/run.sh MODEL.svae [SECONDS=600] [THREADS=8]
set -euo pipefail
cd "$(dirname "$0")/../.."
model="$1"; secs="${2:-600}"; threads="${3:-8}"
configuration="${CONFIGURATION:-debug}"
swift build -c "$configuration" --product SVAECAPI >&2
lib="$(swift build -c "$configuration" --show-bin-path)"
out="$(mktemp -d "${TMPDIR:-/tmp}/svae-soak.XXXXXX")"
trap 'rm -rf "$out"' EXIT
gcc -O2 -std=c11 -Wall -Wextra -pthread tools/soak/soak.c -I Sources/CSVAEAPI/include -L "$lib" -lSVAECAPI \
    -Wl,-rpath,"$lib" -o "$out/soak"
"$out/soak" "$model" "$secs" "$threads"
