#!/usr/bin/env bash
# Bit-for-bit A/B of the attention kernels (ops.c): csvae_attention_one, csvae_attention
# (with a key mask) and csvae_attention_sentences (the encoder's) of ops.c at a git revision
# (A, default HEAD) against the working tree's (B), each built into its own shared library with
# the release C flags and loaded into one program (cmp.c), on random queries, keys and values
# over head sizes 1-100, 1-3 heads, 1-40 keys and one to three sentences of 1-40 positions.
# Prints how many of the calls differ in any output bit; exits 1 if any does.
# With --time [ROUNDS] (and no bit differing) it then times csvae_attention_sentences of A and B
# on svae-768's encoder shape (8 sentences of 16 tokens, 12 heads of 64), rounds of A B B A.
#   tools/bench/attention_ab/run.sh [--base REV] [--time [ROUNDS]]
. "$(dirname "$0")/../ab_common.sh"
rounds=""
if [ "${1:-}" = "--time" ]; then rounds=${2:-15}; fi
git -C "$root" show "$base:Sources/CSVAEKernels/ops.c" > "$out/a/ops.c"
git -C "$root" show "$base:Sources/CSVAEKernels/transpose.h" > "$out/a/transpose.h"
git -C "$root" show "$base:Sources/CSVAEKernels/include/csvae_kernels.h" > "$out/a/csvae_kernels.h"
echo 'int csvae_path_supported(int path) { (void)path; return 1; }' > "$out/stub.c"
# shellcheck disable=SC2086
{
    $cc $flags -shared -I"$out/a" "$out/a/ops.c" "$out/stub.c" -o "$out/liba.so" -lm
    $cc $flags -shared -I"$inc" -I"$root/Sources/CSVAEKernels" "$root/Sources/CSVAEKernels/ops.c" "$out/stub.c" -o "$out/libb.so" -lm
    $cc $flags "$here/cmp.c" -o "$out/cmp" -ldl
}
echo "A = $base:ops.c; B = working tree ops.c"
"$out/cmp" "$out/liba.so" "$out/libb.so" $rounds
