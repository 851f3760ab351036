#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A tensor the writer will receive: its name, element type and shape (outermost first).
public struct TensorPlan: Sendable, Equatable {
    public var name: String
    public var type: ElementType
    public var shape: [Int]
    public init(name: String, type: ElementType, shape: [Int]) {
        self.name = name
        self.type = type
        self.shape = shape
    }
}

/// Streams a `.svae` file to disk (formats/svae.md).
///
/// The plan (names, types, shapes) is given up front; tensor bytes then arrive in plan order,
/// in chunks of any size, and are hashed as they pass, so memory stays bounded by one chunk.
/// Everything goes to a temporary file next to the destination, which `finish()` fsyncs and
/// renames into place: a failed or abandoned write (an error, `abort()`, or dropping the writer)
/// leaves nothing at the destination. Identical input gives byte-identical output.
public final class SVAEWriter {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private let plans: [TensorPlan]
    private let sizes: [Int]
    private var current = 0
    private var writtenInCurrent = 0
    private var hasher = XXH64()
    private var checksums: [UInt64] = []
    private var directoryOffset = 0
    private var dataOffset = 0
    private var sectionTable: [SectionInfo] = []
    private var buffer: [UInt8] = []
    private var fileOffset = 0
    private var finished = false
    private static let bufferSize = 1 << 20

    /// Creates the temporary file and writes everything before the tensor data.
    /// - Parameter compress: zstd-compress metadata and tokenizer when that saves ≥ 10 %.
    public init(path: String, metadata: Metadata, tokenizer: TokenizerData? = nil, tensors: [TensorPlan],
                compress: Bool = true) throws(SVAEFormatError) {
        self.path = path
        plans = tensors
        var sizes: [Int] = []
        var names = Set<String>()
        do throws(FormatProblem) {
            for t in tensors {
                guard isValidTensorName(t.name) else { throw .invalidName(what: "tensor", found: t.name) }
                guard names.insert(t.name).inserted else { throw .duplicateTensor(name: t.name) }
                guard (1...Layout.maxRank).contains(t.shape.count) else { throw .badRank(tensor: t.name, found: UInt32(t.shape.count)) }
                var n = 1
                for (i, d) in t.shape.enumerated() {
                    guard d >= 1, UInt64(d) < Layout.maxDimension else { throw .badDimension(tensor: t.name, index: i, found: UInt64(max(d, 0))) }
                    let (p, o) = n.multipliedReportingOverflow(by: d)
                    guard !o, UInt64(p) < Layout.maxDimension else { throw .elementCountOverflow(tensor: t.name) }
                    n = p
                }
                guard let b = t.type.byteCount(elements: n, innermost: t.shape.last!) else {
                    throw .notBlockMultiple(tensor: t.name, innermost: UInt64(t.shape.last!), block: t.type.blockElements)
                }
                sizes.append(b)
            }
        } catch {
            throw SVAEFormatError(file: path, error)
        }
        self.sizes = sizes

        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw SVAEFormatError(file: path, .io(operation: "create temporary file in \(dir)", message: errnoString())) }
        self.fd = fd
        tempPath = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        fchmod(fd, 0o644)

        do throws(FormatProblem) {
            try writePrologue(metadata: metadata, tokenizer: tokenizer, compress: compress)
        } catch {
            abort()
            throw SVAEFormatError(file: path, error)
        }
        advanceThroughEmptyTensors()
    }

    deinit { if !finished { abort() } }

    /// The name of the tensor whose bytes `append` expects next, or nil when all were written.
    public var nextTensor: String? { current < plans.count ? plans[current].name : nil }

    private func writePrologue(metadata: Metadata, tokenizer: TokenizerData?, compress: Bool) throws(FormatProblem) {
        let tableSize = Layout.headerSize + Layout.sectionEntrySize * (tokenizer == nil ? 3 : 4)
        var offset = Int(align64(UInt64(tableSize))!)
        var prologue = [UInt8](repeating: 0, count: offset)
        func addSection(_ kind: SectionKind, _ raw: [UInt8], compressible: Bool) {
            var stored = raw, codec: UInt32 = 0
            // Compress when it saves ≥ 10 %, within the ratio a reader accepts (§4.5).
            if compress && compressible, let z = Zstd.compress(raw), z.count * 10 <= raw.count * 9,
               UInt64(raw.count) <= UInt64(z.count) * Zstd.maxRatio {
                stored = z
                codec = 1
            }
            sectionTable.append(SectionInfo(kind: kind.rawValue, codec: codec, offset: UInt64(offset), storedSize: UInt64(stored.count),
                                            rawSize: UInt64(raw.count), checksum: XXH64.hash(stored)))
            prologue += stored
            offset += stored.count
            let padded = Int(align64(UInt64(offset))!)
            prologue += [UInt8](repeating: 0, count: padded - offset)
            offset = padded
        }
        addSection(.metadata, try metadata.encoded(), compressible: true)
        if let t = tokenizer { addSection(.tokenizer, try t.encoded(), compressible: true) }
        directoryOffset = offset
        addSection(.directory, directoryBytes(), compressible: false)
        dataOffset = offset
        var dataSize = 0
        for (i, s) in sizes.enumerated() { dataSize = (i == sizes.count - 1) ? dataSize + s : Int(align64(UInt64(dataSize + s))!) }
        sectionTable.append(SectionInfo(kind: SectionKind.data.rawValue, codec: 0, offset: UInt64(offset), storedSize: UInt64(dataSize),
                                        rawSize: UInt64(dataSize), checksum: 0))
        buffer.reserveCapacity(Self.bufferSize)
        try emit(prologue)
    }

    /// The directory of §7, with the checksums known so far (zero for tensors not yet written).
    private func directoryBytes() -> [UInt8] {
        var s = ByteSink()
        s.u64(UInt64(plans.count))
        var offset = 0
        for (i, t) in plans.enumerated() {
            let name = Array(t.name.utf8)
            s.u16(UInt16(name.count))
            s.raw(name)
            s.u32(t.type.rawValue)
            s.u32(UInt32(t.shape.count))
            for d in t.shape { s.u64(UInt64(d)) }
            s.u64(UInt64(offset))
            s.u64(UInt64(sizes[i]))
            s.u64(i < checksums.count ? checksums[i] : 0)
            offset = Int(align64(UInt64(offset + sizes[i]))!)
        }
        return s.bytes
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws(FormatProblem) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    private func emit(_ bytes: [UInt8]) throws(FormatProblem) {
        var err: FormatProblem? = nil
        bytes.withUnsafeBytes { b in do throws(FormatProblem) { try emit(b) } catch { err = error } }
        if let e = err { throw e }
    }

    private func flush() throws(FormatProblem) {
        var err: FormatProblem? = nil
        buffer.withUnsafeBytes { b in do throws(FormatProblem) { try writeAll(b) } catch { err = error } }
        buffer.removeAll(keepingCapacity: true)
        if let e = err { throw e }
    }

    private func writeAll(_ b: UnsafeRawBufferPointer) throws(FormatProblem) {
        var done = 0
        while done < b.count {
            let n = write(fd, b.baseAddress! + done, b.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write \(tempPath)", message: errnoString())
            }
            done += n
        }
        fileOffset += b.count
    }

    private func advanceThroughEmptyTensors() {
        // Tensors always hold ≥ 1 element, so this only moves past a completed tensor.
        while current < plans.count && writtenInCurrent == sizes[current] {
            checksums.append(hasher.digest())
            hasher = XXH64()
            writtenInCurrent = 0
            current += 1
            if current < plans.count {
                let pad = Int(align64(UInt64(fileOffset + buffer.count))!) - (fileOffset + buffer.count)
                buffer.append(contentsOf: repeatElement(0, count: pad))
            }
        }
    }

    /// Appends bytes of the current tensor (see `nextTensor`). A chunk never spans two tensors.
    public func append(_ chunk: UnsafeRawBufferPointer) throws(SVAEFormatError) {
        guard current < plans.count else {
            throw SVAEFormatError(file: path, .trailingBytes(what: "writer: every planned tensor is complete", count: UInt64(chunk.count)))
        }
        let left = sizes[current] - writtenInCurrent
        guard chunk.count <= left else {
            throw SVAEFormatError(file: path, .byteLengthMismatch(tensor: plans[current].name, expected: UInt64(sizes[current]),
                                                                  found: UInt64(writtenInCurrent + chunk.count)))
        }
        hasher.update(chunk)
        do throws(FormatProblem) { try emit(chunk) } catch { throw SVAEFormatError(file: path, error) }
        writtenInCurrent += chunk.count
        advanceThroughEmptyTensors()
    }

    public func append(_ chunk: [UInt8]) throws(SVAEFormatError) {
        var err: SVAEFormatError? = nil
        chunk.withUnsafeBytes { b in do throws(SVAEFormatError) { try append(b) } catch { err = error } }
        if let e = err { throw e }
    }

    /// Writes a whole tensor; `name` must be the next one of the plan.
    public func writeTensor(_ name: String, _ bytes: UnsafeRawBufferPointer) throws(SVAEFormatError) {
        guard name == nextTensor, writtenInCurrent == 0 else {
            throw SVAEFormatError(file: path, .badField(field: "writer tensor order", expected: quoted(nextTensor ?? "no more tensors"), found: quoted(name)))
        }
        guard bytes.count == sizes[current] else {
            throw SVAEFormatError(file: path, .byteLengthMismatch(tensor: name, expected: UInt64(sizes[current]), found: UInt64(bytes.count)))
        }
        try append(bytes)
    }

    /// Patches the directory checksums and the header, fsyncs, and renames into place.
    public func finish() throws(SVAEFormatError) {
        do throws(FormatProblem) {
            guard current == plans.count else {
                throw .byteLengthMismatch(tensor: plans[current].name, expected: UInt64(sizes[current]), found: UInt64(writtenInCurrent))
            }
            try flush()
            let dir = directoryBytes()
            try pwriteAll(dir, at: directoryOffset)
            let di = sectionTable.firstIndex { $0.kind == SectionKind.directory.rawValue }!
            sectionTable[di].checksum = XXH64.hash(dir)
            try pwriteAll(header(), at: 0)
            if fsync(fd) != 0 { throw .io(operation: "fsync \(tempPath)", message: errnoString()) }
            close(fd)
            fd = -1
            if rename(tempPath, path) != 0 { throw .io(operation: "rename \(tempPath) to \(path)", message: errnoString()) }
            finished = true
        } catch {
            abort()
            throw SVAEFormatError(file: path, error)
        }
    }

    /// Header and section table, with the header checksum (§3, §4).
    func header() -> [UInt8] {
        var s = ByteSink()
        s.raw(Layout.magic)
        s.u16(Layout.versionMajor)
        s.u16(Layout.versionMinor)
        s.u32(Layout.endianMarker)
        s.u32(UInt32(Layout.headerSize))
        let last = sectionTable.last!
        s.u64(last.offset + last.storedSize)
        s.u32(UInt32(sectionTable.count))
        s.u32(UInt32(Layout.alignment))
        s.u64(0)
        s.u64(0); s.u64(0)
        var t = ByteSink()
        for e in sectionTable {
            t.u32(e.kind); t.u32(e.codec); t.u64(e.offset); t.u64(e.storedSize); t.u64(e.rawSize); t.u64(e.checksum); t.u64(0)
        }
        var h = XXH64()
        h.update(s.bytes)
        h.update(t.bytes)
        s.u64(h.digest())
        return s.bytes + t.bytes
    }

    private func pwriteAll(_ bytes: [UInt8], at offset: Int) throws(FormatProblem) {
        let ok = bytes.withUnsafeBytes { b -> Bool in
            var done = 0
            while done < b.count {
                let n = pwrite(fd, b.baseAddress! + done, b.count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        if !ok { throw .io(operation: "pwrite \(tempPath)", message: errnoString()) }
    }

    /// Abandons the write: closes and deletes the temporary file. Safe to call more than once.
    public func abort() {
        if fd >= 0 { close(fd); fd = -1 }
        if !finished { unlink(tempPath) }
        finished = true
    }
}
