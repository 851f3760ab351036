import Foundation
import SVAEFormat
import SVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEModel

/// Quantized files against the PyTorch f32 goldens. The limits are set from measurements on these
/// fixtures (see BENCHMARKS.md, "Quantized parity") with a margin; random weights are harder on
/// quantization than trained ones (no outlier structure to exploit, near-flat logits).
@Suite struct QuantizedTests {
    struct Limits {
        /// Smallest cosine between our sentence vector and the reference's.
        let minVectorCosine: Double
        /// Smallest share of greedy tokens equal to the reference, position by position.
        let minGreedyAgreement: Double
        /// Largest teacher-forced logit error relative to the logits' range.
        let maxRelativeLogitError: Double
    }

    static let limits: [SVAEFormat.ElementType: Limits] = [
        // Measured: worst cosine 0.999998, 55/55 greedy, 0.0004.
        .f16: Limits(minVectorCosine: 0.9999, minGreedyAgreement: 1.0, maxRelativeLogitError: 0.002),
        // Measured 2026-11-22: worst cosine 0.9955 (h32_l1_la: learnable-add pooling weights each
        // token by a linear function of itself, so weight error enters twice), 55/55 greedy, 0.0129.
        .q8_0: Limits(minVectorCosine: 0.99, minGreedyAgreement: 0.95, maxRelativeLogitError: 0.02),
        // Measured: worst cosine 0.9467, greedy 31/55 on h32_l1_la (55/55 on h32_l2_sum_proj), 0.127.
        .q4_0: Limits(minVectorCosine: 0.93, minGreedyAgreement: 0.45, maxRelativeLogitError: 0.15),
        // svae-convert's q8 choice (the encoder's and decoder's linear weights and the LM head
        // i8r, the embeddings q8_0). Measured 2026-12-02: worst cosine 0.9935 (h32_l1_la; 0.99993
        // on h32_l2_sum_proj), relative logit error 0.0099 (q8_0: 0.0129), greedy 55/55 on
        // h32_l2_sum_proj but 45/55 on h32_l1_la: one of its 5 sentences takes another first
        // token (near-flat logits of random weights) and every later position then differs.
        // Over 400 perturbed vectors of h32_l1_la the i8r decoder gives f32's ids for 74.2 % of
        // them, the q8_0 decoder for 73.0 %, so the greedy limit allows one such sentence.
        .i8r: Limits(minVectorCosine: 0.99, minGreedyAgreement: 0.8, maxRelativeLogitError: 0.015),
    ]

    @Test(arguments: [SVAEFormat.ElementType.f16, .q8_0, .q4_0, .i8r])
    func quantizedStaysClose(type: SVAEFormat.ElementType) throws {
        let limit = Self.limits[type]!
        for name in ["h32_l1_la", "h32_l2_sum_proj"] {
            let g = try loadGolden(name)
            let model = try SentenceVAE(path: try convertFixture(name, type: type, golden: g))
            let ctx = try KernelContext(threads: 1)
            let vectors = try model.encode(g.sentences, context: ctx)
            try #require(vectors.count == g.vectors.count)
            var worstCosine = 1.0
            for (v, golden) in zip(vectors, g.vectors) { worstCosine = min(worstCosine, try cosine(v, golden)) }
            var same = 0, total = 0
            for (i, v) in g.vectors.enumerated() {
                let ids = try DecoderSession(model: model, vector: v, context: ctx).generate()
                for (p, id) in g.greedy[i].enumerated() {
                    total += 1
                    if p < ids.count && ids[p] == id { same += 1 }
                }
            }
            let session = try DecoderSession(model: model, vector: g.vectors[g.logits_sentence], context: ctx)
            var worstRelative = 0.0
            for (p, id) in g.sentences[g.logits_sentence].enumerated() {
                let logits = Array(try session.step(id))
                let ref = g.logits[p]
                let range = Double(ref.max()! - ref.min()!)
                worstRelative = max(worstRelative, try maxAbsDiff(logits, ref) / range)
            }
            let agreement = Double(same) / Double(total)
            print("quantized-parity \(name) \(type): min cosine \(worstCosine), greedy agreement \(same)/\(total), max relative logit error \(worstRelative)")
            #expect(worstCosine >= limit.minVectorCosine, "\(name) \(type): vector cosine \(worstCosine)")
            #expect(agreement >= limit.minGreedyAgreement, "\(name) \(type): greedy agreement \(agreement)")
            #expect(worstRelative <= limit.maxRelativeLogitError, "\(name) \(type): relative logit error \(worstRelative)")
        }
    }

    /// Issue 20's bound between svae-convert's q8 choice (`.i8r` here: the encoder's linear
    /// weights i8r, the embeddings q8_0, f16 where a row is not a multiple of 32) and the f32
    /// file, both through our runtime: cosine ≥ 0.999 on the fixtures that pool by sum (min
    /// 0.99990 on h32_l2_sum_proj, 0.99978 on h16_l2_sum, 2026-12-03). The learnable-add fixtures
    /// (random weights; the pooling weighs each token by a linear function of itself, so weight
    /// error enters twice) reach it on every sentence but one each: min 0.99352 (h32_l1_la) and
    /// 0.98840 (h48_l3_la_proj, whose 24-wide embedding is f16; 0.99470 with it in f32), the
    /// others ≥ 0.9998. Those two are the sentences whose pooled sum cancels most: the norms of
    /// its centred terms add up to 2.9× and 4.0× the centred sum's (what the final LayerNorm
    /// keeps), against 1.0–1.5× for the other sentences (tools/parity/pooling_conditioning.py),
    /// so their relative error is amplified. There the bounds are 0.99 and 0.985.
    @Test func q8ChoiceAgainstF32() throws {
        for (name, bound) in [("h32_l2_sum_proj", 0.999), ("h16_l2_sum", 0.999), ("h32_l1_la", 0.99), ("h48_l3_la_proj", 0.985)] {
            let g = try loadGolden(name)
            let ctx = try KernelContext(threads: 1)
            let f32 = try SentenceVAE(path: try convertFixture(name, type: .f32, golden: g)).encode(g.sentences, context: ctx)
            let q8 = try SentenceVAE(path: try convertFixture(name, type: .i8r, golden: g)).encode(g.sentences, context: ctx)
            try #require(f32.count == g.sentences.count && q8.count == f32.count)
            var worst = 1.0
            for (a, b) in zip(f32, q8) { worst = min(worst, try cosine(a, b)) }
            print("q8-choice-vs-f32 \(name): min cosine \(worst) over \(f32.count) sentences")
            #expect(worst >= bound, "\(name): min cosine \(worst)")
        }
    }
}
