import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEKernels
import CSVAEKernels

/// `svae-bench threads`: two-thread scaling of the 64 × 16 encode against the machine's own, in
/// one process, round by round.
///
/// This VM has slow phases of a few seconds (AVX-512 code ≈ 1.7× slower): a 1-thread block and
/// a 2-thread block timed apart can land in different phases and give any ratio. Here every round
/// times the encode on 1 thread, 2 threads, 2 threads, 1 thread (ABBA: a drift within the round
/// cancels), then the int8 peak probe (`vpdpbusd zmm`, 16 independent chains per thread, what
/// `svae-bench probe` measures) the same way, and takes each round's ratios; a slow phase hits
/// both sides of a round. Figures are medians over rounds, with the middle half (25–75 %).
struct BenchThreads: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threads",
        abstract: "Two-thread scaling of the 64 × 16 encode beside the int8 peak probe's, interleaved round by round in one process.")

    @Argument(help: "Model files (.svae) to measure.") var models: [String]
    @Option(help: "Threads of the N-thread side.") var threads = 2
    @Option(help: "Rounds (each: encode 1T, NT, NT, 1T, then the probe the same way).") var rounds = 41
    @Option(help: "Iterations of the probe per thread per timing (16 vpdpbusd each).") var probeIterations = 1_000_000
    @Flag(help: "Print JSON lines (one object per model).") var json = false

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("give at least one model file") }
        guard threads >= 2 else { throw ValidationError("--threads must be at least 2 (found \(threads))") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1 (found \(rounds))") }
        guard probeIterations >= 1 else { throw ValidationError("--probe-iterations must be at least 1 (found \(probeIterations))") }
    }

    func run() throws {
        guard csvae_probe_peak(0, 1) > 0 else { throw CLIError("threads: the int8 peak probe needs AVX-512 VNNI, which this CPU lacks") }
        guard let pool1 = ThreadPool(threads: 1), let poolN = ThreadPool(threads: threads), poolN.threads == threads else {
            throw CLIError("threads: could not start \(threads) threads")
        }
        let iters = probeIterations
        func probe(_ pool: ThreadPool) -> Timing { Timing(threads: pool.threads) { pool.parallelFor(pool.threads) { _, _ in _ = csvae_probe_peak(0, iters) } } }
        if !json {
            print("machine    \(machineDescription())")
            print("work       encode 64 × 16 tokens (one call); probe: \(iters) × 16 vpdpbusd zmm per thread per timing; \(rounds) rounds, "
                  + "each encode 1T, \(threads)T, \(threads)T, 1T then the probe the same way")
            print("figures    medians over rounds, (middle half); scaling = 1T time ÷ \(threads)T time of the same work (probe: × \(threads), "
                  + "its \(threads)T side does \(threads)× the work); of probe = encode scaling ÷ probe scaling, per round; "
                  + "CPU use = this process's CPU time ÷ (\(threads) × wall time) of a \(threads)T timing (below 100 %: a thread waited, "
                  + "or another process had its core); encode scaling, CPU time: 1T CPU time ÷ the CPU time of the \(threads)T timing's "
                  + "busiest thread (ideal \(threads).00: the split adds no work and balances it; it leaves out the time a thread was "
                  + "descheduled, so other processes move it less than the wall-time figures, and it is blind to wake-up latency); "
                  + "1T of int8 peak = the 1T encode's rate in operations of its linear layers (2 per multiply-add, the whole call's "
                  + "wall time) ÷ the 1T probe's rate, per round")
            print("")
            print("| model | load before → after | encode 1T sent/s | encode \(threads)T sent/s | encode scaling | probe scaling | encode ÷ probe "
                  + "| encode \(threads)T CPU use | probe \(threads)T CPU use | encode scaling, CPU time | 1T encode GOP/s | 1T of int8 peak |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        }
        for path in models {
            let loadBefore = loadAverage()
            let model = try cli { () throws(SVAEError) in try Model(path: path, options: ModelOptions(threads: 1)) }
            let s1 = try cli { () throws(SVAEError) in try model.makeSession(threads: 1) }
            let sN = try cli { () throws(SVAEError) in try model.makeSession(threads: threads) }
            guard let cfg = model.config else { throw CLIError("threads: \(path) has no sentence encoder") }
            // Operations of the encoder's linear layers for the whole batch: per token and layer
            // QKV 3d², output d², FFN 2·d·f multiply-adds, 2 operations each.
            let tokens = benchBatch.reduce(0) { $0 + $1.count }
            let encodeOps = 2.0 * Double(tokens * cfg.encoderLayers * (4 * cfg.hidden * cfg.hidden + 2 * cfg.hidden * cfg.ffn))
            let probeOps = 2048.0 * Double(iters)  // 16 chains × 64 multiply-adds × 2 per iteration
            func encode(_ s: Session, _ threads: Int) throws -> Timing {
                try Timing(threads: threads) { _ = try cli { () throws(SVAEError) in try s.encode(ids: benchBatch) } }
            }
            // Warm-up (scratch grown, pages touched), and the vectors must not depend on the threads.
            let v1 = try cli { () throws(SVAEError) in try s1.encode(ids: benchBatch) }
            let vN = try cli { () throws(SVAEError) in try sN.encode(ids: benchBatch) }
            guard v1 == vN else { throw CLIError("threads: \(path): the vectors on 1 and \(threads) threads differ") }
            _ = (probe(pool1), probe(poolN))
            var enc1: [Double] = [], encN: [Double] = [], encScaling: [Double] = [], probeScaling: [Double] = [], ofProbe: [Double] = []
            var encUse: [Double] = [], probeUse: [Double] = [], encScalingCPU: [Double] = [], ofPeak: [Double] = []
            let n = Double(threads)
            for _ in 0..<rounds {
                let a = try encode(s1, 1), b = try encode(sN, threads), c = try encode(sN, threads), d = try encode(s1, 1)
                let pa = probe(pool1), pb = probe(poolN), pc = probe(poolN), pd = probe(pool1)
                let e = (a.wall + d.wall) / (b.wall + c.wall), p = n * (pa.wall + pd.wall) / (pb.wall + pc.wall)
                enc1.append((a.wall + d.wall) / 2); encN.append((b.wall + c.wall) / 2)
                encScaling.append(e); probeScaling.append(p); ofProbe.append(e / p)
                encUse.append((b.cpu + c.cpu) / (n * (b.wall + c.wall))); probeUse.append((pb.cpu + pc.cpu) / (n * (pb.wall + pc.wall)))
                encScalingCPU.append((a.critical + d.critical) / (b.critical + c.critical))
                ofPeak.append((encodeOps / (a.wall + d.wall)) / (probeOps / (pa.wall + pd.wall)))
            }
            let loadAfter = loadAverage()
            let name = (path as NSString).lastPathComponent
            if json {
                printJSON(["model": name, "threads": threads, "rounds": rounds, "load_before": loadBefore, "load_after": loadAfter,
                           "encode_1_sentences_per_s": 64 / Self.quartiles(enc1).median, "encode_n_sentences_per_s": 64 / Self.quartiles(encN).median,
                           "encode_scaling": Self.quartiles(encScaling).json, "probe_scaling": Self.quartiles(probeScaling).json,
                           "encode_of_probe": Self.quartiles(ofProbe).json, "encode_n_cpu_use": Self.quartiles(encUse).json,
                           "probe_n_cpu_use": Self.quartiles(probeUse).json, "encode_scaling_cpu_time": Self.quartiles(encScalingCPU).json,
                           "encode_1_gops": encodeOps / Self.quartiles(enc1).median / 1e9, "encode_1_of_int8_peak": Self.quartiles(ofPeak).json])
            } else {
                func q(_ xs: [Double], _ digits: Int = 2, pct: Bool = false) -> String {
                    let v = Self.quartiles(xs), k = pct ? 100.0 : 1, u = pct ? " %" : "×", d = pct ? 0 : digits
                    return "\(fmt(v.median * k, d))\(u) (\(fmt(v.low * k, d))–\(fmt(v.high * k, d)))"
                }
                print("| \(name) | \(loadBefore) → \(loadAfter) | \(fmt(64 / Self.quartiles(enc1).median, 0)) | \(fmt(64 / Self.quartiles(encN).median, 0)) "
                      + "| \(q(encScaling)) | \(q(probeScaling)) | \(q(ofProbe, pct: true)) | \(q(encUse, pct: true)) | \(q(probeUse, pct: true)) | \(q(encScalingCPU)) "
                      + "| \(fmt(encodeOps / Self.quartiles(enc1).median / 1e9, 0)) | \(q(ofPeak, pct: true)) |")
            }
        }
    }

    /// One timing of work on `threads` threads of which the caller is one: wall time, this
    /// process's CPU time, and the busiest thread's CPU time (the caller's, or the others' total
    /// shared out between them, exact for 2 threads).
    struct Timing {
        let wall: Double, cpu: Double, critical: Double

        init(threads: Int, _ body: () throws -> Void) rethrows {
            func clock(_ id: clockid_t) -> Double {
                var t = timespec()
                clock_gettime(id, &t)
                return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
            }
            let t0 = now(), p0 = clock(CLOCK_PROCESS_CPUTIME_ID), m0 = clock(CLOCK_THREAD_CPUTIME_ID)
            try body()
            let m = clock(CLOCK_THREAD_CPUTIME_ID) - m0
            wall = now() - t0
            cpu = clock(CLOCK_PROCESS_CPUTIME_ID) - p0
            critical = threads > 1 ? max(m, (cpu - m) / Double(threads - 1)) : cpu
        }
    }

    /// Median and middle half (the 25 % and 75 % order statistics) of `xs`.
    static func quartiles(_ xs: [Double]) -> (median: Double, low: Double, high: Double, json: [String: Double]) {
        let s = xs.sorted()
        func at(_ q: Double) -> Double { s[min(s.count - 1, max(0, Int((q * Double(s.count - 1)).rounded())))] }
        let m = Stats(xs).median
        return (m, at(0.25), at(0.75), ["median": m, "q25": at(0.25), "q75": at(0.75)])
    }

    func loadAverage() -> String { MachineInfo.current().load.map { fmt($0, 2) }.joined(separator: " ") }
}
