// Ops.swift: the f32 element-wise and attention ops (implemented in ops.c).
import CSVAEKernels

/// Element-wise, normalization and attention ops on f32 buffers.
/// Buffer lengths that disagree with the documented shapes are programmer errors
/// (precondition failures), never input-derived.
package enum Ops {
    /// y[n] = (x − mean) / sqrt(var + eps) · weight + bias over one row of n = x.count.
    /// weight/bias: nil means 1/0. y may alias x.
    package static func layerNorm(_ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>,
                                 weight: UnsafeBufferPointer<Float>?, bias: UnsafeBufferPointer<Float>?, eps: Float) {
        let n = x.count
        precondition(y.count == n && (weight?.count ?? n) == n && (bias?.count ?? n) == n, "layerNorm: shape mismatch")
        guard n > 0 else { return }
        csvae_layernorm(y.baseAddress, x.baseAddress, weight?.baseAddress, bias?.baseAddress, eps, n)
    }

    /// x = LayerNorm(x + r) (r nil: LayerNorm(x)) for each of the x.count / weight.count rows
    /// (post-norm residual), in f32 SIMD (`layerNorm`, with f64 sums, is the reference the tests
    /// compare it with).
    package static func addLayerNorm(_ x: UnsafeMutableBufferPointer<Float>, _ r: UnsafeBufferPointer<Float>?,
                                    weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, eps: Float) {
        let d = weight.count
        precondition(d > 0 && bias.count == d && (r?.count ?? x.count) == x.count && x.count % d == 0, "addLayerNorm: shape mismatch")
        guard x.count > 0 else { return }
        csvae_add_layernorm_rows(x.baseAddress, r?.baseAddress, weight.baseAddress, bias.baseAddress, eps, x.count / d, d)
    }

    /// Index of the largest element (the first one on ties); NaN never wins; 0 when none exceeds
    /// −∞ or x is empty. One 16-lane pass with running first indices on AVX-512.
    package static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int32 {
        precondition(x.count < Int(Int32.max), "argmax: more than 2^31 elements")
        guard x.count > 0 else { return 0 }
        return csvae_argmax(x.baseAddress, x.count)
    }

    /// In place, numerically stable softmax over x (all −Inf → all 0).
    package static func softmax(_ x: UnsafeMutableBufferPointer<Float>) {
        guard x.count > 0 else { return }
        csvae_softmax(x.baseAddress, x.count)
    }

    /// y = a + b (residual add). y may alias a or b.
    package static func add(_ y: UnsafeMutableBufferPointer<Float>, _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) {
        precondition(y.count == a.count && a.count == b.count, "add: shape mismatch")
        guard a.count > 0 else { return }
        csvae_add(y.baseAddress, a.baseAddress, b.baseAddress, a.count)
    }

    /// y[rows, cols] += bias for every row (nil: no bias), then max(·, 0) when `relu`: one pass
    /// (the fused epilogue of products whose kernel has none).
    package static func addBias(_ y: UnsafeMutableBufferPointer<Float>, _ bias: UnsafeBufferPointer<Float>?, cols: Int, relu: Bool = false) {
        precondition(cols > 0 ? y.count % cols == 0 : y.count == 0, "addBias: y.count not a multiple of cols")
        precondition(bias == nil || bias!.count == cols, "addBias: bias.count != cols")
        guard cols > 0, y.count > 0, bias != nil || relu else { return }
        csvae_bias_relu(y.baseAddress, bias?.baseAddress, y.count / cols, cols, relu ? 1 : 0)
    }

    /// out[d] = Σ_t α_t x_t over the rows of x [rows, d]: α_t = w · x_t + b (learnable-add
    /// pooling, `weight` = (w, b)) or 1 (sum pooling, `weight` nil).
    package static func pool(_ out: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>,
                            weight: (w: UnsafeBufferPointer<Float>, b: Float)?) {
        let d = out.count
        precondition(d > 0 && x.count % d == 0 && (weight?.w.count ?? d) == d, "pool: shape mismatch")
        csvae_pool_rows(out.baseAddress, x.baseAddress, x.count / d, d, weight?.w.baseAddress, weight?.b ?? 0)
    }

    /// Multi-head attention of one query over a KV cache.
    ///
    /// - out: [heads·headDim]; q: [heads·headDim]
    /// - k, v: caches [≥ length, kvStride] (row j = position j; heads in the first heads·headDim columns)
    /// - scratch: ≥ length floats
    /// - length: keys attended, [0, length) (pass the causal length for decoding).
    /// out_h = softmax(scale · K_h q_h) · V_h.
    package static func attention(out: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                                 q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
                                 scale: Float, heads: Int, headDim: Int, length: Int, kvStride: Int? = nil) {
        let width = heads * headDim, ld = kvStride ?? width
        precondition(heads > 0 && headDim > 0 && ld >= width && length >= 0, "attention: bad shape")
        precondition(out.count >= width && q.count >= width && scratch.count >= length, "attention: buffers too short")
        precondition(length == 0 || (k.count >= (length - 1) * ld + width && v.count >= (length - 1) * ld + width), "attention: cache too short")
        if length == 0 {
            out.baseAddress!.update(repeating: 0, count: width)
            return
        }
        csvae_attention_one(out.baseAddress, scratch.baseAddress, q.baseAddress, k.baseAddress, v.baseAddress,
                            scale, ld, heads, headDim, length)
    }

    /// `attention(out:…length:)` for `lengths.count` queries at once, each over its own KV cache
    /// (the batched decoder's step: one sentence per row). Row i: the query at q[i·qStride…],
    /// the caches `keys[i]` and `values[i]` [≥ lengths[i], kvStride], the output at
    /// out[i·heads·headDim…]. Each row is computed alone (the same bits whatever the other rows).
    ///
    /// - scratch: ≥ lengths.max() floats.
    package static func attention(out: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                                 q: UnsafeBufferPointer<Float>, qStride: Int,
                                 keys: UnsafeBufferPointer<UnsafePointer<Float>?>, values: UnsafeBufferPointer<UnsafePointer<Float>?>,
                                 lengths: UnsafeBufferPointer<Int>, kvStride: Int,
                                 scale: Float, heads: Int, headDim: Int) {
        let width = heads * headDim, rows = lengths.count
        precondition(heads > 0 && headDim > 0 && kvStride >= width && qStride >= width, "attention: bad shape")
        precondition(keys.count == rows && values.count == rows, "attention: one cache per row")
        guard rows > 0 else { return }
        precondition(lengths.allSatisfy { $0 >= 0 && $0 <= scratch.count }, "attention: scratch too short")
        precondition(out.count >= rows * width && q.count >= (rows - 1) * qStride + width, "attention: buffers too short")
        precondition(!keys.contains(nil) && !values.contains(nil), "attention: missing cache")
        csvae_attention_rows(out.baseAddress, width, scratch.baseAddress, q.baseAddress, qStride, keys.baseAddress, values.baseAddress,
                             kvStride, lengths.baseAddress, rows, heads, headDim, scale)
    }

    /// Multi-head attention of `queries` positions over `length` keys (batched encoder /
    /// prefill). Query i sits at absolute position length − queries + i.
    ///
    /// - out: [queries, heads·headDim]; q: [queries, heads·headDim]; k, v: [length, kvStride]
    /// - keyMask: nil or [length], 0 = padding (never attended)
    /// - causal: query i attends keys j ≤ length − queries + i
    /// - scratch: ≥ length floats. A query with every key masked gets zeros.
    package static func attention(out: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                                 q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
                                 keyMask: UnsafeBufferPointer<UInt8>?, causal: Bool, scale: Float,
                                 heads: Int, headDim: Int, queries: Int, length: Int, kvStride: Int? = nil) {
        let width = heads * headDim, ld = kvStride ?? width
        precondition(heads > 0 && headDim > 0 && ld >= width && queries >= 0 && length >= queries, "attention: bad shape")
        precondition(out.count >= queries * width && q.count >= queries * width && scratch.count >= length, "attention: buffers too short")
        precondition(length == 0 || (k.count >= (length - 1) * ld + width && v.count >= (length - 1) * ld + width), "attention: cache too short")
        precondition(keyMask == nil || keyMask!.count >= length, "attention: mask too short")
        guard queries > 0 else { return }
        if length == 0 { return }
        csvae_attention(out.baseAddress, scratch.baseAddress, q.baseAddress, k.baseAddress, v.baseAddress,
                        keyMask?.baseAddress, causal ? 1 : 0, scale, width, width, ld, heads, headDim, queries, length)
    }
    /// Floats of scratch `selfAttention` needs for sentences of at most `maxLength` positions.
    package static func selfAttentionScratch(maxLength: Int, headDim: Int) -> Int {
        csvae_attention_sentences_scratch(max(maxLength, 1), headDim)
    }

    /// Self-attention of a batch of sentences (the encoder: no mask, not causal): sentence s is
    /// rows [offsets[s], offsets[s + 1]) and attends only to itself. Row i of q, k and v starts
    /// at i·stride (heads in the first heads·headDim columns), so q, k and v may be column slices
    /// of one fused QKV buffer.
    ///
    /// - out: [offsets.last, heads·headDim]; scratch: ≥ `selfAttentionScratch(maxLength:headDim:)`
    ///   for the longest sentence.
    /// out_i,h = softmax(scale · K_h q_i,h) · V_h over the sentence's own positions, the result of
    /// `attention(out:…length:)` for every i up to the order of float sums.
    package static func selfAttention(out: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                                     q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>,
                                     scale: Float, heads: Int, headDim: Int, offsets: UnsafeBufferPointer<Int>, stride: Int) {
        let width = heads * headDim
        precondition(heads > 0 && headDim > 0 && stride >= width && !offsets.isEmpty && offsets[0] == 0, "selfAttention: bad shape")
        var longest = 0
        for s in 1..<offsets.count {
            precondition(offsets[s] >= offsets[s - 1], "selfAttention: offsets not ascending")
            longest = max(longest, offsets[s] - offsets[s - 1])
        }
        let rows = offsets[offsets.count - 1]
        guard rows > 0 else { return }
        let need = (rows - 1) * stride + width
        precondition(out.count >= rows * width && scratch.count >= selfAttentionScratch(maxLength: longest, headDim: headDim)
                     && q.count >= need && k.count >= need && v.count >= need, "selfAttention: buffers too short")
        csvae_attention_sentences(out.baseAddress, width, scratch.baseAddress, q.baseAddress, k.baseAddress, v.baseAddress,
                                  stride, offsets.baseAddress, offsets.count - 1, heads, headDim, scale)
    }
}
