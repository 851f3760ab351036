#!/bin/sh
# Build and run matvec_ab.c: $1 = the old matvec.c (e.g. `git show main:Sources/CSVAEKernels/matvec.c > /tmp/old_matvec.c`),
# $2 = rounds (default 15). Run from the package root; take timings only at load < 1.5.
set -e
old=$1; rounds=${2:-15}; out=${TMPDIR:-/tmp}/matvec_ab
inc="-I Sources/CSVAEKernels/include -I Sources/CSVAEKernels"
nice -n 10 clang -O2 -c $inc -Dcsvae_matvec_quant_avx512=old_matvec_quant_avx512 \
    -Dcsvae_matvec_quant_avx2=old_matvec_quant_avx2 -x c "$old" -o "$out.old.o"
nice -n 10 clang -O2 $inc tools/bench/matvec_ab/matvec_ab.c "$out.old.o" Sources/CSVAEKernels/*.c -o "$out" -lopenblas -lm -lpthread
uptime
"$out" "$rounds"
