import ArgumentParser
import Foundation
import SVAECLISupport
import SVAEFormat

/// `svae-bench all`: the machine, then speed, cold start, size and peak RSS for every
/// shape × type × thread count. Each measurement runs in its own child process (`svae-bench model`,
/// `svae-bench cold`) so that peak RSS and start-up belong to that one configuration.
struct BenchAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all", abstract: "Every row (speed, cold start, size, peak RSS) for shapes × types × threads.")

    @Option(help: "Shapes, comma-separated.") var shapes = "svae-768-h1,svae-768-h4"
    @Option(help: "Element types, comma-separated.") var types = "f32,q8_0,q4_0"
    @Option(help: "Thread counts, comma-separated.") var threads = "1"
    @Option(help: "Repetitions after the warm-up.") var repetitions = 5
    @Option(help: "Folder to keep the model files in, named SHAPE-TYPE.svae, reused when present (default: temporary files).")
    var dir: String?
    @Flag(inversion: .prefixedNo, help: "Also measure cold start with the page cache dropped (when allowed).") var dropCaches = true
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let shapeList = try shapes.split(separator: ",").map { name in
            guard let s = ReleasedShape.named(String(name)) else { throw CLIError("unknown shape \(name)") }
            return s
        }
        let typeList = try types.split(separator: ",").map { name in
            guard let t = SVAEFormat.ElementType(name: String(name)) else { throw CLIError("unknown element type \(name)") }
            return t
        }
        let threadList = try threads.split(separator: ",").map { n in
            guard let v = Int(n), v > 0 else { throw CLIError("bad thread count \(n)") }
            return v
        }
        let machine = MachineInfo.current()
        if !json {
            print("machine  \(machine.description)")
            print("date     \(ISO8601DateFormatter().string(from: Date()))")
            print("figures: median (min–max) of \(repetitions) after a warm-up; times in ms unless marked; load average per row")
            print("")
            print("| shape | type | threads | file MB | bits/weight | encode 1×16 ms | encode 64×16 sent/s | decode ms/token | cold start, cache warm, s | cold start, cache dropped, s | peak RSS MB, run once / bench | load |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        }
        var rows: [[String: Any]] = []
        var dropProblem: String?
        for s in shapeList {
            for t in typeList {
                let (path, temporary) = try benchModelFile(s, t, file: dir.map { "\($0)/\(s.name)-\(t).svae" })
                defer { if temporary { try? FileManager.default.removeItem(atPath: path) } }
                let size = SizeRow(type: t.description, fileBytes: fileBytes(path), shape: s)
                for n in threadList {
                    let c = try runSelf(["model", "--shape", s.name, "--type", t.description, "--threads", "\(n)",
                                         "--repetitions", "\(repetitions)", "--file", path, "--json"])
                    guard c.status == 0, let o = lastJSONObject(c.stdout), let m = ModelBenchResult(json: o) else {
                        throw c.failure("model \(s.name) \(t)")
                    }
                    let cold = try BenchCold.measureCold(path: path, shape: s.name, type: t.description, threads: n,
                                                         repetitions: repetitions, dropCaches: dropCaches)
                    let load = MachineInfo.current().load
                    rows.append(["model": m.json(machine: machine), "cold": cold.json, "size": size.json, "load_average": load])
                    if !json {
                        let dropped = cold.droppedSeconds.map { fmt($0.median, 3) } ?? "n/a"
                        let loadText = load.map { fmt($0, 2) }.joined(separator: " ")
                        print("| \(s.name) | \(t) | \(n) | \(fmt(Double(size.fileBytes) / 1e6, 1)) | \(fmt(size.bitsPerWeight, 2)) "
                              + "| \(m.encodeOneMs) | \(m.encodeBatchSentencesPerSecond) | \(m.decodeMsPerToken) "
                              + "| \(fmt(cold.firstSentenceSeconds.median, 3)) | \(dropped) "
                              + "| \(cold.peakRSSBytes / 1_000_000) / \(m.peakRSSBytes / 1_000_000) | \(loadText) |")
                        fflush(nil)
                    }
                    if let p = cold.dropProblem { dropProblem = p }
                }
            }
        }
        if json {
            printJSON(["machine": machine.json, "rows": rows])
        } else {
            print("")
            print("cold start: from spawning a child process until it has opened the model, encoded one 16-token sentence and run 16 decoder steps (its exit not included)")
            print("peak RSS: of that child (run once) / of the `svae-bench model` child (64-sentence batches too)")
            if let p = dropProblem { print("cold, page cache dropped: not measured (\(p))") }
        }
    }
}
