import Foundation
import SVAE
import SVAEFormat
import SVAEImport
import SVAEModel
import SVAETestSupport
import SVAETokenizer
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

    /// SLLM lines are passages: n sentences give n stop decisions and the tokens (+ EOS) of the
    /// n − 1 later sentences; both prefill modes score the same targets. OPT: n − 1 targets.
    @Test func sllmAndOPTUnits() throws {
        let sllm = try Model(path: try makeRandomModel(architecture: "sllm"))
        let tok = try #require(sllm.tokenizer)
        let line = "the cat. the dog, then x! end"
        let sentences = SentenceSplitter(maxSentences: 64).split(line)
        #expect(sentences.count == 4)
        var stats: [PerplexityStats] = []
        for mode in [PrefillAttention.bidirectional, .causal] {
            let e = try PerplexityEvaluator(model: sllm, attention: mode, threads: 1)
            #expect(e.attention == mode)
            try e.add(line: line)
            try e.add(line: "one sentence only.")
            stats.append(e.stats)
        }
        let targets = sentences.dropFirst().reduce(0) { $0 + tok.encode($1).count }
        for s in stats { #expect(s.units == 2 && s.tokens == targets && s.stopDecisions == 5) }
        #expect(stats[0].sumCE != stats[1].sumCE)
        let opt = try Model(path: try makeRandomModel(architecture: "opt"))
        let e = try PerplexityEvaluator(model: opt, threads: 1)
        try e.add(line: "the cat sat")
        #expect(e.stats.tokens == (try opt.tokenize("the cat sat")).count - 1 && e.attention == nil && e.stats.stopDecisions == 0)
    }
}
