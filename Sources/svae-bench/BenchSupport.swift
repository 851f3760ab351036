import Foundation
import SVAECLISupport
import SVAEKernels

// Helpers shared by the `svae-bench` subcommands: statistics, clocks, memory, the machine, and
// child processes (cold start and peak RSS are per process, so `bench all` runs each row in one).

/// Median, min and max of measurements (all zero for no measurements).
struct Stats: CustomStringConvertible, Equatable {
    let median, min, max: Double

    init(_ xs: [Double]) {
        let s = xs.sorted()
        guard !s.isEmpty else { median = 0; min = 0; max = 0; return }
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        min = s[0]
        max = s[s.count - 1]
    }

    init(median: Double, min: Double, max: Double) {
        self.median = median; self.min = min; self.max = max
    }

    /// Reads `{"median": …, "min": …, "max": …}` (what `json` writes), nil when a field is missing.
    init?(json: Any?) {
        guard let o = json as? [String: Any], let m = (o["median"] as? NSNumber)?.doubleValue,
              let lo = (o["min"] as? NSNumber)?.doubleValue, let hi = (o["max"] as? NSNumber)?.doubleValue else { return nil }
        self.init(median: m, min: lo, max: hi)
    }

    var description: String { String(format: "%.3f (%.3f–%.3f)", median, min, max) }
    var json: [String: Double] { ["median": median, "min": min, "max": max] }
}

/// `x` with `digits` decimals.
func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

/// Seconds on the monotonic clock.
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

/// Peak resident set size of this process so far: VmHWM from /proc/self/status, which belongs to
/// this process alone (Linux carries a forking parent's `ru_maxrss` across fork + exec, so a child
/// of a large process would report the parent's peak); `ru_maxrss` (KiB) where /proc is missing.
func peakRSSBytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Int($0) }) {
        return kib * 1024
    }
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return u.ru_maxrss * 1024
}

/// This machine as the tables print it: CPU model, logical CPUs, the kernels' SIMD path, the
/// CPU's SIMD features that matter to the kernels, load.
struct MachineInfo {
    var cpu: String
    var cpus: Int
    var kernelPath: String
    /// 1-, 5- and 15-minute load averages at the time of the call (other work skews timings).
    var load: [Double]
    /// SIMD features of /proc/cpuinfo relevant to the kernels (x86 `flags`, arm64 `Features`).
    var simd: String = ""

    static let simdFlags = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
                            "asimd", "asimddp", "fphp", "i8mm", "sve"]

    static func current() -> MachineInfo {
        let info = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        let cpu = info.first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let flags = Set((info.first { $0.hasPrefix("flags") || $0.hasPrefix("Features") }?
            .split(separator: ":", maxSplits: 1).last ?? "").split(separator: " ").map(String.init))
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
            .split(separator: " ").prefix(3).compactMap { Double($0) }
        return MachineInfo(cpu: cpu, cpus: ProcessInfo.processInfo.activeProcessorCount,
                           kernelPath: "\(KernelPath.best)", load: load,
                           simd: simdFlags.filter(flags.contains).joined(separator: " "))
    }

    var description: String {
        "\(cpu), \(cpus) CPUs, kernel path \(kernelPath), SIMD \(simd.isEmpty ? "none detected" : simd), load average \(load.map { String(format: "%.2f", $0) }.joined(separator: " "))"
    }

    var json: [String: Any] { ["cpu": cpu, "cpus": cpus, "kernel_path": kernelPath, "simd": simd, "load_average": load] }
}

func machineDescription() -> String { MachineInfo.current().description }

/// What a finished child process printed, how long it ran (spawn to exit, wall clock) and its status.
struct ChildRun {
    /// Standard output and standard error, interleaved as written.
    var stdout: String
    var seconds: Double
    var status: Int32

    /// The error for a child that failed or printed no result: what it was, its status, and the
    /// last line it printed that is not JSON (its own error message), or that it printed nothing.
    func failure(_ what: String) -> CLIError {
        var said = stdout.split(separator: "\n").last { !$0.hasPrefix("{") && !$0.allSatisfy(\.isWhitespace) }.map(String.init)
        if let s = said, let r = s.range(of: "svae-bench: error: "), r.lowerBound == s.startIndex { said = String(s[r.upperBound...]) }
        let status = self.status == 0 ? "exit status 0 but no result line" : "exit status \(self.status)"
        return CLIError("\(what) failed (\(status)): " + (said ?? "it printed nothing"))
    }
}

/// Runs this same executable with `arguments`, capturing its standard output and standard error
/// in one pipe (so a child's error message reaches the parent's). posix_spawn + waitpid rather than Foundation's `Process`, whose `waitUntilExit`
/// noticed a child's exit only ≈ 50 ms late here, which inflated spawn → exit timings.
func runSelf(_ arguments: [String]) throws -> ChildRun {
    let exe = Bundle.main.executablePath ?? CommandLine.arguments[0]
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw CLIError("pipe: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + arguments).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid = pid_t()
    let t0 = now()
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
    close(fds[1])
    guard rc == 0 else {
        close(fds[0])
        throw CLIError("cannot start \(exe): \(String(cString: strerror(rc)))")
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n > 0 { output += buffer[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let seconds = now() - t0
    // WIFEXITED / WEXITSTATUS: exited normally when the low 7 bits are 0; a signal gives 128 + signal.
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ChildRun(stdout: String(decoding: output, as: UTF8.self), seconds: seconds, status: code)
}

/// Parses the last line of a child's output that is a JSON object.
func lastJSONObject(_ text: String) -> [String: Any]? {
    for line in text.split(separator: "\n").reversed() where line.hasPrefix("{") {
        if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return o }
    }
    return nil
}

/// Empties the page cache (`sync`, then `3` into /proc/sys/vm/drop_caches). Needs root and a
/// writable /proc/sys (containers usually mount it read-only); returns why not, or nil on success.
func dropPageCache() -> String? {
    sync()
    guard let f = fopen("/proc/sys/vm/drop_caches", "w") else { return "cannot open /proc/sys/vm/drop_caches: \(String(cString: strerror(errno)))" }
    defer { fclose(f) }
    if fputs("3\n", f) < 0 || fflush(f) != 0 { return "cannot write /proc/sys/vm/drop_caches: \(String(cString: strerror(errno)))" }
    return nil
}

/// Size of a file in bytes (0 when it cannot be read).
func fileBytes(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}
