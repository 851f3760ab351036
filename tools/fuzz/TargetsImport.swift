// Harnesses of the import group (SVAEImport's readers).
let fuzzTargets: [String: (UnsafePointer<UInt8>, Int) -> CInt] = [
    "pickle": fuzzPickle, "zip": fuzzZip, "pth": fuzzTorch, "safetensors": fuzzSafetensors, "json": fuzzJSON,
]
