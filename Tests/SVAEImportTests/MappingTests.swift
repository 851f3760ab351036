// Mapping table, shape inference and config merging (checklist item 9).

import Foundation
import Testing
@testable import SVAEImport

@Suite struct MappingTests {
    func svaeOptions() throws -> ImportOptions {
        ImportOptions(configs: [try ConfigSource.file(Fx.path("svae_tiny.config.json"))])
    }

    func source(_ name: String) throws -> SourceTensor {
        let f = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        return try #require(f.tensors.first { $0.name == name })
    }

    @Test func svaePlan() throws {
        let plan = try ImportPlanner.plan(try SourceCheckpoint.open(Fx.path("svae_tiny.safetensors")), options: svaeOptions())
        let h = plan.hyperparameters
        #expect(h.architecture == .svae)
        #expect(h.svae == SVAEHyperparameters(hiddenSize: 32, embedDim: 32, numHeads: 2, ffnSize: 64, encoderLayers: 1,
                                              decoderLayers: 1, vocabSize: 64, maxSeqLen: 64, learnableAdd: true, layerNormEps: 1e-5))
        #expect(h.tokens == TokenIDs(bos: 2, eos: 2, pad: 1))
        #expect(plan.metadata.first!.0 == "general.architecture" && plan.metadata.first!.1 == .string("svae"))
        let keys = Set(plan.metadata.map(\.0))
        for k in ["svae.hidden_size", "svae.embed_dim", "svae.num_heads", "svae.ffn_size", "svae.encoder_layers", "svae.decoder_layers",
                  "svae.vocab_size", "svae.max_seq_len", "svae.learnable_add", "svae.layer_norm_eps", "tokens.bos_id", "tokens.eos_id", "tokens.pad_id"] {
            #expect(keys.contains(k), "\(k)")
        }
        let names = Set(plan.tensors.map(\.name))
        let expected: Set<String> = [
            "encoder.embed", "encoder.layers.0.attn_qkv.weight", "encoder.layers.0.attn_qkv.bias", "encoder.layers.0.attn_out.weight",
            "encoder.layers.0.attn_out.bias", "encoder.layers.0.norm1.weight", "encoder.layers.0.norm1.bias",
            "encoder.layers.0.ffn_up.weight", "encoder.layers.0.ffn_up.bias", "encoder.layers.0.ffn_down.weight",
            "encoder.layers.0.ffn_down.bias", "encoder.layers.0.norm2.weight", "encoder.layers.0.norm2.bias",
            "encoder.pool.weight", "encoder.pool.bias", "encoder.norm.weight", "encoder.norm.bias",
            "decoder.embed", "decoder.layers.0.self_qkv.weight", "decoder.layers.0.self_qkv.bias", "decoder.layers.0.self_out.weight",
            "decoder.layers.0.self_out.bias", "decoder.layers.0.norm1.weight", "decoder.layers.0.norm1.bias",
            "decoder.layers.0.cross_v.weight", "decoder.layers.0.cross_v.bias", "decoder.layers.0.cross_out.weight",
            "decoder.layers.0.cross_out.bias", "decoder.layers.0.norm2.weight", "decoder.layers.0.norm2.bias",
            "decoder.layers.0.ffn_up.weight", "decoder.layers.0.ffn_up.bias", "decoder.layers.0.ffn_down.weight",
            "decoder.layers.0.ffn_down.bias", "decoder.layers.0.norm3.weight", "decoder.layers.0.norm3.bias",
            "decoder.lm_head.weight", "decoder.lm_head.bias",
        ]
        #expect(names == expected)
        // cross_v = V rows [2d, 3d) of multihead_attn.in_proj_weight
        let cv = try #require(plan["decoder.layers.0.cross_v.weight"])
        #expect(cv.shape == [32, 32])
        let inProj = try values(source("decoder.decoder.layers.0.multihead_attn.in_proj_weight"))
        #expect(try cv.f32() == Array(inProj[(64 * 32)..<(96 * 32)]))
        let cb = try #require(plan["decoder.layers.0.cross_v.bias"])
        #expect(try cb.f32() == Array(try values(source("decoder.decoder.layers.0.multihead_attn.in_proj_bias"))[64..<96]))
        // pool: la.weight [1, d] → [d]
        let pool = try #require(plan["encoder.pool.weight"])
        #expect(pool.shape == [32])
        #expect(try pool.f32() == values(source("encoder.la.weight")))
        #expect(plan.notes.contains { $0.contains("cross-attention") })
    }

    @Test func sameValuesFromEveryFormat() throws {
        let a = try ImportPlanner.plan(try SourceCheckpoint.open(Fx.path("svae_tiny.safetensors")), options: svaeOptions())
        for p in ["svae_tiny.pth", "svae_mmengine.pth", "svae_sharded"] {
            let b = try ImportPlanner.plan(try SourceCheckpoint.open(Fx.path(p)), options: svaeOptions())
            #expect(b.hyperparameters == a.hyperparameters)
            #expect(b.tensors.map(\.name) == a.tensors.map(\.name))
            for (x, y) in zip(a.tensors, b.tensors) { #expect(try x.f32() == y.f32(), "\(p) \(x.name)") }
        }
    }

    @Test func sllmPlan() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("sllm_tiny.safetensors"))
        let plan = try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [try ConfigSource.file(Fx.path("sllm_tiny.config.json"))]))
        let h = plan.hyperparameters
        #expect(h.architecture == .sllm)
        #expect(h.svae?.embedDim == 16 && h.svae?.hiddenSize == 32 && h.svae?.learnableAdd == false && h.svae?.maxSeqLen == 32)
        #expect(h.llm == LLMHyperparameters(hiddenSize: 32, numHeads: 4, ffnSize: 64, layers: 2, maxPositions: 16,
                                            normBefore: false, prefillAttention: "bidirectional"))
        #expect(plan["encoder.project_in"]?.shape == [32, 16] && plan["decoder.project_in"]?.shape == [32, 16])
        #expect(plan["encoder.pool.weight"] == nil)
        #expect(plan["llm.pos_embed"]?.shape == [18, 32])
        #expect(plan["llm.stop_head.weight"]?.shape == [2, 32] && plan["llm.stop_head.bias"]?.shape == [2])
        // q, k, v concatenated in that order
        let qkv = try #require(plan["llm.layers.1.attn_qkv.weight"])
        #expect(qkv.shape == [96, 32])
        var expected: [Float] = []
        for x in ["q", "k", "v"] { expected += try values(#require(ckpt["llm_layers.1.self_attn.\(x)_proj.weight"])) }
        #expect(try qkv.f32() == expected)
        let bias = try #require(plan["llm.layers.1.attn_qkv.bias"])
        var eb: [Float] = []
        for x in ["q", "k", "v"] { eb += try values(#require(ckpt["llm_layers.1.self_attn.\(x)_proj.bias"])) }
        #expect(try bias.f32() == eb)
        #expect(plan["llm.layers.0.ffn_norm.weight"] != nil && plan["llm.layers.0.attn_norm.bias"] != nil)
        let meta = Dictionary(plan.metadata, uniquingKeysWith: { a, _ in a })
        #expect(meta["llm.prefill_attention"] == .string("bidirectional") && meta["llm.norm_before"] == .bool(false))
    }

    @Test func sllmCausalFlagAndMissingHeads() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("sllm_tiny.safetensors"))
        var opts = ImportOptions(configs: [try ConfigSource.file(Fx.path("sllm_tiny.config.json"))], prefillAttention: "causal")
        #expect(try ImportPlanner.plan(ckpt, options: opts).hyperparameters.llm?.prefillAttention == "causal")
        opts = ImportOptions(configs: [.flags([("svae_num_attention_heads", .number("2"))])])
        #expect(throws: ConfigError.missing(key: "llm.num_heads", hint: "give llm_num_attention_heads, or the OPT config.json as an llm config")) {
            try ImportPlanner.plan(ckpt, options: opts)
        }
        // the OPT model's own HF config.json as an llm config
        opts = ImportOptions(configs: [.flags([("svae_num_attention_heads", .number("2"))]),
                                       try ConfigSource.file(Fx.path("opt_tiny.config.json"), role: .llm)])
        let h = try ImportPlanner.plan(ckpt, options: opts).hyperparameters
        #expect(h.llm?.numHeads == 4 && h.llm?.normBefore == false)
    }

    @Test func optPlanDropsTiedHead() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("opt_tiny.safetensors"))
        let plan = try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [try ConfigSource.file(Fx.path("opt_tiny.config.json"))]))
        #expect(plan.hyperparameters.opt == OPTHyperparameters(hiddenSize: 32, embedDim: 16, numHeads: 4, ffnSize: 64, layers: 2,
                                                               vocabSize: 64, maxPositions: 16, normBefore: false))
        #expect(plan["opt.lm_head.weight"] == nil && plan.notes.contains { $0.contains("tied") })
        #expect(plan["opt.project_in"]?.shape == [32, 16] && plan["opt.project_out"]?.shape == [16, 32])
        #expect(plan["opt.final_norm.weight"] == nil)
        #expect(plan["opt.layers.1.attn_qkv.weight"]?.shape == [96, 32])
        #expect(plan.metadata.first!.1 == .string("opt"))
    }

    @Test func optUntiedHeadIsKept() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("opt_tiny.safetensors"))
        // replace lm_head by another [64, 16] tensor with different values
        let other = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors")).tensors.first { $0.name == "decoder.embed_token.weight" }!
        let head = ckpt["lm_head.weight"]!
        let swapped = SourceTensor(name: "lm_head.weight", dtype: .f32, shape: [64, 16], elementCount: 1024, file: other.file,
                                   byteOffset: other.byteOffset, strides: [16, 1], bigEndian: false)
        let list = ckpt.tensors.map { $0.name == head.name ? swapped : $0 }
        let plan = try ImportPlanner.plan(tensors: list, path: "x", options: ImportOptions(configs: [try ConfigSource.file(Fx.path("opt_tiny.config.json"))]))
        #expect(plan["opt.lm_head.weight"]?.shape == [64, 16])
    }

    @Test func configConflictNamesBothSources() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("svae_tiny.safetensors"))
        let opts = ImportOptions(configs: [try ConfigSource.file(Fx.path("svae_tiny.config.json")), .flags([("hidden_size", .number("64"))])])
        #expect(throws: ConfigError.conflict(key: "svae.hidden_size", firstSource: "tensor encoder.lnorm.weight", firstValue: "32",
                                             secondSource: "flag hidden_size", secondValue: "64")) {
            try ImportPlanner.plan(ckpt, options: opts)
        }
        let two = ImportOptions(configs: [.flags([("num_attention_heads", .number("2")), ("bos_id", .number("2")), ("bos_token_id", .number("0"))])])
        #expect(throws: ConfigError.conflict(key: "tokens.bos_id", firstSource: "flag bos_id", firstValue: "2",
                                             secondSource: "flag bos_token_id", secondValue: "0")) {
            try ImportPlanner.plan(ckpt, options: two)
        }
    }

    @Test func headsMissingZeroOrNotDividing() throws {
        let ckpt = try SourceCheckpoint.open(Fx.path("svae_tiny.safetensors"))
        #expect(throws: ConfigError.missing(key: "svae.num_heads", hint: "give num_attention_heads in a config or flag")) {
            try ImportPlanner.plan(ckpt)
        }
        #expect(throws: ConfigError.outOfRange(key: "svae.num_heads", value: "0", reason: "must be > 0")) {
            try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [.flags([("num_heads", .number("0"))])]))
        }
        #expect(throws: ConfigError.outOfRange(key: "svae.num_heads", value: "5", reason: "hidden size 32 is not divisible by it")) {
            try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [.flags([("num_heads", .number("5"))])]))
        }
        #expect(throws: ConfigError.outOfRange(key: "tokens.pad_id", value: "64", reason: "outside the vocabulary 0..<64")) {
            try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [.flags([("num_heads", .number("2")), ("pad_id", .number("64"))])]))
        }
        #expect(throws: ConfigError.badValue(source: "flag learnable_add", key: "learnable_add", expected: "true/false", found: "1")) {
            try ImportPlanner.plan(ckpt, options: ImportOptions(configs: [.flags([("learnable_add", .number("1"))])]))
        }
    }

    func renamed(_ list: [SourceTensor], _ f: (String) -> String?) -> [SourceTensor] {
        list.compactMap { t in
            f(t.name).map { SourceTensor(name: $0, dtype: t.dtype, shape: t.shape, elementCount: t.elementCount, file: t.file,
                                         byteOffset: t.byteOffset, strides: t.strides, bigEndian: t.bigEndian) }
        }
    }

    @Test func missingUnexpectedAndMisshapenTensors() throws {
        let list = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors")).tensors
        let opts = ImportOptions(configs: [.flags([("num_heads", .number("2"))])])
        let n = "decoder.decoder.layers.0.norm3.bias"
        #expect(throws: MappingError.missingTensor(path: "x", tensor: n)) {
            try ImportPlanner.plan(tensors: renamed(list) { $0 == n ? nil : $0 }, path: "x", options: opts)
        }
        #expect(throws: MappingError.unexpectedTensors(path: "x", tensors: ["decoder.extra"])) {
            try ImportPlanner.plan(tensors: list + renamed(list) { $0 == n ? "decoder.extra" : nil }, path: "x", options: opts)
        }
        // a [d] tensor where a [3d] bias is expected
        let qb = "encoder.encoder.layers.0.self_attn.in_proj_bias"
        let swapped = renamed(list) { $0 == qb ? nil : ($0 == "encoder.lnorm.bias" ? qb : $0) } + renamed(list) { $0 == "encoder.lnorm.bias" ? $0 : nil }
        #expect(throws: MappingError.shapeMismatch(path: "x", tensor: qb, expected: [96], found: [32])) {
            try ImportPlanner.plan(tensors: swapped, path: "x", options: opts)
        }
        // layers 0 and 2 without 1
        let gap = list + renamed(list) { $0.hasPrefix("encoder.encoder.layers.0.") ? $0.replacingOccurrences(of: "layers.0.", with: "layers.2.") : nil }
        #expect(throws: MappingError.layerNumbering(path: "x", prefix: "encoder.encoder.layers.", found: [0, 2])) {
            try ImportPlanner.plan(tensors: gap, path: "x", options: opts)
        }
        #expect(throws: MappingError.unknownArchitecture(path: "x", sample: ["a"])) {
            try ImportPlanner.plan(tensors: renamed([list[0]]) { _ in "a" }, path: "x", options: opts)
        }
        // DDP "module." prefix is stripped
        let ddp = try ImportPlanner.plan(tensors: renamed(list) { "module." + $0 }, path: "x", options: opts)
        #expect(ddp.tensors.count == 38)
    }

    @Test func integerTensorCannotBeMapped() throws {
        let list = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors")).tensors
        let ids = try SafetensorsFile(path: Fx.path("dtypes.safetensors")).tensors.first { $0.name == "ids.i64" }!
        let t = SourceTensor(name: "encoder.la.bias", dtype: .i64, shape: [1], elementCount: 1, file: ids.file,
                             byteOffset: ids.byteOffset, strides: [1], bigEndian: false)
        let l = list.filter { $0.name != "encoder.la.bias" } + [t]
        #expect(throws: MappingError.unsupportedDType(path: "x", tensor: "encoder.la.bias", dtype: "I64")) {
            try ImportPlanner.plan(tensors: l, path: "x", options: ImportOptions(configs: [.flags([("num_heads", .number("2"))])]))
        }
    }
}

extension MappingTests {
    @Test func mappedRowRangesSpanParts() throws {
        let plan = try ImportPlanner.plan(try SourceCheckpoint.open(Fx.path("sllm_tiny.safetensors")),
                                          options: ImportOptions(configs: [try ConfigSource.file(Fx.path("sllm_tiny.config.json"))]))
        for name in ["llm.layers.0.attn_qkv.weight", "llm.layers.0.attn_qkv.bias", "decoder.layers.0.cross_v.weight", "llm.pos_embed"] {
            let t = try #require(plan[name])
            let all = try t.f32()
            let rows = t.shape[0]
            for r in [0..<rows, 1..<(rows - 1), (rows / 3 - 1)..<(2 * rows / 3 + 1), (rows - 1)..<rows, 5..<5] {
                var b = [Float](repeating: .nan, count: r.count * t.rowSize)
                try b.withUnsafeMutableBufferPointer { try t.readRowsF32(r, into: $0) }
                #expect(b == Array(all[(r.lowerBound * t.rowSize)..<(r.upperBound * t.rowSize)]), "\(name) \(r)")
            }
        }
    }
}
