import SVAEKernels

// Small helpers over KernelContext and Ops for row-major activations.

extension KernelContext {
    /// Y[n, out] = X[n, in] · Wᵀ + b.
    func linear(_ y: UnsafeMutableBufferPointer<Float>, _ l: Linear, _ x: UnsafeBufferPointer<Float>, n: Int, relu: Bool = false) {
        linear(y, l.w, x, n: n, bias: l.b, relu: relu, packed: l.packed)
    }

    /// ids[i] = argmax of row i of X · Wᵀ + b (`linearArgmax`; logits: scratch of n × out floats).
    func linearArgmax(_ ids: UnsafeMutableBufferPointer<Int32>, _ l: Linear, _ x: UnsafeBufferPointer<Float>, n: Int,
                      logits: UnsafeMutableBufferPointer<Float>) {
        linearArgmax(ids, l.w, x, n: n, bias: l.b, logits: logits, packed: l.packed)
    }
}

/// x = LayerNorm(x + r) row by row (post-norm residual), x and r [n, d]: the fused f32 kernel
/// (`Ops.addLayerNorm`; `Ops.layerNorm`, with f64 sums, is the reference its tests use).
func addNorm(_ x: UnsafeMutableBufferPointer<Float>, _ r: UnsafeBufferPointer<Float>, _ norm: Norm, n: Int, d: Int, eps: Float) {
    Ops.addLayerNorm(x.slice(0, n * d), UnsafeBufferPointer(rebasing: r[0..<(n * d)]), weight: norm.w, bias: norm.b, eps: eps)
}

/// A float buffer owned by a session or call, grown on demand and reused (no allocation once warm).
final class FloatBuffer {
    private(set) var base: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    init(_ count: Int = 0) {
        capacity = max(count, 1)
        base = .allocate(capacity: capacity)
        base.initialize(repeating: 0, count: capacity)
    }
    deinit { base.deallocate() }
    /// A view of the first `count` floats (contents kept when not grown).
    func view(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        if count > capacity {
            base.deallocate()
            capacity = count
            base = .allocate(capacity: count)
            base.initialize(repeating: 0, count: count)
        }
        return UnsafeMutableBufferPointer(start: base, count: count)
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// Row i of a row-major [*, width] buffer.
    func row(_ i: Int, _ width: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: self[(i * width)..<((i + 1) * width)])
    }
    /// Elements [from, from + count).
    func slice(_ from: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: self[from..<(from + count)])
    }
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(self) }
}
