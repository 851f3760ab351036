#!/usr/bin/env bash
# Fuzz the parsers of downloaded input with libFuzzer + AddressSanitizer. Not part of CI.
#   tools/fuzz/run.sh [SECONDS] [HARNESS...]    (default 600 s each, every harness, one after another)
# Harnesses: reader sections pickle zip pth safetensors json tokenizer yaml (tools/fuzz/build.sh builds them).
# Seeds: tools/fuzz/corpus/<harness> (the committed corpus, also replayed by the test suite);
# the growing corpus is .build-fuzz/corpus/<harness>, crash reproducers .build-fuzz/crashes/<harness>,
# logs .build-fuzz/logs/<harness>.log (libFuzzer's final stats at the end).
# To fold a few new inputs back into the committed corpus: tools/fuzz/shrink.sh HARNESS [N].
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-600}"
shift || true
all=(reader sections pickle zip pth safetensors json tokenizer yaml)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")
out=.build-fuzz
group() { case "$1" in reader|sections) echo format ;; pickle|zip|pth|safetensors|json) echo import ;; tokenizer) echo tokenizer ;; yaml) echo yaml ;; *) echo "" ;; esac; }
maxlen() { case "$1" in reader|pth|zip) echo 8192 ;; tokenizer) echo 32768 ;; *) echo 4096 ;; esac; }
dict() { case "$1" in pickle|zip|pth|sections|safetensors|json) echo "-dict=tools/fuzz/dict/$1.dict" ;; tokenizer) echo "-dict=tools/fuzz/dict/json.dict" ;; yaml) echo "-dict=tools/fuzz/dict/yaml.dict" ;; esac; }
groups=()
for h in "${harnesses[@]}"; do
    g=$(group "$h"); [ -n "$g" ] || { echo "unknown harness $h (one of: ${all[*]})" >&2; exit 2; }
    [[ " ${groups[*]} " == *" $g "* ]] || groups+=("$g")
done
# Rebuild a group's binary only when a source is newer than it.
stale=()
for g in "${groups[@]}"; do
    b="$out/bin/fuzz-$g"
    if [ ! -x "$b" ] || [ -n "$(find Sources tools/fuzz -name '*.swift' -newer "$b" | head -1)" ]; then stale+=("$g"); fi
done
[ ${#stale[@]} -eq 0 ] || [ -n "${SVAE_FUZZ_NO_BUILD:-}" ] || tools/fuzz/build.sh "${stale[@]}"
mkdir -p "$out/seeds"
if [[ " ${harnesses[*]} " == *" reader "* ]]; then
    # The reader's seeds are whole .svae files written by the format layer.
    swiftc -O -parse-as-library -I Sources/CZstd -lzstd Sources/SVAEFormat/*.swift tools/fuzz/make_seeds.swift -o "$out/make_seeds"
    mkdir -p "$out/seeds/reader"
    "$out/make_seeds" "$out/seeds/reader"
fi
for h in "${harnesses[@]}"; do
    mkdir -p "$out/corpus/$h" "$out/crashes/$h" "$out/logs"
    echo "== $h: ${secs}s"
    SVAE_FUZZ_TARGET=$h "$out/bin/fuzz-$(group "$h")" -max_total_time="$secs" -max_len="$(maxlen "$h")" \
        -rss_limit_mb=2048 -timeout=10 $(dict "$h") -artifact_prefix="$out/crashes/$h/" -print_final_stats=1 \
        "$out/corpus/$h" $(for d in tools/fuzz/corpus/$h "$out/seeds/$h"; do [ -d "$d" ] && echo "$d"; done) \
        2>&1 | tee "$out/logs/$h.log" | grep -E '^(#[0-9]+.*(DONE|pulse)|stat::|==[0-9]+==ERROR|SUMMARY)' || true
    if ls "$out/crashes/$h"/* >/dev/null 2>&1; then echo "!! $h: findings in $out/crashes/$h"; fi
done
