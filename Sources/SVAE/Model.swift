import SVAEFormat
import SVAEKernels
import SVAEModel
import SVAETokenizer
import Synchronization

/// Errors of the Swift API: everything below it, plus text-level problems.
public enum SVAEError: Error, CustomStringConvertible, Sendable {
    case model(ModelError)
    /// Input `index` of a batch (a sentence vector) is invalid.
    case vector(index: Int, ModelError)
    case tokenizer(String)
    /// The model file has no tokenizer section: use the id-based calls.
    case noTokenizer(file: String)
    case kernel(KernelError)

    public var description: String {
        switch self {
        case let .model(e): e.description
        case let .vector(i, e): "vector \(i): \(e)"
        case let .tokenizer(m): "tokenizer: \(m)"
        case let .noTokenizer(f): "\(f): expected a tokenizer section, found none (this model takes and returns token ids)"
        case let .kernel(e): "kernels: \(e)"
        }
    }
}

/// Options for opening a model.
public struct ModelOptions: Sendable {
    /// Worker threads per session (default: physical cores).
    public var threads: Int = ThreadPool.physicalCores
    public init(threads: Int = ThreadPool.physicalCores) { self.threads = threads }
}

/// What `reconstruct` returns for one text.
public struct Reconstruction: Sendable, Equatable {
    public var text: String
    /// Input ids as the tokenizer gives them (BOS first for OPT-style tokenizers).
    public var ids: [Int32]
    public var vector: [Float]
    /// Generated ids (EOS last when the decoder produced it).
    public var outputIDs: [Int32]
    public var output: String
    /// The generated tokens equal the input tokens (BOS and EOS aside).
    public var exact: Bool
}

/// A model opened from a `.svae` file: the read-only weights (mapped, shared) and the tokenizer.
/// Architecture `svae` (SentenceVAE: encode, decode, reconstruct), `sllm` (Sentence-level LLM:
/// the same plus `generate`) or `opt` (token-level OPT causal LM: `generate` only).
/// `Sendable`: share one instance between threads. Calls on the model itself use a small pool of
/// sessions; for full control create one `Session` per thread.
public final class Model: Sendable {
    /// The SentenceVAE of an `svae` file, or the encoder/decoder of an `sllm` file; nil for `opt`.
    public let vae: SentenceVAE?
    /// The SLLM of an `sllm` file.
    public let sentenceLLM: SentenceLLM?
    /// The causal LM of an `opt` file.
    public let opt: OPTLanguageModel?
    public let file: SVAEFile
    public let tokenizer: BPETokenizer?
    public let options: ModelOptions
    private let idle = Mutex<[Session]>([])

    public var path: String { file.path }
    /// `svae`, `sllm` or `opt`.
    public var architecture: String { file.architecture ?? "none" }
    /// Hyperparameters of the SentenceVAE (`svae`, `sllm`); nil for `opt`.
    public var config: SentenceVAEConfig? { vae?.config }

    /// Opens, validates and maps a model file of any architecture.
    public init(path: String, options: ModelOptions = ModelOptions()) throws(SVAEError) {
        let f: SVAEFile
        do { f = try SVAEFile.open(path) } catch { throw .model(.format(error)) }
        file = f
        do throws(ModelError) {
            switch f.architecture ?? "none" {
            case "sllm":
                let l = try SentenceLLM(file: f)
                (sentenceLLM, vae, opt) = (l, l.vae, nil)
            case "opt":
                (sentenceLLM, vae, opt) = (nil, nil, try OPTLanguageModel(file: f))
            case "svae":
                (sentenceLLM, vae, opt) = (nil, try SentenceVAE(file: f), nil)
            case let other:
                throw ModelError.wrongArchitecture(file: path, expected: "svae, sllm or opt", found: other)
            }
        } catch {
            throw .model(error)
        }
        self.options = options
        if let t = f.tokenizer {
            do {
                tokenizer = try BPETokenizer(section: t, metadata: f.metadata)
            } catch {
                throw .tokenizer("\(path): \(error)")
            }
        } else {
            tokenizer = nil
        }
    }

    /// The SentenceVAE, or `.wrongArchitecture` for an `opt` file.
    func requireVAE() throws(SVAEError) -> SentenceVAE {
        guard let v = vae else { throw .model(.wrongArchitecture(file: path, expected: "svae or sllm", found: architecture)) }
        return v
    }

    /// A new session (its own scratch, KV caches and thread pool). Use one per thread.
    public func makeSession(threads: Int? = nil) throws(SVAEError) -> Session {
        do {
            return Session(model: self, context: try KernelContext(threads: threads ?? options.threads))
        } catch {
            throw .kernel(error)
        }
    }

    /// Runs `body` with an idle session (made on demand, returned afterwards).
    public func withSession<R>(_ body: (Session) throws(SVAEError) -> R) throws(SVAEError) -> R {
        let popped = idle.withLock { $0.popLast() }
        let s: Session
        if let p = popped { s = p } else { s = try makeSession() }
        defer { idle.withLock { $0.append(s) } }
        return try body(s)
    }

    func requireTokenizer() throws(SVAEError) -> BPETokenizer {
        guard let t = tokenizer else { throw .noTokenizer(file: path) }
        return t
    }

    /// Token ids of a text (BOS first when the model's tokenizer adds it).
    public func tokenize(_ text: String) throws(SVAEError) -> [Int32] { try requireTokenizer().encode(text) }

    /// Text of token ids; special tokens (BOS/EOS/PAD) are skipped. An id outside the tokenizer
    /// is an error (see `text(of:)` for generated ids).
    public func detokenize(_ ids: [Int32]) throws(SVAEError) -> String {
        let t = try requireTokenizer()
        do { return try t.decode(ids) } catch { throw .tokenizer("\(error)") }
    }

    /// Text of generated ids: like `detokenize`, but ids the model can produce and the tokenizer
    /// does not know are left out. OPT pads its vocabulary (50272 rows, 50265 tokens), so a
    /// decoder may pick such an id; the ids themselves are always returned unchanged.
    public func text(of ids: [Int32]) throws(SVAEError) -> String {
        let t = try requireTokenizer()
        let known = ids.filter { $0 >= 0 && Int($0) < t.vocabularySize }
        do { return try t.decode(known) } catch { throw .tokenizer("\(error)") }
    }

    public func encode(_ texts: [String]) throws(SVAEError) -> [[Float]] { try withSession { (s) throws(SVAEError) in try s.encode(texts) } }
    public func encode(ids: [[Int32]]) throws(SVAEError) -> [[Float]] { try withSession { (s) throws(SVAEError) in try s.encode(ids: ids) } }
    public func decode(_ vector: [Float], sampler: Sampler? = nil, onToken: ((Int32) -> Bool)? = nil) throws(SVAEError) -> [Int32] {
        try withSession { (s) throws(SVAEError) in try s.decode(vector, sampler: sampler, onToken: onToken) }
    }
    public func reconstruct(_ text: String) throws(SVAEError) -> Reconstruction {
        try withSession { (s) throws(SVAEError) in try s.reconstruct(text) }
    }
}

/// Per-thread state: kernel context (thread pool, scratch) and decoder sessions. A session may move
/// between threads (hence `@unchecked Sendable`) but must never be used by two at once.
public final class Session: @unchecked Sendable {
    public let model: Model
    let context: KernelContext

    private var sllm: SLLMSession?
    private var optLM: OPTSession?
    /// Batched decoding's caches (`decode(_:batch:…)`), kept between calls.
    var batchDecoder: DecoderBatch?

    init(model: Model, context: KernelContext) {
        self.model = model
        self.context = context
    }

    /// This session's SLLM state (KV cache kept between calls, reset by each generation).
    func sllmSession(_ l: SentenceLLM) -> SLLMSession {
        if let s = sllm { return s }
        let s = l.makeSession(context: context)
        sllm = s
        return s
    }

    /// This session's OPT state.
    func optSession(_ o: OPTLanguageModel) -> OPTSession {
        if let s = optLM { return s }
        let s = o.makeSession(context: context)
        optLM = s
        return s
    }

    /// Sentence vectors of token-id sequences (BOS first, as the tokenizer gives them).
    public func encode(ids: [[Int32]]) throws(SVAEError) -> [[Float]] {
        let vae = try model.requireVAE()
        do { return try vae.encode(ids, context: context) } catch { throw .model(error) }
    }

    /// Sentence vectors of texts, one per text (each text is one sentence).
    public func encode(_ texts: [String]) throws(SVAEError) -> [[Float]] {
        let t = try model.requireTokenizer()
        return try encode(ids: texts.map { t.encode($0) })
    }

    /// Generated ids for a sentence vector: greedy, or sampled with `sampler`. `onToken` streams
    /// each id as it is produced (return false to stop).
    public func decode(_ vector: [Float], maxTokens: Int? = nil, sampler: Sampler? = nil,
                       onToken: ((Int32) -> Bool)? = nil) throws(SVAEError) -> [Int32] {
        let vae = try model.requireVAE()
        do {
            let session = try DecoderSession(model: vae, vector: vector, context: context)
            return try session.generate(maxTokens: maxTokens, sampler: sampler, onToken: onToken)
        } catch {
            throw .model(error)
        }
    }

    /// A decoder for one sentence vector, stepping token by token (KV cache inside).
    public func makeDecoder(_ vector: [Float]) throws(SVAEError) -> DecoderSession {
        let vae = try model.requireVAE()
        do { return try DecoderSession(model: vae, vector: vector, context: context) } catch { throw .model(error) }
    }

    /// Encode then greedily decode one text.
    public func reconstruct(_ text: String) throws(SVAEError) -> Reconstruction {
        let ids = try model.tokenize(text)
        return try reconstruct(ids: ids, text: text)
    }

    /// Encode then greedily decode token ids; `text` is carried through (empty for id inputs).
    public func reconstruct(ids: [Int32], text: String = "") throws(SVAEError) -> Reconstruction {
        let vector = try encode(ids: [ids])[0]
        return try reconstruction(ids: ids, text: text, vector: vector, output: try decode(vector))
    }

    /// What `reconstruct` returns for input `ids` (`text`), its vector and the generated ids `out`.
    func reconstruction(ids: [Int32], text: String, vector: [Float], output out: [Int32]) throws(SVAEError) -> Reconstruction {
        let c = try model.requireVAE().config
        let input = ids.first == c.bos ? Array(ids.dropFirst()) : ids
        let generated = out.last == c.eos ? Array(out.dropLast()) : out
        let output = model.tokenizer == nil ? "" : try model.text(of: out)
        return Reconstruction(text: text, ids: ids, vector: vector, outputIDs: out, output: output,
                              exact: generated == input && out.last == c.eos)
    }
}
