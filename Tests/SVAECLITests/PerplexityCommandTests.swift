import Foundation
import ArgumentParser
import Testing

import SVAETestSupport
@testable import svae

/// `svae perplexity`: its line reader and its arguments.
@Suite struct PerplexityCommandTests {
    @Test func linesAreStreamedStrictlyWithNumbers() throws {
        let path = NSTemporaryDirectory() + "svae-lines-\(UUID().uuidString).txt"
        var bytes = Array("first\r\nsecond\n\n".utf8)
        bytes += Array(repeating: UInt8(ascii: "x"), count: 70_000)  // longer than one 64 KiB chunk
        bytes += [0x0A, 0x61, 0xFF, 0x0A] + Array("last".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let r = try TextLines(path: path)
        #expect(try r.next() == "first" && r.number == 1)
        #expect(try r.next() == "second")
        #expect(try r.next() == "" && r.number == 3)
        #expect(try r.next()?.count == 70_000)
        #expect(throws: CLIError.self) { try r.next() }
        #expect(r.number == 5)
        do { _ = try TextLines(path: path + ".missing"); Issue.record("no error") } catch let e as CLIError {
            #expect(e.description.hasSuffix(".missing: no such file"))
        }
        let tail = try TextLines(path: path)
        while true {
            do { guard try tail.next() != nil else { break } } catch { continue }
        }
        #expect(tail.number == 6)
    }

    @Test func argumentsAreValidated() {
        #expect(throws: (any Error).self) { try Perplexity.parse(["m.svae", "--input", "x", "--attention", "sideways"]) }
        #expect(throws: (any Error).self) { try Perplexity.parse(["m.svae", "--input", "x", "--threads", "0"]) }
        #expect(throws: (any Error).self) { try Perplexity.parse(["m.svae", "--input", "x", "--on-error", "maybe"]) }
        #expect(throws: (any Error).self) { try Perplexity.parse(["m.svae"]) }
        #expect((try? Perplexity.parse(["m.svae", "--input", "-", "--attention", "causal", "--json"])) != nil)
    }

    /// The command end to end on random models (its printed numbers are the evaluator's, tested
    /// in SVAETests): SLLM in both modes and one, text and JSON, a reference, a skipped line.
    @Test func runsOnEveryArchitecture() throws {
        let text = NSTemporaryDirectory() + "svae-ppl-\(UUID().uuidString).txt"
        try "the cat. the dog, then x! end\n\nthe end.\n".write(toFile: text, atomically: true, encoding: .utf8)
        let sllm = try makeRandomModel(architecture: "sllm"), svaeModel = try makeRandomModel(), opt = try makeRandomModel(architecture: "opt")
        try Perplexity.parse([sllm, "--input", text, "--threads", "1"]).run()
        try Perplexity.parse([sllm, "--input", text, "--attention", "causal", "--json", "--reference", sllm]).run()
        try Perplexity.parse([svaeModel, "--input", text, "--reference", svaeModel, "--json"]).run()
        try Perplexity.parse([opt, "--input", text]).run()
        #expect(throws: CLIError.self) { try Perplexity.parse([svaeModel, "--input", text, "--attention", "causal"]).run() }
        #expect(throws: CLIError.self) { try Perplexity.parse([svaeModel, "--input", text, "--reference", opt]).run() }
        let long = NSTemporaryDirectory() + "svae-ppl-long-\(UUID().uuidString).txt"
        try ("the end.\n" + String(repeating: "zq ", count: 40) + "\n").write(toFile: long, atomically: true, encoding: .utf8)
        #expect(throws: CLIError.self) { try Perplexity.parse([svaeModel, "--input", long]).run() }
        do {
            try Perplexity.parse([svaeModel, "--input", long, "--on-error", "skip"]).run()
            Issue.record("expected exit status 3")
        } catch let e as ExitCode {
            #expect(e.rawValue == 3)
        }
    }
}
