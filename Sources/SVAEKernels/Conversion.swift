// Conversion.swift: quantizers, dequantization and f32 <-> f16/bf16 conversions.
import CSVAEKernels

/// Scalar conversions between f32 and the 16-bit float formats (round to nearest, ties to even;
/// NaN stays NaN, f16 overflow gives ±Inf).
package enum HalfConversion {
    /// binary16 bits of `x`.
    package static func f16Bits(_ x: Float) -> UInt16 { csvae_f32_to_f16(x) }
    /// The f32 value of binary16 `bits` (exact).
    package static func float(f16Bits bits: UInt16) -> Float { csvae_f16_to_f32(bits) }
    /// bfloat16 bits of `x`.
    package static func bf16Bits(_ x: Float) -> UInt16 { csvae_f32_to_bf16(x) }
    /// The f32 value of bfloat16 `bits` (exact).
    package static func float(bf16Bits bits: UInt16) -> Float { csvae_bf16_to_f32(bits) }
}

/// Encoders (f32 → any element type) and decoders (any element type → f32).
/// The quantizer rules and error bounds are specified in formats/quantization.md.
package enum Quantizer {
    /// Encode `src` (a whole number of rows of `cols` elements; count a multiple of 32 for
    /// q8_0/q4_0) as `type` into `dst` (exactly `type.byteCount(elements:cols:)` bytes).
    /// `cols` matters only for `i8r` (whose rows are stored in 16-row panels, the last one
    /// zero-padded); nil means one row of `src.count`.
    ///
    /// Every path writes identical bytes on every machine. Throws
    /// `.nonFiniteInput(index:)` for NaN/Inf (all types), `.scaleOverflow` when a q8_0/q4_0
    /// block scale or an f16/bf16 value overflows, `.notBlockMultiple`, `.sizeMismatch`.
    package static func encode(_ src: UnsafeBufferPointer<Float>, as type: ElementType,
                              into dst: UnsafeMutableRawBufferPointer, cols: Int? = nil,
                              path: KernelPath = .best) throws(KernelError) {
        let cols = cols ?? src.count
        let bytes = try type.byteCount(elements: src.count, cols: cols)
        guard dst.count == bytes else { throw .sizeMismatch(expected: bytes, found: dst.count) }
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        let n = src.count
        switch type {
        case .i8r:
            var bad = 0
            if csvae_quantize_i8r(d.assumingMemoryBound(to: UInt8.self), s, n / cols, cols, &bad) != CSVAE_OK {
                throw .nonFiniteInput(index: bad)
            }
        case .f32, .f16, .bf16:
            let bad = csvae_find_nonfinite(s, n)
            if bad < n { throw .nonFiniteInput(index: bad) }
            if type == .f32 {
                d.copyMemory(from: s, byteCount: bytes)
                return
            }
            let h = d.bindMemory(to: UInt16.self, capacity: n)
            if type == .f16 { csvae_f32_to_f16_array(h, s, n) } else { csvae_f32_to_bf16_array(h, s, n) }
            for i in 0..<n where h[i] & 0x7fff == (type == .f16 ? 0x7c00 : 0x7f80) {
                throw .scaleOverflow(index: i, magnitude: abs(s[i]))
            }
        case .q8_0, .q4_0:
            var bad = 0
            let p = d.assumingMemoryBound(to: UInt8.self)
            let rc = type == .q8_0 ? csvae_quantize_q8_0(p, s, n, path.rawValue, &bad)
                                   : csvae_quantize_q4_0(p, s, n, path.rawValue, &bad)
            switch Int(rc) {
            case Int(CSVAE_OK): return
            case Int(CSVAE_ERR_NONFINITE): throw .nonFiniteInput(index: bad)
            default: throw .scaleOverflow(index: bad, magnitude: abs(s[bad]))
            }
        }
    }

    /// Array convenience for `encode(_:as:into:path:)`.
    package static func encode(_ src: [Float], as type: ElementType, cols: Int? = nil, path: KernelPath = .best) throws(KernelError) -> [UInt8] {
        let bytes = try type.byteCount(elements: src.count, cols: cols ?? src.count)
        var out = [UInt8](repeating: 0, count: bytes)
        let result: Result<Void, KernelError> = src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBytes { d in
                Result { () throws(KernelError) in try encode(s, as: type, into: d, cols: cols, path: path) }
            }
        }
        try result.get()
        return out
    }

    /// Decode elements [first, first + dst.count) of a tensor of `type` stored in `src` into
    /// `dst`. For quantized types `first` and `dst.count` must be multiples of 32; for `i8r`,
    /// whole rows of `cols` (nil: one row of `dst.count`).
    /// Throws `.notBlockMultiple` or `.sizeMismatch` (src too short).
    package static func decode(_ src: UnsafeRawBufferPointer, type: ElementType, first: Int = 0, cols: Int? = nil,
                              into dst: UnsafeMutableBufferPointer<Float>) throws(KernelError) {
        guard first >= 0 else { throw .indexOutOfRange(index: first, count: 0) }
        if type == .i8r {
            let c = cols ?? dst.count
            guard c > 0, first % c == 0, dst.count % c == 0 else { throw .notBlockMultiple(count: dst.count, block: c) }
            let end = first + dst.count
            let need = try type.byteCount(elements: end, cols: c)
            guard need <= src.count else { throw .sizeMismatch(expected: need, found: src.count) }
            guard let s = src.baseAddress, let d = dst.baseAddress else { return }
            for r in (first / c)..<(end / c) {
                csvae_i8r_dequantize_row(d + (r - first / c) * c, s.assumingMemoryBound(to: UInt8.self), r, c)
            }
            return
        }
        let startBytes = try type.byteCount(elements: first)
        let countBytes = try type.byteCount(elements: dst.count)
        let (end, overflow) = startBytes.addingReportingOverflow(countBytes)
        guard !overflow else { throw .sizeOverflow }
        guard end <= src.count else { throw .sizeMismatch(expected: end, found: src.count) }
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        csvae_dequantize(d, s, type.c, first, dst.count)
    }

    /// Array convenience: decode all of `bytes` (holding `count` elements of `type`).
    package static func decode(_ bytes: [UInt8], type: ElementType, count: Int, cols: Int? = nil) throws(KernelError) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        let result: Result<Void, KernelError> = bytes.withUnsafeBytes { s in
            out.withUnsafeMutableBufferPointer { d in
                Result { () throws(KernelError) in try decode(s, type: type, cols: cols, into: d) }
            }
        }
        try result.get()
        return out
    }
}
