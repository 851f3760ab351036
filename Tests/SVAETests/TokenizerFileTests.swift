import Foundation
import SVAE
import SVAEModel
import SVAETokenizer
import SVAETestSupport
import Testing

/// The GPT-2-size table end to end: an OPT-style vocab.json + merges.txt (the GPT-2 fixture
/// files, ids + 4 after OPT's four specials) → the importer → a `.svae` file → the runtime
/// tokenizer of `Model`, whose ids must equal Hugging Face's OPT goldens
/// (tools/tokenizer/make_goldens.py) for every golden text.
@Suite struct TokenizerFileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SVAETokenizerTests/Fixtures")

    @Test func gpt2SizeTableThroughAFileMatchesHF() throws {
        let gpt2 = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("gpt2-vocab.json"))) as? [String: Int])
        #expect(gpt2.count == 50257)
        var vocab: [String: Int] = ["<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3]
        for (token, id) in gpt2 { vocab[token] = id + 4 }
        let dir = NSTemporaryDirectory() + "svae-gpt2-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("gpt2-merges.txt").path, toPath: dir + "/merges.txt")

        // The goldens' OPT-style tokenizer (tools/tokenizer/make_goldens.py): the four specials
        // are special added tokens and `</s>` is prepended; in the vocab.json folder form that is
        // what tokenizer_config.json (add_bos_token, bos_token) and special_tokens_map.json say.
        // The loader takes BOS and the specials from these files, never from the table.
        try #"{"add_bos_token": true, "bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}"#
            .write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        try #"{"bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "additional_special_tokens": ["<s>"]}"#
            .write(toFile: dir + "/special_tokens_map.json", atomically: true, encoding: .utf8)
        let imported = try BPETokenizer.load(dir)
        #expect(imported.tokens.count == 50261 && imported.mergePairs.count == 50000 && imported.options.bosID == 2)
        let path = try makeRandomModel(tokenizer: imported.section, vocab: 50272)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let model = try Model(path: path)

        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("goldens.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 300)
        var failures: [String] = []
        for line in lines {
            let g = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let text = try #require(g["text"] as? String), want = try #require(g["opt"] as? [Int]).map { Int32($0) }
            let got = try model.tokenize(text)
            if got != want { failures.append("\(text.debugDescription): got \(got.prefix(12)), HF \(want.prefix(12))") }
            else if !(text.contains("<s>") || text.contains("</s>") || text.contains("<pad>") || text.contains("<unk>")),
                    try model.detokenize(got) != text { failures.append("\(text.debugDescription): detokenize") }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(lines.count) differ; first: \(failures.prefix(3))")
    }
}
