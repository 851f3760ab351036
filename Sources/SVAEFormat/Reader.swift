#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owner of the bytes a file is read from: an mmap'd file or an owned copy (tests, fuzzing).
final class Backing: @unchecked Sendable {
    // Safe to share: the bytes are never written after init, and freed only in deinit.
    let bytes: UnsafeRawBufferPointer
    private let release: @Sendable (UnsafeRawBufferPointer) -> Void
    init(bytes: UnsafeRawBufferPointer, release: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.bytes = bytes
        self.release = release
    }
    deinit { release(bytes) }
}

/// An open, validated `.svae` file. Tensor bytes are views into the read-only mapping: nothing
/// is copied. Immutable, so one instance can be shared by any number of threads.
///
/// A file truncated by another process while mapped makes later accesses fault (SIGBUS), as
/// with every mmap-based loader; `open` validates sizes at open time only.
public final class SVAEFile: Sendable {
    public let path: String
    public let fileSize: Int
    public let versionMinor: UInt16
    public let sections: [SectionInfo]
    public let metadata: Metadata
    public let tokenizer: TokenizerData?
    /// Tensors in directory (= file) order.
    public let tensors: [TensorInfo]
    private let index: [String: Int]
    private let backing: Backing

    /// Maps `path` read-only and validates every structural field (formats/svae.md). Tensor
    /// checksums are not recomputed here (that reads every byte): call `verify()`.
    public static func open(_ path: String) throws(SVAEFormatError) -> SVAEFile {
        let fd = openReadOnly(path)
        if fd < 0 { throw SVAEFormatError(file: path, .io(operation: "open", message: errnoString())) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw SVAEFormatError(file: path, .io(operation: "stat", message: errnoString())) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SVAEFormatError(file: path, .io(operation: "open", message: "not a regular file"))
        }
        let size = Int(st.st_size)
        if size < Layout.headerSize {
            throw SVAEFormatError(file: path, .truncated(what: "header", needed: UInt64(Layout.headerSize), available: UInt64(size)))
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SVAEFormatError(file: path, .io(operation: "mmap", message: errnoString()))
        }
        let backing = Backing(bytes: UnsafeRawBufferPointer(start: p, count: size)) { b in
            munmap(UnsafeMutableRawPointer(mutating: b.baseAddress), b.count)
        }
        return try SVAEFile(backing: backing, path: path)
    }

    /// Parses a file held in memory (a copy is made). For tests and fuzzing.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws(SVAEFormatError) {
        let n = bytes.count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: Layout.alignment)
        bytes.withUnsafeBytes { if n > 0 { raw.copyMemory(from: $0.baseAddress!, byteCount: n) } }
        let backing = Backing(bytes: UnsafeRawBufferPointer(start: raw, count: n)) { b in
            UnsafeMutableRawPointer(mutating: b.baseAddress)?.deallocate()
        }
        try self.init(backing: backing, path: name)
    }

    private init(backing: Backing, path: String) throws(SVAEFormatError) {
        self.backing = backing
        self.path = path
        do {
            let p = try Parser.parse(backing.bytes)
            fileSize = backing.bytes.count
            versionMinor = p.versionMinor
            sections = p.sections
            metadata = p.metadata
            tokenizer = p.tokenizer
            tensors = p.tensors
            var idx = [String: Int](minimumCapacity: p.tensors.count)
            for (i, t) in p.tensors.enumerated() { idx[t.name] = i }
            index = idx
        } catch {
            throw SVAEFormatError(file: path, error)
        }
    }

    public var architecture: String? { metadata.string(.architecture) }

    public func tensor(_ name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    /// The bytes of a tensor, in place in the mapping (valid while this file is alive).
    public func bytes(of t: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: backing.bytes[t.offset..<(t.offset + t.byteCount)])
    }

    /// The whole file (valid while this object is alive).
    public var rawBytes: UnsafeRawBufferPointer { backing.bytes }

    /// Recomputes every tensor checksum and checks the padding of the data section;
    /// throws on the first bad tensor, naming it.
    public func verify(progress: ((Int, Int) -> Void)? = nil) throws(SVAEFormatError) {
        var previousEnd = tensors.first?.offset ?? 0
        for (i, t) in tensors.enumerated() {
            if let at = firstNonZero(previousEnd..<t.offset) {
                throw SVAEFormatError(file: path, .nonZeroPadding(where: "tensor data before \(quoted(t.name))", offset: UInt64(at)))
            }
            let h = XXH64.hash(bytes(of: t))
            if h != t.checksum {
                throw SVAEFormatError(file: path, .tensorChecksum(tensor: t.name, expected: t.checksum, found: h))
            }
            previousEnd = t.offset + t.byteCount
            progress?(i + 1, tensors.count)
        }
    }

    private func firstNonZero(_ r: Range<Int>) -> Int? {
        for i in r where backing.bytes[i] != 0 { return i }
        return nil
    }

    /// Validates the model-level rules of formats/svae.md §5.1 and §8 for this file's architecture.
    public func validateModel() throws(SVAEFormatError) {
        do { try ModelSchema.validate(metadata: metadata, tensors: tensors, tokenizer: tokenizer) } catch {
            throw SVAEFormatError(file: path, error)
        }
    }
}

func errnoString() -> String { String(cString: strerror(errno)) }

/// The structural parser: pure function of the bytes, no I/O.
enum Parser {
    /// The fuzzer build (`-D SVAE_FUZZING`, tools/fuzz/run.sh) ignores checksum mismatches so that
    /// mutated inputs reach the parsers behind them; every other build enforces them.
    #if SVAE_FUZZING
    static let enforceChecksums = false
    #else
    static let enforceChecksums = true
    #endif

    struct Result {
        var versionMinor: UInt16
        var sections: [SectionInfo]
        var metadata: Metadata
        var tokenizer: TokenizerData?
        var tensors: [TensorInfo]
    }

    static func parse(_ file: UnsafeRawBufferPointer) throws(FormatProblem) -> Result {
        let size = UInt64(file.count)
        var h = ByteCursor(file, what: "header")
        try h.need(Layout.headerSize, "fixed header")
        let magic = Array(try h.bytes(4, "magic"))
        guard magic == Layout.magic else { throw .badMagic(found: magic) }
        let major = try h.u16("version_major")
        let minor = try h.u16("version_minor")
        let marker = try h.u32("endian_marker")
        if marker == Layout.endianMarker.byteSwapped { throw .byteSwapped }
        guard marker == Layout.endianMarker else {
            throw .badField(field: "endian_marker", expected: "0x0a0b0c0d", found: "0x" + String(marker, radix: 16))
        }
        guard major == Layout.versionMajor else {
            throw .unsupportedVersion(major: major, minor: minor, supportedMajor: Layout.versionMajor)
        }
        let headerSize = try h.u32("header_size")
        guard headerSize == UInt32(Layout.headerSize) else { throw .badField(field: "header_size", expected: "64", found: "\(headerSize)") }
        let declaredSize = try h.u64("file_size")
        guard declaredSize == size else { throw .fileSize(declared: declaredSize, actual: UInt64(size)) }
        let sectionCount = try h.u32("section_count")
        guard sectionCount >= UInt32(Layout.minSections), sectionCount <= UInt32(Layout.maxSections) else {
            throw .badField(field: "section_count", expected: "\(Layout.minSections)–\(Layout.maxSections)", found: "\(sectionCount)")
        }
        let alignment = try h.u32("alignment")
        guard alignment == UInt32(Layout.alignment) else { throw .badField(field: "alignment", expected: "64", found: "\(alignment)") }
        let flags = try h.u64("flags")
        guard flags == 0 else { throw .badField(field: "flags", expected: "0", found: "0x" + String(flags, radix: 16)) }
        let r1 = try h.u64("reserved"), r2 = try h.u64("reserved")
        guard r1 == 0, r2 == 0 else { throw .badField(field: "header reserved bytes", expected: "zero", found: "non-zero") }
        let headerChecksum = try h.u64("header_checksum")

        let tableBytes = Int(sectionCount) * Layout.sectionEntrySize
        var t = ByteCursor(file, what: "section table")
        _ = try t.bytes(Layout.headerSize, "header")
        let table = try t.bytes(tableBytes, "\(sectionCount) entries")
        var hasher = XXH64()
        hasher.update(UnsafeRawBufferPointer(rebasing: file[0..<56]))
        hasher.update(table)
        let computed = hasher.digest()
        guard computed == headerChecksum || !enforceChecksums else { throw .checksumMismatch(what: "header and section table", expected: headerChecksum, found: computed) }

        var tc = ByteCursor(table, what: "section table")
        var sections: [SectionInfo] = []
        var expected = align64(UInt64(Layout.headerSize + tableBytes))!
        var previousEnd = UInt64(Layout.headerSize + tableBytes)
        var seen = Set<UInt32>()
        var bodies: [SectionKind: UnsafeRawBufferPointer] = [:]
        var infos: [SectionKind: SectionInfo] = [:]
        for i in 0..<Int(sectionCount) {
            let s = SectionInfo(kind: try tc.u32("kind"), codec: try tc.u32("codec"), offset: try tc.u64("offset"),
                                storedSize: try tc.u64("stored_size"), rawSize: try tc.u64("raw_size"),
                                checksum: try tc.u64("checksum"))
            let reserved = try tc.u64("reserved")
            let known = SectionKind(rawValue: s.kind)
            let name = known?.name ?? "section \(i) (kind \(s.kind))"
            guard reserved == 0 else { throw .badField(field: "\(name) section reserved field", expected: "0", found: "\(reserved)") }
            if known == nil && s.kind & SectionKind.optionalBit == 0 { throw .unknownSection(kind: s.kind) }
            if !seen.insert(s.kind).inserted { throw .duplicateSection(kind: s.kind) }
            guard s.offset == expected else { throw .misplacedSection(section: name, expectedOffset: expected, foundOffset: s.offset) }
            let (end, o) = s.offset.addingReportingOverflow(s.storedSize)
            guard !o, end <= size else {
                throw .truncated(what: "\(name) section", needed: s.storedSize, available: size - min(s.offset, size))
            }
            // Padding between the previous section (or the table) and this one.
            for p in Int(previousEnd)..<Int(s.offset) where file[p] != 0 {
                throw .nonZeroPadding(where: "before the \(name) section", offset: UInt64(p))
            }
            guard s.codec <= 1 else { throw .badField(field: "\(name) section codec", expected: "0 (stored) or 1 (zstd)", found: "\(s.codec)") }
            if s.codec == 0 && s.rawSize != s.storedSize {
                throw .badField(field: "\(name) section raw_size", expected: "\(s.storedSize) (= stored_size for codec 0)", found: "\(s.rawSize)")
            }
            if s.codec == 1 {
                let limit = min(Zstd.maxRawSize, s.storedSize.multipliedReportingOverflow(by: Zstd.maxRatio).partialValue)
                if s.rawSize > limit { throw .lengthOutOfRange(what: "\(name) section raw_size", found: s.rawSize, limit: limit) }
            }
            if let k = known {
                if (k == .directory || k == .data) && s.codec != 0 {
                    throw .badField(field: "\(name) section codec", expected: "0 (stored)", found: "\(s.codec)")
                }
                if k == .data && s.checksum != 0 {
                    throw .badField(field: "tensor data section checksum", expected: "0", found: hex16(s.checksum))
                }
                if k == .data && i != Int(sectionCount) - 1 {
                    throw .badField(field: "tensor data section", expected: "the last section", found: "section \(i) of \(sectionCount)")
                }
                bodies[k] = UnsafeRawBufferPointer(rebasing: file[Int(s.offset)..<Int(end)])
                infos[k] = s
            }
            sections.append(s)
            previousEnd = end
            guard let next = align64(end) else { throw .lengthOutOfRange(what: "\(name) section end", found: end, limit: size) }
            expected = next
        }
        guard previousEnd == size else { throw .trailingBytes(what: "file after the last section", count: size - previousEnd) }
        for k in [SectionKind.metadata, .directory, .data] where infos[k] == nil { throw .missingSection(name: k.name) }

        /// The stored bytes of a section, checksum verified.
        func checked(_ k: SectionKind) throws(FormatProblem) -> (bytes: UnsafeRawBufferPointer, info: SectionInfo)? {
            guard let b = bodies[k], let s = infos[k] else { return nil }
            let c = XXH64.hash(b)
            guard c == s.checksum || !enforceChecksums else { throw .checksumMismatch(what: "\(k.name) section", expected: s.checksum, found: c) }
            return (b, s)
        }
        /// Decodes a section in place, or from its decompressed copy (codec 1).
        func decode<T>(_ k: SectionKind, _ parse: (UnsafeRawBufferPointer) throws(FormatProblem) -> T) throws(FormatProblem) -> T? {
            guard let (b, s) = try checked(k) else { return nil }
            guard s.codec == 1 else { return try parse(b) }
            return try withBytes(try Zstd.decompress(b, rawSize: Int(s.rawSize), section: k.name), parse)
        }
        let metadata = try decode(.metadata) { (b) throws(FormatProblem) in try Metadata.decode(b) }!
        let tokenizer = try decode(.tokenizer) { (b) throws(FormatProblem) in try TokenizerData.decode(b) }
        let dirBody = try checked(.directory)!.bytes
        let data = infos[.data]!
        let tensors = try parseDirectory(dirBody, dataOffset: data.offset, dataSize: data.storedSize)
        return Result(versionMinor: minor, sections: sections, metadata: metadata, tokenizer: tokenizer, tensors: tensors)
    }

    static func parseDirectory(_ body: UnsafeRawBufferPointer, dataOffset: UInt64, dataSize: UInt64) throws(FormatProblem) -> [TensorInfo] {
        var c = ByteCursor(body, what: "tensor directory")
        // The smallest entry a reader can meet (empty name, rank 0) bounds the count; the entry
        // loop then reports what is wrong with it.
        let count = try c.count("tensor count", minElementBytes: 2 + 4 + 4 + 8 + 8 + 8)
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(count)
        var names = Set<String>()
        var expectedOffset: UInt64 = 0
        for i in 0..<count {
            let nameLength = Int(try c.u16("name length of tensor \(i)"))
            let nameBytes = try c.bytes(nameLength, "name of tensor \(i)")
            let name = decodeUTF8(nameBytes) ?? ""
            guard isValidTensorName(name) else {
                throw .invalidName(what: "tensor \(i)", found: name.isEmpty ? "<\(nameLength) bytes>" : name)
            }
            guard names.insert(name).inserted else { throw .duplicateTensor(name: name) }
            let rawType = try c.u32("element type of \(name)")
            guard let type = ElementType(rawValue: rawType) else { throw .unknownElementType(tensor: name, found: rawType) }
            let rank = try c.u32("rank of \(name)")
            guard rank >= 1, rank <= UInt32(Layout.maxRank) else { throw .badRank(tensor: name, found: rank) }
            var shape: [Int] = []
            var elements: UInt64 = 1
            for d in 0..<Int(rank) {
                let dim = try c.u64("dimension \(d) of \(name)")
                guard dim >= 1, dim < Layout.maxDimension else { throw .badDimension(tensor: name, index: d, found: dim) }
                let (e, o) = elements.multipliedReportingOverflow(by: dim)
                guard !o, e < Layout.maxDimension else { throw .elementCountOverflow(tensor: name) }
                elements = e
                shape.append(Int(dim))
            }
            let offset = try c.u64("offset of \(name)")
            let size = try c.u64("size of \(name)")
            let checksum = try c.u64("checksum of \(name)")
            let innermost = shape[shape.count - 1]
            guard innermost % type.blockElements == 0 else {
                throw .notBlockMultiple(tensor: name, innermost: UInt64(innermost), block: type.blockElements)
            }
            guard let expectedSize = type.byteCount(elements: Int(elements), innermost: innermost) else {
                throw .elementCountOverflow(tensor: name)
            }
            guard size == UInt64(expectedSize) else {
                throw .byteLengthMismatch(tensor: name, expected: UInt64(expectedSize), found: size)
            }
            guard offset == expectedOffset else {
                throw .misplacedTensor(tensor: name, expectedOffset: expectedOffset, foundOffset: offset)
            }
            let (end, o) = offset.addingReportingOverflow(size)
            guard !o, end <= dataSize else {
                throw .truncated(what: "tensor data of \(quoted(name))", needed: size, available: dataSize - min(offset, dataSize))
            }
            tensors.append(TensorInfo(name: name, type: type, shape: shape, offset: Int(dataOffset + offset),
                                      byteCount: Int(size), checksum: checksum))
            expectedOffset = i == count - 1 ? end : (align64(end) ?? UInt64.max)
        }
        if !c.atEnd { throw .trailingBytes(what: "tensor directory", count: UInt64(c.remaining)) }
        guard expectedOffset == dataSize else {
            if expectedOffset < dataSize { throw .trailingBytes(what: "tensor data section", count: dataSize - expectedOffset) }
            throw .truncated(what: "tensor data section", needed: expectedOffset, available: dataSize)
        }
        return tensors
    }
}

/// open(2), read-only and close-on-exec, under a name `SVAEFile.open` does not shadow (the C
/// library's `open`, whichever of Glibc, Musl or Darwin provides it).
private func openReadOnly(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_CLOEXEC)
}
