// SourceTensor: one tensor of a checkpoint (safetensors or PyTorch), read lazily.
//
// A source tensor is a strided view into a mapped file: `byteOffset` is the address of
// element [0, 0, …], `strides` are in elements (PyTorch semantics), `bigEndian` says the
// storage bytes must be swapped. The readers validate the whole view against the file at
// open time, so reading never goes out of bounds. Values are converted to f32 on demand,
// into a caller-owned buffer: peak memory is what the caller allocates (one tensor, or a
// range of rows of it).

/// Element type of a tensor as stored in the source checkpoint.
package enum SourceDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    package var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Whether values can be converted to f32 (floating types only: integer tensors such
    /// as `num_batches_tracked` or `position_ids` are listed but never converted).
    package var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: true
        default: false
        }
    }
}

/// Errors reading values out of a source tensor.
package enum SourceTensorError: Error, Equatable {
    /// The tensor's dtype has no f32 conversion (integer / bool tensors).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// The destination buffer does not hold exactly the requested number of elements.
    case bufferSize(path: String, tensor: String, expected: Int, found: Int)
    /// A row range outside `0 ..< rows`.
    case rowRange(path: String, tensor: String, rows: Int, requested: String)
    /// An element range outside `0 ..< elementCount`.
    case elementRange(path: String, tensor: String, elements: Int, requested: String)
}

/// One tensor of a source checkpoint: name, dtype, shape, and an f32 reader.
///
/// Values are read on demand from the mapped file; nothing is cached.
package struct SourceTensor: Sendable, CustomStringConvertible {
    /// The checkpoint's own key (e.g. `encoder.encoder.layers.0.linear1.weight`).
    package let name: String
    /// Stored element type.
    package let dtype: SourceDType
    /// Shape, outermost first (C order). `[]` is a scalar.
    package let shape: [Int]
    /// Product of `shape` (validated not to overflow).
    package let elementCount: Int
    /// The file the values come from (for errors).
    package var path: String { file.path }

    let file: MappedFile
    /// Byte address (in the file) of element [0, 0, …].
    let byteOffset: Int
    /// Strides in elements, one per dimension.
    let strides: [Int]
    /// Storage is big-endian: swap bytes when reading.
    let bigEndian: Bool

    init(name: String, dtype: SourceDType, shape: [Int], elementCount: Int, file: MappedFile,
         byteOffset: Int, strides: [Int], bigEndian: Bool) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = elementCount
        self.file = file
        self.byteOffset = byteOffset
        self.strides = strides
        self.bigEndian = bigEndian
    }

    /// Number of rows: `shape[0]`, or 1 for a scalar.
    package var rows: Int { shape.first ?? 1 }
    /// Elements per row: product of `shape[1...]` (all elements for a 1-D tensor: 1).
    package var rowSize: Int { shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *) }

    /// Row-major contiguous strides for `shape`, or nil on overflow.
    static func contiguousStrides(_ shape: [Int]) -> [Int]? {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            let (m, o) = acc.multipliedReportingOverflow(by: Swift.max(shape[i], 1))
            if o { return nil }
            acc = m
        }
        return strides
    }

    /// Whether the view is dense row-major (rows can be read as one byte run).
    package var isContiguous: Bool {
        guard let c = Self.contiguousStrides(shape) else { return false }
        for i in 0..<shape.count where shape[i] > 1 && strides[i] != c[i] { return false }
        return true
    }

    package var description: String { "\(name) \(dtype.rawValue)\(shape)" }

    /// Converts the whole tensor to f32 into `buffer` (`buffer.count == elementCount`).
    package func readF32(into buffer: UnsafeMutableBufferPointer<Float>) throws(SourceTensorError) {
        try readRowsF32(0..<rows, into: buffer)
    }

    /// Converts rows `range` (along dimension 0) to f32 into `buffer`
    /// (`buffer.count == range.count * rowSize`). For a 1-D tensor a row is one element.
    package func readRowsF32(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>)
        throws(SourceTensorError)
    {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw .rowRange(path: path, tensor: name, rows: rows, requested: "\(range)")
        }
        // bounded by elementCount, validated at open
        try readElementsF32((range.lowerBound * rowSize)..<(range.upperBound * rowSize), into: buffer)
    }

    /// Converts elements `range` (flat C-order indices) to f32 into `buffer`
    /// (`buffer.count == range.count`).
    package func readElementsF32(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>)
        throws(SourceTensorError)
    {
        guard dtype.isFloatingPoint else {
            throw .unsupportedDType(path: path, tensor: name, dtype: dtype.rawValue)
        }
        guard range.lowerBound >= 0, range.upperBound <= elementCount else {
            throw .elementRange(path: path, tensor: name, elements: elementCount, requested: "\(range)")
        }
        let n = range.count
        guard buffer.count == n else {
            throw .bufferSize(path: path, tensor: name, expected: n, found: buffer.count)
        }
        guard n > 0, let out0 = buffer.baseAddress else { return }
        let esize = dtype.size
        if isContiguous {
            let raw = file.bytes(offset: byteOffset + range.lowerBound * esize, length: n * esize)
            convert(raw, count: n, into: out0)
            return
        }
        // General strided view: an odometer over the multi-index of the first element,
        // one element at a time. The view's extent was validated against its storage at
        // open, so every computed offset lies inside the mapped record.
        var index = [Int](repeating: 0, count: shape.count)
        var rest = range.lowerBound
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            index[d] = rest % shape[d]
            rest /= shape[d]
        }
        for o in 0..<n {
            var elem = 0
            for d in 0..<shape.count { elem += index[d] * strides[d] }
            convert(file.bytes(offset: byteOffset + elem * esize, length: esize), count: 1, into: out0 + o)
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Drops the mapped pages behind elements `range` from the resident set (see
    /// `MappedFile.release`); a strided view releases its whole extent. Reading again is
    /// still valid (pages come back from the page cache).
    package func releasePages(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let esize = dtype.size
        if isContiguous {
            file.release(offset: byteOffset + range.lowerBound * esize, length: range.count * esize)
        } else if let view = checkedView(shape: shape, strides: strides, offset: 0) {
            file.release(offset: byteOffset, length: view.extent * esize)
        }
    }

    private func convert(_ raw: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        let swap = bigEndian
        switch dtype {
        case .f32:
            for i in 0..<count {
                var bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                bits = swap ? bits.byteSwapped : bits.littleEndian
                out[i] = Float(bitPattern: bits)
            }
        case .f64:
            for i in 0..<count {
                var bits = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                bits = swap ? bits.byteSwapped : bits.littleEndian
                out[i] = Float(Double(bitPattern: bits))
            }
        case .f16:
            for i in 0..<count {
                var bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                bits = swap ? bits.byteSwapped : bits.littleEndian
                out[i] = halfToFloat(bits)
            }
        case .bf16:
            for i in 0..<count {
                var bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                bits = swap ? bits.byteSwapped : bits.littleEndian
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        default:
            break  // unreachable: rejected by isFloatingPoint
        }
    }
}

/// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN payloads kept).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // subnormal: value = mant · 2^-24
        let v = Float(mant) * Float(bitPattern: 0x3380_0000)  // 2^-24
        return sign != 0 ? -v : v
    }
    if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// Validates a strided view against its storage: no negative size or stride, element
/// count and extent without overflow, and `offset + extent <= storageElements`.
/// Returns (elementCount, extent) where extent = 1 + Σ (size_i − 1)·stride_i (0 if empty).
func checkedView(shape: [Int], strides: [Int], offset: Int) -> (count: Int, extent: Int)? {
    guard shape.count == strides.count, offset >= 0 else { return nil }
    var count = 1
    var extent = 1
    for (s, st) in zip(shape, strides) {
        guard s >= 0, st >= 0 else { return nil }
        let (c, o1) = count.multipliedReportingOverflow(by: s)
        guard !o1 else { return nil }
        count = c
        if s == 0 { continue }
        let (span, o2) = (s - 1).multipliedReportingOverflow(by: st)
        guard !o2 else { return nil }
        let (e, o3) = extent.addingReportingOverflow(span)
        guard !o3 else { return nil }
        extent = e
    }
    if count == 0 { extent = 0 }
    let (_, o4) = offset.addingReportingOverflow(extent)
    guard !o4 else { return nil }
    return (count, extent)
}
