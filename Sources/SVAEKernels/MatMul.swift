// MatMul.swift: matrix x vector / matrix x matrix for every element type, split over a pool.
import CBLAS
import CSVAEKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only view of a 2-D weight W [rows, cols] stored row-major as `type` (for example
/// inside a memory-mapped file). An nn.Linear weight [out, in]: y = W x.
/// `@unchecked Sendable`: the memory is never written through this view; the owner must keep
/// it alive and unchanged while views exist.
package struct WeightMatrix: @unchecked Sendable {
    package let base: UnsafeRawPointer
    package let type: ElementType
    package let rows: Int
    package let cols: Int
    /// Bytes of one row (0 for `i8r`, whose rows are interleaved in 16-row panels).
    package let rowBytes: Int

    /// Validates the shape against the byte count: throws `.notBlockMultiple` (quantized cols
    /// not a multiple of 32), `.sizeMismatch` (bytes.count != rows × row bytes), `.sizeOverflow`.
    package init(_ bytes: UnsafeRawBufferPointer, type: ElementType, rows: Int, cols: Int) throws(KernelError) {
        guard rows >= 0, cols >= 0 else { throw .sizeOverflow }
        let rb = type.isRowPanel ? 0 : try type.byteCount(elements: cols)
        let (product, overflow) = rb.multipliedReportingOverflow(by: rows)
        guard !overflow else { throw .sizeOverflow }
        let (elements, o2) = rows.multipliedReportingOverflow(by: cols)
        guard !o2 else { throw .sizeOverflow }
        let total = type.isRowPanel ? try type.byteCount(elements: elements, cols: max(cols, 1)) : product
        guard bytes.count == total else { throw .sizeMismatch(expected: total, found: bytes.count) }
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!  // empty: never read
        self.type = type
        self.rows = rows
        self.cols = cols
        rowBytes = rb
    }

    /// Row `row` as f32 into dst[cols] (embedding gather). Throws `.indexOutOfRange` for a bad
    /// row (for example an out-of-vocabulary token id). Precondition: dst.count == cols.
    package func gatherRow(_ dst: UnsafeMutableBufferPointer<Float>, row: Int) throws(KernelError) {
        precondition(dst.count == cols, "gatherRow: dst.count \(dst.count) != cols \(cols)")
        guard row >= 0, row < rows else { throw .indexOutOfRange(index: row, count: rows) }
        guard let d = dst.baseAddress else { return }
        if type.isRowPanel {
            csvae_i8r_dequantize_row(d, base.assumingMemoryBound(to: UInt8.self), row, cols)
            return
        }
        csvae_dequantize(d, base + row * rowBytes, type.c, 0, cols)
    }

    /// Asks for row `row`'s bytes ahead of a `gatherRow` of it (the embedding gather reads a large
    /// table's rows in a random order; without this each waits on memory in turn). A hint: a bad
    /// row, or an i8r table (rows interleaved in panels), asks for nothing.
    package func prefetchRow(_ row: Int) {
        if row >= 0 && row < rows && !type.isRowPanel { csvae_prefetch(base + row * rowBytes, rowBytes) }
    }
}

/// An f32 weight matrix's second copy in the kernel's panel layout (`csvae_sgemm_pack`: 16-row
/// panels of [cols][16], output rows as lanes), for products of few activation rows (one
/// sentence; `KernelContext.usesPackedWeights`): made on first use, then kept as long as this
/// object (ceil(rows / 16) × 16 × cols floats; a matrix never used that way costs nothing).
/// Safe to share between threads (the copy is made once, under a lock).
package final class PackedF32Weights: @unchecked Sendable {
    private let lock = PthreadMutex()
    private var base: UnsafeMutablePointer<Float>?
    private var failed = false
    package let rows: Int
    package let cols: Int

    /// For `w` (f32; any other type never packs).
    package init(_ w: WeightMatrix) {
        rows = w.type == .f32 ? w.rows : 0
        cols = w.cols
    }

    deinit { free(base) }

    /// Whether the copy has been made.
    package var isMade: Bool { lock.locked { base != nil } }

    /// The panels of `w` (the matrix this was made for: same rows and columns), packed on the
    /// first call; nil when `w` is not f32, this CPU has no packed kernel or memory ran out.
    func panels(of w: WeightMatrix) -> UnsafePointer<Float>? {
        guard w.type == .f32, w.rows == rows, w.cols == cols, rows > 0, cols > 0 else { return nil }
        return lock.locked {
            if base == nil && !failed {
                var p: UnsafeMutableRawPointer?
                let bytes = csvae_sgemm_pack_floats(rows, cols) * MemoryLayout<Float>.size
                if csvae_sgemm_supported() != 0 && posix_memalign(&p, 64, bytes) == 0, let p {
                    let f = p.assumingMemoryBound(to: Float.self)
                    csvae_sgemm_pack(f, w.base.assumingMemoryBound(to: Float.self), rows, cols)
                    base = f
                } else {
                    failed = true
                }
            }
            return base.map { UnsafePointer($0) }
        }
    }
}

/// Everything a caller thread needs to run the matrix kernels: a dispatch path, a thread pool
/// and reusable scratch for quantized activations (grown on demand, never shrunk, so steady
/// state calls allocate nothing).
///
/// OpenBLAS threading: the first context sets `openblas_set_num_threads(1)`; f32 products are
/// split by output rows over *our* pool, each worker calling single-threaded `cblas_sgemm`
/// (OpenBLAS's own threads would fight the pool for the same two cores).
///
/// `@unchecked Sendable`: all mutable state (scratch) is touched only under `lock`, so
/// concurrent calls from several threads are safe; they take turns.
public final class KernelContext: @unchecked Sendable {
    /// The implementation used by this context.
    public let path: KernelPath
    /// When true, quantized weights use the all-float check path (dequantize + f32 dot)
    /// instead of integer dot products. For tests.
    public let floatCheck: Bool
    /// The pool splitting output rows.
    public let pool: ThreadPool
    private let lock = PthreadMutex()
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    private static let blasInit: Void = { openblas_set_num_threads(1) }()

    /// Throws `.unsupportedPath` if this CPU cannot run `path`, `.threadPoolUnavailable` if the
    /// pool cannot be allocated.
    /// `threads` < 1 means 1. Returns with `pool.threads` possibly lower if threads failed to start.
    public init(threads: Int = ThreadPool.physicalCores, path: KernelPath = .best, floatCheck: Bool = false) throws(KernelError) {
        guard path.isSupported else { throw .unsupportedPath(path) }
        guard let p = ThreadPool(threads: threads) else { throw .threadPoolUnavailable }
        self.path = path
        self.floatCheck = floatCheck
        pool = p
        _ = Self.blasInit
    }

    deinit { free(scratch) }

    private let attachmentLock = PthreadMutex()
    private var attachments: [ObjectIdentifier: AnyObject] = [:]

    /// Runs `body` with this context's instance of `T` (for example a higher layer's scratch
    /// buffers), made by `make` on first use and kept as long as the context, so steady-state
    /// callers allocate nothing. Calls on one context take turns (the instance is never shared
    /// by two bodies at once); `body` may run products on this context, not `withAttachment`.
    public func withAttachment<T: AnyObject, R, E: Error>(_ make: () -> T, _ body: (T) throws(E) -> R) throws(E) -> R {
        try attachmentLock.locked { () throws(E) -> R in
            let key = ObjectIdentifier(T.self)
            let a: T
            if let found = attachments[key] {
                a = unsafeDowncast(found, to: T.self)
            } else {
                a = make()
                attachments[key] = a
            }
            return try body(a)
        }
    }

    private var workerContexts: [KernelContext] = []
    /// One single-threaded context per pool worker (same path and check mode), created on first
    /// use and kept: for splitting a batch by independent items (for example sentences), each
    /// worker running whole products of its own. Empty for a one-thread pool.
    package func workers() -> [KernelContext] {
        lock.locked {
            if workerContexts.isEmpty && pool.threads > 1 {
                workerContexts = (0..<pool.threads).compactMap { _ in try? KernelContext(threads: 1, path: path, floatCheck: floatCheck) }
            }
            return workerContexts
        }
    }

    private func ensureScratch(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchBytes || scratch == nil {
            free(scratch)
            var p: UnsafeMutableRawPointer?
            let size = max(bytes, 64)
            precondition(posix_memalign(&p, 64, size) == 0, "out of memory for \(size) bytes of scratch")
            scratch = p
            scratchBytes = size
        }
        return scratch!
    }

    /// Y[n, w.rows] = X[n, w.cols] · Wᵀ (row i of Y is W · row i of X).
    ///
    /// - y: n × w.rows floats (row stride w.rows); x: n × w.cols floats.
    /// Preconditions (programmer errors): n >= 0, the buffers hold at least those counts.
    /// f32 weights with n >= 2 take our packed AVX-512 kernel on the AVX-512 path
    /// (`usesPackedF32`; OpenBLAS from `blasMinRows` rows when it has an AVX-512 sgemm), else
    /// `cblas_sgemm`; f16/bf16 weights with n >= 16 go through `cblas_sgemm`
    /// (except on the scalar path, and for n >= 4 on the AVX-512 path when OpenBLAS has no
    /// AVX-512 kernel: see `blasHasAVX512`; 16- and 2-byte weights are converted to f32 64 rows at a time); quantized
    /// weights quantize X to int8 blocks once per call, then use integer dot products (or, for
    /// n >= 64 on AVX-512 BF16, round X to bf16 and dequantize W to bf16: `usesBF16`).
    package func matmul(_ y: UnsafeMutableBufferPointer<Float>, _ w: WeightMatrix,
                       _ x: UnsafeBufferPointer<Float>, n: Int) {
        linear(y, w, x, n: n, bias: nil, relu: false)
    }

    /// Y[n, w.rows] = X · Wᵀ + bias (each row), then max(·, 0) when `relu`: `matmul` with the
    /// bias and ReLU fused into the `i8r` kernel's epilogue (other types add them after the
    /// product). bias: nil or w.rows floats.
    ///
    /// `packed`: the same f32 matrix's panel copy (`PackedF32Weights`), used for 2...`packedMaxRows`
    /// activation rows on the AVX-512 path (`usesPackedWeights`), made on that first use.
    package func linear(_ y: UnsafeMutableBufferPointer<Float>, _ w: WeightMatrix, _ x: UnsafeBufferPointer<Float>, n: Int,
                       bias: UnsafeBufferPointer<Float>?, relu: Bool, packed: PackedF32Weights? = nil) {
        precondition(n >= 0 && y.count >= n * w.rows && x.count >= n * w.cols, "matmul: buffers too short for n=\(n), W [\(w.rows), \(w.cols)]")
        precondition(bias == nil || bias!.count == w.rows, "linear: bias has \(bias!.count) values for \(w.rows) rows")
        guard n > 0, w.rows > 0, let yp = y.baseAddress else { return }
        if w.type == .i8r && w.cols > 0 && !floatCheck {
            lock.locked { i8r(yp, w, x.baseAddress!, n: n, bias: bias?.baseAddress, relu: relu) }
            return
        }
        if let packed, usesPackedWeights(w, n: n), let wp = packed.panels(of: w) {
            var job = csvae_sgemm_job(y: yp, ldy: w.rows, w: wp, xt: x.baseAddress!, bias: bias?.baseAddress,
                                      relu: relu ? 1 : 0, n: n, rows: w.rows, cols: w.cols)  // W in panels, X as is
            let tasks = min(pool.threads == 1 ? 1 : pool.threads * 4, (w.rows + 15) / 16)
            withUnsafeMutablePointer(to: &job) { pool.run(csvae_sgemm_wp_task, UnsafeMutableRawPointer($0), tasks: tasks) }
            return
        }
        if usesPackedF32(w, n: n) {
            lock.locked { packedF32(yp, w, x.baseAddress!, n: n, bias: bias?.baseAddress, relu: relu) }
            return
        }
        if !product(yp, w, x, n: n, bias: bias?.baseAddress, relu: relu) {
            Ops.addBias(UnsafeMutableBufferPointer(start: yp, count: n * w.rows), bias, cols: w.rows, relu: relu)
        }
    }

    /// Per-row int8 product: activations quantized per row once, then the panel kernel split
    /// by slices of output rows over the pool, bias and ReLU in its epilogue. With `ids`: no Y;
    /// each task keeps per-row, per-lane bests and ids[i] is row i's argmax (csvae_i8r_job).
    private func i8r(_ yp: UnsafeMutablePointer<Float>?, _ w: WeightMatrix, _ xp: UnsafePointer<Float>, n: Int,
                     bias: UnsafePointer<Float>?, relu: Bool, ids: UnsafeMutablePointer<Int32>? = nil) {
        let tasks = min(pool.threads == 1 ? 1 : pool.threads * 4, (w.rows + 31) / 32)
        let actBytes = (csvae_i8r_act_bytes(n, w.cols) + 63) / 64 * 64, lanes = ids == nil ? 0 : tasks * n * 16
        let s = ensureScratch(actBytes + lanes * 8)
        var a = csvae_i8r_act_bind(s, n, w.cols, path.rawValue)
        csvae_i8r_act_quantize(&a, xp, n, w.cols)
        let bestV = ids == nil ? nil : (s + actBytes).bindMemory(to: Float.self, capacity: lanes)
        let bestI = ids == nil ? nil : (s + actBytes + lanes * 4).bindMemory(to: Int32.self, capacity: lanes)
        bestV?.initialize(repeating: -.infinity, count: lanes)
        bestI?.initialize(repeating: 0, count: lanes)
        withUnsafePointer(to: &a) { ap in
            var job = csvae_i8r_job(y: yp, ldy: w.rows, w: w.base, a: ap, bias: bias, relu: relu ? 1 : 0,
                                    path: path.rawValue, n: n, rows: w.rows, cols: w.cols, best_v: bestV, best_i: bestI)
            withUnsafeMutablePointer(to: &job) { pool.run(csvae_i8r_task, UnsafeMutableRawPointer($0), tasks: tasks) }
        }
        if let ids { csvae_i8r_argmax_merge(ids, bestV, bestI, tasks, n) }
    }

    /// Whether `linearArgmax` on `w` skips the logits (the i8r kernel's argmax mode); otherwise it
    /// writes them to its `logits` buffer first.
    package func fusesArgmax(_ w: WeightMatrix) -> Bool { w.type == .i8r && w.cols > 0 && !floatCheck }

    /// ids[i] = the first index of the largest value of row i of X · Wᵀ (+ bias) (`Ops.argmax`'s
    /// rule: ties to the smallest index, NaN never wins, 0 when no value exceeds −∞), for greedy
    /// decoding. i8r weights (`fusesArgmax`) compare the outputs in the kernel's epilogue, so the
    /// [n, w.rows] logits are never written; other types compute them into `logits` (n × w.rows
    /// floats) and scan each row. The same ids either way: the epilogue's values are the bits
    /// `linear` would have written.
    package func linearArgmax(_ ids: UnsafeMutableBufferPointer<Int32>, _ w: WeightMatrix, _ x: UnsafeBufferPointer<Float>, n: Int,
                              bias: UnsafeBufferPointer<Float>?, logits: UnsafeMutableBufferPointer<Float>,
                              packed: PackedF32Weights? = nil) {
        precondition(n >= 0 && ids.count >= n && x.count >= n * w.cols, "linearArgmax: buffers too short for n=\(n), W [\(w.rows), \(w.cols)]")
        precondition(bias == nil || bias!.count == w.rows, "linearArgmax: bias has \(bias!.count) values for \(w.rows) rows")
        guard n > 0 else { return }
        if fusesArgmax(w) && w.rows > 0 {
            lock.locked { i8r(nil, w, x.baseAddress!, n: n, bias: bias?.baseAddress, relu: false, ids: ids.baseAddress!) }
            return
        }
        linear(logits, w, x, n: n, bias: bias, relu: false, packed: packed)
        for i in 0..<n { ids[i] = Ops.argmax(UnsafeBufferPointer(rebasing: logits[(i * w.rows)..<((i + 1) * w.rows)])) }
    }

    /// Activation rows from which f32 products go to OpenBLAS rather than our packed kernel when
    /// OpenBLAS has an AVX-512 sgemm (`blasHasAVX512`). Measured on one core of this machine
    /// (CPU time, OPENBLAS_CORETYPE=SkylakeX forced on OpenBLAS 0.3.21, which otherwise detects
    /// this CPU as Prescott): at n = 16 our kernel 105–115 GFLOP/s against OpenBLAS's 31–42; at
    /// n = 1024 77–120 against 106–139 (16 × / 1024 × {2304, 768, 1536} × 768 and 768 × 1536).
    static let blasMinRows = 256

    /// Whether f32 `w` times n rows runs our AVX-512 packed kernel (`csvae_sgemm_task`): batches
    /// (n ≥ 2) on the AVX-512 path unless OpenBLAS's own AVX-512 sgemm takes n ≥ `blasMinRows`.
    func usesPackedF32(_ w: WeightMatrix, n: Int) -> Bool {
        w.type == .f32 && n >= 2 && w.cols > 0 && path == .avx512 && !(Self.blasHasAVX512 && n >= Self.blasMinRows)
    }

    /// Activation rows up to which f32 products with a `PackedF32Weights` copy broadcast the
    /// activations against the weight panels (`csvae_sgemm_wp_task`) rather than the weights
    /// against activation panels. Measured on one core of this machine (the four products of a
    /// svae-768 encoder layer, weights in L3, both kernels alternated in one process): n = 16
    /// 117-125 GFLOP/s against 105-112, n = 13 118 against 91, n = 24 129 against 111, n = 32
    /// 132 against 142.
    package static let packedMaxRows = 24

    /// Whether f32 `w` times n rows uses its `PackedF32Weights` copy when the caller has one:
    /// 2...`packedMaxRows` rows on the AVX-512 path (the packed copy gives the same bits as
    /// `usesPackedF32`'s kernel: each output one FMA chain over the columns in order).
    package func usesPackedWeights(_ w: WeightMatrix, n: Int) -> Bool {
        w.type == .f32 && n >= 2 && n <= Self.packedMaxRows && w.cols > 0 && path == .avx512
    }

    /// The packed f32 kernel: X packed into 16-row panels once (this context's scratch), then
    /// output-row slices over the pool, bias and ReLU in the epilogue.
    private func packedF32(_ yp: UnsafeMutablePointer<Float>, _ w: WeightMatrix, _ xp: UnsafePointer<Float>, n: Int,
                           bias: UnsafePointer<Float>?, relu: Bool) {
        let xt = ensureScratch(csvae_sgemm_pack_floats(n, w.cols) * MemoryLayout<Float>.size).assumingMemoryBound(to: Float.self)
        csvae_sgemm_pack(xt, xp, n, w.cols)
        let tasks = min(pool.threads == 1 ? 1 : pool.threads * 4, (w.rows + 15) / 16)
        var job = csvae_sgemm_job(y: yp, ldy: w.rows, w: w.base.assumingMemoryBound(to: Float.self), xt: xt, bias: bias,
                                  relu: relu ? 1 : 0, n: n, rows: w.rows, cols: w.cols)
        withUnsafeMutablePointer(to: &job) { pool.run(csvae_sgemm_task, UnsafeMutableRawPointer($0), tasks: tasks) }
    }

    /// Y = X · Wᵀ, and the bias and ReLU when the kernel took them (the quantized kernels'
    /// tasks: returns true); otherwise (returns false) the caller adds them.
    @discardableResult
    private func product(_ yp: UnsafeMutablePointer<Float>, _ w: WeightMatrix, _ x: UnsafeBufferPointer<Float>, n: Int,
                         bias: UnsafePointer<Float>? = nil, relu: Bool = false) -> Bool {
        if w.cols == 0 {
            yp.update(repeating: 0, count: n * w.rows)
            return false
        }
        if w.type == .i8r {  // the float check: dequantize each row, f32 dot products
            var row = [Float](repeating: 0, count: w.cols)
            for r in 0..<w.rows {
                row.withUnsafeMutableBufferPointer { csvae_i8r_dequantize_row($0.baseAddress, w.base.assumingMemoryBound(to: UInt8.self), r, w.cols) }
                for i in 0..<n {
                    var s: Float = 0
                    for k in 0..<w.cols { s += row[k] * x[i * w.cols + k] }
                    yp[i * w.rows + r] = s
                }
            }
            return false
        }
        let xp = x.baseAddress!
        return lock.locked {
            // OpenBLAS for f32 (n >= 2) and for f16/bf16 batches (n >= 16: the conversion of
            // the weights to f32 is then amortized over enough activation rows).
            if path != .scalar && !(path == .avx512 && n >= 4 && !Self.blasHasAVX512) && ((w.type == .f32 && n >= 2) || ((w.type == .f16 || w.type == .bf16) && n >= 16)) {
                sgemm(yp, w, xp, n: n)
                return false
            }
            // f32 batch 1: OpenBLAS sgemv streams the weights at DRAM speed (our f32 row kernel,
            // made for batches, reached ≈ 8 GB/s on one row when this was measured).
            if path != .scalar && w.type == .f32 && n == 1 {
                sgemv(yp, w, xp)
                return false
            }
            // Several tasks per worker: tasks are claimed dynamically, so a worker that
            // wakes late (the other core busy) costs little.
            let tasks = min(pool.threads == 1 ? 1 : pool.threads * 8, (w.rows + 15) / 16)
            if usesBF16(w, n: n) {
                let xh = ensureScratch(n * w.cols * 2).assumingMemoryBound(to: UInt16.self)
                csvae_to_bf16(xh, xp, n * w.cols)
                var job = csvae_bf16_job(y: yp, ldy: w.rows, w: w.base, wtype: w.type.c, x: xh, n: n, rows: w.rows, cols: w.cols)
                withUnsafeMutablePointer(to: &job) { pool.run(csvae_matmul_bf16_task, UnsafeMutableRawPointer($0), tasks: tasks) }
                return false
            }
            // Quantized weights: the activations' blocks, then (the AVX-512 batched kernel) one
            // part per task for the weight panels, in this context's scratch.
            var qa = csvae_qact()
            var panels: UnsafeMutableRawPointer? = nil
            if w.type.isQuantized && !floatCheck {
                let qaBytes = (csvae_qact_bytes(n, w.cols) + 63) / 64 * 64
                let panelBytes = path == .avx512 && n >= 4 ? tasks * csvae_matmul_scratch_bytes(n, w.cols) : 0
                let s = ensureScratch(qaBytes + panelBytes)
                qa = csvae_qact_bind(s, n, w.cols)
                csvae_qact_quantize(&qa, xp, w.type.c, n, w.cols)
                if panelBytes > 0 { panels = s + qaBytes }
            }
            return withUnsafePointer(to: &qa) { qap in
                var job = csvae_matmul_job(y: yp, ldy: w.rows, w: w.base, wtype: w.type.c, x: xp, qa: qap,
                                           path: path.rawValue, float_check: floatCheck ? 1 : 0,
                                           n: n, rows: w.rows, cols: w.cols, bias: bias, relu: relu ? 1 : 0, scratch: panels)
                withUnsafeMutablePointer(to: &job) { jp in
                    pool.run(csvae_matmul_task, UnsafeMutableRawPointer(jp), tasks: tasks)
                }
                return true
            }
        }
    }

    /// y[w.rows] = W · x[w.cols] (batch 1). Same preconditions as `matmul`.
    package func matvec(_ y: UnsafeMutableBufferPointer<Float>, _ w: WeightMatrix, _ x: UnsafeBufferPointer<Float>) {
        matmul(y, w, x, n: 1)
    }

    /// Array convenience: returns Y [n, w.rows].
    package func matmul(_ w: WeightMatrix, _ x: [Float], n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: n * w.rows)
        y.withUnsafeMutableBufferPointer { yb in x.withUnsafeBufferPointer { matmul(yb, w, $0, n: n) } }
        return y
    }

    /// OpenBLAS sgemv for f32 batch 1, split by output rows over the pool (64-row slices).
    private func sgemv(_ y: UnsafeMutablePointer<Float>, _ w: WeightMatrix, _ x: UnsafePointer<Float>) {
        let groups = (w.rows + 63) / 64
        let tasks = min(pool.threads == 1 ? 1 : pool.threads * 4, groups)
        let rows = w.rows, cols = w.cols
        let wf = w.base.assumingMemoryBound(to: Float.self)
        pool.parallelFor(tasks) { t, nt in
            let r0 = groups * t / nt * 64, r1 = min(groups * (t + 1) / nt * 64, rows)
            guard r0 < r1 else { return }
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r1 - r0), Int32(cols), 1, wf + r0 * cols, Int32(cols), x, 1, 0, y + r0, 1)
        }
    }

    /// Whether OpenBLAS runs an AVX-512 sgemm kernel. When it does not (an old OpenBLAS, or
    /// OPENBLAS_CORETYPE=Haswell on an AVX-512 machine: ~100 GFLOP/s on one Zen 5 core against
    /// ~207 for SkylakeX), float batches of 4 or more rows on the AVX-512 path use our kernel
    /// (4 weight rows x 4 activation rows in registers, ~135-165 GFLOP/s) instead.
    static let blasHasAVX512: Bool = {
        guard let name = openblas_get_corename() else { return false }
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(String(cString: name).lowercased())
    }()
    private static let hasBF16 = csvae_bf16_supported() != 0
    /// Activation rows from which quantized weights take the bf16 path. Measured on one Zen 5
    /// core (SVAE-768 shapes): n = 1024, ~313 GFLOP/s against ~190-235 for the int8 kernel
    /// (4 vector ops per 64 MACs for the two per-block scales, against 1 per 32 here); n = 16
    /// (weights from DRAM, dequantized per 16 rows), the int8 kernel is faster (encode of one
    /// sentence ~3.7 against ~4.5-5.9 ms). Between them: one full 64-row panel.
    static let bf16MinRows = 64

    /// Whether `matmul` runs q8_0/q4_0 `w` times n rows as bf16 products (AVX-512 BF16, n >= 64,
    /// not the float check): more exact weights (code·scale rounded to bf16 rather than exact
    /// codes), activations rounded to bf16 rather than int8 blocks.
    func usesBF16(_ w: WeightMatrix, n: Int) -> Bool {
        w.type.isQuantized && !w.type.isRowPanel && !floatCheck && path == .avx512 && n >= Self.bf16MinRows && w.cols <= Int(CSVAE_BF16_MAX_COLS) && Self.hasBF16
    }
    /// Weight rows converted to f32 per sgemm call for f16/bf16 weights.
    private static let convertRows = 64

    /// OpenBLAS sgemm, split by output rows over the pool (16-row slices). f16/bf16 weights are
    /// converted to f32 in chunks of `convertRows` rows (per-task scratch) first.
    private func sgemm(_ y: UnsafeMutablePointer<Float>, _ w: WeightMatrix, _ x: UnsafePointer<Float>, n: Int) {
        let groups = (w.rows + 15) / 16
        let tasks = min(pool.threads == 1 ? 1 : pool.threads * 4, groups)
        let rows = w.rows, cols = w.cols, type = w.type, base = w.base, chunk = Self.convertRows
        let conv: UnsafeMutablePointer<Float>? = type == .f32 ? nil
            : ensureScratch(tasks * chunk * cols * MemoryLayout<Float>.size).assumingMemoryBound(to: Float.self)
        pool.parallelFor(tasks) { t, nt in
            let r0 = groups * t / nt * 16, r1 = min(groups * (t + 1) / nt * 16, rows)
            var r = r0
            while r < r1 {
                let m = type == .f32 ? r1 - r : min(chunk, r1 - r)
                let wf: UnsafePointer<Float>
                if let conv {
                    let dst = conv + t * chunk * cols
                    csvae_dequantize(dst, base, type.c, r * cols, m * cols)
                    wf = UnsafePointer(dst)
                } else {
                    wf = base.assumingMemoryBound(to: Float.self) + r * cols
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m), Int32(cols),
                            1, x, Int32(cols), wf, Int32(cols), 0, y + r, Int32(rows))
                r += m
            }
        }
    }
}
