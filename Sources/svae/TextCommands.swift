import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEModel
import SVAETokenizer

/// How the help of encode / reconstruct states the sentence limit.
let sentenceLimitHelp = """
    A sentence may have at most the model's svae.max_seq_len tokens, BOS included \
    (svae inspect MODEL shows it; 32 for the shipped svae-tiny). A longer line is a bad line, \
    unless --split cuts it into sentences with the reference splitter.
    """

func openModel(_ path: String, threads: Int?) throws -> Model {
    do {
        return try Model(path: path, options: ModelOptions(threads: threads ?? ModelOptions().threads))
    } catch {
        throw CLIError(error.description)
    }
}

/// The SentenceVAE of a model (encode, decode and reconstruct need one).
func requireVAE(_ m: Model) throws -> SentenceVAE {
    guard let v = m.vae else { throw CLIError("\(m.path): expected architecture svae or sllm, found \(m.architecture) (use svae generate)") }
    return v
}

/// One sentence to encode: its text (nil for id input) and ids.
struct Sentence {
    var text: String?
    var ids: [Int32]
}

/// The sentences of one input for encode / reconstruct: its ids (the tokenizer's when it is
/// text), checked against the model. With `split`, a text longer than the model's limit is cut
/// with the reference splitter and each piece is one sentence. The failure is a message for the
/// input line.
func sentences(of item: InputItem, model: Model, vae: SentenceVAE, split: Bool) -> Result<[Sentence], InputError> {
    let fail = { (m: String) in Result<[Sentence], InputError>.failure(InputError(item.location, m)) }
    var out: [Sentence]
    if let ids = item.ids {
        out = [Sentence(text: nil, ids: ids)]
    } else {
        guard let t = model.tokenizer else { return fail("this model has no tokenizer: give token ids as {\"ids\": [...]}") }
        let text = item.text ?? ""
        out = [Sentence(text: text, ids: t.encode(text))]
        if split, out[0].ids.count > vae.config.maxSeqLen {
            out = SentenceSplitter().split(text).map { Sentence(text: $0, ids: t.encode($0)) }
        }
    }
    for (k, s) in out.enumerated() {
        do throws(ModelError) {
            try vae.check(s.ids, index: 0)
        } catch {
            let which = out.count > 1 ? "sentence \(k + 1): " : ""
            switch error {
            case let .sentenceTooLong(_, n, m):
                let hint = item.ids != nil ? "" : split ? " (even after --split)" : "; --split cuts a line into sentences"
                return fail("\(which)expected at most \(m) tokens (the model's max_seq_len, BOS included), found \(n)\(hint)")
            case .emptySentence:
                return fail("\(which)expected at least one token, found none")
            case let .tokenOutOfRange(_, p, id, v):
                return fail("field \"ids\": element \(p): expected a token id in 0..<\(v), found \(id)")
            default:
                return fail(error.description)
            }
        }
    }
    return .success(out)
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sentence vectors of texts (one sentence per input).",
        discussion: """
            Input lines: text, or JSON with "text" or "ids". Output: the vector as numbers, or with \
            --json {"line", "text", "ids", "vector"} (and "sentence" with --split). Each number is the \
            shortest decimal that reads back as the same 32-bit float. \(sentenceLimitHelp)

            Examples:
              svae encode svae-tiny.svae "Rule used to estimate the integral."
              svae encode svae-tiny.svae --json --input models/svae-tiny/samples.txt
              svae encode svae-tiny.svae --split --input models/svae-tiny/heldout.txt
            """)
    @Argument(help: "The .svae model.") var model: String
    @Argument(help: "Texts, one sentence each (or --input).") var texts: [String] = []
    @OptionGroup var inputs: InputOptions
    @Flag(help: "Cut lines longer than the model's sentence limit into sentences (reference splitter).") var split = false
    @Option(parsing: .unconditional, help: "Worker threads (default: physical cores).") var threads: Int?

    func validate() throws { try requireRange(threads, "--threads", 1..., "a whole number ≥ 1") }

    func run() throws {
        let m = try openModel(model, threads: threads)
        let vae = try requireVAE(m)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        let json = inputs.json
        try InputDriver(options: inputs, texts: texts, accepted: [.text, .ids]).run(window: 64) { (items: [InputItem]) throws -> [ItemResult] in
            let prepared = items.map { sentences(of: $0, model: m, vae: vae, split: split) }
            let all = prepared.flatMap { (try? $0.get()) ?? [] }
            let vectors = try cli { () throws(SVAEError) in try session.encode(ids: all.map(\.ids)) }
            var next = vectors.makeIterator()
            return zip(items, prepared).map { (item: InputItem, p: Result<[Sentence], InputError>) -> ItemResult in
                switch p {
                case .failure(let e): return .failed(e.message)
                case .success(let ss):
                    let vs = ss.map { _ in next.next()! }
                    for (k, v) in vs.enumerated() {
                        if let p = nonFiniteProblem(v) { return .failed(ss.count > 1 ? "sentence \(k + 1): \(p)" : p) }
                    }
                    return .output(zip(ss.indices, ss).map { (k: Int, s: Sentence) -> String in
                        let v = vs[k]
                        guard json else { return vectorText(v, separator: " ") }
                        var o: [String: Any] = ["line": item.line, "text": s.text ?? NSNull(), "ids": s.ids.map(Int.init)]
                        if split { o["sentence"] = k + 1 }
                        return jsonLine(o, appending: "vector", raw: "[" + vectorText(v, separator: ",") + "]")
                    })
                }
            }
        }
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode sentence vectors to text.",
        discussion: """
            Input lines: JSON with "vector" (as svae encode --json writes it; its "text", "ids", \
            "line" and "sentence" are carried into the output). Output: the text, or with --json \
            {"line", "output", "output_ids"} plus the carried fields.

            Examples:
              svae encode svae-tiny.svae --input models/svae-tiny/samples.txt --json \\
                | svae decode svae-tiny.svae --input - --json
              svae decode svae-tiny.svae --input vectors.jsonl --temperature 0.8 --seed 1
            """)
    @Argument(help: "The .svae model.") var model: String
    @OptionGroup var inputs: InputOptions
    @Option(parsing: .unconditional, help: "Worker threads (default: physical cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Sampling temperature (0 = greedy).") var temperature: Float = 0
    @Option(parsing: .unconditional, help: "Top-k (0 = all).") var topK: Int = 0
    @Option(parsing: .unconditional, help: "Top-p, in (0, 1].") var topP: Float = 1
    @Option(parsing: .unconditional, help: "Random seed for sampling (line N uses seed + N − 1).") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Most tokens to generate (default: max_seq_len − 1).") var maxTokens: Int?
    @Option(parsing: .unconditional, help: "Vectors decoded in lockstep (1: one at a time).") var batch = Session.defaultDecodeBatch

    func validate() throws {
        try requireRange(threads, "--threads", 1..., "a whole number ≥ 1")
        try requireRange(temperature, "--temperature", 0..., "a number ≥ 0 (0 = greedy)")
        try requireRange(topK, "--top-k", 0..., "a whole number ≥ 0 (0 = all)")
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p \(topP): expected a number in (0, 1]") }
        try requireRange(maxTokens, "--max-tokens", 1..., "a whole number ≥ 1")
        try requireRange(batch, "--batch", 1...DecoderBatch.maxCapacity, "a whole number in 1 ... \(DecoderBatch.maxCapacity)")
    }

    func run() throws {
        let m = try openModel(model, threads: threads)
        _ = try requireVAE(m)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        // Windows of 4 batches: continuous batching inside a window, results in input order.
        try InputDriver(options: inputs, texts: [], accepted: [.vector, .text, .ids, .line, .sentence]).run(window: batch == 1 ? 1 : 4 * batch) { items in
            var results = [ItemResult?](repeating: nil, count: items.count)
            var it = items.makeIterator()
            var failure: Error?
            try cli { () throws(SVAEError) in
                try session.decode(batch: min(batch, items.count), next: { () -> DecodeRequest? in
                    // Line N is sampled with seed + N − 1, whatever the window.
                    it.next().map { item in
                        DecodeRequest(vector: item.vector ?? [], maxTokens: maxTokens,
                                      sampler: temperature > 0 ? Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed &+ UInt64(item.line - 1)) : nil)
                    }
                }) { i, r in
                    do { results[i] = try output(items[i], r, model: m) } catch { failure = failure ?? error }
                }
            }
            if let failure { throw failure }
            return results.map { $0! }
        }
    }

    func output(_ item: InputItem, _ result: Result<[Int32], SVAEError>, model m: Model) throws -> ItemResult {
        let ids: [Int32]
        switch result {
        case let .success(x): ids = x
        case let .failure(error):
            if case let .vector(_, .vectorSize(e, f)) = error { return .failed("field \"vector\": expected \(e) values, found \(f)") }
            throw CLIError(error.description)
        }
        let text = m.tokenizer == nil ? "" : try cli { () throws(SVAEError) in try m.text(of: ids) }
        guard inputs.json else { return .output([m.tokenizer == nil ? ids.map(String.init).joined(separator: " ") : text]) }
        var o: [String: Any] = ["line": item.passedLine ?? item.line, "output_ids": ids.map(Int.init), "output": text]
        if let t = item.text { o["text"] = t }
        if let i = item.ids { o["ids"] = i.map(Int.init) }
        if let s = item.passedSentence { o["sentence"] = s }
        return .output([jsonLine(o)])
    }
}

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode each text to a vector and decode it back (greedy).",
        discussion: """
            Input lines: text, or JSON with "text" or "ids". Output: "= text" (exact) or "≠ text" \
            with "→ output" below and a count at the end, or with --json {"line", "text", "ids", \
            "output_ids", "output", "exact"} (and "sentence" with --split). \(sentenceLimitHelp)

            Examples:
              svae reconstruct svae-tiny.svae "Rule used to estimate the integral."
              svae reconstruct svae-tiny.svae --input models/svae-tiny/samples.txt
              head -n 200 models/svae-tiny/heldout-v1.txt \\
                | svae reconstruct svae-tiny.svae --input - --split --on-error skip
            """)
    @Argument(help: "The .svae model.") var model: String
    @Argument(help: "Texts, one sentence each (or --input).") var texts: [String] = []
    @OptionGroup var inputs: InputOptions
    @Flag(help: "Cut lines longer than the model's sentence limit into sentences (reference splitter).") var split = false
    @Option(parsing: .unconditional, help: "Worker threads (default: physical cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Sentences decoded in lockstep (1: one at a time).") var batch = Session.defaultDecodeBatch

    func validate() throws {
        try requireRange(threads, "--threads", 1..., "a whole number ≥ 1")
        try requireRange(batch, "--batch", 1...DecoderBatch.maxCapacity, "a whole number in 1 ... \(DecoderBatch.maxCapacity)")
    }

    func run() throws {
        let m = try openModel(model, threads: threads)
        let vae = try requireVAE(m)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        var exact = 0, total = 0
        let json = inputs.json
        defer { if !json && total > 0 { emit("\(exact)/\(total) reconstructed exactly") } }
        // Windows of 4 batches: each sentence encoded alone, the window's sentences decoded
        // `batch` at a time (continuous batching), results in input order.
        try InputDriver(options: inputs, texts: texts, accepted: [.text, .ids]).run(window: batch == 1 ? 1 : 4 * batch) { (items: [InputItem]) throws -> [ItemResult] in
            let prepared = items.map { sentences(of: $0, model: m, vae: vae, split: split) }
            let all = prepared.flatMap { (try? $0.get()) ?? [] }
            var done: [Reconstruction] = []
            var it = all.makeIterator()
            try cli { () throws(SVAEError) in
                try session.reconstruct(batch: min(batch, max(all.count, 1)), next: { it.next().map { ($0.ids, $0.text ?? "") } }) { _, r in done.append(r) }
            }
            var next = done.makeIterator()
            return zip(items, prepared).map { (item: InputItem, p: Result<[Sentence], InputError>) -> ItemResult in
                let ss: [Sentence]
                switch p {
                case .failure(let e): return .failed(e.message)
                case .success(let x): ss = x
                }
                var lines: [String] = []
                for (k, s) in ss.enumerated() {
                    let r = next.next()!
                    total += 1
                    if r.exact { exact += 1 }
                    if json {
                        var o: [String: Any] = ["line": item.line, "text": s.text ?? NSNull(), "ids": r.ids.map(Int.init),
                                                "output_ids": r.outputIDs.map(Int.init), "output": r.output, "exact": r.exact]
                        if split { o["sentence"] = k + 1 }
                        lines.append(jsonLine(o))
                    } else {
                        lines.append("\(r.exact ? "=" : "≠") \(r.text)\n  → \(r.output)")
                    }
                }
                return .output(lines)
            }
        }
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token ids of texts (or the text of ids), with a model's tokenizer or a tokenizer folder.",
        discussion: """
            Input lines: text, or JSON with "text" (→ ids) or "ids" (→ text). Output: the ids (or \
            the text), or with --json {"line", "text", "ids"}.

            Examples:
              svae tokenize svae-tiny.svae "First text." "Second text."
              svae tokenize --tokenizer models/svae-tiny "First text."
              svae tokenize svae-tiny.svae --input models/svae-tiny/samples.txt --json
            """)
    @Argument(help: ArgumentHelp("The .svae model, then texts; with --tokenizer, only texts.", valueName: "model-or-text"))
    var arguments: [String] = []
    @Option(help: "A folder with tokenizer.json or vocab.json + merges.txt, a tokenizer.json of any name, or a vocab.json (instead of a model).") var tokenizer: String?
    @Flag(help: "Omit the leading BOS id.") var noBos = false
    @OptionGroup var inputs: InputOptions

    func run() throws {
        let t: BPETokenizer
        var texts = arguments
        if let dir = tokenizer {
            t = try Self.load(dir)
        } else if !texts.isEmpty {
            let path = texts.removeFirst()
            let m = try openModel(path, threads: 1)
            guard let tok = m.tokenizer else { throw CLIError("\(path): expected a tokenizer section, found none") }
            t = tok
        } else {
            throw UsageError("expected a model or --tokenizer PATH")
        }
        let json = inputs.json
        try InputDriver(options: inputs, texts: texts, accepted: [.text, .ids]).run(window: 1) { (items: [InputItem]) -> [ItemResult] in
            items.map { (item: InputItem) -> ItemResult in
                var ids: [Int32], text: String
                if let i = item.ids {
                    ids = i
                    do { text = try t.decode(i) } catch { return .failed("field \"ids\": \(ErrorText.describe(error))") }
                } else {
                    text = item.text ?? ""
                    ids = t.encode(text, addBOS: !noBos)
                }
                if json { return .output([jsonLine(["line": item.line, "text": text, "ids": ids.map(Int.init)])]) }
                return .output([item.ids != nil ? text : ids.map(String.init).joined(separator: " ")])
            }
        }
    }

    /// Loads HF tokenizer files with the one loader (SVAETokenizer's): a folder, a
    /// tokenizer.json of any name, or a vocab.json; refused features and bad files are one line.
    static func load(_ path: String) throws -> BPETokenizer {
        do {
            return try BPETokenizer.load(path)
        } catch {
            throw CLIError(ErrorText.describe(error))
        }
    }
}

/// A vector as text: each number the shortest decimal that reads back as the same Float (Swift's
/// own formatting, exact and ≈ 10× faster than `String(format:)`). Callers check finiteness first:
/// "nan" and "inf" are not JSON.
func vectorText(_ v: [Float], separator: String) -> String {
    v.lazy.map(\.description).joined(separator: separator)
}

/// Where a vector holds a value that is not a finite number: "element I of the vector is nan".
func nonFiniteProblem(_ v: [Float]) -> String? {
    guard let i = v.firstIndex(where: { !$0.isFinite }) else { return nil }
    return "the model produced a value that is not a finite number: element \(i) of the vector is \(v[i])"
}
