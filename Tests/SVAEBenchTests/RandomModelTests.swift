import Foundation
import Testing

import SVAEFormat
import SVAEModel
@testable import svae_bench

/// The released SLLM shapes and their OPTs (`svae-bench generate`), and the streaming random-model
/// writer: valid files that load, checked against ModelSchema, deterministic for a seed, cached.
@Suite struct RandomModelTests {
    /// The paper's "Total Params" column (README of BestAnHongjun/SentenceVAE) for every released
    /// SLLM: our shapes (hidden, heads, embedding width, layers, FFN) must give the same counts.
    @Test func releasedShapesHaveThePapersParameterCounts() throws {
        let paper: [(String, Double)] = [("sllm-125m-h1", 214e6), ("sllm-125m-h2", 226e6), ("sllm-125m-h4", 250e6),
                                         ("sllm-350m-h1", 429e6), ("sllm-350m-h2", 450e6), ("sllm-350m-h4", 492e6),
                                         ("sllm-1.3b-h1", 1.61e9), ("sllm-1.3b-h2", 1.69e9)]
        #expect(SLLMShape.all.map(\.name) == paper.map(\.0))
        for (name, total) in paper {
            let p = Double(try #require(SLLMShape.named(name)).referenceParameters)
            let unit = total >= 1e9 ? 1e7 : 1e6  // the README rounds to 3 significant digits
            #expect((p / unit).rounded() == (total / unit).rounded(), "\(name): \(p) parameters, the paper says \(total)")
        }
        #expect(SLLMShape.named("sllm-2.7b-h2") == nil)
    }

    /// Every shape's file plan is what ModelSchema expects, holds the reference's parameters less
    /// the cross-attention Q/K the format leaves out, and has the structure of its OPT.
    @Test func everyShapeMatchesModelSchema() throws {
        for s in SLLMShape.all {
            let plan = try randomModelPlan(metadata: s.metadata, type: .i8r)
            let expected = try ModelSchema.expectedTensors(metadata: s.metadata)
            #expect(plan.map(\.name) == expected.map(\.name) && plan.map(\.shape) == expected.map(\.shape))
            let d = s.opt.hidden
            let stored = plan.reduce(0) { $0 + $1.shape.reduce(1, *) }
            #expect(stored == s.referenceParameters - s.svaeLayers * (2 * d * d + 2 * d), "\(s.name)")
            let byName = Dictionary(uniqueKeysWithValues: plan.map { ($0.name, $0) })
            #expect(byName["llm.layers.\(s.opt.layers - 1).ffn_up.weight"]?.shape == [s.opt.ffn, d])
            #expect(byName["llm.layers.\(s.opt.layers).ffn_up.weight"] == nil)
            #expect(byName["encoder.layers.\(s.svaeLayers - 1).attn_qkv.weight"]?.shape == [3 * d, d])
            #expect(s.metadata.bool("llm.norm_before") == (s.opt.name != "opt-350m"))
            if s.opt.name == "opt-350m" {
                #expect(byName["encoder.embed"]?.shape == [50272, 512] && byName["encoder.project_in"]?.shape == [1024, 512])
            } else {
                #expect(byName["encoder.project_in"] == nil)
            }
            // q8 choice: the encoder's linear weights i8r, the other 2-D weights q8_0, vectors f32.
            for p in plan {
                let want: SVAEFormat.ElementType = p.shape.count == 1 ? .f32
                    : p.name.hasPrefix("encoder.") && p.name != "encoder.embed" ? .i8r : .q8_0
                #expect(p.type == want, "\(s.name) \(p.name) \(p.type)")
            }
        }
        for o in OPTShape.all {
            let plan = try randomModelPlan(metadata: o.metadata, type: .q4_0)
            let names = Set(plan.map(\.name))
            #expect(names.contains("opt.project_in") == (o.embedDim != o.hidden) && names.contains("opt.project_out") == (o.embedDim != o.hidden))
            #expect(names.contains("opt.final_norm.weight") == o.normBefore, "\(o.name): final LayerNorm only with pre-norm layers")
            #expect(plan.first { $0.name == "opt.embed" }?.shape == [50272, o.embedDim])
            #expect(plan.filter { $0.type == .q4_0 }.count == plan.filter { $0.shape.count == 2 }.count)
        }
    }

    /// Small models of each released structure (pre-norm, post-norm with a 2× narrower embedding
    /// and project_in/out; 1–4 sentence-encoder layers), written in every bench type: the files
    /// pass the reader's checks and checksums and load as SLLM and OPT models.
    @Test func smallShapesWriteFilesThatLoad() throws {
        let dir = NSTemporaryDirectory() + "svae-bench-random-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for o in Self.smallOPTs {
            for (layers, type) in [(1, SVAEFormat.ElementType.i8r), (2, .q4_0), (4, .f32)] {
                let s = SLLMShape(name: "sllm-small-h\(layers)", opt: o, svaeLayers: layers)
                for (name, metadata) in [(s.name, s.metadata), (o.name, o.metadata)] {
                    let path = "\(dir)/\(name)-\(type).svae"
                    #expect(try ensureRandomModel(metadata: metadata, at: path, type: type))
                    let file = try SVAEFile.open(path)
                    try file.verify()
                    #expect(file.tensors.map { TensorPlan(name: $0.name, type: $0.type, shape: $0.shape) }
                            == (try randomModelPlan(metadata: metadata, type: type)))
                    if name == o.name {
                        _ = try OPTLanguageModel(path: path)
                    } else {
                        let m = try SentenceLLM(path: path)
                        #expect(m.vae.config.encoderLayers == layers)
                    }
                }
            }
        }
    }

    /// The same seed gives the same bytes; another seed other weights; a file already written is
    /// kept (the cache between runs) unless it was written for another seed or type.
    @Test func randomModelIsDeterministicForASeedAndCached() throws {
        let dir = NSTemporaryDirectory() + "svae-bench-seed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = Self.smallOPTs[1].metadata
        let (a, b, c) = ("\(dir)/a.svae", "\(dir)/b.svae", "\(dir)/c.svae")
        #expect(try ensureRandomModel(metadata: m, at: a, type: .q4_0, seed: 7))
        #expect(try ensureRandomModel(metadata: m, at: b, type: .q4_0, seed: 7))
        #expect(try ensureRandomModel(metadata: m, at: c, type: .q4_0, seed: 8))
        let bytes = { (p: String) in try Data(contentsOf: URL(fileURLWithPath: p)) }
        #expect(try bytes(a) == bytes(b))
        #expect(try bytes(a) != bytes(c) && bytes(a).count == bytes(c).count)
        #expect(try !ensureRandomModel(metadata: m, at: a, type: .q4_0, seed: 7), "kept: same metadata, seed and type")
        #expect(try ensureRandomModel(metadata: m, at: a, type: .q4_0, seed: 8), "rewritten for another seed")
        #expect(try bytes(a) == bytes(c))
        #expect(try ensureRandomModel(metadata: m, at: a, type: .q8_0, seed: 8), "rewritten for another type")
    }

    /// One child measurement of `svae-bench generate` on small models: the workload's token
    /// counts, and OPT's KV bytes per token = 2 · layers · hidden · 4 (keys and values, f32).
    @Test func generateChildMeasuresTheWorkload() throws {
        let dir = NSTemporaryDirectory() + "svae-bench-gen-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = Self.smallOPTs[1]
        let s = SLLMShape(name: "sllm-small-h2", opt: o, svaeLayers: 2)
        let (sp, op) = ("\(dir)/s.svae", "\(dir)/o.svae")
        try ensureRandomModel(metadata: s.metadata, at: sp, type: .q4_0)
        try ensureRandomModel(metadata: o.metadata, at: op, type: .q4_0)
        let sllm = try BenchGenerate.measure(arch: "sllm", path: sp, type: "q4_0", threads: 1, sentences: 2, repetitions: 1)
        let opt = try BenchGenerate.measure(arch: "opt", path: op, type: "q4_0", threads: 1, sentences: 2, repetitions: 1)
        let generated = BenchGenerate.generatedLengths[0] + BenchGenerate.generatedLengths[1]
        #expect(sllm["generated_tokens"] as? Int == generated && opt["generated_tokens"] as? Int == generated)
        let promptSentences = BenchGenerate.promptLengths
        #expect(sllm["prompt_tokens"] as? Int == promptSentences.reduce(0, +))
        #expect(opt["prompt_tokens"] as? Int == promptSentences.reduce(0, +) - promptSentences.count + 1, "one BOS for the whole prompt")
        #expect(opt["kv_bytes_per_token"] as? Double == Double(2 * o.layers * o.hidden * 4))
        // SLLM: the OPT layers' cache over 4 + 2 sentence positions, plus the sentence decoder's.
        let kv = try #require(sllm["kv_bytes"] as? Int)
        #expect(kv >= 2 * o.layers * 6 * o.hidden * 4 && kv < opt["kv_bytes"] as? Int ?? 0)
        #expect((sllm["output_tokens_per_s"] as? Double ?? 0) > 0 && (opt["output_tokens_per_s"] as? Double ?? 0) > 0)
    }

    /// Unknown shapes are one-line usage errors.
    @Test func generateRefusesUnknownShapes() throws {
        #expect(throws: (any Error).self) { try BenchGenerate.parse(["--shapes", "sllm-9b-h1"]).run() }
    }

    /// The three OPT structures, scaled down: pre-norm (125m, 1.3b) and post-norm with a narrower
    /// embedding and project_in/out (350m).
    static let smallOPTs = [
        OPTShape(name: "opt-small-pre", hidden: 64, heads: 4, layers: 2, ffn: 128, embedDim: 64, normBefore: true),
        OPTShape(name: "opt-small-post", hidden: 64, heads: 4, layers: 3, ffn: 128, embedDim: 32, normBefore: false),
    ]
}
