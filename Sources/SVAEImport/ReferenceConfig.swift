// ReferenceConfig: the reference's YAML training configs (BestAnHongjun/SentenceVAE,
// `config/SVAE/…`, `config/SLLM/…`) as config sources, so a released checkpoint converts
// with `--config` alone (docs/convert.md, "Released checkpoints").
//
// Loading follows the reference's `sentence_vae/utils/config.py` `load_yaml`:
// - `!include PATH` is replaced by the included file's content (pyyaml-include). The reference
//   resolves PATH against the folder of the TOP-LEVEL file for every include (its
//   `base_dir`); so do we. Includes must stay inside `includeRoot` (the caller's choice; the
//   CLI passes the working directory when the config is under it, else the config's folder):
//   absolute paths, paths leaving the root (`..` or symlinks), cycles and more than
//   `maxIncludeDepth` nested includes are refused.
// - then, while the top mapping has `__base__`: remove it and merge the rest over it
//   (`recursive_update`: later keys win, nested mappings merge, a mapping over a non-mapping
//   is refused where Python would fail).
// Duplicate keys in one mapping are refused (PyYAML keeps the last silently).
//
// What the reference's demos (`tools/demo/demo_svae.py`, `demo_sllm.py`) take from where:
//   SentenceVAE  hidden size, vocabulary, heads, bos/pad/eos ids from `ref_model_dir`'s OPT
//                config.json; layers (`num_hidden_layers`), `max_seq_len`, `learnable_add`
//                from the YAML. Never OPT's own `num_hidden_layers`.
//   SLLM         the same for `svae:` (plus `word_embed_proj_dim`), `max_sen_len` as the
//                sentence length, `max_sen_num` as the sentence cap; the OPT layers'
//                hyperparameters from `llm.ref_model_dir`'s config.json.
// The tokenizer is the (svae) `ref_model_dir` folder.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SVAEJSON
import Yams

/// A YAML config that cannot be used: the message names the file, the key or include, and
/// for a syntax error the line and column.
package struct ReferenceConfigError: Error, Equatable, CustomStringConvertible {
    package let file: String
    /// "line 3, column 5: …" or "key svae.ref_model_dir: …".
    package let what: String
    package var description: String { "\(file): \(what)" }
}

/// A YAML value with the place it was written.
indirect enum YAMLValue {
    case scalar(JSONValue, Place)
    case mapping([(String, YAMLValue)], Place)
    case sequence([YAMLValue], Place)

    struct Place: Equatable { var file: String; var line: Int; var column: Int }

    var place: Place {
        switch self {
        case .scalar(_, let p), .mapping(_, let p), .sequence(_, let p): p
        }
    }

    subscript(key: String) -> YAMLValue? {
        guard case .mapping(let m, _) = self else { return nil }
        return m.first { $0.0 == key }?.1
    }
}

/// The config sources and tokenizer folder a reference YAML config stands for.
package struct ReferenceConfig: Sendable {
    /// Hyperparameters from the YAML and the OPT config.json files it names.
    package var sources: [ConfigSource]
    /// The folder the tokenizer comes from (the svae `ref_model_dir`).
    package var tokenizer: String
    /// Where every value came from, for the conversion notes.
    package var notes: [String]

    package static let maxIncludeDepth = 16

    /// True for a path ending in `.yaml` or `.yml`.
    package static func isYAML(_ path: String) -> Bool { path.hasSuffix(".yaml") || path.hasSuffix(".yml") }

    /// Reads the YAML config at `path`.
    ///
    /// - Parameters:
    ///   - includeRoot: folder that every `!include` must stay inside.
    ///   - workingDirectory: `ref_model_dir` is tried against it first, then against the
    ///     YAML file's folder.
    ///   - refModel, llmRefModel: override `ref_model_dir` (svae) and `llm.ref_model_dir`.
    package static func load(path: String, includeRoot: String, workingDirectory: String,
                            refModel: String? = nil, llmRefModel: String? = nil) throws -> ReferenceConfig {
        let root = try loadMerged(path: path, includeRoot: includeRoot)
        guard case .mapping = root else { throw ReferenceConfigError(file: path, what: "expected a mapping at the top, found another value") }
        let isSLLM = root["svae"] != nil || root["llm"] != nil
        var notes: [String] = []

        func entry(_ section: YAMLValue?, _ key: String, _ dotted: String) throws -> (JSONValue, String)? {
            guard let v = section?[key] else { return nil }
            guard case .scalar(let s, let p) = v else {
                throw ReferenceConfigError(file: v.place.file, what: "line \(v.place.line), column \(v.place.column): key \(dotted): expected a value, found a mapping or list")
            }
            if s == .null { return nil }
            return (s, "\(p.file):\(p.line):\(p.column) \(dotted)")
        }
        func refFolder(_ section: YAMLValue?, _ dotted: String, override: String?) throws -> String {
            if let o = override {
                notes.append("\(dotted) = \(o) (flag)")
                return o
            }
            guard let (v, origin) = try entry(section, "ref_model_dir", dotted) else {
                throw ReferenceConfigError(file: path, what: "key \(dotted): expected the folder of the OPT model (config.json, tokenizer files), found none; or give it with a flag")
            }
            guard let dir = v.stringValue else {
                throw ReferenceConfigError(file: path, what: "\(origin): expected a folder name, found \(v.kind)")
            }
            let yamlFolder = folder(of: path)
            let candidates = dir.hasPrefix("/") ? [dir] : [join(workingDirectory, dir), join(yamlFolder, dir)]
            guard let found = candidates.first(where: { isDirectory($0) }) else {
                throw ReferenceConfigError(file: path, what: "\(origin): folder \(dir) not found (looked in \(candidates.joined(separator: " and ")))")
            }
            notes.append("\(dotted) = \(found) (from \(origin))")
            return found
        }

        // Keys of the YAML, renamed to the config keys ModelConfig knows, each with its place.
        var yamlValues: [(String, JSONValue)] = []
        var origins: [String: String] = [:]
        func take(_ section: YAMLValue?, _ key: String, _ dotted: String, as name: String) throws {
            guard let (v, origin) = try entry(section, key, dotted) else { return }
            yamlValues.append((name, v))
            origins[name] = origin
        }
        var sources: [ConfigSource] = []
        let svaeRef: String
        if isSLLM {
            let svae = root["svae"], llm = root["llm"]
            try take(svae, "num_hidden_layers", "svae.num_hidden_layers", as: "num_hidden_layers")
            try take(svae, "learnable_add", "svae.learnable_add", as: "learnable_add")
            try take(root, "max_sen_len", "max_sen_len", as: "max_seq_len")
            try take(root, "max_sen_num", "max_sen_num", as: "max_sentences")
            svaeRef = try refFolder(svae, "svae.ref_model_dir", override: refModel)
            let llmRef = try refFolder(llm, "llm.ref_model_dir", override: llmRefModel)
            sources.append(try opt(svaeRef, keys: ["hidden_size", "vocab_size", "word_embed_proj_dim", "num_attention_heads",
                                                   "bos_token_id", "pad_token_id", "eos_token_id"], role: .model))
            sources.append(try opt(llmRef, keys: ["hidden_size", "num_attention_heads", "ffn_dim", "num_hidden_layers",
                                                  "max_position_embeddings", "do_layer_norm_before"], role: .llm))
        } else {
            try take(root, "num_hidden_layers", "num_hidden_layers", as: "num_hidden_layers")
            try take(root, "max_seq_len", "max_seq_len", as: "max_seq_len")
            try take(root, "learnable_add", "learnable_add", as: "learnable_add")
            svaeRef = try refFolder(root, "ref_model_dir", override: refModel)
            sources.append(try opt(svaeRef, keys: ["hidden_size", "vocab_size", "num_attention_heads",
                                                   "bos_token_id", "pad_token_id", "eos_token_id"], role: .model))
        }
        sources.insert(ConfigSource(name: path, role: .model, values: yamlValues, origins: origins), at: 0)
        return ReferenceConfig(sources: sources, tokenizer: svaeRef, notes: notes)
    }

    /// The listed keys of an OPT folder's config.json (the rest is not what the demos use).
    static func opt(_ folder: String, keys: [String], role: ConfigSource.Role) throws -> ConfigSource {
        let c = try ConfigSource.file(folder + "/config.json", role: role)
        return ConfigSource(name: c.name, role: role, values: c.values.filter { keys.contains($0.0) })
    }

    // MARK: YAML with includes, merged like load_yaml

    /// The top mapping of `path` with includes resolved and `__base__` chains merged.
    static func loadMerged(path: String, includeRoot: String) throws -> YAMLValue {
        guard let rootReal = realPath(includeRoot) else {
            throw ReferenceConfigError(file: path, what: "include root \(includeRoot) not found")
        }
        guard let real = realPath(path) else { throw ReferenceConfigError(file: path, what: "cannot read it: no such file") }
        var config = try parse(file: path, real: real, baseDir: folder(of: path), root: rootReal, stack: [real])
        while case .mapping(var members, let place) = config, let i = members.firstIndex(where: { $0.0 == "__base__" }) {
            let base = members.remove(at: i).1
            guard case .mapping = base else {
                throw ReferenceConfigError(file: base.place.file, what: "line \(base.place.line), column \(base.place.column): key __base__: expected a mapping (an included file), found another value")
            }
            config = try merge(base, into: .mapping(members, place), key: "")
        }
        return config
    }

    /// `recursive_update(d, u)`: u's keys win; mappings merge.
    static func merge(_ d: YAMLValue, into u: YAMLValue, key: String) throws -> YAMLValue {
        guard case .mapping(var out, let place) = d, case .mapping(let updates, _) = u else { return u }
        for (k, v) in updates {
            let dotted = key.isEmpty ? k : key + "." + k
            if let i = out.firstIndex(where: { $0.0 == k }) {
                if case .mapping = v {
                    guard case .mapping = out[i].1 else {
                        throw ReferenceConfigError(file: v.place.file, what: "line \(v.place.line), column \(v.place.column): key \(dotted): a mapping cannot be merged over the value in \(out[i].1.place.file):\(out[i].1.place.line)")
                    }
                    out[i].1 = try merge(out[i].1, into: v, key: dotted)
                } else {
                    out[i].1 = v
                }
            } else {
                out.append((k, v))
            }
        }
        return .mapping(out, place)
    }

    static func parse(file: String, real: String, baseDir: String, root: String, stack: [String]) throws -> YAMLValue {
        let bytes: [UInt8]
        do { bytes = try StrictJSON.readFile(file) } catch { throw ReferenceConfigError(file: file, what: "cannot read it: \(error.reason)") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ReferenceConfigError(file: file, what: "expected UTF-8 text, found invalid bytes")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw ReferenceConfigError(file: file, what: describe(e))
        }
        guard let node else { return .scalar(.null, .init(file: file, line: 1, column: 1)) }
        return try convert(node, file: file, baseDir: baseDir, root: root, stack: stack)
    }

    static func describe(_ e: YamlError) -> String {
        switch e {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "line \(mark.line), column \(mark.column): expected YAML, found a syntax error: \(problem)"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line), column \(context.mark.column): key \(duplicates.joined(separator: ", ")) appears twice in one mapping; expected unique keys"
        case let .reader(problem, offset, _, _):
            return "expected YAML text, found \(problem)" + (offset.map { " at character \($0)" } ?? "")
        default:
            return "expected YAML, found an error: \(e)"
        }
    }

    /// `node.int`, except for YAML 1.1 base-60 integers (`1:30` is 90), which Yams computes
    /// with unchecked arithmetic: `!!int 77777777777:777:…` trapped (found by tools/fuzz, the
    /// `yaml` harness). Computed here with checked arithmetic; nil (the text stays a string)
    /// when a part is not digits or the value does not fit in 64 bits.
    static func integer(_ node: Node, _ s: Node.Scalar) -> Int? {
        let text = String(s.string.filter { $0 != "_" })
        guard text.contains(":") else { return node.int }
        guard s.style == .any || s.style == .plain else { return nil }
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        var value = 0
        for part in digits.split(separator: ":", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let p = Int(part) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 60)
            let (sum, o2) = m.addingReportingOverflow(p)
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    static func convert(_ node: Node, file: String, baseDir: String, root: String, stack: [String]) throws -> YAMLValue {
        let place = YAMLValue.Place(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        let at = "line \(place.line), column \(place.column)"
        switch node {
        case .scalar(let s):
            let tag = node.tag.rawValue
            if tag == "!include" {
                return try include(s.string, from: file, at: at, baseDir: baseDir, root: root, stack: stack)
            }
            switch tag {
            case Tag.Name.null.rawValue: return .scalar(.null, place)
            case Tag.Name.bool.rawValue: return .scalar(node.bool.map { .bool($0) } ?? .string(s.string), place)
            case Tag.Name.int.rawValue: return .scalar(integer(node, s).map { .number("\($0)") } ?? .string(s.string), place)
            case Tag.Name.float.rawValue:
                guard let d = node.float, d.isFinite else { return .scalar(.string(s.string), place) }
                return .scalar(.number("\(d)"), place)
            case Tag.Name.str.rawValue: return .scalar(.string(s.string), place)
            default:
                throw ReferenceConfigError(file: file, what: "\(at): tag \(tag) is not supported (only !include)")
            }
        case .mapping(let m):
            if node.tag.rawValue == "!include" { throw ReferenceConfigError(file: file, what: "\(at): !include expects a file name") }
            var out: [(String, YAMLValue)] = []
            for (k, v) in m {
                guard case .scalar(let ks) = k else {
                    throw ReferenceConfigError(file: file, what: "\(at): expected text keys, found a mapping or list as a key")
                }
                out.append((ks.string, try convert(v, file: file, baseDir: baseDir, root: root, stack: stack)))
            }
            return .mapping(out, place)
        case .sequence(let items):
            return .sequence(try items.map { try convert($0, file: file, baseDir: baseDir, root: root, stack: stack) }, place)
        case .alias:
            throw ReferenceConfigError(file: file, what: "\(at): YAML aliases (*name) are not supported")
        }
    }

    static func include(_ target: String, from file: String, at: String, baseDir: String, root: String, stack: [String]) throws -> YAMLValue {
        func refuse(_ why: String) -> ReferenceConfigError {
            ReferenceConfigError(file: file, what: "\(at): !include \(target): \(why)")
        }
        guard !target.isEmpty else { throw refuse("expected a file name, found nothing") }
        guard !target.hasPrefix("/") else { throw refuse("absolute paths are refused; expected a path relative to \(baseDir)") }
        guard stack.count <= maxIncludeDepth else { throw refuse("more than \(maxIncludeDepth) nested includes") }
        let joined = join(baseDir, target)
        guard let real = realPath(joined) else { throw refuse("no such file (includes resolve against \(baseDir), the top-level config's folder, as the reference's load_yaml does)") }
        guard real.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw refuse("resolves to \(real), outside \(root); includes must stay inside it")
        }
        guard !stack.contains(real) else { throw refuse("include cycle (\((stack + [real]).joined(separator: " → ")))") }
        return try parse(file: joined, real: real, baseDir: baseDir, root: root, stack: stack + [real])
    }

    static func join(_ base: String, _ rel: String) -> String {
        if rel.hasPrefix("/") { return rel }
        if base.isEmpty || base == "." { return rel }
        return base.hasSuffix("/") ? base + rel : base + "/" + rel
    }
}
