import Foundation
import SVAE
import SVAEFormat
import Testing

/// GPT-2's byte-to-unicode table (every byte is one printable character).
func byteLevelTokens() -> [String] {
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

/// A small random-weight SentenceVAE with a byte-level tokenizer (4 specials + 256 bytes + 2
/// merges), written with the format layer. Tests the API plumbing, not quality.
func makeRandomModel(withTokenizer: Bool = true, architecture: String = "svae") throws -> String {
    let specials = ["<s>", "<pad>", "</s>", "<unk>"]
    var tokens = specials + byteLevelTokens()
    tokens += ["th", "the"]
    let id = { (s: String) in UInt32(tokens.firstIndex(of: s)!) }
    let tok = TokenizerData(tokens: tokens, merges: [.init(id("t"), id("h")), .init(id("th"), id("e"))],
                            specials: specials.enumerated().map { .init(id: UInt32($0.offset), text: $0.element) })
    var m = Metadata()
    m["general.architecture"] = .string(architecture)
    if architecture == "opt" {
        for (k, v) in [("hidden_size", 32), ("embed_dim", 32), ("num_heads", 2), ("ffn_size", 64), ("layers", 2),
                       ("vocab_size", 288), ("max_positions", 64)] {
            m["opt." + k] = .u32(UInt32(v))
        }
        m["opt.norm_before"] = .bool(true)
    } else {
        for (k, v) in [("hidden_size", 32), ("embed_dim", 32), ("num_heads", 2), ("ffn_size", 64), ("encoder_layers", 1),
                       ("decoder_layers", 1), ("vocab_size", 288), ("max_seq_len", 24)] {
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
    let w = try SVAEWriter(path: path, metadata: m, tokenizer: withTokenizer ? tok : nil, tensors: plans)
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
        try w.append(values.withUnsafeBytes { Array($0) })
    }
    try w.finish()
    return path
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

@Suite struct APITests {
    @Test func tokenizeRoundTripsAndAddsBOS() throws {
        let model = try Model(path: try makeRandomModel())
        let ids = try model.tokenize("the cat")
        #expect(ids.first == 2)
        #expect(ids.count == 1 + 1 + 4, "BOS, 'the' (merged), ' ', 'c', 'a', 't' → 'the' is one token")
        #expect(try model.detokenize(ids) == "the cat")
    }

    @Test func encodeDecodeReconstruct() throws {
        let model = try Model(path: try makeRandomModel())
        let texts = ["Hello there.", "the end", "x"]
        let vectors = try model.encode(texts)
        #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isFinite) })
        // The same text gives the same vector alone or in a batch (up to the summation order of
        // the matrix products, which depends on the batch size).
        #expect(maxAbsDiff(try model.encode(["the end"])[0], vectors[1]) <= 1e-5)
        let ids = try model.decode(vectors[0])
        #expect(!ids.isEmpty && ids.count <= 23)
        #expect(try model.decode(vectors[0]) == ids)
        var streamed: [Int32] = []
        let again = try model.decode(vectors[0], onToken: { streamed.append($0); return true })
        #expect(streamed == again)
        let r = try model.reconstruct("the end")
        #expect(r.ids == (try model.tokenize("the end")))
        #expect(maxAbsDiff(r.vector, vectors[1]) <= 1e-5)
        #expect(r.outputIDs == (try model.decode(vectors[1])))
        #expect(r.exact == (r.outputIDs == Array(r.ids.dropFirst()) + [2]))
    }

    @Test func sessionsOnSeveralThreadsAgree() async throws {
        let model = try Model(path: try makeRandomModel())
        let reference = try model.encode(["a b c", "the the the"])
        try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let s = try model.makeSession(threads: 1)
                    return try s.encode(["a b c", "the the the"])
                }
            }
            for try await v in group {
                #expect(maxAbsDiff(v[0], reference[0]) <= 1e-5 && maxAbsDiff(v[1], reference[1]) <= 1e-5)
            }
        }
    }

    @Test func modelWithoutTokenizerTakesIDs() throws {
        let model = try Model(path: try makeRandomModel(withTokenizer: false))
        #expect(model.tokenizer == nil)
        #expect(throws: SVAEError.self) { try model.encode(["text"]) }
        let v = try model.encode(ids: [[2, 70, 71]])
        #expect(v[0].count == 32)
    }

    @Test func badFilesAreErrorsNotCrashes() throws {
        let path = NSTemporaryDirectory() + "svae-api-bad-\(UUID().uuidString).svae"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SVAEError.self) { try Model(path: path) }
        #expect(throws: SVAEError.self) { try Model(path: path + ".missing") }
    }
}
