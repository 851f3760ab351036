import Foundation
import SVAEFormat
import SVAEImport
import SVAEJSON
import SVAEModel
import SVAETokenizer
import Testing

/// The authors' YAML configs (Fixtures/reference, from tools/fixtures/make_reference_fixtures.py),
/// run from "their repository root" (the reference folder), as their demos run.
@Suite struct ReferenceConfigTests {
    static let ref = Fx.path("reference")
    static let opt = ref + "/model_repo/opt-125m"

    static func yaml(_ rel: String, refModel: String? = nil) throws -> ReferenceConfig {
        try ReferenceConfig.load(path: ref + "/" + rel, includeRoot: ref, workingDirectory: ref, refModel: refModel)
    }

    static func convert(_ checkpoint: String, configs: [ConfigSource], tokenizer: String) throws -> String {
        let out = temp()
        _ = try Converter.convert(inputs: [ref + "/" + checkpoint], output: out, options: ConvertOptions(
            importOptions: ImportOptions(configs: configs), tokenizer: tokenizer))
        return out
    }

    /// Same bytes, and (for a readable failure) the same metadata values and tensors.
    static func expectSameFile(_ a: String, _ b: String) throws {
        let fa = try SVAEFile.open(a), fb = try SVAEFile.open(b)
        #expect(fa.metadata.keys == fb.metadata.keys)
        for k in fa.metadata.keys { #expect(fa.metadata[k] == fb.metadata[k], "\(k)") }
        #expect(fa.tokenizer == fb.tokenizer)
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    }

    @Test func svaeYAMLChainConvertsLikeExplicitFlags() throws {
        let r = try Self.yaml("config/SVAE/SVAE-768/svae_768_h4.yaml")
        #expect(r.tokenizer.hasSuffix("model_repo/opt-125m"))
        let viaYAML = try Self.convert("svae_768_h4.safetensors", configs: r.sources, tokenizer: r.tokenizer)
        let explicit = try Self.convert("svae_768_h4.safetensors", configs: [
            .flags([("num_attention_heads", .number("4")), ("max_seq_len", .number("64"))])], tokenizer: Self.opt)
        try Self.expectSameFile(viaYAML, explicit)
        let m = try SVAEFile.open(viaYAML).metadata
        #expect(m.int("svae.encoder_layers") == 4 && m.int("svae.num_heads") == 4 && m.int("svae.max_seq_len") == 64)
        #expect(m.bool("svae.learnable_add") == false && m.bool("tokens.add_bos") == true && m.int("tokens.bos_id") == 2)
    }

    @Test func sllmYAMLChainConvertsLikeExplicitFlags() throws {
        let r = try Self.yaml("config/SLLM/SLLM-125m/sllm_125m_h1_all.yaml")
        let viaYAML = try Self.convert("sllm_125m_h1.safetensors", configs: r.sources, tokenizer: r.tokenizer)
        let explicit = try Self.convert("sllm_125m_h1.safetensors", configs: [
            try ConfigSource.file(Self.opt + "/config.json", role: .llm),
            .flags([("num_attention_heads", .number("4")), ("max_seq_len", .number("64")), ("max_sentences", .number("64"))]),
        ], tokenizer: Self.opt)
        try Self.expectSameFile(viaYAML, explicit)
        let m = try SVAEFile.open(viaYAML).metadata
        #expect(m.int("svae.encoder_layers") == 1 && m.int("llm.layers") == 2 && m.int("llm.num_heads") == 4)
        #expect(m.int("llm.max_sentences") == 64 && m.int("svae.max_seq_len") == 64)
    }

    /// What the converter stored reads back as a tokenizer identical to transformers' on the OPT folder.
    @Test func convertedTokenizerMatchesTransformers() throws {
        let r = try Self.yaml("config/SVAE/SVAE-768/svae_768_h4.yaml")
        let f = try SVAEFile.open(try Self.convert("svae_768_h4.safetensors", configs: r.sources, tokenizer: r.tokenizer))
        let stored = try BPETokenizer(section: try #require(f.tokenizer), metadata: f.metadata)
        let loaded = try BPETokenizer.load(Self.opt)
        let lines = try #require(String(data: try Data(contentsOf: URL(fileURLWithPath: Self.ref + "/opt_goldens.jsonl")), encoding: .utf8))
            .split(separator: "\n")
        #expect(lines.count > 30)
        for line in lines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let text = try #require(o["text"] as? String)
            let ids = try #require(o["ids"] as? [Int]).map(Int32.init)
            #expect(stored.encode(text) == ids, "\(text.debugDescription)")
            #expect(loaded.encode(text) == ids, "\(text.debugDescription)")
            #expect(try stored.decode(ids) == o["decoded"] as? String, "\(text.debugDescription)")
        }
    }

    @Test func refModelFlagOverridesAndOPTLayersAreNeverTheSVAEs() throws {
        let other = tempDir()
        for name in ["config.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(atPath: Self.opt + "/" + name, toPath: other + "/" + name)
        }
        let r = try Self.yaml("config/SVAE/SVAE-768/svae_768_h4.yaml", refModel: other)
        #expect(r.tokenizer == other)
        // OPT's own num_hidden_layers (2) is not read for the SentenceVAE: the YAML's 4 stands.
        #expect(!r.sources.contains { $0.name.hasSuffix("config.json") && $0.values.contains { $0.0 == "num_hidden_layers" } })
        // A YAML layer count that contradicts the checkpoint is a conflict naming the YAML line.
        let dir = try write(["x.yaml": "ref_model_dir: opt\nnum_hidden_layers: 2\n"])
        try FileManager.default.copyItem(atPath: Self.opt, toPath: dir + "/opt")
        let x = try ReferenceConfig.load(path: dir + "/x.yaml", includeRoot: dir, workingDirectory: dir)
        do {
            _ = try Converter.convert(inputs: [Self.ref + "/svae_768_h4.safetensors"], output: temp(), options: ConvertOptions(
                importOptions: ImportOptions(configs: x.sources), tokenizer: x.tokenizer))
            Issue.record("expected a conflict")
        } catch {
            let line = ConvertError.describe(error)
            #expect(line.contains("x.yaml:2:20 num_hidden_layers") && line.contains("4") && line.contains("2"), "\(line)")
        }
    }

    // MARK: refusals

    func write(_ files: [String: String]) throws -> String {
        let dir = tempDir()
        for (name, text) in files {
            let p = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: p, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func refusal(_ files: [String: String], top: String, root: String? = nil) throws -> String {
        let dir = try write(files)
        do {
            _ = try ReferenceConfig.load(path: dir + "/" + top, includeRoot: root.map { dir + "/" + $0 } ?? dir, workingDirectory: dir)
            Issue.record("expected a refusal")
            return ""
        } catch {
            let line = ConvertError.describe(error)
            #expect(!line.contains("\n"), "\(line)")
            return line
        }
    }

    @Test func includesStayInsideTheRootWithoutCycles() throws {
        let escape = try refusal(["cfg/a/top.yaml": "__base__: !include ../../secret.yaml\n", "secret.yaml": "x: 1\n"],
                                 top: "cfg/a/top.yaml", root: "cfg")
        #expect(escape.contains("top.yaml: line 1, column 11: !include ../../secret.yaml") && escape.contains("outside"), "\(escape)")
        let absolute = try refusal(["top.yaml": "__base__: !include /etc/hostname\n"], top: "top.yaml")
        #expect(absolute.contains("absolute paths are refused"), "\(absolute)")
        let cycle = try refusal(["a.yaml": "__base__: !include b.yaml\n", "b.yaml": "__base__: !include a.yaml\n"], top: "a.yaml")
        #expect(cycle.contains("include cycle"), "\(cycle)")
        let missing = try refusal(["a.yaml": "__base__: !include nothere.yaml\n"], top: "a.yaml")
        #expect(missing.contains("!include nothere.yaml: no such file"), "\(missing)")
    }

    @Test func syntaxAndValueErrorsNameFileLineAndKey() throws {
        let syntax = try refusal(["a.yaml": "ref_model_dir: x\nnum_hidden_layers: [1, 2\nmax_seq_len: 3\n"], top: "a.yaml")
        #expect(syntax.contains("a.yaml: line ") && syntax.contains("column") && syntax.contains("syntax error"), "\(syntax)")
        let duplicate = try refusal(["a.yaml": "num_hidden_layers: 1\nnum_hidden_layers: 2\n"], top: "a.yaml")
        #expect(duplicate.contains("num_hidden_layers") && duplicate.contains("twice"), "\(duplicate)")
        let noFolder = try refusal(["a.yaml": "num_hidden_layers: 1\nref_model_dir: model_repo/none\n"], top: "a.yaml")
        #expect(noFolder.contains("a.yaml:2:16 ref_model_dir: folder model_repo/none not found"), "\(noFolder)")
        let mergeOverScalar = try refusal(["b.yaml": "svae: 1\n", "a.yaml": "__base__: !include b.yaml\nsvae:\n  x: 1\n"], top: "a.yaml")
        #expect(mergeOverScalar.contains("key svae: a mapping cannot be merged"), "\(mergeOverScalar)")

        // A value of the wrong type reaches the planner with its YAML place.
        let dir = try write(["a.yaml": "num_hidden_layers: four\nref_model_dir: opt\n"])
        try FileManager.default.copyItem(atPath: Self.opt, toPath: dir + "/opt")
        let r = try ReferenceConfig.load(path: dir + "/a.yaml", includeRoot: dir, workingDirectory: dir)
        do {
            _ = try Converter.convert(inputs: [Self.ref + "/svae_768_h4.safetensors"], output: temp(),
                                      options: ConvertOptions(importOptions: ImportOptions(configs: r.sources), tokenizer: r.tokenizer))
            Issue.record("expected a bad value")
        } catch {
            let line = ConvertError.describe(error)
            #expect(line.contains("a.yaml:1:20 num_hidden_layers") && line.contains("four"), "\(line)")
        }
    }

    @Test func mergeFollowsLoadYAML() throws {
        // later keys win, nested mappings merge, a chain of __base__ is followed
        let dir = try write([
            "base.yaml": "svae:\n  learnable_add: false\n  ref_model_dir: opt\nllm:\n  ref_model_dir: opt\nmax_sen_len: 8\nmax_sen_num: 5\n",
            "mid.yaml": "__base__: !include base.yaml\nsvae:\n  num_hidden_layers: 1\nmax_sen_len: 64\n",
            "top.yaml": "__base__: !include mid.yaml\nsvae:\n  learnable_add: false\n",
        ])
        try FileManager.default.copyItem(atPath: Self.opt, toPath: dir + "/opt")
        let r = try ReferenceConfig.load(path: dir + "/top.yaml", includeRoot: dir, workingDirectory: "/nonexistent")
        let yaml = try #require(r.sources.first)
        #expect(yaml.values.map(\.0).sorted() == ["learnable_add", "max_sentences", "max_seq_len", "num_hidden_layers"])
        #expect(yaml.values.first { $0.0 == "max_seq_len" }?.1 == .number("64"))
        #expect(yaml.values.first { $0.0 == "max_sentences" }?.1 == .number("5"))
        #expect(yaml.origins["learnable_add"]?.hasPrefix(dir + "/top.yaml:3:") == true)
        #expect(r.tokenizer == dir + "/opt")  // found beside the YAML file when not in the working directory
    }
}
