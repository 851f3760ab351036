import Foundation
import SVAEFormat
import SVAEKernels

/// Shapes of the released SentenceVAE family (docs/reference.md).
struct ReleasedShape {
    let name: String
    let hidden: Int
    let heads: Int
    let layers: Int
    /// Token embedding width E (OPT's word_embed_proj_dim; `project_in` [d, E] when E ≠ d).
    var embedDim: Int?
    /// Learnable-add pooling: the bench's SVAE shapes have it; the released SLLM configs do not.
    var learnableAdd = true
    let vocab = 50272
    let maxSeqLen = 64

    static let all = [
        ReleasedShape(name: "svae-768-h1", hidden: 768, heads: 12, layers: 1),
        ReleasedShape(name: "svae-768-h4", hidden: 768, heads: 12, layers: 4),
        ReleasedShape(name: "svae-1024-h4", hidden: 1024, heads: 16, layers: 4),
        ReleasedShape(name: "svae-2048-h1", hidden: 2048, heads: 32, layers: 1),
    ]

    /// Looks a shape up by name (nil for an unknown one).
    static func named(_ name: String) -> ReleasedShape? { all.first { $0.name == name } }

    /// Parameters in the REFERENCE checkpoint of this shape (what an f32 safetensors source holds):
    /// two embeddings (each with its `project_in` when E ≠ d), N encoder layers (self-attention,
    /// FFN 2d, 2 LayerNorms), N decoder layers (plus cross-attention with its unused Q/K and a
    /// third LayerNorm), `la` (with learnable add), `lnorm`, the untied vocabulary projection with
    /// bias. The `.svae` file leaves cross-attention Q/K out.
    var referenceParameters: Int {
        let d = hidden, f = 2 * hidden, v = vocab, e = embedDim ?? hidden
        let attention = 4 * d * d + 4 * d
        let encoderLayer = attention + (f * d + f) + (d * f + d) + 2 * 2 * d
        let decoderLayer = encoderLayer + attention + 2 * d
        let embedding = v * e + (e == d ? 0 : d * e)
        return 2 * embedding + layers * (encoderLayer + decoderLayer) + (learnableAdd ? d + 1 : 0) + 2 * d + (v * d + v)
    }

    var metadata: Metadata {
        var m = Metadata()
        m[.architecture] = .string(ArchitectureName.svae.rawValue)
        m[.name] = .string("\(name) (random weights, svae-bench)")
        for (k, v) in [(MetadataKey.svaeHiddenSize, hidden), (.svaeEmbedDim, embedDim ?? hidden), (.svaeNumHeads, heads), (.svaeFFNSize, 2 * hidden),
                       (.svaeEncoderLayers, layers), (.svaeDecoderLayers, layers), (.svaeVocabSize, vocab), (.svaeMaxSeqLen, maxSeqLen)] {
            m[k] = .u32(UInt32(v))
        }
        m[.svaeLearnableAdd] = .bool(learnableAdd)
        m[.bosID] = .i32(2); m[.eosID] = .i32(2); m[.padID] = .i32(1)
        return m
    }

    /// Writes a random-weight model of this shape (see `writeRandomModel`).
    func write(to path: String, type: SVAEFormat.ElementType) throws {
        try writeRandomModel(metadata: metadata, to: path, type: type)
    }
}

/// The OPT models the released SLLMs are built on (Hugging Face `config.json` of facebook/opt-125m,
/// opt-350m, opt-1.3b): OPT-350m projects its 512-wide embedding in and out and runs post-norm
/// layers without a final LayerNorm.
struct OPTShape: Equatable {
    let name: String
    let hidden: Int
    let heads: Int
    let layers: Int
    let ffn: Int
    /// word_embed_proj_dim.
    let embedDim: Int
    /// do_layer_norm_before.
    let normBefore: Bool
    let vocab = 50272
    let maxPositions = 2048

    static let all = [
        OPTShape(name: "opt-125m", hidden: 768, heads: 12, layers: 12, ffn: 3072, embedDim: 768, normBefore: true),
        OPTShape(name: "opt-350m", hidden: 1024, heads: 16, layers: 24, ffn: 4096, embedDim: 512, normBefore: false),
        OPTShape(name: "opt-1.3b", hidden: 2048, heads: 32, layers: 24, ffn: 8192, embedDim: 2048, normBefore: true),
    ]

    static func named(_ name: String) -> OPTShape? { all.first { $0.name == name } }

    /// Parameters of the decoder layers (q, k, v, out with biases; fc1, fc2; two LayerNorms).
    var layerParameters: Int {
        let d = hidden, f = ffn
        return layers * (4 * (d * d + d) + (f * d + f) + (d * f + d) + 2 * 2 * d)
    }

    var metadata: Metadata {
        var m = Metadata()
        m[.architecture] = .string(ArchitectureName.opt.rawValue)
        m[.name] = .string("\(name) (random weights, svae-bench)")
        for (k, v) in [(MetadataKey.optHiddenSize, hidden), (.optEmbedDim, embedDim), (.optNumHeads, heads), (.optFFNSize, ffn), (.optLayers, layers),
                       (.optVocabSize, vocab), (.optMaxPositions, maxPositions)] {
            m[k] = .u32(UInt32(v))
        }
        m[.optNormBefore] = .bool(normBefore)
        m[.bosID] = .i32(2); m[.eosID] = .i32(2); m[.padID] = .i32(1)
        return m
    }
}

/// A released SentenceLLM (docs/sllm.md): the SentenceVAE with its OPT's hidden size, heads and
/// embedding width (FFN 2d, no learnable add, as the released configs), then every decoder layer
/// of that OPT with learned positions, and the stop head.
struct SLLMShape {
    let name: String
    let opt: OPTShape
    let svaeLayers: Int

    static let all: [SLLMShape] = [("125m", "opt-125m", [1, 2, 4]), ("350m", "opt-350m", [1, 2, 4]), ("1.3b", "opt-1.3b", [1, 2])]
        .flatMap { size, opt, hs in hs.map { SLLMShape(name: "sllm-\(size)-h\($0)", opt: OPTShape.named(opt)!, svaeLayers: $0) } }

    static func named(_ name: String) -> SLLMShape? { all.first { $0.name == name } }

    var svae: ReleasedShape {
        ReleasedShape(name: name, hidden: opt.hidden, heads: opt.heads, layers: svaeLayers, embedDim: opt.embedDim, learnableAdd: false)
    }

    /// Parameters of the reference checkpoint: the SentenceVAE's, `llm_pe` [2050, d], the OPT
    /// layers and `fc` [2, d] with bias (the paper's "Total Params" column).
    var referenceParameters: Int {
        svae.referenceParameters + (opt.maxPositions + 2) * opt.hidden + opt.layerParameters + 2 * opt.hidden + 2
    }

    var metadata: Metadata {
        var m = svae.metadata
        m[.architecture] = .string(ArchitectureName.sllm.rawValue)
        for (k, v) in [(MetadataKey.llmHiddenSize, opt.hidden), (.llmNumHeads, opt.heads), (.llmFFNSize, opt.ffn), (.llmLayers, opt.layers),
                       (.llmMaxPositions, opt.maxPositions), (.llmMaxSentences, 64)] {
            m[k] = .u32(UInt32(v))
        }
        m[.llmNormBefore] = .bool(opt.normBefore)
        m[.llmPrefillAttention] = .string(PrefillAttentionName.bidirectional.rawValue)
        return m
    }
}

/// The tensors `writeRandomModel` writes for `metadata`: every tensor ModelSchema expects, in its
/// order, vectors f32 and 2-D weights as `type`; i8r means svae-convert's q8 choice
/// (`ModelSchema.q8Choice`: the sentence VAE's linear weights i8r, the other 2-D weights q8_0).
func randomModelPlan(metadata: Metadata, type: SVAEFormat.ElementType) throws -> [TensorPlan] {
    try ModelSchema.expectedTensors(metadata: metadata).map { e in
        let t: SVAEFormat.ElementType = e.mustBeF32 ? .f32 : type == .i8r ? ModelSchema.q8Choice(e) : type
        return TensorPlan(name: e.name, type: t, shape: e.shape)
    }
}

/// Writes a random-weight model with `metadata` (weights ~ U(−a, a) with a = 1.7/√in, norm
/// weights near 1) as planned by `randomModelPlan`, deterministic for a seed. Streaming: one
/// chunk of at most 2^20 values (whole rows) is generated, quantized and handed to the writer at
/// a time, so memory stays at a few chunks whatever the model's size (no tensor is ever held
/// whole, in f32 or otherwise).
func writeRandomModel(metadata: Metadata, to path: String, type: SVAEFormat.ElementType, seed: UInt64 = 0x5EED) throws {
    let plans = try randomModelPlan(metadata: metadata, type: type)
    let w = try SVAEWriter(path: path, metadata: metadata, tensors: plans)
    var state = seed
    for p in plans {
        let cols = p.shape.last!, rows = p.shape.count == 2 ? p.shape[0] : 1
        let isNormWeight = p.name.hasSuffix("norm.weight") || p.name.range(of: #"norm[123]\.weight$"#, options: .regularExpression) != nil
        let a = 1.7 / Float(cols).squareRoot()
        let chunkRows = max(1, min(rows, (1 << 20) / cols / 16 * 16))  // whole 16-row panels for i8r
        var values = [Float](repeating: 0, count: chunkRows * cols)
        var r = 0
        while r < rows {
            let n = min(chunkRows, rows - r)
            if n < chunkRows { values.removeLast((chunkRows - n) * cols) }
            for i in 0..<(n * cols) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u = Float(state >> 40) / Float(1 << 24) * 2 - 1
                values[i] = isNormWeight ? 1 + 0.1 * u : a * u
            }
            if p.type == .f32 {
                try values.withUnsafeBytes { try w.append($0) }
            } else {
                try w.append(try Quantizer.encode(values, as: p.type, cols: cols))
            }
            r += n
        }
    }
    try w.finish()
}

/// Makes sure `path` holds the random model `writeRandomModel` writes for `metadata`, `type` and
/// `seed`: a file already there is kept when its metadata and tensor plan are those (a cache
/// between runs), rewritten otherwise. Returns whether it wrote the file.
@discardableResult
func ensureRandomModel(metadata: Metadata, at path: String, type: SVAEFormat.ElementType, seed: UInt64 = 0x5EED) throws -> Bool {
    var m = metadata
    m[.name] = .string((metadata.string(.name) ?? "") + ", seed \(seed)")
    if let f = try? SVAEFile.open(path), f.metadata == m,
       f.tensors.map({ TensorPlan(name: $0.name, type: $0.type, shape: $0.shape) }) == (try randomModelPlan(metadata: m, type: type)) {
        return false
    }
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try writeRandomModel(metadata: m, to: path, type: type, seed: seed)
    return true
}
