// Batched decoding against decoding alone, for the model tests (parity fixtures) and the API
// tests (the shipped model): how many sentences differ, by how much the logits differ, and how
// close to a tie each difference was.
import SVAEKernels
import SVAEModel

/// What `compareBatchedWithAlone` measured.
public struct BatchParity: CustomStringConvertible {
    public var sentences = 0
    /// Sentences whose batched greedy ids differ from the ids decoded alone.
    public var differing = 0
    /// Largest |logit alone − logit batched| over every step of every sentence, both fed the
    /// ids decoded alone (teacher-forced), relative to that step's logit range (max − min).
    public var maxRelativeLogitDifference: Float = 0
    /// Over the differing sentences, at the first step where the ids part: the logit gap (alone)
    /// between the id chosen alone and the id chosen in the batch, relative to the logit range.
    public var maxRelativeGapAtDifference: Float = 0

    public var description: String {
        "\(differing)/\(sentences) sentences differ; max relative logit difference \(maxRelativeLogitDifference); "
            + "max relative gap where ids part \(maxRelativeGapAtDifference)"
    }
}

/// Decodes `vectors` greedily one by one (`DecoderSession`) and `batch` at a time
/// (`DecoderBatch.run`), then feeds each sentence's alone ids to both again, `batch` sentences
/// per step, comparing the logits step by step.
public func compareBatchedWithAlone(model: SentenceVAE, vectors: [[Float]], batch: Int, context: KernelContext) throws -> BatchParity {
    let vocab = model.config.vocab
    var alone: [[Int32]] = [], aloneLogits: [[[Float]]] = []
    for v in vectors {
        let s = try DecoderSession(model: model, vector: v, context: context)
        let ids = try s.generate()
        alone.append(ids)
        // Teacher-forced logits alone: BOS, then every id but the last.
        let t = try DecoderSession(model: model, vector: v, context: context)
        aloneLogits.append(try ([model.config.bos] + ids.dropLast()).map { Array(try t.step($0)) })
    }
    let decoder = try DecoderBatch(model: model, capacity: batch, context: context)
    var batched = [[Int32]](repeating: [], count: vectors.count)
    var it = vectors.makeIterator()
    try decoder.run(next: { it.next().map { DecodeRequest(vector: $0) } }) { i, r in batched[i] = (try? r.get()) ?? [] }

    var report = BatchParity()
    report.sentences = vectors.count
    // Teacher-forced in lockstep: groups of `batch` sentences, each fed its alone ids.
    for g in stride(from: 0, to: vectors.count, by: batch) {
        let group = Array(g..<min(g + batch, vectors.count))
        let slots = try group.map { try decoder.join(vectors[$0]) }
        defer { for s in slots { decoder.leave(s) } }
        var step = 0
        while true {
            let live = group.indices.filter { step < alone[group[$0]].count }
            if live.isEmpty { break }
            let tokens = live.map { step == 0 ? model.config.bos : alone[group[$0]][step - 1] }
            let logits = try decoder.step(slots: live.map { slots[$0] }, tokens: tokens)
            for (row, k) in live.enumerated() {
                let want = aloneLogits[group[k]][step]
                let range = want.max()! - want.min()!
                for j in 0..<vocab {
                    report.maxRelativeLogitDifference = max(report.maxRelativeLogitDifference, abs(logits[row * vocab + j] - want[j]) / range)
                }
            }
            step += 1
        }
    }
    for i in vectors.indices where batched[i] != alone[i] {
        report.differing += 1
        let p = zip(alone[i], batched[i]).prefix { $0 == $1 }.count
        guard p < alone[i].count, p < batched[i].count else { continue }  // one is a prefix of the other: no pick differed
        let l = aloneLogits[i][p]
        let gap = (l[Int(alone[i][p])] - l[Int(batched[i][p])]) / (l.max()! - l.min()!)
        report.maxRelativeGapAtDifference = max(report.maxRelativeGapAtDifference, gap)
    }
    return report
}
