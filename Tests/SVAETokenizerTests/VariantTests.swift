import Foundation
import Testing
@testable import SVAETokenizer

/// tokenizer.json variants of the small tokenizer (tools/fixtures/make_reference_fixtures.py):
/// each is either identical to HF `tokenizers` on every text or refused naming its field.
@Suite struct VariantTests {
    struct Variant {
        var name: String
        var ids: [[Int32]]?
        var refused: String?
        var decoded: [String]?
    }

    static func load() throws -> (texts: [String], variants: [Variant]) {
        let lines = try Fixtures.jsonLines("variants/goldens.jsonl")
        let texts = try #require(lines.first?["texts"] as? [String])
        let variants = lines.dropFirst().map { l in
            Variant(name: l["variant"] as? String ?? "", ids: (l["ids"] as? [Any]).map { $0.map(Fixtures.ints) },
                    refused: l["refused"] as? String, decoded: l["decoded"] as? [String])
        }
        return (texts, variants)
    }

    static func path(_ variant: String) throws -> String {
        try #require(Bundle.module.url(forResource: variant, withExtension: "json", subdirectory: "Fixtures/variants")).path
    }

    @Test func everyVariantIsIdenticalToHFOrRefused() throws {
        let (texts, variants) = try Self.load()
        #expect(variants.count >= 18)
        #expect(variants.contains { $0.refused == nil } && variants.contains { $0.refused != nil })
        for v in variants {
            let path = try Self.path(v.name)
            if let field = v.refused {
                do {
                    _ = try BPETokenizer.load(path)
                    Issue.record("\(v.name): loaded, expected a refusal naming \(field)")
                } catch {
                    guard case let .inFile(p, .unsupported(feature, found)) = error else {
                        Issue.record("\(v.name): expected an unsupported-feature error, got \(error)")
                        continue
                    }
                    #expect(p == path && feature == field, "\(v.name): \(error)")
                    #expect(!found.isEmpty && !error.description.contains("\n"), "\(v.name): \(error)")
                    #expect(error.description.hasPrefix(path + ": " + field + " = "), "\(error)")
                }
            } else {
                let t = try BPETokenizer.load(path)
                let ids = try #require(v.ids)
                #expect(ids.count == texts.count)
                let decoded = try #require(v.decoded)
                for (k, (text, expected)) in zip(texts, ids).enumerated() {
                    #expect(t.encode(text) == expected, "\(v.name): \(text.debugDescription)")
                    #expect(try t.decode(expected) == decoded[k], "\(v.name): decode of \(text.debugDescription)")
                }
            }
        }
    }

    @Test func variantsSetWhatTheyChange() throws {
        #expect(try BPETokenizer.load(try Self.path("prefix_space")).options.addPrefixSpace)
        #expect(try !BPETokenizer.load(try Self.path("base")).options.addPrefixSpace)
        #expect(try BPETokenizer.load(try Self.path("bos_template")).options.bosID == 2)
        #expect(try BPETokenizer.load(try Self.path("no_bos_post_processor")).options.bosID == nil)
        let added = try BPETokenizer.load(try Self.path("added_lstrip_rstrip")).addedTokens
        #expect(added.contains(AddedToken("[SEP]", special: true, normalized: false, lstrip: true, rstrip: true)))
        #expect(added.contains(AddedToken("[LR]", special: false, normalized: true, lstrip: true)))
    }

    @Test func missingAndBrokenFilesAreOneLine() throws {
        #expect(throws: TokenizerError.notFound(path: "/nonexistent/folder")) { try BPETokenizer.load("/nonexistent/folder") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svae-variant-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("my-tokenizer.json")
        try Data("{\"model\": {\"vocab\": {\"a\": 0,}}}".utf8).write(to: broken)
        do {
            _ = try BPETokenizer.load(broken.path)
            Issue.record("loaded a broken file")
        } catch {
            let line = error.description
            #expect(line.hasPrefix(broken.path + ": ") && line.contains("line 1, column") && !line.contains("\n"), "\(line)")
        }
        // vocab.json without merges.txt beside it: nothing to load
        let vocab = dir.appendingPathComponent("vocab.json")
        try Data("{\"a\": 0}".utf8).write(to: vocab)
        #expect(throws: TokenizerError.notFound(path: vocab.path)) { try BPETokenizer.load(vocab.path) }
        try Data("".utf8).write(to: dir.appendingPathComponent("merges.txt"))
        #expect(try BPETokenizer.load(vocab.path).tokens == ["a"])
        #expect(try BPETokenizer.load(dir.path).tokens == ["a"])
    }

    /// transformers' files beside vocab.json + merges.txt: reproduced, or refused naming the key.
    @Test func transformersFilesAreReproducedOrRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svae-tf-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"a": 0, "b": 1, "ab": 2, "</s>": 3}"#.write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try "#version: 0.2\na b\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        func load(config: String, map: String? = nil) throws -> BPETokenizer {
            try config.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: dir + "/special_tokens_map.json")
            if let map { try map.write(toFile: dir + "/special_tokens_map.json", atomically: true, encoding: .utf8) }
            return try BPETokenizer.load(dir)
        }
        let ok = try load(config: #"{"add_bos_token": true, "bos_token": "</s>", "add_prefix_space": true, "errors": "replace", "added_tokens_decoder": {"4": {"content": "<new>", "special": true, "lstrip": false, "rstrip": true, "normalized": false, "single_word": false}}}"#)
        #expect(ok.options.bosID == 3 && ok.options.addPrefixSpace && ok.tokens.count == 5)
        #expect(ok.encode("ab<new> ab") == [3, 2, 4, 2])
        #expect(try load(config: "{}").options.bosID == nil)
        let refusals: [(String, String?, String)] = [
            (#"{"add_eos_token": true}"#, nil, "add_eos_token"),
            (#"{"tokenizer_class": "RobertaTokenizer"}"#, nil, "tokenizer_class"),
            (#"{"add_bos_token": true}"#, nil, "add_bos_token"),
            (#"{"bos_token": "<x>"}"#, nil, "bos_token"),
            (#"{"bos_token": "a"}"#, #"{"bos_token": "</s>"}"#, "bos_token"),
            (#"{"clean_up_tokenization_spaces": true}"#, nil, "clean_up_tokenization_spaces"),
            (#"{"some_new_key": 1}"#, nil, "some_new_key"),
            (#"{}"#, #"{"mask_token": "a", "strange": "b"}"#, "strange"),
        ]
        for (config, map, field) in refusals {
            do {
                _ = try load(config: config, map: map)
                Issue.record("\(config) \(map ?? ""): loaded, expected a refusal naming \(field)")
            } catch {
                guard let e = error as? TokenizerError, case let .inFile(path, .unsupported(feature, _)) = e else {
                    Issue.record("\(config): expected an unsupported-feature error, got \(error)")
                    continue
                }
                #expect(feature == field && path.hasPrefix(dir + "/"), "\(error)")
            }
        }
    }
}
