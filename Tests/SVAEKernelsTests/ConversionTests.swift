import SVAETestSupport
import Testing
@testable import SVAEKernels

/// Slack on the d̂/2 reconstruction bound for float rounding: q = rint(x · fl(1/d̂)) where
/// |x/d̂| <= 127.5, so the product carries a relative error <= 2·2⁻²⁴ (≈ 127.5·2⁻²³ ≈ 1.6e-5 steps).
/// We allow 2⁻¹⁶ of one step d̂.
let kQuantStepSlack: Double = 1.0 / 65536

@Suite struct HalfConversionTests {
    @Test func knownF16Values() {
        #expect(HalfConversion.f16Bits(1) == 0x3C00)
        #expect(HalfConversion.f16Bits(-2) == 0xC000)
        #expect(HalfConversion.f16Bits(65504) == 0x7BFF)
        #expect(HalfConversion.f16Bits(65519) == 0x7BFF)  // below the halfway point
        #expect(HalfConversion.f16Bits(65520) == 0x7C00)  // halfway rounds to even = inf
        #expect(HalfConversion.f16Bits(.infinity) == 0x7C00)
        #expect(HalfConversion.f16Bits(.nan) & 0x7C00 == 0x7C00 && HalfConversion.f16Bits(.nan) & 0x3FF != 0)
        #expect(HalfConversion.f16Bits(0x1p-24) == 0x0001)  // smallest subnormal
        #expect(HalfConversion.f16Bits(0x1p-25) == 0x0000)  // tie to even (0)
        #expect(HalfConversion.f16Bits(0x1.8p-24) == 0x0002)  // tie to even (2)
        #expect(HalfConversion.f16Bits(-0.0) == 0x8000)
        #expect(HalfConversion.float(f16Bits: 0x3555) == Float(0x1.554p-2))
    }

    @Test func f16MatchesSwiftFloat16() {
        #if arch(x86_64) || arch(arm64)
        var rng = SeededRNG(1)
        for i in 0..<200_000 {
            // Cover every exponent range, including subnormal f16 and overflow.
            let e = Float(Int(rng.next() % 48) - 30)
            let x = Float.random(in: -1...1, using: &rng) * Float(sign: .plus, exponent: Int(e), significand: 1)
            let ours = HalfConversion.f16Bits(x)
            let swift = Float16(x).bitPattern
            if ours != swift {
                Issue.record("f16(\(x)) = \(ours), Float16 says \(swift) (case \(i))")
                return
            }
        }
        #endif
    }

    @Test func f16RoundTripsEveryValue() {
        for h in 0...UInt16.max where h & 0x7C00 != 0x7C00 || h & 0x3FF == 0 {
            #expect(HalfConversion.f16Bits(HalfConversion.float(f16Bits: h)) == h)
        }
    }

    @Test func bf16RoundsToNearestEven() {
        #expect(HalfConversion.bf16Bits(1) == 0x3F80)
        #expect(HalfConversion.bf16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even stays
        #expect(HalfConversion.bf16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd rounds up
        #expect(HalfConversion.bf16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfConversion.float(bf16Bits: 0xC040) == -3)
        #expect(HalfConversion.float(bf16Bits: HalfConversion.bf16Bits(.nan)).isNaN)
    }
}

/// Data sets that stress the quantizers (each a multiple of 32 elements).
func quantizerCases(_ type: ElementType) -> [(String, [Float])] {
    var rng = SeededRNG(7)
    var cases: [(String, [Float])] = []
    cases.append(("normal", rng.floats(32 * 64)))
    cases.append(("tiny", rng.floats(32 * 8, scale: 1e-6)))
    cases.append(("subnormal f16 scale", rng.floats(32 * 8, scale: 1e-9)))
    cases.append(("f32 subnormals", (0..<64).map { Float($0 % 7) * Float.leastNonzeroMagnitude * ($0 % 2 == 0 ? 1 : -1) }))
    cases.append(("large", rng.floats(32 * 8, scale: 1e5)))
    cases.append(("one-sided positive", (0..<(32 * 8)).map { _ in abs(rng.normal()) }))
    cases.append(("one-sided negative", (0..<(32 * 8)).map { _ in -abs(rng.normal()) }))
    // ±max ties: equal magnitudes of both signs force the q4_0 fallback scale.
    cases.append(("symmetric max", (0..<32).map { $0 == 3 ? 2.5 : ($0 == 9 ? -2.5 : Float($0) / 32) }))
    cases.append(("single outlier", (0..<64).map { $0 == 40 ? -100 : Float($0 % 5) * 0.01 }))
    cases.append(("opposite near-max", (0..<32).map { $0 == 0 ? -8 : ($0 == 1 ? 7.6 : 0.1) }))
    cases.append(("constant", [Float](repeating: 0.3, count: 32)))
    cases.append(("with zero block", [Float](repeating: 0, count: 32) + rng.floats(32)))
    // Largest representable magnitude: scale exactly 65504 (q8_0: amax/127, q4_0: amax/8).
    let limit: Float = type == .q8_0 ? 65504 * 127 : 65504 * 8
    cases.append(("at the scale limit", (0..<32).map { Float($0 - 16) / 16 * limit }))
    return cases
}

@Suite struct QuantizerTests {
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func everyPathWritesIdenticalBytes(type: ElementType) throws {
        for (name, data) in quantizerCases(type) {
            let ref = try Quantizer.encode(data, as: type, path: .scalar)
            for path in testedPaths() {
                let fast = try Quantizer.encode(data, as: type, path: path)
                #expect(fast == ref, "\(type) \(name) on \(path)")
            }
        }
    }

    /// Every element reconstructs within d̂/2 of the input, d̂ the stored f16 scale.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func reconstructionWithinHalfStep(type: ElementType) throws {
        for (name, data) in quantizerCases(type) {
            let bytes = try Quantizer.encode(data, as: type)
            let back = try Quantizer.decode(bytes, type: type, count: data.count)
            try #require(back.count == data.count && bytes.count == data.count / 32 * type.blockBytes)
            for b in 0..<(data.count / 32) {
                let blk = bytes[(b * type.blockBytes)...]
                let d = Double(HalfConversion.float(f16Bits: UInt16(blk[blk.startIndex]) | UInt16(blk[blk.startIndex + 1]) << 8))
                // q4_0 scales carry the sign of the block's largest magnitude; q8_0 scales are >= 0.
                #expect(d.isFinite && (type == .q4_0 || d >= 0), "\(name): bad scale \(d)")
                for k in 0..<32 {
                    let i = b * 32 + k
                    let err = abs(Double(back[i]) - Double(data[i]))
                    // back[i] = d·q rounded to f32: allow one f32 ulp of the value on top.
                    let limit = abs(d) * (0.5 + kQuantStepSlack) + Double(abs(back[i]).ulp)
                    if exceeds(err, limit) {
                        Issue.record("\(type) \(name) elem \(i): x=\(data[i]) back=\(back[i]) d=\(d) err=\(err) > \(limit)")
                        return
                    }
                }
            }
        }
    }

    @Test func zeroBlocks() throws {
        let z = [Float](repeating: 0, count: 64)
        #expect(try Quantizer.encode(z, as: .q8_0) == [UInt8](repeating: 0, count: 68))
        let q4 = try Quantizer.encode(z, as: .q4_0)
        #expect(q4 == ([0, 0] + [UInt8](repeating: 0x88, count: 16)) + ([0, 0] + [UInt8](repeating: 0x88, count: 16)))
    }

    @Test func q4SignedScaleRule() throws {
        // Largest magnitude is negative (-8): d = -8 / -8 = 1, codes = x + 8.
        var x = [Float](repeating: 0, count: 32)
        x[0] = -8; x[1] = 7; x[16] = 3; x[17] = -1
        let b = try Quantizer.encode(x, as: .q4_0)
        #expect(b[0] == 0x00 && b[1] == 0x3C)  // d = 1.0
        #expect(b[2] == (0 | (11 << 4)))  // x[0] = -8 -> 0, x[16] = 3 -> 11
        #expect(b[3] == (15 | (7 << 4)))  // x[1] = 7 -> 15, x[17] = -1 -> 7
        // Largest magnitude positive (+8): d = -1, so +8 -> code 0.
        let y = x.map { -$0 }
        let c = try Quantizer.encode(y, as: .q4_0)
        #expect(c[0] == 0x00 && c[1] == 0xBC)  // d = -1.0
        #expect(c[2] & 0x0F == 0)
    }

    @Test func q8ScaleRoundsAwayFromZero() throws {
        // amax/127 = 1/127 is not an f16; the stored scale must be the next f16 above it.
        var x = [Float](repeating: 0, count: 32)
        x[5] = -1
        let b = try Quantizer.encode(x, as: .q8_0)
        let d = HalfConversion.float(f16Bits: UInt16(b[0]) | UInt16(b[1]) << 8)
        #expect(d >= 1 / 127 && HalfConversion.float(f16Bits: (UInt16(b[0]) | UInt16(b[1]) << 8) - 1) < 1 / 127)
        #expect(Int8(bitPattern: b[2 + 5]) == -127)
    }

    @Test(arguments: [ElementType.q8_0, .q4_0, .f16, .bf16, .f32])
    func nonFiniteInputThrows(type: ElementType) {
        for bad in [Float.nan, .infinity, -.infinity] {
            var x = [Float](repeating: 1, count: 96)
            x[70] = bad
            for path in testedPaths() {
                #expect(throws: KernelError.nonFiniteInput(index: 70)) { try Quantizer.encode(x, as: type, path: path) }
            }
        }
    }

    @Test func scaleOverflowThrows() {
        var x = [Float](repeating: 1, count: 64)
        x[40] = 65504 * 128  // q8 scale 66020 > f16 max
        #expect(throws: KernelError.scaleOverflow(index: 40, magnitude: 65504 * 128)) { try Quantizer.encode(x, as: .q8_0) }
        x[40] = 65504 * 9
        #expect(throws: KernelError.scaleOverflow(index: 40, magnitude: 65504 * 9)) { try Quantizer.encode(x, as: .q4_0) }
        x[40] = 70000
        #expect(throws: KernelError.scaleOverflow(index: 40, magnitude: 70000)) { try Quantizer.encode(x, as: .f16) }
        #expect((try? Quantizer.encode(x, as: .bf16)) != nil)
    }

    /// The kernels' byte counts are the format's (one formula): every type, several shapes,
    /// i8r included (one row of n takes a whole 16-row panel of n + 8 bytes per row).
    @Test func byteCountsAreTheFormats() throws {
        for type in ElementType.allCases {
            for (rows, cols) in [(1, 32), (3, 64), (16, 32), (17, 96), (40, 128)] {
                let n = rows * cols
                #expect(try type.byteCount(elements: n, cols: cols) == type.byteCount(elements: n, innermost: cols), "\(type) \(rows)×\(cols)")
                #expect(try type.byteCount(elements: cols) == type.byteCount(elements: cols, innermost: cols), "\(type) one row of \(cols)")
            }
        }
        #expect(try ElementType.i8r.byteCount(elements: 8) == 16 * (8 + 8))
        #expect(try ElementType.q8_0.byteCount(elements: 0) == 0)
    }

    @Test func sizeErrors() {
        #expect(throws: KernelError.notBlockMultiple(count: 33, block: 32)) { try Quantizer.encode([Float](repeating: 0, count: 33), as: .q8_0) }
        #expect(throws: KernelError.sizeMismatch(expected: 34, found: 0)) { try Quantizer.decode([], type: .q8_0, count: 32) }
    }

    @Test func decodeFollowsTheLayout() throws {
        // q8_0: d = 0.5 (0x3800), q = 0, 1, -2, ...
        var q8: [UInt8] = [0x00, 0x38]
        q8 += (0..<32).map { UInt8(bitPattern: Int8($0 % 2 == 0 ? $0 : -$0)) }
        let a = try Quantizer.decode(q8, type: .q8_0, count: 32)
        #expect(a[0] == 0 && a[1] == -0.5 && a[2] == 1 && a[31] == -15.5)
        // q4_0: d = 2 (0x4000); byte j = low nibble j | high nibble (15 - j)
        var q4: [UInt8] = [0x00, 0x40]
        q4 += (0..<16).map { UInt8($0 | ((15 - $0) << 4)) }
        let b = try Quantizer.decode(q4, type: .q4_0, count: 32)
        #expect(b[0] == -16 && b[15] == 14 && b[16] == 14 && b[31] == -16)
        // Partial decode from an offset block.
        let both = try Quantizer.encode((0..<64).map { Float($0) }, as: .q8_0)
        var tail = [Float](repeating: 0, count: 32)
        try both.withUnsafeBytes { s in try tail.withUnsafeMutableBufferPointer { try Quantizer.decode(s, type: .q8_0, first: 32, into: $0) } }
        #expect(abs(tail[31] - 63) < 0.5)
    }

    /// Every q8_0 element decodes to f16 scale × int8 code with one f32 rounding, whatever the
    /// path (the AVX2 loop since 2026-12-03): random codes and random finite scales, subnormal
    /// ones included, at a block offset.
    @Test func q8DecodeIsScaleTimesCode() throws {
        var rng = SeededRNG(17)
        let blocks = 40
        var bytes: [UInt8] = []
        for b in 0..<blocks {
            var h = UInt16(truncatingIfNeeded: rng.next())
            if h & 0x7C00 == 0x7C00 { h &= 0x83FF }  // an infinite or NaN scale: make it subnormal
            if b == 1 { h = 0x0001 }
            bytes += [UInt8(h & 0xFF), UInt8(h >> 8)]
            bytes += (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        var out = [Float](repeating: 0, count: (blocks - 1) * 32)
        try bytes.withUnsafeBytes { s in try out.withUnsafeMutableBufferPointer { try Quantizer.decode(s, type: .q8_0, first: 32, into: $0) } }
        for b in 1..<blocks {
            let p = b * 34
            let d = Float(Float16(bitPattern: UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8))
            for i in 0..<32 {
                let want = d * Float(Int8(bitPattern: bytes[p + 2 + i]))
                if out[(b - 1) * 32 + i].bitPattern != want.bitPattern {
                    Issue.record("block \(b) element \(i): \(out[(b - 1) * 32 + i]), expected \(want)")
                    return
                }
            }
        }
    }

    @Test func floatTypesRoundTrip() throws {
        var rng = SeededRNG(3)
        let x = rng.floats(100)
        #expect(try Quantizer.decode(Quantizer.encode(x, as: .f32), type: .f32, count: 100) == x)
        let h = try Quantizer.decode(Quantizer.encode(x, as: .f16), type: .f16, count: 100)
        #expect(h.count == x.count && zip(x, h).allSatisfy { Float16($0).bitPattern == Float16($1).bitPattern })
        let b = try Quantizer.decode(Quantizer.encode(x, as: .bf16), type: .bf16, count: 100)
        #expect(b.count == x.count && zip(x, b).allSatisfy { abs($0 - $1) <= abs($0) / 256 })
    }
}
