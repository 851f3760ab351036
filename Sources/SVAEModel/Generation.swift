/// Limits and sampling of a generation (SLLM or token-level OPT). `Sendable` value with defaults.
public struct GenerationOptions: Sendable {
    /// SLLM: most sentences generated after the prompt (ignored by OPT).
    public var maxSentences: Int
    /// Most tokens generated in total (EOS tokens included).
    public var maxTokens: Int
    /// nil: greedy (argmax). Otherwise each token is drawn with this sampler; its state carries
    /// over from token to token and sentence to sentence, so a seed fixes the whole output.
    public var sampler: Sampler?

    public init(maxSentences: Int = 16, maxTokens: Int = 256, sampler: Sampler? = nil) {
        self.maxSentences = maxSentences
        self.maxTokens = maxTokens
        self.sampler = sampler
    }

    /// The sampler from its parameters: temperature 0 is greedy (argmax, no sampler); otherwise
    /// sample with temperature, top-k (0 = all), top-p (1 = all) and `seed` (the same seed gives
    /// the same output).
    public init(maxSentences: Int = 16, maxTokens: Int = 256, temperature: Float, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.init(maxSentences: maxSentences, maxTokens: maxTokens,
                  sampler: temperature == 0 ? nil : Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed))
    }

    func validate() throws(ModelError) {
        guard maxSentences >= 0 else { throw .badOption(name: "maxSentences", expected: "≥ 0", found: "\(maxSentences)") }
        guard maxTokens >= 0 else { throw .badOption(name: "maxTokens", expected: "≥ 0", found: "\(maxTokens)") }
        if let s = sampler {
            guard s.temperature.isFinite, s.temperature >= 0 else {
                throw .badOption(name: "temperature", expected: "a finite number ≥ 0", found: "\(s.temperature)")
            }
            guard s.topK >= 0 else { throw .badOption(name: "topK", expected: "≥ 0", found: "\(s.topK)") }
            guard s.topP > 0, s.topP <= 1 else { throw .badOption(name: "topP", expected: "a number in (0, 1]", found: "\(s.topP)") }
        }
    }
}

/// Why a generation ended.
public enum StopReason: String, Sendable, Equatable {
    /// SLLM: the stop head chose class 0 ("no next sentence").
    case stopHead = "stop_head"
    /// OPT: the model produced EOS.
    case eos
    /// `maxSentences` sentences were generated.
    case maxSentences = "max_sentences"
    /// `maxTokens` tokens were generated.
    case maxTokens = "max_tokens"
    /// The position table is full (`llm.max_positions` / `opt.max_positions`).
    case contextFull = "context_full"
    /// A callback returned false.
    case callback
}

extension Optional where Wrapped == Sampler {
    /// Greedy when nil, else a draw from the sampler.
    mutating func pick(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if self == nil { return Sampler.argmax(logits) }
        return self!.sample(logits)
    }
}
