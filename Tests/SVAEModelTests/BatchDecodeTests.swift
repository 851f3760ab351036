import Foundation
import SVAEFormat
import SVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEModel

/// Batched decoding (`DecoderBatch`): the same sentences as decoding alone up to near-ties, the
/// same output whatever the batch mates, continuous batching.
@Suite struct BatchDecodeTests {
    /// Largest logit difference, relative to the logits' range, between decoding alone and in a
    /// batch. Only the kernels' summation order differs (matrix-vector against batched kernels):
    /// ≈ 3e-7 of the range in f32 (measured on these fixtures). With quantized weights a
    /// difference that small can move an activation across an int8 rounding boundary, and the
    /// rounding then changes by one step (1/127 of its block's largest value): measured ≤ 1.9e-3
    /// (h48_l3_la_proj, whose f32 and quantized weights mix). Where the ids part, the two ids'
    /// logits were then at most twice the difference apart (else both paths would pick the same).
    /// With svae-convert's q8 choice (`.i8r` here: i8r decoder matrices and LM head) none: every
    /// i8r kernel computes a row's exact integer sum and the same float epilogue for any n.
    static func maxRelativeLogitDifference(_ type: SVAEFormat.ElementType) -> Float { type == .i8r ? 0 : type == .f32 ? 1e-5 : 1e-2 }

    /// The fixtures' golden vectors and `extra` perturbed copies of them (more sentences).
    static func vectors(_ g: Golden, extra: Int, seed: UInt64 = 7) -> [[Float]] {
        var rng = SplitMix64(seed)
        var out = g.vectors
        for i in 0..<extra {
            out.append(g.vectors[i % g.vectors.count].map { $0 + Float.random(in: -0.5...0.5, using: &rng) })
        }
        return out
    }

    @Test(arguments: [SVAEFormat.ElementType.f32, .q8_0, .q4_0, .i8r])
    func batchedEqualsAloneUpToNearTies(type: SVAEFormat.ElementType) throws {
        for name in fixtureNames {
            let g = try loadGolden(name)
            let model = try SentenceVAE(path: try convertFixture(name, type: type, golden: g))
            for path in KernelPath.supported {
                let ctx = try KernelContext(threads: 2, path: path)
                let r = try compareBatchedWithAlone(model: model, vectors: Self.vectors(g, extra: 19), batch: 6, context: ctx)
                print("batch-parity \(name) \(type) \(path): \(r)")
                #expect(r.maxRelativeLogitDifference <= Self.maxRelativeLogitDifference(type), "\(name) \(type) \(path): \(r)")
                #expect(r.maxRelativeGapAtDifference <= 2 * r.maxRelativeLogitDifference, "\(name) \(type) \(path): \(r)")
                if type == .i8r { #expect(r.differing == 0, "\(name) \(path): i8r decodes the same ids alone and batched: \(r)") }
            }
        }
    }

    /// `stepGreedy` (the fused argmax with i8r weights, logits + argmax otherwise) returns, step
    /// after step, the ids `Sampler.argmax` picks from `step`'s logits of a twin batch fed the same
    /// tokens: on every path, 1 and 2 threads, a batch of 7 and one of 1 (the matrix-vector kernels).
    @Test(arguments: [SVAEFormat.ElementType.i8r, .q8_0])
    func greedyStepEqualsArgmaxOfLogits(type: SVAEFormat.ElementType) throws {
        let g = try loadGolden("h48_l3_la_proj")
        let model = try SentenceVAE(path: try convertFixture("h48_l3_la_proj", type: type, golden: g))
        let vectors = Self.vectors(g, extra: 5)
        for path in KernelPath.supported {
            for threads in [1, 2] {
                let ctx = try KernelContext(threads: threads, path: path)
                for count in [7, 1] {
                    let a = try DecoderBatch(model: model, capacity: count, context: ctx)
                    let b = try DecoderBatch(model: model, capacity: count, context: ctx)
                    let slots = try vectors.prefix(count).map { v in (try a.join(v), try b.join(v)) }
                    var tokens = [Int32](repeating: model.config.bos, count: count)
                    for step in 0..<6 {
                        let logits = try a.step(slots: slots.map(\.0), tokens: tokens)
                        let want = (0..<count).map { i in
                            Sampler.argmax(UnsafeBufferPointer(rebasing: logits[(i * model.config.vocab)..<((i + 1) * model.config.vocab)]))
                        }
                        let got = Array(try b.stepGreedy(slots: slots.map(\.1), tokens: tokens))
                        #expect(got == want, "\(type) \(path) \(threads)T batch \(count) step \(step)")
                        tokens = want
                    }
                }
            }
        }
    }

    /// Decodes `vectors` with `run` on a batch of `capacity`, returning the results by number.
    static func run(_ model: SentenceVAE, _ requests: [DecodeRequest], capacity: Int, limit: Int? = nil,
                    context: KernelContext) throws -> [Result<[Int32], ModelError>] {
        let b = try DecoderBatch(model: model, capacity: capacity, context: context)
        var out = [Result<[Int32], ModelError>?](repeating: nil, count: requests.count)
        var it = requests.makeIterator()
        try b.run(limit: limit, next: { it.next() }) { i, r in
            #expect(out[i] == nil, "request \(i) finished twice")
            out[i] = r
        }
        #expect(b.freeSlots == capacity, "every slot is free after run")
        return out.map { $0! }
    }

    /// A sentence's output depends only on its vector and its sampler: greedy and seeded, the
    /// same ids in batches of 5 and 70 (70 > the 63 rows of one product: two products per step),
    /// whatever the order and the batch mates.
    @Test(arguments: [SVAEFormat.ElementType.f32, .q8_0, .q4_0, .i8r])
    func outputDoesNotDependOnBatchMates(type: SVAEFormat.ElementType) throws {
        let g = try loadGolden("h32_l2_sum_proj")
        let model = try SentenceVAE(path: try convertFixture("h32_l2_sum_proj", type: type, golden: g))
        let ctx = try KernelContext(threads: 2)
        let vectors = Self.vectors(g, extra: 75)
        let sampler = Sampler(temperature: 1.3, topK: 30, topP: 0.95, seed: 11)
        for s in [nil, sampler] {
            let requests = vectors.enumerated().map { DecodeRequest(vector: $1, sampler: s?.reseeded(UInt64($0))) }
            let small = try Self.run(model, requests, capacity: 5, context: ctx).map { try $0.get() }
            let large = try Self.run(model, requests, capacity: 70, context: ctx).map { try $0.get() }
            #expect(small == large, "batch 5 and batch 70")
            // Reversed order, other neighbours in every step.
            let reversed = try Self.run(model, requests.reversed(), capacity: 4, context: ctx).map { try $0.get() }
            #expect(small == Array(reversed.reversed()), "reversed input, batch 4")
            // One sentence among others, and alone in a batch (padded rows).
            let lone = try Self.run(model, [requests[9]], capacity: 8, context: ctx)
            #expect(try lone[0].get() == small[9])
            if s != nil { #expect(Set(small).count > 1, "sampled sentences differ between vectors") }
        }
    }

    /// Continuous batching: a finished sentence's slot goes to the next request at once; every
    /// request finishes exactly once with its own ids (those of decoding it alone here: the
    /// fixture's near-ties are not at these steps, see batchedEqualsAloneUpToNearTies); an
    /// invalid vector fails alone; `limit` caps the live sentences.
    @Test func continuousBatching() throws {
        let g = try loadGolden("h32_l1_la")
        let model = try SentenceVAE(path: try convertFixture("h32_l1_la", type: .f32, golden: g))
        let ctx = try KernelContext(threads: 1)
        let vectors = Self.vectors(g, extra: 7)
        var requests = vectors.enumerated().map { DecodeRequest(vector: $1, maxTokens: 1 + $0 % 4) }
        requests.insert(DecodeRequest(vector: [1, 2, 3]), at: 3)
        requests.append(DecodeRequest(vector: vectors[0], maxTokens: 0))
        let b = try DecoderBatch(model: model, capacity: 3, context: ctx)
        var it = requests.makeIterator()
        var events: [String] = [], pulled = 0, live = 0, mostLive = 0
        var results = [Int: Result<[Int32], ModelError>]()
        try b.run(next: {
            guard let r = it.next() else { return nil }
            events.append("join \(pulled)")
            pulled += 1
            return r
        }, onToken: { i, _ in
            live = 3 - b.freeSlots
            mostLive = max(mostLive, live)
            _ = i
            return true
        }, onFinish: { i, r in
            events.append("finish \(i)")
            results[i] = r
        })
        #expect(results.count == requests.count && mostLive == 3)
        #expect(results[3] == .failure(.vectorSize(expected: 32, found: 3)))
        #expect(results[requests.count - 1] == .success([]))
        // Request 0 (1 token) finishes after the first step, before request 3 joins; request 2
        // (3 tokens) is still running when requests 4 and 5 join.
        let at = { (e: String) in events.firstIndex(of: e)! }
        #expect(at("finish 0") < at("join 4"))
        #expect(at("join 5") < at("finish 2"))
        for (i, r) in requests.enumerated() where r.vector.count == 32 && r.maxTokens != 0 {
            let alone = try DecoderSession(model: model, vector: r.vector, context: ctx).generate(maxTokens: r.maxTokens)
            #expect(try results[i]!.get() == alone, "request \(i)")
            #expect(alone.count <= r.maxTokens!)
        }
        // At most `limit` live sentences.
        var seen = 0
        var it2 = requests.makeIterator()
        try b.run(limit: 2, next: { it2.next() }, onToken: { _, _ in seen = max(seen, 3 - b.freeSlots); return true }) { _, _ in }
        #expect(seen == 2)
    }

    @Test func badInputs() throws {
        let g = try loadGolden("h32_l1_la")
        let model = try SentenceVAE(path: try convertFixture("h32_l1_la", type: .f32, golden: g))
        let ctx = try KernelContext(threads: 1)
        #expect(throws: ModelError.badOption(name: "batch", expected: "1 ... 256", found: "0")) {
            try DecoderBatch(model: model, capacity: 0, context: ctx)
        }
        let b = try DecoderBatch(model: model, capacity: 2, context: ctx)
        var nan = g.vectors[0]
        nan[1] = .infinity
        #expect(throws: ModelError.nonFiniteVector(index: 1)) { try b.join(nan) }
        let s0 = try b.join(g.vectors[0]), s1 = try b.join(g.vectors[1])
        #expect(b.freeSlots == 0)
        // Errors name the row; nothing is fed when one row is bad.
        #expect(throws: ModelError.tokenOutOfRange(input: 1, position: 0, id: 64, vocab: 64)) { try b.step(slots: [s0, s1], tokens: [2, 64]) }
        #expect(b.length(of: s0) == 0)
        for _ in 0..<12 { _ = try b.step(slots: [s0], tokens: [5]) }
        #expect(throws: ModelError.sentenceTooLong(input: 1, tokens: 13, max: 12)) { try b.step(slots: [s1, s0], tokens: [5, 5]) }
        b.leave(s0)
        #expect(b.freeSlots == 1)
        #expect(try b.join(g.vectors[2]) == s0, "a freed slot is reused")
        #expect(b.length(of: s0) == 0)
    }
}

/// `Sampler.argmax` (`Ops.argmax`: four 16-lane running maxima with first indices) against the
/// plain scan it replaced: ties inside a lane, across lanes and across the four interleaved
/// accumulators, lengths around 16 and 64, NaN, −∞, ±0.
@Suite struct ArgmaxTests {
    static func reference(_ x: [Float]) -> Int32 {
        var best = 0, value = -Float.infinity
        for (i, v) in x.enumerated() where v > value { (best, value) = (i, v) }
        return Int32(best)
    }

    @Test func matchesThePlainScan() {
        var rng = SplitMix64(5)
        var cases: [[Float]] = [[], [3], [.nan, 1, .nan], [-.infinity, -.infinity], [.nan, .nan], [0, -0.0, 0],
                                [Float](repeating: 2, count: 40), (0..<50272).map { Float($0 % 977) },
                                (0..<200).map { $0 == 130 || $0 == 67 || $0 == 195 ? 9 : 1 }, (0..<70).map { $0 == 69 ? 5 : -.infinity },
                                (0..<129).map { $0 % 64 == 17 ? 3 : 0 }]
        for n in [15, 16, 17, 33, 63, 64, 65, 100, 129, 2048] {
            var x = (0..<n).map { _ in Float.random(in: -4...4, using: &rng).rounded() }  // many ties
            x[Int.random(in: 0..<n, using: &rng)] = .nan
            cases.append(x)
        }
        for x in cases {
            let got = x.withUnsafeBufferPointer { Sampler.argmax($0) }
            #expect(got == Self.reference(x), "\(x.prefix(20))")
        }
    }
}
