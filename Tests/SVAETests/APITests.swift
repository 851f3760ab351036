import Foundation
import SVAE
import SVAEFormat
import SVAETestSupport
import Testing

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

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
        #expect(maxAbsDiff(try model.encode(["the end"])[0], vectors[1]) <= 1e-5)
        let ids = try model.decode(vectors[0])
        #expect(!ids.isEmpty && ids.count <= 23)
        #expect(try model.decode(vectors[0]) == ids)
        var streamed: [Int32] = []
        let again = try model.decode(vectors[0], onToken: { streamed.append($0); return true })
        #expect(streamed == again)
        let r = try model.reconstruct("the end")
        #expect(r.ids == (try model.tokenize("the end")))
        #expect(maxAbsDiff(r.vector, vectors[1]) <= 1e-5)
        #expect(r.outputIDs == (try model.decode(vectors[1])))
        #expect(r.exact == (r.outputIDs == Array(r.ids.dropFirst()) + [2]))
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
                #expect(maxAbsDiff(v[0], reference[0]) <= 1e-5 && maxAbsDiff(v[1], reference[1]) <= 1e-5)
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
}
