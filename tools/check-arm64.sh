#!/usr/bin/env bash
# Cross-compiles the C kernels and tools/arm64_driver.c for arm64 (NEON + dotprod), runs them
# under qemu-aarch64, and compares the quantizer hashes with a native x86-64 build: the
# quantizers must write identical bytes on both architectures.
# Needs: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
src=("$root"/Sources/CSVAEKernels/*.c "$root/tools/arm64_driver.c")
flags=(-O2 -std=c11 -ffp-contract=off -I"$root/Sources/CSVAEKernels/include" -lm -lpthread)

gcc "${src[@]}" "${flags[@]}" -o "$out/native"
aarch64-linux-gnu-gcc -march=armv8.2-a+dotprod "${src[@]}" "${flags[@]}" -static -o "$out/arm64"

echo "== native"; "$out/native" | tee "$out/native.txt"
echo "== arm64 (qemu)"; qemu-aarch64 -cpu max "$out/arm64" | tee "$out/arm64.txt"

# Quantizer hashes of the scalar path (path 0) must agree across architectures.
n="$(grep '^path 0 ' "$out/native.txt")"; a="$(grep '^path 0 ' "$out/arm64.txt")"
if [[ "$n" != "$a" ]]; then echo "quantizer bytes differ: native '$n' vs arm64 '$a'"; exit 1; fi
if [[ "$(grep '^i8r ' "$out/native.txt")" != "$(grep '^i8r ' "$out/arm64.txt")" ]]; then echo "i8r bytes differ across architectures"; exit 1; fi
# And every path on one machine agrees with its scalar path.
for f in native arm64; do
  if [[ "$(grep '^path ' "$out/$f.txt" | awk '{print $4, $6}' | sort -u | wc -l)" != 1 ]]; then
    echo "$f: quantizer paths disagree"; exit 1
  fi
done
echo "arm64 check passed"
