import SVAEFormat
import SVAEKernels

// Token-level OPT causal LM, the SLLM's baseline. Ports HF transformers `OPTForCausalLM`
// (`modeling_opt.py`) in float32:
//
//   x = embed[ids] (→ project_in when E ≠ d) + pos_embed[p + 2]
//   x = OPT decoder layers(x), causal, KV cache over token positions   (OPTLayers.swift)
//   x = final_norm(x) when present (pre-norm models), → project_out when present
//   logits = lm_head · x, lm_head = embed (tied) unless the file holds `opt.lm_head.weight`

/// Hyperparameters of a token-level OPT model (`opt.*`, `tokens.*` keys).
public struct OPTConfig: Sendable, Equatable {
    public var layers: OPTStackConfig
    public var vocab: Int
    /// Embedding width E (`word_embed_proj_dim`).
    public var embedDim: Int
    public var bos: Int32
    public var eos: Int32
    public var pad: Int32

    init(_ m: Metadata) {
        layers = OPTStackConfig(m, keys: .opt)
        vocab = m.int(.optVocabSize) ?? 0
        embedDim = m.int(.optEmbedDim) ?? layers.hidden
        bos = Int32(m.int(.bosID) ?? 2)
        eos = Int32(m.int(.eosID) ?? 2)
        pad = Int32(m.int(.padID) ?? 1)
    }
}

/// What `OPTSession.generate` returns.
public struct OPTOutput: Sendable, Equatable {
    /// Generated ids (EOS last when produced).
    public var ids: [Int32]
    public var stopReason: StopReason
}

/// An OPT causal LM read in place from a mapped `.svae` file of architecture `opt`. Immutable:
/// share between threads; each thread uses its own `OPTSession`.
public final class OPTLanguageModel: @unchecked Sendable {
    public let file: SVAEFile
    public let config: OPTConfig
    let embed: Embedding       // [V, E] (+ project_in [d, E] when E ≠ d)
    let projectOut: Linear?    // [E, d], only when E ≠ d
    let finalNorm: Norm?       // [d], [d]; pre-norm models only
    let lmHead: WeightMatrix   // [V, E]: `opt.lm_head.weight`, or the embedding (tied)
    let stack: OPTStack        // positions [P + 2, d] and the layers

    /// Builds the model from a validated file of architecture `opt`.
    public init(file: SVAEFile) throws(ModelError) {
        try checkModelFile(file, .opt)
        self.file = file
        let c = OPTConfig(file.metadata)
        config = c
        let t = TensorTable(file: file)
        typealias N = TensorName
        let table = try t.matrix(N.optEmbed)
        let proj = c.embedDim != c.layers.hidden
        embed = Embedding(name: N.optEmbed, table: table, projectIn: proj ? Linear(w: try t.matrix(N.optProjectIn), b: nil) : nil)
        projectOut = proj ? Linear(w: try t.matrix(N.optProjectOut), b: nil) : nil
        finalNorm = t.has(N.weight(N.optFinalNorm)) ? try t.norm(N.optFinalNorm) : nil
        lmHead = t.has(N.weight(N.optLMHead)) ? try t.matrix(N.weight(N.optLMHead)) : table
        stack = try OPTStack(t, names: .opt, config: c.layers)
    }

    /// Opens and validates a file, then builds the model.
    public convenience init(path: String) throws(ModelError) {
        try self.init(file: try openModelFile(path))
    }

    /// A session with its own KV cache and scratch, running on `context`. One per thread.
    public func makeSession(context: KernelContext) -> OPTSession { OPTSession(model: self, context: context) }

    /// KV-cache bytes per token position (f32 keys and values of every layer).
    public var cacheBytesPerToken: Int { stack.cacheBytesPerPosition }
}

/// Per-thread state of an OPT model: KV cache over token positions and scratch. Not thread-safe.
public final class OPTSession {
    public let model: OPTLanguageModel
    let context: KernelContext
    public let cache: KVCache
    private let scratch = OPTScratch()
    // Sizes for n ids fed at once; each grows to the largest n seen.
    private let x = FloatBuffer()             // [n, d] residual stream
    private let e = FloatBuffer()             // [n, E] embeddings before project_in (E ≠ d only)
    private let posRow = FloatBuffer()        // [d] one row of the position table
    private let projected = FloatBuffer()     // [rows, E] project_out of the rows wanted (E ≠ d only)
    private let logitsBuffer = FloatBuffer()  // [rows, V]: rows = n with allLogits, else 1

    init(model: OPTLanguageModel, context: KernelContext) {
        self.model = model
        self.context = context
        cache = model.stack.makeCache()
    }

    /// Token positions held.
    public var positions: Int { cache.length }

    /// Forgets every token.
    public func reset() { cache.reset() }

    /// Runs `ids` at the next positions as one causal batch and returns logits [V] of the last
    /// one (`allLogits`: of every one, [n, V] row-major). Valid until the next call.
    ///
    /// - Throws: `.emptyPrompt`, `.tokenOutOfRange` (input 0, position in `ids`), `.contextFull`.
    public func feed(_ ids: [Int32], allLogits: Bool = false) throws(ModelError) -> UnsafeBufferPointer<Float> {
        let c = model.config, d = c.layers.hidden, E = c.embedDim, n = ids.count
        guard n > 0 else { throw .emptyPrompt }
        for (p, id) in ids.enumerated() where id < 0 || Int(id) >= c.vocab {
            throw .tokenOutOfRange(input: 0, position: p, id: id, vocab: c.vocab)
        }
        guard positions + n <= c.layers.maxPositions else { throw .contextFull(positions: positions + n, max: c.layers.maxPositions) }
        let x = self.x.view(n * d)
        try model.embed.lookup(x, ids: ids[...], scratchE: e, context: context)
        try model.stack.addPositions(x, n: n, first: positions, scratch: posRow)
        try model.stack.forward(x, n: n, cache: cache, causal: true, scratch: scratch, context: context)
        // Head over the rows wanted: final norm, project_out, tied (or own) LM head.
        let rows = allLogits ? n : 1, first = n - rows
        var h = UnsafeMutableBufferPointer(rebasing: x[(first * d)..<(n * d)])
        if let fn = model.finalNorm {
            for i in 0..<rows { Ops.layerNorm(h.row(i, d), h.row(i, d).readOnly, weight: fn.w, bias: fn.b, eps: c.layers.eps) }
        }
        if let p = model.projectOut {
            let pr = projected.view(rows * E)
            context.linear(pr, p, h.readOnly, n: rows)
            h = pr
        }
        let logits = logitsBuffer.view(rows * c.vocab)
        context.matmul(logits, model.lmHead, h.readOnly, n: rows)
        return logits.readOnly
    }

    /// Generates after `prompt` (ids, BOS first as the OPT tokenizer gives them): resets the
    /// session, prefills the prompt as one batch, then feeds one token at a time (KV cache) until
    /// EOS (included), `options.maxTokens`, `opt.max_positions`, or `onToken` returns false.
    public func generate(prompt: [Int32], options: GenerationOptions = GenerationOptions(),
                         onToken: ((Int32) -> Bool)? = nil) throws(ModelError) -> OPTOutput {
        try options.validate()
        reset()
        var logits = try feed(prompt)
        var sampler = options.sampler
        var out: [Int32] = []
        while true {
            if out.count >= options.maxTokens { return OPTOutput(ids: out, stopReason: .maxTokens) }
            let next = sampler.pick(logits)
            out.append(next)
            if let cb = onToken, !cb(next) { return OPTOutput(ids: out, stopReason: .callback) }
            if next == model.config.eos { return OPTOutput(ids: out, stopReason: .eos) }
            if out.count >= options.maxTokens { return OPTOutput(ids: out, stopReason: .maxTokens) }
            if positions >= model.config.layers.maxPositions { return OPTOutput(ids: out, stopReason: .contextFull) }
            logits = try feed([next])
        }
    }
}
