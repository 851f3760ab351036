// Types.swift: element types, dispatch paths and errors of the kernels layer.
import CSVAEKernels
import SVAEFormat

/// Element types are the file format's (formats/svae.md §7.1): one definition for both layers.
public typealias ElementType = SVAEFormat.ElementType

extension SVAEFormat.ElementType {
    // Both are thin wrappers over the format's `byteCount(elements:innermost:)`, the one size
    // formula: they only turn its nil into the kernels' typed errors.

    /// Bytes of `count` consecutive elements (one row or a whole tensor; `i8r`: one row of
    /// `count`, which takes a whole 16-row panel).
    /// Throws `KernelError.notBlockMultiple` if a quantized count is not a multiple of 32,
    /// `.sizeOverflow` if the size does not fit in Int.
    package func byteCount(elements count: Int) throws(KernelError) -> Int {
        guard count >= 0 else { throw .sizeOverflow }
        guard count % blockElements == 0 else { throw .notBlockMultiple(count: count, block: blockElements) }
        if count == 0 { return 0 }
        // A block type's bytes do not depend on the row length: any whole number of blocks will do.
        guard let b = byteCount(elements: count, innermost: isRowPanel ? count : blockElements) else { throw .sizeOverflow }
        return b
    }

    /// Bytes of `count` elements stored as rows of `cols` (`i8r`: 16-row panels, see
    /// formats/quantization.md §9; other types: as `byteCount(elements:)`). Throws
    /// `.notBlockMultiple` (cols not a multiple of 4 for i8r, or count not whole rows).
    package func byteCount(elements count: Int, cols: Int) throws(KernelError) -> Int {
        guard isRowPanel else { return try byteCount(elements: count) }
        guard count >= 0, cols > 0 else { throw .sizeOverflow }
        guard cols % blockElements == 0 else { throw .notBlockMultiple(count: cols, block: blockElements) }
        guard count % cols == 0 else { throw .notBlockMultiple(count: count, block: cols) }
        guard let b = byteCount(elements: count, innermost: cols) else { throw .sizeOverflow }
        return b
    }

    /// The C kernels' type id (`csvae_type`): the same numbers as the file format.
    var c: Int32 { Int32(rawValue) }
}

/// An implementation of the kernels. Every path computes the same functions with the same
/// signatures; `.scalar` is the portable reference and always available.
public enum KernelPath: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Portable C (compiles on every architecture).
    case scalar = 0
    /// x86-64 AVX2 + FMA + F16C (u8·s8 dot products with vpmaddubsw).
    case avx2 = 1
    /// x86-64 AVX-512 F/BW/VL/DQ + VNNI (vpdpbusd).
    case avx512 = 2
    /// arm64 NEON + dotprod (sdot).
    case neon = 3
    /// x86-64 AVX2 + FMA + F16C + AVX-VNNI (VEX vpdpbusd ymm), for CPUs with AVX-VNNI and no
    /// AVX-512: the AVX2 kernels, except `i8r` products, which use vpdpbusd.
    case avxvnni = 4

    public var description: String {
        switch self {
        case .scalar: "scalar"
        case .avx2: "avx2"
        case .avx512: "avx512"
        case .neon: "neon"
        case .avxvnni: "avxvnni"
        }
    }

    /// True if this CPU (and this build) can run the path.
    public var isSupported: Bool { csvae_path_supported(rawValue) != 0 }
    /// The fastest path this CPU supports (avx512 > avxvnni > avx2 > neon > scalar).
    public static var best: KernelPath { KernelPath(rawValue: csvae_best_path()) ?? .scalar }
    /// Every path this CPU supports, scalar first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }
    /// This core's L2 cache in bytes as the C library reports it, nil when unknown (the size
    /// cache blocking aims at, e.g. the encoder's token groups).
    package static let l2CacheBytes: Int? = { let n = csvae_l2_cache_bytes(); return n > 0 ? Int(n) : nil }()
}

/// Errors of the kernels layer. Input-derived problems only; misuse by the caller
/// (buffers shorter than the documented shapes) is a precondition failure.
public enum KernelError: Error, Equatable, Sendable {
    /// The input holds NaN or ±Inf at element `index` (of the buffer passed in).
    case nonFiniteInput(index: Int)
    /// The block containing element `index` (of magnitude `magnitude`) needs a scale larger
    /// than f16 can hold (|x| > 65504·127 for q8_0, > 65504·7.5 … 65504·8 for q4_0), or an
    /// f16/bf16 conversion would overflow to infinity.
    case scaleOverflow(index: Int, magnitude: Float)
    /// A quantized row length (or element count) is not a multiple of the block size.
    case notBlockMultiple(count: Int, block: Int)
    /// A byte or element count does not match the shape.
    case sizeMismatch(expected: Int, found: Int)
    /// A size computation overflowed Int.
    case sizeOverflow
    /// A row index (for example a token id) is outside [0, count).
    case indexOutOfRange(index: Int, count: Int)
    /// The requested path cannot run on this CPU.
    case unsupportedPath(KernelPath)
    /// The thread pool could not be created (out of memory).
    case threadPoolUnavailable
}

extension KernelError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .nonFiniteInput(i): "expected finite values, found NaN or Inf at element \(i)"
        case let .scaleOverflow(i, m): "value \(m) near element \(i) is too large for the element type (its block scale overflows f16)"
        case let .notBlockMultiple(n, b): "expected a multiple of the block size \(b), found \(n)"
        case let .sizeMismatch(e, f): "expected \(e) bytes or elements, found \(f)"
        case .sizeOverflow: "a size computation overflowed"
        case let .indexOutOfRange(i, n): "expected an index in 0..<\(n), found \(i)"
        case let .unsupportedPath(p): "the \(p) kernels cannot run on this CPU"
        case .threadPoolUnavailable: "could not create the thread pool (out of memory?)"
        }
    }
}
