import ArgumentParser
import Foundation
import SVAECLISupport
import SVAEFormat
import SVAEKernels
import SVAEModel

/// A released SLLM shape against its token-level OPT: generation on random-weight models.
///
/// Workload (same for both): a prompt of `promptLengths` sentences, then the sentences of
/// `generatedLengths` (tokens per sentence, EOS included; mean 20, typical of English text in
/// GPT-2 tokens). Random weights would stop anywhere, so the lengths are forced: the SLLM's
/// sentence decoder gets EOS at the listed length (other steps feed its own argmax), its stop
/// head is computed but ignored; OPT feeds its argmax for exactly the same total number of tokens.
///
/// Measures (medians over repetitions after a warm-up): output tokens/s (generation phase, the
/// SLLM's stop head, sentence decoding, re-encoding and OPT-layer steps included), prefill
/// tokens/s, KV-cache bytes per token in context (OPT: its cache; SLLM: the OPT layers' cache
/// over sentence positions plus the sentence decoder's cache at its longest sentence, divided by
/// prompt + generated tokens), peak RSS. Each repetition runs in its own child process (peak RSS
/// belongs to that model alone), the OPT and its SLLMs alternating so load changes hit all alike;
/// an OPT shared by several SLLMs of `--shapes` runs once per repetition and serves them all.
struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Released SLLM shapes vs their OPT: generation speed and KV-cache size (random weights, forced sentence lengths).",
        discussion: """
            Shapes: \(SLLMShape.all.map(\.name).joined(separator: ", ")); each against the OPT it is built on \
            (\(OPTShape.all.map(\.name).joined(separator: ", "))). Model files are written one tensor chunk at a time, \
            named SHAPE-TYPE.svae, and kept in --dir between runs (rewritten when stale).
            """)

    static let promptLengths = [17, 24, 13, 21]
    static let generatedLengths = [14, 22, 9, 31, 18, 25, 12, 27, 20, 16, 35, 11, 23, 19, 28, 10]

    @Option(help: "SLLM shapes, comma-separated.") var shapes = "sllm-125m-h1"
    @Option(help: "Element types of the 2-D weights, comma-separated (f32, f16, q8_0, q4_0; i8r = svae-convert's q8 choice: the encoder's and decoder's linear weights i8r, the others q8_0).") var types = "f32,q8_0,q4_0"
    @Option(help: "Thread counts, comma-separated.") var threads = "1,2"
    @Option(help: "Generated sentences per run (lengths cycle through the built-in list).") var sentences = 8
    @Option(help: "Repetitions after the warm-up.") var repetitions = 3
    @Option(help: "Folder for the model files (created if missing; reused when present).") var dir: String?
    @Option(help: "Seed of the random weights.") var seed: UInt64 = 0x5EED
    @Flag(help: "Only write the model files missing from --dir, then stop.") var prepareOnly = false
    @Flag(help: "Keep the model files (default: delete them when --dir is not given).") var keep = false
    @Flag(help: "Print JSON lines instead of a table.") var json = false
    @Option(help: .hidden) var child: String?
    @Option(help: .hidden) var file: String?

    func run() throws {
        if let arch = child {
            guard let path = file, let t = types.split(separator: ",").first, let n = Int(threads) else { throw CLIError("child: bad arguments") }
            printJSON(try Self.measure(arch: arch, path: path, type: String(t), threads: n, sentences: sentences, repetitions: repetitions))
            return
        }
        let shapeList = try shapes.split(separator: ",").map { (s: Substring) throws -> SLLMShape in
            guard let shape = SLLMShape.named(String(s)) else {
                throw ValidationError("--shapes: unknown shape \(s) (expected \(SLLMShape.all.map(\.name).joined(separator: ", ")))")
            }
            return shape
        }
        let typeList = try types.split(separator: ",").map { (s: Substring) throws -> SVAEFormat.ElementType in
            guard let t = SVAEFormat.ElementType(name: String(s)) else { throw CLIError("unknown element type \(s)") }
            return t
        }
        let threadList = try threads.split(separator: ",").map { (s: Substring) throws -> Int in
            guard let n = Int(s), n >= 1 else { throw CLIError("--threads: expected positive integers, found \(s)") }
            return n
        }
        guard sentences >= 1, repetitions >= 1 else { throw ValidationError("expected --sentences ≥ 1 and --repetitions ≥ 1") }
        let opts = shapeList.reduce(into: [OPTShape]()) { if !$0.contains($1.opt) { $0.append($1.opt) } }
        let folder = dir ?? NSTemporaryDirectory() + "svae-bench-generate-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if dir == nil && !keep { try? FileManager.default.removeItem(atPath: folder) } }
        let load = { (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?" }
        if !json && !prepareOnly {
            print("machine    \(machineDescription())")
            print("load       \(load()) (/proc/loadavg at start; the machine is shared)")
            print("workload   prompt \(Self.promptLengths.count) sentences \(Self.promptLengths), \(sentences) generated sentences of \(Array((0..<sentences).map { Self.generatedLengths[$0 % Self.generatedLengths.count] })) tokens; \(repetitions) repetitions, the OPT and its SLLMs alternating, one child process each (after its own warm-up); medians")
            for s in shapeList {
                print("model      \(s.name) = SVAE-\(s.opt.hidden)-H\(s.svaeLayers)\(s.opt.embedDim == s.opt.hidden ? "" : " (embedding \(s.opt.embedDim))") + \(s.opt.layers) \(s.opt.name) layers (\(s.opt.normBefore ? "pre" : "post")-norm) against \(s.opt.name); random weights")
            }
            print("")
            print("shape         type  thr | SLLM out tok/s (min–max)  prefill tok/s  KV B/tok  RSS MB | OPT out tok/s (min–max)  prefill tok/s  KV B/tok  RSS MB | out ×  KV %")
        }
        for t in typeList {
            var paths: [String: String] = [:]
            for (name, metadata) in shapeList.map({ ($0.name, $0.metadata) }) + opts.map({ ($0.name, $0.metadata) }) {
                let path = folder + "/\(name)-\(t).svae"
                let t0 = now()
                if try ensureRandomModel(metadata: metadata, at: path, type: t, seed: seed) {
                    printErr(String(format: "wrote %@ (%.1f s)", path, now() - t0))
                }
                paths[name] = path
            }
            if prepareOnly { continue }
            for n in threadList {
                // Alternate the models, one repetition per child, so that load changes on the
                // shared machine hit all alike; medians over the repetitions.
                var runs: [String: [[String: Any]]] = [:]
                for _ in 0..<repetitions {
                    for o in opts {
                        for (arch, name) in [("opt", o.name)] + shapeList.filter({ $0.opt == o }).map({ ("sllm", $0.name) }) {
                            runs[name, default: []].append(try Self.runChild(["generate", "--child", arch, "--file", paths[name]!, "--types", "\(t)",
                                                                              "--threads", "\(n)", "--sentences", "\(sentences)", "--repetitions", "1"]))
                        }
                    }
                }
                for shape in shapeList {
                    let s = Self.summarize(runs[shape.name]!), o = Self.summarize(runs[shape.opt.name]!)
                    func d(_ r: [String: Any], _ k: String) -> Double { (r[k] as? NSNumber)?.doubleValue ?? .nan }
                    let speedup = d(s, "output_tokens_per_s") / d(o, "output_tokens_per_s")
                    let kvRatio = d(s, "kv_bytes_per_token") / d(o, "kv_bytes_per_token")
                    if json {
                        printJSON(["shape": shape.name, "opt_shape": shape.opt.name, "type": t.description, "threads": n, "sllm": s, "opt": o,
                                   "output_speedup": speedup, "kv_ratio": kvRatio, "loadavg": load()])
                    } else {
                        func range(_ r: [String: Any]) -> String {
                            let a = (r["output_tokens_per_s_range"] as? [Double]) ?? [.nan, .nan]
                            return String(format: "%6.1f (%6.1f–%6.1f)", d(r, "output_tokens_per_s"), a[0], a[1])
                        }
                        print(String(format: "%-13@ %-5@ %3d | %@ %14.1f %9.0f %7.0f | %@ %14.1f %9.0f %7.0f | %5.2f %4.1f%%",
                                     shape.name, t.description, n, range(s), d(s, "prefill_tokens_per_s"), d(s, "kv_bytes_per_token"),
                                     d(s, "peak_rss_bytes") / 1e6, range(o), d(o, "prefill_tokens_per_s"),
                                     d(o, "kv_bytes_per_token"), d(o, "peak_rss_bytes") / 1e6, speedup, 100 * kvRatio))
                    }
                    fflush(nil)
                }
            }
        }
        if !json && !prepareOnly { print("load       \(load()) (/proc/loadavg at end)") }
    }

    /// Medians of the children's throughputs (with min–max), their largest peak RSS, the rest from the first.
    static func summarize(_ runs: [[String: Any]]) -> [String: Any] {
        var out = runs[0]
        for key in ["output_tokens_per_s", "prefill_tokens_per_s"] {
            let st = Stats(runs.map { ($0[key] as? NSNumber)?.doubleValue ?? .nan })
            out[key] = st.median
            out[key + "_range"] = [st.min, st.max]
        }
        out["peak_rss_bytes"] = runs.map { ($0["peak_rss_bytes"] as? NSNumber)?.intValue ?? 0 }.max() ?? 0
        out["repetitions"] = runs.count
        return out
    }

    /// Runs this executable with `arguments` (`runSelf`) and parses its JSON line.
    static func runChild(_ arguments: [String]) throws -> [String: Any] {
        let c = try runSelf(arguments)
        guard c.status == 0, let o = lastJSONObject(c.stdout) else {
            throw c.failure("child \(arguments.joined(separator: " "))")
        }
        return o
    }

    /// Prompt sentences: BOS then pseudo-random ids (deterministic), lengths as listed.
    static func sentence(_ length: Int, seed: Int) -> [Int32] {
        [2] + (1..<length).map { Int32(4 + (seed * 7919 + $0 * 104_729) % 50_000) }
    }

    /// One measurement in this process (the child side).
    static func measure(arch: String, path: String, type: String, threads: Int, sentences: Int, repetitions: Int) throws -> [String: Any] {
        let ctx = try KernelContext(threads: threads)
        let prompt = promptLengths.enumerated().map { sentence($0.element, seed: $0.offset) }
        let lengths = (0..<sentences).map { generatedLengths[$0 % generatedLengths.count] }
        let generated = lengths.reduce(0, +)
        var prefill: [Double] = [], output: [Double] = []
        var kvBytes = 0, contextTokens = 0, promptTokens = 0
        do {
            if arch == "sllm" {
                let model = try SentenceLLM(path: path)
                let s = model.makeSession(context: ctx)
                let eos = model.vae.config.eos
                let decoderBytesPerToken = 2 * model.vae.config.decoderLayers * model.vae.config.hidden * 4
                promptTokens = prompt.reduce(0) { $0 + $1.count }
                func once(_ lengths: [Int]) throws -> (Double, Double) {
                    s.reset()
                    let t0 = now()
                    try s.prefill(prompt)
                    let t1 = now()
                    var longest = 0
                    for L in lengths {
                        _ = try s.stopsAfterLast()  // computed as in a real run; ignored (forced lengths)
                        let d = try s.makeDecoder()
                        var ids: [Int32] = []
                        var previous = model.vae.config.bos
                        for i in 0..<L {
                            var next = Sampler.argmax(try d.step(previous))
                            if i == L - 1 { next = eos } else if next == eos { next = 4 }
                            ids.append(next)
                            previous = next
                        }
                        longest = max(longest, d.length)
                        try s.append(s.sentenceForEncoding(ids))
                    }
                    kvBytes = s.cache.bytes + longest * decoderBytesPerToken
                    return (t1 - t0, now() - t1)
                }
                _ = try once([lengths[0]])
                for _ in 0..<repetitions {
                    let (a, b) = try once(lengths)
                    prefill.append(a)
                    output.append(b)
                }
            } else {
                let model = try OPTLanguageModel(path: path)
                let s = model.makeSession(context: ctx)
                let tokens = [Int32(2)] + prompt.flatMap { $0.dropFirst() }
                promptTokens = tokens.count
                func once(_ count: Int) throws -> (Double, Double) {
                    s.reset()
                    let t0 = now()
                    var next = Sampler.argmax(try s.feed(tokens))
                    let t1 = now()
                    for _ in 0..<count { next = Sampler.argmax(try s.feed([next])) }
                    kvBytes = s.cache.bytes
                    return (t1 - t0, now() - t1)
                }
                _ = try once(lengths[0])
                for _ in 0..<repetitions {
                    let (a, b) = try once(generated)
                    prefill.append(a)
                    output.append(b)
                }
            }
        } catch let e as ModelError {
            throw CLIError(e.description)
        }
        contextTokens = promptTokens + generated
        return ["arch": arch, "type": type, "threads": threads, "prompt_tokens": promptTokens, "generated_tokens": generated,
                "prefill_tokens_per_s": Stats(prefill.map { Double(promptTokens) / $0 }).median,
                "output_tokens_per_s": Stats(output.map { Double(generated) / $0 }).median,
                "kv_bytes": kvBytes, "kv_bytes_per_token": Double(kvBytes) / Double(contextTokens),
                "peak_rss_bytes": peakRSSBytes()]
    }
}
