// libFuzzer entry point for the ZIP reader: directory, local headers, stored reads.
func fuzzZip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzFile.write(UnsafeBufferPointer(start: data, count: size), name: "in.zip")
    guard let z = try? ZipArchive(path: path) else { return 0 }
    for e in z.entries {
        if let b = try? z.read(e.name), let last = b.last { _ = last }
    }
    return 0
}
