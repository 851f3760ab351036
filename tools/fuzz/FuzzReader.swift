// libFuzzer entry point for the .svae reader. Built by tools/fuzz/run.sh together with the
// SVAEFormat sources into one module (so no `import SVAEFormat`).

func fuzzReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SVAEFile(bytes: bytes, name: "fuzz") else { return 0 }
    // Everything the reader hands out must be usable without faults.
    for t in file.tensors {
        let b = file.bytes(of: t)
        if b.count > 0 { _ = b[b.count - 1] }
    }
    _ = try? file.validateModel()
    _ = try? file.verify()
    return 0
}
