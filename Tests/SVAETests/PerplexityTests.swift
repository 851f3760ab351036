import Foundation
import SVAE
import SVAEFormat
import SVAEImport
import SVAEModel
import SVAETestSupport
import Testing

/// The repository root (models/ and docs/ live there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `PerplexityEvaluator` end to end: the shipped model's teacher-forced perplexity on its own
/// held-out text equals what its PyTorch training script measured (models/svae-tiny/metrics.json).
@Suite struct EvaluatorTests {
    static func convertTiny(_ type: SVAEFormat.ElementType) throws -> String {
        let dir = repositoryRoot.appendingPathComponent("models/svae-tiny").path
        let out = NSTemporaryDirectory() + "svae-tiny-\(UUID().uuidString)-\(type).svae"
        var o = ConvertOptions(importOptions: ImportOptions(configs: [try ConfigSource.file(dir + "/config.json")]))
        o.defaultType = type
        _ = try Converter.convert(inputs: [dir], output: out, options: o)
        return out
    }

    struct Metrics: Decodable {
        struct Results: Decodable { let test_tf_ppl: Double; let test_target_tokens: Int; let test_tf_token_acc: Double }
        let results: Results
    }

    @Test func shippedModelMatchesItsTrainingScript() throws {
        let metrics = try JSONDecoder().decode(Metrics.self, from: Data(contentsOf: repositoryRoot.appendingPathComponent("models/svae-tiny/metrics.json")))
        let model = try Model(path: try Self.convertTiny(.f32))
        let e = try PerplexityEvaluator(model: model, threads: 2)
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("models/svae-tiny/heldout.txt"), encoding: .utf8)
        for line in text.split(separator: "\n") { try e.add(line: String(line)) }
        let s = e.stats
        #expect(s.units == 1000 && s.tokens == metrics.results.test_target_tokens)
        // metrics.json rounds to 4 decimals.
        #expect(abs(s.perplexity - metrics.results.test_tf_ppl) <= 6e-5, "PPL \(s.perplexity) vs \(metrics.results.test_tf_ppl)")
        #expect(abs(s.accuracy - metrics.results.test_tf_token_acc) <= 6e-5, "accuracy \(s.accuracy)")
        #expect(e.attention == nil && !s.hasReference)
    }

    @Test func quantizedAgainstF32AndBadReferences() throws {
        let f32 = try Model(path: try Self.convertTiny(.f32)), q8 = try Model(path: try Self.convertTiny(.q8_0))
        let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("models/svae-tiny/samples.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let e = try PerplexityEvaluator(model: q8, reference: f32, threads: 1)
        for l in lines { try e.add(line: l) }
        let s = e.stats
        #expect(s.hasReference && s.kld.count == s.tokens && s.kld.mean > 0 && s.kld.mean < 0.01)
        #expect(s.top1Agreement > 0.9 && abs(s.perplexityRatio - 1) < 0.05)
        // A blank line adds nothing; a line over max_seq_len (32) fails and adds nothing.
        #expect(try e.add(line: "  ").tokens == 0)
        #expect(throws: SVAEError.self) { try e.add(line: String(repeating: "integral ", count: 40)) }
        #expect(e.stats == s)
        // Another tokenizer is refused as a reference.
        let random = try Model(path: try makeRandomModel())
        #expect(throws: SVAEError.self) { try PerplexityEvaluator(model: f32, reference: random) }
        // No tokenizer: text is refused.
        #expect(throws: SVAEError.self) { try PerplexityEvaluator(model: try Model(path: try makeRandomModel(withTokenizer: false))) }
    }
}
