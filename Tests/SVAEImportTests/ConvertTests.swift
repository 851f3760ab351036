// The conversion pipeline: every fixture format × every element type, the type rules,
// determinism, tokenizers, and failures that must leave no output file.
//
// Output values are decoded here by an independent reading of formats/svae.md §7.1 (not by
// the kernels' decoder), and compared with the planner's f32 view of the source.

import Foundation
import Testing
import SVAEFormat
import SVAETestSupport
@testable import SVAEImport
import SVAEJSON
import SVAETokenizer

/// One fixture checkpoint with the configs it needs.
struct ConvertFixture: CustomStringConvertible, Sendable {
    let input: String
    let config: String
    var description: String { input }

    static let all: [ConvertFixture] = [
        .init(input: "svae_tiny.safetensors", config: "svae_tiny.config.json"),
        .init(input: "svae_sharded", config: "svae_tiny.config.json"),
        .init(input: "svae_tiny.pth", config: "svae_tiny.config.json"),
        .init(input: "svae_mmengine.pth", config: "svae_tiny.config.json"),
        .init(input: "sllm_tiny.safetensors", config: "sllm_tiny.config.json"),
        .init(input: "opt_tiny.safetensors", config: "opt_tiny.config.json"),
    ]

    func options(_ type: SVAEFormat.ElementType = .f32, rules: [TensorTypeRule] = []) throws -> ConvertOptions {
        ConvertOptions(importOptions: ImportOptions(configs: [try ConfigSource.file(Fx.path(config))]), defaultType: type, tensorTypes: rules)
    }
}

/// Decodes tensor `t` of `file` to f32 following §7.1.
func decodeTensor(_ file: SVAEFile, _ t: TensorInfo) -> [Float] {
    let b = file.bytes(of: t)
    let n = t.elementCount
    func half(_ o: Int) -> Float { halfToFloat(UInt16(b[o]) | UInt16(b[o + 1]) << 8) }
    switch t.type {
    case .f32: return (0..<n).map { Float(bitPattern: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
    case .f16: return (0..<n).map { half(2 * $0) }
    case .bf16: return (0..<n).map { Float(bitPattern: UInt32(b.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
    case .q8_0:
        return (0..<n).map { i in
            let blk = (i / 32) * 34
            return half(blk) * Float(Int8(bitPattern: b[blk + 2 + i % 32]))
        }
    case .q4_0:
        return (0..<n).map { i in
            let blk = (i / 32) * 18, j = i % 32
            let q = j < 16 ? b[blk + 2 + j] & 0x0F : b[blk + 2 + j - 16] >> 4
            return half(blk) * Float(Int(q) - 8)
        }
    case .i8r:  // formats/quantization.md §9: 16-row panels of 16·cols + 128 bytes
        let cols = t.shape.last!, pb = 16 * cols + 128
        return (0..<n).map { i in
            let r = i / cols, k = i % cols, p = r / 16 * pb, j = r % 16
            let scale = Float(bitPattern: b.loadUnaligned(fromByteOffset: p + 16 * cols + 4 * j, as: UInt32.self))
            return scale * Float(Int8(bitPattern: b[p + 64 * (k / 4) + 4 * j + k % 4]))
        }
    }
}

/// The largest error the quantizer may make on a block whose largest magnitude is `amax`
/// (one quantization step: the step is amax/127 for q8_0 and amax/8 for q4_0, and the f16
/// scale adds a relative 2^-11), or on one f16 value.
func errorBound(_ type: SVAEFormat.ElementType, amax: Float, x: Float) -> Float {
    switch type {
    case .f32: 0
    case .f16: abs(x) * 0x1p-11 + 0x1p-24
    case .bf16: abs(x) * 0x1p-8
    case .q8_0: amax / 127 * (0.5 + 0x1p-10) + 0x1p-24
    case .q4_0: amax / 8 * (1 + 0x1p-10) + 0x1p-24
    case .i8r: amax / 127 * (0.5 + 0x1p-16) + 0x1p-126  // amax of the row
    }
}

func temp(_ name: String = "out.svae") -> String { tempDir() + "/" + name }

@Suite struct ConvertTests {
    /// Every fixture format to every type: opens, validates, verifies, types follow the rules,
    /// values are exact (f32) or within the quantizer's bound.
    @Test(arguments: ConvertFixture.all, [SVAEFormat.ElementType.f32, .f16, .q8_0, .q4_0])
    func convertEveryFormatToEveryType(fixture: ConvertFixture, type: SVAEFormat.ElementType) throws {
        let out = temp()
        let report = try Converter.convert(inputs: [Fx.path(fixture.input)], output: out, options: fixture.options(type))
        let file = try SVAEFile.open(out)
        try file.validateModel()
        try file.verify()
        #expect(file.metadata.string("general.converter") == "svae-convert 0.1.0")
        #expect(file.metadata.string("general.source_digest")?.hasPrefix("sha256:") == true)
        #expect(file.metadata.string("general.source_digest")?.count == 7 + 64)
        #expect(file.metadata.string("general.quantization")?.hasPrefix("\(type) for 2-D weights") == true)
        #expect(report.tensors.map(\.name) == file.tensors.map(\.name))
        #expect(report.fileBytes == file.fileSize)

        let plan = try ImportPlanner.plan(try SourceCheckpoint.open(Fx.path(fixture.input)), options: fixture.options().importOptions)
        let expected = try ModelSchema.expectedTensors(metadata: file.metadata)
        #expect(Array(file.tensors.map(\.name).prefix(expected.count)) == expected.map(\.name), "schema order")
        for t in file.tensors {
            let e = expected.first { $0.name == t.name }
            // the rules: f32 where the schema requires it; else the type, or f16 when rows are not whole blocks
            // and the q8 choice gives the encoder's and decoder's linear weights (LM head included,
            // embedding tables not) i8r when their rows are a multiple of 4 long
            let vaeLinear = t.shape.count == 2 && (t.name.hasPrefix("encoder.") || t.name.hasPrefix("decoder."))
                && t.name != "encoder.embed" && t.name != "decoder.embed" && t.shape.last! % 4 == 0
            let want: SVAEFormat.ElementType = e?.mustBeF32 == true ? .f32
                : (type == .q8_0 && vaeLinear ? .i8r : (type.isQuantized && t.shape.last! % 32 != 0 ? .f16 : type))
            #expect(t.type == want, "\(fixture) \(t.name)")
            let source = try #require(plan[t.name]).f32()
            let got = decodeTensor(file, t)
            if t.type == .f32 {
                #expect(got.map(\.bitPattern) == source.map(\.bitPattern), "\(fixture) \(t.name) exact")
                continue
            }
            try #require(got.count == source.count, "\(fixture) \(t.name): \(got.count) values decoded, \(source.count) in the source")
            // The first element outside its bound; a NaN (decoded or in the source) is outside every bound.
            let width = t.type == .i8r ? t.shape.last! : 32  // i8r: one scale per row
            let bad = source.indices.first { i in
                let blk = (i / width) * width
                let amax = source[blk..<Swift.min(blk + width, source.count)].reduce(Float(0)) { Swift.max($0, abs($1)) }
                return exceeds(abs(got[i] - source[i]), errorBound(t.type, amax: amax, x: source[i]))
            }
            #expect(bad == nil, "\(fixture) \(t.name) \(t.type): element \(bad ?? -1) = \(bad.map { got[$0] } ?? 0), source \(bad.map { source[$0] } ?? 0)")
        }
    }

    @Test func byteIdenticalAcrossRunsAndChunkSizes() throws {
        for fx in [ConvertFixture.all[0], ConvertFixture.all[4], ConvertFixture.all[5]] {
            for type in [SVAEFormat.ElementType.f32, .q4_0] {
                let a = temp(), b = temp(), c = temp()
                _ = try Converter.convert(inputs: [Fx.path(fx.input)], output: a, options: fx.options(type))
                _ = try Converter.convert(inputs: [Fx.path(fx.input)], output: b, options: fx.options(type))
                var small = try fx.options(type)
                small.chunkElements = 40  // chunks of one or two rows, crossing q/k/v parts
                _ = try Converter.convert(inputs: [Fx.path(fx.input)], output: c, options: small)
                let x = try Data(contentsOf: URL(fileURLWithPath: a))
                #expect(x == (try Data(contentsOf: URL(fileURLWithPath: b))), "\(fx) \(type)")
                #expect(x == (try Data(contentsOf: URL(fileURLWithPath: c))), "\(fx) \(type) chunked")
            }
        }
    }

    @Test func sameFileFromEverySVAEFormat() throws {
        // Same tensors from safetensors, shards, .pth and mmengine: identical data; only the digest differs.
        let ref = temp()
        _ = try Converter.convert(inputs: [Fx.path("svae_tiny.safetensors")], output: ref, options: ConvertFixture.all[0].options(.q8_0))
        let r = try SVAEFile.open(ref)
        for fx in ConvertFixture.all[1...3] {
            let out = temp()
            _ = try Converter.convert(inputs: [Fx.path(fx.input)], output: out, options: fx.options(.q8_0))
            let f = try SVAEFile.open(out)
            #expect(f.tensors == r.tensors, "\(fx)")
            #expect(f.metadata.string("general.source_digest") != r.metadata.string("general.source_digest"))
        }
    }

    @Test func tensorTypeOverridesFirstMatchWins() throws {
        let fx = ConvertFixture.all[0]
        let rules = [try TensorTypeRule(parsing: #"decoder\.lm_head\.weight=q8_0"#),
                     try TensorTypeRule(parsing: #"lm_head=f16"#),           // shadowed by the first rule
                     try TensorTypeRule(parsing: #"^encoder\.layers\.0\.=f16"#),
                     try TensorTypeRule(parsing: #"norm=q8_0"#)]              // norms stay f32
        let out = temp()
        let report = try Converter.convert(inputs: [Fx.path(fx.input)], output: out, options: fx.options(.q4_0, rules: rules))
        let f = try SVAEFile.open(out)
        #expect(f.tensor("decoder.lm_head.weight")?.type == .q8_0)
        #expect(f.tensor("decoder.lm_head.bias")?.type == .f32)
        #expect(f.tensor("encoder.layers.0.attn_qkv.weight")?.type == .f16)
        #expect(f.tensor("encoder.layers.0.norm1.weight")?.type == .f32)
        #expect(f.tensor("decoder.layers.0.ffn_up.weight")?.type == .q4_0)
        #expect(f.tensor("encoder.embed")?.type == .q4_0)
        #expect(report.quantization.contains(#"decoder\.lm_head\.weight=q8_0"#))
    }

    /// The q8 choice: i8r for the encoder's and decoder's linear weights and the LM head, q8_0
    /// for the embedding tables, recorded in general.quantization; a rule still overrides it.
    @Test func q8ChoiceAndItsOverrides() throws {
        let fx = ConvertFixture.all[0]
        let out = temp()
        let report = try Converter.convert(inputs: [Fx.path(fx.input)], output: out, options: fx.options(.q8_0))
        let f = try SVAEFile.open(out)
        for name in ["encoder.layers.0.attn_qkv.weight", "decoder.layers.0.self_qkv.weight", "decoder.layers.0.cross_v.weight",
                     "decoder.layers.0.ffn_down.weight", "decoder.lm_head.weight"] {
            #expect(f.tensor(name)?.type == .i8r, "\(name)")
        }
        #expect(f.tensor("decoder.embed")?.type == .q8_0 && f.tensor("encoder.embed")?.type == .q8_0)
        #expect(f.tensor("decoder.lm_head.bias")?.type == .f32)
        #expect(report.quantization.contains("i8r for the encoder's and decoder's linear weights and the LM head"))
        #expect(f.metadata.string("general.quantization") == report.quantization)

        let kept = temp()
        _ = try Converter.convert(inputs: [Fx.path(fx.input)], output: kept,
                                  options: fx.options(.q8_0, rules: [try TensorTypeRule(parsing: #"^decoder\.=q8_0"#)]))
        let k = try SVAEFile.open(kept)
        #expect(k.tensor("decoder.layers.0.self_qkv.weight")?.type == .q8_0 && k.tensor("decoder.lm_head.weight")?.type == .q8_0)
        #expect(k.tensor("encoder.layers.0.attn_qkv.weight")?.type == .i8r)
    }

    @Test func badTensorTypeRules() {
        #expect(throws: ConvertError.self) { try TensorTypeRule(parsing: "lm_head") }
        #expect(throws: ConvertError.self) { try TensorTypeRule(parsing: "lm_head=q5_1") }
        #expect(throws: ConvertError.self) { try TensorTypeRule(parsing: "(=q8_0") }
        #expect((try? TensorTypeRule(parsing: "a=b=q8_0"))?.pattern == "a=b")
    }

    /// svae_tiny.safetensors with element `index` of tensor `name` replaced by `value`.
    func poisoned(_ name: String, index: Int, value: Float) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path("svae_tiny.safetensors"))))
        let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let entry = header[name] as! [String: Any]
        #expect(entry["dtype"] as? String == "F32")
        let begin = (entry["data_offsets"] as! [Int])[0]
        let at = 8 + n + begin + 4 * index
        for (k, b) in le32(value.bitPattern).enumerated() { bytes[at + k] = b }
        return tempFile(bytes, name: "poisoned.safetensors")
    }

    func expectNoOutput(_ out: String) throws {
        #expect(!FileManager.default.fileExists(atPath: out))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent)
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValueFailsNamingTensorAndIndex(value: Float) throws {
        // decoder.linear.weight [64, 32] → decoder.lm_head.weight; element 5·32+7
        let src = try poisoned("decoder.linear.weight", index: 5 * 32 + 7, value: value)
        for type in [SVAEFormat.ElementType.f32, .f16, .q8_0, .q4_0] {
            let out = temp()
            do {
                _ = try Converter.convert(inputs: [src], output: out, options: ConvertFixture.all[0].options(type))
                Issue.record("expected an error")
            } catch let e as ConvertError {
                guard case let .nonFinite(file, tensor, source, index, _) = e else { Issue.record("\(e)"); continue }
                #expect(file == src && tensor == "decoder.lm_head.weight" && index == 5 * 32 + 7)
                #expect(source == "decoder.linear.weight element 167")
                #expect(e.description.contains("decoder.lm_head.weight") && e.description.contains("167"))
            }
            try expectNoOutput(out)
        }
    }

    @Test func nonFiniteInAConcatenatedTensorNamesTheSourcePart() throws {
        // cross_v = rows [64, 96) of in_proj_weight: element 3 of cross_v is source element 64·32 + 3
        let src = try poisoned("decoder.decoder.layers.0.multihead_attn.in_proj_weight", index: 64 * 32 + 3, value: .nan)
        let out = temp()
        #expect {
            _ = try Converter.convert(inputs: [src], output: out, options: ConvertFixture.all[0].options(.q8_0))
        } throws: { e in
            guard case let .nonFinite(_, tensor, source, index, value) = e as? ConvertError else { return false }
            return tensor == "decoder.layers.0.cross_v.weight" && index == 3 && value == "NaN"
                && source == "decoder.decoder.layers.0.multihead_attn.in_proj_weight element 2051"
        }
        try expectNoOutput(out)
    }

    @Test func tooLargeForF16Fails() throws {
        let src = try poisoned("encoder.encoder.layers.0.linear1.weight", index: 40, value: 1e6)
        let out = temp()
        #expect {
            _ = try Converter.convert(inputs: [src], output: out, options: ConvertFixture.all[0].options(.f16))
        } throws: { e in
            guard case let .overflow(_, tensor, type, index, _) = e as? ConvertError else { return false }
            return tensor == "encoder.layers.0.ffn_up.weight" && type == "f16" && index == 40
        }
        try expectNoOutput(out)
        // q8_0 scales reach 65504·127, so the same value converts
        _ = try Converter.convert(inputs: [src], output: out, options: ConvertFixture.all[0].options(.q8_0))
    }

    @Test func missingTensorFailsWithoutOutput() throws {
        // Drop one tensor from the safetensors file (rebuild header and data).
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path("svae_tiny.safetensors"))))
        let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        var entries: [String] = []
        var data: [UInt8] = []
        for name in header.keys.sorted() where name != "__metadata__" && name != "encoder.encoder.layers.0.norm2.bias" {
            let e = header[name] as! [String: Any]
            let off = e["data_offsets"] as! [Int]
            let shape = (e["shape"] as! [Int]).map(String.init).joined(separator: ",")
            entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(data.count),\(data.count + off[1] - off[0])]}")
            data += bytes[(8 + n + off[0])..<(8 + n + off[1])]
        }
        let src = tempFile(safetensors("{" + entries.joined(separator: ",") + "}", data: data), name: "missing.safetensors")
        let out = temp()
        #expect(throws: MappingError.missingTensor(path: src, tensor: "encoder.encoder.layers.0.norm2.bias")) {
            _ = try Converter.convert(inputs: [src], output: out, options: ConvertFixture.all[0].options())
        }
        try expectNoOutput(out)
        let line = ConvertError.describe(MappingError.missingTensor(path: src, tensor: "encoder.encoder.layers.0.norm2.bias"))
        #expect(line == "\(src): tensor encoder.encoder.layers.0.norm2.bias: expected it, found none")
    }

    @Test func missingHeadsNamesTheInput() throws {
        let out = temp()
        do {
            _ = try Converter.convert(inputs: [Fx.path("svae_tiny.safetensors")], output: out)
            Issue.record("expected an error")
        } catch {
            let line = ConvertError.describe(error, file: "in.safetensors")
            #expect(line.hasPrefix("in.safetensors: missing") && line.contains("svae.num_heads"), "\(line)")
        }
        try expectNoOutput(out)
    }

    @Test func outputMayNotOverwriteAnInput() throws {
        let src = tempFile([UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path("svae_tiny.safetensors")))), name: "m.safetensors")
        #expect(throws: ConvertError.outputIsInput(path: src)) {
            _ = try Converter.convert(inputs: [src], output: src, options: ConvertFixture.all[0].options())
        }
        // a shard behind a folder input counts too
        let shard = Fx.path("svae_sharded/model-00002-of-00002.safetensors")
        #expect(throws: ConvertError.outputIsInput(path: shard)) {
            _ = try Converter.convert(inputs: [Fx.path("svae_sharded")], output: shard, options: ConvertFixture.all[0].options())
        }
    }

    @Test func shardsGivenAsSeparateInputs() throws {
        let dir = Fx.path("svae_sharded")
        let parts = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"].map { dir + "/" + $0 }
        let a = temp(), b = temp()
        _ = try Converter.convert(inputs: parts, output: a, options: ConvertFixture.all[0].options(.q8_0))
        _ = try Converter.convert(inputs: [dir], output: b, options: ConvertFixture.all[0].options(.q8_0))
        #expect(try SVAEFile.open(a).tensors == SVAEFile.open(b).tensors)
        #expect(throws: ConvertError.self) {
            _ = try Converter.convert(inputs: [parts[0], parts[0]], output: temp(), options: ConvertFixture.all[0].options())
        }
    }

    // MARK: tokenizer

    /// An OPT-style byte-level BPE table of 12 tokens.
    static let tokens = ["<s>", "<pad>", "</s>", "<unk>", "a", "b", "c", "Ġ", "ab", "abc", "Ġa", "Ġab"]
    static let merges = ["a b", "ab c", "Ġ a", "Ġa b"]

    func vocabJSON() -> String {
        "{" + Self.tokens.enumerated().map { "\"\($1)\": \($0)" }.joined(separator: ", ") + "}"
    }

    @Test func tokenizerFromVocabAndMergesInTheInputFolder() throws {
        let dir = tempDir()
        try FileManager.default.copyItem(atPath: Fx.path("svae_tiny.safetensors"), toPath: dir + "/model.safetensors")
        try vocabJSON().write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try ("#version: 0.2\n" + Self.merges.joined(separator: "\n") + "\n").write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        // vocab.json + merges.txt alone: no special tokens and no BOS (never guessed from the table)
        let plain = temp("plain.svae")
        _ = try Converter.convert(inputs: [dir], output: plain, options: ConvertFixture.all[0].options())
        let p = try SVAEFile.open(plain)
        #expect(try #require(p.tokenizer).specials.isEmpty)
        #expect(p.metadata.bool("tokens.add_bos") == false)

        // with transformers' files, as an OPT folder ships them
        try #"{"add_bos_token": true, "add_prefix_space": false, "bos_token": {"__type": "AddedToken", "content": "</s>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}, "errors": "replace", "model_max_length": 1000000000000000019884624838656}"#
            .write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        try #"{"bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>"}"#
            .write(toFile: dir + "/special_tokens_map.json", atomically: true, encoding: .utf8)
        let out = temp()
        let report = try Converter.convert(inputs: [dir], output: out, options: ConvertFixture.all[0].options())
        let f = try SVAEFile.open(out)
        let tok = try #require(f.tokenizer)
        #expect(tok.tokens == Self.tokens)
        #expect(tok.merges == [.init(4, 5), .init(8, 6), .init(7, 4), .init(10, 5)])
        #expect(tok.specials.map(\.text) == ["<pad>", "</s>"] && tok.specials.map(\.id) == [1, 2])
        #expect(f.metadata.bool("tokens.add_bos") == true)
        #expect(report.tokenizerFiles == [dir + "/vocab.json", dir + "/merges.txt", dir + "/tokenizer_config.json", dir + "/special_tokens_map.json"])

        // a flag that contradicts the tokenizer is refused; no tokenizer when asked
        var o = try ConvertFixture.all[0].options()
        o.addBOS = false
        #expect(throws: ConvertError.self) { _ = try Converter.convert(inputs: [dir], output: temp("b.svae"), options: o) }
        o.findTokenizer = false
        let c = temp("c.svae")
        _ = try Converter.convert(inputs: [dir], output: c, options: o)
        #expect(try SVAEFile.open(c).tokenizer == nil)
        #expect(try SVAEFile.open(c).metadata.bool("tokens.add_bos") == false)
    }

    @Test func tokenizerJSON() throws {
        let dir = tempDir()
        let merges = Self.merges.enumerated().map { i, m in
            i % 2 == 0 ? "\"\(m)\"" : "[" + m.split(separator: " ").map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
        let json = """
        {"version": "1.0", "added_tokens": [{"id": 2, "content": "</s>", "special": true}, {"id": 12, "content": "<mask>", "special": true}],
         "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
         "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
         "model": {"type": "BPE", "vocab": \(vocabJSON()), "merges": [\(merges.joined(separator: ", "))]}}
        """
        try json.write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        var o = try ConvertFixture.all[0].options()
        o.tokenizer = dir
        let out = temp()
        _ = try Converter.convert(inputs: [Fx.path("svae_tiny.safetensors")], output: out, options: o)
        let tok = try #require(try SVAEFile.open(out).tokenizer)
        #expect(tok.tokens == Self.tokens + ["<mask>"])
        #expect(tok.merges == [.init(4, 5), .init(8, 6), .init(7, 4), .init(10, 5)])
        #expect(tok.specials == [.init(id: 2, text: "</s>"), .init(id: 12, text: "<mask>")])
    }

    @Test func badTokenizersFailWithoutOutput() throws {
        let cases: [(String, String)] = [
            ("{\"a\": 0, \"b\": 2}", "a b"),       // id 1 missing
            ("{\"a\": 0, \"b\": 1}", "a c"),       // merge of an unknown token
            ("{\"a\": 0, \"b\": 1}", "a b"),       // merge result "ab" not a token (format rule §6)
            ("[1, 2]", "a b"),                     // not an object
        ]
        for (vocab, merges) in cases {
            let dir = tempDir()
            try vocab.write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
            try merges.write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
            var o = try ConvertFixture.all[0].options()
            o.tokenizer = dir + "/vocab.json"
            let out = temp()
            #expect(throws: (any Error).self, "\(vocab) \(merges)") {
                _ = try Converter.convert(inputs: [Fx.path("svae_tiny.safetensors")], output: out, options: o)
            }
            try expectNoOutput(out)
        }
        #expect(throws: TokenizerError.notFound(path: "/nonexistent")) { try BPETokenizer.load("/nonexistent") }

        // more tokens than the model's 64 embedding rows
        let dir = tempDir()
        let many = Self.tokens + (0..<60).map { "t\($0)" }
        try ("{" + many.enumerated().map { "\"\($1)\": \($0)" }.joined(separator: ", ") + "}").write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try "a b".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        var o = try ConvertFixture.all[0].options()
        o.tokenizer = dir
        let out = temp()
        #expect(throws: ConvertError.tokenizerTooLarge(file: dir + "/vocab.json", tokens: 72, vocabSize: 64)) {
            _ = try Converter.convert(inputs: [Fx.path("svae_tiny.safetensors")], output: out, options: o)
        }
        try expectNoOutput(out)
    }

    // MARK: helpers

    @Test func sha256Vectors() {
        func h(_ s: String) -> String { var x = SHA256(); x.update(Array(s.utf8)); return SHA256.hex(x.finalize()) }
        #expect(h("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(h("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(h("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var x = SHA256()
        let a = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { x.update(a) }
        #expect(SHA256.hex(x.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func metadataValuesAreRangeChecked() throws {
        #expect(try Converter.formatValue("svae.hidden_size", .i64(768), file: "f") == .u32(768))
        #expect(try Converter.formatValue("tokens.bos_id", .i64(2), file: "f") == .i32(2))
        #expect(try Converter.formatValue("svae.layer_norm_eps", .f64(1e-5), file: "f") == .f32(1e-5))
        #expect(throws: ConvertError.self) { try Converter.formatValue("svae.hidden_size", .i64(-1), file: "f") }
        #expect(throws: ConvertError.self) { try Converter.formatValue("svae.hidden_size", .i64(1 << 40), file: "f") }
        #expect(throws: ConvertError.self) { try Converter.formatValue("svae.hidden_size", .bool(true), file: "f") }
    }
}

/// svae-convert as built with this test bundle (same build products directory, so never a
/// stale binary from another configuration); the suite fails, not skips, when it is missing.
@Suite struct ConvertCLITests {
    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try BuiltTools.run(try #require(BuiltTools.path("svae-convert"), "svae-convert is not in \(BuiltTools.productsDirectory.path)"), args)
        return (r.status, r.stdout, r.stderr)
    }

    @Test func convertsAndSummarizes() throws {
        let out = temp()
        let r = try run([Fx.path("opt_tiny.safetensors"), "--config", Fx.path("opt_tiny.config.json"), "-o", out,
                         "--quant", "q8_0", "--tensor-type", #"^opt\.layers\.1\.=q4_0"#])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("28 tensors") && r.stdout.contains("bits/weight"))
        #expect(!r.stderr.contains("\r"), "no progress bar when stderr is not a terminal")
        let f = try SVAEFile.open(out)
        #expect(f.tensor("opt.layers.1.ffn_up.weight")?.type == .q4_0 && f.tensor("opt.layers.0.ffn_up.weight")?.type == .q8_0)
        let q = try run([Fx.path("opt_tiny.safetensors"), "--config", Fx.path("opt_tiny.config.json"), "-o", temp(), "--quiet"])
        #expect(q.status == 0 && q.stdout.isEmpty && q.stderr.isEmpty)
    }

    @Test func failsWithOneLineAndNoFile() throws {
        let out = temp()
        let r = try run([Fx.path("svae_tiny.safetensors"), "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("svae-convert: error: \(Fx.path("svae_tiny.safetensors")): "), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        try ConvertTests().expectNoOutput(out)
    }
}

/// Every error of the reading layer reaches users through `ConvertError.describe`: in plain
/// words, starting with the file, never as a Swift case name.
@Suite struct ErrorTextTests {
    @Test func readingErrorsAreSentencesNotCaseNames() {
        let p = "m.safetensors"
        let cases: [(any Error, String)] = [
            (SafetensorsError.headerPastEOF(path: p, headerLength: 7232, fileSize: 100),
             "m.safetensors: truncated: the header claims 7232 bytes, the file is 100 bytes long"),
            (SafetensorsError.headerNotUTF8(path: p), "m.safetensors: header: expected UTF-8 JSON, found invalid bytes"),
            (ZipError.entryPastEOF(path: p, entry: "a/data/0", end: 900, fileSize: 512),
             "m.safetensors: truncated: zip entry a/data/0 ends at byte 900, the file is 512 bytes long"),
            (PickleError.noStop(path: p), "m.safetensors: truncated pickle: it ends without STOP"),
            (TorchCheckpointError.legacyFormat(path: p), "m.safetensors: a pre-1.6 torch.save file: re-save it with a current PyTorch"),
            (MappingError.shapeMismatch(path: p, tensor: "w", expected: [2, 3], found: [3, 2]), "m.safetensors: tensor w: expected shape [2, 3], found [3, 2]"),
            (SourceTensorError.unsupportedDType(path: p, tensor: "w", dtype: "I64"), "m.safetensors: tensor w: expected a floating-point dtype, found I64"),
        ]
        for (e, text) in cases { #expect(ConvertError.describe(e) == text) }
        // Errors without a path get the file named by the caller.
        #expect(ConvertError.describe(ConfigError.missing(key: "svae.num_heads", hint: "pass --heads"), file: p)
                == "m.safetensors: missing svae.num_heads: expected a value, found none (pass --heads)")
        #expect(ConvertError.describe(ConfigError.badConfigFile(path: "c.json", reason: JSONFailure.notUTF8.description))
                == "c.json: expected UTF-8 JSON, found invalid UTF-8 bytes")
    }
}
