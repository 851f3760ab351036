/// Model-level rules (formats/svae.md §5.1, §8): required keys with sane values, and exactly the
/// tensors an architecture needs with the shapes its hyperparameters imply. No math, only names,
/// shapes and numbers, so the format layer can reject an inconsistent file before any model code
/// touches it.
public enum ModelSchema {
    /// An expected tensor: its name, shape, and whether quantized element types are allowed.
    public struct Expected: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        /// Norms, biases and other vectors must stay f32 (the kernels read them as f32).
        public var mustBeF32: Bool
    }

    public static func validate(metadata m: Metadata, tensors: [TensorInfo], tokenizer: TokenizerData?) throws(FormatProblem) {
        let expected = try expectedTensors(metadata: m)
        let optional = try optionalTensors(metadata: m)
        var byName = [String: TensorInfo]()
        for t in tensors { byName[t.name] = t }
        let wanted = Set((expected + optional).map(\.name))
        for t in tensors where !wanted.contains(t.name) { throw .unexpectedTensor(name: t.name) }
        for e in expected + optional {
            guard let t = byName[e.name] else {
                if optional.contains(e) { continue }
                throw .missingTensor(name: e.name)
            }
            guard t.shape == e.shape else { throw .tensorShape(tensor: e.name, expected: e.shape, found: t.shape) }
            if e.mustBeF32 && t.type != .f32 { throw .tensorType(tensor: e.name, expected: "f32", found: t.type.description) }
        }
        if let tok = tokenizer {
            let vocab = try u32(m, vocabKey(m))
            guard tok.tokens.count <= vocab else {
                throw .hyperparameter(key: "tokenizer token count", expected: "≤ \(vocabKey(m)) = \(vocab)", found: "\(tok.tokens.count)")
            }
        }
    }

    static func vocabKey(_ m: Metadata) -> MetadataKey {
        m.string(.architecture) == ArchitectureName.opt.rawValue ? .optVocabSize : .svaeVocabSize
    }

    static func u32(_ m: Metadata, _ key: MetadataKey, min lo: Int = 1, max hi: Int = 1 << 24) throws(FormatProblem) -> Int {
        guard let v = m[key] else { throw .missingMetadata(key: key.rawValue) }
        guard let i = v.intValue else { throw .wrongMetadataType(key: key.rawValue, expected: "u32", found: v.type.description) }
        guard i >= lo, i <= hi else { throw .hyperparameter(key: key.rawValue, expected: "\(lo)–\(hi)", found: "\(i)") }
        return i
    }

    static func flag(_ m: Metadata, _ key: MetadataKey) throws(FormatProblem) -> Bool {
        guard let v = m[key] else { throw .missingMetadata(key: key.rawValue) }
        guard let b = v.boolValue else { throw .wrongMetadataType(key: key.rawValue, expected: "bool", found: v.type.description) }
        return b
    }

    static func positiveEps(_ m: Metadata, _ key: MetadataKey) throws(FormatProblem) {
        guard let v = m[key] else { return }
        guard let f = v.floatValue, f > 0, f < 1 else { throw .hyperparameter(key: key.rawValue, expected: "a number in (0, 1)", found: v.description) }
    }

    /// The tensors a file with this metadata must hold, in the writer's canonical order.
    public static func expectedTensors(metadata m: Metadata) throws(FormatProblem) -> [Expected] {
        let key = MetadataKey.architecture
        guard let arch = m[key] else { throw .missingMetadata(key: key.rawValue) }
        guard let a = arch.stringValue else { throw .wrongMetadataType(key: key.rawValue, expected: "string", found: arch.type.description) }
        switch ArchitectureName(rawValue: a) {
        case .svae: return try svaeTensors(m)
        case .sllm: return try svaeTensors(m) + (try llmTensors(m))
        case .opt: return try optTensors(m)
        case nil: throw .wrongMetadataType(key: key.rawValue, expected: "svae, sllm or opt", found: quoted(a))
        }
    }

    /// Tensors a file may hold in addition: an untied OPT LM head.
    public static func optionalTensors(metadata m: Metadata) throws(FormatProblem) -> [Expected] {
        guard m.string(.architecture) == ArchitectureName.opt.rawValue else { return [] }
        let d = try u32(m, .optHiddenSize)
        let e = m[.optEmbedDim] == nil ? d : try u32(m, .optEmbedDim)
        return [Expected(name: TensorName.weight(TensorName.optLMHead), shape: [try u32(m, .optVocabSize), e], mustBeF32: false)]
    }

    static func heads(_ m: Metadata, _ key: MetadataKey, hidden d: Int, _ hiddenKey: MetadataKey) throws(FormatProblem) {
        let h = try u32(m, key, max: 4096)
        guard d % h == 0 else {
            throw .hyperparameter(key: key.rawValue, expected: "a divisor of \(hiddenKey) = \(d)", found: "\(h)")
        }
    }

    static func tokenIDs(_ m: Metadata, vocab: Int) throws(FormatProblem) {
        for k in [MetadataKey.bosID, .eosID, .padID] {
            guard let v = m[k] else { throw .missingMetadata(key: k.rawValue) }
            guard let i = v.intValue, i >= 0, i < vocab else {
                throw .hyperparameter(key: k.rawValue, expected: "an id in 0..<\(vocab)", found: v.description)
            }
        }
        if let v = m[.unkID], let i = v.intValue, i < -1 || i >= vocab {
            throw .hyperparameter(key: MetadataKey.unkID.rawValue, expected: "-1 or an id in 0..<\(vocab)", found: v.description)
        }
    }

    /// A bias-free projection is stored under its bare name (`TensorName.encoderProjectIn`, §8).
    private static func projection(_ n: String, _ out: Int, _ inp: Int) -> [Expected] {
        [Expected(name: n, shape: [out, inp], mustBeF32: false)]
    }

    private static func linear(_ n: String, _ out: Int, _ inp: Int, bias: Bool = true) -> [Expected] {
        [Expected(name: TensorName.weight(n), shape: [out, inp], mustBeF32: false)]
            + (bias ? [Expected(name: TensorName.bias(n), shape: [out], mustBeF32: true)] : [])
    }

    private static func norm(_ n: String, _ d: Int) -> [Expected] {
        [Expected(name: TensorName.weight(n), shape: [d], mustBeF32: true), Expected(name: TensorName.bias(n), shape: [d], mustBeF32: true)]
    }

    static func svaeTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        typealias N = TensorName
        let d = try u32(m, .svaeHiddenSize)
        let e = m[.svaeEmbedDim] == nil ? d : try u32(m, .svaeEmbedDim)
        try heads(m, .svaeNumHeads, hidden: d, .svaeHiddenSize)
        let f = try u32(m, .svaeFFNSize)
        let encL = try u32(m, .svaeEncoderLayers, max: 256)
        let decL = try u32(m, .svaeDecoderLayers, max: 256)
        let v = try u32(m, .svaeVocabSize)
        _ = try u32(m, .svaeMaxSeqLen, min: 2, max: 1 << 16)
        let la = try flag(m, .svaeLearnableAdd)
        try positiveEps(m, .svaeLayerNormEps)
        try tokenIDs(m, vocab: v)

        var out: [Expected] = []
        out.append(Expected(name: N.encoderEmbed, shape: [v, e], mustBeF32: false))
        if e != d { out += projection(N.encoderProjectIn, d, e) }
        for k in 0..<encL {
            let l = N.EncoderLayer(k)
            out += linear(l.qkv, 3 * d, d) + linear(l.out, d, d) + norm(l.norm1, d)
            out += linear(l.up, f, d) + linear(l.down, d, f) + norm(l.norm2, d)
        }
        if la {
            out.append(Expected(name: N.weight(N.encoderPool), shape: [d], mustBeF32: true))
            out.append(Expected(name: N.bias(N.encoderPool), shape: [1], mustBeF32: true))
        }
        out += norm(N.encoderNorm, d)
        out.append(Expected(name: N.decoderEmbed, shape: [v, e], mustBeF32: false))
        if e != d { out += projection(N.decoderProjectIn, d, e) }
        for k in 0..<decL {
            let l = N.DecoderLayer(k)
            out += linear(l.selfQKV, 3 * d, d) + linear(l.selfOut, d, d) + norm(l.norm1, d)
            out += linear(l.crossV, d, d) + linear(l.crossOut, d, d) + norm(l.norm2, d)
            out += linear(l.up, f, d) + linear(l.down, d, f) + norm(l.norm3, d)
        }
        out += linear(N.decoderLMHead, v, d)
        return out
    }

    private static func optLayers(_ stack: TensorName.OPTStack, count: Int, d: Int, f: Int) -> [Expected] {
        var out: [Expected] = []
        for k in 0..<count {
            let l = stack.layer(k)
            out += linear(l.qkv, 3 * d, d) + linear(l.out, d, d) + norm(l.attnNorm, d)
            out += linear(l.up, f, d) + linear(l.down, d, f) + norm(l.ffnNorm, d)
        }
        return out
    }

    static func llmTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        let d = try u32(m, .llmHiddenSize)
        let sd = try u32(m, .svaeHiddenSize)
        guard d == sd else { throw .hyperparameter(key: MetadataKey.llmHiddenSize.rawValue, expected: "\(MetadataKey.svaeHiddenSize) = \(sd)", found: "\(d)") }
        try heads(m, .llmNumHeads, hidden: d, .llmHiddenSize)
        let f = try u32(m, .llmFFNSize)
        let layers = try u32(m, .llmLayers, max: 1024)
        let p = try u32(m, .llmMaxPositions)
        _ = try flag(m, .llmNormBefore)
        let key = MetadataKey.llmPrefillAttention
        guard let pa = m[key] else { throw .missingMetadata(key: key.rawValue) }
        guard let mode = pa.stringValue else { throw .wrongMetadataType(key: key.rawValue, expected: "string", found: pa.type.description) }
        guard PrefillAttentionName(rawValue: mode) != nil else {
            throw .hyperparameter(key: key.rawValue, expected: "bidirectional or causal", found: quoted(mode))
        }
        if m[.llmMaxSentences] != nil { _ = try u32(m, .llmMaxSentences, max: 1 << 20) }
        try positiveEps(m, .llmLayerNormEps)
        return [Expected(name: TensorName.OPTStack.llm.posEmbed, shape: [p + 2, d], mustBeF32: false)]
            + optLayers(.llm, count: layers, d: d, f: f) + linear(TensorName.llmStopHead, 2, d)
    }

    static func optTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        typealias N = TensorName
        let d = try u32(m, .optHiddenSize)
        let e = m[.optEmbedDim] == nil ? d : try u32(m, .optEmbedDim)
        try heads(m, .optNumHeads, hidden: d, .optHiddenSize)
        let f = try u32(m, .optFFNSize)
        let layers = try u32(m, .optLayers, max: 1024)
        let v = try u32(m, .optVocabSize)
        let p = try u32(m, .optMaxPositions)
        let before = try flag(m, .optNormBefore)
        try positiveEps(m, .optLayerNormEps)
        try tokenIDs(m, vocab: v)
        var out = [Expected(name: N.optEmbed, shape: [v, e], mustBeF32: false),
                   Expected(name: N.OPTStack.opt.posEmbed, shape: [p + 2, d], mustBeF32: false)]
        if e != d { out += projection(N.optProjectIn, d, e) + projection(N.optProjectOut, e, d) }
        out += optLayers(.opt, count: layers, d: d, f: f)
        if before { out += norm(N.optFinalNorm, d) }
        return out
    }
}

extension ModelSchema {
    /// svae-convert's q8 choice (`--quant q8_0`, no `--tensor-type` rule) for an expected tensor
    /// (formats/quantization.md §9.4): f32 where the schema requires it; `i8r` for the sentence
    /// VAE's linear weights (`encoder.*` and `decoder.*` 2-D tensors but the two embedding tables,
    /// `decoder.lm_head.weight` included) whose rows are a multiple of 4 long; q8_0 for the other
    /// 2-D weights (embedding tables, the SLLM's and OPT's matrices).
    public static func q8Choice(_ e: Expected) -> ElementType {
        if e.mustBeF32 { return .f32 }
        let linear = e.shape.count == 2 && (TensorName.isEncoder(e.name) || e.name.hasPrefix("decoder."))
            && e.name != TensorName.encoderEmbed && e.name != TensorName.decoderEmbed
        return linear && e.shape[1] % ElementType.i8r.blockElements == 0 ? .i8r : .q8_0
    }
}
