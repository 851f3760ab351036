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
    }

    static func load() throws -> (texts: [String], variants: [Variant]) {
        let lines = try Fixtures.jsonLines("variants/goldens.jsonl")
        let texts = try #require(lines.first?["texts"] as? [String])
        let variants = lines.dropFirst().map { l in
            Variant(name: l["variant"] as? String ?? "", ids: (l["ids"] as? [Any]).map { $0.map(Fixtures.ints) },
                    refused: l["refused"] as? String)
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
                for (text, expected) in zip(texts, ids) {
                    #expect(t.encode(text) == expected, "\(v.name): \(text.debugDescription)")
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
}
