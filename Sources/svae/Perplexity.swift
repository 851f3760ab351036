import ArgumentParser
import Foundation
import SVAE
import SVAEModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Teacher-forced perplexity of a model on a text file, and KL divergence from a reference model.",
        discussion: """
            svae files: each line is one sentence; the decoder, given the sentence's own vector, is scored \
            on its tokens and EOS. sllm files: each line is a passage, split into sentences; the decoder \
            with the SLLM state of sentence i is scored on sentence i+1 (and the stop head on "another \
            sentence follows"); without --attention both prefill modes are reported. opt files: next-token \
            cross-entropy of each line. Every target token weighs the same (docs/perplexity.md). \
            With --reference (same architecture and vocabulary, e.g. the f32 conversion), both models run \
            in lockstep: KL divergence of the next-token distributions from the reference's (mean, median, \
            p99, max), top-1 agreement and PPL ratio.

            Examples:
              svae perplexity svae-tiny.svae --input models/svae-tiny/heldout.txt
              svae perplexity svae-tiny-q4.svae --reference svae-tiny-f32.svae --input models/svae-tiny/heldout.txt --json
              cat passages.txt | svae perplexity sllm.svae --input - --attention causal
            """)

    @Argument(help: "The .svae model (architecture svae, sllm or opt).") var model: String
    @Option(help: ArgumentHelp("Text to score, one unit per line (- for standard input).", valueName: "file")) var input: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: ArgumentHelp("SLLM prefill attention (default: report both, the file's mode first).", valueName: "bidirectional|causal"))
    var attention: String?
    @Option(help: ArgumentHelp("Reference model for KL divergence, top-1 agreement and PPL ratio.", valueName: "file")) var reference: String?
    @Option(help: "Worker threads per model (default: physical cores).") var threads: Int?
    @Option(name: .customLong("on-error"), help: ArgumentHelp(
        "stop: a line the model cannot take (too long, too many sentences) ends the run (exit 1). skip: it is left out, reported on stderr and counted; exit 3.",
        valueName: "stop|skip"))
    var onError: String = "stop"

    func validate() throws {
        if let a = attention, PrefillAttention(rawValue: a) == nil {
            throw ValidationError("--attention \(a): expected bidirectional or causal")
        }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads \(t): expected 1 to 256") }
        guard onError == "stop" || onError == "skip" else { throw ValidationError("--on-error \(onError): expected stop or skip") }
    }

    func run() throws {
        let m = try openModel(model, threads: threads)
        let ref = try reference.map { try openModel($0, threads: threads) }
        if attention != nil && m.architecture != "sllm" {
            throw CLIError("--attention: expected an sllm model, found architecture \(m.architecture) in \(model)")
        }
        // SLLM files without --attention: both modes, the file's own first.
        var modes: [PrefillAttention?] = [nil]
        if let l = m.sentenceLLM {
            if let a = attention { modes = [PrefillAttention(rawValue: a)] } else {
                modes = [l.config.prefill, l.config.prefill == .bidirectional ? .causal : .bidirectional]
            }
        }
        let evaluators = try modes.map { mode in
            try cli { () throws(SVAEError) in try PerplexityEvaluator(model: m, reference: ref, attention: mode, threads: threads) }
        }
        let lines = try TextLines(path: input)
        let progress = isatty(2) != 0 && input != "-"
        var skipped = 0, lastDraw = 0.0
        let t0 = Date()
        /// A bad line: the error (stop), or a note on stderr and a count (skip).
        func bad(_ message: String) throws {
            if progress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            guard onError == "skip" else { throw CLIError(message) }
            skipped += 1
            FileHandle.standardError.write(Data("svae: skipped: \(message)\n".utf8))
        }
        while true {
            let next: String?
            do { next = try lines.next() } catch let e as CLIError {
                try bad(e.description)  // invalid UTF-8
                continue
            }
            guard let line = next else { break }
            do throws(SVAEError) {
                for e in evaluators { try e.add(line: line) }
            } catch {
                try bad("\(lines.name):\(lines.number): \(error.description)")
            }
            let now = Date().timeIntervalSince(t0)
            if progress && now - lastDraw >= 0.2 {
                lastDraw = now
                let s = evaluators[0].stats
                let line = String(format: "\rline %d, %d tokens, PPL %.4f, %.0f tokens/s\u{1B}[K", lines.number, s.tokens, s.perplexity,
                                  Double(s.tokens * evaluators.count) / max(now, 1e-9))
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        if progress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = Date().timeIntervalSince(t0)
        let tokensScored = evaluators.reduce(0) { $0 + $1.stats.tokens }
        report(evaluators, lines: lines.number, skipped: skipped, seconds: seconds, tokensScored: tokensScored)
        if skipped > 0 {
            FileHandle.standardError.write(Data("svae: \(skipped) input lines skipped\n".utf8))
            throw ExitCode(3)
        }
    }

    /// The numbers of one evaluator as JSON fields.
    static func fields(_ e: PerplexityEvaluator) -> [String: Any] {
        let s = e.stats
        var f: [String: Any] = ["units": s.units, "tokens": s.tokens, "mean_ce": s.meanCE, "ppl": s.perplexity, "accuracy": s.accuracy]
        if let a = e.attention {
            f["attention"] = a.rawValue
            f["stop_decisions"] = s.stopDecisions
            f["stop_accuracy"] = s.stopAccuracy
        }
        if s.hasReference {
            f["reference_mean_ce"] = s.referenceMeanCE
            f["reference_ppl"] = s.referencePerplexity
            f["ppl_ratio"] = s.perplexityRatio
            f["kld_mean"] = s.kld.mean
            f["kld_median"] = s.kld.quantile(0.5)
            f["kld_p99"] = s.kld.quantile(0.99)
            f["kld_max"] = s.kld.max
            f["top1_agreement"] = s.top1Agreement
        }
        return f
    }

    func report(_ evaluators: [PerplexityEvaluator], lines: Int, skipped: Int, seconds: Double, tokensScored: Int) {
        let m = evaluators[0].model
        let rate = seconds > 0 ? Double(tokensScored) / seconds : 0
        if json {
            var o = Self.fields(evaluators[0])
            o["model"] = model
            o["architecture"] = m.architecture
            o["lines"] = lines
            o["skipped_lines"] = skipped
            o["seconds"] = seconds
            o["tokens_per_second"] = rate
            if let r = reference { o["reference"] = r }
            if evaluators.count > 1 || m.architecture == "sllm" {
                var modes: [String: Any] = [:]
                for e in evaluators { modes[e.attention!.rawValue] = Self.fields(e) }
                o["modes"] = modes
            }
            printJSON(o)
            return
        }
        print("\(model) (\(m.architecture)): \(lines) lines, \(skipped) skipped")
        for e in evaluators {
            let s = e.stats
            let mode = e.attention.map { " [prefill \($0.rawValue)\($0 == m.sentenceLLM?.config.prefill ? ", the file's mode" : "")]" } ?? ""
            print(String(format: "%@%@: %d tokens, mean CE %.6f, PPL %.4f, accuracy %.2f%%", m.architecture, mode,
                         s.tokens, s.meanCE, s.perplexity, 100 * s.accuracy))
            if e.attention != nil {
                print(String(format: "  stop head: %d/%d correct (%.2f%%)", s.stopCorrect, s.stopDecisions, 100 * s.stopAccuracy))
            }
            if s.hasReference {
                print(String(format: "  reference %@: mean CE %.6f, PPL %.4f; PPL ratio %.5f", reference ?? "", s.referenceMeanCE, s.referencePerplexity, s.perplexityRatio))
                print(String(format: "  KLD mean %.6g, median %.6g, p99 %.6g, max %.6g; top-1 agreement %.2f%%",
                             s.kld.mean, s.kld.quantile(0.5), s.kld.quantile(0.99), s.kld.max, 100 * s.top1Agreement))
            }
        }
        print(String(format: "%.2f s, %.0f target tokens/s%@", seconds, rate, evaluators[0].reference == nil ? "" : " (each token through both models)"))
    }
}

/// Lines of a file or of standard input (`-`), read in 64 KiB chunks (constant memory), each
/// without its `\n` (and `\r`), strictly UTF-8.
final class TextLines {
    let name: String
    private(set) var number = 0
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(path: String) throws {
        name = path
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("\(path): no such file") }
            guard !isDir.boolValue else { throw CLIError("\(path): expected a file, found a folder") }
            guard let h = FileHandle(forReadingAtPath: path) else { throw CLIError("\(path): cannot open the input file") }
            handle = h
        }
    }

    func next() throws -> String? {
        while true {
            // The line is consumed before it is checked: after a bad line, the next call goes on.
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let bytes = buffer[start..<nl]
                start = nl + 1
                return try text(bytes)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let bytes = buffer[start...]
                start = buffer.count
                return try text(bytes)
            }
            buffer.removeSubrange(0..<start)
            start = 0
            let data = handle.readData(ofLength: 1 << 16)
            if data.isEmpty { atEnd = true } else { buffer.append(contentsOf: data) }
        }
    }

    private func text(_ bytes: ArraySlice<UInt8>) throws -> String {
        number += 1
        let b = bytes.last == 0x0D ? bytes.dropLast() : bytes
        guard let s = String(validating: b, as: UTF8.self) else {
            throw CLIError("\(name):\(number): expected UTF-8 text, found an invalid byte sequence")
        }
        return s
    }
}
