// Every metadata key and every tensor name of the `.svae` format (formats/svae.md §5.1, §8),
// each spelled once, here — like llama.cpp's LLM_KV_NAMES / LLM_TENSOR_NAMES. The schema
// (ModelSchema), the metadata registry, the model loaders, the tokenizer storage, the
// importer's mapping table and config reader, and the tools all take their names from this
// file. (Tests spell the names out: they are the independent contract.)

/// A registered metadata key (formats/svae.md §5.1) with the value type a file must store.
///
/// Hyperparameter keys are `<section>.<field>`: `svae.*` for the SentenceVAE, `llm.*` for the
/// SLLM's OPT layer stack, `opt.*` for a token-level OPT model.
public enum MetadataKey: String, CaseIterable, Sendable, CustomStringConvertible {
    // general
    case architecture = "general.architecture"
    case name = "general.name"
    case converter = "general.converter"
    case sourceDigest = "general.source_digest"
    case quantization = "general.quantization"
    case license = "general.license"

    // tokens (the tokenizer's ids, shared by every architecture)
    case bosID = "tokens.bos_id"
    case eosID = "tokens.eos_id"
    case padID = "tokens.pad_id"
    /// -1 or the id of the unknown token.
    case unkID = "tokens.unk_id"
    /// Whether the tokenizer prepends `tokens.bos_id`.
    case addBOS = "tokens.add_bos"

    // svae: the SentenceVAE (encoder.* and decoder.* tensors)
    case svaeHiddenSize = "svae.hidden_size"
    /// Embedding width E; absent means E = hidden size.
    case svaeEmbedDim = "svae.embed_dim"
    case svaeNumHeads = "svae.num_heads"
    case svaeFFNSize = "svae.ffn_size"
    case svaeEncoderLayers = "svae.encoder_layers"
    case svaeDecoderLayers = "svae.decoder_layers"
    case svaeVocabSize = "svae.vocab_size"
    /// Longest sentence in tokens, BOS and EOS included.
    case svaeMaxSeqLen = "svae.max_seq_len"
    case svaeLearnableAdd = "svae.learnable_add"
    case svaeLayerNormEps = "svae.layer_norm_eps"

    // llm: the SLLM's OPT layer stack over sentence positions (llm.* tensors)
    case llmHiddenSize = "llm.hidden_size"
    case llmNumHeads = "llm.num_heads"
    case llmFFNSize = "llm.ffn_size"
    case llmLayers = "llm.layers"
    case llmMaxPositions = "llm.max_positions"
    case llmMaxSentences = "llm.max_sentences"
    case llmNormBefore = "llm.norm_before"
    case llmPrefillAttention = "llm.prefill_attention"
    case llmLayerNormEps = "llm.layer_norm_eps"

    // opt: a token-level OPT causal LM (opt.* tensors)
    case optHiddenSize = "opt.hidden_size"
    case optEmbedDim = "opt.embed_dim"
    case optNumHeads = "opt.num_heads"
    case optFFNSize = "opt.ffn_size"
    case optLayers = "opt.layers"
    case optVocabSize = "opt.vocab_size"
    case optMaxPositions = "opt.max_positions"
    case optNormBefore = "opt.norm_before"
    case optLayerNormEps = "opt.layer_norm_eps"

    public var description: String { rawValue }

    /// The part before the first dot: "general", "tokens", "svae", "llm" or "opt".
    public var section: Substring { rawValue.prefix { $0 != "." } }

    /// The values a file may store under an enumerated key; nil for the others.
    public var allowedValues: [String]? {
        switch self {
        case .architecture: ArchitectureName.allCases.map(\.rawValue)
        case .llmPrefillAttention: PrefillAttentionName.allCases.map(\.rawValue)
        default: nil
        }
    }

    /// The type a file must store under this key.
    public var type: MetadataType {
        switch self {
        case .architecture, .name, .converter, .sourceDigest, .quantization, .license, .llmPrefillAttention: .string
        case .bosID, .eosID, .padID, .unkID: .i32
        case .addBOS, .svaeLearnableAdd, .llmNormBefore, .optNormBefore: .bool
        case .svaeLayerNormEps, .llmLayerNormEps, .optLayerNormEps: .f32
        case .svaeHiddenSize, .svaeEmbedDim, .svaeNumHeads, .svaeFFNSize, .svaeEncoderLayers, .svaeDecoderLayers,
             .svaeVocabSize, .svaeMaxSeqLen, .llmHiddenSize, .llmNumHeads, .llmFFNSize, .llmLayers, .llmMaxPositions,
             .llmMaxSentences, .optHiddenSize, .optEmbedDim, .optNumHeads, .optFFNSize, .optLayers, .optVocabSize,
             .optMaxPositions: .u32
        }
    }
}

/// The keys of one OPT layer stack: the SLLM's (`llm.*`) or a token-level OPT model's (`opt.*`).
public struct OPTStackKeys: Sendable {
    public let hiddenSize, numHeads, ffnSize, layers, maxPositions, normBefore, layerNormEps: MetadataKey

    public static let llm = OPTStackKeys(hiddenSize: .llmHiddenSize, numHeads: .llmNumHeads, ffnSize: .llmFFNSize, layers: .llmLayers,
                                         maxPositions: .llmMaxPositions, normBefore: .llmNormBefore, layerNormEps: .llmLayerNormEps)
    public static let opt = OPTStackKeys(hiddenSize: .optHiddenSize, numHeads: .optNumHeads, ffnSize: .optFFNSize, layers: .optLayers,
                                         maxPositions: .optMaxPositions, normBefore: .optNormBefore, layerNormEps: .optLayerNormEps)
}

/// Values of `general.architecture`.
public enum ArchitectureName: String, CaseIterable, Sendable {
    /// A SentenceVAE: `svae.*` keys, `encoder.*` and `decoder.*` tensors.
    case svae
    /// A SentenceVAE plus an OPT stack over sentences: `svae.*` and `llm.*`.
    case sllm
    /// A token-level OPT causal LM: `opt.*`.
    case opt
}

/// Values of `llm.prefill_attention`.
public enum PrefillAttentionName: String, CaseIterable, Sendable {
    case bidirectional, causal
}

/// Our tensor names (formats/svae.md §8). A linear layer `n` is stored as `n.weight` [out, in]
/// and `n.bias` [out]; a LayerNorm `n` as `n.weight` and `n.bias` [d]; a bias-free projection
/// and an embedding table under the bare name. Shapes: d hidden size, E embedding width,
/// V vocabulary, f FFN width, P max positions.
public enum TensorName {
    public static func weight(_ n: String) -> String { n + ".weight" }
    public static func bias(_ n: String) -> String { n + ".bias" }

    // SentenceVAE encoder
    /// [V, E]
    public static let encoderEmbed = "encoder.embed"
    /// [d, E], only when E ≠ d (no bias)
    public static let encoderProjectIn = "encoder.project_in"
    /// Learnable-add pooling: weight [d], bias [1] (only with svae.learnable_add)
    public static let encoderPool = "encoder.pool"
    /// LayerNorm [d] after pooling
    public static let encoderNorm = "encoder.norm"
    /// Whether `name` is a tensor of the sentence encoder.
    public static func isEncoder(_ name: String) -> Bool { name.hasPrefix("encoder.") }

    // SentenceVAE decoder
    /// [V, E]
    public static let decoderEmbed = "decoder.embed"
    /// [d, E], only when E ≠ d (no bias)
    public static let decoderProjectIn = "decoder.project_in"
    /// [V, d] + [V]
    public static let decoderLMHead = "decoder.lm_head"

    /// Encoder layer k (post-norm transformer encoder layer).
    public struct EncoderLayer: Sendable {
        /// qkv [3d, d] q|k|v rows; out [d, d]; norm1 [d]; up [f, d]; down [d, f]; norm2 [d]
        public let qkv, out, norm1, up, down, norm2: String
        public init(_ k: Int) {
            let p = "encoder.layers.\(k)."
            qkv = p + "attn_qkv"; out = p + "attn_out"; norm1 = p + "norm1"
            up = p + "ffn_up"; down = p + "ffn_down"; norm2 = p + "norm2"
        }
    }

    /// Decoder layer k (post-norm transformer decoder layer).
    public struct DecoderLayer: Sendable {
        /// selfQKV [3d, d] q|k|v rows; selfOut [d, d]; norm1 [d]; crossV [d, d] (the V third of
        /// the cross-attention in_proj); crossOut [d, d]; norm2 [d]; up [f, d]; down [d, f]; norm3 [d]
        public let selfQKV, selfOut, norm1, crossV, crossOut, norm2, up, down, norm3: String
        public init(_ k: Int) {
            let p = "decoder.layers.\(k)."
            selfQKV = p + "self_qkv"; selfOut = p + "self_out"; norm1 = p + "norm1"
            crossV = p + "cross_v"; crossOut = p + "cross_out"; norm2 = p + "norm2"
            up = p + "ffn_up"; down = p + "ffn_down"; norm3 = p + "norm3"
        }
    }

    /// An OPT layer stack: the SLLM's (`llm.*`) or a token-level OPT model's (`opt.*`).
    public struct OPTStack: Sendable {
        let prefix: String
        /// [P + 2, d]; position p uses row p + 2
        public var posEmbed: String { prefix + ".pos_embed" }
        public func layer(_ k: Int) -> OPTLayer { OPTLayer(prefix: "\(prefix).layers.\(k).") }

        public static let llm = OPTStack(prefix: "llm")
        public static let opt = OPTStack(prefix: "opt")
    }

    /// One OPT decoder layer.
    public struct OPTLayer: Sendable {
        /// qkv [3d, d] q|k|v rows; out [d, d]; attnNorm [d]; up [f, d]; down [d, f]; ffnNorm [d]
        public let qkv, out, attnNorm, up, down, ffnNorm: String
        init(prefix p: String) {
            qkv = p + "attn_qkv"; out = p + "attn_out"; attnNorm = p + "attn_norm"
            up = p + "ffn_up"; down = p + "ffn_down"; ffnNorm = p + "ffn_norm"
        }
    }

    // SLLM
    /// [2, d] + [2]: continue / stop logits
    public static let llmStopHead = "llm.stop_head"

    // token-level OPT
    /// [V, E]
    public static let optEmbed = "opt.embed"
    /// [d, E] and [E, d], only when E ≠ d (no bias)
    public static let optProjectIn = "opt.project_in"
    public static let optProjectOut = "opt.project_out"
    /// LayerNorm [d], pre-norm models only
    public static let optFinalNorm = "opt.final_norm"
    /// [V, E] weight only; absent: tied to `opt.embed`
    public static let optLMHead = "opt.lm_head"
}
