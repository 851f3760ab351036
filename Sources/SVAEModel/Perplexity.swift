import SVAEFormat
import SVAEKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Teacher-forced perplexity of SentenceVAE, SLLM and OPT models, and the KL divergence of a
// model's next-token distributions from a reference model's (docs/perplexity.md).
//
//   svae: one unit = one sentence s (ids, BOS first). v = encode(s); the decoder is
//         teacher-forced on s with memory v; targets s[1:] + EOS (n targets).
//   sllm: one unit = the sentences s_0 … s_{n−1} of a passage. h = OPT layers over their
//         vectors (prefill, bidirectional or causal); for i < n−1 the decoder with memory h_i is
//         teacher-forced on s_{i+1}, targets s_{i+1}[1:] + EOS. Stop head at every h_i against
//         "another sentence follows" (1 for i < n−1, 0 for the last).
//   opt:  one unit = one token sequence t (BOS first); next-token targets t[1:] (n − 1).
//
// Every target token weighs the same: mean CE = Σ CE / tokens over the whole input.

/// Which model a `PerplexityScorer` runs.
public enum ScoredModel: @unchecked Sendable {
    case svae(SentenceVAE)
    case sllm(SentenceLLM)
    case opt(OPTLanguageModel)

    /// Rows of the logits (the model's vocabulary).
    public var vocab: Int {
        switch self {
        case let .svae(m): m.config.vocab
        case let .sllm(m): m.vae.config.vocab
        case let .opt(m): m.config.vocab
        }
    }

    public var architecture: String {
        switch self {
        case .svae: ArchitectureName.svae.rawValue
        case .sllm: ArchitectureName.sllm.rawValue
        case .opt: ArchitectureName.opt.rawValue
        }
    }
}

/// Quantiles of non-negative values in constant memory: a histogram with log-spaced bins
/// (1000 per decade, each 0.23 % wide) from 1e-12 to 1e4, one bin for values below 1e-12
/// (reported as 0) and one above 1e4 (reported as the maximum). A quantile is the geometric
/// centre of the bin holding the nearest-rank value: within 0.12 % of the exact nearest-rank
/// quantile, or 1e-12 absolute. Mean and maximum are exact.
public struct LogHistogram: Sendable, Equatable {
    public static let lowest = 1e-12, highest = 1e4, binsPerDecade = 1000
    static let decades = 16
    static let binCount = decades * binsPerDecade + 2
    /// Allocated at the first value (an empty histogram costs nothing).
    private var bins: [UInt64] = []
    public private(set) var count = 0
    public private(set) var sum = 0.0
    public private(set) var max = 0.0

    public init() {}

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Adds one value (negatives, from rounding, count as 0; NaN as +∞).
    public mutating func add(_ value: Double) {
        let x = value.isNaN ? Double.infinity : Swift.max(value, 0)
        count += 1
        sum += x
        max = Swift.max(max, x)
        if bins.isEmpty { bins = [UInt64](repeating: 0, count: Self.binCount) }
        bins[Self.bin(x)] += 1
    }

    public mutating func merge(_ other: LogHistogram) {
        if bins.isEmpty { bins = other.bins } else if !other.bins.isEmpty { for i in bins.indices { bins[i] += other.bins[i] } }
        count += other.count
        sum += other.sum
        max = Swift.max(max, other.max)
    }

    static func bin(_ x: Double) -> Int {
        if x < lowest { return 0 }
        if x >= highest { return decades * binsPerDecade + 1 }
        let k = Int((log10(x) - log10(lowest)) * Double(binsPerDecade))
        return 1 + Swift.min(Swift.max(k, 0), decades * binsPerDecade - 1)
    }

    /// The nearest-rank `p`-quantile (0 < p ≤ 1): the value of rank ⌈p·count⌉, estimated as
    /// described above. 0 when empty.
    public func quantile(_ p: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, Int((p * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, n) in bins.enumerated() {
            seen += n
            guard seen >= UInt64(rank) else { continue }
            if i == 0 { return 0 }
            if i == Self.binCount - 1 { return max }
            let lo = log10(Self.lowest) + Double(i - 1) / Double(Self.binsPerDecade)
            return Swift.min(pow(10, lo + 0.5 / Double(Self.binsPerDecade)), max)
        }
        return max
    }
}

/// Token-weighted totals of a perplexity run (one model, optionally against a reference).
public struct PerplexityStats: Sendable, Equatable {
    /// Units scored (sentences for svae files, passages for sllm, token lines for opt).
    public var units = 0
    /// Target tokens scored.
    public var tokens = 0
    /// Σ cross-entropy (nats) over all target tokens.
    public var sumCE = 0.0
    /// Targets that are the model's own argmax (teacher-forced next-token accuracy).
    public var correct = 0
    /// SLLM: stop-head decisions and those equal to "another sentence follows" (1 for all but the last).
    public var stopDecisions = 0
    public var stopCorrect = 0
    /// With a reference: its Σ CE on the same targets, tokens whose argmax agrees, and the KL
    /// divergence KL(P_reference ‖ P_model) per token.
    public var referenceSumCE = 0.0
    public var top1Same = 0
    public var kld = LogHistogram()
    public var hasReference = false

    public init() {}

    public var meanCE: Double { tokens == 0 ? 0 : sumCE / Double(tokens) }
    public var perplexity: Double { exp(meanCE) }
    public var accuracy: Double { tokens == 0 ? 0 : Double(correct) / Double(tokens) }
    public var stopAccuracy: Double { stopDecisions == 0 ? 0 : Double(stopCorrect) / Double(stopDecisions) }
    public var referenceMeanCE: Double { tokens == 0 ? 0 : referenceSumCE / Double(tokens) }
    public var referencePerplexity: Double { exp(referenceMeanCE) }
    /// PPL(model) / PPL(reference) = exp(mean CE − reference mean CE).
    public var perplexityRatio: Double { exp(meanCE - referenceMeanCE) }
    public var top1Agreement: Double { tokens == 0 ? 0 : Double(top1Same) / Double(tokens) }

    public mutating func merge(_ o: PerplexityStats) {
        units += o.units
        tokens += o.tokens
        sumCE += o.sumCE
        correct += o.correct
        stopDecisions += o.stopDecisions
        stopCorrect += o.stopCorrect
        referenceSumCE += o.referenceSumCE
        top1Same += o.top1Same
        kld.merge(o.kld)
        hasReference = hasReference || o.hasReference
    }
}

/// Log-softmax facts of one logits row, in Double.
struct RowStats {
    var max: Float
    var argmax: Int
    /// log Σ exp(x)
    var lse: Double

    /// `exps`, when given, receives exp(x_i − max) (for the KL divergence).
    init(_ x: UnsafeBufferPointer<Float>, exps: UnsafeMutableBufferPointer<Double>? = nil) {
        var m = -Float.infinity, a = 0
        for (i, v) in x.enumerated() where v > m { m = v; a = i }
        max = m
        argmax = a
        var s = 0.0
        let md = Double(m)
        if let e = exps {
            for i in 0..<x.count { let t = exp(Double(x[i]) - md); e[i] = t; s += t }
        } else {
            for v in x { s += exp(Double(v) - md) }
        }
        lse = md + log(s)
    }
}

/// One model's side of a scoring run: per unit, `begin` runs everything but the logits; then
/// `chunk(k)` gives logits rows and their targets.
final class UnitRunner {
    let model: ScoredModel
    let context: KernelContext
    let attention: PrefillAttention?
    private let scratch = ForcedDecoderScratch()
    private let sllm: SLLMSession?
    private let opt: OPTSession?
    private var unit: [[Int32]] = []
    private var memories: [[Float]] = []
    /// OPT: tokens per chunk (logits [chunk, V] at a time through the KV cache).
    let optChunk: Int

    init(_ model: ScoredModel, context: KernelContext, attention: PrefillAttention?, optChunk: Int) {
        self.model = model
        self.optChunk = optChunk
        self.context = context
        self.attention = attention
        switch model {
        case let .sllm(m): (sllm, opt) = (m.makeSession(context: context), nil)
        case let .opt(m): (sllm, opt) = (nil, m.makeSession(context: context))
        case .svae: (sllm, opt) = (nil, nil)
        }
    }

    /// Validates and runs the unit up to the decoder memories; returns the chunk count.
    func begin(_ unit: [[Int32]]) throws(ModelError) -> Int {
        self.unit = unit
        switch model {
        case let .svae(m):
            memories = try m.encode(unit, context: context)
            return unit.count
        case .sllm:
            let s = sllm!
            s.reset()
            memories = try s.prefill(unit, attention: attention)
            return unit.count - 1
        case let .opt(m):
            let ids = unit.flatMap { $0 }
            guard !ids.isEmpty else { throw .emptyPrompt }
            for (p, id) in ids.enumerated() where id < 0 || Int(id) >= m.config.vocab {
                throw .tokenOutOfRange(input: 0, position: p, id: id, vocab: m.config.vocab)
            }
            guard ids.count <= m.config.layers.maxPositions else {
                throw .contextFull(positions: ids.count, max: m.config.layers.maxPositions)
            }
            self.unit = [ids]
            opt!.reset()
            return (ids.count + optChunk - 1) / optChunk
        }
    }

    /// Logits rows of chunk k and the targets of its first rows (OPT's last row has none).
    func chunk(_ k: Int) throws(ModelError) -> (logits: UnsafeBufferPointer<Float>, targets: [Int32]) {
        switch model {
        case let .svae(m):
            let s = unit[k]
            return (try m.forcedLogits(s, memory: memories[k], index: k, scratch: scratch, context: context), Array(s.dropFirst()) + [m.config.eos])
        case let .sllm(m):
            let s = unit[k + 1]
            return (try m.vae.forcedLogits(s, memory: memories[k], index: k + 1, scratch: scratch, context: context),
                    Array(s.dropFirst()) + [m.vae.config.eos])
        case .opt:
            let ids = unit[0]
            let lo = k * optChunk, hi = min(lo + optChunk, ids.count)
            let logits = try opt!.feed(Array(ids[lo..<hi]), allLogits: true)
            return (logits, Array(ids[(lo + 1)..<min(hi + 1, ids.count)]))
        }
    }

    /// SLLM: stop-head decisions (argmax of fc(h_i), 1 = continue) for every position.
    func stopDecisions() throws(ModelError) -> [Int] {
        guard let s = sllm else { return [] }
        var out: [Int] = []
        for h in memories {
            let l = try s.stopLogits(h)
            out.append(l[1] > l[0] ? 1 : 0)
        }
        return out
    }
}

/// Scores units (see the top of this file) under one model and, optionally, a reference model
/// run in lockstep on the same targets: both models produce the logits of one chunk (one
/// sentence, or 64 OPT tokens), which are compared and dropped before the next chunk. Memory is
/// bounded by one chunk's logits per model plus the KL histogram. Not thread-safe.
public final class PerplexityScorer {
    public let model: ScoredModel
    public let reference: ScoredModel?
    public private(set) var stats = PerplexityStats()
    private let runner: UnitRunner
    private let referenceRunner: UnitRunner?
    private var exps: [Double]

    /// - Parameters:
    ///   - attention: SLLM prefill attention (nil: each file's own `llm.prefill_attention`).
    ///   - context / referenceContext: kernel contexts of the two models (may be the same).
    ///   - optChunk: OPT files, tokens fed per chunk (logits [optChunk, V] at a time); the
    ///     result does not depend on it beyond float rounding.
    /// - Throws: `.badOption` when the reference has another architecture or vocabulary, or
    ///   `optChunk` < 1.
    public init(model: ScoredModel, reference: ScoredModel? = nil, attention: PrefillAttention? = nil,
                context: KernelContext, referenceContext: KernelContext? = nil, optChunk: Int = 64) throws(ModelError) {
        guard optChunk >= 1 else { throw .badOption(name: "optChunk", expected: "≥ 1", found: "\(optChunk)") }
        if let r = reference {
            guard r.architecture == model.architecture else {
                throw .badOption(name: "reference", expected: "architecture \(model.architecture)", found: r.architecture)
            }
            guard r.vocab == model.vocab else {
                throw .badOption(name: "reference", expected: "a vocabulary of \(model.vocab) ids", found: "\(r.vocab)")
            }
        }
        self.model = model
        self.reference = reference
        runner = UnitRunner(model, context: context, attention: attention, optChunk: optChunk)
        referenceRunner = reference.map { UnitRunner($0, context: referenceContext ?? context, attention: attention, optChunk: optChunk) }
        exps = reference == nil ? [] : [Double](repeating: 0, count: model.vocab)
        stats.hasReference = reference != nil
    }

    /// Scores one unit and adds it to `stats` (nothing is added when it throws).
    /// - Returns: the unit's own totals.
    @discardableResult
    public func score(_ unit: [[Int32]]) throws(ModelError) -> PerplexityStats {
        var u = PerplexityStats()
        u.hasReference = reference != nil
        let chunks = try runner.begin(unit)
        if let r = referenceRunner { _ = try r.begin(unit) }
        for k in 0..<chunks {
            let (logits, targets) = try runner.chunk(k)
            let ref = try referenceRunner?.chunk(k).logits
            let V = model.vocab
            for (t, target) in targets.enumerated() {
                let row = UnsafeBufferPointer(rebasing: logits[(t * V)..<((t + 1) * V)])
                if let ref {
                    let rrow = UnsafeBufferPointer(rebasing: ref[(t * V)..<((t + 1) * V)])
                    add(row, rrow, target: Int(target), to: &u)
                } else {
                    let s = RowStats(row)
                    u.sumCE += s.lse - Double(row[Int(target)])
                    if s.argmax == Int(target) { u.correct += 1 }
                }
                u.tokens += 1
            }
        }
        let decisions = try runner.stopDecisions()
        for (i, d) in decisions.enumerated() {
            u.stopDecisions += 1
            if d == (i < decisions.count - 1 ? 1 : 0) { u.stopCorrect += 1 }
        }
        u.units = 1
        stats.merge(u)
        return u
    }

    /// CE of both models, argmax agreement and KL(P_ref ‖ P) of one target position.
    private func add(_ row: UnsafeBufferPointer<Float>, _ rrow: UnsafeBufferPointer<Float>, target: Int, to u: inout PerplexityStats) {
        let s = RowStats(row)
        u.sumCE += s.lse - Double(row[target])
        if s.argmax == target { u.correct += 1 }
        exps.withUnsafeMutableBufferPointer { e in
            let r = RowStats(rrow, exps: e)
            u.referenceSumCE += r.lse - Double(rrow[target])
            if r.argmax == s.argmax { u.top1Same += 1 }
            // KL = Σ p_i (log p_i − log q_i), p_i = exp(x_ref,i − lse_ref), log q_i = x_i − lse.
            var kl = 0.0
            let toP = exp(Double(r.max) - r.lse)  // p_i = e_i · exp(max − lse)
            for i in 0..<row.count where e[i] > 0 {
                kl += e[i] * toP * ((Double(rrow[i]) - r.lse) - (Double(row[i]) - s.lse))
            }
            u.kld.add(kl)
        }
    }
}
