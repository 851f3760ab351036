import Foundation
import ArgumentParser
import Testing

import SVAETestSupport
import SVAECLISupport
@testable import svae

/// `svae perplexity`: its arguments, and the command run in process on random models.
@Suite struct PerplexityCommandTests {
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
        #expect(throws: UsageError.self) { try Perplexity.parse([svaeModel, "--input", text, "--attention", "causal"]).run() }
        #expect(throws: CLIError.self) { try Perplexity.parse([svaeModel, "--input", text, "--reference", opt]).run() }
        let long = NSTemporaryDirectory() + "svae-ppl-long-\(UUID().uuidString).txt"
        try Data(Array("the end.\n\(String(repeating: "zq ", count: 40))\n".utf8) + [0x61, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: long))
        #expect(throws: CLIError.self) { try Perplexity.parse([svaeModel, "--input", long]).run() }
        do {
            try Perplexity.parse([svaeModel, "--input", long, "--on-error", "skip"]).run()
            Issue.record("expected exit status 3")
        } catch let e as ExitCode {
            #expect(e.rawValue == 3)
        }
    }
}
