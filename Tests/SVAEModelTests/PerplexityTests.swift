import Foundation
import SVAEFormat
import SVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEModel

/// Goldens of tools/parity/make_perplexity_fixtures.py.
struct PerplexityGolden: Decodable {
    struct Score: Decodable {
        let tokens: Int
        let sum_ce: Double
        let mean_ce: Double
        let correct: Int
        let stop_correct: Int?
        let stop_decisions: Int?
    }
    struct Units: Decodable {
        let units: [[Int32]]
        let tokens: Int
        let mean_ce: Double
        let correct: Int
    }
    struct Passages: Decodable {
        let units: [[[Int32]]]
        let bidirectional: Score
        let causal: Score
    }
    let svae: [String: Units]
    let sllm: [String: Passages]
    let opt: [String: Units]

    static func load() throws -> PerplexityGolden {
        let url = Bundle.module.url(forResource: "Fixtures/perplexity/perplexity", withExtension: "json")!
        return try JSONDecoder().decode(PerplexityGolden.self, from: Data(contentsOf: url))
    }
}

/// KL(P_ref ‖ P) of one row, the plain way (softmax in Double, then Σ p log p/q).
func naiveKL(_ ref: ArraySlice<Float>, _ cand: ArraySlice<Float>) -> Double {
    func logSoftmax(_ x: ArraySlice<Float>) -> [Double] {
        let m = Double(x.max()!)
        let lse = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
        return x.map { Double($0) - lse }
    }
    let lp = logSoftmax(ref), lq = logSoftmax(cand)
    return zip(lp, lq).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

/// `PerplexityScorer` against PyTorch (mean CE within 1e-5 relative in f32), the KL divergence
/// machinery, and the bounded-memory quantiles.
@Suite struct PerplexityTests {
    static let ceTolerance = 1e-5

    @Test(arguments: ["h32_l1_la", "h48_l3_la_proj"])
    func svaeMatchesReference(name: String) throws {
        let golden = try #require(try PerplexityGolden.load().svae[name])
        let model = try SentenceVAE(path: try convertFixture(name, type: .f32, golden: try loadGolden(name)))
        for path in KernelPath.supported {
            let scorer = try PerplexityScorer(model: .svae(model), context: try KernelContext(threads: 1, path: path))
            for u in golden.units { try scorer.score([u]) }
            let s = scorer.stats
            #expect(s.units == golden.units.count && s.tokens == golden.tokens && s.correct == golden.correct, "\(name) \(path)")
            #expect(relativeError(s.meanCE, golden.mean_ce) <= Self.ceTolerance, "\(name) \(path): mean CE \(s.meanCE) vs \(golden.mean_ce)")
            #expect(s.stopDecisions == 0 && !s.hasReference)
        }
    }

    @Test(arguments: sllmFixtures, prefillModes)
    func sllmMatchesReferenceInBothModes(name: String, mode: PrefillAttention) throws {
        let golden = try #require(try PerplexityGolden.load().sllm[name])
        let want = mode == .bidirectional ? golden.bidirectional : golden.causal
        let g = try loadSLLM(name)
        // The file's own mode, and the other file's mode overridden: the same numbers.
        let own = try convertSLLM(name, g, mode: mode)
        let other = try convertSLLM(name, g, mode: mode == .causal ? .bidirectional : .causal)
        for (model, attention) in [(own, nil), (other, mode)] as [(SentenceLLM, PrefillAttention?)] {
            let scorer = try PerplexityScorer(model: .sllm(model), attention: attention, context: try KernelContext(threads: 2))
            for p in golden.units { try scorer.score(p) }
            let s = scorer.stats
            #expect(s.tokens == want.tokens && s.correct == want.correct, "\(name) \(mode)")
            #expect(s.stopDecisions == want.stop_decisions && s.stopCorrect == want.stop_correct, "\(name) \(mode): stop \(s.stopCorrect)/\(s.stopDecisions)")
            #expect(relativeError(s.meanCE, want.mean_ce) <= Self.ceTolerance, "\(name) \(mode): mean CE \(s.meanCE) vs \(want.mean_ce)")
        }
    }

    /// The two modes give different numbers on these passages (otherwise the mode test above
    /// could pass with the override ignored).
    @Test func sllmModesDiffer() throws {
        let golden = try PerplexityGolden.load()
        for (name, p) in golden.sllm { #expect(abs(p.bidirectional.mean_ce - p.causal.mean_ce) > 1e-3, "\(name)") }
    }

    @Test(arguments: optFixtures, [64, 5, 1])
    func optMatchesReference(name: String, chunk: Int) throws {
        let golden = try #require(try PerplexityGolden.load().opt[name])
        let (_, model) = try convertOPT(name)
        let scorer = try PerplexityScorer(model: .opt(model), context: try KernelContext(threads: 1), optChunk: chunk)
        for u in golden.units { try scorer.score([u]) }
        let s = scorer.stats
        #expect(s.tokens == golden.tokens && s.correct == golden.correct, "\(name) chunk \(chunk)")
        #expect(relativeError(s.meanCE, golden.mean_ce) <= Self.ceTolerance, "\(name) chunk \(chunk): mean CE \(s.meanCE) vs \(golden.mean_ce)")
    }

    /// The batched teacher-forced decoder gives the reference's logits and the step-by-step
    /// decoder's.
    @Test(arguments: fixtureNames)
    func forcedLogitsMatchReferenceAndSteps(name: String) throws {
        let g = try loadGolden(name)
        let model = try SentenceVAE(path: try convertFixture(name, type: .f32, golden: g))
        let ctx = try KernelContext(threads: 1)
        let scratch = ForcedDecoderScratch()
        for (i, golden) in [(g.logits_sentence, g.logits), (g.logits_long_sentence, g.logits_long)] {
            let ids = g.sentences[i], V = g.config.vocab_size
            let logits = Array(try model.forcedLogits(ids, memory: g.vectors[i], scratch: scratch, context: ctx))
            #expect(logits.count == ids.count * V)
            let session = try DecoderSession(model: model, vector: g.vectors[i], context: ctx)
            for (p, id) in ids.enumerated() {
                let row = Array(logits[(p * V)..<((p + 1) * V)])
                #expect(try maxAbsDiff(row, golden[p]) <= 1e-4, "\(name): sentence \(i) position \(p) vs PyTorch")
                #expect(try maxAbsDiff(row, Array(try session.step(id))) <= 1e-5, "\(name): sentence \(i) position \(p) vs steps")
            }
        }
    }

    @Test func klDivergenceOfAFileAgainstItselfIsZero() throws {
        let g = try loadGolden("h32_l1_la")
        let path = try convertFixture("h32_l1_la", type: .f32, golden: g)
        let a = try SentenceVAE(path: path), b = try SentenceVAE(path: path)
        let scorer = try PerplexityScorer(model: .svae(a), reference: .svae(b), context: try KernelContext(threads: 2),
                                          referenceContext: try KernelContext(threads: 2))
        for s in g.sentences { try scorer.score([s]) }
        let s = scorer.stats
        #expect(s.hasReference && s.tokens == g.sentences.reduce(0) { $0 + $1.count })
        #expect(s.kld.count == s.tokens && s.kld.max == 0 && s.kld.mean == 0 && s.kld.quantile(0.99) == 0)
        #expect(s.top1Agreement == 1 && s.perplexityRatio == 1 && s.referenceSumCE == s.sumCE)
    }

    /// q4_0 against f32: every per-token KL equals the plain formula's, and the summary uses them.
    @Test func klDivergenceOfQuantizedMatchesPlainFormula() throws {
        let g = try loadGolden("h48_l3_la_proj")
        let f32 = try SentenceVAE(path: try convertFixture("h48_l3_la_proj", type: .f32, golden: g))
        let q4 = try SentenceVAE(path: try convertFixture("h48_l3_la_proj", type: .q4_0, golden: g))
        let ctx = try KernelContext(threads: 1)
        let scorer = try PerplexityScorer(model: .svae(q4), reference: .svae(f32), context: ctx)
        var klds: [Double] = []
        var same = 0
        let scratchA = ForcedDecoderScratch(), scratchB = ForcedDecoderScratch()
        let V = g.config.vocab_size
        for s in g.sentences {
            try scorer.score([s])
            let vq = try q4.encode([s], context: ctx)[0], vf = try f32.encode([s], context: ctx)[0]
            let lq = Array(try q4.forcedLogits(s, memory: vq, scratch: scratchA, context: ctx))
            let lf = Array(try f32.forcedLogits(s, memory: vf, scratch: scratchB, context: ctx))
            for t in 0..<s.count {
                let r = lf[(t * V)..<((t + 1) * V)], c = lq[(t * V)..<((t + 1) * V)]
                klds.append(naiveKL(r, c))
                if r.firstIndex(of: r.max()!) == c.firstIndex(of: c.max()!) { same += 1 }
            }
        }
        let st = scorer.stats
        let mean = klds.reduce(0, +) / Double(klds.count)
        #expect(st.kld.count == klds.count && mean > 1e-6)
        #expect(relativeError(st.kld.mean, mean) <= 1e-9, "mean KL \(st.kld.mean) vs \(mean)")
        #expect(relativeError(st.kld.max, klds.max()!) <= 1e-9)
        let sorted = klds.sorted()
        for p in [0.5, 0.99] {
            let exact = sorted[Int((p * Double(sorted.count)).rounded(.up)) - 1]
            #expect(relativeError(st.kld.quantile(p), exact) <= 1.2e-3, "quantile \(p): \(st.kld.quantile(p)) vs \(exact)")
        }
        #expect(st.top1Same == same)
        #expect(abs(st.perplexityRatio - exp(st.meanCE - st.referenceMeanCE)) < 1e-12 && st.perplexityRatio != 1)
    }

    @Test func histogramQuantilesWithinStatedError() {
        var rng = SplitMix64(7)
        var h = LogHistogram(), a = LogHistogram(), b = LogHistogram()
        var values: [Double] = []
        for i in 0..<5000 {
            // Log-uniform over 1e-9 … 1e2, some exact zeros.
            let v = i % 50 == 0 ? 0 : pow(10, -9 + 11 * Double.random(in: 0..<1, using: &rng))
            values.append(v)
            h.add(v)
            if i % 2 == 0 { a.add(v) } else { b.add(v) }
        }
        a.merge(b)
        let sorted = values.sorted()
        for p in [0.01, 0.02, 0.1, 0.5, 0.9, 0.99, 1.0] {
            let exact = sorted[max(1, Int((p * Double(sorted.count)).rounded(.up))) - 1]
            let q = h.quantile(p)
            #expect(exact == 0 ? q == 0 : relativeError(q, exact) <= 1.2e-3, "p \(p): \(q) vs \(exact)")
            #expect(a.quantile(p) == q, "merged histogram, p \(p)")
        }
        #expect(h.count == 5000 && h.max == sorted.last! && relativeError(h.mean, values.reduce(0, +) / 5000) < 1e-12)
        var tiny = LogHistogram()
        tiny.add(-1e-17)  // rounding below zero counts as 0
        tiny.add(1e5)     // above the top bin: reported as the maximum
        #expect(tiny.quantile(0.5) == 0 && tiny.quantile(1) == 1e5 && LogHistogram().quantile(0.5) == 0)
    }

    @Test func badUnitsAreTypedErrorsAndAddNothing() throws {
        let g = try loadGolden("h16_l2_sum")
        let model = try SentenceVAE(path: try convertFixture("h16_l2_sum", type: .f32, golden: g))
        let scorer = try PerplexityScorer(model: .svae(model), context: try KernelContext(threads: 1))
        try scorer.score([g.sentences[0]])
        let before = scorer.stats
        #expect(throws: ModelError.sentenceTooLong(input: 0, tokens: 13, max: 12)) { try scorer.score([[Int32](repeating: 5, count: 13)]) }
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 1, id: 40, vocab: 40)) { try scorer.score([[2, 40]]) }
        #expect(throws: ModelError.emptySentence(input: 0)) { try scorer.score([[]]) }
        #expect(scorer.stats == before)
        // A reference of another architecture or vocabulary is refused.
        let other = try SentenceVAE(path: try convertFixture("h32_l1_la", type: .f32, golden: try loadGolden("h32_l1_la")))
        #expect(throws: ModelError.badOption(name: "reference", expected: "a vocabulary of 40 ids", found: "64")) {
            try PerplexityScorer(model: .svae(model), reference: .svae(other), context: try KernelContext(threads: 1))
        }
        let (_, opt) = try convertOPT("opt_pre")
        #expect(throws: ModelError.badOption(name: "reference", expected: "architecture svae", found: "opt")) {
            try PerplexityScorer(model: .svae(model), reference: .opt(opt), context: try KernelContext(threads: 1))
        }
        // SLLM: more sentences than positions.
        let sg = try loadSLLM("sllm_pre")
        let sllm = try PerplexityScorer(model: .sllm(try convertSLLM("sllm_pre", sg, mode: .causal)), context: try KernelContext(threads: 1))
        #expect(throws: ModelError.contextFull(positions: sg.positions + 1, max: sg.positions)) {
            try sllm.score([[Int32]](repeating: [2, 5], count: sg.positions + 1))
        }
        #expect(sllm.stats.units == 0)
    }
}
