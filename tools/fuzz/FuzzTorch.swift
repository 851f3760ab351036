// libFuzzer entry point for the whole .pth path: ZIP + pickle + storages + strided reads.
func fuzzTorch(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(UnsafeBufferPointer(start: data, count: size), name: "in.pth")
    guard let c = try? TorchCheckpoint(path: path) else { return 0 }
    FuzzFile.readAll(c.tensors)
    return 0
}
