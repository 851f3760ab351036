// libFuzzer entry point for the .svae metadata and tokenizer sections on their own (the whole
// file is FuzzReader's): first byte even = metadata section body, odd = tokenizer section body.
func fuzzSections(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        guard let m = try? Metadata.decode(body) else { return 0 }
        // What decodes must encode, and re-decode to the same bytes (NaN-safe comparison).
        let enc = try! m.encoded()
        let enc2 = try! enc.withUnsafeBytes { try Metadata.decode($0) }.encoded()
        precondition(enc == enc2, "metadata section does not round-trip")
    } else {
        guard let t = try? TokenizerData.decode(body) else { return 0 }
        let enc = try! t.encoded()
        let back = enc.withUnsafeBytes { try! TokenizerData.decode($0) }
        precondition(back == t, "tokenizer section does not round-trip")
    }
    return 0
}
