#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
        hidden = m.int("svae.hidden_size") ?? 0
        embedDim = m.int("svae.embed_dim") ?? hidden
        heads = m.int("svae.num_heads") ?? 1
        ffn = m.int("svae.ffn_size") ?? 0
        encoderLayers = m.int("svae.encoder_layers") ?? 0
        decoderLayers = m.int("svae.decoder_layers") ?? 0
        vocab = m.int("svae.vocab_size") ?? 0
        maxSeqLen = m.int("svae.max_seq_len") ?? 0
        learnableAdd = m.bool("svae.learnable_add") ?? false
        eps = Float(m.float("svae.layer_norm_eps") ?? 1e-5)
        bos = Int32(m.int("tokens.bos_id") ?? 2)
        eos = Int32(m.int("tokens.eos_id") ?? 2)
        pad = Int32(m.int("tokens.pad_id") ?? 1)
    }
}

struct EncoderLayer: @unchecked Sendable {
    let qkv, out: Linear
    let norm1: Norm
    let up, down: Linear
    let norm2: Norm
}

struct DecoderLayer: @unchecked Sendable {
    let selfQKV, selfOut: Linear
    let norm1: Norm
    let crossV, crossOut: Linear
    let norm2: Norm
    let up, down: Linear
    let norm3: Norm
}

/// Token embedding with the optional `project_in` (E → d).
struct Embedding: @unchecked Sendable {
    let table: WeightMatrix  // [V, E]
    let projectIn: Linear?   // [d, E]

    /// Rows [n, d] of `x` = embeddings of `ids` (through `project_in` when present; `scratchE`
    /// then holds [n, E]). A bad id is a `.kernel` error naming `name`.
    func lookup(_ x: UnsafeMutableBufferPointer<Float>, ids: some Collection<Int32>, scratchE: FloatBuffer,
                context: KernelContext, name: String) throws(ModelError) {
        do throws(KernelError) {
            if let proj = projectIn {
                let E = table.cols
                let buf = scratchE.view(ids.count * E)
                for (i, id) in ids.enumerated() { try table.gatherRow(buf.row(i, E), row: Int(id)) }
                context.linear(x, proj, buf.readOnly, n: ids.count)
            } else {
                let d = table.cols
                for (i, id) in ids.enumerated() { try table.gatherRow(x.row(i, d), row: Int(id)) }
            }
        } catch {
            throw .kernel(tensor: name, error)
        }
    }
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
    let encEmbed: Embedding
    let encLayers: [EncoderLayer]
    let pool: (w: UnsafeBufferPointer<Float>, b: Float)?
    let encNorm: Norm
    let decEmbed: Embedding
    let decLayers: [DecoderLayer]
    let lmHead: Linear
    /// Sinusoidal positions [maxSeqLen, d].
    let positions: [Float]

    /// Builds the model from a validated file of architecture `svae` or `sllm` (its `encoder.*` /
    /// `decoder.*` part).
    public init(file: SVAEFile) throws(ModelError) {
        guard 1.littleEndian == 1 else { throw .bigEndianHost }
        let arch = file.architecture ?? "none"
        guard arch == "svae" || arch == "sllm" else {
            throw .wrongArchitecture(file: file.path, expected: "svae or sllm", found: arch)
        }
        do { try file.validateModel() } catch { throw .format(error) }
        self.file = file
        let c = SentenceVAEConfig(file.metadata)
        config = c
        let t = TensorTable(file: file)
        let hasProj = c.embedDim != c.hidden
        encEmbed = Embedding(table: try t.matrix("encoder.embed"),
                             projectIn: hasProj ? Linear(w: try t.matrix("encoder.project_in"), b: nil) : nil)
        var enc: [EncoderLayer] = []
        for k in 0..<c.encoderLayers {
            let p = "encoder.layers.\(k)."
            enc.append(EncoderLayer(qkv: try t.linear(p + "attn_qkv"), out: try t.linear(p + "attn_out"), norm1: try t.norm(p + "norm1"),
                                    up: try t.linear(p + "ffn_up"), down: try t.linear(p + "ffn_down"), norm2: try t.norm(p + "norm2")))
        }
        encLayers = enc
        pool = c.learnableAdd ? (try t.floats("encoder.pool.weight"), try t.floats("encoder.pool.bias")[0]) : nil
        encNorm = try t.norm("encoder.norm")
        decEmbed = Embedding(table: try t.matrix("decoder.embed"),
                             projectIn: hasProj ? Linear(w: try t.matrix("decoder.project_in"), b: nil) : nil)
        var dec: [DecoderLayer] = []
        for k in 0..<c.decoderLayers {
            let p = "decoder.layers.\(k)."
            dec.append(DecoderLayer(selfQKV: try t.linear(p + "self_qkv"), selfOut: try t.linear(p + "self_out"), norm1: try t.norm(p + "norm1"),
                                    crossV: try t.linear(p + "cross_v"), crossOut: try t.linear(p + "cross_out"), norm2: try t.norm(p + "norm2"),
                                    up: try t.linear(p + "ffn_up"), down: try t.linear(p + "ffn_down"), norm3: try t.norm(p + "norm3")))
        }
        decLayers = dec
        lmHead = try t.linear("decoder.lm_head")
        positions = Self.sinusoidal(length: c.maxSeqLen, d: c.hidden)
    }

    /// Opens and validates a file, then builds the model.
    public convenience init(path: String) throws(ModelError) {
        try self.init(file: try openModelFile(path))
    }

    /// PE[p, 2i] = sin(p · exp(−2i · ln(10000) / d)), PE[p, 2i+1] = cos(…), computed in f32 the
    /// way `positional_encoding.py` does.
    static func sinusoidal(length: Int, d: Int) -> [Float] {
        var pe = [Float](repeating: 0, count: length * d)
        let k = -Float(log(10000.0)) / Float(d)
        for i in stride(from: 0, to: d, by: 2) {
            let div = Float(exp(Float(i) * k))
            for p in 0..<length {
                let a = Float(p) * div
                pe[p * d + i] = sin(a)
                if i + 1 < d { pe[p * d + i + 1] = cos(a) }
            }
        }
        return pe
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
