import Foundation
import Testing
@testable import SVAETokenizer

/// Compares every golden text; on failure, names the first few texts that differ.
func expectGoldens(_ tokenizer: BPETokenizer, _ expected: KeyPath<Fixtures.Golden, [Int32]>,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    var failures: [String] = []
    for g in Fixtures.goldens {
        let got = tokenizer.encode(g.text)
        if got != g[keyPath: expected] {
            failures.append("\(g.text.debugDescription): got \(got), HF \(g[keyPath: expected])")
        }
    }
    #expect(Fixtures.goldens.count > 300, sourceLocation: sourceLocation)
    #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(failures.prefix(5))", sourceLocation: sourceLocation)
}

@Suite struct GoldenTests {
    @Test func gpt2MatchesHF() throws {
        expectGoldens(try Fixtures.gpt2, \.gpt2)
    }

    @Test func optStyleMatchesHF() throws {
        let opt = try Fixtures.opt
        #expect(opt.encode("")  == [2])
        expectGoldens(opt, \.opt)
    }

    @Test func smallTrainedTokenizerMatchesHFFromAllSources() throws {
        let json = try BPETokenizer(tokenizerJSON: try Fixtures.data("small-tokenizer.json"))
        let files = try BPETokenizer(vocabJSON: try Fixtures.data("small-vocab.json"),
                                     merges: try #require(String(data: try Fixtures.data("small-merges.txt"), encoding: .utf8)),
                                     specialTokens: ["<|endoftext|>"])
        let merges = try BPETokenizer.parseMergesText(try #require(String(data: try Fixtures.data("small-merges.txt"), encoding: .utf8)))
        let list = try BPETokenizer(tokens: files.tokens, merges: merges, specialTokens: ["<|endoftext|>"])
        #expect(json.tokens == files.tokens)
        #expect(json.specialTokenIDs == [0])
        for t in [json, files, list] { expectGoldens(t, \.small) }
    }

    @Test func roundTripEveryGoldenText() throws {
        let gpt2 = try Fixtures.gpt2
        let opt = try Fixtures.opt
        var failures: [String] = []
        for g in Fixtures.goldens {
            if try gpt2.decode(gpt2.encode(g.text), skipSpecialTokens: false) != g.text { failures.append("gpt2 \(g.text.debugDescription)") }
            let o = opt.encode(g.text)
            if o.first != OPTTokens.bos { failures.append("opt BOS \(g.text.debugDescription)") }
            if try opt.decode(Array(o.dropFirst()), skipSpecialTokens: false) != g.text { failures.append("opt \(g.text.debugDescription)") }
            let hasSpecial = OPTTokens.specialTokens.contains { g.text.contains($0) }
            if !hasSpecial, try opt.decode(o) != g.text { failures.append("opt skip \(g.text.debugDescription)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func gpt2FromThreeSourcesAgree() throws {
        let files = try Fixtures.gpt2
        let list = try BPETokenizer(tokens: files.tokens, merges: Fixtures.gpt2Merges, specialTokens: ["<|endoftext|>"])
        // A tokenizer.json in HF's layout with "a b" string merges, built from the same files.
        var vocab: [String: Int] = [:]
        for (i, t) in files.tokens.enumerated() { vocab[t] = i }
        let root: [String: Any] = [
            "version": "1.0", "normalizer": NSNull(), "truncation": NSNull(), "padding": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
                              "rstrip": false, "normalized": true, "special": true]],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                      "vocab": vocab, "merges": Fixtures.gpt2Merges.map { "\($0.0) \($0.1)" }],
        ]
        let json = try BPETokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: root))
        #expect(json.tokens == files.tokens && list.tokens == files.tokens)
        #expect(json.options.bosID == nil)
        for g in Fixtures.goldens {
            let ids = files.encode(g.text)
            #expect(list.encode(g.text) == ids, "\(g.text.debugDescription)")
            #expect(json.encode(g.text) == ids, "\(g.text.debugDescription)")
        }
    }

    @Test func rebuildFromAccessorsGivesTheSameTokenizer() throws {
        let small = try BPETokenizer(tokenizerJSON: try Fixtures.data("small-tokenizer.json"))
        let gpt2 = try Fixtures.gpt2
        #expect(gpt2.mergePairs.count == 50000)
        #expect(gpt2.mergePairs.elementsEqual(Fixtures.gpt2Merges) { $0 == $1 })
        for t in [small, gpt2, try Fixtures.opt] {
            let copy = try BPETokenizer(tokens: t.tokens, merges: t.mergePairs, addedTokens: t.addedTokens, options: t.options)
            #expect(copy.specialTokenIDs == t.specialTokenIDs)
            for g in Fixtures.goldens.prefix(100) { #expect(copy.encode(g.text) == t.encode(g.text)) }
        }
    }

    @Test func tokenizerJSONMergeFormsAndTemplateBOS() throws {
        let data = try Fixtures.data("small-tokenizer.json")
        var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let pairs = try #require(model["merges"] as? [[String]])
        #expect(!pairs.isEmpty)
        model["merges"] = pairs.map { $0.joined(separator: " ") }
        root["model"] = model
        root["post_processor"] = [
            "type": "TemplateProcessing",
            "single": [["SpecialToken": ["id": "<|endoftext|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
            "pair": [], "special_tokens": ["<|endoftext|>": ["id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]]],
        ]
        let stringForm = try BPETokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: root))
        let arrayForm = try BPETokenizer(tokenizerJSON: data)
        #expect(stringForm.options.bosID == 0)
        #expect(arrayForm.options.bosID == nil)
        for g in Fixtures.goldens {
            #expect(stringForm.encode(g.text) == [0] + g.small)
            #expect(stringForm.encode(g.text, addBOS: false) == arrayForm.encode(g.text))
        }
    }

    @Test func addedTokenOptionsMatchHF() throws {
        let data = try Fixtures.data("added-tokenizer.json")
        let json = try BPETokenizer(tokenizerJSON: data)
        #expect(json.addedTokens.count == 11)
        #expect(json.addedTokens.contains(AddedToken("[LR]", special: true, normalized: true, lstrip: true, rstrip: true)))
        let rebuilt = try BPETokenizer(tokens: json.tokens, merges: json.mergePairs, addedTokens: json.addedTokens)
        let cases = try Fixtures.jsonLines("added_goldens.jsonl")
        #expect(cases.count > 200)
        var failures: [String] = []
        for c in cases {
            let text = c["text"] as? String ?? ""
            let ids = Fixtures.ints(c["ids"])
            if json.encode(text) != ids || rebuilt.encode(text) != ids {
                failures.append("\(text.debugDescription): got \(json.encode(text)), HF \(ids)")
            }
            if try json.decode(ids) != c["decoded"] as? String || json.decode(ids, skipSpecialTokens: false) != c["decodedAll"] as? String {
                failures.append("decode \(ids): got \(try json.decode(ids).debugDescription), HF \(String(describing: c["decoded"]))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(failures.prefix(5))")
        #expect(throws: TokenizerError.conflictingAddedToken("ab")) {
            try BPETokenizer(tokens: json.tokens, merges: json.mergePairs,
                             addedTokens: [AddedToken("ab", special: false), AddedToken("ab", special: true)])
        }
    }

    @Test func invalidUTF8BytesAndDecodeMatchHF() throws {
        let gpt2 = try Fixtures.gpt2
        let cases = try Fixtures.jsonLines("bytes_goldens.jsonl")
        #expect(cases.count >= 20)
        for c in cases {
            let bytes = Fixtures.ints(c["bytes"]).map { UInt8($0) }
            let repaired = c["repaired"] as? String
            #expect(String(decoding: bytes, as: UTF8.self) == repaired, "\(bytes)")
            #expect(gpt2.encode(bytes: bytes) == Fixtures.ints(c["gpt2"]), "\(bytes)")
            let byteIDs = Fixtures.ints(c["byteIDs"])
            #expect(try gpt2.decodeBytes(byteIDs) == bytes)
            #expect(try gpt2.decode(byteIDs) == c["decoded"] as? String, "\(bytes)")
        }
    }
}

@Suite struct BehaviourTests {
    @Test func emptyInputs() throws {
        let gpt2 = try Fixtures.gpt2
        #expect(gpt2.encode("").isEmpty)
        #expect(gpt2.encode(bytes: [UInt8]()).isEmpty)
        #expect(try gpt2.decode([]) == "")
        #expect(gpt2.encode("", addBOS: true).isEmpty)  // GPT-2 has no BOS id
        let opt = try Fixtures.opt
        #expect(opt.encode("") == [2])
        #expect(opt.encode("", addBOS: false) == [])
        #expect(try opt.decode([2]) == "")
        #expect(try opt.decode([2], skipSpecialTokens: false) == "</s>")
    }

    @Test func specialTokensAreSplitOutBeforeBPE() throws {
        let gpt2 = try Fixtures.gpt2
        // HF 0.23.3: "hi<|endoftext|>there <|endoftext|> x" → [5303, 50256, 8117, 220, 50256, 2124]
        #expect(gpt2.encode("hi<|endoftext|>there <|endoftext|> x") == [5303, 50256, 8117, 220, 50256, 2124])
        #expect(try gpt2.decode([50256, 31373]) == "hello")
        #expect(try gpt2.decode([50256, 31373], skipSpecialTokens: false) == "<|endoftext|>hello")
    }

    @Test func knownGPT2Pieces() throws {
        let gpt2 = try Fixtures.gpt2
        #expect(gpt2.encode("Hello world") == [15496, 995])
        #expect(gpt2.id(of: "Ġ") == 220)
        #expect(gpt2.token(of: 995) == "Ġworld")
        #expect(gpt2.token(of: -1) == nil && gpt2.token(of: 50257) == nil)
        #expect(gpt2.vocabularySize == 50257)
    }

    @Test func decodeRejectsOutOfRangeIDs() throws {
        let gpt2 = try Fixtures.gpt2
        #expect(throws: TokenizerError.idOutOfRange(id: 50257, vocabularySize: 50257)) { try gpt2.decode([15496, 50257]) }
        #expect(throws: TokenizerError.idOutOfRange(id: -1, vocabularySize: 50257)) { try gpt2.decode([-1]) }
    }

    @Test func concurrentEncodesAgree() async throws {
        let gpt2 = try Fixtures.gpt2
        let texts = Fixtures.goldens.map(\.text)
        let expected = Fixtures.goldens.map(\.gpt2)
        let ok = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { texts.map { gpt2.encode($0) } == expected }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(ok)
    }

    @Test func prefixSpaceOption() throws {
        let gpt2 = try Fixtures.gpt2
        var options = BPETokenizer.Options()
        options.addPrefixSpace = true
        let spaced = try BPETokenizer(tokens: gpt2.tokens, merges: Fixtures.gpt2Merges, specialTokens: ["<|endoftext|>"], options: options)
        #expect(spaced.encode("Hello world") == gpt2.encode(" Hello world"))
        #expect(spaced.encode(" Hello") == gpt2.encode(" Hello"))
    }
}

@Suite struct ErrorTests {
    let tokens = ["a", "b", "ab", "c"]

    @Test func duplicateToken() {
        #expect(throws: TokenizerError.duplicateToken(token: "a", firstID: 0, secondID: 2)) {
            try BPETokenizer(tokens: ["a", "b", "a"], merges: [])
        }
    }

    @Test func mergeNamingUnknownToken() {
        #expect(throws: TokenizerError.mergeTokenNotInVocabulary(rank: 1, token: "z")) {
            try BPETokenizer(tokens: tokens, merges: [("a", "b"), ("z", "c")])
        }
    }

    @Test func mergeResultMissing() {
        #expect(throws: TokenizerError.mergeResultNotInVocabulary(rank: 0, left: "b", right: "c")) {
            try BPETokenizer(tokens: tokens, merges: [("b", "c")])
        }
    }

    @Test func duplicateMerge() {
        #expect(throws: TokenizerError.duplicateMerge(rank: 1, firstRank: 0, left: "a", right: "b")) {
            try BPETokenizer(tokens: tokens, merges: [("a", "b"), ("a", "b")])
        }
    }

    @Test func unknownSpecialTokenAndBadBOS() {
        #expect(throws: TokenizerError.unknownSpecialToken("</s>")) {
            try BPETokenizer(tokens: tokens, merges: [], specialTokens: ["</s>"])
        }
        #expect(throws: TokenizerError.idOutOfRange(id: 4, vocabularySize: 4)) {
            try BPETokenizer(tokens: tokens, merges: [], options: .init(bosID: 4))
        }
    }

    @Test func malformedMergesText() {
        #expect(throws: TokenizerError.malformedMerge(line: 3, expected: "two tokens separated by one space", found: "a b c")) {
            try BPETokenizer(vocabJSON: Data(#"{"a":0,"b":1,"ab":2}"#.utf8), merges: "#version: 0.2\na b\na b c\n")
        }
        #expect(throws: TokenizerError.malformedMerge(line: 2, expected: "two tokens separated by one space", found: "")) {
            try BPETokenizer(vocabJSON: Data(#"{"a":0,"b":1,"ab":2}"#.utf8), merges: "a b\n\n")
        }
    }

    @Test func vocabJSONProblems() {
        #expect(throws: TokenizerError.missingID(id: 1, largestID: 2)) {
            try BPETokenizer(vocabJSON: Data(#"{"a":0,"b":2}"#.utf8), merges: "")
        }
        #expect(throws: TokenizerError.missingID(id: 1, largestID: 2_000_000_000)) {
            try BPETokenizer(vocabJSON: Data(#"{"a":0,"b":2000000000}"#.utf8), merges: "")
        }
        #expect(throws: TokenizerError.duplicateID(id: 1, first: "a", second: "b")) {
            try BPETokenizer(vocabJSON: Data(#"{"x":0,"a":1,"b":1}"#.utf8), merges: "")
        }
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(vocabJSON: Data(#"{"a":"zero"}"#.utf8), merges: "")
        }
        #expect(throws: TokenizerError.malformedJSON(path: #"vocab.json["a"]"#, expected: "an id in 0...2147483647", found: "true")) {
            try BPETokenizer(vocabJSON: Data(#"{"a":true}"#.utf8), merges: "")
        }
        #expect(throws: TokenizerError.self) { try BPETokenizer(vocabJSON: Data(#"{"a":1.5}"#.utf8), merges: "") }
        #expect(throws: TokenizerError.self) { try BPETokenizer(vocabJSON: Data("[1, 2".utf8), merges: "") }
    }

    @Test func tokenizerJSONProblems() throws {
        func make(_ edit: (inout [String: Any]) -> Void) throws -> Data {
            var root: [String: Any] = [
                "normalizer": NSNull(),
                "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
                "decoder": ["type": "ByteLevel"],
                "added_tokens": [] as [Any],
                "model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"]]],
            ]
            edit(&root)
            return try JSONSerialization.data(withJSONObject: root)
        }
        let ok = try BPETokenizer(tokenizerJSON: try make { _ in })
        #expect(ok.encode("abab") == [2, 2])
        #expect(throws: TokenizerError.unsupported(feature: "normalizer", found: #"{"type":"NFC"}"#)) {
            try BPETokenizer(tokenizerJSON: try make { $0["normalizer"] = ["type": "NFC"] })
        }
        #expect(throws: TokenizerError.unsupported(feature: "pre_tokenizer", found: #"{"type":"Whitespace"}"#)) {
            try BPETokenizer(tokenizerJSON: try make { $0["pre_tokenizer"] = ["type": "Whitespace"] })
        }
        #expect(throws: TokenizerError.malformedMerge(line: 0, expected: "\"left right\" or [\"left\", \"right\"]", found: "an array")) {
            try BPETokenizer(tokenizerJSON: try make { $0["model"] = ["type": "BPE", "vocab": ["a": 0], "merges": [["a"]]] })
        }
        #expect(throws: TokenizerError.duplicateID(id: 0, first: "a", second: "<s>")) {
            try BPETokenizer(tokenizerJSON: try make { $0["added_tokens"] = [["id": 0, "content": "<s>", "special": true]] })
        }
        #expect(throws: TokenizerError.unsupported(feature: "model.type", found: "WordPiece")) {
            try BPETokenizer(tokenizerJSON: try make { $0["model"] = ["type": "WordPiece", "vocab": ["a": 0]] })
        }
        let missing = #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokenizerPath: "/nonexistent/tokenizer.json")
        }
        guard case .unreadableFile(let path, _)? = missing else {
            Issue.record("expected unreadableFile, got \(String(describing: missing))")
            return
        }
        #expect(path == "/nonexistent/tokenizer.json")
    }

    @Test func errorsDescribeExpectedAndFound() {
        let e = TokenizerError.mergeResultNotInVocabulary(rank: 7, left: "a", right: "b")
        #expect(e.description.contains("merge 7") && e.description.contains("\"ab\""))
    }
}
