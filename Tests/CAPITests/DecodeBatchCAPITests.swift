import CSVAEAPI
import SVAE
import SVAEModel
import SVAETestSupport
import Testing

/// `svae_decode_batch`: per-vector ids, counts and statuses in caller buffers, equal to
/// `svae_decode` one vector at a time.
@Suite struct DecodeBatchCAPITests {
    /// Runs svae_decode_batch with `width` ids per vector; returns (call status, ids rows cut to
    /// their counts, counts, statuses).
    static func batch(_ ctx: OpaquePointer, _ vectors: [[Float]], hidden: Int32 = 32, params: svae_decode_params? = nil,
                      batch: Int32 = 0, width: Int = 24) -> (Int32, [[Int32]], [Int], [Int32]) {
        let n = vectors.count
        let flat = vectors.flatMap { $0 }
        var ids = [Int32](repeating: -7, count: n * width)
        var counts = [Int](repeating: -1, count: n), status = [Int32](repeating: 99, count: n)
        var p = params ?? svae_decode_default_params()
        let rc = svae_decode_batch(ctx, flat, Int32(n), hidden, &p, batch, &ids, width, &counts, &status)
        let rows = (0..<n).map { i in Array(ids[(i * width)..<(i * width + max(0, min(counts[i], width)))]) }
        return (rc, rows, counts, status)
    }

    @Test func headerLimitsAreTheLibrarys() {
        #expect(Int(SVAE_MAX_DECODE_BATCH) == DecoderBatch.maxCapacity)
        #expect(Int(SVAE_DEFAULT_DECODE_BATCH) == Session.defaultDecodeBatch)
    }

    @Test func matchesDecodeOneByOne() throws {
        let l = try Loaded()
        let vectors = try l.swift.encode(["Hello there.", "the end", "x", "the cat sat", "a", "bb", "the the the", "c"])
        let alone = vectors.map { decodeIDs(l.ctx, $0).1 }
        for b: Int32 in [0, 1, 3, 32] {
            let (rc, rows, counts, status) = Self.batch(l.ctx, vectors, batch: b)
            #expect(rc == ok && status.allSatisfy { $0 == ok }, "batch \(b): \(l.lastError)")
            #expect(rows == alone && counts == alone.map(\.count), "batch \(b)")
        }
        // Seeded: vector i is svae_decode's with seed + i.
        var p = svae_decode_default_params()
        p.temperature = 1.4
        p.top_k = 50
        p.seed = 9
        p.max_tokens = 7
        let (rc, rows, _, _) = Self.batch(l.ctx, vectors, params: p, batch: 3)
        #expect(rc == ok)
        for i in vectors.indices {
            var q = p
            q.seed = 9 + UInt64(i)
            #expect(rows[i] == decodeIDs(l.ctx, vectors[i], q).1, "vector \(i)")
            #expect(rows[i].count <= 7)
        }
        // No vectors: nothing to do.
        var n = 0, s: Int32 = 0
        #expect(svae_decode_batch(l.ctx, nil, 0, 32, nil, 0, nil, 0, &n, &s) == ok)
    }

    @Test func perVectorStatus() throws {
        let l = try Loaded()
        var vectors = try l.swift.encode(["Hello there.", "the end", "x"])
        let alone = vectors.map { decodeIDs(l.ctx, $0).1 }
        vectors[1][5] = .nan
        let (rc, rows, counts, status) = Self.batch(l.ctx, vectors, batch: 2)
        #expect(rc == SVAE_ERR_BAD_VECTOR.rawValue && status == [ok, SVAE_ERR_BAD_VECTOR.rawValue, ok])
        #expect(rows[0] == alone[0] && rows[2] == alone[2] && counts[1] == 0)
        #expect(l.lastError.contains("vector 1") && l.lastError.contains("NaN or Inf"), "\(l.lastError)")
        // Rows too narrow for some vectors: those report the count they need, their row untouched.
        let width = alone.map(\.count).min()!
        vectors[1][5] = 0
        let (rc2, _, counts2, status2) = Self.batch(l.ctx, vectors, batch: 2, width: width)
        for i in vectors.indices {
            let fits = alone[i].count <= width
            #expect(status2[i] == (fits ? ok : bufferTooSmall) && counts2[i] == alone[i].count || i == 1, "vector \(i)")
        }
        #expect(rc2 == (status2.first { $0 != ok } ?? ok))
    }

    @Test func invalidCallsWriteNothing() throws {
        let l = try Loaded()
        let vectors = try l.swift.encode(["Hello there.", "x"])
        let flat = vectors.flatMap { $0 }
        var ids = [Int32](repeating: -7, count: 48), counts = [Int](repeating: -1, count: 2), status = [Int32](repeating: 99, count: 2)
        func call(_ ctx: OpaquePointer?, _ v: [Float]?, _ n: Int32, _ hidden: Int32, _ p: svae_decode_params?, _ b: Int32,
                  _ width: Int = 24) -> Int32 {
            var pp = p ?? svae_decode_default_params()
            return svae_decode_batch(ctx, v, n, hidden, &pp, b, &ids, width, &counts, &status)
        }
        #expect(call(nil, flat, 2, 32, nil, 0) == invalidArgument)
        #expect(call(l.ctx, nil, 2, 32, nil, 0) == invalidArgument)
        #expect(call(l.ctx, flat, -1, 32, nil, 0) == invalidArgument)
        #expect(call(l.ctx, flat, 2, 31, nil, 0) == SVAE_ERR_BAD_VECTOR.rawValue)
        #expect(call(l.ctx, flat, 2, 32, nil, -1) == invalidArgument)
        #expect(call(l.ctx, flat, 2, 32, nil, SVAE_MAX_DECODE_BATCH + 1) == invalidArgument)
        #expect(call(l.ctx, flat, 2, 32, nil, 0, -1) == invalidArgument)
        var p = svae_decode_default_params()
        p.top_p = 0
        #expect(call(l.ctx, flat, 2, 32, p, 0) == invalidArgument)
        p = svae_decode_default_params()
        p.on_token = { _, _ in 1 }
        #expect(call(l.ctx, flat, 2, 32, p, 0) == invalidArgument)
        #expect(l.lastError.contains("on_token"))
        #expect(svae_decode_batch(l.ctx, flat, 2, 32, nil, 0, &ids, 24, nil, &status) == invalidArgument)
        #expect(svae_decode_batch(l.ctx, flat, 2, 32, nil, 0, &ids, 24, &counts, nil) == invalidArgument)
        #expect(svae_decode_batch(l.ctx, flat, 2, 32, nil, 0, nil, 24, &counts, &status) == invalidArgument)
        #expect(ids.allSatisfy { $0 == -7 } && counts == [-1, -1] && status == [99, 99], "invalid calls write nothing")
        let opt = try Loaded(architecture: "opt")
        #expect(svae_decode_batch(opt.ctx, flat, 2, 32, nil, 0, &ids, 24, &counts, &status) == SVAE_ERR_MODEL.rawValue)
    }
}
