import Foundation
import Testing
@testable import SVAEModel

/// The distributions the sampler draws from, counted over seeds: temperature, top-k, top-p and
/// both, against probabilities written out by hand from fixed logits (not the sampler's code).
@Suite struct SamplerTests {
    /// Logits of probabilities 0.4, 0.25, 0.15, 0.1, 0.06, 0.04 at shuffled ids, a masked id
    /// (−inf) and a NaN, which must never be drawn.
    static let probabilities: [Int32: Double] = [3: 0.4, 0: 0.25, 5: 0.15, 1: 0.1, 7: 0.06, 2: 0.04]
    static let logits: [Float] = (0..<8).map { i in
        if let p = probabilities[Int32(i)] { return Float(log(p)) + 1.5 }
        return i == 4 ? -.infinity : .nan
    }

    /// Counts of each id over `draws` samplers seeded 0, 1, 2, … (one draw each).
    func counts(_ make: (UInt64) -> Sampler, draws: Int = 20_000) -> [Int32: Int] {
        var out: [Int32: Int] = [:]
        Self.logits.withUnsafeBufferPointer { l in
            for seed in 0..<draws {
                var s = make(UInt64(seed))
                out[s.sample(l), default: 0] += 1
            }
        }
        return out
    }

    /// Every count within 5 standard deviations of draws·p, and no id outside `expected`.
    func expectDistribution(_ got: [Int32: Int], _ expected: [Int32: Double], draws: Int = 20_000, _ what: String) {
        let total = expected.values.reduce(0, +)
        for (id, n) in got where expected[id] == nil { Issue.record("\(what): id \(id) drawn \(n) times, expected never") }
        for (id, w) in expected {
            let p = w / total, mean = Double(draws) * p, sd = (Double(draws) * p * (1 - p)).squareRoot()
            let n = Double(got[id] ?? 0)
            #expect(abs(n - mean) <= 5 * sd + 1, "\(what): id \(id) drawn \(Int(n)) times, expected \(Int(mean)) ± \(Int(5 * sd))")
        }
    }

    @Test func temperatureOneDrawsTheSoftmax() {
        expectDistribution(counts { Sampler(temperature: 1, seed: $0) }, Self.probabilities, "T=1")
    }

    @Test func temperatureSharpensAndFlattens() {
        // p^(1/T), renormalized: T = 0.5 squares the probabilities, T = 2 takes square roots.
        expectDistribution(counts { Sampler(temperature: 0.5, seed: $0) }, Self.probabilities.mapValues { $0 * $0 }, "T=0.5")
        expectDistribution(counts { Sampler(temperature: 2, seed: $0) }, Self.probabilities.mapValues { $0.squareRoot() }, "T=2")
    }

    @Test func topKKeepsTheKMostLikely() {
        expectDistribution(counts { Sampler(temperature: 1, topK: 3, seed: $0) }, [3: 0.4, 0: 0.25, 5: 0.15], "top-k 3")
        expectDistribution(counts { Sampler(temperature: 1, topK: 1, seed: $0) }, [3: 1], "top-k 1")
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        // Cumulative 0.4, 0.65, 0.80, …: p = 0.6 keeps two ids, p = 0.7 three.
        expectDistribution(counts { Sampler(temperature: 1, topP: 0.6, seed: $0) }, [3: 0.4, 0: 0.25], "top-p 0.6")
        expectDistribution(counts { Sampler(temperature: 1, topP: 0.7, seed: $0) }, [3: 0.4, 0: 0.25, 5: 0.15], "top-p 0.7")
    }

    @Test func topKThenTopPOnTheRenormalizedRest() {
        // Top-4 renormalized: 0.444, 0.278, 0.167, 0.111 (cumulative 0.444, 0.722, 0.889):
        // p = 0.8 then keeps three ids.
        expectDistribution(counts { Sampler(temperature: 1, topK: 4, topP: 0.8, seed: $0) }, [3: 0.4, 0: 0.25, 5: 0.15], "top-k 4, top-p 0.8")
    }

    @Test func temperatureZeroIsArgmax() {
        expectDistribution(counts({ Sampler(temperature: 0, seed: $0) }, draws: 100), [3: 1], draws: 100, "T=0")
    }
}
