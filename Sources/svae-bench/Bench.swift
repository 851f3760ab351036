import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEFormat
import SVAEKernels
import SVAEModel

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

/// Options of `svae-bench model` and `svae-bench cold`: the released shape, the element type, threads, and
/// the model file to reuse or create.
struct ModelChoice: ParsableArguments {
    @Option(help: "Shape: \(ReleasedShape.all.map(\.name).joined(separator: ", ")).") var shape = "svae-768-h4"
    @Option(help: "Element type of the 2-D weights: f32, f16, q8_0, q4_0, or i8r (svae-convert's q8 choice: the encoder's and decoder's linear weights i8r, the others q8_0).") var type = "q8_0"
    @Option(help: "Threads.") var threads = 1
    @Option(help: "Model file to reuse or create (default: a temporary file, deleted afterwards).") var file: String?

    /// The shape, the type and the model file (written first when missing). Call
    /// `removeIfTemporary()` on the result when done.
    func prepare() throws -> PreparedModel {
        guard let s = ReleasedShape.named(shape) else { throw CLIError("unknown shape \(shape)") }
        guard let t = SVAEFormat.ElementType(name: type) else { throw CLIError("unknown element type \(type)") }
        let (path, temporary) = try benchModelFile(s, t, file: file)
        return PreparedModel(shape: s, type: t, path: path, temporary: temporary)
    }
}

/// A model file ready for a bench: given by the user, or temporary (deleted by `removeIfTemporary`).
struct PreparedModel {
    let shape: ReleasedShape
    let type: SVAEFormat.ElementType
    let path: String
    let temporary: Bool

    func removeIfTemporary() { if temporary { try? FileManager.default.removeItem(atPath: path) } }
}

/// `svae-bench model`: speed, in-process start-up, size and peak RSS of one shape and type.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Encode / decode / reconstruct speed and size on a random-weight model of a released shape.")

    @OptionGroup var choice: ModelChoice
    @Option(help: "Repetitions after the warm-up (≥ 5 recommended).") var repetitions = 5
    @Option(help: "Sentences decoded in lockstep by the batched decode row.") var decodeBatch = Session.defaultDecodeBatch
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let m = try choice.prepare()
        defer { m.removeIfTemporary() }
        let (s, t, path, threads) = (m.shape, m.type, m.path, choice.threads)

        let t0 = now()
        let model = try cli { () throws(SVAEError) in try Model(path: path, options: ModelOptions(threads: threads)) }
        let session = try cli { () throws(SVAEError) in try model.makeSession(threads: threads) }
        let sentence = benchSentence
        let firstVector = try cli { () throws(SVAEError) in try session.encode(ids: [sentence]) }[0]
        _ = try cli { () throws(SVAEError) in try session.decode(firstVector, maxTokens: 16) }
        let coldStart = now() - t0

        let encodeOne = try measure(repetitions) { _ = try cli { () throws(SVAEError) in try session.encode(ids: [sentence]) } }
        let batch = benchBatch
        let encodeBatch = try measure(repetitions) { _ = try cli { () throws(SVAEError) in try session.encode(ids: batch) } }
        // Decode: 16 forced steps (random weights would stop at an arbitrary point), KV cache on.
        let decodeSteps = 16
        let decode = try measure(repetitions) {
            let d = try cli { () throws(SVAEError) in try session.makeDecoder(firstVector) }
            var tok: Int32 = 2
            for i in 0..<decodeSteps {
                do { _ = try d.step(tok) } catch { throw CLIError(ErrorText.describe(error)) }
                tok = Int32(100 + i)
            }
        }
        // Batched decoding: the same vectors (the batch above) decoded greedily, 16 tokens at most
        // each, one at a time and `decodeBatch` at a time.
        let vectors = Array(try cli { () throws(SVAEError) in try session.encode(ids: batch) }.prefix(max(32, min(decodeBatch, 64))))
        func decodeRate(_ b: Int) throws -> Stats {
            Stats(try measure(repetitions) { _ = try cli { () throws(SVAEError) in try session.decode(vectors, batch: b, maxTokens: decodeSteps) } }
                .map { Double(vectors.count) / $0 })
        }
        let decodeOne = try decodeRate(1), decodeMany = try decodeRate(decodeBatch)
        let fileSize = fileBytes(path)
        var result = ModelBenchResult(
            shape: s.name, type: t.description, threads: threads, repetitions: repetitions, fileBytes: fileSize,
            coldStartSeconds: coldStart, peakRSSBytes: peakRSSBytes(),
            encodeOneMs: Stats(encodeOne.map { $0 * 1000 }),
            encodeBatchSentencesPerSecond: Stats(encodeBatch.map { 64 / $0 }),
            decodeMsPerToken: Stats(decode.map { $0 * 1000 / Double(decodeSteps) }))
        result.decodeBatch = decodeBatch
        result.decodeSentences = vectors.count
        result.decodeBatch1SentencesPerSecond = decodeOne
        result.decodeBatchSentencesPerSecond = decodeMany
        if json {
            printJSON(result.json(machine: MachineInfo.current()))
        } else {
            print("machine    \(machineDescription())")
            print("model      \(s.name), \(t), \(fileSize) bytes, \(threads) thread(s), \(repetitions) repetitions (median (min–max))")
            print(String(format: "cold start %.3f s (open + first encode + 16 decode steps, in-process, page cache warm)", coldStart))
            for (name, st, unit) in result.rows { print("\(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(st) \(unit)") }
            print("peak RSS   \(result.peakRSSBytes / 1_000_000) MB")
        }
    }
}

/// What `svae-bench model` measures; `json` is the object `--json` prints (read by `bench all`
/// and tools/bench/peers.py: keep the keys stable).
struct ModelBenchResult {
    var shape: String
    var type: String
    var threads: Int
    var repetitions: Int
    var fileBytes: Int
    /// In-process: open + first encode + 16 decode steps, page cache warm.
    var coldStartSeconds: Double
    var peakRSSBytes: Int
    var encodeOneMs: Stats
    var encodeBatchSentencesPerSecond: Stats
    var decodeMsPerToken: Stats
    /// Batched decoding (0: not measured): sentences/s greedily decoding `decodeSentences`
    /// vectors (32, or up to 64 for a larger batch), 16 tokens at most each, one at a time and
    /// `decodeBatch` at a time.
    var decodeBatch = 0
    var decodeSentences = 0
    var decodeBatch1SentencesPerSecond = Stats([])
    var decodeBatchSentencesPerSecond = Stats([])

    static let encodeOneKey = "encode one 16-token sentence"
    static let encodeBatchKey = "encode 64 × 16 tokens"
    static let decodeKey = "decode with KV cache"
    static let decodeBatch1Key = "decode sentences of 16 tokens, batch 1"
    static let decodeBatchKey = "decode sentences of 16 tokens, batched"

    /// (JSON key, figures, unit) of the timed rows.
    var rows: [(String, Stats, String)] {
        [(Self.encodeOneKey, encodeOneMs, "ms"), (Self.encodeBatchKey, encodeBatchSentencesPerSecond, "sentences/s"),
         (Self.decodeKey, decodeMsPerToken, "ms/token")]
            + (decodeBatch == 0 ? [] : [(Self.decodeBatch1Key, decodeBatch1SentencesPerSecond, "sentences/s"),
                                        (Self.decodeBatchKey, decodeBatchSentencesPerSecond, "sentences/s")])
    }

    func json(machine: MachineInfo) -> [String: Any] {
        var o: [String: Any] = ["machine": machine.description, "load_average": machine.load, "shape": shape, "type": type,
                                "threads": threads, "repetitions": repetitions, "file_bytes": fileBytes,
                                "cold_start_s": coldStartSeconds, "peak_rss_bytes": peakRSSBytes, "decode_batch": decodeBatch,
                                "decode_sentences": decodeSentences]
        for (name, st, unit) in rows {
            var entry: [String: Any] = st.json
            entry["unit"] = unit
            o[name] = entry
        }
        return o
    }

    /// Reads what `json(machine:)` wrote (nil when a key is missing).
    init?(json o: [String: Any]) {
        guard let shape = o["shape"] as? String, let type = o["type"] as? String, let threads = o["threads"] as? Int,
              let reps = o["repetitions"] as? Int, let bytes = o["file_bytes"] as? Int,
              let cold = (o["cold_start_s"] as? NSNumber)?.doubleValue, let rss = o["peak_rss_bytes"] as? Int,
              let e1 = Stats(json: o[Self.encodeOneKey]), let eb = Stats(json: o[Self.encodeBatchKey]),
              let d = Stats(json: o[Self.decodeKey]) else { return nil }
        self.init(shape: shape, type: type, threads: threads, repetitions: reps, fileBytes: bytes, coldStartSeconds: cold,
                  peakRSSBytes: rss, encodeOneMs: e1, encodeBatchSentencesPerSecond: eb, decodeMsPerToken: d)
        if let b = o["decode_batch"] as? Int, b > 0, let k = o["decode_sentences"] as? Int,
           let one = Stats(json: o[Self.decodeBatch1Key]), let many = Stats(json: o[Self.decodeBatchKey]) {
            (decodeBatch, decodeSentences, decodeBatch1SentencesPerSecond, decodeBatchSentencesPerSecond) = (b, k, one, many)
        }
    }

    init(shape: String, type: String, threads: Int, repetitions: Int, fileBytes: Int, coldStartSeconds: Double,
         peakRSSBytes: Int, encodeOneMs: Stats, encodeBatchSentencesPerSecond: Stats, decodeMsPerToken: Stats) {
        self.shape = shape; self.type = type; self.threads = threads; self.repetitions = repetitions
        self.fileBytes = fileBytes; self.coldStartSeconds = coldStartSeconds; self.peakRSSBytes = peakRSSBytes
        self.encodeOneMs = encodeOneMs; self.encodeBatchSentencesPerSecond = encodeBatchSentencesPerSecond
        self.decodeMsPerToken = decodeMsPerToken
    }
}

/// The machine's own 1 → N thread scaling (read bandwidth and f32 compute), for the two-thread
/// targets: a workload's N-thread speedup is compared with this probe's, measured in the same run.
struct BenchProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "This machine's 1 → N thread scaling: streaming read bandwidth and independent per-thread sgemm.")

    @Option(help: "Threads of the N-thread figures.") var threads = 2
    @Option(help: "Repetitions (medians).") var repetitions = 7
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let p = KernelBenchmark.scalingProbe(threads: threads, repetitions: repetitions) else {
            throw CLIError("probe: could not start \(threads) threads")
        }
        let peak = KernelBenchmark.peakProbe(threads: threads, repetitions: repetitions)
        if json {
            var o: [String: Any] = ["threads": threads, "read_gb_s_1": p.bandwidth1, "read_gb_s_n": p.bandwidthN, "sgemm_gflops_1": p.gflops1,
                                    "sgemm_gflops_n": p.gflopsN, "bandwidth_scaling": p.bandwidthN / p.bandwidth1,
                                    "compute_scaling": p.gflopsN / p.gflops1, "machine": MachineInfo.current().description]
            if let peak {
                o["int8_peak_gops_1"] = peak.int8_1; o["int8_peak_gops_n"] = peak.int8N
                o["f32_fma_peak_gflops_1"] = peak.f32_1; o["f32_fma_peak_gflops_n"] = peak.f32N
            }
            printJSON(o)
        } else {
            print("machine    \(machineDescription())")
            print("read       1 thread \(fmt(p.bandwidth1, 1)) GB/s, \(threads) threads \(fmt(p.bandwidthN, 1)) GB/s (\(fmt(p.bandwidthN / p.bandwidth1, 2))×)")
            print("sgemm f32  1 thread \(fmt(p.gflops1, 1)) GFLOP/s, \(threads) threads \(fmt(p.gflopsN, 1)) GFLOP/s (\(fmt(p.gflopsN / p.gflops1, 2))×)")
            if let peak {
                print("int8 peak  1 thread \(fmt(peak.int8_1, 1)) GOP/s, \(threads) threads \(fmt(peak.int8N, 1)) GOP/s (vpdpbusd zmm, 16 independent chains)")
                print("f32 FMA    1 thread \(fmt(peak.f32_1, 1)) GFLOP/s, \(threads) threads \(fmt(peak.f32N, 1)) GFLOP/s (vfmadd zmm, 16 independent chains)")
            }
        }
    }
}
