import SVAEFormat
import SVAEKernels

// Sentence-level LLM (SLLM): a SentenceVAE whose sentence vectors are the "tokens" of OPT
// decoder layers. Ports `sentence_vae/models/sentence_llm_model.py` (BestAnHongjun/SentenceVAE)
// as described in docs/reference.md, "SLLM":
//
//   1. prompt sentences (ids, BOS first) → sentence vectors v_i (`svae.encoder`, batched)
//   2. h_i = v_i + llm_pe[i + 2]                                   (OPT learned positions)
//   3. h = OPT layers(h)   (NO final layer norm, NO project_out)   (prefill: see below)
//   4. stop = argmax(fc(h_last)); 0 ends the passage. The reference trains `fc` against
//      `sentence_mask` shifted left by one, so class 1 = "a sentence follows", 0 = "stop".
//   5. otherwise `svae.decoder` generates the next sentence from memory h_last; that sentence is
//      encoded again and appended at the next position through the layers' KV cache; go to 4.
//
// Prefill attention among prompt sentences follows `llm.prefill_attention`:
// `bidirectional` reproduces the reference, which calls the OPT layers with no mask (eager
// attention of transformers ≤ 4.45: every prompt sentence sees every other, also in training);
// `causal` is what an SLLM trained with a proper mask needs. Generated sentences attend every
// earlier position either way (they are appended one at a time).
//
// Deviation, on purpose: the reference re-encodes a generated sentence without a mask, and its
// `hidden_state[None] = 0` then zeroes the whole encoder output, so every generated sentence
// encodes to `lnorm.bias`. We encode the generated ids (BOS first, EOS dropped, as the
// tokenizer gives a sentence) at their true length, exactly like a prompt sentence.

/// Attention among the prompt's sentences during prefill (`llm.prefill_attention`).
public typealias PrefillAttention = PrefillAttentionName

/// Hyperparameters of an SLLM's own part (`llm.*` keys).
public struct SentenceLLMConfig: Sendable, Equatable {
    public var layers: OPTStackConfig
    public var prefill: PrefillAttention
    /// Sentence cap of the splitter (`llm.max_sentences`, 64 when absent).
    public var maxSentences: Int
}

/// An SLLM read in place from a mapped `.svae` file of architecture `sllm`. Immutable: share one
/// instance between threads; each thread uses its own `SLLMSession`.
public final class SentenceLLM: @unchecked Sendable {
    /// The sentence encoder and decoder (`encoder.*`, `decoder.*`).
    public let vae: SentenceVAE
    public let config: SentenceLLMConfig
    let stack: OPTStack    // positions [P + 2, d] and the layers over sentence positions
    let stopHead: Linear   // [2, d] + [2] (the reference's `fc`)

    public var file: SVAEFile { vae.file }

    /// Builds the model from a validated file of architecture `sllm`.
    public init(file: SVAEFile) throws(ModelError) {
        let arch = file.architecture ?? "none"
        guard arch == ArchitectureName.sllm.rawValue else { throw .wrongArchitecture(file: file.path, expected: ArchitectureName.sllm.rawValue, found: arch) }
        vae = try SentenceVAE(file: file)  // checks the host and the schema
        let m = file.metadata
        let mode = m.string(.llmPrefillAttention) ?? PrefillAttention.bidirectional.rawValue
        guard let prefill = PrefillAttention(rawValue: mode) else {
            throw .format(SVAEFormatError(file: file.path, .hyperparameter(key: MetadataKey.llmPrefillAttention.rawValue, expected: "bidirectional or causal", found: mode)))
        }
        config = SentenceLLMConfig(layers: OPTStackConfig(m, keys: .llm), prefill: prefill, maxSentences: m.int(.llmMaxSentences) ?? 64)
        let t = TensorTable(file: file)
        stack = try OPTStack(t, names: .llm, config: config.layers)
        stopHead = try t.linear(TensorName.llmStopHead)
    }

    /// Opens and validates a file, then builds the model.
    public convenience init(path: String) throws(ModelError) {
        try self.init(file: try openModelFile(path))
    }

    /// A session with its own KV cache and scratch, running on `context`. One per thread.
    public func makeSession(context: KernelContext) -> SLLMSession { SLLMSession(model: self, context: context) }

    /// KV-cache bytes of the OPT layers per sentence position (f32 keys and values).
    public var cacheBytesPerSentence: Int { stack.cacheBytesPerPosition }
}

/// What `SLLMSession.generate` returns.
public struct SLLMOutput: Sendable, Equatable {
    /// Generated sentences in order: ids without BOS, EOS last when the decoder produced it.
    public var sentences: [[Int32]]
    public var stopReason: StopReason
    /// Generated tokens (EOS included).
    public var tokenCount: Int { sentences.reduce(0) { $0 + $1.count } }
}

/// Per-thread state of an SLLM: the OPT layers' KV cache over sentence positions, the hidden
/// state of the last position, and scratch. Not thread-safe.
public final class SLLMSession {
    public let model: SentenceLLM
    let context: KernelContext
    /// Keys and values of the OPT layers, one row per sentence position.
    public let cache: KVCache
    private let scratch = OPTScratch()
    private let x = FloatBuffer()       // [n, d] sentence vectors run at once
    private let posRow = FloatBuffer()  // [d] one row of the position table
    private let logits = FloatBuffer()  // [2] stop-head logits
    /// Output of the OPT layers at the last position [d] (empty before the first sentence).
    public private(set) var lastHidden: [Float] = []

    init(model: SentenceLLM, context: KernelContext) {
        self.model = model
        self.context = context
        cache = model.stack.makeCache()
    }

    /// Sentence positions held (prompt and generated).
    public var positions: Int { cache.length }

    /// Forgets every sentence.
    public func reset() {
        cache.reset()
        lastHidden = []
    }

    /// Encodes `sentences` (ids, BOS first, each at most `svae.max_seq_len`) as one batch and
    /// runs them through the OPT layers at the next positions; the attention among them follows
    /// `attention` (default: the file's `llm.prefill_attention`), and each also attends every
    /// position already cached.
    ///
    /// - Returns: the layers' output for each sentence, [n][d].
    /// - Throws: `.emptyPrompt`, the encoder's input errors (with the sentence's index), `.contextFull`.
    @discardableResult
    public func prefill(_ sentences: [[Int32]], attention: PrefillAttention? = nil) throws(ModelError) -> [[Float]] {
        guard !sentences.isEmpty else { throw .emptyPrompt }
        let c = model.config.layers
        guard positions + sentences.count <= c.maxPositions else {
            throw .contextFull(positions: positions + sentences.count, max: c.maxPositions)
        }
        let vectors = try model.vae.encode(sentences, context: context)
        return try run(vectors, causal: (attention ?? model.config.prefill) == .causal)
    }

    /// Encodes one sentence (ids, BOS first) and appends it at the next position (it attends all
    /// earlier positions). Returns the layers' output for it [d].
    @discardableResult
    public func append(_ sentence: [Int32]) throws(ModelError) -> [Float] {
        let c = model.config.layers
        guard positions < c.maxPositions else { throw .contextFull(positions: positions + 1, max: c.maxPositions) }
        let v = try model.vae.encode([sentence], context: context)
        return try run(v, causal: true)[0]
    }

    private func run(_ vectors: [[Float]], causal: Bool) throws(ModelError) -> [[Float]] {
        let d = model.config.layers.hidden, n = vectors.count
        let x = self.x.view(n * d)
        for (i, v) in vectors.enumerated() { _ = x.row(i, d).update(fromContentsOf: v) }
        try model.stack.addPositions(x, n: n, first: positions, scratch: posRow)
        try model.stack.forward(x, n: n, cache: cache, causal: causal, scratch: scratch, context: context)
        let out = (0..<n).map { Array(x.row($0, d)) }
        lastHidden = out[n - 1]
        return out
    }

    /// Stop-head logits [2] of a hidden state (`fc(h)`): class 0 = stop, class 1 = continue.
    public func stopLogits(_ hidden: [Float]) throws(ModelError) -> [Float] {
        let d = model.config.layers.hidden
        guard hidden.count == d else { throw .vectorSize(expected: d, found: hidden.count) }
        let y = logits.view(2)
        hidden.withUnsafeBufferPointer { context.linear(y, model.stopHead, $0, n: 1) }
        return Array(y)
    }

    /// True when the stop head ends the passage after the last position (argmax = 0; the first
    /// index wins a tie, like `torch.argmax`).
    public func stopsAfterLast() throws(ModelError) -> Bool {
        let l = try stopLogits(lastHidden)
        return !(l[1] > l[0])
    }

    /// A sentence decoder whose memory is the last position's hidden state.
    public func makeDecoder() throws(ModelError) -> DecoderSession {
        try DecoderSession(model: model.vae, vector: lastHidden, context: context)
    }

    /// The ids to encode for a generated sentence: BOS first (as the tokenizer gives a sentence),
    /// the trailing EOS dropped.
    public func sentenceForEncoding(_ generated: [Int32]) -> [Int32] {
        let c = model.vae.config
        return [c.bos] + (generated.last == c.eos ? generated.dropLast() : generated[...])
    }

    /// Continues a passage sentence by sentence.
    ///
    /// Resets the session, prefills `promptSentences` (ids of each sentence, BOS first), then
    /// repeats: stop when the stop head says so; otherwise decode the next sentence token by token
    /// from the last hidden state (greedy, or `options.sampler`), stream it, encode it and append
    /// it. Limits: `options.maxSentences`, `options.maxTokens` (a sentence cut by it is returned
    /// and ends the run), `svae.max_seq_len − 1` tokens per sentence, `llm.max_positions`.
    ///
    /// - Parameters:
    ///   - onToken: each generated id as it is produced; return false to stop.
    ///   - onSentence: each finished sentence (ids, EOS last when produced); return false to stop.
    public func generate(promptSentences: [[Int32]], options: GenerationOptions = GenerationOptions(),
                         onToken: ((Int32) -> Bool)? = nil, onSentence: (([Int32]) -> Bool)? = nil) throws(ModelError) -> SLLMOutput {
        try options.validate()
        reset()
        try prefill(promptSentences)
        let c = model.vae.config
        var sampler = options.sampler
        var out: [[Int32]] = []
        var tokens = 0
        while true {
            if out.count >= options.maxSentences { return SLLMOutput(sentences: out, stopReason: .maxSentences) }
            if tokens >= options.maxTokens { return SLLMOutput(sentences: out, stopReason: .maxTokens) }
            if try stopsAfterLast() { return SLLMOutput(sentences: out, stopReason: .stopHead) }
            if positions >= model.config.layers.maxPositions { return SLLMOutput(sentences: out, stopReason: .contextFull) }
            let decoder = try makeDecoder()
            let cap = min(options.maxTokens - tokens, c.maxSeqLen - 1)
            var ids: [Int32] = []
            var previous = c.bos
            var interrupted = false
            while ids.count < cap {
                let next = sampler.pick(try decoder.step(previous))
                ids.append(next)
                tokens += 1
                if let cb = onToken, !cb(next) { interrupted = true; break }
                if next == c.eos { break }
                previous = next
            }
            out.append(ids)
            if interrupted { return SLLMOutput(sentences: out, stopReason: .callback) }
            if let cb = onSentence, !cb(ids) { return SLLMOutput(sentences: out, stopReason: .callback) }
            if tokens >= options.maxTokens { return SLLMOutput(sentences: out, stopReason: .maxTokens) }
            if out.count >= options.maxSentences { return SLLMOutput(sentences: out, stopReason: .maxSentences) }
            if positions >= model.config.layers.maxPositions { return SLLMOutput(sentences: out, stopReason: .contextFull) }
            try append(sentenceForEncoding(ids))
        }
    }
}
