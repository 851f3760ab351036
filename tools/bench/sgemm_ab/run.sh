#!/usr/bin/env bash
# A/B of the AVX-512 f32 kernels (csvae_sgemm_task, csvae_sgemm_wp_task): A = matmul.c at a git
# revision (default HEAD), B = the working tree's, each with extra -D flags, built with the C
# flags SwiftPM gives the CSVAEKernels target in release (-O2 -fPIC -g -fno-omit-frame-pointer),
# run by main.c (the rest of the kernels library from the working tree; OpenBLAS for --blas).
#   tools/bench/sgemm_ab/run.sh [--base REV] [--a "FLAGS"] [--b "FLAGS"] [n [rounds [layers [wp_max [blas]]]]]
# e.g. tools/bench/sgemm_ab/run.sh --base main 128 15        (this branch against main, n = 128)
#      tools/bench/sgemm_ab/run.sh 16 15 4 24 1             (n = 16 on the panel copy, and OpenBLAS)
. "$(dirname "$0")/../ab_common.sh"
src="$root/Sources/CSVAEKernels"
for f in matmul.c matvec.h transpose.h include/csvae_kernels.h; do
    git -C "$root" show "$base:Sources/CSVAEKernels/$f" > "$out/a/$(basename "$f")"
done
# A's exported symbols get their own names so that both sides link into one program
ren=""
for s in csvae_bf16_supported csvae_matmul_bf16_task csvae_matmul_rows csvae_matmul_scratch_bytes csvae_matmul_task \
    csvae_qact_bind csvae_qact_bytes csvae_qact_quantize csvae_qact_quantize_scalar csvae_sgemm_pack \
    csvae_sgemm_pack_floats csvae_sgemm_supported csvae_sgemm_task csvae_sgemm_wp_task csvae_to_bf16; do
    ren="$ren -D$s=a_${s#csvae_}"
done
# shellcheck disable=SC2086
{
    $cc $flags -I"$out/a" $ren $a_flags -c "$out/a/matmul.c" -o "$out/a_matmul.o"
    $cc $flags -I"$out/a" $ren -DSIDE=a -c "$here/side.c" -o "$out/a_side.o"
    $cc $flags -I"$src/include" -I"$src" $b_flags -c "$src/matmul.c" -o "$out/b_matmul.o"
    $cc $flags -I"$src/include" -DSIDE=b -c "$here/side.c" -o "$out/b_side.o"
    for f in matvec.c quantize.c ops.c i8r.c pool.c; do
        $cc $flags -I"$src/include" -I"$src" -c "$src/$f" -o "$out/lib_${f%.c}.o"
    done
    $cc $flags -I"$src/include" -c "$here/main.c" -o "$out/main.o"
    $cc "$out"/*.o -o "$out/harness" -lopenblas -lpthread -lm
}
echo "A = $base:matmul.c $a_flags; B = working tree matmul.c $b_flags; $(uptime | sed 's/.*load/load/')"
"$out/harness" "$@"
