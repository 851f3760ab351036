// Replays the committed corpus of the `tokenizer` fuzz harness (tools/fuzz/corpus/tokenizer,
// tools/fuzz/FuzzTokenizer.swift) in the normal build: the input is split at "\n--\n" into the
// files of a fresh folder (first byte even: tokenizer.json, tokenizer_config.json; odd:
// vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json, added_tokens.json),
// loaded with `BPETokenizer.load(folder)`. Each input loads (then encodes and decodes text) or
// fails with a TokenizerError in plain words.

import Foundation
import Testing
@testable import SVAETokenizer

@Suite struct TokenizerFuzzCorpusTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/fuzz/corpus/tokenizer").path
    static let fileSets = [
        ["tokenizer.json", "tokenizer_config.json"],
        ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"],
    ]

    /// `bytes` split at "\n--\n" into at most `max` parts (tools/fuzz/FuzzSplit.swift).
    static func split(_ bytes: [UInt8], max: Int) -> [[UInt8]] {
        let sep = Array("\n--\n".utf8)
        var parts: [[UInt8]] = []
        var start = 0, i = 0
        while i + sep.count <= bytes.count, parts.count < max - 1 {
            if Array(bytes[i..<(i + sep.count)]) == sep {
                parts.append(Array(bytes[start..<i]))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(Array(bytes[start...]))
        return parts
    }

    @Test func tokenizerCorpus() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir).sorted()
        #expect(names.count >= 3)
        var loaded = 0
        for n in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + n)))
            guard let kind = bytes.first else { continue }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svae-tok-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let files = Self.fileSets[Int(kind & 1)]
            for (f, part) in zip(files, Self.split(Array(bytes.dropFirst()), max: files.count)) {
                _ = FileManager.default.createFile(atPath: folder + "/" + f, contents: Data(part))
            }
            do throws(TokenizerError) {
                let tok = try BPETokenizer.load(folder)
                for text in ["Hello there, world!", " a  b\n", ""] {
                    _ = try? tok.decode(tok.encode(text, addBOS: false), skipSpecialTokens: false)
                }
                loaded += 1
            } catch {
                let text = error.description
                #expect(!text.isEmpty && !text.contains("(path:") && !text.contains("Error Domain"), "\(n): \(text)")
            }
        }
        #expect(loaded > 0, "no input of the tokenizer corpus loads: the seeds are gone")
    }
}
