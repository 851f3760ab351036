import Foundation
import SVAE
import SVAETestSupport
import SVAEModel
import Testing

/// `generate` through the Swift API on random-weight SLLM and OPT files (plumbing, limits,
/// callbacks, determinism; numerical parity is in SVAEModelTests).
@Suite struct GenerateTests {
    @Test func sllmGeneratesSentences() throws {
        let model = try Model(path: try makeRandomModel(architecture: "sllm"))
        #expect(model.architecture == "sllm" && model.sentenceLLM != nil && model.vae != nil)
        var sentences: [String] = []
        var tokens = 0
        let options = GenerationOptions(maxSentences: 3, maxTokens: 40)
        let out = try model.generate(prompt: "Hello there. the end. x", options: options,
                                     onToken: { _ in tokens += 1; return true }, onSentence: { _, t in sentences.append(t); return true })
        #expect(out.promptIDs.count == 3, "three prompt sentences")
        #expect(out.ids.count <= 3 && out.tokenCount <= 40 && out.tokenCount == tokens)
        #expect(out.texts == sentences && out.texts.count == out.ids.count)
        #expect(try model.generate(prompt: "Hello there. the end. x", options: options) == out)
        let sampled = GenerationOptions(maxSentences: 2, maxTokens: 30, temperature: 1, topK: 10, seed: 9)
        #expect(try model.generate(prompt: "the cat.", options: sampled) == (try model.generate(prompt: "the cat.", options: sampled)))
        // The encoder and decoder of an SLLM file are usable on their own.
        #expect(try model.encode(["the cat"])[0].count == 32)
        #expect(throws: SVAEError.self) { try model.generate(prompt: "") }
    }

    @Test func optGeneratesTokens() throws {
        let model = try Model(path: try makeRandomModel(architecture: "opt"))
        #expect(model.architecture == "opt" && model.opt != nil && model.vae == nil && model.config == nil)
        var calls = 0
        let out = try model.generate(prompt: "the cat", options: GenerationOptions(maxTokens: 5), onSentence: { _, _ in calls += 1; return true })
        #expect(out.ids.count == 1 && out.ids[0].count <= 5 && calls == 1)
        #expect(out.promptIDs == [try model.tokenize("the cat")])
        #expect(throws: SVAEError.self) { try model.encode(["the cat"]) }
        #expect(throws: SVAEError.self) { try model.reconstruct("the cat") }
    }

    @Test func svaeCannotGenerate() throws {
        let model = try Model(path: try makeRandomModel())
        #expect(throws: SVAEError.self) { try model.generate(prompt: "the cat.") }
    }
}
