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

    static func vocabKey(_ m: Metadata) -> String { m.string("general.architecture") == "opt" ? "opt.vocab_size" : "svae.vocab_size" }

    static func u32(_ m: Metadata, _ key: String, min lo: Int = 1, max hi: Int = 1 << 24) throws(FormatProblem) -> Int {
        guard let v = m[key] else { throw .missingMetadata(key: key) }
        guard let i = v.intValue else { throw .wrongMetadataType(key: key, expected: "u32", found: v.type.description) }
        guard i >= lo, i <= hi else { throw .hyperparameter(key: key, expected: "\(lo)–\(hi)", found: "\(i)") }
        return i
    }

    static func flag(_ m: Metadata, _ key: String) throws(FormatProblem) -> Bool {
        guard let v = m[key] else { throw .missingMetadata(key: key) }
        guard let b = v.boolValue else { throw .wrongMetadataType(key: key, expected: "bool", found: v.type.description) }
        return b
    }

    static func positiveEps(_ m: Metadata, _ key: String) throws(FormatProblem) {
        guard let v = m[key] else { return }
        guard let f = v.floatValue, f > 0, f < 1 else { throw .hyperparameter(key: key, expected: "a number in (0, 1)", found: v.description) }
    }

    /// The tensors a file with this metadata must hold, in the writer's canonical order.
    public static func expectedTensors(metadata m: Metadata) throws(FormatProblem) -> [Expected] {
        guard let arch = m["general.architecture"] else { throw .missingMetadata(key: "general.architecture") }
        guard let a = arch.stringValue else { throw .wrongMetadataType(key: "general.architecture", expected: "string", found: arch.type.description) }
        switch a {
        case "svae": return try svaeTensors(m)
        case "sllm": return try svaeTensors(m) + (try llmTensors(m))
        case "opt": return try optTensors(m)
        default: throw .wrongMetadataType(key: "general.architecture", expected: "svae, sllm or opt", found: quoted(a))
        }
    }

    /// Tensors a file may hold in addition: an untied OPT LM head.
    public static func optionalTensors(metadata m: Metadata) throws(FormatProblem) -> [Expected] {
        guard m.string("general.architecture") == "opt" else { return [] }
        let d = try u32(m, "opt.hidden_size")
        let e = m["opt.embed_dim"] == nil ? d : try u32(m, "opt.embed_dim")
        return [Expected(name: "opt.lm_head.weight", shape: [try u32(m, "opt.vocab_size"), e], mustBeF32: false)]
    }

    static func heads(_ m: Metadata, _ prefix: String, hidden d: Int) throws(FormatProblem) {
        let h = try u32(m, prefix + ".num_heads", max: 4096)
        guard d % h == 0 else {
            throw .hyperparameter(key: prefix + ".num_heads", expected: "a divisor of \(prefix).hidden_size = \(d)", found: "\(h)")
        }
    }

    static func tokenIDs(_ m: Metadata, vocab: Int) throws(FormatProblem) {
        for k in ["tokens.bos_id", "tokens.eos_id", "tokens.pad_id"] {
            guard let v = m[k] else { throw .missingMetadata(key: k) }
            guard let i = v.intValue, i >= 0, i < vocab else {
                throw .hyperparameter(key: k, expected: "an id in 0..<\(vocab)", found: v.description)
            }
        }
        if let v = m["tokens.unk_id"], let i = v.intValue, i < -1 || i >= vocab {
            throw .hyperparameter(key: "tokens.unk_id", expected: "-1 or an id in 0..<\(vocab)", found: v.description)
        }
    }

    /// A bias-free projection is stored under its bare name (`encoder.project_in`, §8).
    private static func projection(_ n: String, _ out: Int, _ inp: Int) -> [Expected] {
        [Expected(name: n, shape: [out, inp], mustBeF32: false)]
    }

    private static func linear(_ n: String, _ out: Int, _ inp: Int, bias: Bool = true) -> [Expected] {
        [Expected(name: n + ".weight", shape: [out, inp], mustBeF32: false)]
            + (bias ? [Expected(name: n + ".bias", shape: [out], mustBeF32: true)] : [])
    }

    private static func norm(_ n: String, _ d: Int) -> [Expected] {
        [Expected(name: n + ".weight", shape: [d], mustBeF32: true), Expected(name: n + ".bias", shape: [d], mustBeF32: true)]
    }

    static func svaeTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        let d = try u32(m, "svae.hidden_size")
        let e = m["svae.embed_dim"] == nil ? d : try u32(m, "svae.embed_dim")
        try heads(m, "svae", hidden: d)
        let f = try u32(m, "svae.ffn_size")
        let encL = try u32(m, "svae.encoder_layers", max: 256)
        let decL = try u32(m, "svae.decoder_layers", max: 256)
        let v = try u32(m, "svae.vocab_size")
        _ = try u32(m, "svae.max_seq_len", min: 2, max: 1 << 16)
        let la = try flag(m, "svae.learnable_add")
        try positiveEps(m, "svae.layer_norm_eps")
        try tokenIDs(m, vocab: v)

        var out: [Expected] = []
        out.append(Expected(name: "encoder.embed", shape: [v, e], mustBeF32: false))
        if e != d { out += projection("encoder.project_in", d, e) }
        for k in 0..<encL {
            let p = "encoder.layers.\(k)."
            out += linear(p + "attn_qkv", 3 * d, d) + linear(p + "attn_out", d, d) + norm(p + "norm1", d)
            out += linear(p + "ffn_up", f, d) + linear(p + "ffn_down", d, f) + norm(p + "norm2", d)
        }
        if la {
            out.append(Expected(name: "encoder.pool.weight", shape: [d], mustBeF32: true))
            out.append(Expected(name: "encoder.pool.bias", shape: [1], mustBeF32: true))
        }
        out += norm("encoder.norm", d)
        out.append(Expected(name: "decoder.embed", shape: [v, e], mustBeF32: false))
        if e != d { out += projection("decoder.project_in", d, e) }
        for k in 0..<decL {
            let p = "decoder.layers.\(k)."
            out += linear(p + "self_qkv", 3 * d, d) + linear(p + "self_out", d, d) + norm(p + "norm1", d)
            out += linear(p + "cross_v", d, d) + linear(p + "cross_out", d, d) + norm(p + "norm2", d)
            out += linear(p + "ffn_up", f, d) + linear(p + "ffn_down", d, f) + norm(p + "norm3", d)
        }
        out += linear("decoder.lm_head", v, d)
        return out
    }

    private static func optLayers(_ prefix: String, count: Int, d: Int, f: Int) -> [Expected] {
        var out: [Expected] = []
        for k in 0..<count {
            let p = "\(prefix).layers.\(k)."
            out += linear(p + "attn_qkv", 3 * d, d) + linear(p + "attn_out", d, d) + norm(p + "attn_norm", d)
            out += linear(p + "ffn_up", f, d) + linear(p + "ffn_down", d, f) + norm(p + "ffn_norm", d)
        }
        return out
    }

    static func llmTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        let d = try u32(m, "llm.hidden_size")
        let sd = try u32(m, "svae.hidden_size")
        guard d == sd else { throw .hyperparameter(key: "llm.hidden_size", expected: "svae.hidden_size = \(sd)", found: "\(d)") }
        try heads(m, "llm", hidden: d)
        let f = try u32(m, "llm.ffn_size")
        let layers = try u32(m, "llm.layers", max: 1024)
        let p = try u32(m, "llm.max_positions")
        _ = try flag(m, "llm.norm_before")
        guard let pa = m["llm.prefill_attention"] else { throw .missingMetadata(key: "llm.prefill_attention") }
        guard let mode = pa.stringValue else { throw .wrongMetadataType(key: "llm.prefill_attention", expected: "string", found: pa.type.description) }
        guard mode == "bidirectional" || mode == "causal" else {
            throw .hyperparameter(key: "llm.prefill_attention", expected: "bidirectional or causal", found: quoted(mode))
        }
        if m["llm.max_sentences"] != nil { _ = try u32(m, "llm.max_sentences", max: 1 << 20) }
        try positiveEps(m, "llm.layer_norm_eps")
        return [Expected(name: "llm.pos_embed", shape: [p + 2, d], mustBeF32: false)]
            + optLayers("llm", count: layers, d: d, f: f) + linear("llm.stop_head", 2, d)
    }

    static func optTensors(_ m: Metadata) throws(FormatProblem) -> [Expected] {
        let d = try u32(m, "opt.hidden_size")
        let e = m["opt.embed_dim"] == nil ? d : try u32(m, "opt.embed_dim")
        try heads(m, "opt", hidden: d)
        let f = try u32(m, "opt.ffn_size")
        let layers = try u32(m, "opt.layers", max: 1024)
        let v = try u32(m, "opt.vocab_size")
        let p = try u32(m, "opt.max_positions")
        let before = try flag(m, "opt.norm_before")
        try positiveEps(m, "opt.layer_norm_eps")
        try tokenIDs(m, vocab: v)
        var out = [Expected(name: "opt.embed", shape: [v, e], mustBeF32: false),
                   Expected(name: "opt.pos_embed", shape: [p + 2, d], mustBeF32: false)]
        if e != d { out += projection("opt.project_in", d, e) + projection("opt.project_out", e, d) }
        out += optLayers("opt", count: layers, d: d, f: f)
        if before { out += norm("opt.final_norm", d) }
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
        let linear = e.shape.count == 2 && (e.name.hasPrefix("encoder.") || e.name.hasPrefix("decoder.")) && !e.name.hasSuffix(".embed")
        return linear && e.shape[1] % ElementType.i8r.blockElements == 0 ? .i8r : .q8_0
    }
}
