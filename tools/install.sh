#!/usr/bin/env bash
# Builds the C API library and installs it with its header and a pkg-config file:
#
#   PREFIX/include/svae.h
#   PREFIX/lib/libsvae.so           (SwiftPM product SVAECAPI, libSVAECAPI.so, renamed; no SONAME)
#   PREFIX/lib/pkgconfig/svae.pc
#
# Usage: tools/install.sh --prefix DIR [--configuration release|debug] [--bundle-runtime]
#
# The library needs the Swift runtime (libswiftCore.so, libFoundation*.so, ...). It records a
# RUNPATH of the toolchain's runtime directory (e.g. /opt/swift/usr/lib/swift/linux) and
# $ORIGIN, so on a machine with the toolchain nothing more is needed. --bundle-runtime also
# copies the runtime libraries it uses into PREFIX/lib (found through $ORIGIN), for machines
# without the toolchain. svae.pc adds an rpath to PREFIX/lib, so
#   gcc prog.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs svae)
# gives a binary that runs without LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=""
configuration=release
bundle=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --configuration|-c) configuration="${2:?--configuration needs release or debug}"; shift 2 ;;
        --bundle-runtime) bundle=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$prefix" ] || { echo "install.sh: expected --prefix DIR" >&2; exit 2; }
case "$configuration" in release|debug) ;; *) echo "install.sh: expected release or debug, found $configuration" >&2; exit 2 ;; esac
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

swift build -c "$configuration" --product SVAECAPI
bin="$(swift build -c "$configuration" --show-bin-path)"
version="$(sed -n 's/.*staticCString("\([0-9][0-9.]*\)").*/\1/p' Sources/SVAECAPI/Handles.swift | head -1)"

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 Sources/CSVAEAPI/include/svae.h "$prefix/include/svae.h"
install -m 755 "$bin/libSVAECAPI.so" "$prefix/lib/libsvae.so"

if [ "$bundle" = 1 ]; then
    runtime="$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux"
    runtime="$(cd "$runtime" && pwd)"
    # Every library ldd resolves inside the toolchain's runtime directory.
    ldd "$prefix/lib/libsvae.so" | awk -v dir="$runtime/" 'index($3, dir) == 1 { print $3 }' | while read -r lib; do
        install -m 755 "$lib" "$prefix/lib/"
    done
fi

cat > "$prefix/lib/pkgconfig/svae.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: svae
Description: SentenceVAE runtime on CPU (C API, svae.h)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lsvae -Wl,-rpath,\${libdir}
Libs.private: -lopenblas -lzstd
PC

echo "installed svae $version ($configuration) into $prefix:"
(cd "$prefix" && find include lib -maxdepth 2 -type f | sort | sed 's/^/  /' | head -40)
