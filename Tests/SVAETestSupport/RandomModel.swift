// Shared test support: a small random-weight model for the API tests (Swift and C).
import Foundation
import SVAEFormat

/// GPT-2's byte-to-unicode table (every byte is one printable character).
public func byteLevelTokens() -> [String] {
    var bs = Array(33...126) + Array(161...172) + Array(174...255)
    var cs = bs
    var n = 0
    for b in 0..<256 where !bs.contains(b) {
        bs.append(b)
        cs.append(256 + n)
        n += 1
    }
    var table = [String](repeating: "", count: 256)
    for (b, c) in zip(bs, cs) { table[b] = String(UnicodeScalar(UInt32(c))!) }
    return table
}

/// The sentence the echo model (`makeRandomModel(echo: true)`) reconstructs exactly, and its
/// tokens in the random model's byte-level table ("the" is one merged token, "Ġ" is the space).
public let echoSentence = (text: "the end", tokens: ["the", "Ġ", "e", "n", "d"])

/// A small random-weight SentenceVAE with a byte-level tokenizer (4 specials + 256 bytes + 2
/// merges), written with the format layer. Tests the API plumbing, not quality.
///
/// With `echo`, the decoder is rewritten so that greedy decoding of any sentence vector gives
/// `echoSentence` then EOS (so `reconstruct(echoSentence.text)` is exact): every decoder
/// sublayer's output projection is zero, so the state is the layer-normed token embedding plus
/// position; token k of the chain BOS, "the", "Ġ", "e", "n", "d" embeds as 100 on axis k, and the
/// LM head maps axis k to the next token of the chain (the last to EOS).
///
/// `tokenizer` replaces the byte-level table (then `vocab` must be at least its token count).
public func makeRandomModel(withTokenizer: Bool = true, architecture: String = "svae", echo: Bool = false,
                            tokenizer: TokenizerData? = nil, vocab: Int = 288) throws -> String {
    let specials = ["<s>", "<pad>", "</s>", "<unk>"]
    var tokens = specials + byteLevelTokens()
    tokens += ["th", "the"]
    let id = { (s: String) in UInt32(tokens.firstIndex(of: s)!) }
    let chain = [2] + echoSentence.tokens.map { Int(id($0)) }  // BOS first; EOS (also 2) follows the last
    let tok = TokenizerData(tokens: tokens, merges: [.init(id("t"), id("h")), .init(id("th"), id("e"))],
                            specials: specials.enumerated().map { .init(id: UInt32($0.offset), text: $0.element) })
    var m = Metadata()
    m["general.architecture"] = .string(architecture)
    if architecture == "opt" {
        for (k, v) in [("hidden_size", 32), ("embed_dim", 32), ("num_heads", 2), ("ffn_size", 64), ("layers", 2),
                       ("vocab_size", vocab), ("max_positions", 64)] {
            m["opt." + k] = .u32(UInt32(v))
        }
        m["opt.norm_before"] = .bool(true)
    } else {
        for (k, v) in [("hidden_size", 32), ("embed_dim", 32), ("num_heads", 2), ("ffn_size", 64), ("encoder_layers", 1),
                       ("decoder_layers", 1), ("vocab_size", vocab), ("max_seq_len", 24)] {
            m["svae." + k] = .u32(UInt32(v))
        }
        m["svae.learnable_add"] = .bool(true)
    }
    if architecture == "sllm" {
        for (k, v) in [("hidden_size", 32), ("num_heads", 4), ("ffn_size", 64), ("layers", 2), ("max_positions", 16)] {
            m["llm." + k] = .u32(UInt32(v))
        }
        m["llm.norm_before"] = .bool(true)
        m["llm.prefill_attention"] = .string("causal")
    }
    m["tokens.bos_id"] = .i32(2); m["tokens.eos_id"] = .i32(2); m["tokens.pad_id"] = .i32(1)
    m["tokens.add_bos"] = .bool(true)
    let plans = try ModelSchema.expectedTensors(metadata: m).map { TensorPlan(name: $0.name, type: .f32, shape: $0.shape) }
    let dir = NSTemporaryDirectory() + "svae-api-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/random.svae"
    let w = try SVAEWriter(path: path, metadata: m, tokenizer: withTokenizer ? tokenizer ?? tok : nil, tensors: plans)
    var state: UInt64 = 12345
    for p in plans {
        let n = p.shape.reduce(1, *)
        let scale: Float = p.name.hasSuffix("norm.weight") || p.name.hasSuffix("_norm.weight") || p.name.contains("norm1.weight") || p.name.contains("norm2.weight")
            || p.name.contains("norm3.weight") ? 0 : 1 / Float(p.shape.last!).squareRoot()
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(state >> 40) / Float(1 << 24) - 0.5
            values[i] = scale == 0 ? 1 + 0.1 * u : 2 * u * scale * 1.7
        }
        if echo && p.name.hasPrefix("decoder.") {
            let cols = p.shape.count == 2 ? p.shape[1] : 1
            if p.name == "decoder.embed" || p.name == "decoder.lm_head.weight" {
                values = [Float](repeating: 0, count: n)
                for (k, token) in chain.enumerated() {
                    if p.name == "decoder.embed" { values[token * cols + k] = 100 }
                    else { values[(k + 1 < chain.count ? chain[k + 1] : 2) * cols + k] = 10 }
                }
            } else if p.name == "decoder.lm_head.bias" || ["self_out.", "cross_out.", "ffn_down.", "norm1.bias", "norm2.bias", "norm3.bias"]
                .contains(where: { p.name.contains($0) }) {
                values = [Float](repeating: 0, count: n)
            } else if p.name.hasSuffix("norm1.weight") || p.name.hasSuffix("norm2.weight") || p.name.hasSuffix("norm3.weight") {
                values = [Float](repeating: 1, count: n)
            }
        }
        try w.append(values.withUnsafeBytes { Array($0) })
    }
    try w.finish()
    return path
}
