import Foundation
import SVAE
import SVAEFormat
import SVAETestSupport
import Testing


@Suite struct APITests {
    @Test func tokenizeRoundTripsAndAddsBOS() throws {
        let model = try Model(path: try makeRandomModel())
        let ids = try model.tokenize("the cat")
        #expect(ids.first == 2)
        #expect(ids.count == 1 + 1 + 4, "BOS, 'the' (merged), ' ', 'c', 'a', 't' → 'the' is one token")
        #expect(try model.detokenize(ids) == "the cat")
    }

    @Test func encodeDecodeReconstruct() throws {
        let model = try Model(path: try makeRandomModel())
        let texts = ["Hello there.", "the end", "x"]
        let vectors = try model.encode(texts)
        #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isFinite) })
        // The same text gives the same vector alone or in a batch (up to the summation order of
        // the matrix products, which depends on the batch size).
        #expect(try maxAbsDiff(try model.encode(["the end"])[0], vectors[1]) <= 1e-5)
        let ids = try model.decode(vectors[0])
        #expect(!ids.isEmpty && ids.count <= 23)
        #expect(try model.decode(vectors[0]) == ids)
        var streamed: [Int32] = []
        let again = try model.decode(vectors[0], onToken: { streamed.append($0); return true })
        #expect(streamed == again)
        let r = try model.reconstruct("the end")
        #expect(r.ids == (try model.tokenize("the end")))
        #expect(try maxAbsDiff(r.vector, vectors[1]) <= 1e-5)
        #expect(r.outputIDs == (try model.decode(vectors[1])))
        #expect(!r.exact && r.outputIDs != [261, 36, 105, 114, 104, 2], "the random decoder does not echo")
    }

    /// The echo model decodes every vector to "the end" + EOS: exact for that sentence only.
    @Test func reconstructIsExactOnlyWhenTheOutputIsTheInput() throws {
        let model = try Model(path: try makeRandomModel(echo: true))
        let ids = try model.tokenize(echoSentence.text)
        #expect(ids == [2, 261, 36, 105, 114, 104], "BOS, the, Ġ, e, n, d")
        let r = try model.reconstruct(echoSentence.text)
        #expect(r.outputIDs == [261, 36, 105, 114, 104, 2])
        #expect(r.exact && r.output == echoSentence.text)
        let other = try model.reconstruct("the cat")
        #expect(other.outputIDs == r.outputIDs && other.output == echoSentence.text && !other.exact)
        // An input that is a prefix of the output is not exact either.
        let prefix = try model.reconstruct("the en")
        #expect(prefix.output == echoSentence.text && !prefix.exact)
    }

    @Test func sessionsOnSeveralThreadsAgree() async throws {
        let model = try Model(path: try makeRandomModel())
        let reference = try model.encode(["a b c", "the the the"])
        try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let s = try model.makeSession(threads: 1)
                    return try s.encode(["a b c", "the the the"])
                }
            }
            for try await v in group {
                #expect(try maxAbsDiff(v[0], reference[0]) <= 1e-5)
                #expect(try maxAbsDiff(v[1], reference[1]) <= 1e-5)
            }
        }
    }

    @Test func modelWithoutTokenizerTakesIDs() throws {
        let model = try Model(path: try makeRandomModel(withTokenizer: false))
        #expect(model.tokenizer == nil)
        #expect(throws: SVAEError.self) { try model.encode(["text"]) }
        let v = try model.encode(ids: [[2, 70, 71]])
        #expect(v[0].count == 32)
    }

    @Test func badFilesAreErrorsNotCrashes() throws {
        let path = NSTemporaryDirectory() + "svae-api-bad-\(UUID().uuidString).svae"
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SVAEError.self) { try Model(path: path) }
        #expect(throws: SVAEError.self) { try Model(path: path + ".missing") }
    }
}

@Suite struct QualityCheckTests {
    @Test func identicalModelsAgreeCompletely() throws {
        let path = try makeRandomModel()
        let a = try Model(path: path), b = try Model(path: path)
        let sentences = try QualityCheck.samples.map { Array(try a.tokenize($0).prefix(24)) }
        let r = try QualityCheck.compare(reference: a, candidate: b, sentences: sentences)
        #expect(r.sentences == QualityCheck.samples.count)
        #expect(r.minCosine > 0.999999)
        #expect(r.greedyAgreement == 1 && r.greedyIdentical == r.sentences)
        #expect(r.maxLogitError == 0)
    }

    /// A candidate that differs only in its decoder (the echo model: same encoder weights, a
    /// decoder that always writes "the end"): vectors agree, greedy outputs and logits do not.
    @Test func aDifferentDecoderIsReported() throws {
        let reference = try Model(path: try makeRandomModel()), candidate = try Model(path: try makeRandomModel(echo: true))
        let sentences = try QualityCheck.samples.map { Array(try reference.tokenize($0).prefix(24)) }
        let r = try QualityCheck.compare(reference: reference, candidate: candidate, sentences: sentences)
        #expect(r.sentences == sentences.count)
        #expect(r.minCosine > 0.999999 && r.meanCosine > 0.999999, "same encoder weights")
        #expect(r.greedyIdentical == 0 && r.greedyAgreement < 0.5 && r.greedyTotal > 0)
        // The echo decoder's logit for "the" after BOS is about 10·5.6 (axis 0 after layer norm);
        // the random decoder's logits are of order 1.
        #expect(r.maxLogitError > 30 && r.meanLogitError > 0 && r.meanLogitError < r.maxLogitError)
    }
}
