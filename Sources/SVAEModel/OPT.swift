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
        layers = OPTStackConfig(m, prefix: "opt")
        vocab = m.int("opt.vocab_size") ?? 0
        embedDim = m.int("opt.embed_dim") ?? layers.hidden
        bos = Int32(m.int("tokens.bos_id") ?? 2)
        eos = Int32(m.int("tokens.eos_id") ?? 2)
        pad = Int32(m.int("tokens.pad_id") ?? 1)
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
    /// [V, E] with `project_in` [d, E] when E ≠ d.
    let embed: Embedding
    /// [E, d], only when E ≠ d.
    let projectOut: Linear?
    let finalNorm: Norm?
    /// [V, E]: `opt.lm_head.weight`, or the embedding (tied).
    let lmHead: WeightMatrix
    let stack: OPTStack

    /// Builds the model from a validated file of architecture `opt`.
    public init(file: SVAEFile) throws(ModelError) {
        guard 1.littleEndian == 1 else { throw .bigEndianHost }
        let arch = file.architecture ?? "none"
        guard arch == "opt" else { throw .wrongArchitecture(file: file.path, expected: "opt", found: arch) }
        do { try file.validateModel() } catch { throw .format(error) }
        self.file = file
        let c = OPTConfig(file.metadata)
        config = c
        let t = TensorTable(file: file)
        let table = try t.matrix("opt.embed")
        let proj = c.embedDim != c.layers.hidden
        embed = Embedding(table: table, projectIn: proj ? Linear(w: try t.matrix("opt.project_in"), b: nil) : nil)
        projectOut = proj ? Linear(w: try t.matrix("opt.project_out"), b: nil) : nil
        finalNorm = t.has("opt.final_norm.weight") ? try t.norm("opt.final_norm") : nil
        lmHead = t.has("opt.lm_head.weight") ? try t.matrix("opt.lm_head.weight") : table
        stack = try OPTStack(t, prefix: "opt", config: c.layers)
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
    private let x = FloatBuffer(), e = FloatBuffer(), posRow = FloatBuffer(), head = FloatBuffer(), projected = FloatBuffer()
    private let logitsBuffer = FloatBuffer()

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
        try model.embed.lookup(x, ids: ids[...], scratchE: e, context: context, name: "opt.embed")
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
