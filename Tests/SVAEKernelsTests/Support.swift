// Support.swift: deterministic random data and reference helpers for the kernel tests.
import CSVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Kernel paths a run must cover, from SVAE_REQUIRE_KERNEL_PATHS (names separated by commas or
/// spaces: scalar, avx2, avxvnni, avx512, neon, and bf16 for the AVX-512 BF16 product of
/// quantized weights). `.ci/run` sets it for the CI machine, so a CPU or build that silently
/// drops a path fails instead of passing with less coverage. Plus avxvnni whenever the kernel
/// reports the CPU has AVX-VNNI (`avx_vnni` in /proc/cpuinfo), so that path is tested wherever
/// it can run, checked against our own CPUID test.
func requiredKernelPaths() -> [String] {
    var names: [String] = []
    if let raw = getenv("SVAE_REQUIRE_KERNEL_PATHS") {
        names = String(cString: raw).split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }
    if cpuinfoFlags().contains("avx_vnni") && !names.contains("avxvnni") { names.append("avxvnni") }
    return names
}

/// The CPU flags the Linux kernel lists in /proc/cpuinfo (empty elsewhere).
func cpuinfoFlags() -> Set<String> {
    guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(f) }
    var line: UnsafeMutablePointer<CChar>?
    var cap = 0
    defer { free(line) }
    while getline(&line, &cap, f) > 0, let l = line {
        let text = String(cString: l)
        if text.hasPrefix("flags") || text.hasPrefix("Features"), let colon = text.firstIndex(of: ":") {
            return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        }
    }
    return []
}

/// Whether the named path (a `KernelPath` description or "bf16") runs on this CPU and build;
/// nil for an unknown name.
func kernelPathRuns(_ name: String) -> Bool? {
    if name == "bf16" { return csvae_bf16_supported() != 0 }
    return KernelPath.allCases.first { $0.description == name }?.isSupported
}

/// The paths every kernel test loops over: `KernelPath.supported`, after recording an issue
/// in the calling test for each required path (SVAE_REQUIRE_KERNEL_PATHS) this CPU lacks.
func testedPaths(sourceLocation: SourceLocation = #_sourceLocation) -> [KernelPath] {
    for name in requiredKernelPaths() where kernelPathRuns(name) != true {
        Issue.record("SVAE_REQUIRE_KERNEL_PATHS lists \(name), which \(kernelPathRuns(name) == nil ? "is not a kernel path" : "this CPU or build does not run")",
                     sourceLocation: sourceLocation)
    }
    return KernelPath.supported
}
