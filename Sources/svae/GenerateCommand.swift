import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE
import SVAEJSON
import SVAEModel

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a text with an SLLM (sentence by sentence) or an OPT model (token by token).",
        discussion: """
            SLLM: the prompt is split into sentences, encoded, run through the OPT layers; the stop head \
            decides whether another sentence follows, the sentence decoder writes it. Sentences are \
            printed as they finish. OPT: tokens are generated after the prompt. Greedy unless \
            --temperature > 0.

            Examples:
              svae generate sllm.svae --prompt "The cat sat down. It looked up." --max-sentences 4
              svae generate opt.svae --prompt "Once upon a time" --max-tokens 32 --temperature 0.8 --seed 1
              svae generate sllm-ids.svae --prompt-ids '[[2,31,7],[2,9]]' --json
            """)
    @Argument(help: "The .svae model (architecture sllm or opt).") var model: String
    @Option(help: "The text to continue.") var prompt: String?
    @Option(help: "Token ids instead of text (models without a tokenizer): JSON array of sentences, e.g. [[2,31,7],[2,9]].")
    var promptIds: String?
    @Option(parsing: .unconditional, help: "Most sentences to generate (SLLM).") var maxSentences = 16
    @Option(parsing: .unconditional, help: "Most tokens to generate.") var maxTokens = 256
    @Option(parsing: .unconditional, help: "Sampling temperature (0 = greedy).") var temperature: Float = 0
    @Option(parsing: .unconditional, help: "Top-k (0 = all).") var topK = 0
    @Option(parsing: .unconditional, help: "Top-p, in (0, 1].") var topP: Float = 1
    @Option(parsing: .unconditional, help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Worker threads (default: physical cores).") var threads: Int?
    @Flag(help: "Print one JSON object at the end instead of streaming text.") var json = false

    func validate() throws {
        try requireRange(threads, "--threads", 1..., "a whole number ≥ 1")
        try requireRange(maxSentences, "--max-sentences", 1..., "a whole number ≥ 1")
        try requireRange(maxTokens, "--max-tokens", 1..., "a whole number ≥ 1")
        try requireRange(temperature, "--temperature", 0..., "a number ≥ 0 (0 = greedy)")
        try requireRange(topK, "--top-k", 0..., "a whole number ≥ 0 (0 = all)")
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p \(topP): expected a number in (0, 1]") }
        if (prompt == nil) == (promptIds == nil) { throw ValidationError("expected exactly one of --prompt and --prompt-ids") }
    }

    func run() throws {
        let m = try openModel(model, threads: threads)
        guard m.architecture == "sllm" || m.architecture == "opt" else {
            throw CLIError("\(model): expected architecture sllm or opt, found \(m.architecture) (use reconstruct/encode/decode)")
        }
        let options = GenerationOptions(maxSentences: maxSentences, maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: seed)
        let session = try cli { () throws(SVAEError) in try m.makeSession() }
        let stream = !json
        let onSentence: ([Int32], String) -> Bool = { ids, text in
            if stream {
                // Unbuffered, so each sentence shows as soon as it is finished.
                let line = (m.tokenizer == nil ? ids.map(String.init).joined(separator: " ") : text) + (m.architecture == "sllm" ? "\n" : "")
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            return true
        }
        let started = ContinuousClock.now
        let out: Generation
        switch (prompt, promptIds) {
        case let (text?, nil):
            out = try cli { () throws(SVAEError) in try session.generate(prompt: text, options: options, onSentence: onSentence) }
        case let (nil, ids?):
            let rows = try Self.parseIDs(ids)
            out = try cli { () throws(SVAEError) in try session.generate(promptIDs: rows, options: options, onSentence: onSentence) }
        default:
            throw CLIError("expected exactly one of --prompt and --prompt-ids")
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if json {
            printJSON(["architecture": m.architecture, "prompt": prompt ?? NSNull(), "prompt_ids": out.promptIDs.map { $0.map(Int.init) },
                       "ids": out.ids.map { $0.map(Int.init) }, "texts": out.texts, "text": out.text,
                       "stop_reason": out.stopReason.rawValue, "tokens": out.tokenCount, "seconds": seconds])
        } else {
            if m.architecture == "opt" { FileHandle.standardOutput.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data(String(format: "[%d tokens, %.2f s, stop: %@]\n", out.tokenCount, seconds, out.stopReason.rawValue).utf8))
        }
    }

    /// `--prompt-ids`, read with the same strict JSON reader as every other JSON input.
    static func parseIDs(_ s: String) throws -> [[Int32]] {
        let expected = "--prompt-ids: expected a JSON array of arrays of integers, e.g. [[2,31,7],[2,9]]"
        let value: JSONValue
        do { value = try StrictJSON.parse(Array(s.utf8)) } catch { throw CLIError("\(expected); \(error.description)") }
        guard let rows = value.items else { throw CLIError(expected) }
        var out: [[Int32]] = []
        for row in rows {
            guard let items = row.items else { throw CLIError(expected) }
            var ids: [Int32] = []
            for item in items {
                guard let i = item.intValue, let id = Int32(exactly: i) else { throw CLIError(expected) }
                ids.append(id)
            }
            out.append(ids)
        }
        return out
    }
}
