// NameMapping: THE one place that knows the reference checkpoints' key names.
//
// Reference names come from BestAnHongjun/SentenceVAE `sentence_vae/models/`:
//   sentence_encoder.py  SentenceEncoder: embed_token, project_in (E ≠ d only), encoder =
//                        nn.TransformerEncoder(layers.{k}: self_attn.in_proj_weight/bias,
//                        self_attn.out_proj, linear1, linear2, norm1, norm2), la (learnable_add),
//                        lnorm
//   sentence_decoder.py  SentenceDecoder: embed_token, project_in, decoder =
//                        nn.TransformerDecoder(layers.{k}: self_attn, multihead_attn, linear1,
//                        linear2, norm1..3), linear
//   sentence_vae_model.py  SentenceVAE: encoder, decoder (the sinusoidal PE is not a buffer)
//   sentence_llm_model.py  SentenceLLM: svae, llm_pe (OPT embed_positions), llm_layers (OPT
//                        decoder layers), fc
// and from HF transformers `modeling_opt.py` (OPTForCausalLM: model.decoder.embed_tokens,
// embed_positions, project_in/out, final_layer_norm, layers.{k}.self_attn.{q,k,v,out}_proj,
// self_attn_layer_norm, fc1, fc2, final_layer_norm; lm_head tied to embed_tokens).
//
// An output tensor is a list of (source tensor, row range): q/k/v projections are
// concatenated row-wise into one [3d, d] matrix, and the decoder's cross-attention keeps
// only the V rows [2d, 3d) of `multihead_attn.in_proj_weight`: its memory is ONE vector, so
// the softmax weight is exactly 1 and Q, K never influence the output (they are dropped).

import SVAEFormat

/// Our tensor names (Names.swift).
private typealias N = TensorName

/// One run of rows of a source tensor that feeds an output tensor.
package struct TensorPart: Sendable {
    /// The source tensor.
    package let source: SourceTensor
    /// Rows (dimension 0) used; for 1-D tensors rows are elements.
    package let rows: Range<Int>
}

/// A tensor under our own name, assembled from parts of source tensors.
package struct MappedTensor: Sendable, CustomStringConvertible {
    /// Our name, e.g. `encoder.layers.0.attn_qkv.weight`.
    package let name: String
    /// Our shape (C order).
    package let shape: [Int]
    /// Parts concatenated in order along dimension 0.
    package let parts: [TensorPart]

    /// Product of `shape`.
    package var elementCount: Int { shape.reduce(1, *) }

    package var description: String {
        "\(name) \(shape) ← " + parts.map { "\($0.source.name)[\($0.rows.lowerBound)..<\($0.rows.upperBound)]" }.joined(separator: " + ")
    }

    /// Converts the tensor to f32 into `buffer` (`buffer.count == elementCount`), one part
    /// at a time; memory beyond `buffer` is O(1).
    package func readF32(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard buffer.count == elementCount else {
            throw SourceTensorError.bufferSize(path: parts.first?.source.path ?? "", tensor: name,
                                               expected: elementCount, found: buffer.count)
        }
        var offset = 0
        for p in parts {
            let n = p.rows.count * p.source.rowSize
            try p.source.readRowsF32(p.rows, into: UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + n)]))
            offset += n
        }
    }

    /// Elements per row of our shape (1 for a vector).
    package var rowSize: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    /// Converts rows `range` of our shape (dimension 0) to f32 into `buffer`
    /// (`buffer.count == range.count * rowSize`), reading only the parts they overlap:
    /// a quantizer can stream a large tensor in row blocks.
    package func readRowsF32(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let rows = shape.first ?? 1
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw SourceTensorError.rowRange(path: parts.first?.source.path ?? "", tensor: name, rows: rows, requested: "\(range)")
        }
        let want = (range.lowerBound * rowSize)..<(range.upperBound * rowSize)
        guard buffer.count == want.count else {
            throw SourceTensorError.bufferSize(path: parts.first?.source.path ?? "", tensor: name,
                                               expected: want.count, found: buffer.count)
        }
        for (p, source, out) in pieces(of: want) {
            try p.source.readElementsF32(source, into: UnsafeMutableBufferPointer(rebasing: buffer[(out.lowerBound - want.lowerBound)..<(out.upperBound - want.lowerBound)]))
        }
    }

    /// Drops the mapped source pages behind rows `range` from the resident set
    /// (`SourceTensor.releasePages`): the converter calls it once a chunk is written.
    package func releaseRows(_ range: Range<Int>) {
        let rows = shape.first ?? 1
        guard range.lowerBound >= 0, range.upperBound <= rows else { return }
        for (p, source, _) in pieces(of: (range.lowerBound * rowSize)..<(range.upperBound * rowSize)) {
            p.source.releasePages(source)
        }
    }

    /// The part (and which of this tensor's source element ranges and flat output element ranges) that
    /// hold output elements `want`, in order; the one place that maps our flat indices to parts.
    func pieces(of want: Range<Int>) -> [(part: TensorPart, source: Range<Int>, output: Range<Int>)] {
        var out: [(TensorPart, Range<Int>, Range<Int>)] = []
        var partStart = 0  // first output element of this part
        for p in parts {
            let count = p.rows.count * p.source.rowSize
            let lo = Swift.max(want.lowerBound, partStart), hi = Swift.min(want.upperBound, partStart + count)
            if lo < hi {
                let sourceFirst = p.rows.lowerBound * p.source.rowSize + (lo - partStart)
                out.append((p, sourceFirst..<(sourceFirst + hi - lo), lo..<hi))
            }
            partStart += count
        }
        return out
    }

    /// Convenience: the whole tensor as a new array.
    package func f32() throws -> [Float] {
        var out = [Float](repeating: 0, count: elementCount)
        try out.withUnsafeMutableBufferPointer { try readF32(into: $0) }
        return out
    }
}

/// A checkpoint whose tensors do not fit the architecture.
package enum MappingError: Error, Equatable {
    /// No known architecture matches the tensor names.
    case unknownArchitecture(path: String, sample: [String])
    /// A required reference tensor is absent.
    case missingTensor(path: String, tensor: String)
    /// A reference tensor has the wrong shape.
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// Layer indices under `prefix` are not 0, 1, …, n−1.
    case layerNumbering(path: String, prefix: String, found: [Int])
    /// Tensors no rule uses (wrong architecture, or an unsupported variant).
    case unexpectedTensors(path: String, tensors: [String])
    /// A mapped tensor has an integer dtype.
    case unsupportedDType(path: String, tensor: String, dtype: String)
}

/// Everything the `.svae` writer needs: hyperparameters, metadata and tensors.
package struct ConversionPlan: Sendable {
    /// The source checkpoint path.
    package let sourcePath: String
    /// Typed hyperparameters.
    package let hyperparameters: Hyperparameters
    /// Metadata keys and values in writing order (`general.architecture` first).
    package let metadata: [(String, MetadataValue)]
    /// Output tensors in writing order.
    package let tensors: [MappedTensor]
    /// Human-readable decisions taken (dropped tensors, defaults used).
    package let notes: [String]

    /// The output tensor named `name`.
    package subscript(name: String) -> MappedTensor? { tensors.first { $0.name == name } }
}

/// One line of the mapping table: our tensor ← rows of reference tensors.
struct Rule {
    struct Source { let name: String; let shape: [Int]; let rows: Range<Int>? }
    let ours: String
    let shape: [Int]
    let sources: [Source]
}

/// The mapping table (see the file comment for the reference it follows).
enum MappingTable {
    static func copy(_ ours: String, _ theirs: String, _ shape: [Int], from srcShape: [Int]? = nil) -> Rule {
        Rule(ours: ours, shape: shape, sources: [.init(name: theirs, shape: srcShape ?? shape, rows: nil)])
    }

    static func linear(_ ours: String, _ theirs: String, out: Int, in: Int, bias: Bool = true) -> [Rule] {
        [copy(N.weight(ours), theirs + ".weight", [out, `in`])] + (bias ? [copy(N.bias(ours), theirs + ".bias", [out])] : [])
    }

    static func norm(_ ours: String, _ theirs: String, _ d: Int) -> [Rule] {
        [copy(N.weight(ours), theirs + ".weight", [d]), copy(N.bias(ours), theirs + ".bias", [d])]
    }

    /// Token embedding [vocab, E] and, when E ≠ d, `project_in` [d, E] (no bias).
    static func embedding(_ embed: String, _ projectIn: String, _ theirs: String, d: Int, e: Int, vocab: Int) -> [Rule] {
        [copy(embed, theirs + ".embed_token.weight", [vocab, e])]
            + (e != d ? [copy(projectIn, theirs + ".project_in.weight", [d, e])] : [])
    }

    /// nn.MultiheadAttention self-attention: packed in_proj [3d, d] (Q, K, V rows) + out_proj.
    static func selfAttention(qkv: String, out: String, _ t: String, d: Int) -> [Rule] {
        [copy(N.weight(qkv), t + "self_attn.in_proj_weight", [3 * d, d]),
         copy(N.bias(qkv), t + "self_attn.in_proj_bias", [3 * d])]
            + linear(out, t + "self_attn.out_proj", out: d, in: d)
    }

    /// SentenceVAE under reference prefix `p` ("" standalone, "svae." inside an SLLM).
    static func svae(_ p: String, d: Int, e: Int, vocab: Int, ffn: Int, encoderLayers: Int, decoderLayers: Int,
                     learnableAdd: Bool) -> [Rule]
    {
        var r = embedding(N.encoderEmbed, N.encoderProjectIn, p + "encoder", d: d, e: e, vocab: vocab)
        for k in 0..<encoderLayers {
            let o = N.EncoderLayer(k), t = p + "encoder.encoder.layers.\(k)."
            r += selfAttention(qkv: o.qkv, out: o.out, t, d: d)
            r += norm(o.norm1, t + "norm1", d)
            r += linear(o.up, t + "linear1", out: ffn, in: d)
            r += linear(o.down, t + "linear2", out: d, in: ffn)
            r += norm(o.norm2, t + "norm2", d)
        }
        if learnableAdd {
            // la = nn.Linear(d, 1): weight [1, d] stored as our [d]; bias [1].
            r.append(copy(N.weight(N.encoderPool), p + "encoder.la.weight", [d], from: [1, d]))
            r.append(copy(N.bias(N.encoderPool), p + "encoder.la.bias", [1]))
        }
        r += norm(N.encoderNorm, p + "encoder.lnorm", d)

        r += embedding(N.decoderEmbed, N.decoderProjectIn, p + "decoder", d: d, e: e, vocab: vocab)
        for k in 0..<decoderLayers {
            let o = N.DecoderLayer(k), t = p + "decoder.decoder.layers.\(k)."
            r += selfAttention(qkv: o.selfQKV, out: o.selfOut, t, d: d)
            r += norm(o.norm1, t + "norm1", d)
            // Cross-attention over one memory vector: only the V third of in_proj is used.
            r += [Rule(ours: N.weight(o.crossV), shape: [d, d],
                       sources: [.init(name: t + "multihead_attn.in_proj_weight", shape: [3 * d, d], rows: (2 * d)..<(3 * d))]),
                  Rule(ours: N.bias(o.crossV), shape: [d],
                       sources: [.init(name: t + "multihead_attn.in_proj_bias", shape: [3 * d], rows: (2 * d)..<(3 * d))])]
            r += linear(o.crossOut, t + "multihead_attn.out_proj", out: d, in: d)
            r += norm(o.norm2, t + "norm2", d)
            r += linear(o.up, t + "linear1", out: ffn, in: d)
            r += linear(o.down, t + "linear2", out: d, in: ffn)
            r += norm(o.norm3, t + "norm3", d)
        }
        r += linear(N.decoderLMHead, p + "decoder.linear", out: vocab, in: d)
        return r
    }

    /// One OPT decoder layer (`OPTDecoderLayer`): q, k, v concatenated in that order.
    static func optLayer(_ o: TensorName.OPTLayer, _ t: String, d: Int, ffn: Int) -> [Rule] {
        var r: [Rule] = [
            Rule(ours: N.weight(o.qkv), shape: [3 * d, d], sources: ["q", "k", "v"].map {
                .init(name: t + "self_attn.\($0)_proj.weight", shape: [d, d], rows: nil) }),
            Rule(ours: N.bias(o.qkv), shape: [3 * d], sources: ["q", "k", "v"].map {
                .init(name: t + "self_attn.\($0)_proj.bias", shape: [d], rows: nil) }),
        ]
        r += linear(o.out, t + "self_attn.out_proj", out: d, in: d)
        r += norm(o.attnNorm, t + "self_attn_layer_norm", d)
        r += linear(o.up, t + "fc1", out: ffn, in: d)
        r += linear(o.down, t + "fc2", out: d, in: ffn)
        r += norm(o.ffnNorm, t + "final_layer_norm", d)
        return r
    }

    /// The SLLM's own parts (beside `svae(...)` with prefix "svae.").
    static func sllm(d: Int, positions: Int, layers: Int, ffn: Int) -> [Rule] {
        let stack = N.OPTStack.llm
        var r: [Rule] = [copy(stack.posEmbed, "llm_pe.weight", [positions + 2, d])]
        for k in 0..<layers { r += optLayer(stack.layer(k), "llm_layers.\(k).", d: d, ffn: ffn) }
        r += linear(N.llmStopHead, "fc", out: 2, in: d)
        return r
    }

    /// HF OPT (`q` = "model.decoder." for OPTForCausalLM, "decoder." for OPTModel).
    static func opt(_ q: String, d: Int, e: Int, vocab: Int, positions: Int, layers: Int, ffn: Int, finalNorm: Bool) -> [Rule] {
        let stack = N.OPTStack.opt
        var r: [Rule] = [copy(N.optEmbed, q + "embed_tokens.weight", [vocab, e]),
                         copy(stack.posEmbed, q + "embed_positions.weight", [positions + 2, d])]
        if e != d {
            r.append(copy(N.optProjectIn, q + "project_in.weight", [d, e]))
            r.append(copy(N.optProjectOut, q + "project_out.weight", [e, d]))
        }
        for k in 0..<layers { r += optLayer(stack.layer(k), q + "layers.\(k).", d: d, ffn: ffn) }
        if finalNorm { r += norm(N.optFinalNorm, q + "final_layer_norm", d) }
        return r
    }
}

/// Whether two same-shape tensors hold bit-identical f32 values, compared in chunks of
/// rows so memory stays bounded (an OPT-1.3b embedding is 400 MB in f32).
func sameValues(_ a: SourceTensor, _ b: SourceTensor) throws -> Bool {
    let chunk = Swift.max(1, (1 << 20) / Swift.max(a.rowSize, 1))
    var x = [Float](repeating: 0, count: chunk * a.rowSize)
    var y = x
    var row = 0
    while row < a.rows {
        let r = row..<Swift.min(a.rows, row + chunk)
        let n = r.count * a.rowSize
        try x.withUnsafeMutableBufferPointer { try a.readRowsF32(r, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
        try y.withUnsafeMutableBufferPointer { try b.readRowsF32(r, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
        for i in 0..<n where x[i].bitPattern != y[i].bitPattern { return false }
        row = r.upperBound
    }
    return true
}

/// Builds a `ConversionPlan` from a checkpoint: detects the architecture, infers shapes,
/// merges config sources, applies the mapping table and checks every shape.
package enum ImportPlanner {
    /// Plans the conversion of `checkpoint`. Throws `MappingError` or `ConfigError`.
    package static func plan(_ checkpoint: SourceCheckpoint, options: ImportOptions = ImportOptions()) throws -> ConversionPlan {
        try plan(tensors: checkpoint.tensors, path: checkpoint.path, options: options)
    }

    /// Plans from a bare tensor list (`path` is used in errors).
    package static func plan(tensors list: [SourceTensor], path: String, options: ImportOptions) throws -> ConversionPlan {
        // DistributedDataParallel checkpoints prefix every key with "module.".
        var strip = ""
        if !list.isEmpty, list.allSatisfy({ $0.name.hasPrefix("module.") }) { strip = "module." }
        var byName: [String: SourceTensor] = [:]
        var order: [String] = []
        for t in list {
            let n = String(t.name.dropFirst(strip.count))
            byName[n] = t
            order.append(n)
        }
        var notes: [String] = []
        if !strip.isEmpty { notes.append("stripped the \"module.\" prefix from every key") }

        func has(_ n: String) -> Bool { byName[n] != nil }
        func shape(_ n: String, dims: Int) throws -> [Int] {
            guard let t = byName[n] else { throw MappingError.missingTensor(path: path, tensor: n) }
            guard t.shape.count == dims else {
                throw MappingError.shapeMismatch(path: path, tensor: n, expected: [Int](repeating: -1, count: dims), found: t.shape)
            }
            return t.shape
        }
        func layerCount(_ prefix: String) throws -> Int {
            var ks = Set<Int>()
            for n in order where n.hasPrefix(prefix) {
                let rest = n.dropFirst(prefix.count)
                if let dot = rest.firstIndex(of: "."), let k = Int(rest[..<dot]), k >= 0 { ks.insert(k) }
            }
            let sorted = ks.sorted()
            guard sorted == Array(0..<sorted.count) else {
                throw MappingError.layerNumbering(path: path, prefix: prefix, found: sorted)
            }
            return sorted.count
        }

        // 1. architecture
        let arch: Architecture
        if let a = options.architecture {
            arch = a
        } else if order.contains(where: { $0.hasPrefix("llm_layers.") }) || has("llm_pe.weight") {
            arch = .sllm
        } else if has("model.decoder.embed_tokens.weight") || has("decoder.embed_tokens.weight") {
            arch = .opt
        } else if has("encoder.embed_token.weight") {
            arch = .svae
        } else {
            throw MappingError.unknownArchitecture(path: path, sample: Array(order.prefix(8)))
        }

        // 2. shapes inferred from tensors, recorded as facts with their tensor as source
        var facts = Facts()
        func fact(_ key: MetadataKey, _ v: MetadataValue, _ tensor: String) throws {
            try facts.set(key, v, source: "tensor \(tensor)")
        }
        var rules: [Rule] = []
        var optPrefix = ""
        if arch == .svae || arch == .sllm {
            let p = arch == .sllm ? "svae." : ""
            let emb = try shape(p + "encoder.embed_token.weight", dims: 2)
            let d = try shape(p + "encoder.lnorm.weight", dims: 1)[0]
            let el = try layerCount(p + "encoder.encoder.layers.")
            let dl = try layerCount(p + "decoder.decoder.layers.")
            let ffn = el > 0 ? try shape(p + "encoder.encoder.layers.0.linear1.weight", dims: 2)[0] : 2 * d
            let la = has(p + "encoder.la.weight")
            try fact(.svaeVocabSize, .int(emb[0]), p + "encoder.embed_token.weight")
            try fact(.svaeEmbedDim, .int(emb[1]), p + "encoder.embed_token.weight")
            try fact(.svaeHiddenSize, .int(d), p + "encoder.lnorm.weight")
            try fact(.svaeEncoderLayers, .int(el), p + "encoder.encoder.layers.*")
            try fact(.svaeDecoderLayers, .int(dl), p + "decoder.decoder.layers.*")
            try fact(.svaeFFNSize, .int(ffn), p + "encoder.encoder.layers.0.linear1.weight")
            try fact(.svaeLearnableAdd, .bool(la), p + "encoder.la.weight")
            rules += MappingTable.svae(p, d: d, e: emb[1], vocab: emb[0], ffn: ffn, encoderLayers: el,
                                       decoderLayers: dl, learnableAdd: la)
            notes.append("decoder cross-attention: kept only the V rows [2d, 3d) of multihead_attn.in_proj_weight/bias "
                         + "(one memory vector: softmax weight 1, Q and K unused)")
            if arch == .sllm {
                let pe = try shape("llm_pe.weight", dims: 2)
                guard pe[0] >= 2 else { throw MappingError.shapeMismatch(path: path, tensor: "llm_pe.weight", expected: [2, d], found: pe) }
                let ll = try layerCount("llm_layers.")
                let lffn = ll > 0 ? try shape("llm_layers.0.fc1.weight", dims: 2)[0] : 4 * d
                try fact(.llmHiddenSize, .int(pe[1]), "llm_pe.weight")
                try fact(.llmMaxPositions, .int(pe[0] - 2), "llm_pe.weight")
                try fact(.llmLayers, .int(ll), "llm_layers.*")
                try fact(.llmFFNSize, .int(lffn), "llm_layers.0.fc1.weight")
                rules += MappingTable.sllm(d: d, positions: pe[0] - 2, layers: ll, ffn: lffn)
            }
        } else {
            optPrefix = has("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder."
            let q = optPrefix
            let emb = try shape(q + "embed_tokens.weight", dims: 2)
            let pe = try shape(q + "embed_positions.weight", dims: 2)
            guard pe[0] >= 2 else { throw MappingError.shapeMismatch(path: path, tensor: q + "embed_positions.weight", expected: [2, pe[1]], found: pe) }
            let d = pe[1]
            let ll = try layerCount(q + "layers.")
            let ffn = ll > 0 ? try shape(q + "layers.0.fc1.weight", dims: 2)[0] : 4 * d
            let finalNorm = has(q + "final_layer_norm.weight")
            try fact(.optVocabSize, .int(emb[0]), q + "embed_tokens.weight")
            try fact(.optEmbedDim, .int(emb[1]), q + "embed_tokens.weight")
            try fact(.optHiddenSize, .int(d), q + "embed_positions.weight")
            try fact(.optMaxPositions, .int(pe[0] - 2), q + "embed_positions.weight")
            try fact(.optLayers, .int(ll), q + "layers.*")
            try fact(.optFFNSize, .int(ffn), q + "layers.0.fc1.weight")
            rules += MappingTable.opt(q, d: d, e: emb[1], vocab: emb[0], positions: pe[0] - 2, layers: ll, ffn: ffn, finalNorm: finalNorm)
        }

        // 3. config sources, flags, then defaults
        for c in options.configs { try facts.record(c, arch: arch) }
        if let pa = options.prefillAttention { try facts.set(.llmPrefillAttention, .string(pa), source: "flag prefill_attention") }
        facts.setDefault(.bosID, .int(2))
        facts.setDefault(.eosID, .int(2))
        facts.setDefault(.padID, .int(1))
        switch arch {
        case .svae, .sllm:
            facts.setDefault(.svaeLayerNormEps, .double(1e-5))
            facts.setDefault(.svaeMaxSeqLen, .int(512))  // SentenceVAE.__init__ default
            if arch == .sllm {
                facts.setDefault(.llmNormBefore, .bool(true))  // HF OPTConfig default
                facts.setDefault(.llmPrefillAttention, .string(PrefillAttentionName.bidirectional.rawValue))
            }
        case .opt:
            facts.setDefault(.optNormBefore, .bool(true))
        }
        for (k, v) in facts.values.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where v.source == "default" {
            notes.append("\(k) = \(v.value) (default)")
        }
        let (hyper, metadata) = try facts.hyperparameters(arch)
        if arch == .sllm, let s = hyper.svae, let l = hyper.llm, s.hiddenSize != l.hiddenSize {
            throw ConfigError.conflict(key: MetadataKey.llmHiddenSize.rawValue, firstSource: MetadataKey.svaeHiddenSize.rawValue,
                                       firstValue: "\(s.hiddenSize)",
                                       secondSource: MetadataKey.llmHiddenSize.rawValue, secondValue: "\(l.hiddenSize)")
        }

        // 4. apply the table: resolve, check shapes and dtypes, collect leftovers
        var used = Set<String>()
        var out: [MappedTensor] = []
        for rule in rules {
            var parts: [TensorPart] = []
            for s in rule.sources {
                guard let t = byName[s.name] else { throw MappingError.missingTensor(path: path, tensor: s.name) }
                guard t.shape == s.shape else {
                    throw MappingError.shapeMismatch(path: path, tensor: s.name, expected: s.shape, found: t.shape)
                }
                guard t.dtype.isFloatingPoint else {
                    throw MappingError.unsupportedDType(path: path, tensor: s.name, dtype: t.dtype.rawValue)
                }
                used.insert(s.name)
                parts.append(TensorPart(source: t, rows: s.rows ?? 0..<t.rows))
            }
            out.append(MappedTensor(name: rule.ours, shape: rule.shape, parts: parts))
        }
        if arch == .opt, let head = byName["lm_head.weight"], let emb = byName[optPrefix + "embed_tokens.weight"] {
            used.insert("lm_head.weight")
            guard head.shape == emb.shape else {
                throw MappingError.shapeMismatch(path: path, tensor: "lm_head.weight", expected: emb.shape, found: head.shape)
            }
            let headTensor = MappedTensor(name: N.weight(N.optLMHead), shape: head.shape, parts: [TensorPart(source: head, rows: 0..<head.rows)])
            if try sameValues(emb, head) {
                notes.append("lm_head.weight is identical to the embedding (tied): dropped")
            } else {
                out.append(headTensor)
                notes.append("lm_head.weight differs from the embedding: kept as \(N.weight(N.optLMHead))")
            }
        }
        let leftovers = order.filter { !used.contains($0) }
        guard leftovers.isEmpty else {
            throw MappingError.unexpectedTensors(path: path, tensors: Array(leftovers.prefix(20)))
        }
        return ConversionPlan(sourcePath: path, hyperparameters: hyper, metadata: metadata, tensors: out, notes: notes)
    }
}
