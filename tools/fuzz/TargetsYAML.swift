// Harnesses of the yaml group (the YAML config loader with `!include`).
let fuzzTargets: [String: (UnsafePointer<UInt8>, Int) -> CInt] = [
    "yaml": fuzzYAML,
]
