import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
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
        "stop: a bad line (invalid UTF-8, a sentence over max_seq_len, more sentences than the SLLM's positions) ends the run (exit 1). skip: it is left out, reported on stderr and counted; exit 3.",
        valueName: "stop|skip"))
    var onError: OnError = .stop

    func validate() throws {
        if let a = attention, PrefillAttention(rawValue: a) == nil {
            throw ValidationError("--attention \(a): expected bidirectional or causal")
        }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads \(t): expected 1 to 256") }
    }

    func run() throws {
        let m = try openModel(model, threads: threads)
        let ref = try reference.map { try openModel($0, threads: threads) }
        if attention != nil && m.architecture != "sllm" {
            throw UsageError("--attention: expected an sllm model, found architecture \(m.architecture) in \(model)")
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
        let reader = try LineReader(path: input)
        let progress = Progress(reader: reader)
        var skipped = 0
        let t0 = Date()
        /// A bad line: the error (stop), or a note on stderr and a count (skip).
        func bad(_ message: String) throws {
            progress.clear()
            guard onError == .skip else { throw CLIError(message) }
            skipped += 1
            printErr("svae: skipped: \(message)")
        }
        while let bytes = try reader.next() {
            let location = "\(reader.name):\(reader.lineNumber)"
            guard let line = String(validating: bytes, as: UTF8.self) else {
                try bad("\(location): expected UTF-8 text, found an invalid byte at byte \(firstInvalidUTF8(bytes) + 1) of the line")
                continue
            }
            do throws(SVAEError) {
                for e in evaluators { try e.add(line: line) }
            } catch {
                try bad("\(location): \(error.description)")
            }
            progress.update()
        }
        progress.clear()
        let seconds = Date().timeIntervalSince(t0)
        let tokensScored = evaluators.reduce(0) { $0 + $1.stats.tokens }
        report(evaluators, lines: reader.lineNumber, skipped: skipped, seconds: seconds, tokensScored: tokensScored)
        if skipped > 0 {
            printErr("svae: \(skipped) of \(reader.lineNumber) input lines skipped")
            throw ExitCode(ExitStatus.incomplete)
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
