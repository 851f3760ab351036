import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
@testable import SVAEKernels

/// Element-wise ops against f64 formulas: a few f32 roundings per element (exp in libm is
/// within a few ulp), so 1e-5 relative + 1e-6 absolute.
let kOpRelLimit: Float = 1e-5
let kOpAbsLimit: Float = 1e-6

func close(_ a: Float, _ b: Double, rel: Float = kOpRelLimit, abs absLimit: Float = kOpAbsLimit) -> Bool {
    abs(Double(a) - b) <= Double(rel) * abs(b) + Double(absLimit)
}

@Suite struct OpsTests {
    @Test func layerNorm() {
        var rng = SeededRNG(21)
        for n in [1, 7, 768] {
            let x = rng.floats(n).map { $0 * 3 + 10 }  // offset mean: tests the centered variance
            let w = rng.floats(n), b = rng.floats(n)
            var y = [Float](repeating: 0, count: n)
            y.withUnsafeMutableBufferPointer { yb in
                x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in b.withUnsafeBufferPointer { bb in
                    Ops.layerNorm(yb, xb, weight: wb, bias: bb, eps: 1e-5)
                } } }
            }
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
            let v = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
            for i in 0..<n {
                let want = (Double(x[i]) - mean) / (v + 1e-5).squareRoot() * Double(w[i]) + Double(b[i])
                #expect(close(y[i], want, rel: 1e-4, abs: 1e-5), "n=\(n) i=\(i): \(y[i]) vs \(want)")
            }
        }
    }

    /// The f32 SIMD residual add + LayerNorm of the encoder against the f64 formula, on rows
    /// with an offset mean (centered variance), lengths around the 16-lane vectors.
    @Test func addLayerNormRows() {
        var rng = SeededRNG(22)
        for d in [1, 7, 16, 17, 768] {
            let rows = 3
            let x0 = rng.floats(rows * d).map { $0 * 3 + 10 }, r = rng.floats(rows * d)
            let w = rng.floats(d), b = rng.floats(d)
            for residual in [true, false] {  // x = LayerNorm(x + r), and x = LayerNorm(x) (r nil)
                var x = x0
                x.withUnsafeMutableBufferPointer { xb in
                    r.withUnsafeBufferPointer { rb in w.withUnsafeBufferPointer { wb in b.withUnsafeBufferPointer { bb in
                        Ops.addLayerNorm(xb, residual ? rb : nil, weight: wb, bias: bb, eps: 1e-5)
                    } } }
                }
                for i in 0..<rows {
                    let s = (0..<d).map { Double(residual ? x0[i * d + $0] + r[i * d + $0] : x0[i * d + $0]) }  // the f32 sum, as the kernel stores it
                    let mean = s.reduce(0, +) / Double(d)
                    let v = s.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d)
                    for k in 0..<d {
                        let want = (s[k] - mean) / (v + 1e-5).squareRoot() * Double(w[k]) + Double(b[k])
                        #expect(close(x[i * d + k], want, rel: 1e-4, abs: 1e-5), "d=\(d) row \(i) k=\(k) residual \(residual): \(x[i * d + k]) vs \(want)")
                    }
                }
            }
        }
    }

    @Test func softmaxIsStable() {
        var x: [Float] = [1000, 999, -1e30, 998]
        x.withUnsafeMutableBufferPointer { Ops.softmax($0) }
        let e = [1.0, exp(-1.0), 0, exp(-2.0)], s = e.reduce(0, +)
        for i in 0..<4 { #expect(close(x[i], e[i] / s), "\(i): \(x[i])") }
        var masked: [Float] = [-.infinity, -.infinity]
        masked.withUnsafeMutableBufferPointer { Ops.softmax($0) }
        #expect(masked == [0, 0])
    }

    @Test func addsAndBiasReLU() {
        var rng = SeededRNG(22)
        let x = rng.floats(100, scale: 3), z = rng.floats(100)
        var y = [Float](repeating: 0, count: 100)
        y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { xb in z.withUnsafeBufferPointer { Ops.add(yb, xb, $0) } } }
        #expect(y == zip(x, z).map { $0 + $1 })
        // Bias and ReLU in one pass, 10 and 37 columns (a masked 16-lane tail); no bias, ReLU only.
        for cols in [10, 25] {
            let rows = x.count / cols, n = rows * cols
            for relu in [false, true] {
                var m = Array(x[0..<n])
                m.withUnsafeMutableBufferPointer { mb in z.withUnsafeBufferPointer { Ops.addBias(mb, UnsafeBufferPointer(rebasing: $0[0..<cols]), cols: cols, relu: relu) } }
                #expect(m == (0..<n).map { relu ? max(x[$0] + z[$0 % cols], 0) : x[$0] + z[$0 % cols] }, "cols \(cols) relu \(relu)")
            }
            var m = Array(x[0..<n])
            m.withUnsafeMutableBufferPointer { Ops.addBias($0, nil, cols: cols, relu: true) }
            #expect(m == x[0..<n].map { max($0, 0) })
        }
    }

    /// Pooling of the encoder's token rows: the plain sum, and learnable add (each row weighted by
    /// w · row + b), against f64 sums, d around the 16-lane vectors.
    @Test func poolRows() {
        var rng = SeededRNG(26)
        for d in [1, 16, 21, 768] {
            let rows = 5
            let x = rng.floats(rows * d), w = rng.floats(d), b: Float = 0.25
            for learnable in [false, true] {
                var out = [Float](repeating: .nan, count: d)
                out.withUnsafeMutableBufferPointer { o in x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in
                    Ops.pool(o, xb, weight: learnable ? (wb, b) : nil)
                } } }
                for k in 0..<d {
                    var want = 0.0
                    for t in 0..<rows {
                        let alpha = learnable ? (0..<d).reduce(Double(b)) { $0 + Double(w[$1]) * Double(x[t * d + $1]) } : 1
                        want += alpha * Double(x[t * d + k])
                    }
                    #expect(close(out[k], want, rel: 1e-4, abs: 1e-4), "d=\(d) learnable \(learnable) k=\(k): \(out[k]) vs \(want)")
                }
            }
        }
    }

    /// f64 attention for one query, one head.
    func naive(q: [Float], k: [Float], v: [Float], keys: [Int], scale: Float, head: Int, hd: Int, ld: Int) -> [Double] {
        if keys.isEmpty { return [Double](repeating: 0, count: hd) }
        let s = keys.map { j in (0..<hd).reduce(0.0) { $0 + Double(q[head * hd + $1]) * Double(k[j * ld + head * hd + $1]) } * Double(scale) }
        let m = s.max()!, e = s.map { exp($0 - m) }, tot = e.reduce(0, +)
        return (0..<hd).map { d in zip(keys, e).reduce(0.0) { $0 + $1.1 / tot * Double(v[$1.0 * ld + head * hd + d]) } }
    }

    @Test func attentionOneQuery() {
        var rng = SeededRNG(23)
        let heads = 3, hd = 8, t = 11, ld = heads * hd + 5  // padded cache rows
        let q = rng.floats(heads * hd), k = rng.floats(t * ld), v = rng.floats(t * ld)
        for len in [1, 6, 11] {
            var out = [Float](repeating: .nan, count: heads * hd), scratch = [Float](repeating: 0, count: t)
            out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { s in
                q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                    Ops.attention(out: o, scratch: s, q: qb, k: kb, v: vb, scale: 0.35, heads: heads, headDim: hd, length: len, kvStride: ld)
                } } }
            } }
            for h in 0..<heads {
                let want = naive(q: q, k: k, v: v, keys: Array(0..<len), scale: 0.35, head: h, hd: hd, ld: ld)
                for d in 0..<hd { #expect(close(out[h * hd + d], want[d], rel: 1e-4, abs: 1e-5), "len \(len) head \(h) d \(d)") }
            }
        }
    }

    /// The batched decoder's step: one query per row, each over its own cache, against f64
    /// attention. Rows of every length 1 ... 17 (around the 16-key chunks) and one of length 0
    /// in one call, in mixed order; head sizes around the 16- and 64-column tiles. Cache rows past
    /// a row's length, the cache's padding columns and the other columns of the fused q|k|v rows
    /// hold NaN: the kernel must never read them. Each row alone gives the same bits.
    @Test(arguments: [(1, 64), (3, 20), (12, 64), (2, 100), (4, 1)])
    func attentionRowsOwnCaches(heads: Int, hd: Int) {
        var rng = SeededRNG(27)
        let w = heads * hd, ld = w + 3, qStride = 3 * w, most = 17
        let lengths = [9, 1, 17, 0, 4, 16, 2, 11, 5, 13, 3, 15, 6, 8, 10, 12, 14, 7]
        let rows = lengths.count
        var q = [Float](repeating: .nan, count: rows * qStride)
        for i in 0..<rows { for j in 0..<w { q[i * qStride + j] = rng.normal(2) } }
        var caches: [(k: [Float], v: [Float])] = []
        for len in lengths {
            var k = [Float](repeating: .nan, count: most * ld), v = k
            for j in 0..<len { for c in 0..<w { k[j * ld + c] = rng.normal(2); v[j * ld + c] = rng.normal() } }
            caches.append((k, v))
        }
        func run(_ rowsRun: [Int]) -> [Float] {
            var out = [Float](repeating: .nan, count: rowsRun.count * w), scratch = [Float](repeating: .nan, count: most)
            let kp = UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>>.allocate(capacity: rowsRun.count)
            let vp = UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>>.allocate(capacity: rowsRun.count)
            var qRun = [Float](repeating: .nan, count: rowsRun.count * qStride)
            for (r, i) in rowsRun.enumerated() {
                for j in 0..<qStride { qRun[r * qStride + j] = q[i * qStride + j] }
                kp[r] = .allocate(capacity: most * ld)
                kp[r].initialize(from: caches[i].k, count: most * ld)
                vp[r] = .allocate(capacity: most * ld)
                vp[r].initialize(from: caches[i].v, count: most * ld)
            }
            defer {
                for r in 0..<rowsRun.count { kp[r].deallocate(); vp[r].deallocate() }
                kp.deallocate()
                vp.deallocate()
            }
            let keys = kp.map { Optional(UnsafePointer($0)) }, values = vp.map { Optional(UnsafePointer($0)) }
            let lens = rowsRun.map { lengths[$0] }
            out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sc in
                qRun.withUnsafeBufferPointer { qb in keys.withUnsafeBufferPointer { kb in values.withUnsafeBufferPointer { vb in
                    lens.withUnsafeBufferPointer { lb in
                        Ops.attention(out: o, scratch: sc, q: qb, qStride: qStride, keys: kb, values: vb, lengths: lb, kvStride: ld,
                                      scale: 0.3, heads: heads, headDim: hd)
                    }
                } } }
            } }
            return out
        }
        let out = run(Array(0..<rows))
        for i in 0..<rows {
            let qi = Array(q[(i * qStride)..<(i * qStride + w)])
            for h in 0..<heads {
                let want = naive(q: qi, k: caches[i].k, v: caches[i].v, keys: Array(0..<lengths[i]), scale: 0.3, head: h, hd: hd, ld: ld)
                for d in 0..<hd {
                    let got = out[i * w + h * hd + d]
                    #expect(close(got, want[d], rel: 1e-4, abs: 1e-5), "row \(i) length \(lengths[i]) head \(h) d \(d): \(got) vs \(want[d])")
                }
            }
            let alone = run([i])
            #expect(alone.elementsEqual(out[(i * w)..<((i + 1) * w)]) { $0.bitPattern == $1.bitPattern }, "row \(i) alone differs")
        }
    }

    @Test(arguments: [false, true])
    func attentionBatchedWithMask(causal: Bool) {
        var rng = SeededRNG(24)
        let heads = 2, hd = 4, t = 9, s = 5, w = heads * hd
        let q = rng.floats(s * w), k = rng.floats(t * w), v = rng.floats(t * w)
        let mask: [UInt8] = [1, 1, 0, 1, 1, 1, 0, 1, 1]
        var out = [Float](repeating: .nan, count: s * w), scratch = [Float](repeating: 0, count: t)
        out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sc in
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in mask.withUnsafeBufferPointer { mb in
                Ops.attention(out: o, scratch: sc, q: qb, k: kb, v: vb, keyMask: mb, causal: causal, scale: 0.5,
                              heads: heads, headDim: hd, queries: s, length: t)
            } } } }
        } }
        for i in 0..<s {
            let keys = (0..<t).filter { mask[$0] != 0 && (!causal || $0 <= t - s + i) }
            let qi = Array(q[(i * w)..<((i + 1) * w)])
            for h in 0..<heads {
                let want = naive(q: qi, k: k, v: v, keys: keys, scale: 0.5, head: h, hd: hd, ld: w)
                for d in 0..<hd { #expect(close(out[i * w + h * hd + d], want[d], rel: 1e-4, abs: 1e-5), "q \(i) head \(h) d \(d)") }
            }
        }
    }

    /// The encoder's self-attention of a batch of sentences over a fused QKV buffer equals
    /// per-position attention inside each sentence, up to float summation order and exp's last
    /// bits (absolute 1e-5 for values of size 1; masked 16-lane tails: head sizes 20 and 64;
    /// sentence lengths 1, 7, 16, 17 and 33 around the 16-key chunks).
    @Test(arguments: [(3, 20, [7]), (2, 64, [16]), (1, 64, [1]), (2, 64, [16, 1, 17, 33, 7]), (3, 20, [5, 16, 2])])
    func selfAttentionMatchesPerPosition(heads: Int, hd: Int, lengths: [Int]) {
        var rng = SeededRNG(25)
        let w = heads * hd, ld = 3 * w, rows = lengths.reduce(0, +)
        let qkv = rng.floats(rows * ld).map { $0 * 2 }
        var offsets = [0]
        for l in lengths { offsets.append(offsets.last! + l) }
        var out = [Float](repeating: .nan, count: rows * w), want = out
        var scratch = [Float](repeating: .nan, count: Ops.selfAttentionScratch(maxLength: lengths.max()!, headDim: hd))
        qkv.withUnsafeBufferPointer { b in scratch.withUnsafeMutableBufferPointer { sc in
            let q = UnsafeBufferPointer(rebasing: b[...]), k = UnsafeBufferPointer(rebasing: b[w...]), v = UnsafeBufferPointer(rebasing: b[(2 * w)...])
            out.withUnsafeMutableBufferPointer { o in offsets.withUnsafeBufferPointer { ob in
                Ops.selfAttention(out: o, scratch: sc, q: q, k: k, v: v, scale: 0.3, heads: heads, headDim: hd, offsets: ob, stride: ld)
            } }
            want.withUnsafeMutableBufferPointer { o in
                for (s, l) in lengths.enumerated() {
                    let s0 = offsets[s]
                    for i in s0..<(s0 + l) {
                        Ops.attention(out: UnsafeMutableBufferPointer(rebasing: o[(i * w)..<((i + 1) * w)]), scratch: sc,
                                      q: UnsafeBufferPointer(rebasing: b[(i * ld)..<(i * ld + w)]),
                                      k: UnsafeBufferPointer(rebasing: b[(s0 * ld + w)...]), v: UnsafeBufferPointer(rebasing: b[(s0 * ld + 2 * w)...]),
                                      scale: 0.3, heads: heads, headDim: hd, length: l, kvStride: ld)
                    }
                }
            }
        } }
        for j in 0..<(rows * w) { #expect(close(out[j], Double(want[j]), rel: 1e-5, abs: 1e-5), "element \(j): \(out[j]) vs \(want[j])") }
    }

    @Test func fullyMaskedQueryGetsZeros() {
        let q: [Float] = [1, 2], k: [Float] = [1, 1, 2, 2], v: [Float] = [3, 3, 4, 4], mask: [UInt8] = [0, 0]
        var out: [Float] = [.nan, .nan], scratch: [Float] = [0, 0]
        out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sc in
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in mask.withUnsafeBufferPointer { mb in
                Ops.attention(out: o, scratch: sc, q: qb, k: kb, v: vb, keyMask: mb, causal: false, scale: 1,
                              heads: 1, headDim: 2, queries: 1, length: 2)
            } } } }
        } }
        #expect(out == [0, 0])
    }
}
