import Foundation
import SVAE
import SVAEFormat
import SVAEImport
import SVAEKernels
import SVAEModel
import SVAETestSupport
import Testing

/// Batched decoding through the Swift API, and on the shipped model (models/svae-tiny).
@Suite struct DecodeBatchTests {
    /// models/svae-tiny converted to `type` (a temporary file).
    static func shippedModel(_ type: SVAEFormat.ElementType) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = NSTemporaryDirectory() + "svae-batch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = dir + "/svae-tiny-\(type).svae"
        let folder = root.appendingPathComponent("models/svae-tiny").path
        let config = try ConfigSource.file(folder + "/config.json")
        _ = try Converter.convert(inputs: [folder], output: out,
                                  options: ConvertOptions(importOptions: ImportOptions(configs: [config]), defaultType: type))
        return out
    }

    /// The first 200 held-out sentences of the shipped model, decoded alone and 32 at a time
    /// (the default batch). Measured 2026-12-02 (AVX-512, first 300 sentences): 0/300 differ in
    /// f32, q8_0 and q4_0; relative logit differences 2.5e-7 (f32), 3.0e-3 (q8_0), 3.6e-3
    /// (q4_0). The limits are those of the model tests (BatchDecodeTests): logits within 1e-5
    /// (f32) / 1e-2 (quantized) of the range, where ids part the two ids' logits at most twice the
    /// measured difference apart, and at most one sentence in ten differing.
    @Test(arguments: [SVAEFormat.ElementType.f32, .q8_0, .q4_0])
    func shippedModelBatchedEqualsAloneUpToNearTies(type: SVAEFormat.ElementType) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("models/svae-tiny/heldout.txt"), encoding: .utf8)
        let sentences = text.split(separator: "\n").prefix(200).map(String.init)
        let model = try Model(path: try Self.shippedModel(type))
        let vectors = try model.encode(sentences)
        let r = try compareBatchedWithAlone(model: try #require(model.vae), vectors: vectors, batch: Session.defaultDecodeBatch,
                                            context: try KernelContext(threads: 2))
        print("batch-parity svae-tiny \(type): \(r)")
        #expect(r.maxRelativeLogitDifference <= (type == .f32 ? 1e-5 : 1e-2), "\(r)")
        #expect(r.maxRelativeGapAtDifference <= 2 * r.maxRelativeLogitDifference, "\(r)")
        #expect(r.differing * 10 <= r.sentences, "at most one sentence in 10 differs: \(r)")
    }

    @Test func decodeManyVectors() throws {
        let model = try Model(path: try makeRandomModel())
        let vectors = try model.encode(["Hello there.", "the end", "x", "the cat sat", "a", "bb", "the the the"])
        let session = try model.makeSession(threads: 1)
        // Batch 1 is decoding one by one.
        let one = try session.decode(vectors, batch: 1)
        #expect(one == (try vectors.map { try session.decode($0) }))
        // Batched: the same sentences (this model has no near-tie at these steps), in input order.
        #expect(try session.decode(vectors, batch: 3) == one)
        #expect(try model.decode(vectors) == one)
        // Seeded: vector i with seed + i, whatever the batch.
        let sampler = Sampler(temperature: 1.5, topK: 40, seed: 100)
        let sampled = try session.decode(vectors, batch: 4, maxTokens: 9, sampler: sampler)
        #expect(sampled == (try session.decode(vectors, batch: 2, maxTokens: 9, sampler: sampler)))
        #expect(sampled.allSatisfy { $0.count <= 9 })
        for i in vectors.indices {
            #expect(sampled[i] == (try session.decode(vectors[i], maxTokens: 9, sampler: sampler.reseeded(100 + UInt64(i)))))
        }
        #expect(try session.decode([], batch: 4).isEmpty)
    }

    @Test func streamingReportsInInputOrder() throws {
        let model = try Model(path: try makeRandomModel())
        var vectors = try model.encode(["Hello there.", "the end", "x", "the cat sat", "a", "bb"])
        vectors.insert([Float](repeating: 0, count: 5), at: 2)
        let session = try model.makeSession(threads: 1)
        var it = vectors.makeIterator()
        var order: [Int] = [], failures: [Int: String] = [:], ids: [Int: [Int32]] = [:]
        try session.decode(batch: 3, maxTokens: 6, next: { it.next() }) { i, r in
            order.append(i)
            switch r {
            case let .success(s): ids[i] = s
            case let .failure(e): failures[i] = e.description
            }
        }
        #expect(order == Array(vectors.indices))
        #expect(failures == [2: "vector 2: sentence vector: expected 32 values, found 5"])
        for i in vectors.indices where i != 2 { #expect(ids[i] == (try session.decode(vectors[i], maxTokens: 6))) }
    }

    @Test func badBatchCalls() throws {
        let model = try Model(path: try makeRandomModel())
        let v = try model.encode(["x"])[0]
        var nan = v
        nan[3] = .nan
        #expect(throws: SVAEError.self) { try model.decode([v, nan]) }
        do {
            _ = try model.decode([v, v, [1, 2]])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "vector 2: sentence vector: expected 32 values, found 2")
        }
        #expect(throws: SVAEError.self) { try model.decode([v], batch: 0) }
        #expect(throws: SVAEError.self) { try model.decode([v], batch: 5000) }
    }
}
