// Harnesses of the tokenizer group (SVAETokenizer: tokenizer.json, vocab.json + merges.txt).
let fuzzTargets: [String: (UnsafePointer<UInt8>, Int) -> CInt] = [
    "tokenizer": fuzzTokenizer,
]
