#!/usr/bin/env bash
# Builds the libFuzzer + AddressSanitizer harness binaries into .build-fuzz/bin:
#   format  (SVAEFormat sources):  reader, sections
#   import  (SVAEImport readers):  pickle, zip, pth, safetensors, json
#   tokenizer (SVAETokenizer):     tokenizer
# Each binary holds its group's harnesses; SVAE_FUZZ_TARGET picks one (tools/fuzz/run.sh sets it).
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
[ ${#groups[@]} -eq 0 ] && groups=(format import tokenizer)
for g in "${groups[@]}"; do
    case "$g" in
    format)
        quiet swiftc "${flags[@]}" -I Sources/CZstd -lzstd Sources/SVAEFormat/*.swift \
            $fz/FuzzMain.swift $fz/TargetsFormat.swift $fz/FuzzReader.swift $fz/FuzzSections.swift -o "$out/bin/.fuzz-format.tmp" && mv -f "$out/bin/.fuzz-format.tmp" "$out/bin/fuzz-format" ;;
    import)
        s=Sources/SVAEImport  # the readers and what they need (not the converter: no kernels)
        quiet swiftc "${flags[@]}" $s/{Pickle,Zip,TorchCheckpoint,Safetensors,JSON,MappedFile,SourceTensor,Limits}.swift \
            $fz/FuzzMain.swift $fz/TargetsImport.swift $fz/FuzzSupport.swift \
            $fz/FuzzPickle.swift $fz/FuzzZip.swift $fz/FuzzTorch.swift $fz/FuzzSafetensors.swift $fz/FuzzJSON.swift -o "$out/bin/.fuzz-import.tmp" && mv -f "$out/bin/.fuzz-import.tmp" "$out/bin/fuzz-import" ;;
    tokenizer)
        quiet swiftc "${flags[@]}" Sources/SVAETokenizer/*.swift \
            $fz/FuzzMain.swift $fz/TargetsTokenizer.swift $fz/FuzzTokenizer.swift -o "$out/bin/.fuzz-tokenizer.tmp" && mv -f "$out/bin/.fuzz-tokenizer.tmp" "$out/bin/fuzz-tokenizer" ;;
    *) echo "unknown group $g" >&2; exit 2 ;;
    esac
done
