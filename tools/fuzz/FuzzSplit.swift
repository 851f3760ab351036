// Shared by the harnesses whose input holds several files.
/// Splits `bytes` at "\n--\n" into at most `max` parts.
func fuzzSplit(_ bytes: ArraySlice<UInt8>, max: Int) -> [ArraySlice<UInt8>] {
    let sep = Array("\n--\n".utf8)
    var parts: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex, i = bytes.startIndex
    while i + sep.count <= bytes.endIndex, parts.count < max - 1 {
        if bytes[i..<(i + sep.count)].elementsEqual(sep) {
            parts.append(bytes[start..<i])
            i += sep.count
            start = i
        } else {
            i += 1
        }
    }
    parts.append(bytes[start...])
    return parts
}

