import SVAEModel

/// How far a converted (e.g. quantized) model is from a reference (e.g. f32) model on sample
/// sentences: the numbers `svae-convert --check` prints.
public struct QualityReport: Sendable {
    public var sentences = 0
    /// Cosine similarity of sentence vectors (candidate vs reference).
    public var meanCosine: Double = 0
    public var minCosine: Double = 1
    /// Greedy tokens equal to the reference's greedy tokens, position by position, both decoding
    /// from their own vectors.
    public var greedySame = 0
    public var greedyTotal = 0
    /// Sentences whose whole greedy output equals the reference's.
    public var greedyIdentical = 0
    /// Teacher-forced logits: the largest |Δ| and the mean |Δ| over all positions and tokens.
    public var maxLogitError: Double = 0
    public var meanLogitError: Double = 0

    public var greedyAgreement: Double { greedyTotal == 0 ? 1 : Double(greedySame) / Double(greedyTotal) }
}

public enum QualityCheck {
    /// Built-in sample sentences (written for this project).
    public static let samples = [
        "The cat sat on the warm windowsill and watched the rain.",
        "Please send the report to the whole team before Friday.",
        "Water boils at one hundred degrees Celsius at sea level.",
        "She opened the old book and a dry leaf fell out.",
        "This function returns a new list sorted in ascending order.",
        "The train to the coast leaves every hour on weekdays.",
        "If the file does not exist, an error is raised.",
        "We planted tomatoes, beans and a row of sunflowers.",
    ]

    /// Compares `candidate` with `reference` on token-id sentences (BOS first).
    public static func compare(reference: Model, candidate: Model, sentences: [[Int32]]) throws(SVAEError) -> QualityReport {
        let rs = try reference.makeSession(threads: 1), cs = try candidate.makeSession(threads: 1)
        var report = QualityReport()
        var logitErrorSum = 0.0, logitCount = 0
        for ids in sentences {
            let rv = try rs.encode(ids: [ids])[0], cv = try cs.encode(ids: [ids])[0]
            let cos = cosine(rv, cv)
            report.meanCosine += cos
            report.minCosine = min(report.minCosine, cos)
            let rg = try rs.decode(rv), cg = try cs.decode(cv)
            for (i, t) in rg.enumerated() {
                report.greedyTotal += 1
                if i < cg.count && cg[i] == t { report.greedySame += 1 }
            }
            if rg == cg { report.greedyIdentical += 1 }
            // Teacher forcing from the reference vector through both decoders.
            let rd = try rs.makeDecoder(rv), cd = try cs.makeDecoder(rv)
            for id in ids {
                let a: [Float], b: [Float]
                do {
                    a = Array(try rd.step(id))
                    b = Array(try cd.step(id))
                } catch {
                    throw .model(error)
                }
                for (x, y) in zip(a, b) {
                    let e = Double(abs(x - y))
                    report.maxLogitError = max(report.maxLogitError, e)
                    logitErrorSum += e
                }
                logitCount += a.count
            }
            report.sentences += 1
        }
        if report.sentences > 0 { report.meanCosine /= Double(report.sentences) }
        if logitCount > 0 { report.meanLogitError = logitErrorSum / Double(logitCount) }
        return report
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return na == 0 || nb == 0 ? 0 : dot / (na.squareRoot() * nb.squareRoot())
    }
}
