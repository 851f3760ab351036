// transformers' files beside a vocab.json + merges.txt pair (the form an OPT folder ships):
// tokenizer_config.json, special_tokens_map.json and added_tokens.json, read the way
// transformers' GPT2Tokenizer reads them. Every key is reproduced or refused.

import SVAEJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The special and added tokens, BOS and prefix-space settings those files declare.
struct SpecialTokenSet {
    /// `bos_token`, `eos_token`, … → the token (content and options), with the file that named it.
    private(set) var named: [(name: String, token: AddedToken, file: String)] = []
    /// Further tokens with explicit ids (added_tokens_decoder, added_tokens.json).
    private(set) var withIDs: [(token: AddedToken, id: Int)] = []
    /// `add_bos_token` of tokenizer_config.json (GPT2Tokenizer's default: false).
    private(set) var addBOS = false
    /// `unk_token`'s content, if any.
    var unknown: String? { named.first { $0.name == "unk_token" }?.token.content }

    static let tokenNames: Set = ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"]

    /// special_tokens_map.json: `{"bos_token": "…" or {AddedToken}, …, "additional_special_tokens": [...]}`.
    mutating func readSpecialTokensMap(_ map: JSONValue, file: String) throws(TokenizerError) {
        guard let members = map.members else { throw .malformedJSON(path: "root", expected: "an object", found: map.kind) }
        for (k, v) in members {
            if Self.tokenNames.contains(k) || k == "additional_special_tokens" {
                try addNamed(k, v, file: file)
            } else {
                throw .unsupported(feature: k, found: BPETokenizer.brief(v))
            }
        }
    }

    /// tokenizer_config.json (see the file comment of BPETokenizer+Loading.swift).
    mutating func readTokenizerConfig(_ config: JSONValue, file: String, options: inout BPETokenizer.Options) throws(TokenizerError) {
        guard let members = config.members else { throw .malformedJSON(path: "root", expected: "an object", found: config.kind) }
        // Keys that change nothing for encode/decode of one text.
        let inert: Set = ["model_max_length", "name_or_path", "special_tokens_map_file", "padding_side", "truncation_side",
                          "model_input_names", "tokenizer_file", "use_fast", "processor_class", "chat_template"]
        for (k, v) in members {
            func bool() throws(TokenizerError) -> Bool {
                guard let b = v.boolValue else { throw .malformedJSON(path: k, expected: "true or false", found: v.kind) }
                return b
            }
            switch k {
            case _ where inert.contains(k): continue
            case _ where Self.tokenNames.contains(k), "additional_special_tokens":
                try addNamed(k, v, file: file)
            case "add_bos_token": addBOS = try bool()
            case "add_prefix_space": options.addPrefixSpace = try bool()
            case "add_eos_token", "split_special_tokens", "do_lower_case", "clean_up_tokenization_spaces":
                // add_eos_token appends EOS, split_special_tokens BPE-encodes specials, do_lower_case
                // lowercases, clean_up_tokenization_spaces rewrites decoded text: none reproduced.
                if try bool() { throw .unsupported(feature: k, found: "true") }
            case "errors":
                guard v == .string("replace") else { throw .unsupported(feature: k, found: v.text + " (decode reproduces \"replace\" only)") }
            case "tokenizer_class":
                guard v == .null || v == .string("GPT2Tokenizer") || v == .string("GPT2TokenizerFast") else {
                    throw .unsupported(feature: k, found: v.text + " (vocab.json + merges.txt are read as GPT2Tokenizer)")
                }
            case "added_tokens_decoder":
                guard let entries = v.members else { throw .malformedJSON(path: k, expected: "an object of id to token", found: v.kind) }
                for (idText, item) in entries {
                    guard let id = Int(idText), id >= 0 else {
                        throw .malformedJSON(path: "\(k)[\(idText.debugDescription)]", expected: "an integer id", found: idText.debugDescription)
                    }
                    let (token, _) = try BPETokenizer.addedToken(item, path: "\(k)[\(idText)]", requireID: false)
                    withIDs.append((token, id))
                }
            default:
                throw .unsupported(feature: k, found: BPETokenizer.brief(v))
            }
        }
    }

    /// added_tokens.json: `{"content": id, …}`. Returns `tokens` extended by the new ids.
    mutating func readAddedTokensFile(_ map: JSONValue, tokens: [String]) throws(TokenizerError) -> [String] {
        guard let members = map.members else { throw .malformedJSON(path: "root", expected: "an object of token to id", found: map.kind) }
        for (content, v) in members {
            guard let id = v.intValue, id >= 0 else {
                throw .malformedJSON(path: content.debugDescription, expected: "an id ≥ 0", found: v.text)
            }
            withIDs.append((AddedToken(content, special: false), id))
        }
        return try Self.extend(tokens, with: withIDs)
    }

    /// Tokens with explicit ids: an id inside the vocabulary must hold the same string; ids
    /// past it must continue it without holes.
    static func extend(_ tokens: [String], with entries: [(token: AddedToken, id: Int)]) throws(TokenizerError) -> [String] {
        var out = tokens
        for (token, id) in entries.sorted(by: { $0.id < $1.id }) {
            if id < out.count {
                guard out[id] == token.content else { throw .duplicateID(id: id, first: out[id], second: token.content) }
            } else {
                guard id == out.count else { throw .missingID(id: out.count, largestID: id) }
                out.append(token.content)
            }
        }
        return out
    }

    /// The token table extended by the added tokens past vocab.json (transformers appends
    /// them), the added tokens to register and the BOS id to prepend.
    func resolve(tokens vocab: [String]) throws(TokenizerError) -> ([String], [AddedToken], Int32?) {
        let tokens = try Self.extend(vocab, with: withIDs)
        var added = withIDs.map(\.token)
        for n in named {
            guard tokens.contains(n.token.content) else {
                throw .inFile(path: n.file, .unsupported(feature: n.name, found: "\(n.token.content.debugDescription), which is not in vocab.json (transformers would append it)"))
            }
            // A token both named and listed with options: the listed options win (transformers' order).
            if let i = added.firstIndex(where: { $0.content == n.token.content }) {
                added[i].special = true
            } else {
                added.append(n.token)
            }
        }
        var bos: Int32? = nil
        if addBOS {
            guard let b = named.first(where: { $0.name == "bos_token" }) else {
                throw .unsupported(feature: "add_bos_token", found: "true without a bos_token")
            }
            bos = Int32(tokens.firstIndex(of: b.token.content)!)
        }
        // GPT2Tokenizer maps a byte without a token to unk_token, its fast twin drops it: they agree only when every byte has a token.
        if let u = unknown, tokens.contains(u), let missing = (0...255).first(where: { !tokens.contains(ByteLevel.string(forByte: UInt8($0))) }) {
            throw .unsupported(feature: "unk_token", found: "\(u.debugDescription) with byte \(missing) missing from vocab.json (GPT2Tokenizer and GPT2TokenizerFast differ)")
        }
        return (tokens, added, bos)
    }

    /// A named special token: a string (transformers: special, not normalized, no stripping)
    /// or an AddedToken object; `additional_special_tokens` is an array of those.
    private mutating func addNamed(_ name: String, _ v: JSONValue, file: String) throws(TokenizerError) {
        if v == .null { return }
        if name == "additional_special_tokens" {
            guard let items = v.items else { throw .malformedJSON(path: name, expected: "an array", found: v.kind) }
            for (k, item) in items.enumerated() { try addNamed("\(name)[\(k)]", item, file: file) }
            return
        }
        let token: AddedToken
        if let s = v.stringValue {
            token = AddedToken(s, special: true, normalized: false)
        } else {
            token = try BPETokenizer.addedToken(v, path: name, requireID: false, special: true).0
        }
        if let other = named.first(where: { $0.name == name }) {
            guard other.token.content == token.content else {
                throw .unsupported(feature: name, found: "\(token.content.debugDescription) in \(file) but \(other.token.content.debugDescription) in \(other.file)")
            }
            return
        }
        named.append((name, token, file))
    }
}

/// File-system questions, answered with POSIX `stat` (no Foundation).
enum FileSystem {
    static func isFile(_ path: String) -> Bool { mode(path).map { $0 == S_IFREG } ?? false }
    static func isDirectory(_ path: String) -> Bool { mode(path).map { $0 == S_IFDIR } ?? false }

    private static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
