import SVAEFormat
import SVAEKernels

/// Hyperparameters of a SentenceVAE, read from the `svae.*` and `tokens.*` metadata keys.
public struct SentenceVAEConfig: Sendable, Equatable {
    public var hidden: Int
    public var embedDim: Int
    public var heads: Int
    public var ffn: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var vocab: Int
    /// Longest sentence in tokens, BOS and EOS included (the decoder's length cap).
    public var maxSeqLen: Int
    public var learnableAdd: Bool
    public var eps: Float
    public var bos: Int32
    public var eos: Int32
    public var pad: Int32
    public var headDim: Int { hidden / heads }

    init(_ m: Metadata) {
        // The schema has validated presence, types and ranges; the fallbacks are never used.
        hidden = m.int(.svaeHiddenSize) ?? 0
        embedDim = m.int(.svaeEmbedDim) ?? hidden
        heads = m.int(.svaeNumHeads) ?? 1
        ffn = m.int(.svaeFFNSize) ?? 0
        encoderLayers = m.int(.svaeEncoderLayers) ?? 0
        decoderLayers = m.int(.svaeDecoderLayers) ?? 0
        vocab = m.int(.svaeVocabSize) ?? 0
        maxSeqLen = m.int(.svaeMaxSeqLen) ?? 0
        learnableAdd = m.bool(.svaeLearnableAdd) ?? false
        eps = Float(m.float(.svaeLayerNormEps) ?? 1e-5)
        bos = Int32(m.int(.bosID) ?? 2)
        eos = Int32(m.int(.eosID) ?? 2)
        pad = Int32(m.int(.padID) ?? 1)
    }
}

/// One post-norm transformer encoder layer (d hidden, f FFN width; names in `TensorName.EncoderLayer`).
struct EncoderLayer: @unchecked Sendable {
    let qkv: Linear    // [3d, d] q|k|v rows + [3d]
    let out: Linear    // [d, d] + [d]
    let norm1: Norm    // [d], [d]
    let up: Linear     // [f, d] + [f]
    let down: Linear   // [d, f] + [d]
    let norm2: Norm    // [d], [d]
}

/// One post-norm transformer decoder layer (names in `TensorName.DecoderLayer`).
struct DecoderLayer: @unchecked Sendable {
    let selfQKV: Linear   // [3d, d] q|k|v rows + [3d]
    let selfOut: Linear   // [d, d] + [d]
    let norm1: Norm       // [d], [d]
    let crossV: Linear    // [d, d] + [d]: the V third of the cross-attention in_proj
    let crossOut: Linear  // [d, d] + [d]
    let norm2: Norm       // [d], [d]
    let up: Linear        // [f, d] + [f]
    let down: Linear      // [d, f] + [d]
    let norm3: Norm       // [d], [d]
}

/// A SentenceVAE: sentence encoder (ids → one vector) and sentence decoder (vector → ids),
/// reading its weights in place from a mapped `.svae` file. Immutable: share one instance
/// between threads; each thread uses its own `KernelContext` and decoder sessions.
///
/// Semantics follow docs/reference.md (the reference `sentence_encoder.py` /
/// `sentence_decoder.py`), including post-norm layers, ReLU FFN, key padding, masked sum or
/// learnable add pooling, and the sinusoidal positions.
public final class SentenceVAE: @unchecked Sendable {
    public let file: SVAEFile
    public let config: SentenceVAEConfig
    let encEmbed: Embedding             // [V, E] (+ project_in [d, E] when E ≠ d)
    let encLayers: [EncoderLayer]       // encoder_layers of them
    let pool: (w: UnsafeBufferPointer<Float>, b: Float)?  // [d] and one bias: learnable add only
    let encNorm: Norm                   // [d], [d] after pooling
    let decEmbed: Embedding             // [V, E] (+ project_in [d, E] when E ≠ d)
    let decLayers: [DecoderLayer]       // decoder_layers of them
    let lmHead: Linear                  // [V, d] + [V]
    let positions: [Float]              // [maxSeqLen, d] sinusoidal, computed at load

    /// Builds the model from a validated file of architecture `svae` or `sllm` (its `encoder.*` /
    /// `decoder.*` part).
    public init(file: SVAEFile) throws(ModelError) {
        try checkModelFile(file, .svae, .sllm)
        self.file = file
        let c = SentenceVAEConfig(file.metadata)
        config = c
        let t = TensorTable(file: file)
        typealias N = TensorName
        let hasProj = c.embedDim != c.hidden
        encEmbed = Embedding(name: N.encoderEmbed, table: try t.matrix(N.encoderEmbed),
                             projectIn: hasProj ? Linear(w: try t.matrix(N.encoderProjectIn), b: nil) : nil)
        var enc: [EncoderLayer] = []
        for k in 0..<c.encoderLayers {
            let n = N.EncoderLayer(k)
            enc.append(EncoderLayer(qkv: try t.linear(n.qkv).withPackedCopy(), out: try t.linear(n.out).withPackedCopy(),
                                    norm1: try t.norm(n.norm1), up: try t.linear(n.up).withPackedCopy(),
                                    down: try t.linear(n.down).withPackedCopy(), norm2: try t.norm(n.norm2)))
        }
        encLayers = enc
        pool = c.learnableAdd ? (try t.floats(N.weight(N.encoderPool)), try t.floats(N.bias(N.encoderPool))[0]) : nil
        encNorm = try t.norm(N.encoderNorm)
        decEmbed = Embedding(name: N.decoderEmbed, table: try t.matrix(N.decoderEmbed),
                             projectIn: hasProj ? Linear(w: try t.matrix(N.decoderProjectIn), b: nil) : nil)
        var dec: [DecoderLayer] = []
        for k in 0..<c.decoderLayers {
            let n = N.DecoderLayer(k)
            dec.append(DecoderLayer(selfQKV: try t.linear(n.selfQKV), selfOut: try t.linear(n.selfOut), norm1: try t.norm(n.norm1),
                                    crossV: try t.linear(n.crossV), crossOut: try t.linear(n.crossOut), norm2: try t.norm(n.norm2),
                                    up: try t.linear(n.up), down: try t.linear(n.down), norm3: try t.norm(n.norm3)))
        }
        decLayers = dec
        lmHead = try t.linear(N.decoderLMHead)
        positions = Self.sinusoidal(length: c.maxSeqLen, d: c.hidden)
    }

    /// Opens and validates a file, then builds the model.
    public convenience init(path: String) throws(ModelError) {
        try self.init(file: try openModelFile(path))
    }

    /// Checks the ids of input `index`: non-empty, at most max_seq_len, inside the vocabulary.
    public func check(_ ids: [Int32], index: Int) throws(ModelError) {
        guard !ids.isEmpty else { throw .emptySentence(input: index) }
        guard ids.count <= config.maxSeqLen else { throw .sentenceTooLong(input: index, tokens: ids.count, max: config.maxSeqLen) }
        for (p, id) in ids.enumerated() where id < 0 || Int(id) >= config.vocab {
            throw .tokenOutOfRange(input: index, position: p, id: id, vocab: config.vocab)
        }
    }
}
