import Foundation
import Testing
@testable import SVAETokenizer

/// Loads the fixtures written by `tools/tokenizer/make_goldens.py` (no Python needed here).
enum Fixtures {
    static func url(_ name: String) -> URL? {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        return Bundle.module.url(forResource: parts[0], withExtension: parts.count > 1 ? parts[1] : nil,
                                 subdirectory: "Fixtures")
    }

    static func data(_ name: String) throws -> Data {
        let u = try #require(url(name), "missing fixture \(name)")
        return try Data(contentsOf: u)
    }

    static func jsonLines(_ name: String) throws -> [[String: Any]] {
        let text = try #require(String(data: try data(name), encoding: .utf8))
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any])
        }
    }

    struct Golden: Sendable {
        var text: String
        var gpt2: [Int32]
        var opt: [Int32]
        var small: [Int32]
    }

    static func ints(_ v: Any?) -> [Int32] { ((v as? [Any]) ?? []).compactMap { ($0 as? NSNumber).map { Int32($0.intValue) } } }

    static let goldens: [Golden] = {
        guard let lines = try? jsonLines("goldens.jsonl") else { return [] }
        return lines.map { Golden(text: $0["text"] as? String ?? "", gpt2: ints($0["gpt2"]), opt: ints($0["opt"]), small: ints($0["small"])) }
    }()

    struct Missing: Error { var name: String }

    /// GPT-2 from vocab.json + merges.txt, `<|endoftext|>` special, no BOS.
    static let gpt2Result: Result<BPETokenizer, any Error> = Result {
        guard let v = url("gpt2-vocab.json"), let m = url("gpt2-merges.txt") else { throw Missing(name: "gpt2 files") }
        return try BPETokenizer(vocabURL: v, mergesURL: m, specialTokens: ["<|endoftext|>"])
    }
    static var gpt2: BPETokenizer { get throws { try gpt2Result.get() } }

    static let gpt2Merges: [(String, String)] = {
        guard let d = try? data("gpt2-merges.txt"), let s = String(data: d, encoding: .utf8) else { return [] }
        return (try? BPETokenizer.parseMergesText(s)) ?? []
    }()

    /// The OPT-style table (specials at 0...3, GPT-2 ids + 4) built from token strings.
    static let optResult: Result<BPETokenizer, any Error> = Result {
        try BPETokenizer(tokens: OPTTokens.optStyleTokens(fromGPT2: try gpt2.tokens), merges: gpt2Merges,
                         specialTokens: OPTTokens.specialTokens, options: .opt)
    }
    static var opt: BPETokenizer { get throws { try optResult.get() } }
}

/// Foundation conveniences for the tests (the library itself takes bytes and paths).
extension BPETokenizer {
    convenience init(tokenizerJSON data: Data, options: Options? = nil) throws {
        try self.init(tokenizerJSON: [UInt8](data), options: options)
    }

    convenience init(vocabJSON data: Data, merges: String, specialTokens: [String] = []) throws {
        try self.init(vocabJSON: [UInt8](data), merges: merges, specialTokens: specialTokens)
    }

    convenience init(vocabURL: URL, mergesURL: URL, specialTokens: [String] = []) throws {
        try self.init(vocabPath: vocabURL.path, mergesPath: mergesURL.path, specialTokens: specialTokens)
    }
}
