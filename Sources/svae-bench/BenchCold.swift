import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEFormat

/// A model file for a bench: `file` when given (written first if missing), else a temporary one
/// that the caller deletes (`temporary` is true).
func benchModelFile(_ shape: ReleasedShape, _ type: SVAEFormat.ElementType, file: String?) throws -> (path: String, temporary: Bool) {
    let path = file ?? NSTemporaryDirectory() + "svae-bench-\(shape.name)-\(type)-\(getpid()).svae"
    if !FileManager.default.fileExists(atPath: path) {
        // --dir may name a folder that does not exist yet.
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try shape.write(to: path, type: type)
    }
    return (path, file == nil)
}

/// The sentence every bench encodes: BOS and 15 fixed ids.
let benchSentence: [Int32] = [2] + (0..<15).map { Int32(100 + $0 * 37) }

/// What one `svae-bench first-sentence` child reports about itself.
struct FirstSentenceResult {
    var openSeconds: Double
    var encodeSeconds: Double
    var decodeSeconds: Double
    /// From the parent's spawn call (CLOCK_MONOTONIC, passed in --spawned-at) to the end of the
    /// 16 steps: process start, dynamic linking, open and the first sentence; nil without it.
    var firstSentenceSeconds: Double?
    var peakRSSBytes: Int

    var json: [String: Any] {
        var o: [String: Any] = ["open_s": openSeconds, "encode_s": encodeSeconds, "decode_s": decodeSeconds, "peak_rss_bytes": peakRSSBytes]
        if let f = firstSentenceSeconds { o["first_sentence_s"] = f }
        return o
    }

    init(openSeconds: Double, encodeSeconds: Double, decodeSeconds: Double, firstSentenceSeconds: Double?, peakRSSBytes: Int) {
        self.openSeconds = openSeconds; self.encodeSeconds = encodeSeconds
        self.decodeSeconds = decodeSeconds; self.firstSentenceSeconds = firstSentenceSeconds; self.peakRSSBytes = peakRSSBytes
    }

    init?(json o: [String: Any]) {
        guard let a = (o["open_s"] as? NSNumber)?.doubleValue, let b = (o["encode_s"] as? NSNumber)?.doubleValue,
              let c = (o["decode_s"] as? NSNumber)?.doubleValue, let r = o["peak_rss_bytes"] as? Int else { return nil }
        self.init(openSeconds: a, encodeSeconds: b, decodeSeconds: c,
                  firstSentenceSeconds: (o["first_sentence_s"] as? NSNumber)?.doubleValue, peakRSSBytes: r)
    }
}

/// The child of `svae-bench cold`: open a model, encode one 16-token sentence, run 16 decoder
/// steps fed with that sentence (a reconstruction's work, with a fixed length because random
/// weights stop at an arbitrary point), print timings and peak RSS as one JSON line, exit.
struct BenchFirstSentence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "first-sentence", abstract: "Child of `svae-bench cold`: open, encode one sentence, 16 decoder steps.",
        shouldDisplay: false)

    @Argument(help: "The .svae model.") var model: String
    @Option(help: "Threads.") var threads = 1
    @Option(help: "The parent's CLOCK_MONOTONIC seconds just before it spawned this process.") var spawnedAt: Double?

    func run() throws {
        let t0 = now()
        let m = try cli { () throws(SVAEError) in try Model(path: model, options: ModelOptions(threads: threads)) }
        let session = try cli { () throws(SVAEError) in try m.makeSession(threads: threads) }
        let t1 = now()
        let vector = try cli { () throws(SVAEError) in try session.encode(ids: [benchSentence]) }[0]
        let t2 = now()
        let d = try cli { () throws(SVAEError) in try session.makeDecoder(vector) }
        var token: Int32 = 2
        for i in 0..<16 {
            do { _ = try d.step(token) } catch { throw CLIError(ErrorText.describe(error)) }
            token = benchSentence[min(i + 1, benchSentence.count - 1)]
        }
        let t3 = now()
        var o = FirstSentenceResult(openSeconds: t1 - t0, encodeSeconds: t2 - t1, decodeSeconds: t3 - t2,
                                    firstSentenceSeconds: spawnedAt.map { t3 - $0 }, peakRSSBytes: peakRSSBytes()).json
        if let s = spawnedAt { o["startup_s"] = t0 - s }  // spawn → main: loader, runtime, argument parsing
        printJSON(o)
    }
}

/// What `svae-bench cold` measures.
struct ColdBenchResult {
    var shape: String
    var type: String
    var threads: Int
    var fileBytes: Int
    /// Child wall time, process start to exit, page cache warm (after one unmeasured run).
    var warmSeconds: Stats
    /// Spawn → first sentence done (open, encode, 16 steps), page cache warm: the cold start
    /// proper, without the process's exit.
    var firstSentenceSeconds: Stats
    /// The same after dropping the page cache before each run; nil when that was not allowed.
    var droppedSeconds: Stats?
    /// Why the page cache could not be dropped (nil when it was, or when not asked).
    var dropProblem: String?
    /// Medians of the children's own phases (warm runs): open, encode, 16 decoder steps.
    var openSeconds, encodeSeconds, decodeSeconds: Double
    /// Largest peak RSS of any child.
    var peakRSSBytes: Int

    var json: [String: Any] {
        var o: [String: Any] = ["shape": shape, "type": type, "threads": threads, "file_bytes": fileBytes,
                                "warm_s": warmSeconds.json, "first_sentence_s": firstSentenceSeconds.json, "open_s": openSeconds, "encode_s": encodeSeconds,
                                "decode_s": decodeSeconds, "peak_rss_bytes": peakRSSBytes,
                                "page_cache_dropped": droppedSeconds != nil]
        if let d = droppedSeconds { o["dropped_s"] = d.json }
        if let p = dropProblem { o["drop_problem"] = p }
        return o
    }
}

/// Cold start in a fresh process: `svae-bench first-sentence` timed from spawn to exit.
struct BenchCold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cold",
        abstract: "Cold start: a child process opens the model, encodes one sentence and runs 16 decoder steps.",
        discussion: """
            Timed from process start to exit, page cache warm (after one unmeasured run); then with \
            the page cache dropped before each run (echo 3 > /proc/sys/vm/drop_caches) when this \
            process may do that, which needs root and a writable /proc/sys. The output says which.
            """)

    @OptionGroup var choice: ModelChoice
    @Option(help: "Runs per condition.") var repetitions = 5
    @Flag(inversion: .prefixedNo, help: "Also measure with the page cache dropped (when allowed).") var dropCaches = true
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let m = try choice.prepare()
        defer { m.removeIfTemporary() }
        let (s, t, path, threads) = (m.shape, m.type, m.path, choice.threads)
        let r = try Self.measureCold(path: path, shape: s.name, type: t.description, threads: threads,
                                     repetitions: repetitions, dropCaches: dropCaches)
        if json {
            var o = r.json
            o["machine"] = MachineInfo.current().description
            printJSON(o)
        } else {
            print("machine    \(machineDescription())")
            print("model      \(s.name), \(t), \(r.fileBytes) bytes, \(threads) thread(s), \(repetitions) runs (median (min–max))")
            print("spawn → first sentence, warm    \(r.firstSentenceSeconds) s")
            print("spawn → exit, page cache warm   \(r.warmSeconds) s  (open \(ms(r.openSeconds)), encode \(ms(r.encodeSeconds)), 16 steps \(ms(r.decodeSeconds)) ms)")
            if let d = r.droppedSeconds {
                print("cold start, page cache dropped  \(d) s")
            } else if let p = r.dropProblem {
                print("cold start, page cache dropped  not measured: \(p)")
            }
            print("peak RSS   \(r.peakRSSBytes / 1_000_000) MB (file \(r.fileBytes / 1_000_000) MB)")
        }
    }

    private func ms(_ s: Double) -> String { String(format: "%.1f", s * 1000) }

    static func measureCold(path: String, shape: String, type: String, threads: Int, repetitions: Int,
                            dropCaches: Bool) throws -> ColdBenchResult {
        func child() throws -> (Double, FirstSentenceResult) {
            let c = try runSelf(["first-sentence", path, "--threads", "\(threads)", "--spawned-at", "\(now())"])
            guard c.status == 0, let o = lastJSONObject(c.stdout), let r = FirstSentenceResult(json: o) else {
                throw c.failure("first-sentence \(path)")
            }
            return (c.seconds, r)
        }
        _ = try child()
        var warm: [Double] = [], phases: [FirstSentenceResult] = []
        for _ in 0..<repetitions {
            let (s, r) = try child()
            warm.append(s); phases.append(r)
        }
        var dropped: [Double] = []
        var problem: String?
        if dropCaches {
            for _ in 0..<repetitions {
                if let p = dropPageCache() { problem = p; break }
                let (s, r) = try child()
                dropped.append(r.firstSentenceSeconds ?? s); phases.append(r)
            }
        }
        let warmPhases = phases.prefix(repetitions)
        return ColdBenchResult(
            shape: shape, type: type, threads: threads, fileBytes: fileBytes(path), warmSeconds: Stats(warm),
            firstSentenceSeconds: Stats(warmPhases.compactMap(\.firstSentenceSeconds)),
            droppedSeconds: problem == nil && !dropped.isEmpty ? Stats(dropped) : nil, dropProblem: problem,
            openSeconds: Stats(warmPhases.map(\.openSeconds)).median, encodeSeconds: Stats(warmPhases.map(\.encodeSeconds)).median,
            decodeSeconds: Stats(warmPhases.map(\.decodeSeconds)).median, peakRSSBytes: phases.map(\.peakRSSBytes).max() ?? 0)
    }
}
