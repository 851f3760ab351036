// Harnesses of the format group (SVAEFormat: the whole .svae reader and its sections).
let fuzzTargets: [String: (UnsafePointer<UInt8>, Int) -> CInt] = [
    "reader": fuzzReader, "sections": fuzzSections,
]
