/// A throughput probe for `BPETokenizer.encode`.
public enum TokenizerBenchmark {
    /// Encodes `text` `repetitions` times (after one untimed warm-up that fills the word
    /// cache) and returns the mean throughput in UTF-8 bytes and in tokens per second.
    /// Single-threaded; build with `-c release` for meaningful numbers.
    public static func run(text: String, repetitions: Int, tokenizer: BPETokenizer)
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
