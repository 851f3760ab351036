#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SVAEKernels

/// Token sampling with temperature, top-k and top-p (nucleus), driven by a seeded generator so the
/// same seed gives the same output on every machine.
public struct Sampler: Sendable {
    public var temperature: Float
    /// Keep the k most likely tokens (0 = all).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = all).
    public var topP: Float
    /// The seed it started from.
    public let seed: UInt64
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var candidates: [(id: Int32, p: Float)] = []

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        var s = seed
        func splitmix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The same settings from the start of another seed's sequence.
    public func reseeded(_ seed: UInt64) -> Sampler { Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed) }

    /// xoshiro256**: the next 64 random bits.
    mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    /// A uniform float in [0, 1) with 24 random bits.
    mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Index of the largest logit (the first one on ties, like `torch.argmax`); NaN never wins,
    /// and 0 when no logit exceeds −∞. `Ops.argmax`: one 16-lane pass (greedy batched decoding
    /// scans 50272 logits per sentence and step).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 { Ops.argmax(logits) }

    /// Draws one token id from the logits.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if temperature <= 0 || logits.count <= 1 { return Self.argmax(logits) }
        candidates.removeAll(keepingCapacity: true)
        for (i, v) in logits.enumerated() where v.isFinite { candidates.append((Int32(i), v / temperature)) }
        if candidates.isEmpty { return Self.argmax(logits) }
        // Sort by logit, ties by id, so the order (and the draw) is deterministic.
        candidates.sort { $0.p != $1.p ? $0.p > $1.p : $0.id < $1.id }
        if topK > 0 && topK < candidates.count { candidates.removeSubrange(topK...) }
        let top = candidates[0].p
        var total: Float = 0
        for i in candidates.indices {
            candidates[i].p = Float(exp(Double(candidates[i].p - top)))
            total += candidates[i].p
        }
        if topP < 1 {
            var cumulative: Float = 0
            var keep = candidates.count
            for i in candidates.indices {
                cumulative += candidates[i].p / total
                if cumulative >= topP { keep = i + 1; break }
            }
            candidates.removeSubrange(keep...)
            total = candidates.reduce(0) { $0 + $1.p }
        }
        let u = uniform() * total
        var acc: Float = 0
        for c in candidates {
            acc += c.p
            if u < acc { return c.id }
        }
        return candidates[candidates.count - 1].id
    }
}
