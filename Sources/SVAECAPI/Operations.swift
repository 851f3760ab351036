// The C operations: text (tokenize, detokenize, split), encode, decode, reconstruct. Each one
// validates every pointer and count, checks output capacities (before the work when the size
// is known in advance), and reports failures through `ContextHandle.call`.
import CSVAEAPI
import SVAE
import SVAEModel
import SVAETokenizer

// MARK: - text

@_cdecl("svae_tokenize")
public func cTokenize(_ ctx: OpaquePointer?, _ text: UnsafePointer<CChar>?,
                      _ ids: UnsafeMutablePointer<Int32>?, _ idsCapacity: Int, _ nIDs: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_tokenize") { (c) throws(CAPIError) in
        let out = try Output(ids, idsCapacity, nIDs, "ids")
        let s = try readText(text, "text")
        let tokens: [Int32]
        do throws(SVAEError) { tokens = try c.model.tokenize(s) } catch { throw CAPIError(error) }
        guard out.fits(tokens.count) else { throw out.tooSmall(tokens.count) }
        out.write(tokens)
    }
}

@_cdecl("svae_detokenize")
public func cDetokenize(_ ctx: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ nIDs: Int32,
                        _ text: UnsafeMutablePointer<CChar>?, _ textCapacity: Int, _ nBytes: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_detokenize") { (c) throws(CAPIError) in
        let out = try Output(text, textCapacity, nBytes, "text")
        let tokens = try readArray(ids, count: try checkCount(nIDs, "n_ids", max: Limits.textBytes), "ids")
        guard let tokenizer = c.model.tokenizer else { throw CAPIError(.noTokenizer(file: c.model.path)) }
        // The tokenizer's vocabulary, which can be smaller than the model's (padded embeddings).
        try checkIDs(tokens, vocab: tokenizer.vocabularySize, input: 0)
        let s: String
        do throws(SVAEError) { s = try c.model.detokenize(tokens) } catch { throw CAPIError(error) }
        try out.writeOrThrow(text: s)
    }
}

/// Every id in 0 ..< vocab (checked here so that the code is `SVAE_ERR_OUT_OF_RANGE`).
func checkIDs(_ ids: [Int32], vocab: Int, input: Int) throws(CAPIError) {
    if let p = ids.firstIndex(where: { $0 < 0 || Int($0) >= vocab }) {
        throw CAPIError(.model(.tokenOutOfRange(input: input, position: p, id: ids[p], vocab: vocab)))
    }
}

@_cdecl("svae_split_sentences")
public func cSplitSentences(_ ctx: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ maxSentences: Int32, _ mimicReference: Int32,
                            _ spans: UnsafeMutablePointer<svae_span>?, _ spansCapacity: Int,
                            _ nSentences: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_split_sentences") { (_) throws(CAPIError) in
        let out = try Output(spans, spansCapacity, nSentences, "spans")
        let cap = try checkCount(maxSentences, "max_sentences", max: Limits.batch)
        guard cap > 0 else { throw .invalidArgument("max_sentences: expected > 0, found 0") }
        let s = try readText(text, "text")
        let sentences = SentenceSplitter(maxSentences: cap, mimicReference: mimicReference != 0).split(s)
        // The sentences are consecutive pieces of the text from its start (the splitter's contract).
        var offset = 0
        let result = sentences.map { piece in
            defer { offset += piece.utf8.count }
            return svae_span(offset: offset, length: piece.utf8.count)
        }
        guard out.fits(result.count) else { throw out.tooSmall(result.count) }
        out.write(result)
    }
}

// MARK: - encode

/// Needed floats for `n` vectors, checked against the output before any work.
private func vectorOutput(_ c: ContextHandle, _ out: Output<Float>, rows n: Int) throws(CAPIError) -> Int {
    let needed = try n * c.handle.config().hidden  // n ≤ SVAE_MAX_BATCH: no overflow
    guard out.fits(needed) else { throw out.tooSmall(needed) }
    return needed
}

/// Encodes token ids and writes the row-major vectors.
private func encodeIDs(_ c: ContextHandle, _ seqs: [[Int32]], into out: Output<Float>) throws(CAPIError) {
    let maxLen = try c.handle.config().maxSeqLen
    for (i, s) in seqs.enumerated() {
        guard s.count <= maxLen else { throw CAPIError(.model(.sentenceTooLong(input: i, tokens: s.count, max: maxLen))) }
        try checkIDs(s, vocab: try c.handle.config().vocab, input: i)
    }
    guard !seqs.isEmpty else { return }
    let vectors: [[Float]]
    do { vectors = try c.session.encode(ids: seqs) } catch { throw CAPIError(error) }
    out.write(rows: vectors)
}

@_cdecl("svae_encode_texts")
public func cEncodeTexts(_ ctx: OpaquePointer?, _ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ nTexts: Int32,
                         _ vectors: UnsafeMutablePointer<Float>?, _ capacity: Int, _ nOut: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_encode_texts", usesSession: true) { (c) throws(CAPIError) in
        let out = try Output(vectors, capacity, nOut, "out")
        let n = try checkCount(nTexts, "n_texts", max: Limits.batch)
        let pointers = try readArray(texts, count: n, "texts")
        _ = try vectorOutput(c, out, rows: n)
        guard let tokenizer = c.model.tokenizer else { throw CAPIError(.noTokenizer(file: c.model.path)) }
        var seqs: [[Int32]] = []
        for (i, p) in pointers.enumerated() { seqs.append(tokenizer.encode(try readText(p, "texts[\(i)]"))) }
        try encodeIDs(c, seqs, into: out)
    }
}

@_cdecl("svae_encode_ids")
public func cEncodeIDs(_ ctx: OpaquePointer?, _ seqs: UnsafePointer<UnsafePointer<Int32>?>?, _ lengths: UnsafePointer<Int32>?,
                       _ nSeqs: Int32, _ vectors: UnsafeMutablePointer<Float>?, _ capacity: Int,
                       _ nOut: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_encode_ids", usesSession: true) { (c) throws(CAPIError) in
        let out = try Output(vectors, capacity, nOut, "out")
        let n = try checkCount(nSeqs, "n_seqs", max: Limits.batch)
        let pointers = try readArray(seqs, count: n, "seqs")
        let counts = try readArray(lengths, count: n, "lengths")
        _ = try vectorOutput(c, out, rows: n)
        let maxLen = try c.handle.config().maxSeqLen
        var ids: [[Int32]] = []
        for i in 0..<n {
            guard counts[i] >= 0 else { throw .invalidArgument("lengths[\(i)]: expected ≥ 0, found \(counts[i])") }
            guard Int(counts[i]) <= maxLen else {
                throw CAPIError(.model(.sentenceTooLong(input: i, tokens: Int(counts[i]), max: maxLen)))
            }
            ids.append(try readArray(pointers[i], count: Int(counts[i]), "seqs[\(i)]"))
        }
        try encodeIDs(c, ids, into: out)
    }
}

// MARK: - decode

@_cdecl("svae_decode_default_params")
public func cDecodeDefaultParams() -> svae_decode_params {
    svae_decode_params(max_tokens: 0, temperature: 0, top_k: 0, top_p: 1, seed: 0, on_token: nil, user_data: nil)
}

/// The sampler of decode params (nil = greedy), validated.
private func sampler(_ p: svae_decode_params) throws(CAPIError) -> Sampler? {
    guard p.temperature.isFinite, p.temperature >= 0 else {
        throw .invalidArgument("temperature: expected a finite value ≥ 0, found \(p.temperature)")
    }
    guard p.top_k >= 0 else { throw .invalidArgument("top_k: expected ≥ 0, found \(p.top_k)") }
    guard p.top_p > 0, p.top_p <= 1 else { throw .invalidArgument("top_p: expected a value in (0, 1], found \(p.top_p)") }
    guard p.temperature > 0 else { return nil }
    return Sampler(temperature: p.temperature, topK: Int(p.top_k), topP: p.top_p, seed: p.seed)
}

@_cdecl("svae_decode")
public func cDecode(_ ctx: OpaquePointer?, _ vector: UnsafePointer<Float>?, _ nVector: Int32,
                    _ params: UnsafePointer<svae_decode_params>?,
                    _ ids: UnsafeMutablePointer<Int32>?, _ idsCapacity: Int, _ nIDs: UnsafeMutablePointer<Int>?,
                    _ text: UnsafeMutablePointer<CChar>?, _ textCapacity: Int, _ nBytes: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_decode", usesSession: true) { (c) throws(CAPIError) in
        // Each output is optional: skipped when both its buffer and its count pointer are NULL.
        let idsOut = ids == nil && nIDs == nil ? nil : try Output(ids, idsCapacity, nIDs, "ids")
        let textOut = text == nil && nBytes == nil ? nil : try Output(text, textCapacity, nBytes, "text")
        let p = params?.pointee ?? cDecodeDefaultParams()
        let rng = try sampler(p)
        let maxTokens = try checkCount(p.max_tokens, "max_tokens", max: Int(Int32.max))
        if textOut != nil && c.model.tokenizer == nil { throw CAPIError(.noTokenizer(file: c.model.path)) }
        let d = try c.handle.config().hidden
        let n = try checkCount(nVector, "n_vector", max: Int(Int32.max))
        guard n == d else { throw CAPIError(.model(.vectorSize(expected: d, found: n))) }
        let v = try readArray(vector, count: n, "vector")
        var onToken: ((Int32) -> Bool)? = nil
        if let cb = p.on_token {
            let user = p.user_data
            onToken = { cb($0, user) != 0 }
        }
        let generated: [Int32]
        do throws(SVAEError) {
            generated = try c.session.decode(v, maxTokens: maxTokens == 0 ? nil : maxTokens, sampler: rng, onToken: onToken)
        } catch { throw CAPIError(error) }
        var decoded = ""
        if textOut != nil, let tokenizer = c.model.tokenizer {
            // Ids the model can produce but the tokenizer cannot spell (a model vocabulary padded
            // beyond the tokenizer's, e.g. OPT's 50272 > 50265) have no text: leave them out.
            let spelled = generated.filter { Int($0) < tokenizer.vocabularySize }
            if spelled.count < generated.count {
                log(SVAE_LOG_WARN, "svae_decode: \(generated.count - spelled.count) generated ids are beyond the tokenizer's vocabulary (\(tokenizer.vocabularySize)) and have no text")
            }
            do throws(SVAEError) { decoded = try c.model.detokenize(spelled) } catch { throw CAPIError(error) }
        }
        // Both counts are stored before either buffer is written: all or nothing.
        let idsFit = idsOut?.fits(generated.count) ?? true
        let textFits = textOut?.fits(text: decoded) ?? true
        if let o = idsOut, !idsFit { throw o.tooSmall(generated.count) }
        if let o = textOut, !textFits { throw o.tooSmall(text: decoded) }
        idsOut?.write(generated)
        textOut?.write(text: decoded)
    }
}

@_cdecl("svae_decode_batch")
public func cDecodeBatch(_ ctx: OpaquePointer?, _ vectors: UnsafePointer<Float>?, _ nVectors: Int32, _ nHidden: Int32,
                         _ params: UnsafePointer<svae_decode_params>?, _ batchSize: Int32,
                         _ ids: UnsafeMutablePointer<Int32>?, _ idsPerVector: Int, _ nIDs: UnsafeMutablePointer<Int>?,
                         _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    ContextHandle.call(ctx, "svae_decode_batch", usesSession: true) { (c) throws(CAPIError) in
        let p = params?.pointee ?? cDecodeDefaultParams()
        guard p.on_token == nil else {
            throw .invalidArgument("params.on_token: expected NULL (svae_decode_batch does not stream), found a callback")
        }
        let rng = try sampler(p)
        let maxTokens = try checkCount(p.max_tokens, "max_tokens", max: Int(Int32.max))
        let n = try checkCount(nVectors, "n_vectors", max: Limits.batch)
        let batch = try checkCount(batchSize, "batch_size", max: Int(SVAE_MAX_DECODE_BATCH))
        let d = try c.handle.config().hidden
        let h = try checkCount(nHidden, "n_hidden", max: Int(Int32.max))
        guard h == d else { throw CAPIError(.model(.vectorSize(expected: d, found: h))) }
        // size_t arrives as Int: a "negative" count is ≥ 2^63, i.e. absurd.
        guard idsPerVector >= 0, !n.multipliedReportingOverflow(by: idsPerVector).overflow else {
            throw .invalidArgument("ids_per_vector: \(UInt(bitPattern: idsPerVector)) is absurd")
        }
        guard n > 0 else { return }
        guard let vectors else { throw .invalidArgument("vectors: expected \(n) × \(d) floats, found NULL") }
        guard let nIDs else { throw .invalidArgument("n_ids: expected \(n) counts, found NULL") }
        guard let status else { throw .invalidArgument("status: expected \(n) statuses, found NULL") }
        guard ids != nil || idsPerVector == 0 else { throw .invalidArgument("ids: expected a buffer for \(n) × \(idsPerVector) ids, found NULL") }
        var taken = 0
        var firstFailure: CAPIError?
        do throws(SVAEError) {
            try c.session.decode(batch: min(batch == 0 ? Int(SVAE_DEFAULT_DECODE_BATCH) : batch, n), maxTokens: maxTokens == 0 ? nil : maxTokens,
                                 sampler: rng, next: {
                guard taken < n else { return nil }
                defer { taken += 1 }
                return Array(UnsafeBufferPointer(start: vectors + taken * d, count: d))
            }) { i, r in
                var failure: CAPIError?
                switch r {
                case let .success(out):
                    nIDs[i] = out.count
                    if out.count <= idsPerVector, let ids {
                        out.withUnsafeBufferPointer { (ids + i * idsPerVector).update(from: $0.baseAddress!, count: out.count) }
                    } else if !out.isEmpty {
                        failure = .bufferTooSmall("vector \(i): ids_per_vector: expected at least \(out.count), found \(idsPerVector)")
                    }
                case let .failure(e):
                    nIDs[i] = 0
                    failure = CAPIError(e)
                }
                status[i] = failure?.status ?? SVAE_OK.rawValue
                if firstFailure == nil { firstFailure = failure }
            }
        } catch {
            throw CAPIError(error)
        }
        if let firstFailure { throw firstFailure }
    }
}

@_cdecl("svae_reconstruct")
public func cReconstruct(_ ctx: OpaquePointer?, _ text: UnsafePointer<CChar>?,
                         _ output: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ nBytes: UnsafeMutablePointer<Int>?,
                         _ exact: UnsafeMutablePointer<Int32>?) -> Int32 {
    ContextHandle.call(ctx, "svae_reconstruct", usesSession: true) { (c) throws(CAPIError) in
        let out = try Output(output, capacity, nBytes, "out")
        let s = try readText(text, "text")
        guard let tokenizer = c.model.tokenizer else { throw CAPIError(.noTokenizer(file: c.model.path)) }
        let ids = tokenizer.encode(s)
        let maxLen = try c.handle.config().maxSeqLen
        guard ids.count <= maxLen else {
            throw .tooLong("text: expected at most \(maxLen) tokens (max_seq_len, BOS included), found \(ids.count)")
        }
        let r: Reconstruction
        do throws(SVAEError) { r = try c.session.reconstruct(ids: ids, text: s) } catch { throw CAPIError(error) }
        try out.writeOrThrow(text: r.output)
        exact?.pointee = r.exact ? 1 : 0
    }
}

// MARK: - generate (SLLM)

@_cdecl("svae_generate_default_params")
public func cGenerateDefaultParams() -> svae_generate_params {
    svae_generate_params(max_sentences: 0, max_tokens: 0, temperature: 0, top_k: 0, top_p: 1, seed: 0,
                         on_token: nil, on_sentence: nil, user_data: nil)
}

@_cdecl("svae_generate")
public func cGenerate(_ ctx: OpaquePointer?, _ prompt: UnsafePointer<CChar>?, _ params: UnsafePointer<svae_generate_params>?,
                      _ output: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ nBytes: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_generate", usesSession: true) { (c) throws(CAPIError) in
        let out = try Output(output, capacity, nBytes, "out")
        let text = try readText(prompt, "prompt")
        let p = params?.pointee ?? cGenerateDefaultParams()
        guard p.temperature.isFinite, p.temperature >= 0 else {
            throw .invalidArgument("temperature: expected a finite value ≥ 0, found \(p.temperature)")
        }
        guard p.top_k >= 0 else { throw .invalidArgument("top_k: expected ≥ 0, found \(p.top_k)") }
        guard p.top_p > 0, p.top_p <= 1 else { throw .invalidArgument("top_p: expected a value in (0, 1], found \(p.top_p)") }
        let maxSentences = try checkCount(p.max_sentences, "max_sentences", max: 1 << 20)
        let maxTokens = try checkCount(p.max_tokens, "max_tokens", max: 1 << 24)
        guard c.model.architecture == "sllm" || c.model.architecture == "opt" else {
            throw .model("\(c.model.path): svae_generate needs an sllm or opt file, found architecture \(c.model.architecture)")
        }
        let options = GenerationOptions(maxSentences: maxSentences == 0 ? 16 : maxSentences, maxTokens: maxTokens == 0 ? 256 : maxTokens,
                                        temperature: p.temperature, topK: Int(p.top_k), topP: p.top_p, seed: p.seed)
        let user = p.user_data
        let onToken: ((Int32) -> Bool)? = p.on_token.map { cb in { cb($0, user) != 0 } }
        let onSentence: (([Int32], String) -> Bool)? = p.on_sentence.map { cb in { _, t in t.withCString { cb($0, user) != 0 } } }
        let g: Generation
        do throws(SVAEError) {
            g = try c.session.generate(prompt: text, options: options, onToken: onToken, onSentence: onSentence)
        } catch {
            throw CAPIError(error)
        }
        try out.writeOrThrow(text: g.text)
    }
}
