// Replays the committed corpus of the `tokenizer` fuzz harness (tools/fuzz/corpus/tokenizer,
// tools/fuzz/FuzzTokenizer.swift) in the normal build: first byte even = a tokenizer.json, odd =
// vocab.json and merges.txt split at the first "\n--\n". Each input loads (and then encodes and
// decodes text back) or fails with a TokenizerError in plain words.

import Foundation
import Testing
@testable import SVAETokenizer

@Suite struct TokenizerFuzzCorpusTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/fuzz/corpus/tokenizer").path

    @Test func tokenizerCorpus() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir).sorted()
        #expect(names.count >= 2)
        var loaded = 0
        for n in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + n)))
            guard let kind = bytes.first else { continue }
            let body = Array(bytes.dropFirst())
            do {
                let tok: BPETokenizer
                if kind & 1 == 0 {
                    tok = try BPETokenizer(tokenizerJSON: Data(body))
                } else {
                    let sep = Array("\n--\n".utf8)
                    let cut = body.count >= sep.count
                        ? (0...(body.count - sep.count)).first { Array(body[$0..<($0 + sep.count)]) == sep } : nil
                    let vocab = cut.map { Array(body[..<$0]) } ?? body
                    let merges = cut.map { Array(body[($0 + sep.count)...]) } ?? []
                    tok = try BPETokenizer(vocabJSON: Data(vocab), merges: String(decoding: merges, as: UTF8.self))
                }
                for text in ["Hello there, world!", " a  b\n", ""] {
                    _ = try? tok.decode(tok.encode(text, addBOS: false), skipSpecialTokens: false)
                }
                loaded += 1
            } catch let e as TokenizerError {
                let text = e.description
                #expect(!text.isEmpty && !text.contains("(path:") && !text.contains("Error Domain"), "\(n): \(text)")
            } catch {
                Issue.record("\(n): untyped error \(type(of: error)): \(error)")
            }
        }
        #expect(loaded > 0, "no input of the tokenizer corpus loads: the seeds are gone")
    }
}
