import ArgumentParser
import Foundation
import SVAECLISupport
import SVAETokenizer

/// A throughput probe for `BPETokenizer.encode`.
enum TokenizerBenchmark {
    /// Encodes `text` `repetitions` times (after one untimed warm-up that fills the word
    /// cache) and returns the mean throughput in UTF-8 bytes and in tokens per second.
    /// Single-threaded; build with `-c release` for meaningful numbers.
    static func run(text: String, repetitions: Int, tokenizer: BPETokenizer)
        -> (bytesPerSecond: Double, tokensPerSecond: Double)
    {
        let reps = max(repetitions, 1)
        var tokenCount = tokenizer.encode(text).count
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<reps { tokenCount = tokenizer.encode(text).count }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard seconds > 0 else { return (.infinity, .infinity) }
        return (Double(text.utf8.count * reps) / seconds, Double(tokenCount * reps) / seconds)
    }
}

/// `svae-bench tokenizer`: BPETokenizer throughput on a text file with GPT-2's files (by default
/// the test fixtures of this source tree); with --hf-ids, checks the ids equal the ones
/// tools/tokenizer/hf_bench.py wrote for the same file.
struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer throughput on a text file (load, first call, cold, warm whole text, warm per line), ids compared with HF's.")

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/SVAETokenizerTests/Fixtures").standardized.path

    @Argument(help: "A UTF-8 text file.") var text: String
    @Option(help: "Repetitions of the warm rows.") var repetitions = 10
    @Option(name: .customLong("hf-ids"), help: "Ids Hugging Face gave for the text (space-separated, tools/tokenizer/hf_bench.py).") var hfIDs: String?
    @Option(help: "GPT-2's vocab.json.") var vocab = BenchTokenizer.fixtures + "/gpt2-vocab.json"
    @Option(help: "GPT-2's merges.txt.") var merges = BenchTokenizer.fixtures + "/gpt2-merges.txt"

    func run() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions \(repetitions): expected at least 1") }
        let text = try String(contentsOfFile: self.text, encoding: .utf8)
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

        var loaded: Result<BPETokenizer, Error>?
        let load = clock.measure {
            loaded = Result { try BPETokenizer(vocabPath: vocab, mergesPath: merges, specialTokens: ["<|endoftext|>"]) }
        }
        let tokenizer: BPETokenizer
        switch loaded! {
        case .success(let t): tokenizer = t
        case .failure(let e): throw CLIError("cannot load \(vocab) and \(merges): \(e)")
        }
        let bytes = text.utf8.count
        print(String(format: "load %.3f s; text %d bytes", seconds(load), bytes))

        // First call: builds the lazily computed class table of the BMP (one-time cost).
        let first = seconds(clock.measure { _ = tokenizer.encode("x") })
        print(String(format: "first call (class table): %.1f ms", first * 1e3))

        var ids: [Int32] = []
        let cold = seconds(clock.measure { ids = tokenizer.encode(text) })
        print(String(format: "cold (empty word cache): %.2f MB/s, %.3f Mtok/s, %d tokens",
                     Double(bytes) / cold / 1e6, Double(ids.count) / cold / 1e6, ids.count))
        if let hfIDs {
            let hf = try String(contentsOfFile: hfIDs, encoding: .utf8).split(separator: " ").compactMap { Int32($0) }
            print("ids equal HF: \(hf == ids) (\(hf.count) HF ids)")
        }
        let warm = TokenizerBenchmark.run(text: text, repetitions: repetitions, tokenizer: tokenizer)
        print(String(format: "warm whole text: %.2f MB/s, %.3f Mtok/s", warm.bytesPerSecond / 1e6, warm.tokensPerSecond / 1e6))

        // Line by line, split on U+000A like Python's str.split("\n").
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        var count = 0
        let perLine = seconds(clock.measure {
            for _ in 0..<repetitions {
                count = 0
                for line in lines { count += tokenizer.encode(line).count }
            }
        })
        print(String(format: "warm per line (%d lines): %.2f MB/s, %.3f Mtok/s", lines.count,
                     Double(bytes * repetitions) / perLine / 1e6, Double(count * repetitions) / perLine / 1e6))
    }
}
