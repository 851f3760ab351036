import Foundation

// Construction from HF's files: vocab.json + merges.txt, and tokenizer.json.

extension BPETokenizer {
    /// Builds a tokenizer from the contents of `vocab.json` and `merges.txt`.
    ///
    /// - Parameters:
    ///   - vocabJSON: a JSON object from token string to id; ids must be exactly `0..<count`.
    ///   - merges: merges.txt text: an optional `#version` line, then one `left right` pair a
    ///     line in rank order (HF rejects any other line, and so do we).
    ///   - specialTokens, addedTokens, options: as in `init(tokens:merges:…)`.
    public convenience init(vocabJSON: Data, merges: String, specialTokens: [String] = [],
                            addedTokens: [AddedToken] = [], options: Options = Options()) throws {
        let object = try Self.parseJSON(vocabJSON, path: "vocab.json")
        guard let vocab = object as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: "vocab.json", expected: "an object of token to id", found: Self.kind(object))
        }
        let tokens = try Self.denseTokens(vocab, path: "vocab.json", extra: [])
        try self.init(tokens: tokens, merges: try Self.parseMergesText(merges), specialTokens: specialTokens,
                      addedTokens: addedTokens, options: options)
    }

    /// Builds a tokenizer from `vocab.json` and `merges.txt` files.
    public convenience init(vocabURL: URL, mergesURL: URL, specialTokens: [String] = [],
                            addedTokens: [AddedToken] = [], options: Options = Options()) throws {
        let vocab = try Self.read(vocabURL)
        guard let merges = String(data: try Self.read(mergesURL), encoding: .utf8) else {
            throw TokenizerError.unreadableFile(path: mergesURL.path, reason: "not UTF-8")
        }
        try self.init(vocabJSON: vocab, merges: merges, specialTokens: specialTokens,
                      addedTokens: addedTokens, options: options)
    }

    /// Builds a tokenizer from a Hugging Face `tokenizer.json`.
    ///
    /// Reads `model.vocab`, `model.merges` (either `"a b"` strings or `["a", "b"]` arrays),
    /// `model.unk_token`, `added_tokens` (with `special`, `normalized`, `lstrip`, `rstrip`,
    /// `single_word`) and the ByteLevel `add_prefix_space`.
    /// When `options` is nil they come from the file, and `bosID` from a `TemplateProcessing`
    /// post-processor whose single-sequence template is one special token followed by `$A`
    /// (the way an OPT-style tokenizer prepends `</s>`); pass `options` to override.
    ///
    /// - Throws: `TokenizerError.unsupported` for a normalizer, a non-ByteLevel pre-tokenizer,
    ///   `byte_fallback`, `ignore_merges`, dropout or word prefixes/suffixes, since ids would
    ///   then differ from HF's.
    public convenience init(tokenizerJSON: Data, options: Options? = nil) throws {
        let root = try Self.parseJSON(tokenizerJSON, path: "tokenizer.json")
        guard let root = root as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: "tokenizer.json", expected: "an object", found: Self.kind(root))
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: "model", expected: "an object", found: Self.kind(root["model"]))
        }
        if let type = model["type"], !(type is NSNull) {
            guard let t = type as? String, t == "BPE" else {
                throw TokenizerError.unsupported(feature: "model.type", found: "\(type)")
            }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty { throw TokenizerError.unsupported(feature: "model.\(key)", found: v) }
        }
        if let d = model["dropout"] as? Double, d != 0 { throw TokenizerError.unsupported(feature: "model.dropout", found: "\(d)") }
        for key in ["byte_fallback", "ignore_merges"] where (model[key] as? Bool) == true {
            throw TokenizerError.unsupported(feature: "model.\(key)", found: "true")
        }
        if let normalizer = root["normalizer"], !(normalizer is NSNull) {
            throw TokenizerError.unsupported(feature: "normalizer", found: Self.typeName(normalizer))
        }
        let addPrefixSpace = try Self.byteLevelPrefixSpace(root["pre_tokenizer"])

        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformedJSON(path: "model.vocab", expected: "an object of token to id", found: Self.kind(model["vocab"]))
        }
        // added_tokens
        var extra: [(String, Int)] = []
        var added: [AddedToken] = []
        if let list = root["added_tokens"], !(list is NSNull) {
            guard let list = list as? [Any] else {
                throw TokenizerError.malformedJSON(path: "added_tokens", expected: "an array", found: Self.kind(list))
            }
            for (k, item) in list.enumerated() {
                let path = "added_tokens[\(k)]"
                guard let entry = item as? [String: Any], let content = entry["content"] as? String,
                      let id = Self.integer(entry["id"]) else {
                    throw TokenizerError.malformedJSON(path: path, expected: "{\"id\": integer, \"content\": string, …}", found: Self.kind(item))
                }
                let special = (entry["special"] as? Bool) ?? false
                extra.append((content, id))
                added.append(AddedToken(content, special: special, normalized: (entry["normalized"] as? Bool) ?? !special,
                                        lstrip: (entry["lstrip"] as? Bool) ?? false, rstrip: (entry["rstrip"] as? Bool) ?? false,
                                        singleWord: (entry["single_word"] as? Bool) ?? false))
            }
        }
        let tokens = try Self.denseTokens(vocab, path: "model.vocab", extra: extra)

        guard let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError.malformedJSON(path: "model.merges", expected: "an array", found: Self.kind(model["merges"]))
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(rawMerges.count)
        for (k, m) in rawMerges.enumerated() {
            if let s = m as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.malformedMerge(line: k, expected: "\"left right\"", found: s)
                }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = m as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append((a, b))
            } else {
                throw TokenizerError.malformedMerge(line: k, expected: "\"left right\" or [\"left\", \"right\"]", found: Self.kind(m))
            }
        }

        var resolved = options ?? Options()
        if options == nil {
            resolved.addPrefixSpace = addPrefixSpace
            if let unk = model["unk_token"] as? String { resolved.unknownToken = unk }
            resolved.bosID = try Self.templateBOS(root["post_processor"], tokens: tokens)
        }
        try self.init(tokens: tokens, merges: merges, addedTokens: added, options: resolved)
    }

    /// Builds a tokenizer from a `tokenizer.json` file.
    public convenience init(tokenizerURL: URL, options: Options? = nil) throws {
        try self.init(tokenizerJSON: try Self.read(tokenizerURL), options: options)
    }

    // MARK: helpers

    /// Parses merges.txt into pairs (HF `BPE::read_file` rules).
    static func parseMergesText(_ text: String) throws -> [(String, String)] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var out: [(String, String)] = []
        out.reserveCapacity(lines.count)
        for (k, rawLine) in lines.enumerated() {
            var line = rawLine
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.malformedMerge(line: k + 1, expected: "two tokens separated by one space", found: String(line))
            }
            out.append((String(parts[0]), String(parts[1])))
        }
        return out
    }

    /// Token strings in id order from a token → id object plus extra (token, id) pairs.
    static func denseTokens(_ vocab: [String: Any], path: String, extra: [(String, Int)]) throws -> [String] {
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocab.count + extra.count)
        var largest = -1
        for (token, value) in vocab {
            guard let id = integer(value), id >= 0, id <= Int(Int32.max) else {
                throw TokenizerError.malformedJSON(path: "\(path)[\(token.debugDescription)]", expected: "an id in 0...\(Int32.max)", found: "\(value)")
            }
            if let other = byID[id] {
                let (a, b) = other < token ? (other, token) : (token, other)
                throw TokenizerError.duplicateID(id: id, first: a, second: b)
            }
            byID[id] = token
            largest = max(largest, id)
        }
        for (token, id) in extra {
            guard id >= 0, id <= Int(Int32.max) else {
                throw TokenizerError.malformedJSON(path: "added_tokens", expected: "an id in 0...\(Int32.max)", found: "\(id)")
            }
            if let other = byID[id] {
                if other != token { throw TokenizerError.duplicateID(id: id, first: other, second: token) }
                continue
            }
            byID[id] = token
            largest = max(largest, id)
        }
        // Ids are distinct, so they are exactly 0...largest iff there are largest + 1 of them;
        // otherwise a hole lies below byID.count (checked before allocating anything large).
        guard byID.count == largest + 1 else {
            let hole = (0...byID.count).first { byID[$0] == nil } ?? 0
            throw TokenizerError.missingID(id: hole, largestID: largest)
        }
        return (0..<byID.count).map { byID[$0] ?? "" }
    }

    /// `add_prefix_space` of a ByteLevel pre-tokenizer (alone or as the only step of a Sequence).
    static func byteLevelPrefixSpace(_ value: Any?) throws -> Bool {
        guard let object = value as? [String: Any] else {
            throw TokenizerError.unsupported(feature: "pre_tokenizer", found: value.map(kind) ?? "missing")
        }
        let type = object["type"] as? String
        if type == "Sequence", let steps = object["pretokenizers"] as? [Any], steps.count == 1 {
            return try byteLevelPrefixSpace(steps[0])
        }
        guard type == "ByteLevel" else {
            throw TokenizerError.unsupported(feature: "pre_tokenizer", found: type ?? kind(object))
        }
        if (object["use_regex"] as? Bool) == false {
            throw TokenizerError.unsupported(feature: "pre_tokenizer.use_regex", found: "false")
        }
        return (object["add_prefix_space"] as? Bool) ?? false
    }

    /// The id a `TemplateProcessing` single template puts before `$A`, if it is exactly one
    /// special token followed by the sequence.
    static func templateBOS(_ value: Any?, tokens: [String]) throws -> Int32? {
        guard let object = value as? [String: Any], object["type"] as? String == "TemplateProcessing",
              let single = object["single"] as? [Any], single.count == 2,
              let first = single[0] as? [String: Any], let special = first["SpecialToken"] as? [String: Any],
              let name = special["id"] as? String,
              let second = single[1] as? [String: Any], second["Sequence"] != nil
        else { return nil }
        if let map = object["special_tokens"] as? [String: Any], let entry = map[name] as? [String: Any],
           let ids = entry["ids"] as? [Any], ids.count == 1, let id = integer(ids[0]) {
            guard (0..<tokens.count).contains(id) else {
                throw TokenizerError.idOutOfRange(id: id, vocabularySize: tokens.count)
            }
            return Int32(id)
        }
        guard let index = tokens.firstIndex(of: name) else { throw TokenizerError.unknownSpecialToken(name) }
        return Int32(index)
    }

    static func parseJSON(_ data: Data, path: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw TokenizerError.malformedJSON(path: path, expected: "valid JSON", found: "invalid JSON")
        }
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            // Plain words, not Foundation's error dump.
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw TokenizerError.unreadableFile(path: url.path, reason: exists ? "permission denied or not a regular file" : "no such file")
        }
    }

    /// An integer from a JSON number (not a Bool, not a fraction).
    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        // JSON true/false also arrive as NSNumber; their Objective-C type is "c" (char).
        if String(cString: number.objCType) == "c" { return nil }
        let d = number.doubleValue
        guard d == d.rounded(), abs(d) < 9e15 else { return nil }
        return number.intValue
    }

    static func kind(_ value: Any?) -> String {
        switch value {
        case nil: "missing"
        case is NSNull: "null"
        case let s as String: "string \(s.debugDescription)"
        case is [Any]: "array"
        case is [String: Any]: "object"
        case let v?: "\(v)"
        }
    }

    static func typeName(_ value: Any) -> String {
        ((value as? [String: Any])?["type"] as? String) ?? kind(value)
    }
}
