// Numeric comparisons for every test target. Each one fails on what a plain `zip(a, b)` +
// `.max()` lets through: a NaN or an infinity on either side (`.max()` and `>` skip NaN, so an
// output a kernel never wrote, pre-filled with NaN, would pass) and a length mismatch (`zip`
// stops at the shorter array).

/// A failed comparison, with the first offending index and values.
public struct NumericMismatch: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Throws unless `a` and `b` have the same count and every element of both is finite.
public func requireComparable<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], _ what: String = "") throws {
    let label = what.isEmpty ? "" : what + ": "
    guard a.count == b.count else { throw NumericMismatch("\(label)\(a.count) values vs \(b.count)") }
    if let i = a.firstIndex(where: { !$0.isFinite }) { throw NumericMismatch("\(label)element \(i) of the first array is \(a[i])") }
    if let i = b.firstIndex(where: { !$0.isFinite }) { throw NumericMismatch("\(label)element \(i) of the second array is \(b[i])") }
}

/// The largest |a[i] − b[i]| (in Double). Throws on a count mismatch or a non-finite element.
public func maxAbsDiff<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], _ what: String = "") throws -> Double {
    try requireComparable(a, b, what)
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = max(worst, abs(Double(x) - Double(y))) }
    return worst
}

/// Throws unless every |a[i] − b[i]| <= `tol` (and counts match, and all values are finite).
public func assertClose<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], tol: Double, _ what: String = "") throws {
    try requireComparable(a, b, what)
    for i in a.indices where !(abs(Double(a[i]) - Double(b[i])) <= tol) {
        throw NumericMismatch("\(what.isEmpty ? "" : what + ": ")element \(i): \(a[i]) vs \(b[i]), |Δ| > \(tol)")
    }
}

/// Cosine similarity of two vectors (in Double). Throws on a count mismatch, a non-finite
/// element or a zero vector.
public func cosine<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], _ what: String = "") throws -> Double {
    try requireComparable(a, b, what)
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    guard na > 0, nb > 0 else { throw NumericMismatch("\(what.isEmpty ? "" : what + ": ")cosine of a zero vector") }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// |got − want| / limit, or +infinity when either value is not finite: a ratio <= 1 passes,
/// and a NaN can never compare as small.
public func errorRatio(_ got: Double, _ want: Double, limit: Double) -> Double {
    guard got.isFinite, want.isFinite else { return .infinity }
    return abs(got - want) / max(limit, 1e-30)
}

/// True unless `value` <= `bound`: a NaN exceeds every bound.
public func exceeds<T: FloatingPoint>(_ value: T, _ bound: T) -> Bool { !(value <= bound) }
