// TokenizerImport: a minimal reader of Hugging Face byte-level BPE tokenizer files, producing
// the `.svae` tokenizer section (formats/svae.md §6): token strings in id order, merges as id
// pairs, added/special tokens.
//
// This is deliberately small: it only moves the tables into the file. The full tokenizer
// (pre-tokenizer, added-token matching options, encode/decode) lives in the SVAETokenizer
// target, which has its own loader with HF's complete rules; once that target is on main the
// converter can delegate to it. JSON goes through the strict parser (`JSON.swift`).

import SVAEFormat

/// Tokenizer files found for a conversion.
public struct TokenizerFiles: Sendable, Equatable {
    /// `tokenizer.json`, or nil when `vocab`/`merges` are used.
    public var tokenizerJSON: String?
    /// `vocab.json` and `merges.txt`.
    public var vocab: String?
    public var merges: String?
    /// Optional `special_tokens_map.json` / `added_tokens.json` beside `vocab.json`.
    public var specialTokensMap: String?
    public var addedTokens: String?

    /// Every file read, in reading order.
    public var all: [String] { [tokenizerJSON, vocab, merges, specialTokensMap, addedTokens].compactMap { $0 } }
}

/// A tokenizer read from HF files.
public struct ImportedTokenizer: Sendable {
    /// The section to store.
    public var data: TokenizerData
    /// The files it came from.
    public var files: TokenizerFiles
    /// True when the table is OPT-style (`</s>` at id 2): OPT's tokenizer prepends `</s>` to
    /// every text, so the converter sets `tokens.add_bos` unless told otherwise.
    public var isOPTStyle: Bool { data.tokens.count > 2 && data.tokens[2] == "</s>" }
    /// Decisions taken (where the specials came from).
    public var notes: [String]
}

/// A tokenizer file that is missing, malformed or uses a feature the `.svae` format cannot hold.
public enum TokenizerImportError: Error, Equatable, CustomStringConvertible {
    /// `path` holds neither `tokenizer.json` nor `vocab.json` + `merges.txt`.
    case notFound(path: String)
    /// A value of the file is not what the format needs.
    case malformed(path: String, what: String, expected: String, found: String)
    /// A tokenizer kind the `.svae` tokenizer section cannot represent (only byte-level BPE).
    case unsupported(path: String, feature: String, found: String)

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): expected tokenizer.json, vocab.json + merges.txt, or a folder holding them; found none"
        case let .malformed(path, what, expected, found): "\(path): \(what): expected \(expected), found \(found)"
        case let .unsupported(path, feature, found): "\(path): \(feature) \(found) is not supported (byte-level BPE only)"
        }
    }
}

/// Loader of HF tokenizer files.
public enum TokenizerImport {
    /// Finds tokenizer files at `path`: a `tokenizer.json` file, a `vocab.json` file (with
    /// `merges.txt` beside it), or a folder holding either (`tokenizer.json` preferred).
    public static func locate(_ path: String) -> TokenizerFiles? {
        if isFile(path) {
            if path.hasSuffix("vocab.json") || path.hasSuffix("merges.txt") { return vocabFiles(folder: folder(of: path)) }
            return TokenizerFiles(tokenizerJSON: path)
        }
        guard isDirectory(path) else { return nil }
        if isFile(path + "/tokenizer.json") { return TokenizerFiles(tokenizerJSON: path + "/tokenizer.json") }
        return vocabFiles(folder: path)
    }

    private static func vocabFiles(folder: String) -> TokenizerFiles? {
        let v = folder + "/vocab.json", m = folder + "/merges.txt"
        guard isFile(v), isFile(m) else { return nil }
        let s = folder + "/special_tokens_map.json", a = folder + "/added_tokens.json"
        return TokenizerFiles(vocab: v, merges: m, specialTokensMap: isFile(s) ? s : nil, addedTokens: isFile(a) ? a : nil)
    }

    /// Loads the tokenizer at `path` (see `locate`).
    public static func load(_ path: String) throws -> ImportedTokenizer {
        guard let files = locate(path) else { throw TokenizerImportError.notFound(path: path) }
        return try load(files)
    }

    /// Loads the tokenizer from `files`.
    public static func load(_ files: TokenizerFiles) throws -> ImportedTokenizer {
        if let t = files.tokenizerJSON { return try loadTokenizerJSON(t, files: files) }
        guard let v = files.vocab, let m = files.merges else { throw TokenizerImportError.notFound(path: files.all.first ?? "") }
        return try loadVocabMerges(vocab: v, merges: m, files: files)
    }

    // MARK: tokenizer.json

    static func loadTokenizerJSON(_ path: String, files: TokenizerFiles) throws -> ImportedTokenizer {
        let root = try readJSON(path)
        guard case .object = root, case .object? = root["model"] else {
            throw TokenizerImportError.malformed(path: path, what: "model", expected: "an object", found: root["model"]?.text ?? "none")
        }
        let model = root["model"]!
        if let type = model["type"], type != .null, type != .string("BPE") {
            throw TokenizerImportError.unsupported(path: path, feature: "model.type", found: type.text)
        }
        guard let vocab = model["vocab"] else {
            throw TokenizerImportError.malformed(path: path, what: "model.vocab", expected: "an object of token to id", found: "none")
        }
        var entries = try vocabEntries(vocab, path: path, what: "model.vocab")
        var specials: [TokenizerData.Special] = []
        if let added = root["added_tokens"], added != .null {
            guard case .array(let list) = added else {
                throw TokenizerImportError.malformed(path: path, what: "added_tokens", expected: "an array", found: String(added.text.prefix(40)))
            }
            for (i, item) in list.enumerated() {
                guard case .string(let content)? = item["content"], let id = item["id"]?.intValue, id >= 0, id <= Int(UInt32.max) else {
                    throw TokenizerImportError.malformed(path: path, what: "added_tokens[\(i)]", expected: "an object with content and id",
                                                         found: String(item.text.prefix(60)))
                }
                entries.append((content, id))
                specials.append(TokenizerData.Special(id: UInt32(id), text: content))
            }
        }
        let tokens = try denseTable(entries, path: path)
        guard let mergeList = model["merges"], case .array(let merges) = mergeList else {
            throw TokenizerImportError.malformed(path: path, what: "model.merges", expected: "an array", found: model["merges"]?.text ?? "none")
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (r, m) in merges.enumerated() {
            switch m {
            case .string(let s): pairs.append(try splitMerge(s, path: path, what: "model.merges[\(r)]"))
            case .array(let a) where a.count == 2:
                guard case .string(let l) = a[0], case .string(let rr) = a[1] else { fallthrough }
                pairs.append((l, rr))
            default:
                throw TokenizerImportError.malformed(path: path, what: "model.merges[\(r)]", expected: "\"left right\" or [left, right]",
                                                     found: String(m.text.prefix(60)))
            }
        }
        let data = TokenizerData(tokens: tokens, merges: try mergeIDs(pairs, tokens: tokens, path: path),
                                 specials: specials.sorted { $0.id < $1.id })
        return ImportedTokenizer(data: data, files: files, notes: ["tokenizer: \(tokens.count) tokens, \(pairs.count) merges, "
            + "\(specials.count) added tokens from \(path)"])
    }

    // MARK: vocab.json + merges.txt

    static func loadVocabMerges(vocab: String, merges: String, files: TokenizerFiles) throws -> ImportedTokenizer {
        let tokens = try denseTable(try vocabEntries(try readJSON(vocab), path: vocab, what: "vocabulary"), path: vocab)
        let text = try readText(merges)
        var pairs: [(String, String)] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if l.isEmpty || (n == 0 && l.hasPrefix("#version")) { continue }
            pairs.append(try splitMerge(String(l), path: merges, what: "line \(n + 1)"))
        }
        var index = [String: Int]()
        for (i, t) in tokens.enumerated() { index[t] = i }
        var specialTexts: [String] = []
        var notes: [String] = []
        if let s = files.specialTokensMap {
            specialTexts += specialStrings(try readJSON(s))
            notes.append("tokenizer specials from \(s)")
        }
        if let a = files.addedTokens {
            guard case .object(let members) = try readJSON(a) else {
                throw TokenizerImportError.malformed(path: a, what: "root", expected: "an object of token to id", found: "another value")
            }
            specialTexts += members.map(\.0)
            notes.append("tokenizer added tokens from \(a)")
        }
        if files.specialTokensMap == nil && files.addedTokens == nil && tokens.count > 2 && tokens[2] == "</s>" {
            specialTexts = ["<s>", "<pad>", "</s>", "<unk>"].filter { index[$0] != nil }
            notes.append("tokenizer: OPT-style table without special_tokens_map.json: registered \(specialTexts.joined(separator: " ")) as specials")
        }
        var specials: [TokenizerData.Special] = []
        var seen = Set<String>()
        for t in specialTexts where seen.insert(t).inserted {
            guard let id = index[t] else {
                throw TokenizerImportError.malformed(path: files.specialTokensMap ?? files.addedTokens ?? vocab, what: "special token \(t)",
                                                     expected: "a token of \(vocab)", found: "none")
            }
            specials.append(TokenizerData.Special(id: UInt32(id), text: t))
        }
        let data = TokenizerData(tokens: tokens, merges: try mergeIDs(pairs, tokens: tokens, path: merges),
                                 specials: specials.sorted { $0.id < $1.id })
        notes.insert("tokenizer: \(tokens.count) tokens, \(pairs.count) merges, \(specials.count) specials from \(vocab)", at: 0)
        return ImportedTokenizer(data: data, files: files, notes: notes)
    }

    /// Strings of a `special_tokens_map.json`: values that are strings, `{"content": …}` objects, or arrays of those.
    static func specialStrings(_ v: JSONValue) -> [String] {
        switch v {
        case .string(let s): return [s]
        case .array(let a): return a.flatMap(specialStrings)
        case .object(let m):
            if case .string(let s)? = v["content"] { return [s] }
            return m.flatMap { specialStrings($0.1) }
        default: return []
        }
    }

    // MARK: shared helpers

    static func vocabEntries(_ v: JSONValue, path: String, what: String) throws -> [(String, Int)] {
        guard case .object(let members) = v else {
            throw TokenizerImportError.malformed(path: path, what: what, expected: "an object of token to id", found: String(v.text.prefix(40)))
        }
        return try members.map { (token, value) in
            guard let id = value.intValue, id >= 0, id <= Int(UInt32.max) else {
                throw TokenizerImportError.malformed(path: path, what: "\(what) entry \(token)", expected: "an id 0…2^32−1", found: value.text)
            }
            return (token, id)
        }
    }

    /// Token strings in id order from (token, id) pairs: ids must be exactly 0..<n, and an id
    /// listed twice must name the same token (added_tokens repeat vocabulary entries).
    static func denseTable(_ entries: [(String, Int)], path: String) throws -> [String] {
        let n = (entries.map(\.1).max() ?? -1) + 1
        guard n <= entries.count else {
            throw TokenizerImportError.malformed(path: path, what: "token ids", expected: "every id in 0..<\(n) present",
                                                 found: "\(entries.count) entries")
        }
        var table = [String?](repeating: nil, count: n)
        for (t, id) in entries {
            if let old = table[id], old != t {
                throw TokenizerImportError.malformed(path: path, what: "token id \(id)", expected: "one token", found: "\(old) and \(t)")
            }
            table[id] = t
        }
        if let gap = table.firstIndex(where: { $0 == nil }) {
            throw TokenizerImportError.malformed(path: path, what: "token ids", expected: "every id in 0..<\(n) present", found: "no token \(gap)")
        }
        return table.map { $0! }
    }

    static func splitMerge(_ s: String, path: String, what: String) throws -> (String, String) {
        let parts = s.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw TokenizerImportError.malformed(path: path, what: what, expected: "two tokens separated by one space", found: "\"\(s.prefix(60))\"")
        }
        return (String(parts[0]), String(parts[1]))
    }

    static func mergeIDs(_ pairs: [(String, String)], tokens: [String], path: String) throws -> [TokenizerData.Merge] {
        var index = [String: UInt32]()
        index.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = UInt32(i) }
        return try pairs.enumerated().map { (r, p) in
            guard let l = index[p.0], let rr = index[p.1] else {
                throw TokenizerImportError.malformed(path: path, what: "merge \(r) (\(p.0) \(p.1))", expected: "both tokens in the vocabulary",
                                                     found: index[p.0] == nil ? "no token \(p.0)" : "no token \(p.1)")
            }
            return TokenizerData.Merge(l, rr)
        }
    }

    static func readText(_ path: String) throws -> String {
        let f = try MappedFile(path: path)
        let bytes = f.copy(offset: 0, length: f.count) ?? []
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw TokenizerImportError.malformed(path: path, what: "text", expected: "UTF-8", found: "invalid bytes")
        }
        return s
    }

    static func readJSON(_ path: String) throws -> JSONValue {
        let f = try MappedFile(path: path)
        do {
            return try StrictJSON.parse(f.copy(offset: 0, length: f.count) ?? [])
        } catch {
            throw TokenizerImportError.malformed(path: path, what: "JSON", expected: "strict JSON", found: "\(error)")
        }
    }
}
