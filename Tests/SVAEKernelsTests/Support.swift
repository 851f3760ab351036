// Support.swift: deterministic random data and reference helpers for the kernel tests.
import SVAETestSupport
@testable import SVAEKernels

/// SplitMix64: deterministic on every machine.
typealias SeededRNG = SplitMix64

extension SplitMix64 {
    /// Approximately normal (sum of 4 uniforms, centered), times `scale`.
    mutating func normal(_ scale: Float = 1) -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += Float.random(in: -1...1, using: &self) }
        return s * 0.866 * scale
    }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal(scale) } }
}

/// Weights of `type` for a random [rows, cols] matrix, plus their exact f32 values.
func randomWeights(_ type: ElementType, rows: Int, cols: Int, seed: UInt64) throws -> (bytes: [UInt8], values: [Float]) {
    var rng = SeededRNG(seed)
    let src = rng.floats(rows * cols, scale: 0.05)
    let bytes = try Quantizer.encode(src, as: type, path: .scalar)
    let values = try Quantizer.decode(bytes, type: type, count: rows * cols)
    return (bytes, values)
}

extension Array where Element == UInt8 {
    func withWeight<T>(_ type: ElementType, rows: Int, cols: Int, _ body: (WeightMatrix) throws -> T) throws -> T {
        try withUnsafeBytes { try body(WeightMatrix($0, type: type, rows: rows, cols: cols)) }
    }
}
