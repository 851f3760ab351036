#!/usr/bin/env bash
# Fuzz the .svae reader with libFuzzer + AddressSanitizer.
#   tools/fuzz/run.sh [SECONDS]      (default 600)
# Builds into .build-fuzz/, keeps the corpus in .build-fuzz/corpus (seeded with valid files)
# and crash reproducers in .build-fuzz/crashes. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-600}"
out=.build-fuzz
mkdir -p "$out/corpus" "$out/crashes" "$out/seeds"
src=(Sources/SVAEFormat/*.swift)
cflags=(-I Sources/CZstd -lzstd -O -parse-as-library)
swiftc "${cflags[@]}" "${src[@]}" tools/fuzz/make_seeds.swift -o "$out/make_seeds"
"$out/make_seeds" "$out/seeds"
swiftc "${cflags[@]}" -D SVAE_FUZZING -sanitize=fuzzer,address "${src[@]}" tools/fuzz/FuzzReader.swift -o "$out/fuzz_reader"
"$out/fuzz_reader" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 "$out/corpus" "$out/seeds"
