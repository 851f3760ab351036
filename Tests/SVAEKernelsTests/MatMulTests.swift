import CSVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEKernels

// Named error limits. Each is a multiple of B = Σ_k |w_k|·|x_k| (the sum of absolute terms)
// or of the activation quantization step, the natural scales of a dot product's error.

/// Float paths vs an f64 reference: a length-n float sum (any order, with or without FMA) is
/// off by at most about n·2⁻²⁴·B; n <= 1536 gives 9.2e-5·B. Use 1e-4·B.
let kFloatDotLimit = 1e-4
/// Integer paths vs the f64 reference of the same integer arithmetic (Σ_b dw·da·isum):
/// the int32 partial sums are exact; only their float scaling and accumulation (≤ 48 blocks ×
/// 16 lanes, ≈ 30 roundings deep, 30·2⁻²⁴ ≈ 1.8e-6) differ. Partial sums may cancel, so the
/// scale is A = Σ_b |dw·da|·Σ_k |w_k·a_k|. Use 1e-5·A.
let kIntDotLimit = 1e-5
/// Quantizing the activations: each a_k moves by at most da_b/2 (da = amax_b/127), so an
/// integer path may differ from the float (dequantize-and-dot) path by Σ_k |w_k|·da_b/2;
/// plus kFloatDotLimit·B for the float sums themselves.
let kActQuantHalfStep = 0.5
/// The bf16 path for quantized weights (n >= 64 on AVX-512 BF16): the exact dequantized weight
/// and the activation are each rounded to bf16 (relative error <= 2⁻⁹ each), so each product is
/// off by <= ~2⁻⁸·|w·x|; plus kFloatDotLimit·B for the float sums.
let kBF16DotLimit = 1.0 / 256 + kFloatDotLimit

let kAllTypes: [ElementType] = [.f32, .f16, .bf16, .q8_0, .q4_0]
/// (rows, cols) pairs: odd row counts around the 16-row slices and 4-row tiles, cols multiples of 32.
let kShapes: [(Int, Int)] = [(1, 32), (3, 64), (7, 96), (15, 768), (17, 32), (31, 1536), (33, 96),
                             (127, 64), (768, 768), (5, 1536)]
/// Activation rows: matvec, a partial 4-tile, and more than one 64-row panel.
let kBatches = [1, 3, 6, 70]

/// f64 references for y = W x for one (row, activation) pair.
struct Reference {
    var exact = 0.0, absSum = 0.0  // Σ w·x and Σ |w·x| with dequantized w and f32 x
    var int = 0.0, intAbs = 0.0  // Σ_b dw·da·isum and Σ_b |dw·da|·Σ_k |w_k·a_k| (quantized only)
    var actStep = 0.0  // Σ_b da_b/2 · Σ_k |w_k|
}

func references(_ type: ElementType, bytes: [UInt8], w: [Float], x: [Float], n: Int, rows: Int, cols: Int) -> [Reference] {
    var out = [Reference](repeating: Reference(), count: n * rows)
    // Quantized activations, exactly as the kernels see them: the scalar quantizer, checked
    // against NumPy goldens in QuantGoldenTests (the dispatched one is checked against both).
    var aq = [Int8](), ad = [Float]()
    if type.isQuantized {
        let bytesNeeded = csvae_qact_bytes(n, cols)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: bytesNeeded, alignment: 64)
        defer { scratch.deallocate() }
        var qa = csvae_qact_bind(scratch, n, cols)
        x.withUnsafeBufferPointer { csvae_qact_quantize_scalar(&qa, $0.baseAddress, Int32(type.rawValue), n, cols) }
        aq = Array(UnsafeBufferPointer(start: qa.q, count: n * cols))
        ad = (0..<(n * cols / 32)).map { qa.d[$0 * 8] }
    }
    let nb = cols / 32, bb = type.blockBytes
    for i in 0..<n {
        for r in 0..<rows {
            var ref = Reference()
            for k in 0..<cols {
                let t = Double(w[r * cols + k]) * Double(x[i * cols + k])
                ref.exact += t
                ref.absSum += abs(t)
            }
            if type.isQuantized {
                for b in 0..<nb {
                    let o = (r * nb + b) * bb
                    let dw = Double(HalfConversion.float(f16Bits: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
                    var isum = 0, iabs = 0, wabs = 0.0
                    for k in 0..<32 {
                        let code: Int = type == .q8_0 ? Int(Int8(bitPattern: bytes[o + 2 + k]))
                            : (k < 16 ? Int(bytes[o + 2 + k] & 15) - 8 : Int(bytes[o + 2 + k - 16] >> 4) - 8)
                        isum += code * Int(aq[i * cols + b * 32 + k])
                        iabs += abs(code * Int(aq[i * cols + b * 32 + k]))
                        wabs += abs(Double(w[r * cols + b * 32 + k]))
                    }
                    let da = Double(ad[i * nb + b])
                    ref.int += dw * da * Double(isum)
                    ref.intAbs += abs(dw * da) * Double(iabs)
                    ref.actStep += kActQuantHalfStep * da * wabs
                }
            }
            out[i * rows + r] = ref
        }
    }
    return out
}

/// Largest ratio |error| / limit over all outputs (<= 1 passes), with a description. A
/// non-finite output (say a NaN the kernel never overwrote) or a wrong output count gives +inf.
func worst(_ y: [Float], _ refs: [Reference], _ limit: (Reference) -> (Double, Double)) -> (Double, String) {
    guard y.count == refs.count else { return (.infinity, "\(y.count) outputs, want \(refs.count)") }
    var worst = 0.0, what = ""
    for (j, ref) in refs.enumerated() {
        let (target, lim) = limit(ref)
        let ratio = errorRatio(Double(y[j]), target, limit: lim)
        if !(ratio <= worst) { worst = ratio; what = "output \(j): got \(y[j]), want \(target) ± \(lim)" }
        if ratio == .infinity { break }
    }
    return (worst, what)
}

@Suite struct MatMulTests {
    @Test(arguments: kAllTypes)
    func everyPathMatchesTheReference(type: ElementType) throws {
        try checkPaths(type, shapes: kShapes, batches: kBatches)
    }

    /// Rows of up to 128 blocks take the AVX-512 batched kernel with per-call weight panels
    /// (rows_quant_panels); longer rows (130 blocks, and 131: an odd last block) the kernel
    /// unpacking per tile.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func longRowsInBatches(type: ElementType) throws {
        try checkPaths(type, shapes: [(9, 4096), (9, 4160), (6, 4192)], batches: [6])
    }

    /// The float row kernels called directly (KernelContext sends float batches to OpenBLAS
    /// or to them depending on OpenBLAS's core): 4-row weight groups, leftover rows, one panel
    /// (with prefetch) and several.
    @Test(arguments: [ElementType.f32, .f16, .bf16])
    func floatRowKernelsInBatches(type: ElementType) throws {
        let rows = 37, cols = 790
        let (bytes, w) = try randomWeights(type, rows: rows, cols: cols, seed: 31)
        for n in [4, 6, 70] {
            var rng = SeededRNG(UInt64(n))
            let x = rng.floats(n * cols)
            let refs = references(type, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
            for path in testedPaths() {
                var y = [Float](repeating: .nan, count: n * rows)
                bytes.withUnsafeBytes { wb in x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
                    csvae_matmul_rows(yb.baseAddress, rows, wb.baseAddress, Int32(type.rawValue), xb.baseAddress, nil,
                                      path.rawValue, 0, n, 0, rows, cols)
                } } }
                let (r, what) = worst(y, refs) { ($0.exact, kFloatDotLimit * $0.absSum) }
                #expect(r <= 1, "\(type) \(path) n=\(n): \(what)")
            }
        }
    }

    /// f32 batches on the AVX-512 path take the packed kernel (activations in 16-row panels,
    /// weights broadcast): 6-row weight groups and a 5-row tail, 1 to 4 panels per tile with a
    /// partial last panel, 8-panel blocks (n = 300: 8 + 8 + 3 panels), columns not a multiple
    /// of 16, 1 and 2 threads, with and without the fused bias + ReLU epilogue, against the f64
    /// reference.
    @Test func packedF32KernelWithEpilogue() throws {
        let rows = 41, cols = 790
        let (bytes, w) = try randomWeights(.f32, rows: rows, cols: cols, seed: 41)
        var brng = SeededRNG(42)
        let bias = brng.floats(rows)
        try bytes.withWeight(.f32, rows: rows, cols: cols) { wm in
            let probe = try KernelContext(threads: 1, path: .best)
            #expect(!probe.usesPackedF32(wm, n: 1))
            #expect(probe.usesPackedF32(wm, n: 2) == (probe.path == .avx512))
            #expect(probe.usesPackedF32(wm, n: 1024) == (probe.path == .avx512 && !KernelContext.blasHasAVX512))
            for n in [2, 17, 50, 300] {
                var rng = SeededRNG(UInt64(n))
                let x = rng.floats(n * cols)
                let refs = references(.f32, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
                for path in testedPaths() {
                    for threads in [1, 2] {
                        let context = try KernelContext(threads: threads, path: path)
                        for fused in [false, true] {
                            let (r, what) = linearError(context, wm, x: x, n: n, rows: rows, bias: fused ? bias : nil, refs: refs)
                            #expect(r <= 1, "f32 \(path) \(threads)T n=\(n) fused \(fused): \(what)")
                        }
                    }
                }
            }
        }
    }

    /// The f32 `linear` of x against the f64 references, with bias + ReLU when `bias` is given:
    /// the worst error in units of kFloatDotLimit * sum |w x| + 1e-6 (r <= 1 passes) and where it is.
    /// ReLU: a negative reference may come out as 0 (and a reference within the limit of 0 either way).
    func linearError(_ context: KernelContext, _ wm: WeightMatrix, x: [Float], n: Int, rows: Int, bias: [Float]?,
                     refs: [Reference]) -> (Double, String) {
        var y = [Float](repeating: .nan, count: n * rows)
        let b = bias ?? []
        y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { xb in b.withUnsafeBufferPointer { bb in
            context.linear(yb, wm, xb, n: n, bias: bias == nil ? nil : bb, relu: bias != nil)
        } } }
        var biased = refs
        if let bias { for i in 0..<biased.count { biased[i].exact += Double(bias[i % rows]) } }
        return worst(y, biased) { ref in (bias == nil ? ref.exact : max(ref.exact, 0), kFloatDotLimit * ref.absSum + 1e-6) }
    }

    /// The packed f32 kernel's one-panel loop (n <= 16, and the last panel of a longer batch:
    /// prefetch rounds of 16 columns, unrolled) and its plain loop (2-4 panels), at every batch
    /// size 1...17 and 129 (n = 1 goes to sgemv; 129 = an 8-panel block, then one panel), weight
    /// row counts 1, 5 (tails only), 9 and 37 (6-row groups plus tails), columns shorter than one 16-column round (15), one round plus
    /// a tail (33) and many (790), bias + ReLU on and off, against the f64 reference.
    @Test func packedF32AllBatchSizes() throws {
        for (rows, cols) in [(1, 15), (5, 33), (9, 790), (37, 33)] {
            let (bytes, w) = try randomWeights(.f32, rows: rows, cols: cols, seed: UInt64(rows * 1000 + cols))
            var brng = SeededRNG(UInt64(rows))
            let bias = brng.floats(rows)
            try bytes.withWeight(.f32, rows: rows, cols: cols) { wm in
                for n in Array(1...17) + [129] {
                    var rng = SeededRNG(UInt64(n * 7 + cols))
                    let x = rng.floats(n * cols)
                    let refs = references(.f32, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
                    for path in testedPaths() {
                        let context = try KernelContext(threads: 1, path: path)
                        for fused in [false, true] {
                            let (r, what) = linearError(context, wm, x: x, n: n, rows: rows, bias: fused ? bias : nil, refs: refs)
                            #expect(r <= 1, "f32 \(path) rows=\(rows) cols=\(cols) n=\(n) fused \(fused): \(what)")
                        }
                    }
                }
            }
        }
    }

    /// f32 products against the weights' panel copy (`PackedF32Weights`, activations broadcast
    /// against 16-row weight panels: `usesPackedWeights`, 2...packedMaxRows rows on AVX-512):
    /// row counts with partial panels and partial 3-panel blocks (1, 7, 37, 50), columns 15, 33
    /// and 790, every batch size 1...packedMaxRows + 1 (partial 8-row groups), 1 and 2 threads,
    /// bias + ReLU on and off. Each result is within the f64 reference limit and equals, bit
    /// for bit, the same call without the copy; the copy is made exactly when a call used it.
    @Test func packedWeightsKernel() throws {
        for (rows, cols) in [(1, 15), (7, 33), (37, 790), (50, 33)] {
            let (bytes, w) = try randomWeights(.f32, rows: rows, cols: cols, seed: UInt64(7000 + rows * 3 + cols))
            var brng = SeededRNG(UInt64(rows + 11))
            let bias = brng.floats(rows)
            try bytes.withWeight(.f32, rows: rows, cols: cols) { wm in
                for path in testedPaths() {
                    for threads in [1, 2] {
                        let context = try KernelContext(threads: threads, path: path)
                        let packed = PackedF32Weights(wm)
                        #expect(context.usesPackedWeights(wm, n: 1) == false)
                        #expect(context.usesPackedWeights(wm, n: KernelContext.packedMaxRows + 1) == false)
                        #expect(context.usesPackedWeights(wm, n: 2) == (path == .avx512))
                        for n in 1...(KernelContext.packedMaxRows + 1) {
                            var rng = SeededRNG(UInt64(n * 13 + cols))
                            let x = rng.floats(n * cols)
                            let refs = references(.f32, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
                            for fused in [false, true] {
                                func run(_ p: PackedF32Weights?) -> [Float] {
                                    var y = [Float](repeating: .nan, count: n * rows)
                                    y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { xb in bias.withUnsafeBufferPointer { bb in
                                        context.linear(yb, wm, xb, n: n, bias: fused ? bb : nil, relu: fused, packed: p)
                                    } } }
                                    return y
                                }
                                let y = run(packed), plain = run(nil)
                                var biased = refs
                                if fused { for i in 0..<biased.count { biased[i].exact += Double(bias[i % rows]) } }
                                let (r, what) = worst(y, biased) { ref in (fused ? max(ref.exact, 0) : ref.exact, kFloatDotLimit * ref.absSum + 1e-6) }
                                #expect(r <= 1, "f32 packed copy \(path) \(threads)T W[\(rows),\(cols)] n=\(n) fused \(fused): \(what)")
                                #expect(y.map(\.bitPattern) == plain.map(\.bitPattern),
                                        "f32 packed copy \(path) \(threads)T W[\(rows),\(cols)] n=\(n) fused \(fused): differs from the plain call")
                            }
                        }
                        #expect(packed.isMade == (path == .avx512), "\(path): copy made \(packed.isMade)")
                    }
                }
            }
        }
    }

    /// A `PackedF32Weights` of a non-f32 matrix never makes a copy, and the product is the
    /// plain one, bit for bit.
    @Test func packedWeightsOnlyForF32() throws {
        let rows = 20, cols = 64
        let (bytes, _) = try randomWeights(.q8_0, rows: rows, cols: cols, seed: 91)
        var rng = SeededRNG(92)
        let n = 16, x = rng.floats(n * cols)
        try bytes.withWeight(.q8_0, rows: rows, cols: cols) { wm in
            let context = try KernelContext(threads: 1, path: .best)
            let packed = PackedF32Weights(wm)
            #expect(!context.usesPackedWeights(wm, n: n))
            func run(_ p: PackedF32Weights?) -> [UInt32] {
                var y = [Float](repeating: .nan, count: n * rows)
                y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { xb in
                    context.linear(yb, wm, xb, n: n, bias: nil, relu: false, packed: p)
                } }
                return y.map(\.bitPattern)
            }
            #expect(run(packed) == run(nil))
            #expect(!packed.isMade)
        }
    }

    /// What the packed f32 kernel guarantees across batch sizes: each output is one FMA chain
    /// over the columns in order, whichever loop (one panel or several) and whichever position
    /// of the row in its panel, so a row's result does not depend on the batch it is in. Rows
    /// of batches 2...17 equal the same rows computed in a batch of 129, bit for bit, with
    /// and without the epilogue (1 and 2 threads). Only where the packed kernel runs
    /// (`usesPackedF32`); n = 1 (sgemv) and other paths promise only the reference limits.
    @Test func packedF32IsBatchInvariant() throws {
        let rows = 37, cols = 790, big = 129
        let (bytes, _) = try randomWeights(.f32, rows: rows, cols: cols, seed: 77)
        var rng = SeededRNG(78)
        let x = rng.floats(big * cols), bias = rng.floats(rows)
        try bytes.withWeight(.f32, rows: rows, cols: cols) { wm in
            for threads in [1, 2] {
                let context = try KernelContext(threads: threads, path: .best)
                guard context.usesPackedF32(wm, n: 2), context.usesPackedF32(wm, n: big) else { return }
                for fused in [false, true] {
                    func run(_ n: Int, from i0: Int) -> [UInt32] {
                        var y = [Float](repeating: .nan, count: n * rows)
                        y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { xb in bias.withUnsafeBufferPointer { bb in
                            context.linear(yb, wm, UnsafeBufferPointer(rebasing: xb[(i0 * cols)..<((i0 + n) * cols)]), n: n,
                                           bias: fused ? bb : nil, relu: fused)
                        } } }
                        return y.map(\.bitPattern)
                    }
                    let all = run(big, from: 0)
                    for n in 2...17 {
                        for i0 in [0, 5, big - n] {  // a batch's rows sit at other panel lanes in the big batch
                            let part = run(n, from: i0)
                            #expect(part == Array(all[(i0 * rows)..<((i0 + n) * rows)]), "\(threads)T n=\(n) from \(i0) fused \(fused)")
                        }
                    }
                }
            }
        }
    }

    /// The batched kernel for q8_0/q4_0 (n >= 4; on AVX-512 VNNI the per-call i8r-order weight
    /// panels of rows_quant_panels) called directly on every path, for n = 4...17, 32, 33, 129:
    /// row counts that leave partial 16- and 32-row slices (37, 50, 18), 3 blocks, 17 blocks (one
    /// past a 16-block K chunk) and 33 blocks (three chunks). Each result is within the integer
    /// limit of the f64 reference, and on the AVX-512 path a batch's rows equal, bit for bit, the
    /// same activation rows computed among all 129 (at other tile positions) and the same output
    /// rows computed as separate slices (16-row and partial slices, as the thread split makes).
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func quantBatchKernelIsExactAndBatchInvariant(type: ElementType) throws {
        let big = 129
        for (s, (rows, cols)) in [(37, 544), (50, 96), (18, 1056)].enumerated() {
            let (bytes, w) = try randomWeights(type, rows: rows, cols: cols, seed: UInt64(500 + s))
            var rng = SeededRNG(UInt64(600 + s))
            let x = rng.floats(big * cols)
            let refs = references(type, bytes: bytes, w: w, x: x, n: big, rows: rows, cols: cols)
            let nb = cols / 32
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: csvae_qact_bytes(big, cols), alignment: 64)
            defer { scratch.deallocate() }
            var qa = csvae_qact_bind(scratch, big, cols)
            x.withUnsafeBufferPointer { csvae_qact_quantize(&qa, $0.baseAddress, Int32(type.rawValue), big, cols) }
            /// Activation rows [i0, i0 + n) (their quantized blocks, in place) times output rows [r0, r1).
            func run(_ path: KernelPath, _ n: Int, from i0: Int, _ r0: Int = 0, _ r1: Int? = nil) -> [Float] {
                var y = [Float](repeating: .nan, count: n * rows)
                var part = csvae_qact(q: qa.q + i0 * cols, d: qa.d + i0 * nb * 8, corr: qa.corr + i0 * nb * 8)
                bytes.withUnsafeBytes { wb in y.withUnsafeMutableBufferPointer { yb in
                    csvae_matmul_rows(yb.baseAddress, rows, wb.baseAddress, Int32(type.rawValue), nil, &part,
                                      path.rawValue, 0, n, r0, r1 ?? rows, cols)
                } }
                return y
            }
            for path in testedPaths() {
                let all = run(path, big, from: 0)
                let (r, what) = worst(all, refs) { ($0.int, kIntDotLimit * $0.intAbs) }
                #expect(r <= 1, "\(type) \(path) W[\(rows),\(cols)] n=\(big): \(what)")
                for n in Array(4...17) + [32, 33] {
                    for i0 in [0, 7, big - n] {
                        let y = run(path, n, from: i0)
                        let want = Array(all[(i0 * rows)..<((i0 + n) * rows)])
                        let wrefs = Array(refs[(i0 * rows)..<((i0 + n) * rows)])
                        let (r, what) = worst(y, wrefs) { ($0.int, kIntDotLimit * $0.intAbs) }
                        #expect(r <= 1, "\(type) \(path) W[\(rows),\(cols)] n=\(n) from \(i0): \(what)")
                        if path == .avx512 {
                            #expect(y.map(\.bitPattern) == want.map(\.bitPattern), "\(type) W[\(rows),\(cols)] n=\(n) from \(i0)")
                        }
                    }
                }
                if path == .avx512 {  // output rows as separate slices (r0 multiple of 16, partial last slice)
                    var y = [Float](repeating: .nan, count: 33 * rows)
                    for r0 in stride(from: 0, to: rows, by: 16) {
                        let part = run(path, 33, from: 3, r0, min(r0 + 16, rows))
                        for i in 0..<33 { for r in r0..<min(r0 + 16, rows) { y[i * rows + r] = part[i * rows + r] } }
                    }
                    let want = Array(all[(3 * rows)..<(36 * rows)])
                    #expect(y.map(\.bitPattern) == want.map(\.bitPattern), "\(type) W[\(rows),\(cols)] 16-row slices")
                }
            }
        }
    }

    /// The job form (csvae_matmul_task, as KernelContext runs it): bias and ReLU, which the
    /// AVX-512 batched kernel applies in its epilogue and the other kernels after each task's
    /// slice, and the per-task scratch of the panels. For every path, 1 or 3 tasks, with and
    /// without scratch, n = 2 (matrix-vector), 5 and 33: the outputs equal, bit for bit,
    /// csvae_matmul_rows of the same rows followed by csvae_bias_relu (ReLU on or off).
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func quantJobAppliesBiasAndReLUExactly(type: ElementType) throws {
        for (s, (rows, cols)) in [(37, 544), (50, 96)].enumerated() {
            let (bytes, _) = try randomWeights(type, rows: rows, cols: cols, seed: UInt64(700 + s))
            var rng = SeededRNG(UInt64(800 + s))
            let bias = rng.floats(rows)
            for n in [2, 5, 33] {
                let x = rng.floats(n * cols)
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: csvae_qact_bytes(n, cols), alignment: 64)
                defer { scratch.deallocate() }
                var qa = csvae_qact_bind(scratch, n, cols)
                x.withUnsafeBufferPointer { csvae_qact_quantize(&qa, $0.baseAddress, Int32(type.rawValue), n, cols) }
                for path in testedPaths() {
                    for relu in [false, true] {
                        var want = [Float](repeating: .nan, count: n * rows)
                        bytes.withUnsafeBytes { wb in want.withUnsafeMutableBufferPointer { yb in
                            csvae_matmul_rows(yb.baseAddress, rows, wb.baseAddress, Int32(type.rawValue), nil, &qa,
                                              path.rawValue, 0, n, 0, rows, cols)
                            bias.withUnsafeBufferPointer { csvae_bias_relu(yb.baseAddress, $0.baseAddress, n, rows, relu ? 1 : 0) }
                        } }
                        for tasks in [1, 3] {
                            for withScratch in [false, true] {
                                let panels = UnsafeMutableRawPointer.allocate(byteCount: tasks * csvae_matmul_scratch_bytes(n, cols), alignment: 64)
                                defer { panels.deallocate() }
                                var y = [Float](repeating: .nan, count: n * rows)
                                bytes.withUnsafeBytes { wb in y.withUnsafeMutableBufferPointer { yb in bias.withUnsafeBufferPointer { bb in
                                    withUnsafePointer(to: &qa) { qap in
                                        var job = csvae_matmul_job(y: yb.baseAddress, ldy: rows, w: wb.baseAddress, wtype: Int32(type.rawValue),
                                                                   x: nil, qa: qap, path: path.rawValue, float_check: 0, n: n, rows: rows,
                                                                   cols: cols, bias: bb.baseAddress, relu: relu ? 1 : 0,
                                                                   scratch: withScratch ? panels : nil)
                                        for t in 0..<tasks { csvae_matmul_task(&job, t, tasks) }
                                    }
                                } } }
                                #expect(y.map(\.bitPattern) == want.map(\.bitPattern),
                                        "\(type) \(path) W[\(rows),\(cols)] n=\(n) relu \(relu), \(tasks) tasks, scratch \(withScratch)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The bf16 path (where the CPU has it): batches of 64 and more rows, row counts that are
    /// not multiples of 4 (partial weight groups), several panels, longest rows it takes.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func bf16PathInBatches(type: ElementType) throws {
        try checkPaths(type, shapes: [(37, 96), (2, 4096), (18, 64)], batches: [64, 70, 130])
        let (bytes, _) = try randomWeights(type, rows: 4, cols: 64, seed: 1)
        try bytes.withWeight(type, rows: 4, cols: 64) { wm in
            let c = try KernelContext(threads: 1, path: .best)
            #expect(!c.usesBF16(wm, n: 63))
            #expect(c.usesBF16(wm, n: 64) == (c.path == .avx512 && csvae_bf16_supported() != 0))
            #expect(!(try KernelContext(threads: 1, floatCheck: true)).usesBF16(wm, n: 64))
        }
    }

    /// Every supported path on 1 and 2 threads against the f64 references (and, for quantized
    /// weights, the float check path and the integer-vs-float bound).
    func checkPaths(_ type: ElementType, shapes: [(Int, Int)], batches: [Int]) throws {
        for (s, (rows, cols)) in shapes.enumerated() {
            let (bytes, w) = try randomWeights(type, rows: rows, cols: cols, seed: UInt64(100 + s))
            for n in batches where rows * cols * n <= 1_000_000 {
                var rng = SeededRNG(UInt64(s * 10 + n))
                let x = rng.floats(n * cols)
                let refs = references(type, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
                try bytes.withWeight(type, rows: rows, cols: cols) { wm in
                    for path in testedPaths() {
                        for threads in [1, 2] {
                            let context = try KernelContext(threads: threads, path: path)
                            let y = context.matmul(wm, x, n: n)
                            let (r, what) = context.usesBF16(wm, n: n)
                                ? worst(y, refs) { ($0.exact, kBF16DotLimit * $0.absSum) }
                                : type.isQuantized
                                ? worst(y, refs) { ($0.int, kIntDotLimit * $0.intAbs) }
                                : worst(y, refs) { ($0.exact, kFloatDotLimit * $0.absSum) }
                            #expect(r <= 1, "\(type) \(path) \(threads)T W[\(rows),\(cols)] n=\(n): \(what)")
                        }
                    }
                    if type.isQuantized {
                        // The all-float check path, and the integer path against it.
                        let yf = try KernelContext(threads: 1, path: .scalar, floatCheck: true).matmul(wm, x, n: n)
                        let (rf, wf) = worst(yf, refs) { ($0.exact, kFloatDotLimit * $0.absSum) }
                        #expect(rf <= 1, "\(type) float check W[\(rows),\(cols)] n=\(n): \(wf)")
                        let ci = try KernelContext(threads: 1)
                        let yi = ci.matmul(wm, x, n: n)
                        let (ri, wi) = ci.usesBF16(wm, n: n) ? worst(yi, refs) { ($0.exact, kBF16DotLimit * $0.absSum) }
                            : worst(yi, refs) { ($0.exact, $0.actStep + kFloatDotLimit * $0.absSum) }
                        #expect(ri <= 1, "\(type) int vs float W[\(rows),\(cols)] n=\(n): \(wi)")
                    }
                }
            }
        }
    }

    /// The vocabulary projection shape, batch 1, every path against the scalar integer path.
    @Test(arguments: [ElementType.q8_0, .q4_0, .f16])
    func vocabularyProjection(type: ElementType) throws {
        let rows = 50272, cols = 768
        var rng = SeededRNG(99)
        let src = rng.floats(rows * cols, scale: 0.05)
        let bytes = try Quantizer.encode(src, as: type)
        let x = rng.floats(cols)
        try bytes.withWeight(type, rows: rows, cols: cols) { wm in
            let ref = try KernelContext(threads: 1, path: .scalar).matmul(wm, x, n: 1)
            #expect(ref.count == rows && ref.allSatisfy(\.isFinite))
            let scale = try maxAbsDiff(ref, [Float](repeating: 0, count: rows)) // max |y| ~ 0.05·√768; reorder noise is far below 1e-4 of it
            for path in testedPaths() where path != .scalar {
                let y = try KernelContext(threads: 2, path: path).matmul(wm, x, n: 1)
                let maxDiff = try maxAbsDiff(y, ref, "\(type) \(path)")
                #expect(maxDiff <= kFloatDotLimit * scale, "\(type) \(path): max |Δ| \(maxDiff) vs scale \(scale)")
            }
        }
    }

    /// n = 1...3 (the decode matvec kernel of the AVX-512 path): block counts that leave partial
    /// 4-block quads and 16-block groups (1, 5, 13, 17, 23, 33 blocks), cols past the kernel's
    /// stack limit (257 blocks: the fallback), and results independent of the thread count.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func smallBatchesMatchTheReference(type: ElementType) throws {
        for (s, (rows, cols)) in [(37, 32), (21, 160), (19, 416), (35, 544), (18, 736), (9, 1056), (3, 8224)].enumerated() {
            let (bytes, w) = try randomWeights(type, rows: rows, cols: cols, seed: UInt64(300 + s))
            for n in 1...3 {
                var rng = SeededRNG(UInt64(400 + s * 10 + n))
                let x = rng.floats(n * cols)
                let refs = references(type, bytes: bytes, w: w, x: x, n: n, rows: rows, cols: cols)
                try bytes.withWeight(type, rows: rows, cols: cols) { wm in
                    for path in testedPaths() {
                        let one = try KernelContext(threads: 1, path: path).matmul(wm, x, n: n)
                        let (r, what) = worst(one, refs) { ($0.int, kIntDotLimit * $0.intAbs) }
                        #expect(r <= 1, "\(type) \(path) W[\(rows),\(cols)] n=\(n): \(what)")
                        for t in [2, 3] { #expect(try KernelContext(threads: t, path: path).matmul(wm, x, n: n) == one) }
                    }
                }
            }
        }
    }

    /// The dispatched activation quantizer (AVX-512 where supported) writes exactly the bytes
    /// of the scalar reference: codes, scales and lane corrections, including ties at ±0.5
    /// steps, zero blocks, tiny and large magnitudes.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func activationQuantizerMatchesScalar(type: ElementType) {
        let n = 13, cols = 768, nb = cols / 32
        var rng = SeededRNG(21)
        var x = rng.floats(n * cols)
        for k in 0..<32 { x[k] = 0 }  // a zero block
        for k in 32..<64 { x[k] = Float(k - 48) * 0.5 }  // exact halves: ties after scaling
        for k in 64..<96 { x[k] = rng.normal(1e-30) }
        for k in 96..<128 { x[k] = rng.normal(1e30) }
        x[130] = -0.0
        x[160] = -x[161].magnitude * 3  // negative block maximum
        func run(_ f: (UnsafeMutablePointer<csvae_qact>, UnsafePointer<Float>, Int32, Int, Int) -> Void) -> ([Int8], [Float], [Int32]) {
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: csvae_qact_bytes(n, cols), alignment: 64)
            defer { scratch.deallocate() }
            var qa = csvae_qact_bind(scratch, n, cols)
            x.withUnsafeBufferPointer { f(&qa, $0.baseAddress!, Int32(type.rawValue), n, cols) }
            return (Array(UnsafeBufferPointer(start: qa.q, count: n * cols)), Array(UnsafeBufferPointer(start: qa.d, count: n * nb * 8)),
                    Array(UnsafeBufferPointer(start: qa.corr, count: n * nb * 8)))
        }
        let ref = run { csvae_qact_quantize_scalar($0, $1, $2, $3, $4) }
        let got = run { csvae_qact_quantize($0, $1, $2, $3, $4) }
        #expect(got.0 == ref.0)
        #expect(got.1.map(\.bitPattern) == ref.1.map(\.bitPattern))
        #expect(got.2 == ref.2)
    }

    @Test func threadsDoNotChangeResults() throws {
        let (bytes, _) = try randomWeights(.q4_0, rows: 333, cols: 256, seed: 5)
        var rng = SeededRNG(6)
        let x = rng.floats(256 * 9)
        try bytes.withWeight(.q4_0, rows: 333, cols: 256) { wm in
            let one = try KernelContext(threads: 1).matmul(wm, x, n: 9)
            for t in [2, 3, 5] { #expect(try KernelContext(threads: t).matmul(wm, x, n: 9) == one) }
        }
    }

    @Test func weightShapeValidation() {
        let b = [UInt8](repeating: 0, count: 34)
        b.withUnsafeBytes { raw in
            #expect(throws: KernelError.notBlockMultiple(count: 40, block: 32)) { try WeightMatrix(raw, type: .q8_0, rows: 1, cols: 40) }
            #expect(throws: KernelError.sizeMismatch(expected: 68, found: 34)) { try WeightMatrix(raw, type: .q8_0, rows: 2, cols: 32) }
            #expect(throws: KernelError.sizeOverflow) { try WeightMatrix(raw, type: .f32, rows: Int.max / 2, cols: 64) }
        }
    }

    @Test(arguments: kAllTypes)
    func gatherRowDecodesOneRow(type: ElementType) throws {
        let (bytes, w) = try randomWeights(type, rows: 5, cols: 64, seed: 11)
        try bytes.withWeight(type, rows: 5, cols: 64) { wm in
            var row = [Float](repeating: 0, count: 64)
            try row.withUnsafeMutableBufferPointer { try wm.gatherRow($0, row: 3) }
            #expect(row == Array(w[(3 * 64)..<(4 * 64)]))
            #expect(throws: KernelError.indexOutOfRange(index: 5, count: 5)) {
                try row.withUnsafeMutableBufferPointer { try wm.gatherRow($0, row: 5) }
            }
        }
    }

    @Test func unsupportedPathThrows() {
        for path in KernelPath.allCases where !path.isSupported {
            #expect(throws: KernelError.unsupportedPath(path)) { try KernelContext(path: path) }
        }
    }
}

@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 3])
    func everyTaskRunsOnce(threads: Int) throws {
        let pool = try #require(ThreadPool(threads: threads))
        #expect(pool.threads == threads)
        for tasks in [0, 1, 2, 7, 64] {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(tasks, 1))
            defer { counts.deallocate() }
            counts.initialize(repeating: 0)
            for _ in 0..<50 { pool.parallelFor(tasks) { t, n in precondition(n == tasks); counts[t] += 1 } }
            #expect(counts.prefix(tasks).allSatisfy { $0 == 50 }, "\(threads) threads, \(tasks) tasks")
        }
    }
}

@Suite struct KernelCoverageTests {
    /// Every path SVAE_REQUIRE_KERNEL_PATHS names runs here (the kernel tests loop over
    /// `KernelPath.supported`, so a required path that is not supported would be skipped
    /// silently); prints what this run covers.
    @Test func requiredPathsRun() {
        let runs = KernelPath.allCases.filter(\.isSupported).map(\.description) + (csvae_bf16_supported() != 0 ? ["bf16"] : [])
        print("kernel paths covered: \(runs.joined(separator: " ")); required: \(requiredKernelPaths().joined(separator: " "))")
        for name in requiredKernelPaths() {
            #expect(kernelPathRuns(name) == true, "required kernel path \(name) \(kernelPathRuns(name) == nil ? "is unknown" : "does not run on this machine")")
        }
        #expect(KernelPath.supported.first == .scalar)
    }
}
