// Bounds-checked little-endian cursors. Every read checks the remaining length first, so a
// hostile length can never make the reader touch memory outside the buffer or allocate more
// than the buffer holds.

/// Reads little-endian values from a byte buffer, throwing `FormatProblem.truncated` at the end.
struct ByteCursor {
    let base: UnsafeRawBufferPointer
    private(set) var position: Int = 0
    /// What is being read, for error messages ("metadata section", "tensor directory").
    let what: String

    init(_ base: UnsafeRawBufferPointer, what: String) {
        self.base = base
        self.what = what
    }

    var remaining: Int { base.count - position }
    var atEnd: Bool { position == base.count }

    mutating func need(_ n: Int, _ field: String) throws(FormatProblem) {
        if n < 0 || n > remaining {
            throw .truncated(what: "\(what), \(field)", needed: UInt64(max(n, 0)), available: UInt64(remaining))
        }
    }

    mutating func u8(_ field: String) throws(FormatProblem) -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    mutating func u16(_ field: String) throws(FormatProblem) -> UInt16 {
        try need(2, field)
        defer { position += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32(_ field: String) throws(FormatProblem) -> UInt32 {
        try need(4, field)
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ field: String) throws(FormatProblem) -> UInt64 {
        try need(8, field)
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A slice of `n` bytes (no copy).
    mutating func bytes(_ n: Int, _ field: String) throws(FormatProblem) -> UnsafeRawBufferPointer {
        try need(n, field)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: base[position..<(position + n)])
    }

    /// A length field checked against the remaining bytes: `n × minElementBytes ≤ remaining`.
    mutating func count(_ field: String, minElementBytes: Int, limit: UInt64 = .max) throws(FormatProblem) -> Int {
        let n = try u64(field)
        let fit = UInt64(remaining / max(minElementBytes, 1))
        let cap = min(fit, limit)
        if n > cap { throw .lengthOutOfRange(what: "\(what), \(field)", found: n, limit: cap) }
        return Int(n)
    }

    /// A UTF-8 string of `n` bytes, validated.
    mutating func string(_ n: Int, _ field: String) throws(FormatProblem) -> String {
        let b = try bytes(n, field)
        guard let s = decodeUTF8(b) else { throw .invalidUTF8(what: "\(what), \(field)") }
        return s
    }
}

/// Strict UTF-8 decoding: nil if the bytes are not valid UTF-8.
func decodeUTF8(_ b: UnsafeRawBufferPointer) -> String? {
    var it = b.makeIterator()
    var decoder = UTF8()
    var out = String.UnicodeScalarView()
    while true {
        switch decoder.decode(&it) {
        case let .scalarValue(u): out.append(u)
        case .emptyInput: return String(out)
        case .error: return nil
        }
    }
}

/// Builds little-endian byte strings.
struct ByteSink {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

@inline(__always) func align64(_ x: UInt64) -> UInt64? {
    let (s, o) = x.addingReportingOverflow(63)
    return o ? nil : s & ~63
}

/// `withUnsafeBytes` that keeps the typed error (the standard one rethrows `any Error`).
func withBytes<R>(_ a: [UInt8], _ f: (UnsafeRawBufferPointer) throws(FormatProblem) -> R) throws(FormatProblem) -> R {
    var out: Result<R, FormatProblem>? = nil
    a.withUnsafeBytes { b in
        do throws(FormatProblem) { out = .success(try f(b)) } catch { out = .failure(error) }
    }
    return try out!.get()
}
