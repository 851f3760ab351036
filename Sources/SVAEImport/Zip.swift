// Zip: a minimal, bounded ZIP reader for PyTorch checkpoints (`torch.save` ≥ 1.6).
//
// torch writes every record STORED (uncompressed, data padded to 64-byte alignment with
// extra fields) and switches to ZIP64 fields for large archives. This reader parses the
// end-of-central-directory record (ZIP64 locator/record when present), the central
// directory, and each entry's local header; it never decompresses, never allocates more
// than the central directory's own size, and rejects: names with `..` components, absolute
// names or backslashes, duplicate names, entries whose data lies past the end of the file,
// local headers that disagree with the central directory. Compressed entries are listed
// but refused when read (`ZipError.compressedEntry`).

/// A malformed or unsafe ZIP archive. Every case names the archive file.
package enum ZipError: Error, Equatable {
    /// No end-of-central-directory record in the last 64 KiB + 22 bytes.
    case noEndOfCentralDirectory(path: String)
    /// The ZIP64 locator or record is missing or malformed.
    case badZip64(path: String, reason: String)
    /// Multi-disk archives are not supported.
    case multiDisk(path: String)
    /// The central directory lies (partly) outside the file or is shorter than its count.
    case badCentralDirectory(path: String, reason: String)
    /// An entry name with `..`, a leading `/`, a backslash, a drive letter, or empty.
    case unsafeName(path: String, entry: String)
    /// Two entries with the same name.
    case duplicateName(path: String, entry: String)
    /// An entry's local header or data lies past the end of the file.
    case entryPastEOF(path: String, entry: String, end: Int, fileSize: Int)
    /// The local header disagrees with the central directory.
    case localHeaderMismatch(path: String, entry: String, field: String, expected: String, found: String)
    /// The entry is compressed (method ≠ 0) or sizes differ; storages must be STORED.
    case compressedEntry(path: String, entry: String, method: Int)
    /// The entry is encrypted.
    case encryptedEntry(path: String, entry: String)
    /// A requested entry does not exist.
    case missingEntry(path: String, entry: String)
    /// More entries than `ReaderLimits.zipEntries`.
    case tooManyEntries(path: String, count: Int, limit: Int)
}

/// One central-directory entry of a ZIP archive.
package struct ZipEntry: Sendable, Equatable {
    /// Name as stored (UTF-8).
    package let name: String
    /// Compression method (0 = STORED).
    package let method: Int
    /// Compressed size in bytes.
    package let compressedSize: Int
    /// Uncompressed size in bytes.
    package let size: Int
    /// File offset of the entry's data (after its local header).
    package let dataOffset: Int
}

/// A ZIP archive mapped read-only.
package struct ZipArchive: Sendable {
    /// The mapped file.
    package let file: MappedFile
    /// Entries in central-directory order.
    package let entries: [ZipEntry]
    private let index: [String: Int]

    /// Cap on the central directory (entries × 46 bytes minimum each): 1 GiB.
    static let maxCentralDirectory = 1 << 30

    /// Opens `path`, validating the directory and every local header.
    package init(path: String, limits: ReaderLimits = .default) throws {
        try self.init(file: MappedFile(path: path), limits: limits)
    }

    /// Parses an already mapped file.
    package init(file: MappedFile, limits: ReaderLimits = .default) throws(ZipError) {
        self.file = file
        let path = file.path
        let size = file.count
        // 1. Find the end-of-central-directory record (22 bytes + comment ≤ 65535).
        var eocd = -1
        var p = size - 22
        let lowest = Swift.max(0, size - 22 - 65535)
        while p >= lowest {
            if file.le(UInt32.self, at: p) == 0x0605_4b50 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0,
              let disk = file.le(UInt16.self, at: eocd + 4),
              let cdDisk = file.le(UInt16.self, at: eocd + 6),
              let count16 = file.le(UInt16.self, at: eocd + 10),
              let cdSize32 = file.le(UInt32.self, at: eocd + 12),
              let cdOffset32 = file.le(UInt32.self, at: eocd + 16)
        else { throw .noEndOfCentralDirectory(path: path) }
        var count = Int(count16)
        var cdSize = Int(cdSize32)
        var cdOffset = Int(cdOffset32)
        if count16 == 0xFFFF || cdSize32 == 0xFFFF_FFFF || cdOffset32 == 0xFFFF_FFFF {
            // ZIP64: locator 20 bytes before the EOCD, pointing at the ZIP64 EOCD record.
            guard eocd >= 20, file.le(UInt32.self, at: eocd - 20) == 0x0706_4b50,
                  let recOff64 = file.le(UInt64.self, at: eocd - 20 + 8),
                  recOff64 <= UInt64(size), file.le(UInt32.self, at: Int(recOff64)) == 0x0606_4b50,
                  let n64 = file.le(UInt64.self, at: Int(recOff64) + 32),
                  let s64 = file.le(UInt64.self, at: Int(recOff64) + 40),
                  let o64 = file.le(UInt64.self, at: Int(recOff64) + 48)
            else { throw .badZip64(path: path, reason: "missing or truncated ZIP64 end record") }
            guard n64 <= UInt64(size), s64 <= UInt64(size), o64 <= UInt64(size) else {
                throw .badZip64(path: path, reason: "ZIP64 counts beyond the file size")
            }
            count = Int(n64); cdSize = Int(s64); cdOffset = Int(o64)
        } else if disk != 0 || cdDisk != 0 {
            throw .multiDisk(path: path)
        }
        guard cdSize <= Self.maxCentralDirectory, file.contains(offset: cdOffset, length: cdSize) else {
            throw .badCentralDirectory(path: path, reason: "directory at \(cdOffset)+\(cdSize) outside a \(size)-byte file")
        }
        // Bounded: each entry takes at least 46 bytes, so `count` cannot exceed cdSize/46.
        guard count <= cdSize / 46 else {
            throw .badCentralDirectory(path: path, reason: "\(count) entries cannot fit in \(cdSize) bytes")
        }
        guard count <= limits.zipEntries else {
            throw .tooManyEntries(path: path, count: count, limit: limits.zipEntries)
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(count)
        var index: [String: Int] = [:]
        var q = cdOffset
        let cdEnd = cdOffset + cdSize
        for _ in 0..<count {
            guard q + 46 <= cdEnd, file.le(UInt32.self, at: q) == 0x0201_4b50,
                  let flags = file.le(UInt16.self, at: q + 8),
                  let method = file.le(UInt16.self, at: q + 10),
                  let csize32 = file.le(UInt32.self, at: q + 20),
                  let usize32 = file.le(UInt32.self, at: q + 24),
                  let nameLen = file.le(UInt16.self, at: q + 28),
                  let extraLen = file.le(UInt16.self, at: q + 30),
                  let commentLen = file.le(UInt16.self, at: q + 32),
                  let local32 = file.le(UInt32.self, at: q + 42)
            else { throw .badCentralDirectory(path: path, reason: "bad entry header at \(q)") }
            let varEnd = q + 46 + Int(nameLen) + Int(extraLen) + Int(commentLen)
            guard varEnd <= cdEnd, let nameBytes = file.copy(offset: q + 46, length: Int(nameLen)) else {
                throw .badCentralDirectory(path: path, reason: "entry at \(q) overruns the directory")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw .unsafeName(path: path, entry: String(decoding: nameBytes, as: UTF8.self))
            }
            var csize = UInt64(csize32), usize = UInt64(usize32), local = UInt64(local32)
            // ZIP64 extended information (id 0x0001): only the fields whose 32-bit value is
            // 0xFFFFFFFF are present, in the order usize, csize, local offset.
            var e = q + 46 + Int(nameLen)
            let extraEnd = e + Int(extraLen)
            while e + 4 <= extraEnd {
                guard let id = file.le(UInt16.self, at: e), let len16 = file.le(UInt16.self, at: e + 2),
                      e + 4 + Int(len16) <= extraEnd
                else {
                    throw .badCentralDirectory(path: path, reason: "extra field overruns entry \(name)")
                }
                let len = Int(len16)
                if id == 0x0001 {
                    var f = e + 4
                    func next() throws(ZipError) -> UInt64 {
                        guard f + 8 <= e + 4 + len, let v = file.le(UInt64.self, at: f) else {
                            throw .badZip64(path: path, reason: "short ZIP64 extra field in \(name)")
                        }
                        f += 8
                        return v
                    }
                    if usize32 == 0xFFFF_FFFF { usize = try next() }
                    if csize32 == 0xFFFF_FFFF { csize = try next() }
                    if local32 == 0xFFFF_FFFF { local = try next() }
                }
                e += 4 + len
            }
            q = varEnd
            try Self.checkName(name, path: path)
            guard index[name] == nil else { throw .duplicateName(path: path, entry: name) }
            if flags & 1 != 0 { throw .encryptedEntry(path: path, entry: name) }
            guard csize <= UInt64(size), usize <= UInt64(size) || method != 0, local <= UInt64(size) else {
                throw .entryPastEOF(path: path, entry: name, end: Int(clamping: local &+ csize), fileSize: size)
            }
            // Local header: signature, same name, then data.
            let lh = Int(local)
            guard let lnameLen = file.le(UInt16.self, at: lh + 26), let lextraLen = file.le(UInt16.self, at: lh + 28)
            else { throw .entryPastEOF(path: path, entry: name, end: lh + 30, fileSize: size) }
            guard file.le(UInt32.self, at: lh) == 0x0403_4b50 else {
                throw .localHeaderMismatch(path: path, entry: name, field: "signature", expected: "PK\\3\\4", found: "other")
            }
            if let lmethod = file.le(UInt16.self, at: lh + 8), lmethod != method {
                throw .localHeaderMismatch(path: path, entry: name, field: "method", expected: "\(method)", found: "\(lmethod)")
            }
            guard let lname = file.copy(offset: lh + 30, length: Int(lnameLen)) else {
                throw .entryPastEOF(path: path, entry: name, end: lh + 30 + Int(lnameLen), fileSize: size)
            }
            guard lname == nameBytes else {
                throw .localHeaderMismatch(path: path, entry: name, field: "name", expected: name,
                                           found: String(decoding: lname, as: UTF8.self))
            }
            let dataOffset = lh + 30 + Int(lnameLen) + Int(lextraLen)
            guard file.contains(offset: dataOffset, length: Int(csize)) else {
                throw .entryPastEOF(path: path, entry: name, end: dataOffset + Int(csize), fileSize: size)
            }
            index[name] = entries.count
            entries.append(ZipEntry(name: name, method: Int(method), compressedSize: Int(csize),
                                    size: Int(clamping: usize), dataOffset: dataOffset))
        }
        self.entries = entries
        self.index = index
    }

    static func checkName(_ name: String, path: String) throws(ZipError) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        if name.isEmpty || name.hasPrefix("/") || name.contains("\\") || name.contains("\0")
            || parts.contains(where: { $0 == ".." || $0 == "." })
            || (name.count >= 2 && name.dropFirst().first == ":")
        {
            throw .unsafeName(path: path, entry: name)
        }
    }

    /// The entry named `name`, if any.
    package func entry(_ name: String) -> ZipEntry? { index[name].map { entries[$0] } }

    /// A STORED entry's data range in the file; compressed entries are refused.
    package func storedRange(_ name: String) throws(ZipError) -> (offset: Int, count: Int) {
        guard let e = entry(name) else { throw .missingEntry(path: file.path, entry: name) }
        guard e.method == 0, e.compressedSize == e.size else {
            throw .compressedEntry(path: file.path, entry: name, method: e.method)
        }
        return (e.dataOffset, e.size)
    }

    /// A STORED entry's bytes, copied (for small records: `data.pkl`, `byteorder`).
    package func read(_ name: String) throws(ZipError) -> [UInt8] {
        let r = try storedRange(name)
        return file.copy(offset: r.offset, length: r.count) ?? []
    }
}
