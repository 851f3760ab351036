import Foundation
import SVAEFormat
import SVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEModel

/// f32 parity with the PyTorch reference (tools/parity/make_svae_fixtures.py).
@Suite struct ParityTests {
    /// Max |Δ| allowed between our f32 results and PyTorch's (the limit).
    static let f32Tolerance = 1e-4

    @Test(arguments: fixtureNames)
    func f32MatchesReference(name: String) throws {
        let g = try loadGolden(name)
        let model = try SentenceVAE(path: try convertFixture(name, type: .f32, golden: g))
        for path in KernelPath.supported {
            let ctx = try KernelContext(threads: 1, path: path)
            let vectors = try model.encode(g.sentences, context: ctx)
            #expect(vectors.count == g.vectors.count)
            for (i, v) in vectors.enumerated() {
                let diff = try maxAbsDiff(v, g.vectors[i])
                #expect(diff <= Self.f32Tolerance, "\(name) \(path): vector \(i) max |Δ| \(diff)")
            }
            // Teacher-forced logits: feed the golden sentence and compare every position.
            for (sentence, golden) in [(g.logits_sentence, g.logits), (g.logits_long_sentence, g.logits_long)] {
                let session = try DecoderSession(model: model, vector: g.vectors[sentence], context: ctx)
                for (p, id) in g.sentences[sentence].enumerated() {
                    let logits = Array(try session.step(id))
                    let diff = try maxAbsDiff(logits, golden[p])
                    #expect(diff <= Self.f32Tolerance, "\(name) \(path): logits of sentence \(sentence) at \(p) max |Δ| \(diff)")
                }
            }
            // Greedy decoding from the golden vectors gives the reference ids exactly.
            for (i, v) in g.vectors.enumerated() {
                let ids = try DecoderSession(model: model, vector: v, context: ctx).generate()
                #expect(ids == g.greedy[i], "\(name) \(path): greedy ids of sentence \(i)")
            }
        }
    }

    @Test func batchedEncodingEqualsOneByOne() throws {
        let g = try loadGolden("h32_l2_sum_proj")
        let model = try SentenceVAE(path: try convertFixture("h32_l2_sum_proj", type: .f32, golden: g))
        let ctx = try KernelContext(threads: 2)
        let batch = try model.encode(g.sentences, context: ctx)
        for (i, s) in g.sentences.enumerated() {
            let one = try model.encode([s], context: ctx)[0]
            #expect(try maxAbsDiff(one, batch[i]) <= 1e-5)
        }
    }

    /// f32: a sentence encoded alone (2...packedMaxRows tokens: on AVX-512 its products run
    /// against the encoder's panel copies of the weights) gets the same bits as in a batch of
    /// more than packedMaxRows tokens (products against activation panels), on one and two
    /// threads; the copies are made on AVX-512 only, and only for the encoder.
    @Test func f32SentenceAloneEqualsInBatch() throws {
        let g = try loadGolden("h32_l2_sum_proj")
        let model = try SentenceVAE(path: try convertFixture("h32_l2_sum_proj", type: .f32, golden: g))
        let batch = g.sentences + g.sentences.reversed()
        #expect(batch.reduce(0, { $0 + $1.count }) > KernelContext.packedMaxRows)
        for threads in [1, 2] {
            let ctx = try KernelContext(threads: threads)
            let vectors = try model.encode(batch, context: ctx)
            for (i, s) in batch.enumerated() {
                let alone = try model.encode([s], context: ctx)[0]
                #expect(alone.map(\.bitPattern) == vectors[i].map(\.bitPattern), "\(threads)T sentence \(i) (\(s.count) tokens)")
            }
            let usesCopies = g.sentences.contains { ctx.usesPackedWeights(model.encLayers[0].qkv.w, n: $0.count) }
            #expect(model.encLayers.allSatisfy { [$0.qkv, $0.out, $0.up, $0.down].allSatisfy { $0.packed?.isMade == usesCopies } })
        }
        #expect(model.decLayers.allSatisfy { $0.selfQKV.packed == nil } && model.lmHead.packed == nil)
    }

    /// Two threads split a batch by sentences (one group per worker): the same vectors as one
    /// thread, bit for bit with i8r (its products are independent per token row).
    @Test func sentenceSplitEqualsOneThread() throws {
        let g = try loadGolden("h32_l2_sum_proj")
        let model = try SentenceVAE(path: try convertFixture("h32_l2_sum_proj", type: .i8r, golden: g))
        let batch = g.sentences + g.sentences.reversed() + g.sentences
        let one = try model.encode(batch, context: try KernelContext(threads: 1))
        let two = try model.encode(batch, context: try KernelContext(threads: 2))
        #expect(one.count == batch.count && two.count == batch.count)
        for i in 0..<batch.count { #expect(one[i].map(\.bitPattern) == two[i].map(\.bitPattern), "sentence \(i)") }
    }

    /// With i8r a sentence's vector does not depend on the batch around it: a batch of more
    /// than 128 tokens (several token groups, prefetching kernels past 128 activation rows) on
    /// one and two threads gives every sentence the bits it gets alone.
    @Test func i8rVectorIndependentOfBatch() throws {
        let g = try loadGolden("h32_l2_sum_proj")
        let model = try SentenceVAE(path: try convertFixture("h32_l2_sum_proj", type: .i8r, golden: g))
        var batch = [[Int32]]()
        while batch.reduce(0, { $0 + $1.count }) <= 300 { batch += batch.count % 2 == 0 ? g.sentences : g.sentences.reversed() }
        let alone = try g.sentences.map { try model.encode([$0], context: try KernelContext(threads: 1))[0] }
        for threads in [1, 2] {
            let vectors = try model.encode(batch, context: try KernelContext(threads: threads))
            for (i, s) in batch.enumerated() {
                let k = g.sentences.firstIndex(of: s)!
                #expect(vectors[i].map(\.bitPattern) == alone[k].map(\.bitPattern), "\(threads)T sentence \(i)")
            }
        }
    }

    @Test func badInputsAreTypedErrors() throws {
        let g = try loadGolden("h32_l1_la")
        let model = try SentenceVAE(path: try convertFixture("h32_l1_la", type: .f32, golden: g))
        let ctx = try KernelContext(threads: 1)
        #expect(throws: ModelError.emptySentence(input: 1)) { try model.encode([[2, 5], []], context: ctx) }
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 1, id: 64, vocab: 64)) { try model.encode([[2, 64]], context: ctx) }
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 0, id: -1, vocab: 64)) { try model.encode([[-1]], context: ctx) }
        let long = [Int32](repeating: 5, count: 13)
        #expect(throws: ModelError.sentenceTooLong(input: 0, tokens: 13, max: 12)) { try model.encode([long], context: ctx) }
        #expect(throws: ModelError.vectorSize(expected: 32, found: 3)) { try DecoderSession(model: model, vector: [1, 2, 3], context: ctx) }
        var nan = g.vectors[0]
        nan[4] = .nan
        #expect(throws: ModelError.nonFiniteVector(index: 4)) { try DecoderSession(model: model, vector: nan, context: ctx) }
        let s = try DecoderSession(model: model, vector: g.vectors[0], context: ctx)
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 0, id: 99, vocab: 64)) { try s.step(99) }
        // A session decoding the caller's input 3 names input 3, in the value and in the message.
        let third = try DecoderSession(model: model, vector: g.vectors[0], context: ctx, input: 3)
        let error = #expect(throws: ModelError.self) { try third.step(99) }
        #expect(error == .tokenOutOfRange(input: 3, position: 0, id: 99, vocab: 64))
        #expect(error?.description.hasPrefix("input 3, position 0:") == true)
        // The length cap: a session never runs past max_seq_len positions.
        let capped = try DecoderSession(model: model, vector: g.vectors[0], context: ctx)
        let ids = try capped.generate(maxTokens: 100)
        #expect(ids.count <= 11)
        #expect(throws: ModelError.self) { for _ in 0..<20 { _ = try capped.step(5) } }
    }

    @Test func samplingIsSeededAndDeterministic() throws {
        let g = try loadGolden("h32_l1_la")
        let model = try SentenceVAE(path: try convertFixture("h32_l1_la", type: .f32, golden: g))
        let ctx = try KernelContext(threads: 1)
        func run(_ seed: UInt64) throws -> [Int32] {
            try DecoderSession(model: model, vector: g.vectors[3], context: ctx)
                .generate(sampler: Sampler(temperature: 1.5, topK: 20, topP: 0.95, seed: seed))
        }
        let a = try run(7), b = try run(7)
        #expect(a == b)
        let others = try (0..<8).map { try run(UInt64(100 + $0)) }
        #expect(others.contains { $0 != a }, "different seeds should not all give the same sentence")
        // Temperature 0 is greedy.
        let greedy = try DecoderSession(model: model, vector: g.vectors[3], context: ctx).generate(sampler: Sampler(temperature: 0))
        #expect(greedy == g.greedy[3])
    }
}
