// libFuzzer entry point for the restricted unpickler alone (the bytes are one data.pkl).
func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let (v, pids) = try? Unpickler.load(bytes, path: "fuzz") else { return 0 }
    _ = v.summary
    for p in pids { _ = try? TorchCheckpoint.parseStorage(p, path: "fuzz") }
    if let (d, _) = try? TorchCheckpoint.findStateDict(v, path: "fuzz") {
        for (_, x) in d.entries { _ = TorchCheckpoint.tensorCall(x) }
    }
    return 0
}
