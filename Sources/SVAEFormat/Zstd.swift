import CZstd

/// zstd helpers for the metadata and tokenizer sections (formats/svae.md §4.5, §6).
enum Zstd {
    /// The level the writer uses. Output is deterministic for a given libzstd version and level.
    static let level: Int32 = 19
    /// Largest decoded size a reader accepts for a compressed section (§4.5).
    static let maxRawSize: UInt64 = 256 << 20
    /// Largest compression ratio a reader accepts (§4.5): guards against decompression bombs.
    static let maxRatio: UInt64 = 64

    static func compress(_ input: [UInt8]) -> [UInt8]? {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, bound, i.baseAddress, i.count, level) }
        }
        if ZSTD_isError(n) != 0 { return nil }
        out.removeSubrange(n...)
        return out
    }

    static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }

    /// Decodes exactly one frame of `src` into exactly `rawSize` bytes.
    static func decompress(_ src: UnsafeRawBufferPointer, rawSize: Int, section: String) throws(FormatProblem) -> [UInt8] {
        let frame = ZSTD_findFrameCompressedSize(src.baseAddress, src.count)
        if ZSTD_isError(frame) != 0 { throw .compression(section: section, message: errorName(frame)) }
        if frame != src.count {
            throw .compression(section: section, message: "expected one frame of \(src.count) bytes, found a frame of \(frame) and trailing bytes")
        }
        let declared = ZSTD_getFrameContentSize(src.baseAddress, src.count)
        // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest UInt64 values.
        if declared != UInt64(rawSize) && declared < UInt64.max - 1 {
            throw .compression(section: section, message: "frame declares \(declared) bytes, the section table says \(rawSize)")
        }
        var out = [UInt8](repeating: 0, count: rawSize)
        let n = out.withUnsafeMutableBytes { o in ZSTD_decompress(o.baseAddress, rawSize, src.baseAddress, src.count) }
        if ZSTD_isError(n) != 0 { throw .compression(section: section, message: errorName(n)) }
        if n != rawSize { throw .compression(section: section, message: "expected \(rawSize) decoded bytes, found \(n)") }
        return out
    }
}
