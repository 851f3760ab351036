import CSVAEAPI
import Foundation
import SVAE
import SVAEModel
import SVAETestSupport
import Testing

/// `svae_perplexity*`: the Swift API's numbers, streaming across calls, a model against itself,
/// and errors as statuses.
@Suite struct PerplexityCAPITests {
    static let lines = ["the cat sat.", "", "then the dog", "xyz"]

    func withLines<R>(_ lines: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = lines.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    @Test func equalsSwiftAPIAndStreams() throws {
        let l = try Loaded(threads: 2)
        let want = try PerplexityEvaluator(model: l.swift, threads: 1)
        for line in Self.lines { try want.add(line: line) }
        var r = svae_perplexity_result()
        let status = withLines(Self.lines) { svae_perplexity(l.ctx, $0, Int32(Self.lines.count), nil, &r) }
        #expect(status == ok, "\(l.lastError)")
        #expect(r.units == 3 && r.tokens == Int64(want.stats.tokens) && r.tokens > 0)  // the blank line is skipped
        #expect(abs(r.mean_ce - want.stats.meanCE) <= 1e-6 * want.stats.meanCE && abs(r.ppl - exp(r.mean_ce)) < 1e-9)
        #expect(r.has_reference == 0 && r.kld_mean == 0 && r.attention == 0)
        // The same lines in two calls give the same run.
        #expect(svae_perplexity_begin(l.ctx, nil) == ok)
        var done = -1
        #expect(withLines(Array(Self.lines[..<2])) { svae_perplexity_add(l.ctx, $0, 2, &done) } == ok && done == 2)
        #expect(withLines(Array(Self.lines[2...])) { svae_perplexity_add(l.ctx, $0, 2, &done) } == ok && done == 2)
        var r2 = svae_perplexity_result()
        #expect(svae_perplexity_result_get(l.ctx, &r2) == ok && r2.tokens == r.tokens && r2.sum_ce == r.sum_ce)
    }

    @Test func againstItselfKLDIsZero() throws {
        let l = try Loaded()
        let other = try #require(svae_context_new(l.model, nil))
        defer { svae_context_free(other) }
        var p = svae_perplexity_default_params()
        p.reference = other
        var r = svae_perplexity_result()
        #expect(withLines(Self.lines) { svae_perplexity(l.ctx, $0, Int32(Self.lines.count), &p, &r) } == ok, "\(l.lastError)")
        #expect(r.has_reference == 1 && r.kld_max == 0 && r.kld_mean == 0 && r.kld_p99 == 0 && r.top1_agreement == 1 && r.ppl_ratio == 1)
        #expect(r.reference_mean_ce == r.mean_ce)
    }

    @Test func errorsAreStatuses() throws {
        let l = try Loaded()
        var r = svae_perplexity_result()
        var done = 7
        #expect(withLines(["a"]) { svae_perplexity_add(l.ctx, $0, 1, &done) } == invalidArgument && done == 0)
        #expect(l.lastError.contains("svae_perplexity_begin"))
        var p = svae_perplexity_default_params()
        p.attention = 9
        #expect(svae_perplexity_begin(l.ctx, &p) == invalidArgument && l.lastError.contains("attention"))
        p = svae_perplexity_default_params()
        p.reference = l.ctx
        #expect(svae_perplexity_begin(l.ctx, &p) == invalidArgument)
        #expect(withLines(["a"]) { svae_perplexity(l.ctx, $0, 1, nil, nil) } == invalidArgument)
        #expect(withLines(["a"]) { svae_perplexity(nil, $0, 1, nil, &r) } == invalidArgument)
        // A sentence over max_seq_len (24): TOO_LONG, the line before it counted.
        let long = String(repeating: "zq ", count: 40)
        #expect(svae_perplexity_begin(l.ctx, nil) == ok)
        #expect(withLines(["the end.", long, "more"]) { svae_perplexity_add(l.ctx, $0, 3, &done) } == SVAE_ERR_TOO_LONG.rawValue)
        #expect(done == 1 && l.lastError.contains("lines[1]"))
        #expect(svae_perplexity_result_get(l.ctx, &r) == ok && r.units == 1)
        // Invalid UTF-8.
        let bad: [UInt8] = [0x61, 0xFF, 0]
        let status = bad.withUnsafeBufferPointer { b -> Int32 in
            var ptr: UnsafePointer<CChar>? = UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: CChar.self)
            return svae_perplexity_add(l.ctx, &ptr, 1, &done)
        }
        #expect(status == SVAE_ERR_INVALID_UTF8.rawValue)
    }
}
