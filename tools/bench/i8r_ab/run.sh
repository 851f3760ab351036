#!/usr/bin/env bash
# A/B of the i8r AVX-512 kernel: A = i8r.c and its header at a git revision (default HEAD),
# B = the working tree's, each with extra -D flags, built with the C flags SwiftPM gives the
# CSVAEKernels target in release (-O2 -fPIC -g -fno-omit-frame-pointer), run by main.c.
#   tools/bench/i8r_ab/run.sh [--base REV] [--a "FLAGS"] [--b "FLAGS"] [n [rounds [layers [paired|cold]]]]
# e.g. tools/bench/i8r_ab/run.sh --base main 1024 9      (this branch against main)
#      tools/bench/i8r_ab/run.sh --a -DPANEL_N=128 --b -DPANEL_N=256 1024
. "$(dirname "$0")/../ab_common.sh"
git -C "$root" show "$base:Sources/CSVAEKernels/i8r.c" > "$out/a/i8r.c"
git -C "$root" show "$base:Sources/CSVAEKernels/include/csvae_kernels.h" > "$out/a/csvae_kernels.h"
# A's exported symbols get their own names so that both sides link into one program
ren=""
for s in csvae_i8r_bytes csvae_quantize_i8r csvae_i8r_dequantize_row csvae_i8r_act_bytes csvae_i8r_act_bind \
    csvae_i8r_act_quantize csvae_i8r_act_quantize_scalar csvae_i8r_rows csvae_i8r_task csvae_probe_peak csvae_i8r_argmax_merge; do
    ren="$ren -D$s=a_${s#csvae_}"
done
# shellcheck disable=SC2086
{
    $cc $flags -I"$out/a" $ren $a_flags -c "$out/a/i8r.c" -o "$out/a_i8r.o"
    $cc $flags -I"$out/a" $ren -DSIDE=a -c "$here/side.c" -o "$out/a_side.o"
    $cc $flags -I"$inc" $b_flags -c "$root/Sources/CSVAEKernels/i8r.c" -o "$out/b_i8r.o"
    $cc $flags -I"$inc" -DSIDE=b -c "$here/side.c" -o "$out/b_side.o"
    $cc $flags -I"$inc" -c "$here/main.c" -o "$out/main.o"
    $cc "$out"/*.o -o "$out/harness" -lm
}
echo "A = $base:i8r.c $a_flags; B = working tree i8r.c $b_flags; $(uptime | sed 's/.*load/load/')"
"$out/harness" "$@"
