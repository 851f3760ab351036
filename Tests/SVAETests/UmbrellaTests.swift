// `import SVAE` alone is enough for a user of the public API: this file imports no other svae
// module (SVAETestSupport only writes the model file), and names the types the API takes and
// returns. Swift resolves type names per file, so it would not compile if SVAE did not
// re-export them.
import SVAE
import SVAETestSupport
import Testing

@Suite struct UmbrellaTests {
    @Test func thePublicAPIThroughImportSVAEAlone() throws {
        let model = try Model(path: try makeRandomModel())
        let vae: SentenceVAE = try #require(model.vae)
        let config: SentenceVAEConfig = vae.config
        let tokenizer: BPETokenizer = try #require(model.tokenizer)
        let file: SVAEFile = model.file
        #expect(file.metadata.int(MetadataKey.svaeHiddenSize) == config.hidden)
        #expect(file.metadata.string(.architecture) == ArchitectureName.svae.rawValue)

        let session = try model.makeSession(threads: 1)
        let ids = tokenizer.encode("the end")
        let vector = try session.encode(ids: [ids])[0]
        let decoder: DecoderSession = try session.makeDecoder(vector)
        var sampler = Sampler(temperature: 0.7, topK: 5, seed: 3)
        let logits: UnsafeBufferPointer<Float> = try decoder.step(config.bos)
        #expect(logits.count == config.vocab)
        for next in [Sampler.argmax(logits), sampler.sample(logits)] { #expect(next >= 0 && Int(next) < config.vocab) }
        #expect(try model.decode(vector, sampler: Sampler(seed: 1)) == (try model.decode(vector, sampler: Sampler(seed: 1))))

        let request = DecodeRequest(vector: vector, maxTokens: 4)
        var results: [Int: Result<[Int32], SVAEError>] = [:]
        var given = false
        try session.decode(batch: 2, next: { () -> DecodeRequest? in
            defer { given = true }
            return given ? nil : request
        }, onResult: { results[$0] = $1 })
        #expect(try results[0]?.get().count ?? 0 <= 4)

        let options: GenerationOptions = GenerationOptions(maxSentences: 1, maxTokens: 2, temperature: 0)
        #expect(options.sampler == nil)
        let stop: StopReason = .maxTokens
        #expect(stop.rawValue == "max_tokens")
        let error: ModelError = .emptySentence(input: 2)
        #expect(error.description.hasPrefix("input 2:"))
        #expect(KernelPath.supported.contains(.scalar))
    }
}
