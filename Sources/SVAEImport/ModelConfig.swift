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
package enum ConfigError: Error, Equatable {
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
package struct ConfigSource: Sendable {
    /// What the keys describe: the whole model, or (SLLM) the OPT model whose layers it
    /// reuses — e.g. that OPT model's HF `config.json`, whose `num_attention_heads` means
    /// `llm.num_heads`.
    package enum Role: Sendable { case model, llm }

    /// Name used in errors (file path or "flag").
    package let name: String
    package let role: Role
    /// Members in order.
    package let values: [(String, JSONValue)]
    /// Where a key was written, when finer than `name` (a YAML file, line and column).
    package let origins: [String: String]

    /// Reads a JSON object file (strict: duplicate keys rejected).
    package static func file(_ path: String, role: Role = .model) throws -> ConfigSource {
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
    package static func flags(_ values: [(String, JSONValue)], role: Role = .model) -> ConfigSource {
        ConfigSource(name: "flag", role: role, values: values)
    }

    package init(name: String, role: Role, values: [(String, JSONValue)], origins: [String: String] = [:]) {
        self.name = name
        self.role = role
        self.values = values
        self.origins = origins
    }
}

/// Options of the import planner.
package struct ImportOptions: Sendable {
    /// Force an architecture (default: detected from tensor names).
    package var architecture: Architecture?
    /// Config sources in priority-free order (any disagreement is an error).
    package var configs: [ConfigSource]
    /// SLLM prefill attention: "bidirectional" (default: how the reference checkpoints
    /// were trained) or "causal".
    package var prefillAttention: String?

    package init(architecture: Architecture? = nil, configs: [ConfigSource] = [], prefillAttention: String? = nil) {
        self.architecture = architecture
        self.configs = configs
        self.prefillAttention = prefillAttention
    }
}

/// Model family of a checkpoint: the format's `general.architecture` values.
package typealias Architecture = ArchitectureName

/// SentenceVAE hyperparameters.
package struct SVAEHyperparameters: Sendable, Equatable {
    package var hiddenSize: Int       // d
    package var embedDim: Int         // E (word_embed_proj_dim)
    package var numHeads: Int
    package var ffnSize: Int          // 2d in the reference
    package var encoderLayers: Int
    package var decoderLayers: Int
    package var vocabSize: Int
    package var maxSeqLen: Int
    package var learnableAdd: Bool
    package var layerNormEps: Double
}

/// The OPT decoder layers of an SLLM.
package struct LLMHyperparameters: Sendable, Equatable {
    package var hiddenSize: Int
    package var numHeads: Int
    package var ffnSize: Int
    package var layers: Int
    /// Learned positions usable (rows of `llm.pos_embed` minus OPT's offset 2).
    package var maxPositions: Int
    /// `do_layer_norm_before` (pre-norm) of the OPT model.
    package var normBefore: Bool
    /// "bidirectional" or "causal" attention among prompt sentences.
    package var prefillAttention: String
}

/// A plain OPT causal LM.
package struct OPTHyperparameters: Sendable, Equatable {
    package var hiddenSize: Int
    package var embedDim: Int
    package var numHeads: Int
    package var ffnSize: Int
    package var layers: Int
    package var vocabSize: Int
    package var maxPositions: Int
    package var normBefore: Bool
}

/// Token ids (OPT defaults: BOS = EOS = 2, PAD = 1).
package struct TokenIDs: Sendable, Equatable {
    package var bos: Int
    package var eos: Int
    package var pad: Int
}

/// All hyperparameters of one converted model.
package struct Hyperparameters: Sendable, Equatable {
    package var architecture: Architecture
    package var svae: SVAEHyperparameters?
    package var llm: LLMHyperparameters?
    package var opt: OPTHyperparameters?
    package var tokens: TokenIDs
}

/// Known facts and their provenance; see the file comment.
struct Facts {
    private(set) var values: [MetadataKey: (value: MetadataValue, source: String)] = [:]

    /// The keys a checkpoint, config or flag can give (the others are the converter's own:
    /// `general.*`, `tokens.add_bos`, `tokens.unk_id`, the OPT stacks' `layer_norm_eps`).
    static let known: Set<MetadataKey> = [
        .svaeHiddenSize, .svaeEmbedDim, .svaeNumHeads, .svaeFFNSize, .svaeEncoderLayers, .svaeDecoderLayers,
        .svaeVocabSize, .svaeMaxSeqLen, .svaeLearnableAdd, .svaeLayerNormEps,
        .bosID, .eosID, .padID,
        .llmHiddenSize, .llmNumHeads, .llmFFNSize, .llmLayers, .llmMaxPositions, .llmNormBefore, .llmPrefillAttention,
        .llmMaxSentences,
        .optHiddenSize, .optEmbedDim, .optNumHeads, .optFFNSize, .optLayers, .optVocabSize, .optMaxPositions, .optNormBefore,
    ]

    /// Config key aliases → fact keys, per architecture and source role. One config key
    /// may set several facts (`num_hidden_layers` → encoder and decoder layer counts).
    static func aliases(_ arch: Architecture, _ role: ConfigSource.Role) -> [String: [MetadataKey]] {
        let tokens: [String: [MetadataKey]] = [
            "bos_id": [.bosID], "bos_token_id": [.bosID],
            "eos_id": [.eosID], "end_id": [.eosID], "eos_token_id": [.eosID],
            "pad_id": [.padID], "pad_token_id": [.padID],
        ]
        let hfOPT = { (k: OPTStackKeys) -> [String: [MetadataKey]] in
            [
                "hidden_size": [k.hiddenSize], "num_attention_heads": [k.numHeads],
                "ffn_dim": [k.ffnSize], "num_hidden_layers": [k.layers],
                "max_position_embeddings": [k.maxPositions], "do_layer_norm_before": [k.normBefore],
            ]
        }
        switch (arch, role) {
        case (.opt, _):
            var a = hfOPT(.opt)
            a["word_embed_proj_dim"] = [.optEmbedDim]
            a["vocab_size"] = [.optVocabSize]
            return a.merging(tokens) { x, _ in x }
        case (.sllm, .llm):
            return hfOPT(.llm)
        case (.svae, _), (.sllm, .model):
            var a: [String: [MetadataKey]] = [
                "hidden_size": [.svaeHiddenSize], "svae_hidden_size": [.svaeHiddenSize],
                "word_embed_proj_dim": [.svaeEmbedDim], "svae_word_embed_proj_dim": [.svaeEmbedDim],
                "num_attention_heads": [.svaeNumHeads], "svae_num_attention_heads": [.svaeNumHeads],
                "num_heads": [.svaeNumHeads],
                "num_hidden_layers": [.svaeEncoderLayers, .svaeDecoderLayers],
                "svae_num_hidden_layers": [.svaeEncoderLayers, .svaeDecoderLayers],
                "vocab_size": [.svaeVocabSize], "svae_vocab_size": [.svaeVocabSize],
                "max_seq_len": [.svaeMaxSeqLen], "max_sentence_len": [.svaeMaxSeqLen],
                "learnable_add": [.svaeLearnableAdd], "svae_learnable_add": [.svaeLearnableAdd],
                "layer_norm_eps": [.svaeLayerNormEps],
            ]
            if arch == .sllm {
                a["llm_hidden_size"] = [.llmHiddenSize]
                a["llm_num_attention_heads"] = [.llmNumHeads]
                a["llm_ffn_dim"] = [.llmFFNSize]
                a["llm_num_hidden_layers"] = [.llmLayers]
                a["llm_max_position_embeddings"] = [.llmMaxPositions]
                a["llm_do_layer_norm_before"] = [.llmNormBefore]
                a["prefill_attention"] = [.llmPrefillAttention]
                a["max_sentences"] = [.llmMaxSentences]
                a["max_sentence_num"] = [.llmMaxSentences]  // SentenceLLM.__init__'s name
                a["max_sen_num"] = [.llmMaxSentences]  // the reference's YAML name
            }
            return a.merging(tokens) { x, _ in x }
        }
    }

    mutating func set(_ key: MetadataKey, _ value: MetadataValue, source: String) throws(ConfigError) {
        if let old = values[key] {
            if old.value != value {
                throw .conflict(key: key.rawValue, firstSource: old.source, firstValue: old.value.description,
                                secondSource: source, secondValue: value.description)
            }
            return
        }
        values[key] = (value, source)
    }

    mutating func setDefault(_ key: MetadataKey, _ value: MetadataValue) {
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
                guard Self.known.contains(key) else { continue }
                switch key.type {
                case .u32, .i32:
                    guard let i = v.intValue else { throw .badValue(source: where_, key: k, expected: "integer", found: v.text) }
                    value = .int(i)
                case .bool:
                    guard case .bool(let b) = v else { throw .badValue(source: where_, key: k, expected: "true/false", found: v.text) }
                    value = .bool(b)
                case .f32:
                    guard let d = v.doubleValue else { throw .badValue(source: where_, key: k, expected: "number", found: v.text) }
                    value = .double(d)
                case .string:
                    guard case .string(let s) = v else { throw .badValue(source: where_, key: k, expected: "string", found: v.text) }
                    value = .string(s)
                default:
                    continue
                }
                try set(key, value, source: where_)
            }
        }
    }

    func int(_ key: MetadataKey, hint: String = "") throws(ConfigError) -> Int {
        guard case .i64(let i)? = values[key]?.value else { throw .missing(key: key.rawValue, hint: hint) }
        return Int(i)
    }

    func bool(_ key: MetadataKey) throws(ConfigError) -> Bool {
        guard case .bool(let b)? = values[key]?.value else { throw .missing(key: key.rawValue, hint: "") }
        return b
    }

    func double(_ key: MetadataKey) throws(ConfigError) -> Double {
        guard case .f64(let d)? = values[key]?.value else { throw .missing(key: key.rawValue, hint: "") }
        return d
    }

    func string(_ key: MetadataKey) throws(ConfigError) -> String {
        guard case .string(let s)? = values[key]?.value else { throw .missing(key: key.rawValue, hint: "") }
        return s
    }

    /// Checks heads > 0 and divides the hidden size, and that positive sizes are positive.
    func checkHeads(hidden: Int, heads: Int, key: MetadataKey) throws(ConfigError) {
        guard heads > 0 else { throw .outOfRange(key: key.rawValue, value: "\(heads)", reason: "must be > 0") }
        guard hidden % heads == 0 else {
            throw .outOfRange(key: key.rawValue, value: "\(heads)", reason: "hidden size \(hidden) is not divisible by it")
        }
    }

    func checkPositive(_ key: MetadataKey, _ v: Int) throws(ConfigError) {
        guard v > 0 else { throw .outOfRange(key: key.rawValue, value: "\(v)", reason: "must be > 0") }
    }

    /// Builds the hyperparameter struct and the ordered metadata list.
    func hyperparameters(_ arch: Architecture) throws(ConfigError) -> (Hyperparameters, [(String, MetadataValue)]) {
        let tokens = TokenIDs(bos: try int(.bosID), eos: try int(.eosID), pad: try int(.padID))
        var h = Hyperparameters(architecture: arch, svae: nil, llm: nil, opt: nil, tokens: tokens)
        var vocab = 0
        if arch == .svae || arch == .sllm {
            let s = SVAEHyperparameters(
                hiddenSize: try int(.svaeHiddenSize), embedDim: try int(.svaeEmbedDim),
                numHeads: try int(.svaeNumHeads, hint: "give num_attention_heads in a config or flag"),
                ffnSize: try int(.svaeFFNSize), encoderLayers: try int(.svaeEncoderLayers),
                decoderLayers: try int(.svaeDecoderLayers), vocabSize: try int(.svaeVocabSize),
                maxSeqLen: try int(.svaeMaxSeqLen), learnableAdd: try bool(.svaeLearnableAdd),
                layerNormEps: try double(.svaeLayerNormEps))
            try checkHeads(hidden: s.hiddenSize, heads: s.numHeads, key: .svaeNumHeads)
            try checkPositive(.svaeMaxSeqLen, s.maxSeqLen)
            guard s.layerNormEps > 0, s.layerNormEps < 1 else {
                throw .outOfRange(key: MetadataKey.svaeLayerNormEps.rawValue, value: "\(s.layerNormEps)", reason: "must be in (0, 1)")
            }
            h.svae = s
            vocab = s.vocabSize
        }
        if arch == .sllm {
            let l = LLMHyperparameters(
                hiddenSize: try int(.llmHiddenSize),
                numHeads: try int(.llmNumHeads, hint: "give llm_num_attention_heads, or the OPT config.json as an llm config"),
                ffnSize: try int(.llmFFNSize), layers: try int(.llmLayers),
                maxPositions: try int(.llmMaxPositions), normBefore: try bool(.llmNormBefore),
                prefillAttention: try string(.llmPrefillAttention))
            try checkHeads(hidden: l.hiddenSize, heads: l.numHeads, key: .llmNumHeads)
            guard PrefillAttentionName(rawValue: l.prefillAttention) != nil else {
                throw .outOfRange(key: MetadataKey.llmPrefillAttention.rawValue, value: l.prefillAttention, reason: "must be bidirectional or causal")
            }
            h.llm = l
        }
        if arch == .opt {
            let o = OPTHyperparameters(
                hiddenSize: try int(.optHiddenSize), embedDim: try int(.optEmbedDim),
                numHeads: try int(.optNumHeads, hint: "give num_attention_heads (HF config.json)"),
                ffnSize: try int(.optFFNSize), layers: try int(.optLayers), vocabSize: try int(.optVocabSize),
                maxPositions: try int(.optMaxPositions), normBefore: try bool(.optNormBefore))
            try checkHeads(hidden: o.hiddenSize, heads: o.numHeads, key: .optNumHeads)
            h.opt = o
            vocab = o.vocabSize
        }
        for (k, v) in [(MetadataKey.bosID, tokens.bos), (.eosID, tokens.eos), (.padID, tokens.pad)]
        where v < 0 || v >= vocab {
            throw .outOfRange(key: k.rawValue, value: "\(v)", reason: "outside the vocabulary 0..<\(vocab)")
        }
        // Sections in this order (svae before llm), keys sorted within each.
        let sections: [MetadataKey] = switch arch {
        case .svae: [.svaeHiddenSize]
        case .sllm: [.svaeHiddenSize, .llmHiddenSize]
        case .opt: [.optHiddenSize]
        }
        let order = Self.known.sorted { $0.rawValue < $1.rawValue }
        var meta: [(String, MetadataValue)] = [(MetadataKey.architecture.rawValue, .string(arch.rawValue))]
        for section in sections.map(\.section) + [MetadataKey.bosID.section] {
            for k in order where k.section == section {
                if let v = values[k] { meta.append((k.rawValue, v.value)) }
            }
        }
        return (h, meta)
    }
}
