// Throughput of BPETokenizer on a text file with the GPT-2 fixtures; compares ids with the
// ones hf_bench.py wrote for the same file when a third argument is given.
import Foundation
import SVAETokenizer

let args = CommandLine.arguments
guard args.count >= 2 else {
    print("usage: bench TEXT_FILE [REPETITIONS] [HF_IDS_FILE]")
    exit(2)
}
let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../../../../../Tests/SVAETokenizerTests/Fixtures").standardized
let text = try String(contentsOfFile: args[1], encoding: .utf8)
let repetitions = args.count > 2 ? Int(args[2]) ?? 10 : 10
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

var loaded: BPETokenizer?
let load = clock.measure {
    loaded = try? BPETokenizer(vocabPath: fixtures.appendingPathComponent("gpt2-vocab.json").path,
                               mergesPath: fixtures.appendingPathComponent("gpt2-merges.txt").path,
                               specialTokens: ["<|endoftext|>"])
}
guard let tokenizer = loaded else { print("cannot load fixtures from \(fixtures.path)"); exit(1) }
let bytes = text.utf8.count
print(String(format: "load %.3f s; text %d bytes", seconds(load), bytes))

// First call: builds the lazily computed class table of the BMP (one-time cost).
let first = seconds(clock.measure { _ = tokenizer.encode("x") })
print(String(format: "first call (class table): %.1f ms", first * 1e3))

var ids: [Int32] = []
let cold = seconds(clock.measure { ids = tokenizer.encode(text) })
print(String(format: "cold (empty word cache): %.2f MB/s, %.3f Mtok/s, %d tokens",
             Double(bytes) / cold / 1e6, Double(ids.count) / cold / 1e6, ids.count))
if args.count > 3 {
    let hf = try String(contentsOfFile: args[3], encoding: .utf8).split(separator: " ").compactMap { Int32($0) }
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
