// I8RTests.swift: the per-row int8 type (formats/quantization.md §9): bytes, error bound and
// the exact agreement of every kernel path with the scalar reference.
import CSVAEKernels
import Testing
@testable import SVAEKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct I8RTests {
    /// The hex example in formats/quantization.md §9.3, parsed from the spec itself.
    static func specExample() throws -> [UInt8] {
        let root = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        guard let f = fopen("/" + root + "/formats/quantization.md", "r") else { throw KernelError.sizeOverflow }
        defer { fclose(f) }
        var text = ""
        var buf = [CChar](repeating: 0, count: 4096)
        while fgets(&buf, 4096, f) != nil { text += String(cString: buf) }
        let after = text.components(separatedBy: "<!-- i8r-example -->")[1]
        let block = after.components(separatedBy: "```")[1]
        var bytes: [UInt8] = []
        for line in block.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            for h in line[line.index(after: colon)...].split(separator: " ") { bytes.append(UInt8(h, radix: 16)!) }
        }
        return bytes
    }

    @Test func specExampleBytes() throws {
        let x: [Float] = [1, -2, 3, -4, 5, -6, 7, -127,
                          0.3, -0.6, 0.9, 1.2, 0, 0.15, -1.5, 0.45,
                          0, 0, 0, 0, 0, 0, 0, 0]
        let expected = try Self.specExample()
        #expect(expected.count == 256)
        #expect(try Quantizer.encode(x, as: .i8r, cols: 8) == expected)
        #expect(ElementType.i8r.byteCount(elements: 24, innermost: 8) == 256)
        let back = try Quantizer.decode(expected, type: .i8r, count: 24, cols: 8)
        #expect(back[0..<8] == [1, -2, 3, -4, 5, -6, 7, -127])
        #expect(back[14] == -1.5)
    }

    /// |x − d·code| ≤ d·(1/2 + 2⁻¹⁶) for every element (§9.1), on rows of several magnitudes.
    @Test func reconstructionWithinHalfStep() throws {
        var rng = SeededRNG(7)
        let cols = 36
        var x = rng.floats(cols * 5, scale: 0.05)
        for k in 0..<cols { x[cols + k] *= 1e-30; x[2 * cols + k] *= 1e30 }
        x[3 * cols + 5] = 40  // an outlier
        for k in 0..<cols { x[4 * cols + k] = 1e-40 }  // subnormal row: stored as zero
        let bytes = try Quantizer.encode(x, as: .i8r, cols: cols)
        let back = try Quantizer.decode(bytes, type: .i8r, count: x.count, cols: cols)
        for r in 0..<5 {
            let amax = x[(r * cols)..<((r + 1) * cols)].map(abs).max()!
            let d = amax / 127
            for k in 0..<cols {
                let err = abs(x[r * cols + k] - back[r * cols + k])
                #expect(err <= (r == 4 ? 1.2e-38 : d * (0.5 + 1.0 / 65536)), "row \(r) col \(k)")
            }
        }
    }

    @Test func badInput() throws {
        var x = [Float](repeating: 1, count: 24)
        x[13] = .nan
        #expect(throws: KernelError.nonFiniteInput(index: 13)) { try Quantizer.encode(x, as: .i8r, cols: 8) }
        #expect(throws: KernelError.notBlockMultiple(count: 6, block: 4)) { try Quantizer.encode([Float](repeating: 0, count: 12), as: .i8r, cols: 6) }
        #expect(throws: KernelError.sizeMismatch(expected: 256, found: 255)) {
            try [UInt8](repeating: 0, count: 255).withWeight(.i8r, rows: 3, cols: 8) { _ in () }
        }
    }

    /// The activation quantizer writes the same bytes on every path (AVX-512; AVX2 for avx2 and
    /// avxvnni; NEON) as the scalar reference, biased (VNNI paths) or not, vector bodies and
    /// scalar tails alike.
    @Test func activationQuantizerBytes() throws {
        var rng = SeededRNG(11)
        for path in testedPaths() {
            for (n, cols) in [(1, 4), (3, 36), (17, 768), (2, 20), (1, 772), (3, 1540), (2, 3076)] {
                var x = rng.floats(n * cols)
                x[0] = 0.5 / 127 * 3  // a tie candidate
                x[n * cols - 1] = -x[n * cols - 1] * 40  // the row's largest magnitude in the tail
                if n > 1 && cols > 16 {  // a zero and a negative zero in row 1
                    x[cols + 5] = 0
                    x[cols + 6] = -0.0
                }
                var ref = [UInt8](), fast = [UInt8](), rs = [Float](), fs = [Float]()
                for scalar in [true, false] {
                    let bytes = csvae_i8r_act_bytes(n, cols)
                    let s = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                    defer { s.deallocate() }
                    var a = csvae_i8r_act_bind(s, n, cols, path.rawValue)
                    x.withUnsafeBufferPointer { xp in
                        if scalar { csvae_i8r_act_quantize_scalar(&a, xp.baseAddress, n, cols) } else { csvae_i8r_act_quantize(&a, xp.baseAddress, n, cols) }
                    }
                    let q = Array(UnsafeBufferPointer(start: a.q, count: n * cols)), sc = Array(UnsafeBufferPointer(start: a.s, count: n))
                    if scalar { ref = q; rs = sc } else { fast = q; fs = sc }
                }
                #expect(ref == fast, "\(path) n \(n) cols \(cols)")
                #expect(rs == fs, "\(path) n \(n) cols \(cols)")
            }
        }
        // A row of zeros: codes 0 (128 biased), scale 0.
        for path in KernelPath.supported {
            let s = UnsafeMutableRawPointer.allocate(byteCount: csvae_i8r_act_bytes(1, 36), alignment: 64)
            defer { s.deallocate() }
            var a = csvae_i8r_act_bind(s, 1, 36, path.rawValue)
            [Float](repeating: 0, count: 36).withUnsafeBufferPointer { csvae_i8r_act_quantize(&a, $0.baseAddress, 1, 36) }
            let zero: UInt8 = path == .avx512 || path == .avxvnni ? 0x80 : 0
            #expect(UnsafeBufferPointer(start: a.q, count: 36).allSatisfy { $0 == zero } && a.s[0] == 0, "\(path)")
        }
    }

    /// The matrix-vector kernels (n ≤ 3) at decoder shapes: many panels (so the prefetch runs
    /// past panel ends and the slice ends of two threads), a row count not a multiple of 16,
    /// K split over several accumulators with a remainder (cols/4 = 193 groups): bit-identical
    /// to the scalar reference on every path, with and without bias and ReLU.
    @Test func matvecAtDecoderShapes() throws {
        var rng = SeededRNG(23)
        for (rows, cols) in [(2304 + 13, 768), (101, 772), (768, 1536)] {
            let bytes = try Quantizer.encode(rng.floats(rows * cols, scale: 0.05), as: .i8r, cols: cols)
            let bias = rng.floats(rows)
            for n in 1...3 {
                let x = rng.floats(n * cols)
                func run(_ ctx: KernelContext, fused: Bool) throws -> [Float] {
                    var y = [Float](repeating: .nan, count: n * rows)
                    try bytes.withWeight(.i8r, rows: rows, cols: cols) { w in
                        y.withUnsafeMutableBufferPointer { yp in
                            x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { ctx.linear(yp, w, xp, n: n, bias: fused ? $0 : nil, relu: fused) } }
                        }
                    }
                    return y
                }
                let scalar = try KernelContext(threads: 1, path: .scalar)
                for fused in [false, true] {
                    let want = try run(scalar, fused: fused)
                    for path in testedPaths() {
                        for threads in [1, 2] {
                            let got = try run(try KernelContext(threads: threads, path: path), fused: fused)
                            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(path) \(threads)T rows \(rows) cols \(cols) n \(n) fused \(fused)")
                        }
                    }
                }
            }
        }
    }

    /// Every supported path gives bit-identical outputs, equal to an independent computation
    /// of the spec's formula from the stored codes and the activation codes, at odd sizes
    /// (partial panels, partial 8-row tiles, matvec n ≤ 3, single-group rows), with and
    /// without the fused bias and ReLU.
    @Test func pathsAgreeExactly() throws {
        var rng = SeededRNG(3)
        let rowsList = [1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 48]
        let colsList = [4, 8, 36, 100, 768]
        let ns = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 33]
        for rows in rowsList {
            for cols in colsList where rows * cols <= 48 * 768 {
                let src = rng.floats(rows * cols, scale: 0.05)
                let bytes = try Quantizer.encode(src, as: .i8r, cols: cols)
                let bias = rng.floats(rows)
                for n in ns {
                    let x = rng.floats(n * cols)
                    let expected = Self.formula(bytes, x, n: n, rows: rows, cols: cols, bias: bias)
                    for path in KernelPath.supported {
                        let ctx = try KernelContext(threads: path == .avx512 || path == .avxvnni ? 2 : 1, path: path)
                        for fused in [false, true] {
                            var y = [Float](repeating: .nan, count: n * rows)
                            try bytes.withWeight(.i8r, rows: rows, cols: cols) { w in
                                y.withUnsafeMutableBufferPointer { yp in
                                    x.withUnsafeBufferPointer { xp in
                                        bias.withUnsafeBufferPointer { bp in
                                            ctx.linear(yp, w, xp, n: n, bias: fused ? bp : nil, relu: fused)
                                        }
                                    }
                                }
                            }
                            let want = fused ? expected.fused : expected.plain
                            let same = zip(y, want).allSatisfy { $0.bitPattern == $1.bitPattern }
                            #expect(same, "\(path) rows \(rows) cols \(cols) n \(n) fused \(fused)")
                        }
                    }
                }
            }
        }
    }

    /// Past 128 activation rows the batched kernels walk the weights once per 128 rows and
    /// prefetch the next slice meanwhile (wrapping to the first slice for the next 128 rows);
    /// from 64 rows on the AVX-512 kernel switches from 8-row x 3-panel tiles to 6 x 4, sized
    /// evenly (5 and 6 rows): every path still equals the formula at rows that are not a multiple
    /// of either slice (48, 64 rows), K of several sizes, n on both sides of the switch and just
    /// past one and two blocks of 128, on 1 and 2 threads.
    @Test func manyActivationRowsAgreeExactly() throws {
        var rng = SeededRNG(5)
        for (rows, cols) in [(70, 772), (33, 1540), (96, 36)] {
            let bytes = try Quantizer.encode(rng.floats(rows * cols, scale: 0.05), as: .i8r, cols: cols)
            let bias = rng.floats(rows)
            for n in [63, 64, 100, 129, 136, 257] {
                let x = rng.floats(n * cols)
                let expected = Self.formula(bytes, x, n: n, rows: rows, cols: cols, bias: bias)
                for path in KernelPath.supported {
                    for threads in [1, 2] {
                        let ctx = try KernelContext(threads: threads, path: path)
                        var y = [Float](repeating: .nan, count: n * rows)
                        try bytes.withWeight(.i8r, rows: rows, cols: cols) { w in
                            y.withUnsafeMutableBufferPointer { yp in
                                x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { ctx.linear(yp, w, xp, n: n, bias: $0, relu: true) } }
                            }
                        }
                        let same = zip(y, expected.fused).allSatisfy { $0.bitPattern == $1.bitPattern }
                        #expect(same, "\(path) \(threads)T rows \(rows) cols \(cols) n \(n)")
                    }
                }
            }
        }
    }

    /// `batchInvariantRows` says every n for i8r on every path, and it holds: 40 activation rows
    /// in one product, alone (the matrix-vector kernels), and in products of 2, 3, 5, 8 and 17
    /// rows give every row the same bits (batched decoding relies on it).
    @Test func everyBatchSizeComputesARowTheSameWay() throws {
        var rng = SeededRNG(31)
        let rows = 77, cols = 132, total = 40
        let bytes = try Quantizer.encode(rng.floats(rows * cols, scale: 0.05), as: .i8r, cols: cols)
        let x = rng.floats(total * cols)
        for path in testedPaths() {
            for threads in [1, 2] {
                let ctx = try KernelContext(threads: threads, path: path)
                try bytes.withWeight(.i8r, rows: rows, cols: cols) { w in
                    #expect(ctx.batchInvariantRows(w) == 1...Int.max, "\(path)")
                    var all = [Float](repeating: .nan, count: total * rows)
                    all.withUnsafeMutableBufferPointer { yp in x.withUnsafeBufferPointer { ctx.matmul(yp, w, $0, n: total) } }
                    for group in [1, 2, 3, 5, 8, 17] {
                        var parts = [Float](repeating: .nan, count: total * rows)
                        for i0 in stride(from: 0, to: total, by: group) {
                            let n = min(group, total - i0)
                            parts.withUnsafeMutableBufferPointer { yp in
                                x.withUnsafeBufferPointer { xp in
                                    ctx.matmul(UnsafeMutableBufferPointer(rebasing: yp[(i0 * rows)...]), w,
                                               UnsafeBufferPointer(rebasing: xp[(i0 * cols)...]), n: n)
                                }
                            }
                        }
                        #expect(parts.map(\.bitPattern) == all.map(\.bitPattern), "\(path) \(threads)T groups of \(group)")
                    }
                }
            }
        }
    }

    /// Greedy decoding's fused argmax (`linearArgmax`: the i8r epilogue compares instead of
    /// storing) picks, on every path, 1 and 2 threads and n on both sides of the matrix-vector and
    /// tile-shape switches, the id `Ops.argmax` picks from `linear`'s logits. Ties: rows 3, 19
    /// (the same lane), 40 and 290 (other lanes, the last task) hold the same all-positive
    /// weights and bias, larger than the rest, and the activations are positive, so all four tie for the
    /// maximum and the first, 3, must win; the other cases have random weights (no tie).
    @Test func fusedArgmaxEqualsArgmaxOfLogits() throws {
        var rng = SeededRNG(41)
        let rows = 300, cols = 132
        let plain = rng.floats(rows * cols, scale: 0.05)
        var tied = plain
        for r in [3, 19, 40, 290] { for k in 0..<cols { tied[r * cols + k] = 1 } }
        for (weights, ties) in [(plain, false), (tied, true)] {
            let bytes = try Quantizer.encode(weights, as: .i8r, cols: cols)
            var bias = rng.floats(rows, scale: 0.01)
            if ties { for r in [3, 19, 40, 290] { bias[r] = 0.5 } }
            for n in [1, 2, 3, 5, 8, 33, 64, 100] {
                var x = rng.floats(n * cols)
                if ties { x = x.map { abs($0) + 0.01 } }
                for path in KernelPath.supported {
                    for threads in [1, 2] {
                        let ctx = try KernelContext(threads: threads, path: path)
                        var logits = [Float](repeating: .nan, count: n * rows), ids = [Int32](repeating: -1, count: n)
                        var scratch = [Float](repeating: .nan, count: n * rows)
                        try bytes.withWeight(.i8r, rows: rows, cols: cols) { w in
                            #expect(ctx.fusesArgmax(w))
                            x.withUnsafeBufferPointer { xp in
                                bias.withUnsafeBufferPointer { bp in
                                    logits.withUnsafeMutableBufferPointer { ctx.linear($0, w, xp, n: n, bias: bp, relu: false) }
                                    ids.withUnsafeMutableBufferPointer { ip in
                                        scratch.withUnsafeMutableBufferPointer { ctx.linearArgmax(ip, w, xp, n: n, bias: bp, logits: $0) }
                                    }
                                }
                            }
                        }
                        let want = logits.withUnsafeBufferPointer { l in
                            (0..<n).map { Ops.argmax(UnsafeBufferPointer(rebasing: l[($0 * rows)..<(($0 + 1) * rows)])) }
                        }
                        #expect(ids == want, "\(path) \(threads)T n \(n) ties \(ties)")
                        if ties { #expect(ids.allSatisfy { $0 == 3 }, "\(path) \(threads)T n \(n): \(ids)") }
                        let untouched = scratch.allSatisfy { $0.isNaN }
                        #expect(untouched, "the fused path writes no logits")
                    }
                }
            }
        }
    }

    /// y per §9.2 from the stored bytes (read by their spec offsets) and the activation codes
    /// of the scalar reference quantizer.
    static func formula(_ w: [UInt8], _ x: [Float], n: Int, rows: Int, cols: Int, bias: [Float]) -> (plain: [Float], fused: [Float]) {
        let bytes = csvae_i8r_act_bytes(n, cols)
        let s = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { s.deallocate() }
        var a = csvae_i8r_act_bind(s, n, cols, KernelPath.scalar.rawValue)
        x.withUnsafeBufferPointer { csvae_i8r_act_quantize_scalar(&a, $0.baseAddress, n, cols) }
        let pb = 16 * cols + 128
        func u32(_ o: Int) -> UInt32 { UInt32(w[o]) | UInt32(w[o + 1]) << 8 | UInt32(w[o + 2]) << 16 | UInt32(w[o + 3]) << 24 }
        var plain = [Float](repeating: 0, count: n * rows), fused = plain
        for r in 0..<rows {
            let p = r / 16 * pb, j = r % 16
            let sw = Float(bitPattern: u32(p + 16 * cols + 4 * j))
            var rsum: Int32 = 0
            for k in 0..<cols { rsum += Int32(Int8(bitPattern: w[p + 64 * (k / 4) + 4 * j + k % 4])) }
            #expect(rsum == Int32(bitPattern: u32(p + 16 * cols + 64 + 4 * j)), "stored row sum of row \(r)")
            for i in 0..<n {
                var isum: Int32 = 0
                for k in 0..<cols {
                    isum += Int32(Int8(bitPattern: w[p + 64 * (k / 4) + 4 * j + k % 4])) * Int32(Int8(bitPattern: a.q[i * cols + k]))
                }
                let y = Float(isum) * (sw * a.s[i])
                plain[i * rows + r] = y
                fused[i * rows + r] = max(y + bias[r], 0)
            }
        }
        return (plain, fused)
    }
}
