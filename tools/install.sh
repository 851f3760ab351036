#!/usr/bin/env bash
# Builds svae with the Swift standard library linked in statically and installs it:
#
#   PREFIX/lib/libsvae.so.ABI       the C API (svae.h), SONAME libsvae.so.ABI, stripped, only svae_*
#                                   symbols exported; needs libc, libm, libstdc++, libgcc_s,
#                                   libopenblas and libzstd at run time, nothing from Swift
#   PREFIX/lib/libsvae.so           -> libsvae.so.ABI (for -lsvae)
#   PREFIX/include/svae.h
#   PREFIX/lib/pkgconfig/svae.pc
#   PREFIX/bin/svae, PREFIX/bin/svae-convert   the command-line programs (Swift runtime and
#                                   Foundation linked in), stripped; PREFIX/bin/svae-bench beside
#                                   them (the benchmarks, docs/bench.md), as llama.cpp installs
#                                   llama-bench
#   PREFIX/share/svae/svae-tiny.svae           models/svae-tiny converted (q8_0), with its
#                                   README.md and LICENSES/ in PREFIX/share/svae/svae-tiny/
#
# ABI is SVAE_ABI_VERSION of svae.h (the README says when it changes).
#
# Usage: tools/install.sh --prefix DIR [--configuration release|debug]
#
# The build has its own scratch directory, .build/install, so that its flags (-static-stdlib)
# do not invalidate `swift test`'s or the benchmarks' builds in .build. Then
#   gcc prog.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs svae)
# gives a binary that runs without LD_LIBRARY_PATH (svae.pc adds an rpath to PREFIX/lib).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=""
configuration=release
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --configuration|-c) configuration="${2:?--configuration needs release or debug}"; shift 2 ;;
        --bundle-runtime) echo "install.sh: --bundle-runtime is gone: libsvae.so carries the Swift runtime it needs" >&2; exit 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$prefix" ] || { echo "install.sh: expected --prefix DIR" >&2; exit 2; }
case "$configuration" in release|debug) ;; *) echo "install.sh: expected release or debug, found $configuration" >&2; exit 2 ;; esac
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

header=Sources/CSVAEAPI/include/svae.h
abi="$(sed -n 's/^#define SVAE_ABI_VERSION \([0-9][0-9]*\)$/\1/p' "$header")"
[ -n "$abi" ] || { echo "install.sh: $header: expected a line '#define SVAE_ABI_VERSION <number>', found none" >&2; exit 1; }
version="$(sed -n 's/.*staticCString("\([0-9][0-9.]*\)").*/\1/p' Sources/SVAECAPI/Handles.swift | head -1)"
soname="libsvae.so.$abi"

# -static-stdlib reaches the link of the shared library only through -Xswiftc (SwiftPM's
# --static-swift-stdlib applies to executables alone); all four products share these flags so
# the modules are compiled once. The linker flags are the library's own: its SONAME,
# tools/libsvae.map, which exports svae_* and hides everything else (ours and the Swift runtime's),
# and --icf=safe (gold: one copy of identical functions whose address is never taken; 8.03 MB ->
# 7.94 MB after issue 14's batched decoding).
build=(swift build -c "$configuration" --scratch-path .build/install -Xswiftc -static-stdlib)
"${build[@]}" --product SVAECAPI -Xlinker -soname -Xlinker "$soname" -Xlinker "--version-script=$PWD/tools/libsvae.map" \
    -Xlinker --icf=safe
"${build[@]}" --product svae
"${build[@]}" --product svae-convert
"${build[@]}" --product svae-bench
bin="$("${build[@]}" --show-bin-path)"

install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/bin" "$prefix/share/svae/svae-tiny"
install -m 644 "$header" "$prefix/include/svae.h"
strip --strip-all -o "$prefix/lib/$soname.tmp" "$bin/libSVAECAPI.so"
chmod 755 "$prefix/lib/$soname.tmp"
mv -f "$prefix/lib/$soname.tmp" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libsvae.so"
for tool in svae svae-convert svae-bench; do
    strip --strip-all -o "$prefix/bin/$tool.tmp" "$bin/$tool"
    chmod 755 "$prefix/bin/$tool.tmp"
    mv -f "$prefix/bin/$tool.tmp" "$prefix/bin/$tool"
done

# The shipped model, converted by the installed converter.
"$prefix/bin/svae-convert" models/svae-tiny -o "$prefix/share/svae/svae-tiny.svae" --quant q8_0 > "$prefix/share/svae/convert.log" 2>&1 \
    || { cat "$prefix/share/svae/convert.log" >&2; exit 1; }
rm -f "$prefix/share/svae/convert.log"
install -m 644 models/svae-tiny/README.md models/svae-tiny/samples.txt "$prefix/share/svae/svae-tiny/"
install -d "$prefix/share/svae/svae-tiny/LICENSES"
install -m 644 models/svae-tiny/LICENSES/* "$prefix/share/svae/svae-tiny/LICENSES/"

cat > "$prefix/lib/pkgconfig/svae.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: svae
Description: SentenceVAE runtime on CPU (C API, svae.h; ABI $abi)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lsvae -Wl,-rpath,\${libdir}
Libs.private: -lopenblas -lzstd -lstdc++ -lm
PC

echo "installed svae $version (ABI $abi, $configuration) into $prefix:"
(cd "$prefix" && find bin include lib share/svae -maxdepth 1 \( -type f -o -type l \) | sort | sed 's/^/  /')
