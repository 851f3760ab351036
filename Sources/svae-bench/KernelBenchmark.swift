// Kernel throughput against the machine's own read bandwidth and OpenBLAS, for `svae-bench
// kernels` and `svae-bench probe`; measure a release build (C is compiled without optimization
// in debug builds).
import CBLAS
import CSVAEKernels
import SVAEFormat
import SVAEKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Kernel benchmark: matvec / batched matmul per element type vs streaming read bandwidth
/// and OpenBLAS sgemm.
enum KernelBenchmark {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median and best seconds of `reps` runs of body(rep) (after one warm-up run). The best
    /// run is reported beside the median: on a shared machine it shows what the kernel does
    /// when it gets the core.
    static func timed(_ reps: Int, _ body: (Int) -> Void) -> (median: Double, best: Double) {
        body(0)
        var t = [Double]()
        for r in 0..<reps {
            let t0 = now()
            body(r + 1)
            t.append(now() - t0)
        }
        t.sort()
        return (t[t.count / 2], t[0])
    }

    /// Streaming read bandwidth (GB/s) over a 256 MB buffer with `threads` threads at once.
    static func readBandwidth(threads: Int, reps: Int, buffer: UnsafeMutableBufferPointer<Float>, pool: ThreadPool) -> Double {
        let n = buffer.count
        let base = buffer.baseAddress!
        nonisolated(unsafe) var sink: Float = 0
        let sec = timed(reps) { _ in
            pool.parallelFor(threads) { t, nt in
                let a = n * t / nt, b = n * (t + 1) / nt
                let s = csvae_stream_sum(base + a, b - a)
                if s == 1.2345 { sink += s }  // keep the sum alive
            }
        }
        return Double(n * 4) / sec.median / 1e9
    }

    /// The machine's own scaling from 1 to `threads` threads, measured with our pool: streaming
    /// read bandwidth (GB/s, 256 MB buffer split between the threads) and f32 compute (GFLOP/s
    /// of independent single-threaded OpenBLAS sgemm calls, 256 × 768 × 768, one per thread on
    /// its own data, so nothing is shared but the cores). Medians of `repetitions`.
    static func scalingProbe(threads: Int, repetitions: Int = 7)
        -> (bandwidth1: Double, bandwidthN: Double, gflops1: Double, gflopsN: Double)? {
        let reps = max(1, repetitions), nt = max(1, threads)
        guard let pool1 = ThreadPool(threads: 1), let poolN = ThreadPool(threads: nt) else { return nil }
        openblas_set_num_threads(1)  // our pool supplies the threads
        let probe = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64 << 20)
        defer { probe.deallocate() }
        probe.initialize(repeating: 1)
        let bw1 = readBandwidth(threads: 1, reps: reps, buffer: probe, pool: pool1)
        let bwN = readBandwidth(threads: nt, reps: reps, buffer: probe, pool: poolN)
        let (m, k, n) = (256, 768, 768)
        let per = m * k + k * n + m * n
        let mem = UnsafeMutableBufferPointer<Float>.allocate(capacity: per * nt)
        defer { mem.deallocate() }
        mem.initialize(repeating: 0.5)
        let base = mem.baseAddress!
        func gflops(_ pool: ThreadPool, _ count: Int) -> Double {
            let sec = timed(reps) { _ in
                pool.parallelFor(count) { t, _ in
                    let a = base + t * per, b = a + m * k, c = b + k * n
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 0, c, Int32(n))
                }
            }
            return 2 * Double(m * k * n * count) / sec.median / 1e9
        }
        return (bw1, bwN, gflops(pool1, 1), gflops(poolN, nt))
    }

    /// Peak compute of one core and of `threads` threads at once (each running its own chains):
    /// int8 multiply-adds (vpdpbusd zmm, GOP/s, 2 per multiply-add) and f32 FMA (GFLOP/s),
    /// 16 independent chains. Medians of `repetitions`; nil without AVX-512 VNNI or a pool.
    static func peakProbe(threads: Int, repetitions: Int = 7) -> (int8_1: Double, int8N: Double, f32_1: Double, f32N: Double)? {
        guard csvae_probe_peak(0, 1) > 0, let pool1 = ThreadPool(threads: 1), let poolN = ThreadPool(threads: max(1, threads)) else { return nil }
        func rate(_ pool: ThreadPool, _ kind: Int32) -> Double {
            let iters = 2_000_000
            let sec = timed(max(1, repetitions)) { _ in pool.parallelFor(pool.threads) { _, _ in _ = csvae_probe_peak(kind, iters) } }
            return Double(pool.threads) * Double(iters) * (kind == 0 ? 2048 : 512) / sec.median / 1e9
        }
        return (rate(pool1, 0), rate(poolN, 0), rate(pool1, 1), rate(poolN, 1))
    }

    struct Shape {
        let name: String
        let rows: Int, cols: Int, n: Int
    }

    /// Runs the benchmark and returns a plain-text report.
    /// - threads: the multi-thread figure's worker count (1-thread figures are always given).
    /// - repetitions: timed runs per figure (median reported; at least 5 is sensible).
    static func run(threads: Int = ThreadPool.physicalCores, repetitions: Int = 7) -> String {
        let reps = max(1, repetitions)
        var out = "svae kernel benchmark: path \(KernelPath.best), \(reps) reps (median), threads 1 and \(threads)\n"
        out += "Numbers on a shared machine are noisy; weights rotate over copies totalling >= 128 MB so they come from DRAM, not L3.\n\n"
        guard let pool1 = ThreadPool(threads: 1), let poolN = ThreadPool(threads: threads),
              let ctx1 = try? KernelContext(threads: 1), let ctxN = try? KernelContext(threads: threads) else {
            return out + "could not create thread pools\n"
        }
        // Read bandwidth probe.
        let probe = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64 << 20)  // 256 MB
        probe.initialize(repeating: 1)
        let bw1 = readBandwidth(threads: 1, reps: reps, buffer: probe, pool: pool1)
        let bwN = readBandwidth(threads: threads, reps: reps, buffer: probe, pool: poolN)
        probe.deallocate()
        out += "Columns: best and median ms; GB/s = weight bytes / median time; GFLOP/s = 2·rows·cols·n / median time.\n"
        out += "read bandwidth (streaming sum, 256 MB): 1 thread \(fmt(bw1)) GB/s, \(threads) threads \(fmt(bwN)) GB/s (scaling \(fmt(bwN / bw1))x)\n\n"

        let shapes = [
            Shape(name: "W[50272,768] x1", rows: 50272, cols: 768, n: 1),
            Shape(name: "W[2304,768] x1", rows: 2304, cols: 768, n: 1),
            Shape(name: "W[1536,768] x1", rows: 1536, cols: 768, n: 1),
            Shape(name: "W[768,1536] x1", rows: 768, cols: 1536, n: 1),
            Shape(name: "W[2304,768] x16", rows: 2304, cols: 768, n: 16),
            Shape(name: "W[768,1536] x16", rows: 768, cols: 1536, n: 16),
            Shape(name: "W[768,768] x1024", rows: 768, cols: 768, n: 1024),
            Shape(name: "W[1536,768] x1024", rows: 1536, cols: 768, n: 1024),
        ]
        out += pad("shape", 20) + pad("type", 7) + pad("best 1T", 9) + pad("ms 1T", 9) + pad("GB/s 1T", 9) + pad("GFLOP/s 1T", 11)
            + pad("ms \(threads)T", 9) + pad("GB/s \(threads)T", 9) + pad("GFLOP/s \(threads)T", 11) + "notes\n"
        var rng = BenchRNG(state: 42)
        for s in shapes {
            let src = (0..<(s.rows * s.cols)).map { _ in rng.float() * 0.05 }
            let x = (0..<(s.n * s.cols)).map { _ in rng.float() }
            var y = [Float](repeating: 0, count: s.n * s.rows)
            let flops = 2.0 * Double(s.rows * s.cols * s.n)
            var sgemm1 = 0.0
            for type in SVAEFormat.ElementType.allCases {
                guard let one = try? Quantizer.encode(src, as: type, cols: s.cols) else { continue }
                let copies = max(1, (128 << 20) / one.count + 1)
                let store = UnsafeMutableRawBufferPointer.allocate(byteCount: one.count * copies, alignment: 64)
                defer { store.deallocate() }
                one.withUnsafeBytes { src in
                    for c in 0..<copies { UnsafeMutableRawBufferPointer(rebasing: store[(c * one.count)...]).copyMemory(from: src) }
                }
                let mats = (0..<copies).compactMap { c in
                    try? WeightMatrix(UnsafeRawBufferPointer(rebasing: store[(c * one.count)..<((c + 1) * one.count)]), type: type, rows: s.rows, cols: s.cols)
                }
                let (t1, best1) = timeMatmul(ctx1, mats, x, &y, n: s.n, reps: reps)
                let tN = timeMatmul(ctxN, mats, x, &y, n: s.n, reps: reps).median
                var note = ""
                if type == .f32 && s.n > 1 { sgemm1 = t1; note = "(= OpenBLAS sgemm, our pool splits rows)" }
                if s.n == 1 && s.rows == 50272 {
                    note = "1T \(pct(Double(one.count) / t1 / 1e9 / bw1)) of 1T read bw; \(threads)T speedup \(fmt(t1 / tN))x = \(pct(t1 / tN / (bwN / bw1))) of machine scaling"
                }
                if (type == .q8_0 || type == .i8r) && s.n > 1 && sgemm1 > 0 { note = "\(fmt(sgemm1 / t1))x OpenBLAS sgemm 1T" }
                out += pad(s.name, 20) + pad("\(type)", 7) + pad(fmt(best1 * 1e3), 9) + pad(fmt(t1 * 1e3), 9) + pad(fmt(Double(one.count) / t1 / 1e9), 9)
                    + pad(fmt(flops / t1 / 1e9), 11) + pad(fmt(tN * 1e3), 9) + pad(fmt(Double(one.count) / tN / 1e9), 9)
                    + pad(fmt(flops / tN / 1e9), 11) + note + "\n"
            }
        }
        return out
    }

    static func timeMatmul(_ ctx: KernelContext, _ mats: [WeightMatrix], _ x: [Float], _ y: inout [Float], n: Int, reps: Int) -> (median: Double, best: Double) {
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                timed(reps) { r in ctx.matmul(yb, mats[r % mats.count], xb, n: n) }
            }
        }
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return v >= 100 ? String(Int(v.rounded())) : String(r)
    }
    static func pct(_ v: Double) -> String { "\(Int((v * 100).rounded()))%" }
    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
}

/// xorshift for benchmark data (no Foundation).
struct BenchRNG {
    var state: UInt64
    mutating func float() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
    }
}
