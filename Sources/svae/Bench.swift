import ArgumentParser
import Foundation
import SVAE
import SVAEFormat
import SVAEKernels
import SVAEModel

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure size and speed on this machine (medians over repetitions, after a warm-up).",
        subcommands: [BenchModel.self, BenchKernels.self, BenchGenerate.self])
}

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Matrix kernels on the SVAE-768 shapes for every element type, beside this machine's read bandwidth and OpenBLAS.")
    @Option(help: "Threads for the multi-thread rows.") var threads = 2
    @Option(help: "Repetitions (medians).") var repetitions = 7

    func run() throws {
        print("machine    \(machineDescription())")
        print(KernelBenchmark.run(threads: threads, repetitions: repetitions))
    }
}

/// Shapes of the released SentenceVAE family (shared/docs/sentencevae.md).
struct ReleasedShape {
    let name: String
    let hidden: Int
    let heads: Int
    let layers: Int
    let vocab = 50272
    let maxSeqLen = 64

    static let all = [
        ReleasedShape(name: "svae-768-h1", hidden: 768, heads: 12, layers: 1),
        ReleasedShape(name: "svae-768-h4", hidden: 768, heads: 12, layers: 4),
        ReleasedShape(name: "svae-1024-h4", hidden: 1024, heads: 16, layers: 4),
        ReleasedShape(name: "svae-2048-h1", hidden: 2048, heads: 32, layers: 1),
    ]

    var metadata: Metadata {
        var m = Metadata()
        m["general.architecture"] = .string("svae")
        m["general.name"] = .string("\(name) (random weights, svae bench)")
        for (k, v) in [("hidden_size", hidden), ("embed_dim", hidden), ("num_heads", heads), ("ffn_size", 2 * hidden),
                       ("encoder_layers", layers), ("decoder_layers", layers), ("vocab_size", vocab), ("max_seq_len", maxSeqLen)] {
            m["svae." + k] = .u32(UInt32(v))
        }
        m["svae.learnable_add"] = .bool(true)
        m["tokens.bos_id"] = .i32(2); m["tokens.eos_id"] = .i32(2); m["tokens.pad_id"] = .i32(1)
        return m
    }

    /// Writes a random-weight model of this shape (see `writeRandomModel`).
    func write(to path: String, type: SVAEFormat.ElementType) throws {
        try writeRandomModel(metadata: metadata, to: path, type: type)
    }
}

/// Writes a random-weight model with `metadata` (weights ~ U(−a, a) with a = 1.7/√in, norm
/// weights near 1), 2-D weights as `type`, vectors f32. Deterministic.
func writeRandomModel(metadata: Metadata, to path: String, type: SVAEFormat.ElementType) throws {
    let expected = try ModelSchema.expectedTensors(metadata: metadata)
    let plans = expected.map { TensorPlan(name: $0.name, type: $0.mustBeF32 ? .f32 : type, shape: $0.shape) }
    let w = try SVAEWriter(path: path, metadata: metadata, tensors: plans)
    var state: UInt64 = 0x5EED
    for p in plans {
        let cols = p.shape.last!, rows = p.shape.count == 2 ? p.shape[0] : 1
        let isNormWeight = p.name.hasSuffix("norm.weight") || p.name.range(of: #"norm[123]\.weight$"#, options: .regularExpression) != nil
        let a = 1.7 / Float(cols).squareRoot()
        let chunkRows = max(1, min(rows, (1 << 20) / cols))
        var values = [Float](repeating: 0, count: chunkRows * cols)
        var r = 0
        while r < rows {
            let n = min(chunkRows, rows - r)
            for i in 0..<(n * cols) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u = Float(state >> 40) / Float(1 << 24) * 2 - 1
                values[i] = isNormWeight ? 1 + 0.1 * u : a * u
            }
            let slice = Array(values[0..<(n * cols)])
            if p.type == .f32 {
                try w.append(slice.withUnsafeBytes { Array($0) })
            } else {
                try w.append(try Quantizer.encode(slice, as: SVAEKernels.ElementType(rawValue: Int32(p.type.rawValue))!))
            }
            r += n
        }
    }
    try w.finish()
}

/// Median, min and max of measurements.
struct Stats: CustomStringConvertible {
    let median, min, max: Double
    init(_ xs: [Double]) {
        let s = xs.sorted()
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        min = s.first ?? 0
        max = s.last ?? 0
    }
    var description: String { String(format: "%.3f (%.3f–%.3f)", median, min, max) }
    var json: [String: Double] { ["median": median, "min": min, "max": max] }
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Runs `body` once to warm up, then `reps` times; returns seconds per run.
func measure(_ reps: Int, _ body: () throws -> Void) rethrows -> [Double] {
    try body()
    var out: [Double] = []
    for _ in 0..<reps {
        let t0 = now()
        try body()
        out.append(now() - t0)
    }
    return out
}

func peakRSSBytes() -> Int {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return u.ru_maxrss * 1024
}

func machineDescription() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) CPUs, kernel path \(KernelPath.best)"
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Encode / decode / reconstruct speed and size on a random-weight model of a released shape.")

    @Option(help: "Shape: \(ReleasedShape.all.map(\.name).joined(separator: ", ")).") var shape = "svae-768-h4"
    @Option(help: "Element type of the 2-D weights: f32, f16, q8_0, q4_0.") var type = "q8_0"
    @Option(help: "Threads.") var threads = 1
    @Option(help: "Repetitions after the warm-up (≥ 5 recommended).") var repetitions = 5
    @Option(help: "Model file to reuse or create (default: a temporary file, deleted afterwards).") var file: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let s = ReleasedShape.all.first(where: { $0.name == shape }) else { throw CLIError("unknown shape \(shape)") }
        guard let t = SVAEFormat.ElementType(name: type) else { throw CLIError("unknown element type \(type)") }
        let path = file ?? NSTemporaryDirectory() + "svae-bench-\(s.name)-\(t)-\(getpid()).svae"
        if !FileManager.default.fileExists(atPath: path) { try s.write(to: path, type: t) }
        defer { if file == nil { try? FileManager.default.removeItem(atPath: path) } }

        let t0 = now()
        let model = try cli { () throws(SVAEError) in try Model(path: path, options: ModelOptions(threads: threads)) }
        let session = try cli { () throws(SVAEError) in try model.makeSession(threads: threads) }
        let sentence: [Int32] = [2] + (0..<15).map { Int32(100 + $0 * 37) }
        let firstVector = try cli { () throws(SVAEError) in try session.encode(ids: [sentence]) }[0]
        _ = try cli { () throws(SVAEError) in try session.decode(firstVector, maxTokens: 16) }
        let coldStart = now() - t0

        let encodeOne = try measure(repetitions) { _ = try cli { () throws(SVAEError) in try session.encode(ids: [sentence]) } }
        var batch: [[Int32]] = []
        for i in 0..<64 {
            var row: [Int32] = [2]
            for j in 0..<15 { row.append(Int32(100 + (i * 131 + j * 37) % 50000)) }
            batch.append(row)
        }
        let encodeBatch = try measure(repetitions) { _ = try cli { () throws(SVAEError) in try session.encode(ids: batch) } }
        // Decode: 16 forced steps (random weights would stop at an arbitrary point), KV cache on.
        let decodeSteps = 16
        let decode = try measure(repetitions) {
            let d = try cli { () throws(SVAEError) in try session.makeDecoder(firstVector) }
            var tok: Int32 = 2
            for i in 0..<decodeSteps {
                do { _ = try d.step(tok) } catch { throw CLIError("\(error)") }
                tok = Int32(100 + i)
            }
        }
        let fileSize = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let rows: [(String, Stats, String)] = [
            ("encode one 16-token sentence", Stats(encodeOne.map { $0 * 1000 }), "ms"),
            ("encode 64 × 16 tokens", Stats(encodeBatch.map { 64 / $0 }), "sentences/s"),
            ("decode with KV cache", Stats(decode.map { $0 * 1000 / Double(decodeSteps) }), "ms/token"),
        ]
        if json {
            var o: [String: Any] = ["machine": machineDescription(), "shape": s.name, "type": t.description, "threads": threads,
                                    "repetitions": repetitions, "file_bytes": fileSize, "cold_start_s": coldStart, "peak_rss_bytes": peakRSSBytes()]
            for (name, st, unit) in rows {
                var entry: [String: Any] = st.json
                entry["unit"] = unit
                o[name] = entry
            }
            printJSON(o)
        } else {
            print("machine    \(machineDescription())")
            print("model      \(s.name), \(t), \(fileSize) bytes, \(threads) thread(s), \(repetitions) repetitions (median (min–max))")
            print(String(format: "cold start %.3f s (open + first encode + 16 decode steps, page cache warm)", coldStart))
            for (name, st, unit) in rows { print("\(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(st) \(unit)") }
            print("peak RSS   \(peakRSSBytes() / 1_000_000) MB")
        }
    }
}
