@testable import SVAEFormat

/// Lays out a file from raw section bodies exactly as the spec says, with valid checksums, so a
/// test can put any (bad) content inside otherwise well-formed framing.
func assemble(metadata: [UInt8], tokenizer: [UInt8]? = nil, directory: [UInt8], data: [UInt8]) -> [UInt8] {
    var bodies: [(UInt32, [UInt8])] = [(1, metadata)]
    if let t = tokenizer { bodies.append((2, t)) }
    bodies += [(3, directory), (4, data)]
    let tableEnd = 64 + 48 * bodies.count
    var offset = (tableEnd + 63) & ~63
    var out = [UInt8](repeating: 0, count: offset)
    var table = ByteSink()
    for (kind, body) in bodies {
        table.u32(kind); table.u32(0); table.u64(UInt64(offset)); table.u64(UInt64(body.count)); table.u64(UInt64(body.count))
        table.u64(kind == 4 ? 0 : XXH64.hash(body)); table.u64(0)
        out += body
        offset += body.count
        if kind != 4 {
            let padded = (offset + 63) & ~63
            out += [UInt8](repeating: 0, count: padded - offset)
            offset = padded
        }
    }
    var h = ByteSink()
    h.raw([0x53, 0x56, 0x41, 0x45]); h.u16(1); h.u16(0); h.u32(0x0A0B_0C0D); h.u32(64); h.u64(UInt64(out.count))
    h.u32(UInt32(bodies.count)); h.u32(64); h.u64(0); h.u64(0); h.u64(0)
    var hasher = XXH64()
    hasher.update(h.bytes)
    hasher.update(table.bytes)
    h.u64(hasher.digest())
    out.replaceSubrange(0..<64, with: h.bytes)
    out.replaceSubrange(64..<tableEnd, with: table.bytes)
    return out
}

/// A metadata body with the given already-encoded entries.
func metadataBody(count: UInt64? = nil, _ entries: [[UInt8]]) -> [UInt8] {
    var s = ByteSink()
    s.u64(count ?? UInt64(entries.count))
    for e in entries { s.raw(e) }
    return s.bytes
}

func metaEntry(_ key: String, type: UInt32, _ value: [UInt8]) -> [UInt8] {
    var s = ByteSink()
    s.u16(UInt16(key.utf8.count)); s.raw(Array(key.utf8)); s.u32(type); s.raw(value)
    return s.bytes
}

func le32(_ v: UInt32) -> [UInt8] { var s = ByteSink(); s.u32(v); return s.bytes }
func le64(_ v: UInt64) -> [UInt8] { var s = ByteSink(); s.u64(v); return s.bytes }

/// One directory entry.
func dirEntry(_ name: String, type: UInt32 = 0, dims: [UInt64], offset: UInt64, size: UInt64, checksum: UInt64 = 0,
              rank: UInt32? = nil, nameLength: UInt16? = nil) -> [UInt8] {
    var s = ByteSink()
    s.u16(nameLength ?? UInt16(name.utf8.count)); s.raw(Array(name.utf8)); s.u32(type); s.u32(rank ?? UInt32(dims.count))
    for d in dims { s.u64(d) }
    s.u64(offset); s.u64(size); s.u64(checksum)
    return s.bytes
}

func directoryBody(count: UInt64? = nil, _ entries: [[UInt8]]) -> [UInt8] {
    var s = ByteSink()
    s.u64(count ?? UInt64(entries.count))
    for e in entries { s.raw(e) }
    return s.bytes
}

let okMeta = metadataBody([metaEntry("x.k", type: 4, le32(7))])
