// ModelConfig: hyperparameters from tensors, config files and flags, with conflict checks.
//
// Every hyperparameter is a "fact" keyed by its metadata name (`svae.hidden_size`, …) and
// remembers where it came from. Facts are recorded in this order: inferred from tensor
// shapes ("tensor <name>"), then each config source in the order given ("<file>:<key>"),
// then flags ("flag <key>"), then defaults. Two sources that disagree are an error naming
// both sources and both values; defaults only fill what nobody said.

import SVAEFormat
import SVAEJSON

// Facts hold the format's `MetadataValue` at full width (integers `.i64`, reals `.f64`): sources
// are compared before the storage type of a key is applied. `Converter.formatValue` then gives
// each value its registry type (formats/svae.md §5.1) with range checks: one place converts.
extension MetadataValue {
    /// An integer fact (`.i64`).
    static func int(_ i: Int) -> MetadataValue { .i64(Int64(i)) }
    /// A real-valued fact (`.f64`).
    static func double(_ d: Double) -> MetadataValue { .f64(d) }
}

/// A missing, inconsistent or out-of-range hyperparameter.
public enum ConfigError: Error, Equatable {
    /// Two sources give different values for one hyperparameter.
    case conflict(key: String, firstSource: String, firstValue: String, secondSource: String, secondValue: String)
    /// Nothing gives a value and there is no default (e.g. the number of heads).
    case missing(key: String, hint: String)
    /// A config value of the wrong JSON type.
    case badValue(source: String, key: String, expected: String, found: String)
    /// A value outside its valid range, or inconsistent with another (hidden % heads ≠ 0).
    case outOfRange(key: String, value: String, reason: String)
    /// A config file that is not a JSON object.
    case badConfigFile(path: String, reason: String)
}

/// A set of key/value pairs giving hyperparameters: a HF `config.json`, a flat JSON file
/// with the reference's argument names, or command-line flags.
public struct ConfigSource: Sendable {
    /// What the keys describe: the whole model, or (SLLM) the OPT model whose layers it
    /// reuses — e.g. that OPT model's HF `config.json`, whose `num_attention_heads` means
    /// `llm.num_heads`.
    public enum Role: Sendable { case model, llm }

    /// Name used in errors (file path or "flag").
    public let name: String
    public let role: Role
    /// Members in order.
    public let values: [(String, JSONValue)]
    /// Where a key was written, when finer than `name` (a YAML file, line and column).
    public let origins: [String: String]

    /// Reads a JSON object file (strict: duplicate keys rejected).
    public static func file(_ path: String, role: Role = .model) throws -> ConfigSource {
        let json: JSONValue
        do {
            json = try StrictJSON.read(file: path)
        } catch {
            throw ConfigError.badConfigFile(path: path, reason: error.reason)
        }
        guard case .object(let members) = json else { throw ConfigError.badConfigFile(path: path, reason: "not a JSON object") }
        return ConfigSource(name: path, role: role, values: members)
    }

    /// Command-line flags with the same key names as the config files.
    public static func flags(_ values: [(String, JSONValue)], role: Role = .model) -> ConfigSource {
        ConfigSource(name: "flag", role: role, values: values)
    }

    public init(name: String, role: Role, values: [(String, JSONValue)], origins: [String: String] = [:]) {
        self.name = name
        self.role = role
        self.values = values
        self.origins = origins
    }
}

/// Options of the import planner.
public struct ImportOptions: Sendable {
    /// Force an architecture (default: detected from tensor names).
    public var architecture: Architecture?
    /// Config sources in priority-free order (any disagreement is an error).
    public var configs: [ConfigSource]
    /// SLLM prefill attention: "bidirectional" (default: how the reference checkpoints
    /// were trained) or "causal".
    public var prefillAttention: String?

    public init(architecture: Architecture? = nil, configs: [ConfigSource] = [], prefillAttention: String? = nil) {
        self.architecture = architecture
        self.configs = configs
        self.prefillAttention = prefillAttention
    }
}

/// Model family of a checkpoint.
public enum Architecture: String, Sendable, CaseIterable {
    /// SentenceVAE (encoder + decoder).
    case svae
    /// Sentence-level LLM: SentenceVAE + OPT decoder layers + stop head.
    case sllm
    /// Plain OPT causal LM (the SLLM baseline).
    case opt
}

/// SentenceVAE hyperparameters.
public struct SVAEHyperparameters: Sendable, Equatable {
    public var hiddenSize: Int       // d
    public var embedDim: Int         // E (word_embed_proj_dim)
    public var numHeads: Int
    public var ffnSize: Int          // 2d in the reference
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var vocabSize: Int
    public var maxSeqLen: Int
    public var learnableAdd: Bool
    public var layerNormEps: Double
}

/// The OPT decoder layers of an SLLM.
public struct LLMHyperparameters: Sendable, Equatable {
    public var hiddenSize: Int
    public var numHeads: Int
    public var ffnSize: Int
    public var layers: Int
    /// Learned positions usable (rows of `llm.pos_embed` minus OPT's offset 2).
    public var maxPositions: Int
    /// `do_layer_norm_before` (pre-norm) of the OPT model.
    public var normBefore: Bool
    /// "bidirectional" or "causal" attention among prompt sentences.
    public var prefillAttention: String
}

/// A plain OPT causal LM.
public struct OPTHyperparameters: Sendable, Equatable {
    public var hiddenSize: Int
    public var embedDim: Int
    public var numHeads: Int
    public var ffnSize: Int
    public var layers: Int
    public var vocabSize: Int
    public var maxPositions: Int
    public var normBefore: Bool
}

/// Token ids (OPT defaults: BOS = EOS = 2, PAD = 1).
public struct TokenIDs: Sendable, Equatable {
    public var bos: Int
    public var eos: Int
    public var pad: Int
}

/// All hyperparameters of one converted model.
public struct Hyperparameters: Sendable, Equatable {
    public var architecture: Architecture
    public var svae: SVAEHyperparameters?
    public var llm: LLMHyperparameters?
    public var opt: OPTHyperparameters?
    public var tokens: TokenIDs
}

/// Kinds of metadata values, for type-checking config input.
enum FactKind { case int, bool, double, string }

/// Known facts and their provenance; see the file comment.
struct Facts {
    private(set) var values: [String: (value: MetadataValue, source: String)] = [:]

    static let kinds: [String: FactKind] = [
        "svae.hidden_size": .int, "svae.embed_dim": .int, "svae.num_heads": .int, "svae.ffn_size": .int,
        "svae.encoder_layers": .int, "svae.decoder_layers": .int, "svae.vocab_size": .int,
        "svae.max_seq_len": .int, "svae.learnable_add": .bool, "svae.layer_norm_eps": .double,
        "tokens.bos_id": .int, "tokens.eos_id": .int, "tokens.pad_id": .int,
        "llm.hidden_size": .int, "llm.num_heads": .int, "llm.ffn_size": .int, "llm.layers": .int,
        "llm.max_positions": .int, "llm.norm_before": .bool, "llm.prefill_attention": .string,
        "llm.max_sentences": .int,
        "opt.hidden_size": .int, "opt.embed_dim": .int, "opt.num_heads": .int, "opt.ffn_size": .int,
        "opt.layers": .int, "opt.vocab_size": .int, "opt.max_positions": .int, "opt.norm_before": .bool,
    ]

    /// Config key aliases → fact keys, per architecture and source role. One config key
    /// may set several facts (`num_hidden_layers` → encoder and decoder layer counts).
    static func aliases(_ arch: Architecture, _ role: ConfigSource.Role) -> [String: [String]] {
        let tokens: [String: [String]] = [
            "bos_id": ["tokens.bos_id"], "bos_token_id": ["tokens.bos_id"],
            "eos_id": ["tokens.eos_id"], "end_id": ["tokens.eos_id"], "eos_token_id": ["tokens.eos_id"],
            "pad_id": ["tokens.pad_id"], "pad_token_id": ["tokens.pad_id"],
        ]
        let hfOPT = { (p: String) -> [String: [String]] in
            [
                "hidden_size": [p + ".hidden_size"], "num_attention_heads": [p + ".num_heads"],
                "ffn_dim": [p + ".ffn_size"], "num_hidden_layers": [p + ".layers"],
                "max_position_embeddings": [p + ".max_positions"], "do_layer_norm_before": [p + ".norm_before"],
            ]
        }
        switch (arch, role) {
        case (.opt, _):
            var a = hfOPT("opt")
            a["word_embed_proj_dim"] = ["opt.embed_dim"]
            a["vocab_size"] = ["opt.vocab_size"]
            return a.merging(tokens) { x, _ in x }
        case (.sllm, .llm):
            return hfOPT("llm")
        case (.svae, _), (.sllm, .model):
            var a: [String: [String]] = [
                "hidden_size": ["svae.hidden_size"], "svae_hidden_size": ["svae.hidden_size"],
                "word_embed_proj_dim": ["svae.embed_dim"], "svae_word_embed_proj_dim": ["svae.embed_dim"],
                "num_attention_heads": ["svae.num_heads"], "svae_num_attention_heads": ["svae.num_heads"],
                "num_heads": ["svae.num_heads"],
                "num_hidden_layers": ["svae.encoder_layers", "svae.decoder_layers"],
                "svae_num_hidden_layers": ["svae.encoder_layers", "svae.decoder_layers"],
                "vocab_size": ["svae.vocab_size"], "svae_vocab_size": ["svae.vocab_size"],
                "max_seq_len": ["svae.max_seq_len"], "max_sentence_len": ["svae.max_seq_len"],
                "learnable_add": ["svae.learnable_add"], "svae_learnable_add": ["svae.learnable_add"],
                "layer_norm_eps": ["svae.layer_norm_eps"],
            ]
            if arch == .sllm {
                a["llm_hidden_size"] = ["llm.hidden_size"]
                a["llm_num_attention_heads"] = ["llm.num_heads"]
                a["llm_ffn_dim"] = ["llm.ffn_size"]
                a["llm_num_hidden_layers"] = ["llm.layers"]
                a["llm_max_position_embeddings"] = ["llm.max_positions"]
                a["llm_do_layer_norm_before"] = ["llm.norm_before"]
                a["prefill_attention"] = ["llm.prefill_attention"]
                a["max_sentences"] = ["llm.max_sentences"]
                a["max_sentence_num"] = ["llm.max_sentences"]  // SentenceLLM.__init__'s name
                a["max_sen_num"] = ["llm.max_sentences"]  // the reference's YAML name
            }
            return a.merging(tokens) { x, _ in x }
        }
    }

    mutating func set(_ key: String, _ value: MetadataValue, source: String) throws(ConfigError) {
        if let old = values[key] {
            if old.value != value {
                throw .conflict(key: key, firstSource: old.source, firstValue: old.value.description,
                                secondSource: source, secondValue: value.description)
            }
            return
        }
        values[key] = (value, source)
    }

    mutating func setDefault(_ key: String, _ value: MetadataValue) {
        if values[key] == nil { values[key] = (value, "default") }
    }

    /// Records every known key of `source` (unknown keys are ignored: HF configs hold many).
    mutating func record(_ source: ConfigSource, arch: Architecture) throws(ConfigError) {
        let table = Self.aliases(arch, source.role)
        for (k, v) in source.values {
            guard let keys = table[k] else { continue }
            if case .null = v { continue }
            for key in keys {
                let where_ = source.origins[k] ?? (source.name == "flag" ? "flag \(k)" : "\(source.name):\(k)")
                let value: MetadataValue
                guard let kind = Self.kinds[key] else { continue }
                switch kind {
                case .int:
                    guard let i = v.intValue else { throw .badValue(source: where_, key: k, expected: "integer", found: v.text) }
                    value = .int(i)
                case .bool:
                    guard case .bool(let b) = v else { throw .badValue(source: where_, key: k, expected: "true/false", found: v.text) }
                    value = .bool(b)
                case .double:
                    guard let d = v.doubleValue else { throw .badValue(source: where_, key: k, expected: "number", found: v.text) }
                    value = .double(d)
                case .string:
                    guard case .string(let s) = v else { throw .badValue(source: where_, key: k, expected: "string", found: v.text) }
                    value = .string(s)
                }
                try set(key, value, source: where_)
            }
        }
    }

    func int(_ key: String, hint: String = "") throws(ConfigError) -> Int {
        guard case .i64(let i)? = values[key]?.value else { throw .missing(key: key, hint: hint) }
        return Int(i)
    }

    func bool(_ key: String) throws(ConfigError) -> Bool {
        guard case .bool(let b)? = values[key]?.value else { throw .missing(key: key, hint: "") }
        return b
    }

    func double(_ key: String) throws(ConfigError) -> Double {
        guard case .f64(let d)? = values[key]?.value else { throw .missing(key: key, hint: "") }
        return d
    }

    func string(_ key: String) throws(ConfigError) -> String {
        guard case .string(let s)? = values[key]?.value else { throw .missing(key: key, hint: "") }
        return s
    }

    /// Checks heads > 0 and divides the hidden size, and that positive sizes are positive.
    func checkHeads(hidden: Int, heads: Int, key: String) throws(ConfigError) {
        guard heads > 0 else { throw .outOfRange(key: key, value: "\(heads)", reason: "must be > 0") }
        guard hidden % heads == 0 else {
            throw .outOfRange(key: key, value: "\(heads)", reason: "hidden size \(hidden) is not divisible by it")
        }
    }

    func checkPositive(_ key: String, _ v: Int) throws(ConfigError) {
        guard v > 0 else { throw .outOfRange(key: key, value: "\(v)", reason: "must be > 0") }
    }

    /// Builds the hyperparameter struct and the ordered metadata list.
    func hyperparameters(_ arch: Architecture) throws(ConfigError) -> (Hyperparameters, [(String, MetadataValue)]) {
        let tokens = TokenIDs(bos: try int("tokens.bos_id"), eos: try int("tokens.eos_id"), pad: try int("tokens.pad_id"))
        var h = Hyperparameters(architecture: arch, svae: nil, llm: nil, opt: nil, tokens: tokens)
        var vocab = 0
        if arch == .svae || arch == .sllm {
            let s = SVAEHyperparameters(
                hiddenSize: try int("svae.hidden_size"), embedDim: try int("svae.embed_dim"),
                numHeads: try int("svae.num_heads", hint: "give num_attention_heads in a config or flag"),
                ffnSize: try int("svae.ffn_size"), encoderLayers: try int("svae.encoder_layers"),
                decoderLayers: try int("svae.decoder_layers"), vocabSize: try int("svae.vocab_size"),
                maxSeqLen: try int("svae.max_seq_len"), learnableAdd: try bool("svae.learnable_add"),
                layerNormEps: try double("svae.layer_norm_eps"))
            try checkHeads(hidden: s.hiddenSize, heads: s.numHeads, key: "svae.num_heads")
            try checkPositive("svae.max_seq_len", s.maxSeqLen)
            guard s.layerNormEps > 0, s.layerNormEps < 1 else {
                throw .outOfRange(key: "svae.layer_norm_eps", value: "\(s.layerNormEps)", reason: "must be in (0, 1)")
            }
            h.svae = s
            vocab = s.vocabSize
        }
        if arch == .sllm {
            let l = LLMHyperparameters(
                hiddenSize: try int("llm.hidden_size"),
                numHeads: try int("llm.num_heads", hint: "give llm_num_attention_heads, or the OPT config.json as an llm config"),
                ffnSize: try int("llm.ffn_size"), layers: try int("llm.layers"),
                maxPositions: try int("llm.max_positions"), normBefore: try bool("llm.norm_before"),
                prefillAttention: try string("llm.prefill_attention"))
            try checkHeads(hidden: l.hiddenSize, heads: l.numHeads, key: "llm.num_heads")
            guard l.prefillAttention == "bidirectional" || l.prefillAttention == "causal" else {
                throw .outOfRange(key: "llm.prefill_attention", value: l.prefillAttention, reason: "must be bidirectional or causal")
            }
            h.llm = l
        }
        if arch == .opt {
            let o = OPTHyperparameters(
                hiddenSize: try int("opt.hidden_size"), embedDim: try int("opt.embed_dim"),
                numHeads: try int("opt.num_heads", hint: "give num_attention_heads (HF config.json)"),
                ffnSize: try int("opt.ffn_size"), layers: try int("opt.layers"), vocabSize: try int("opt.vocab_size"),
                maxPositions: try int("opt.max_positions"), normBefore: try bool("opt.norm_before"))
            try checkHeads(hidden: o.hiddenSize, heads: o.numHeads, key: "opt.num_heads")
            h.opt = o
            vocab = o.vocabSize
        }
        for (k, v) in [("tokens.bos_id", tokens.bos), ("tokens.eos_id", tokens.eos), ("tokens.pad_id", tokens.pad)]
        where v < 0 || v >= vocab {
            throw .outOfRange(key: k, value: "\(v)", reason: "outside the vocabulary 0..<\(vocab)")
        }
        let prefixes: [String] = switch arch {
        case .svae: ["svae."]
        case .sllm: ["svae.", "llm."]
        case .opt: ["opt."]
        }
        let order = Self.kinds.keys.sorted()
        var meta: [(String, MetadataValue)] = [("general.architecture", .string(arch.rawValue))]
        for p in prefixes + ["tokens."] {
            for k in order where k.hasPrefix(p) {
                if let v = values[k] { meta.append((k, v.value)) }
            }
        }
        return (h, meta)
    }
}
