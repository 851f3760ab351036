import SVAEKernels

/// Decodes one sentence vector token by token with a KV cache.
///
/// Cross-attention over a single memory vector has softmax weight 1, so each layer's
/// cross-attention output is the constant `cross_out(cross_v · m + b_v) + b_out`, computed once in
/// `init`; causal self-attention keeps K and V of every position instead of re-running the prefix
/// (the reference re-runs it each step). Not thread-safe: one session per thread.
public final class DecoderSession {
    public let model: SentenceVAE
    let context: KernelContext
    private let crossOut: [FloatBuffer]
    private let keys: [FloatBuffer]
    private let values: [FloatBuffer]
    private let x = FloatBuffer(), qkv = FloatBuffer(), att = FloatBuffer(), tmp = FloatBuffer()
    private let h = FloatBuffer(), scores = FloatBuffer(), e = FloatBuffer()
    private let logitsBuffer = FloatBuffer()
    /// Tokens fed so far (BOS included).
    public private(set) var length = 0

    /// - Parameter vector: a sentence vector of `hidden` floats (what `encode` returns, or an SLLM state).
    public init(model: SentenceVAE, vector: [Float], context: KernelContext) throws(ModelError) {
        let c = model.config, d = c.hidden
        guard vector.count == d else { throw .vectorSize(expected: d, found: vector.count) }
        if let bad = vector.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteVector(index: bad) }
        self.model = model
        self.context = context
        var cross: [FloatBuffer] = []
        let v = FloatBuffer(d)
        for layer in model.decLayers {
            let o = FloatBuffer(d)
            vector.withUnsafeBufferPointer { m in context.linear(v.view(d), layer.crossV, m, n: 1) }
            context.linear(o.view(d), layer.crossOut, v.view(d).readOnly, n: 1)
            cross.append(o)
        }
        crossOut = cross
        keys = model.decLayers.map { _ in FloatBuffer(c.maxSeqLen * d) }
        values = model.decLayers.map { _ in FloatBuffer(c.maxSeqLen * d) }
    }

    /// Feeds one token and returns the logits [vocab] for the next one (valid until the next call).
    public func step(_ token: Int32) throws(ModelError) -> UnsafeBufferPointer<Float> {
        let c = model.config, d = c.hidden, pos = length
        guard pos < c.maxSeqLen else { throw .sentenceTooLong(input: 0, tokens: pos + 1, max: c.maxSeqLen) }
        guard token >= 0, Int(token) < c.vocab else { throw .tokenOutOfRange(input: 0, position: pos, id: token, vocab: c.vocab) }
        let x = self.x.view(d), qkv = self.qkv.view(3 * d), att = self.att.view(d), tmp = self.tmp.view(d)
        let h = self.h.view(c.ffn), scores = self.scores.view(c.maxSeqLen)
        try model.embed(x, model.decEmbed, ids: CollectionOfOne(token), position: { _ in pos }, scratchE: e, context: context)
        let scale = 1 / Float(c.headDim).squareRoot()
        for (l, layer) in model.decLayers.enumerated() {
            context.linear(qkv, layer.selfQKV, x.readOnly, n: 1)
            let kc = keys[l].view(c.maxSeqLen * d), vc = values[l].view(c.maxSeqLen * d)
            _ = kc.row(pos, d).update(fromContentsOf: qkv.slice(d, d))
            _ = vc.row(pos, d).update(fromContentsOf: qkv.slice(2 * d, d))
            Ops.attention(out: att, scratch: scores, q: qkv.slice(0, d).readOnly, k: kc.readOnly, v: vc.readOnly,
                          scale: scale, heads: c.heads, headDim: c.headDim, length: pos + 1)
            context.linear(tmp, layer.selfOut, att.readOnly, n: 1)
            addNorm(x, tmp.readOnly, layer.norm1, n: 1, d: d, eps: c.eps)
            addNorm(x, UnsafeBufferPointer(crossOut[l].view(d)), layer.norm2, n: 1, d: d, eps: c.eps)
            context.linear(h, layer.up, x.readOnly, n: 1)
            Ops.relu(h, h.readOnly)
            context.linear(tmp, layer.down, h.readOnly, n: 1)
            addNorm(x, tmp.readOnly, layer.norm3, n: 1, d: d, eps: c.eps)
        }
        let logits = logitsBuffer.view(c.vocab)
        context.linear(logits, model.lmHead, x.readOnly, n: 1)
        length += 1
        return logits.readOnly
    }

    /// Generates a sentence from BOS: greedy when `sampler` is nil. Stops after EOS (included in the
    /// result) or after `maxTokens` tokens (default and upper bound: max_seq_len − 1, so BOS plus the
    /// output fit the model's length; the reference's cap never fires, ours does).
    /// `onToken` sees each token as it is produced; returning false stops early.
    public func generate(maxTokens: Int? = nil, sampler: Sampler? = nil, onToken: ((Int32) -> Bool)? = nil) throws(ModelError) -> [Int32] {
        let c = model.config
        let cap = min(maxTokens ?? (c.maxSeqLen - 1), c.maxSeqLen - 1 - length)
        var out: [Int32] = []
        var prev = c.bos
        var rng = sampler
        while out.count < cap {
            let logits = try step(prev)
            let next = rng != nil ? rng!.sample(logits) : Sampler.argmax(logits)
            out.append(next)
            if let cb = onToken, !cb(next) { break }
            if next == c.eos { break }
            prev = next
        }
        return out
    }
}
