#!/usr/bin/env bash
# Builds the libFuzzer + AddressSanitizer harness binaries into .build-fuzz/bin:
#   format  (SVAEFormat sources):  reader, sections
#   import  (SVAEImport readers):  pickle, zip, pth, safetensors, json
#   tokenizer (SVAETokenizer):     tokenizer
#   yaml    (Yams + SVAEJSON + SVAEFormat + ReferenceConfig.swift): yaml
# Each binary holds its group's harnesses; SVAE_FUZZ_TARGET picks one (tools/fuzz/run.sh sets it).
# A group is one module: where a source imports another of the group's modules (SVAEJSON,
# Yams), a copy without that import is compiled from .build-fuzz/gen.
#   tools/fuzz/build.sh [GROUP...]   (default: all groups)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build-fuzz
mkdir -p "$out/bin"
fz=tools/fuzz
flags=(-O -parse-as-library -D SVAE_FUZZING -sanitize=fuzzer,address)
# ld.gold warns about every ASan helper symbol it cannot export: noise, filtered out.
quiet() { "$@" 2> >(grep -v "Cannot export local symbol" >&2); }
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(format import tokenizer yaml)
for g in "${groups[@]}"; do
    case "$g" in
    format)
        quiet swiftc "${flags[@]}" -I Sources/CZstd -lzstd Sources/SVAEFormat/*.swift \
            $fz/FuzzMain.swift $fz/TargetsFormat.swift $fz/FuzzReader.swift $fz/FuzzSections.swift -o "$out/bin/.fuzz-format.tmp" && mv -f "$out/bin/.fuzz-format.tmp" "$out/bin/fuzz-format" ;;
    import)
        s=Sources/SVAEImport  # the readers and what they need (not the converter: no kernels)
        gen="$out/gen"; mkdir -p "$gen"
        sed -e '/^import SVAEJSON$/d' $s/Safetensors.swift > "$gen/Safetensors.swift"
        quiet swiftc "${flags[@]}" $s/{Pickle,Zip,TorchCheckpoint,MappedFile,SourceTensor,Limits}.swift "$gen/Safetensors.swift" \
            Sources/SVAEJSON/*.swift $fz/FuzzMain.swift $fz/TargetsImport.swift $fz/FuzzSupport.swift $fz/FuzzTensors.swift \
            $fz/FuzzPickle.swift $fz/FuzzZip.swift $fz/FuzzTorch.swift $fz/FuzzSafetensors.swift $fz/FuzzJSON.swift \
            -o "$out/bin/.fuzz-import.tmp" && mv -f "$out/bin/.fuzz-import.tmp" "$out/bin/fuzz-import" ;;
    tokenizer)
        gen="$out/gen"; mkdir -p "$gen"
        mkdir -p "$gen/tokenizer"
        for f in Sources/SVAETokenizer/*.swift; do sed -e '/^import SVAEJSON$/d' "$f" > "$gen/tokenizer/$(basename "$f")"; done
        quiet swiftc "${flags[@]}" "$gen"/tokenizer/*.swift \
            Sources/SVAEJSON/*.swift $fz/FuzzMain.swift $fz/TargetsTokenizer.swift $fz/FuzzSupport.swift $fz/FuzzSplit.swift $fz/FuzzTokenizer.swift -o "$out/bin/.fuzz-tokenizer.tmp" && mv -f "$out/bin/.fuzz-tokenizer.tmp" "$out/bin/fuzz-tokenizer" ;;
    yaml)
        # Yams, SVAEJSON, SVAEFormat's value types (not its Reader/Writer: Yams has a Parser too)
        # and the config loader as ONE module named Yams (so `Yams.compose` in
        # ReferenceConfig.swift resolves without a separate module build); their imports of
        # each other are dropped, and the loader's path helpers are taken from Converter.swift.
        y=.build/checkouts/Yams/Sources
        [ -d "$y" ] || swift package resolve
        gen="$out/gen"; mkdir -p "$gen/cyaml"
        for f in Sources/SVAEImport/ReferenceConfig.swift Sources/SVAEImport/ModelConfig.swift; do
            sed -e '/^import Yams$/d' -e '/^import SVAEJSON$/d' -e '/^import SVAEFormat$/d' "$f" > "$gen/$(basename "$f")"
        done
        { echo "import Glibc"; sed -n '/^func isDirectory(/,/^}/p; /^func folder(of/,/^}/p; /^func realPath(/,/^}/p' Sources/SVAEImport/Converter.swift; } > "$gen/PathHelpers.swift"
        for c in "$y"/CYaml/src/*.c; do
            clang -c -O1 -g -fsanitize=address,fuzzer-no-link -DYAML_DECLARE_STATIC -I "$y/CYaml/include" "$c" -o "$gen/cyaml/$(basename "$c" .c).o"
        done
        quiet swiftc "${flags[@]}" -module-name Yams -D SWIFT_PACKAGE -Xcc -DYAML_DECLARE_STATIC -I "$y/CYaml/include" \
            -I Sources/CZstd -lzstd $(ls Sources/SVAEFormat/*.swift | grep -v -e Reader.swift -e Writer.swift) \
            "$y"/Yams/*.swift Sources/SVAEJSON/*.swift "$gen"/ReferenceConfig.swift "$gen"/ModelConfig.swift "$gen"/PathHelpers.swift \
            "$gen"/cyaml/*.o $fz/FuzzMain.swift $fz/TargetsYAML.swift $fz/FuzzSupport.swift $fz/FuzzSplit.swift $fz/FuzzYAML.swift \
            -o "$out/bin/.fuzz-yaml.tmp" && mv -f "$out/bin/.fuzz-yaml.tmp" "$out/bin/fuzz-yaml" ;;
    *) echo "unknown group $g" >&2; exit 2 ;;
    esac
done
