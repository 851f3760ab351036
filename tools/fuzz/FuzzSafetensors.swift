// libFuzzer entry point for safetensors: first byte even = one file; odd = a shard index and
// its shard, split at the first "\n--\n" (index JSON, then the bytes of `s.safetensors`).
func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let all = UnsafeBufferPointer(start: data, count: size)
    let body = all[1...]
    if all[0] & 1 == 0 {
        let path = FuzzFile.write(body, name: "in.safetensors")
        if let f = try? SafetensorsFile(path: path) { FuzzFile.readAll(f.tensors) }
        return 0
    }
    let sep: [UInt8] = Array("\n--\n".utf8)
    var cut = body.endIndex
    var i = body.startIndex
    while i + sep.count <= body.endIndex {
        if body[i..<(i + sep.count)].elementsEqual(sep) { cut = i; break }
        i += 1
    }
    let shard = cut == body.endIndex ? body[cut...] : body[(cut + sep.count)...]
    _ = FuzzFile.write(shard, name: "s.safetensors")
    let path = FuzzFile.write(body[..<cut], name: "model.safetensors.index.json")
    if let x = try? SafetensorsIndex(path: path) { FuzzFile.readAll(x.tensors) }
    return 0
}
