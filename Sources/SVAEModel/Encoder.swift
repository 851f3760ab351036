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
    /// layers as one matrix product.
    ///
    /// With several threads and at least two sentences per thread, the batch is split by
    /// sentences into one contiguous group per thread (about equal token counts), each encoded
    /// with whole products on its own core (`KernelContext.workers`); otherwise every product is
    /// split by rows over the pool.
    public func encode(_ sentences: [[Int32]], context: KernelContext) throws(ModelError) -> [[Float]] {
        for (i, s) in sentences.enumerated() { try check(s, index: i) }
        if sentences.isEmpty { return [] }
        let threads = context.pool.threads
        let workers = threads > 1 && sentences.count >= 2 * threads ? context.workers() : []
        guard workers.count > 1 else { return try encodeChecked(sentences, context: context) }
        let total = sentences.reduce(0) { $0 + $1.count }
        var bounds = [0], tokens = 0, next = 0
        for t in 1..<workers.count {
            while next < sentences.count && 2 * (tokens + sentences[next].count) <= 2 * total * t / workers.count + sentences[next].count {
                tokens += sentences[next].count
                next += 1
            }
            bounds.append(next)
        }
        bounds.append(sentences.count)
        var results = [Result<[[Float]], ModelError>](repeating: .success([]), count: workers.count)
        results.withUnsafeMutableBufferPointer { rp in
            context.pool.parallelFor(workers.count) { t, _ in
                let part = Array(sentences[bounds[t]..<bounds[t + 1]])
                rp[t] = Result { () throws(ModelError) in part.isEmpty ? [] : try self.encodeChecked(part, context: workers[t]) }
            }
        }
        var out: [[Float]] = []
        out.reserveCapacity(sentences.count)
        for r in results { out += try r.get() }
        return out
    }

    /// `encode` of checked sentences on one context (products split over its pool).
    func encodeChecked(_ sentences: [[Int32]], context: KernelContext) throws(ModelError) -> [[Float]] {
        let c = config, d = c.hidden, f = c.ffn
        let total = sentences.reduce(0) { $0 + $1.count }
        var starts: [Int] = []
        var flat: [Int32] = []
        var pos: [Int] = []
        flat.reserveCapacity(total)
        for s in sentences {
            starts.append(flat.count)
            flat += s
            pos += 0..<s.count
        }
        let xb = FloatBuffer(total * d), qkvb = FloatBuffer(total * 3 * d), attb = FloatBuffer(total * d)
        let tmpb = FloatBuffer(total * d), hb = FloatBuffer(total * f), eb = FloatBuffer(), sb = FloatBuffer(c.maxSeqLen)
        let x = xb.view(total * d), qkv = qkvb.view(total * 3 * d), att = attb.view(total * d)
        let tmp = tmpb.view(total * d), h = hb.view(total * f), scores = sb.view(c.maxSeqLen)
        try embed(x, encEmbed, ids: flat, position: { pos[$0] }, scratchE: eb, context: context)
        let scale = 1 / Float(c.headDim).squareRoot()
        for layer in encLayers {
            context.linear(qkv, layer.qkv, x.readOnly, n: total)
            for (si, s) in sentences.enumerated() {
                let s0 = starts[si], L = s.count
                Ops.selfAttention(out: UnsafeMutableBufferPointer(rebasing: att[(s0 * d)..<((s0 + L) * d)]), scratch: scores,
                                  q: UnsafeBufferPointer(rebasing: qkv[(s0 * 3 * d)...]),
                                  k: UnsafeBufferPointer(rebasing: qkv[(s0 * 3 * d + d)...]),
                                  v: UnsafeBufferPointer(rebasing: qkv[(s0 * 3 * d + 2 * d)...]),
                                  scale: scale, heads: c.heads, headDim: c.headDim, length: L, stride: 3 * d)
            }
            context.linear(tmp, layer.out, att.readOnly, n: total)
            Ops.addLayerNorm(x, tmp.readOnly, weight: layer.norm1.w, bias: layer.norm1.b, eps: c.eps)
            context.linear(h, layer.up, x.readOnly, n: total, relu: true)
            context.linear(tmp, layer.down, h.readOnly, n: total)
            Ops.addLayerNorm(x, tmp.readOnly, weight: layer.norm2.w, bias: layer.norm2.b, eps: c.eps)
        }
        // Pooling: learnable add s = Σ_t h_t (w·h_t + b), or the plain sum; then LayerNorm.
        var out: [[Float]] = []
        out.reserveCapacity(sentences.count)
        let sum = tmpb.view(d)
        for (si, s) in sentences.enumerated() {
            sum.update(repeating: 0)
            for t in 0..<s.count {
                let row = x.row(starts[si] + t, d)
                var alpha: Float = 1
                if let p = pool {
                    var dot: Float = 0
                    for j in 0..<d { dot += p.w[j] * row[j] }
                    alpha = dot + p.b
                }
                for j in 0..<d { sum[j] += alpha * row[j] }
            }
            var v = [Float](repeating: 0, count: d)
            v.withUnsafeMutableBufferPointer { Ops.layerNorm($0, sum.readOnly, weight: encNorm.w, bias: encNorm.b, eps: c.eps) }
            out.append(v)
        }
        return out
    }
}
