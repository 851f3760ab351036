import ArgumentParser
import Foundation
import SVAE
import SVAEModel
import SVAETokenizer

/// One input of `encode` / `reconstruct` / `tokenize` / `decode`: a text, ids, or a vector.
struct InputItem {
    var text: String?
    var ids: [Int32]?
    var vector: [Float]?
}

/// Options shared by the text commands: where inputs come from and how results are printed.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "Read inputs from FILE, one per line; a line starting with { is JSON with \"text\", \"ids\" or \"vector\".")
    var input: String?
    @Flag(help: "Print one JSON object per input.") var json = false
    @Argument(help: "Texts (when no --input is given).") var texts: [String] = []

    func items() throws -> [InputItem] {
        var lines: [String] = texts
        if let path = input {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the input file") }
            lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
        }
        return try lines.enumerated().map { (i, line) in try Self.parse(line, number: i + 1, file: input) }
    }

    static func parse(_ line: String, number: Int, file: String?) throws -> InputItem {
        let l = line.hasSuffix("\r") ? String(line.dropLast()) : line
        guard l.hasPrefix("{") else { return InputItem(text: l) }
        let where_ = "\(file ?? "arguments"):\(number)"
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(l.utf8))) as? [String: Any] else {
            throw CLIError("\(where_): expected a JSON object, found invalid JSON")
        }
        var item = InputItem()
        item.text = obj["text"] as? String
        if let ids = obj["ids"] {
            guard let a = ids as? [NSNumber], a.allSatisfy({ Int32(exactly: $0.doubleValue) != nil }) else {
                throw CLIError("\(where_): \"ids\": expected an array of integers")
            }
            item.ids = a.map { Int32($0.int32Value) }
        }
        if let v = obj["vector"] {
            guard let a = v as? [NSNumber] else { throw CLIError("\(where_): \"vector\": expected an array of numbers") }
            item.vector = a.map { $0.floatValue }
        }
        if item.text == nil && item.ids == nil && item.vector == nil {
            throw CLIError("\(where_): expected a \"text\", \"ids\" or \"vector\" field, found none")
        }
        return item
    }
}

/// Prints one JSON object on one line (keys sorted).
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

func openModel(_ path: String, threads: Int?) throws -> Model {
    do {
        return try Model(path: path, options: ModelOptions(threads: threads ?? ModelOptions().threads))
    } catch {
        throw CLIError(error.description)
    }
}

/// Wraps an API error as a one-line CLI error.
func cli<R>(_ body: () throws(SVAEError) -> R) throws -> R {
    do { return try body() } catch { throw CLIError(error.description) }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sentence vectors of texts (one sentence per input).")
    @Argument(help: "The .svae model.") var model: String
    @OptionGroup var inputs: InputOptions
    @Option(help: "Worker threads (default: physical cores).") var threads: Int?

    func run() throws {
        let m = try openModel(model, threads: threads)
        let items = try inputs.items()
        var ids: [[Int32]] = []
        for item in items {
            if let i = item.ids { ids.append(i) } else { ids.append(try cli { () throws(SVAEError) in try m.tokenize(item.text ?? "") }) }
        }
        let vectors = try cli { () throws(SVAEError) in try m.encode(ids: ids) }
        for (i, v) in vectors.enumerated() {
            if inputs.json {
                printJSON(["text": items[i].text ?? NSNull(), "ids": ids[i].map(Int.init), "vector": v.map(Double.init)])
            } else {
                print(v.map { String(format: "%.6g", $0) }.joined(separator: " "))
            }
        }
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode sentence vectors (JSON lines with \"vector\") to text.")
    @Argument(help: "The .svae model.") var model: String
    @OptionGroup var inputs: InputOptions
    @Option(help: "Worker threads (default: physical cores).") var threads: Int?
    @Option(help: "Sampling temperature (0 = greedy).") var temperature: Float = 0
    @Option(help: "Top-k (0 = all).") var topK: Int = 0
    @Option(help: "Top-p.") var topP: Float = 1
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(help: "Most tokens to generate (default: max_seq_len − 1).") var maxTokens: Int?
    @Option(help: "Vectors decoded in lockstep (1: one at a time).") var batch = Session.defaultDecodeBatch

    func run() throws {
        let m = try openModel(model, threads: threads)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        let items = try inputs.items()
        for (n, item) in items.enumerated() where item.vector == nil {
            throw CLIError("input \(n + 1): expected a JSON line with a \"vector\" field")
        }
        // Input n is sampled with seed + n; results print in input order as soon as they can.
        let sampler = temperature > 0 ? Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed) : nil
        var it = items.makeIterator()
        var failure: SVAEError?
        try cli { () throws(SVAEError) in
            try session.decode(batch: batch, maxTokens: maxTokens, sampler: sampler, next: { failure == nil ? it.next()?.vector : nil }) { n, r in
                do throws(SVAEError) {
                    let ids = try r.get()
                    let text = m.tokenizer == nil ? "" : try m.text(of: ids)
                    if inputs.json { printJSON(["output_ids": ids.map(Int.init), "output": text]) } else { print(m.tokenizer == nil ? ids.map(String.init).joined(separator: " ") : text) }
                } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
        }
    }
}

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encode each text to a vector and decode it back (greedy).")
    @Argument(help: "The .svae model.") var model: String
    @OptionGroup var inputs: InputOptions
    @Option(help: "Worker threads (default: physical cores).") var threads: Int?
    @Option(help: "Sentences decoded in lockstep (1: one at a time).") var batch = Session.defaultDecodeBatch

    func run() throws {
        let m = try openModel(model, threads: threads)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        var exact = 0, total = 0
        var it = try inputs.items().makeIterator()
        // Each text is encoded alone, the vectors decoded `batch` at a time; results print in
        // input order as soon as they can.
        try cli { () throws(SVAEError) in
            try session.reconstruct(batch: batch, next: { () throws(SVAEError) -> (ids: [Int32], text: String)? in
                guard let item = it.next() else { return nil }
                if let ids = item.ids { return (ids, item.text ?? "") }
                return (try m.tokenize(item.text ?? ""), item.text ?? "")
            }) { _, r in
                total += 1
                if r.exact { exact += 1 }
                if inputs.json {
                    printJSON(["text": r.text, "ids": r.ids.map(Int.init), "output_ids": r.outputIDs.map(Int.init), "output": r.output, "exact": r.exact])
                } else {
                    print("\(r.exact ? "=" : "≠") \(r.text)\n  → \(r.output)")
                }
            }
        }
        if !inputs.json { print("\(exact)/\(total) reconstructed exactly") }
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Token ids of texts, with a model's tokenizer or a tokenizer folder.")
    @Argument(help: "The .svae model (or use --tokenizer).") var model: String?
    @Option(help: "A folder (or file) with tokenizer.json, or vocab.json + merges.txt.") var tokenizer: String?
    @Flag(help: "Omit the leading BOS id.") var noBos = false
    @OptionGroup var inputs: InputOptions

    func run() throws {
        let t: BPETokenizer
        if let dir = tokenizer {
            t = try Self.load(dir)
        } else if let path = model {
            let m = try openModel(path, threads: 1)
            guard let tok = m.tokenizer else { throw CLIError("\(path): expected a tokenizer section, found none") }
            t = tok
        } else {
            throw CLIError("expected a model or --tokenizer DIR")
        }
        for item in try inputs.items() {
            let text = item.text ?? ""
            let ids = t.encode(text, addBOS: !noBos)
            if inputs.json { printJSON(["text": text, "ids": ids.map(Int.init)]) } else { print(ids.map(String.init).joined(separator: " ")) }
        }
    }

    /// Loads HF tokenizer files; an OPT-style table (`</s>` at id 2) gets BOS 2.
    static func load(_ path: String) throws -> BPETokenizer {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("\(path): no such file or folder") }
        let dir = URL(fileURLWithPath: isDir.boolValue ? path : (path as NSString).deletingLastPathComponent)
        do {
            let tj = isDir.boolValue ? dir.appendingPathComponent("tokenizer.json") : URL(fileURLWithPath: path)
            var t: BPETokenizer
            if tj.lastPathComponent == "tokenizer.json" && FileManager.default.fileExists(atPath: tj.path) {
                t = try BPETokenizer(tokenizerURL: tj)
            } else {
                t = try BPETokenizer(vocabURL: dir.appendingPathComponent("vocab.json"), mergesURL: dir.appendingPathComponent("merges.txt"))
            }
            if t.options.bosID == nil, t.id(of: "</s>") == 2 {
                var o = t.options
                o.bosID = 2
                t = try BPETokenizer(tokens: t.tokens, merges: t.mergePairs, specialTokens: t.specialTokens, addedTokens: t.addedTokens, options: o)
            }
            return t
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}
