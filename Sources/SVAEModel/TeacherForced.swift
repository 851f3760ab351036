import SVAEKernels

/// Reusable activations of `SentenceVAE.forcedLogits` (one per session; not thread-safe).
/// Sizes for a sentence of n ids; each buffer grows to the largest n seen.
public final class ForcedDecoderScratch {
    let x = FloatBuffer()       // [n, d] residual stream
    let qkv = FloatBuffer()     // [n, 3d] q|k|v rows (keys and values read in place, stride 3d)
    let q = FloatBuffer()       // [n, d] queries, contiguous
    let att = FloatBuffer()     // [n, d] self-attention output
    let tmp = FloatBuffer()     // [n, d] sublayer output before add+norm
    let h = FloatBuffer()       // [n, f] FFN hidden
    let scores = FloatBuffer()  // [n] attention scores of one query and head
    let e = FloatBuffer()       // [n, E] embeddings before project_in (E ≠ d only)
    let v = FloatBuffer()       // [d] cross_v · memory
    let cross = FloatBuffer()   // [d] cross-attention output, the same for every row
    let logits = FloatBuffer()  // [n, V]
    public init() {}
}

extension SentenceVAE {
    /// The decoder teacher-forced on a whole sentence: logits [n, vocab] (row-major, valid until
    /// the scratch is used again) for inputs `ids` (BOS first, n ≤ max_seq_len) with `memory` as
    /// the one cross-attention vector. Row t scores the token after ids[t]: the reference's
    /// `SentenceDecoder.forward` with its causal mask, computed as one batch (every linear layer
    /// is one [n, ·] product, self-attention is causal over the n positions), not token by
    /// token. Same numbers as feeding the ids one by one through `DecoderSession.step`, up to the
    /// order of float sums.
    ///
    /// - Throws: `.emptySentence`, `.sentenceTooLong`, `.tokenOutOfRange` (input `index`),
    ///   `.vectorSize`, `.nonFiniteVector`.
    public func forcedLogits(_ ids: [Int32], memory: [Float], index: Int = 0, scratch s: ForcedDecoderScratch,
                             context: KernelContext) throws(ModelError) -> UnsafeBufferPointer<Float> {
        try check(ids, index: index)
        let c = config, d = c.hidden, n = ids.count
        guard memory.count == d else { throw .vectorSize(expected: d, found: memory.count) }
        if let bad = memory.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteVector(index: bad) }
        let x = s.x.view(n * d), qkv = s.qkv.view(n * 3 * d), q = s.q.view(n * d), att = s.att.view(n * d)
        let tmp = s.tmp.view(n * d), h = s.h.view(n * c.ffn), scores = s.scores.view(n)
        let v = s.v.view(d), cross = s.cross.view(d)
        try embed(x, decEmbed, ids: ids, position: { $0 }, scratchE: s.e, context: context)
        let scale = 1 / Float(c.headDim).squareRoot()
        for layer in decLayers {
            context.linear(qkv, layer.selfQKV, x.readOnly, n: n)
            for i in 0..<n { _ = q.row(i, d).update(fromContentsOf: qkv.slice(i * 3 * d, d)) }
            // Keys and values stay in the fused [n, 3d] rows (stride 3d).
            Ops.attention(out: att, scratch: scores, q: q.readOnly, k: UnsafeBufferPointer(rebasing: qkv[d...]),
                          v: UnsafeBufferPointer(rebasing: qkv[(2 * d)...]), keyMask: nil, causal: true, scale: scale,
                          heads: c.heads, headDim: c.headDim, queries: n, length: n, kvStride: 3 * d)
            context.linear(tmp, layer.selfOut, att.readOnly, n: n)
            addNorm(x, tmp.readOnly, layer.norm1, n: n, d: d, eps: c.eps)
            // Cross-attention over one memory vector: weight 1, the same output for every row.
            memory.withUnsafeBufferPointer { m in context.linear(v, layer.crossV, m, n: 1) }
            context.linear(cross, layer.crossOut, v.readOnly, n: 1)
            for i in 0..<n { _ = tmp.row(i, d).update(fromContentsOf: cross) }
            addNorm(x, tmp.readOnly, layer.norm2, n: n, d: d, eps: c.eps)
            context.linear(h, layer.up, x.readOnly, n: n, relu: true)  // ReLU in the product's epilogue
            context.linear(tmp, layer.down, h.readOnly, n: n)
            addNorm(x, tmp.readOnly, layer.norm3, n: n, d: d, eps: c.eps)
        }
        let logits = s.logits.view(n * c.vocab)
        context.linear(logits, lmHead, x.readOnly, n: n)
        return logits.readOnly
    }
}
