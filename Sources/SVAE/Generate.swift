import SVAEModel
import SVAETokenizer

/// What `generate` returns.
public struct Generation: Sendable, Equatable {
    /// Prompt as the model saw it: SLLM, one entry per sentence (ids BOS first); OPT, one entry.
    public var promptIDs: [[Int32]]
    /// Generated ids: SLLM, one entry per sentence (EOS last when produced); OPT, one entry.
    public var ids: [[Int32]]
    /// Text of each entry of `ids` (empty strings without a tokenizer).
    public var texts: [String]
    public var stopReason: StopReason
    /// The generated text (the entries of `texts` joined).
    public var text: String { texts.joined() }
    /// Generated tokens, EOS included.
    public var tokenCount: Int { ids.reduce(0) { $0 + $1.count } }
}

extension Model {
    /// Continues a text: SLLM files split it into sentences (`SentenceSplitter`, cap
    /// `llm.max_sentences`) and generate sentence by sentence; OPT files generate token by
    /// token. Needs a tokenizer section.
    ///
    /// - Parameters:
    ///   - onToken: each generated id as it is produced; return false to stop.
    ///   - onSentence: SLLM, each generated sentence (ids, text) when finished; OPT, the whole
    ///     output once at the end. Return false to stop.
    public func generate(prompt: String, options: GenerationOptions = GenerationOptions(),
                         onToken: ((Int32) -> Bool)? = nil, onSentence: (([Int32], String) -> Bool)? = nil) throws(SVAEError) -> Generation {
        try withSession { (s) throws(SVAEError) in try s.generate(prompt: prompt, options: options, onToken: onToken, onSentence: onSentence) }
    }
}

extension Session {
    /// See `Model.generate(prompt:options:onToken:onSentence:)`.
    public func generate(prompt: String, options: GenerationOptions = GenerationOptions(),
                         onToken: ((Int32) -> Bool)? = nil, onSentence: (([Int32], String) -> Bool)? = nil) throws(SVAEError) -> Generation {
        let t = try model.requireTokenizer()
        if let l = model.sentenceLLM {
            let sentences = SentenceSplitter(maxSentences: l.config.maxSentences).split(prompt)
            return try generate(promptIDs: sentences.map { t.encode($0) }, options: options, onToken: onToken, onSentence: onSentence)
        }
        return try generate(promptIDs: [t.encode(prompt)], options: options, onToken: onToken, onSentence: onSentence)
    }

    /// Id-based generation. SLLM: `promptIDs` are the prompt's sentences (ids, BOS first, each at
    /// most `svae.max_seq_len`). OPT: the rows are concatenated into one token prompt.
    /// Throws `.model(.wrongArchitecture)` for an `svae` file.
    public func generate(promptIDs: [[Int32]], options: GenerationOptions = GenerationOptions(),
                         onToken: ((Int32) -> Bool)? = nil, onSentence: (([Int32], String) -> Bool)? = nil) throws(SVAEError) -> Generation {
        // Ids the model can produce but the tokenizer does not know (OPT pads 50265 tokens to
        // 50272 rows) render as nothing rather than failing a whole generation: `Model.text(of:)`.
        func text(_ ids: [Int32]) throws(SVAEError) -> String {
            model.tokenizer == nil ? "" : try model.text(of: ids)
        }
        if let l = model.sentenceLLM {
            let s = sllmSession(l)
            var callbackError: SVAEError?
            let sentenceCallback: (([Int32]) -> Bool)? = onSentence.map { cb in
                { ids in
                    do throws(SVAEError) { return cb(ids, try text(ids)) } catch { callbackError = error; return false }
                }
            }
            let out: SLLMOutput
            do {
                out = try s.generate(promptSentences: promptIDs, options: options, onToken: onToken, onSentence: sentenceCallback)
            } catch {
                throw .model(error)
            }
            if let e = callbackError { throw e }
            var texts: [String] = []
            for ids in out.sentences { texts.append(try text(ids)) }
            return Generation(promptIDs: promptIDs, ids: out.sentences, texts: texts, stopReason: out.stopReason)
        }
        if let o = model.opt {
            let prompt = promptIDs.flatMap { $0 }
            let out: OPTOutput
            do { out = try optSession(o).generate(prompt: prompt, options: options, onToken: onToken) } catch { throw .model(error) }
            let t = try text(out.ids)
            var reason = out.stopReason
            if let cb = onSentence, !cb(out.ids, t) { reason = .callback }
            return Generation(promptIDs: [prompt], ids: [out.ids], texts: [t], stopReason: reason)
        }
        throw .model(.wrongArchitecture(file: model.path, expected: "sllm or opt (generate)", found: model.architecture))
    }
}
