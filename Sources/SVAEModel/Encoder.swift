import SVAEKernels

extension SentenceVAE {
    /// Encodes sentences to sentence vectors.
    ///
    /// - Parameter sentences: token ids of each sentence, starting with BOS as the tokenizer gives them
    ///   (the reference encodes `</s> t1 … tn`), at most `maxSeqLen` ids each.
    /// - Returns: one `hidden`-vector per sentence.
    ///
    /// Each sentence is processed at its own length, which is exactly the reference's padded batch
    /// with a key-padding mask and zeroed padded outputs; all sentences' tokens share the linear
    /// layers as one matrix product, and one attention call covers every sentence and head.
    ///
    /// With several threads and at least two sentences per thread, the batch is split by
    /// sentences into one contiguous group per thread (about equal token counts), each encoded
    /// with whole products on its own core (`KernelContext.workers`); otherwise every product is
    /// split by rows over the pool. Each thread runs its sentences through all layers in groups
    /// of about `chunkTokens` tokens. The working memory is the context's (`EncoderScratch`):
    /// once warm, a call allocates only the vectors it returns.
    public func encode(_ sentences: [[Int32]], context: KernelContext) throws(ModelError) -> [[Float]] {
        for (i, s) in sentences.enumerated() { try check(s, index: i) }
        if sentences.isEmpty { return [] }
        var out = [[Float]](repeating: [], count: sentences.count)
        let threads = context.pool.threads
        let workers = threads > 1 && sentences.count >= 2 * threads ? context.workers() : []
        guard workers.count > 1 else {
            try out.withUnsafeMutableBufferPointer { (o) throws(ModelError) in try encodeChecked(sentences[...], into: o, context: context) }
            return out
        }
        let total = sentences.reduce(0) { $0 + $1.count }
        let n = workers.count
        return try withUnsafeTemporaryAllocation(of: Int.self, capacity: n + 1) { (bounds) throws(ModelError) -> [[Float]] in
            bounds[0] = 0
            var tokens = 0, next = 0
            for t in 1..<n {
                while next < sentences.count && 2 * (tokens + sentences[next].count) <= 2 * total * t / n + sentences[next].count {
                    tokens += sentences[next].count
                    next += 1
                }
                bounds[t] = next
            }
            bounds[n] = sentences.count
            return try withUnsafeTemporaryAllocation(of: ModelError?.self, capacity: n) { (errors) throws(ModelError) -> [[Float]] in
                errors.initialize(repeating: nil)
                defer { errors.deinitialize() }
                out.withUnsafeMutableBufferPointer { o in
                    context.pool.parallelFor(n) { t, _ in
                        let range = bounds[t]..<bounds[t + 1]
                        guard !range.isEmpty else { return }
                        do throws(ModelError) {
                            try self.encodeChecked(sentences[range], into: UnsafeMutableBufferPointer(rebasing: o[range]), context: workers[t])
                        } catch {
                            errors[t] = error
                        }
                    }
                }
                for e in errors { if let e { throw e } }
                return out
            }
        }
    }

    /// `encode` of checked sentences on one context (products split over its pool): vector i
    /// into out[i].
    func encodeChecked(_ sentences: ArraySlice<[Int32]>, into out: UnsafeMutableBufferPointer<[Float]>,
                       context: KernelContext) throws(ModelError) {
        try context.withAttachment(EncoderScratch.init) { (scratch) throws(ModelError) in
            let chunk = Self.chunkTokens(hidden: config.hidden)
            var first = sentences.startIndex
            while first < sentences.endIndex {
                var end = first + 1, tokens = sentences[first].count
                while end < sentences.endIndex && tokens + sentences[end].count <= chunk {
                    tokens += sentences[end].count
                    end += 1
                }
                let o = first - sentences.startIndex
                try encode(sentences[first..<end], into: UnsafeMutableBufferPointer(rebasing: out[o..<(o + end - first)]),
                           scratch: scratch, context: context)
                first = end
            }
        }
    }

    /// Tokens encoded together through all layers (whole sentences; a longer sentence alone):
    /// the int8 kernel streams the weights once per 128 activation rows anyway, so larger groups
    /// save no weight traffic, while a group whose activations stay in L2 from one op to the next
    /// (a product's f32 input and output rows: x and qkv, 16 · hidden bytes per token) is faster
    /// and bounds the scratch: as many tokens as fit this core's L2 (1 MB when unknown), a
    /// multiple of 32 from 32 to 128. svae-768 gets 128 with a 2 MB L2, 64 with 1 MB.
    /// Measured (svae-768-h4 q8, 64 × 16, one thread, sizes alternated call by call in one
    /// process): on a Xeon with 2 MB of L2, 40 rounds, load 1.6–1.8, speed against 128 tokens
    /// 1.02 (64), 0.98 (256), 0.96 (512), 0.90 (1024); a second run 1.01 (32), 1.02 (64), 0.99 (96),
    /// 1.00 (192); with the 6 × 64 / 8 × 48 i8r tiles (2026-12-03, tools/bench/encode_ab.py,
    /// 15 rounds) 32, 48, 64 tokens 0.947, 1.004, 1.006 (h1) and 1.021, 0.991, 0.965 (h4). On an
    /// EPYC (Zen 4) with 1 MB of L2 (encode_ab.py, 15 rounds, 2026-12-03): 64 against 128 1.031 (h1),
    /// 1.026 (h4); 32 against 64 1.023, 1.004, and again with 31 rounds 1.021, 0.982.
    static func chunkTokens(hidden: Int) -> Int {
        let fit = (KernelPath.l2CacheBytes ?? 1 << 20) / (16 * max(hidden, 1))
        return min(128, max(32, fit / 32 * 32))
    }

    private func encode(_ sentences: ArraySlice<[Int32]>, into out: UnsafeMutableBufferPointer<[Float]>,
                        scratch: EncoderScratch, context: KernelContext) throws(ModelError) {
        let c = config, d = c.hidden, f = c.ffn
        scratch.offsets.removeAll(keepingCapacity: true)
        scratch.flat.removeAll(keepingCapacity: true)
        scratch.positions.removeAll(keepingCapacity: true)
        scratch.offsets.append(0)
        for s in sentences {
            scratch.flat.append(contentsOf: s)
            scratch.positions.append(contentsOf: 0..<s.count)
            scratch.offsets.append(scratch.flat.count)
        }
        let total = scratch.flat.count
        let x = scratch.x.view(total * d), qkv = scratch.qkv.view(total * 3 * d), att = scratch.att.view(total * d)
        let tmp = scratch.tmp.view(total * d), h = scratch.h.view(total * f)
        let scores = scratch.attention.view(Ops.selfAttentionScratch(maxLength: c.maxSeqLen, headDim: c.headDim))
        let pos = scratch.positions
        try embed(x, encEmbed, ids: scratch.flat, position: { pos[$0] }, scratchE: scratch.e, context: context)
        let scale = 1 / Float(c.headDim).squareRoot()
        for layer in encLayers {
            context.linear(qkv, layer.qkv, x.readOnly, n: total)
            scratch.offsets.withUnsafeBufferPointer { offsets in
                Ops.selfAttention(out: att, scratch: scores, q: qkv.readOnly, k: UnsafeBufferPointer(rebasing: qkv[d...]),
                                  v: UnsafeBufferPointer(rebasing: qkv[(2 * d)...]), scale: scale, heads: c.heads, headDim: c.headDim,
                                  offsets: offsets, stride: 3 * d)
            }
            context.linear(tmp, layer.out, att.readOnly, n: total)
            Ops.addLayerNorm(x, tmp.readOnly, weight: layer.norm1.w, bias: layer.norm1.b, eps: c.eps)
            context.linear(h, layer.up, x.readOnly, n: total, relu: true)
            context.linear(tmp, layer.down, h.readOnly, n: total)
            Ops.addLayerNorm(x, tmp.readOnly, weight: layer.norm2.w, bias: layer.norm2.b, eps: c.eps)
        }
        // Pooling: learnable add s = Σ_t h_t (w·h_t + b), or the plain sum; then LayerNorm.
        for i in 0..<sentences.count {
            let s0 = scratch.offsets[i], s1 = scratch.offsets[i + 1]
            out[i] = [Float](unsafeUninitializedCapacity: d) { v, count in
                Ops.pool(v, UnsafeBufferPointer(rebasing: x[(s0 * d)..<(s1 * d)]), weight: pool)
                Ops.addLayerNorm(v, nil, weight: encNorm.w, bias: encNorm.b, eps: c.eps)
                count = d
            }
        }
    }
}

/// The encoder's working memory for one `KernelContext` (`withAttachment`): activations, fused
/// QKV, attention and FFN buffers grown to the largest batch seen and reused.
final class EncoderScratch {
    let x = FloatBuffer(), qkv = FloatBuffer(), att = FloatBuffer(), tmp = FloatBuffer(), h = FloatBuffer()
    let e = FloatBuffer(), attention = FloatBuffer()
    /// Sentence s is token rows [offsets[s], offsets[s + 1]).
    var offsets: [Int] = []
    var flat: [Int32] = []
    var positions: [Int] = []
}
