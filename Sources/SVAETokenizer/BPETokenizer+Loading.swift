// The one loader of Hugging Face tokenizer files (used by svae-convert, the runtime's
// `svae tokenize --tokenizer` and the tests). Every field of tokenizer.json,
// tokenizer_config.json and special_tokens_map.json is either reproduced exactly or refused
// with `TokenizerError.unsupported` naming the field and its value: a tokenizer that would
// give other ids than HF's is never built. JSON goes through the strict reader (SVAEJSON);
// files are read with POSIX calls (no Foundation).
//
// What is reproduced (checked by the goldens of tools/tokenizer/make_variant_goldens.py):
//   tokenizer.json  model BPE (vocab, merges in both forms, unk_token, dropout null/0,
//                   empty prefixes/suffixes); pre_tokenizer ByteLevel (add_prefix_space;
//                   use_regex true), alone or as the only step of a Sequence; normalizer
//                   null; added_tokens with every AddedToken option; post_processor null,
//                   ByteLevel, or TemplateProcessing whose single template is `$A` or one
//                   special token then `$A` (that token's id becomes the BOS); decoder
//                   ByteLevel; truncation and padding null.
//   vocab.json + merges.txt (transformers' GPT2Tokenizer): tokenizer_config.json's
//                   add_bos_token (BOS = bos_token's id), add_prefix_space, the special
//                   tokens it and special_tokens_map.json name (strings or AddedToken
//                   objects), added_tokens_decoder, and added_tokens.json.
// Everything else is refused.

import SVAEJSON

/// The files a tokenizer is read from.
public struct TokenizerFiles: Sendable, Equatable {
    /// A tokenizer.json (any file name), or nil for the vocab.json + merges.txt form.
    public var tokenizerJSON: String?
    public var vocab: String?
    public var merges: String?
    /// transformers' files beside them, when present.
    public var tokenizerConfig: String?
    public var specialTokensMap: String?
    public var addedTokens: String?

    public init(tokenizerJSON: String? = nil, vocab: String? = nil, merges: String? = nil, tokenizerConfig: String? = nil,
                specialTokensMap: String? = nil, addedTokens: String? = nil) {
        self.tokenizerJSON = tokenizerJSON
        self.vocab = vocab
        self.merges = merges
        self.tokenizerConfig = tokenizerConfig
        self.specialTokensMap = specialTokensMap
        self.addedTokens = addedTokens
    }

    /// Every file read, in reading order.
    public var all: [String] {
        [tokenizerJSON, vocab, merges, tokenizerConfig, specialTokensMap, addedTokens].compactMap { $0 }
    }

    /// Finds the files at `path`: a folder (tokenizer.json preferred, else vocab.json +
    /// merges.txt), a tokenizer.json of any name, or a vocab.json (merges.txt beside it).
    /// transformers' tokenizer_config.json, special_tokens_map.json and added_tokens.json are
    /// taken from the same folder for the vocab form, and tokenizer_config.json for a file
    /// named tokenizer.json. Nil when none of these exists.
    public static func locate(_ path: String) -> TokenizerFiles? {
        func beside(_ folder: String, _ name: String) -> String? {
            let p = folder + "/" + name
            return FileSystem.isFile(p) ? p : nil
        }
        func vocabForm(_ folder: String, vocab: String) -> TokenizerFiles? {
            guard let m = beside(folder, "merges.txt") else { return nil }
            return TokenizerFiles(vocab: vocab, merges: m, tokenizerConfig: beside(folder, "tokenizer_config.json"),
                                  specialTokensMap: beside(folder, "special_tokens_map.json"),
                                  addedTokens: beside(folder, "added_tokens.json"))
        }
        if FileSystem.isDirectory(path) {
            let folder = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
            if let t = beside(folder, "tokenizer.json") {
                return TokenizerFiles(tokenizerJSON: t, tokenizerConfig: beside(folder, "tokenizer_config.json"))
            }
            guard let v = beside(folder, "vocab.json") else { return nil }
            return vocabForm(folder, vocab: v)
        }
        guard FileSystem.isFile(path) else { return nil }
        let folder = FileSystem.folder(of: path)
        let name = FileSystem.fileName(path)
        if name == "vocab.json" || name == "merges.txt" {
            guard let v = beside(folder, "vocab.json") else { return nil }
            return vocabForm(folder, vocab: v)
        }
        return TokenizerFiles(tokenizerJSON: path, tokenizerConfig: name == "tokenizer.json" ? beside(folder, "tokenizer_config.json") : nil)
    }
}

extension BPETokenizer {
    // MARK: entry points

    /// Loads the tokenizer at `path` (see `TokenizerFiles.locate`).
    ///
    /// - Throws: `TokenizerError.notFound` when there are no tokenizer files at `path`;
    ///   `.inFile` wrapping what is wrong with one file (unsupported field, bad JSON, …).
    public static func load(_ path: String) throws(TokenizerError) -> BPETokenizer {
        guard let files = TokenizerFiles.locate(path) else { throw .notFound(path: path) }
        return try load(files)
    }

    /// Loads the tokenizer from `files`.
    public static func load(_ files: TokenizerFiles) throws(TokenizerError) -> BPETokenizer {
        let config = try files.tokenizerConfig.map { p throws(TokenizerError) in try (p, readJSON(p)) }
        if let t = files.tokenizerJSON {
            let root = try readJSON(t)
            let tokenizer = try inFile(t) { () throws(TokenizerError) in try BPETokenizer(tokenizerJSON: root) }
            if let (p, c) = config { try inFile(p) { () throws(TokenizerError) in try checkAgrees(c, with: tokenizer) } }
            return tokenizer
        }
        guard let v = files.vocab, let m = files.merges else { throw .notFound(path: files.all.first ?? "") }
        let mergesBytes = try readFile(m)
        guard let mergesText = String(validating: mergesBytes, as: UTF8.self) else {
            throw .inFile(path: m, .malformedJSON(path: "text", expected: "UTF-8", found: "invalid bytes"))
        }
        var specials = SpecialTokenSet()
        var options = Options()
        if let s = files.specialTokensMap {
            let map = try readJSON(s)
            try inFile(s) { () throws(TokenizerError) in try specials.readSpecialTokensMap(map, file: s) }
        }
        if let (p, c) = config {
            try inFile(p) { () throws(TokenizerError) in try specials.readTokenizerConfig(c, file: p, options: &options) }
        }
        let merges = try inFile(m) { () throws(TokenizerError) in try parseMergesText(mergesText) }
        let vocab = try readJSON(v)
        var tokens = try inFile(v) { () throws(TokenizerError) in
            guard let members = vocab.members else {
                throw .malformedJSON(path: "root", expected: "an object of token to id", found: vocab.kind)
            }
            return try denseTokens(members, path: "vocab.json", extra: [])
        }
        if let a = files.addedTokens {
            let added = try readJSON(a)
            tokens = try inFile(a) { () throws(TokenizerError) in try specials.readAddedTokensFile(added, tokens: tokens) }
        }
        let (all, added, bos) = try inFile(files.tokenizerConfig ?? v) { () throws(TokenizerError) in try specials.resolve(tokens: tokens) }
        tokens = all
        options.bosID = bos
        return try BPETokenizer(tokens: tokens, merges: merges, addedTokens: added, options: options)
    }

    /// Builds a tokenizer from the contents of `vocab.json` and `merges.txt`.
    ///
    /// - Parameters:
    ///   - vocabJSON: a JSON object from token string to id; ids must be exactly `0..<count`.
    ///   - merges: merges.txt text: an optional `#version` line, then one `left right` pair a
    ///     line in rank order (HF rejects any other line, and so do we).
    ///   - specialTokens, addedTokens, options: as in `init(tokens:merges:…)`.
    public convenience init(vocabJSON: [UInt8], merges: String, specialTokens: [String] = [],
                            addedTokens: [AddedToken] = [], options: Options = Options()) throws(TokenizerError) {
        let object = try Self.parse(vocabJSON, path: "vocab.json")
        guard let vocab = object.members else {
            throw .malformedJSON(path: "vocab.json", expected: "an object of token to id", found: object.kind)
        }
        let tokens = try Self.denseTokens(vocab, path: "vocab.json", extra: [])
        try self.init(tokens: tokens, merges: try Self.parseMergesText(merges), specialTokens: specialTokens,
                      addedTokens: addedTokens, options: options)
    }

    /// Builds a tokenizer from `vocab.json` and `merges.txt` files, with the special tokens
    /// given (transformers' files beside them are not read; `load` reads them).
    public convenience init(vocabPath: String, mergesPath: String, specialTokens: [String] = [],
                            addedTokens: [AddedToken] = [], options: Options = Options()) throws(TokenizerError) {
        let vocab = try Self.readFile(vocabPath)
        guard let merges = String(validating: try Self.readFile(mergesPath), as: UTF8.self) else {
            throw .unreadableFile(path: mergesPath, reason: "not UTF-8")
        }
        try self.init(vocabJSON: vocab, merges: merges, specialTokens: specialTokens, addedTokens: addedTokens, options: options)
    }

    /// Builds a tokenizer from a `tokenizer.json` file.
    public convenience init(tokenizerPath: String, options: Options? = nil) throws(TokenizerError) {
        let root = try Self.readJSON(tokenizerPath)
        do {
            try self.init(tokenizerJSON: root, options: options)
        } catch {
            throw .inFile(path: tokenizerPath, error)
        }
    }

    /// Builds a tokenizer from the contents of a Hugging Face `tokenizer.json`.
    ///
    /// Every field is reproduced or refused (see the file comment). When `options` is nil,
    /// the prefix space, unknown token and BOS come from the file; pass `options` to override.
    ///
    /// - Throws: `TokenizerError.unsupported(feature:found:)` naming the first field whose
    ///   value would make ids differ from HF's; `.malformedJSON` for a malformed field.
    public convenience init(tokenizerJSON: [UInt8], options: Options? = nil) throws(TokenizerError) {
        try self.init(tokenizerJSON: try Self.parse(tokenizerJSON, path: "tokenizer.json"), options: options)
    }

    /// Builds a tokenizer from a parsed `tokenizer.json` (see `init(tokenizerJSON:options:)`).
    package convenience init(tokenizerJSON root: JSONValue, options: Options? = nil) throws(TokenizerError) {
        guard let members = root.members else {
            throw .malformedJSON(path: "root", expected: "an object", found: root.kind)
        }
        let known: Set = ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "model",
                          "post_processor", "decoder"]
        if let (k, v) = members.first(where: { !known.contains($0.0) }) { throw .unsupported(feature: k, found: Self.brief(v)) }
        for key in ["truncation", "padding", "normalizer"] {
            if let v = root[key], v != .null { throw .unsupported(feature: key, found: Self.brief(v)) }
        }
        // Decoding: ByteLevel only (without a decoder HF joins the raw token strings with spaces).
        let decoder = root["decoder"] ?? .null
        guard decoder["type"] == .string("ByteLevel") else { throw .unsupported(feature: "decoder", found: Self.brief(decoder)) }
        guard let model = root["model"], model.members != nil else {
            throw .malformedJSON(path: "model", expected: "an object", found: root["model"]?.kind ?? "nothing")
        }
        let modelKeys: Set = ["type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk",
                              "byte_fallback", "ignore_merges", "vocab", "merges"]
        if let (k, v) = model.members!.first(where: { !modelKeys.contains($0.0) }) {
            throw .unsupported(feature: "model.\(k)", found: Self.brief(v))
        }
        if let type = model["type"], type != .null, type != .string("BPE") {
            throw .unsupported(feature: "model.type", found: type.stringValue ?? type.text)
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], v != .null, v != .string("") { throw .unsupported(feature: "model.\(key)", found: v.text) }
        }
        if let d = model["dropout"], d != .null, d.doubleValue != 0 { throw .unsupported(feature: "model.dropout", found: d.text) }
        for key in ["byte_fallback", "ignore_merges"] {
            if let v = model[key], v != .null, v != .bool(false) { throw .unsupported(feature: "model.\(key)", found: v.text) }
        }
        let addPrefixSpace = try Self.byteLevelPrefixSpace(root["pre_tokenizer"], path: "pre_tokenizer")

        guard let vocab = model["vocab"]?.members else {
            throw .malformedJSON(path: "model.vocab", expected: "an object of token to id", found: model["vocab"]?.kind ?? "nothing")
        }
        var extra: [(String, Int)] = []
        var added: [AddedToken] = []
        if let list = root["added_tokens"], list != .null {
            guard let items = list.items else { throw .malformedJSON(path: "added_tokens", expected: "an array", found: list.kind) }
            for (k, item) in items.enumerated() {
                let path = "added_tokens[\(k)]"
                let (token, id) = try Self.addedToken(item, path: path, requireID: true)
                extra.append((token.content, id!))
                added.append(token)
            }
        }
        let tokens = try Self.denseTokens(vocab, path: "model.vocab", extra: extra)

        guard let rawMerges = model["merges"]?.items else {
            throw .malformedJSON(path: "model.merges", expected: "an array", found: model["merges"]?.kind ?? "nothing")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(rawMerges.count)
        for (k, m) in rawMerges.enumerated() {
            if let s = m.stringValue {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .malformedMerge(line: k, expected: "\"left right\"", found: s) }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = m.items, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                merges.append((a, b))
            } else {
                throw .malformedMerge(line: k, expected: "\"left right\" or [\"left\", \"right\"]", found: m.kind)
            }
        }

        var unknown: String?
        if let u = model["unk_token"], u != .null {
            guard let s = u.stringValue else { throw .malformedJSON(path: "model.unk_token", expected: "a string", found: u.kind) }
            unknown = s
            // fuse_unk merges runs of unknown bytes into one id; reproduced only when no byte lacks a token.
            if model["fuse_unk"] == .bool(true), let missing = (0...255).first(where: { !tokens.contains(ByteLevel.string(forByte: UInt8($0))) }) {
                throw .unsupported(feature: "model.fuse_unk", found: "true with byte \(missing) missing from the vocabulary")
            }
        }
        let bos = try Self.templateBOS(root["post_processor"], tokens: tokens, path: "post_processor")

        var resolved = options ?? Options()
        if options == nil {
            resolved.addPrefixSpace = addPrefixSpace
            resolved.unknownToken = unknown
            resolved.bosID = bos
        }
        try self.init(tokens: tokens, merges: merges, addedTokens: added, options: resolved)
    }

    // MARK: tokenizer.json pieces

    /// `add_prefix_space` of a ByteLevel pre-tokenizer (alone or as the only step of a Sequence).
    static func byteLevelPrefixSpace(_ value: JSONValue?, path: String) throws(TokenizerError) -> Bool {
        guard let value, value != .null else { throw .unsupported(feature: path, found: "null (no ByteLevel pre-tokenizer)") }
        let type = value["type"]?.stringValue
        if type == "Sequence", let steps = value["pretokenizers"]?.items, steps.count == 1 {
            return try byteLevelPrefixSpace(steps[0], path: path + ".pretokenizers[0]")
        }
        guard type == "ByteLevel" else { throw .unsupported(feature: path, found: brief(value)) }
        for (k, v) in value.members ?? [] {
            switch k {
            case "type", "trim_offsets": continue  // offsets only
            case "add_prefix_space": guard v.boolValue != nil else { throw .malformedJSON(path: "\(path).\(k)", expected: "true or false", found: v.kind) }
            case "use_regex": guard v == .bool(true) else { throw .unsupported(feature: "\(path).use_regex", found: v.text) }
            default: throw .unsupported(feature: "\(path).\(k)", found: v.text)
            }
        }
        return value["add_prefix_space"]?.boolValue ?? true  // HF's ByteLevel default
    }

    /// The BOS id a post-processor prepends: none for null or ByteLevel (offsets only), or the
    /// special token of a TemplateProcessing whose single template is `[special, $A]`.
    static func templateBOS(_ value: JSONValue?, tokens: [String], path: String) throws(TokenizerError) -> Int32? {
        guard let value, value != .null else { return nil }
        switch value["type"]?.stringValue {
        case "ByteLevel":
            return nil
        case "Sequence":
            guard let steps = value["processors"]?.items else { throw .unsupported(feature: path, found: brief(value)) }
            var bos: Int32? = nil
            for (k, step) in steps.enumerated() {
                if let b = try templateBOS(step, tokens: tokens, path: "\(path).processors[\(k)]") {
                    if bos != nil { throw .unsupported(feature: path, found: "two processors that add tokens") }
                    bos = b
                }
            }
            return bos
        case "TemplateProcessing":
            guard let single = value["single"]?.items else { throw .malformedJSON(path: "\(path).single", expected: "an array", found: value["single"]?.kind ?? "nothing") }
            func isSequence(_ v: JSONValue) -> Bool { v["Sequence"]?["id"] == .string("A") }
            if single.count == 1, isSequence(single[0]) { return nil }
            guard single.count == 2, isSequence(single[1]), let name = single[0]["SpecialToken"]?["id"]?.stringValue else {
                throw .unsupported(feature: "\(path).single", found: brief(.array(single)) + " (only $A or one special token then $A)")
            }
            guard let entry = value["special_tokens"]?[name] else {
                throw .malformedJSON(path: "\(path).special_tokens", expected: "an entry for \(name.debugDescription)", found: "none")
            }
            guard let ids = entry["ids"]?.items, ids.count == 1, let id = ids[0].intValue else {
                throw .unsupported(feature: "\(path).special_tokens[\(name.debugDescription)].ids", found: entry["ids"]?.text ?? "nothing")
            }
            guard (0..<tokens.count).contains(id) else { throw .idOutOfRange(id: id, vocabularySize: tokens.count) }
            return Int32(id)
        default:
            throw .unsupported(feature: path, found: brief(value))
        }
    }

    /// One HF `AddedToken` object: content, id (when required), and the five options with HF's
    /// defaults (`normalized` = !special). Any other key is refused.
    static func addedToken(_ item: JSONValue, path: String, requireID: Bool, special: Bool? = nil) throws(TokenizerError) -> (AddedToken, Int?) {
        guard let members = item.members, let content = item["content"]?.stringValue else {
            throw .malformedJSON(path: path, expected: "{\"content\": string, …}", found: item.kind)
        }
        var id: Int? = nil
        var flags: [String: Bool] = [:]
        for (k, v) in members {
            switch k {
            case "content", "__type": continue
            case "id":
                guard let i = v.intValue else { throw .malformedJSON(path: "\(path).id", expected: "an integer", found: v.kind) }
                id = i
            case "special", "normalized", "lstrip", "rstrip", "single_word":
                guard let b = v.boolValue else { throw .malformedJSON(path: "\(path).\(k)", expected: "true or false", found: v.kind) }
                flags[k] = b
            default:
                throw .unsupported(feature: "\(path).\(k)", found: v.text)
            }
        }
        if requireID && id == nil { throw .malformedJSON(path: "\(path).id", expected: "an integer", found: "nothing") }
        let isSpecial = special ?? flags["special"] ?? false
        return (AddedToken(content, special: isSpecial, normalized: flags["normalized"] ?? !isSpecial,
                           lstrip: flags["lstrip"] ?? false, rstrip: flags["rstrip"] ?? false,
                           singleWord: flags["single_word"] ?? false), id)
    }

    /// A tokenizer_config.json beside a tokenizer.json: transformers may rebuild parts of the
    /// tokenizer from it, HF `tokenizers` never does; where the two would disagree, refuse.
    static func checkAgrees(_ config: JSONValue, with t: BPETokenizer) throws(TokenizerError) {
        if let v = config["add_prefix_space"], let b = v.boolValue, b != t.options.addPrefixSpace {
            throw .unsupported(feature: "add_prefix_space", found: "\(b), while tokenizer.json's pre-tokenizer says \(t.options.addPrefixSpace)")
        }
        if config["add_bos_token"] == .bool(true), t.options.bosID == nil {
            throw .unsupported(feature: "add_bos_token", found: "true, while tokenizer.json's post-processor adds no BOS")
        }
        for key in ["add_eos_token", "clean_up_tokenization_spaces", "split_special_tokens", "do_lower_case"] where config[key] == .bool(true) {
            throw .unsupported(feature: key, found: "true")
        }
    }

    // MARK: helpers

    /// Parses merges.txt into pairs (HF `BPE::read_file` rules).
    static func parseMergesText(_ text: String) throws(TokenizerError) -> [(String, String)] {
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
                throw .malformedMerge(line: k + 1, expected: "two tokens separated by one space", found: String(line))
            }
            out.append((String(parts[0]), String(parts[1])))
        }
        return out
    }

    /// Token strings in id order from a token → id object plus extra (token, id) pairs.
    static func denseTokens(_ vocab: [(String, JSONValue)], path: String, extra: [(String, Int)]) throws(TokenizerError) -> [String] {
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocab.count + extra.count)
        var largest = -1
        for (token, value) in vocab {
            guard let id = value.intValue, id >= 0, id <= Int(Int32.max) else {
                throw .malformedJSON(path: "\(path)[\(token.debugDescription)]", expected: "an id in 0...\(Int32.max)", found: value.text)
            }
            if let other = byID[id] {
                let (a, b) = other < token ? (other, token) : (token, other)
                throw .duplicateID(id: id, first: a, second: b)
            }
            byID[id] = token
            largest = max(largest, id)
        }
        for (token, id) in extra {
            guard id >= 0, id <= Int(Int32.max) else {
                throw .malformedJSON(path: "added_tokens", expected: "an id in 0...\(Int32.max)", found: "\(id)")
            }
            if let other = byID[id] {
                if other != token { throw .duplicateID(id: id, first: other, second: token) }
                continue
            }
            byID[id] = token
            largest = max(largest, id)
        }
        // Ids are distinct, so they are exactly 0...largest iff there are largest + 1 of them;
        // otherwise a hole lies below byID.count (checked before allocating anything large).
        guard byID.count == largest + 1 else {
            let hole = (0...byID.count).first { byID[$0] == nil } ?? 0
            throw .missingID(id: hole, largestID: largest)
        }
        return (0..<byID.count).map { byID[$0] ?? "" }
    }

    static func parse(_ bytes: [UInt8], path: String) throws(TokenizerError) -> JSONValue {
        do {
            return try StrictJSON.parse(bytes)
        } catch {
            throw .malformedJSON(path: path, expected: "strict JSON", found: error.description)
        }
    }

    static func readFile(_ path: String) throws(TokenizerError) -> [UInt8] {
        do {
            return try StrictJSON.readFile(path)
        } catch {
            throw .unreadableFile(path: path, reason: error.reason)
        }
    }

    static func readJSON(_ path: String) throws(TokenizerError) -> JSONValue {
        do {
            return try StrictJSON.read(file: path)
        } catch {
            throw .unreadableFile(path: path, reason: error.reason)
        }
    }

    /// Runs `body`, naming `path` in any error it throws.
    static func inFile<R>(_ path: String, _ body: () throws(TokenizerError) -> R) throws(TokenizerError) -> R {
        do {
            return try body()
        } catch {
            if case .inFile = error { throw error }
            throw .inFile(path: path, error)
        }
    }

    /// A JSON value for a one-line message: its compact text, cut at 80 characters.
    static func brief(_ v: JSONValue) -> String {
        let text = v.text
        return text.count <= 80 ? text : String(text.prefix(77)) + "…"
    }
}
