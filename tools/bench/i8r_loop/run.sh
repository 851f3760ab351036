#!/usr/bin/env bash
# The working tree's i8r AVX-512 kernel in plain C loops (loop.c says what each mode measures),
# built with the C flags SwiftPM gives the CSVAEKernels target in release; --b "FLAGS" adds -D
# flags to i8r.c (e.g. --b -DWIDE_MIN=32). One build, no A/B: for a change, use i8r_ab.
#   tools/bench/i8r_loop/run.sh [--b "FLAGS"] product N ROWS COLS CALLS [COPIES]
#   tools/bench/i8r_loop/run.sh [--b "FLAGS"] encoder N PASSES
#   tools/bench/i8r_loop/run.sh [--b "FLAGS"] step N STEPS [LAYERS]
# e.g. ARGMAX=1 POLLUTE=48 tools/bench/i8r_loop/run.sh product 32 50272 768 20
#      (the greedy LM head at batch 32, 48 MB of other memory read between calls)
. "$(dirname "$0")/../ab_common.sh"
# shellcheck disable=SC2086
$cc $flags -I"$inc" $b_flags -c "$root/Sources/CSVAEKernels/i8r.c" -o "$out/i8r.o"
$cc $flags -I"$inc" -c "$here/loop.c" -o "$out/loop.o"
$cc "$out"/*.o -o "$out/loop" -lm
echo "working tree i8r.c $b_flags; $(uptime | sed 's/.*load/load/')"
"$out/loop" "$@"
