#!/usr/bin/env bash
# Folds a fuzz run back into the committed corpus, kept small: libFuzzer's -merge=1 picks the
# inputs of .build-fuzz/corpus/<harness> that add coverage beyond tools/fuzz/corpus/<harness>,
# and N of them (default 20, each ≤ 4 KB, spread over the sizes from smallest to largest) are added.
#   tools/fuzz/shrink.sh HARNESS [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
h="$1"; n="${2:-20}"
case "$h" in reader|sections) g=format ;; pickle|zip|pth|safetensors|json) g=import ;; tokenizer) g=tokenizer ;; yaml) g=yaml ;;
    *) echo "unknown harness $h" >&2; exit 2 ;; esac
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cp tools/fuzz/corpus/"$h"/* "$tmp/" 2>/dev/null || true
before="$(ls "$tmp" | wc -l)"
SVAE_FUZZ_TARGET="$h" ".build-fuzz/bin/fuzz-$g" -merge=1 "$tmp" ".build-fuzz/corpus/$h" > "$tmp/merge.log" 2>&1
# libFuzzer names what the merge adds by its SHA-1; keep N of those, spread over their sizes
for f in "$tmp"/*; do
    b="$(basename "$f")"
    if [[ "$b" =~ ^[0-9a-f]{40}$ ]] && [ ! -e "tools/fuzz/corpus/$h/$b" ] && [ "$(stat -c %s "$f")" -le 4096 ]; then echo "$(stat -c %s "$f") $f"; fi
done | sort -n | awk -v n="$n" '{ l[NR] = $2 } END { for (i = 0; i < n && i < NR; i++) print l[1 + int(i * NR / n)] }' \
    | sort -u | while read -r f; do cp "$f" "tools/fuzz/corpus/$h/"; done || true
echo "$h: $before → $(ls tools/fuzz/corpus/$h | wc -l) files, $(cat tools/fuzz/corpus/$h/* | wc -c) bytes"
