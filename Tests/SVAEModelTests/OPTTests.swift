import Foundation
import SVAEFormat
import SVAEImport
import SVAEKernels
import SVAETestSupport
import Testing
@testable import SVAEModel

/// Golden outputs of tools/parity/make_sllm_fixtures.py for one HF `OPTForCausalLM`.
struct OPTGolden: Decodable {
    let flags: [String: FlagValue]
    let vocab_size: Int
    let prompt: [Int32]
    /// [prompt length, vocab]
    let logits: [[Float]]
    let greedy: [Int32]
}

let optFixtures = ["opt_pre", "opt_post_proj"]

func loadOPT(_ name: String) throws -> (OPTGolden, String) {
    let url = Bundle.module.url(forResource: "Fixtures/opt/\(name)", withExtension: "json")!
    let g = try JSONDecoder().decode(OPTGolden.self, from: Data(contentsOf: url))
    let source = Bundle.module.url(forResource: "Fixtures/opt/\(name)", withExtension: "safetensors")!.path
    return (g, source)
}

func convertOPT(_ name: String, type: SVAEFormat.ElementType = .f32) throws -> (OPTGolden, OPTLanguageModel) {
    let (g, source) = try loadOPT(name)
    return (g, try OPTLanguageModel(path: try convertCheckpoint(source, name: name, type: type, flags: flagList(g.flags))))
}

/// f32 parity of the token-level OPT with HF transformers' `OPTForCausalLM`.
@Suite struct OPTTests {
    static let tolerance = 1e-4

    @Test(arguments: optFixtures)
    func logitsMatchReference(name: String) throws {
        let (g, model) = try convertOPT(name)
        #expect((model.finalNorm != nil) == (name == "opt_pre"))
        #expect((model.projectOut != nil) == (name == "opt_post_proj"))
        for path in KernelPath.supported {
            let s = model.makeSession(context: try KernelContext(threads: 1, path: path))
            let logits = Array(try s.feed(g.prompt, allLogits: true))
            for (p, row) in g.logits.enumerated() {
                let d = try maxAbsDiff(Array(logits[(p * g.vocab_size)..<((p + 1) * g.vocab_size)]), row)
                #expect(d <= Self.tolerance, "\(name) \(path): logits at \(p) max |Δ| \(d)")
            }
            // Token by token through the KV cache gives the same logits.
            s.reset()
            for (p, id) in g.prompt.enumerated() {
                let d = try maxAbsDiff(Array(try s.feed([id])), g.logits[p])
                #expect(d <= Self.tolerance, "\(name) \(path): incremental logits at \(p) max |Δ| \(d)")
            }
        }
    }

    @Test(arguments: optFixtures)
    func greedyMatchesReference(name: String) throws {
        let (g, model) = try convertOPT(name)
        let s = model.makeSession(context: try KernelContext(threads: 2))
        var streamed: [Int32] = []
        let out = try s.generate(prompt: g.prompt, options: GenerationOptions(maxTokens: 12), onToken: { streamed.append($0); return true })
        #expect(out.ids == g.greedy)
        #expect(streamed == g.greedy)
        #expect(out.stopReason == (g.greedy.last == 2 ? .eos : .maxTokens))
        #expect(s.positions == g.prompt.count + g.greedy.count - 1)
    }

    @Test func samplingAndLimits() throws {
        let (g, model) = try convertOPT("opt_pre")
        let s = model.makeSession(context: try KernelContext(threads: 1))
        func run(_ seed: UInt64) throws -> [Int32] {
            try s.generate(prompt: g.prompt, options: GenerationOptions(maxTokens: 10, sampler: Sampler(temperature: 1.5, topK: 30, seed: seed))).ids
        }
        let a = try run(5)
        #expect(try run(5) == a)
        #expect(try (0..<6).map { try run(UInt64(50 + $0)) }.contains { $0 != a })
        // The position table (32) ends a long generation.
        // (Seeded sampling: the same tokens every run, and this seed draws no EOS.)
        let long = try s.generate(prompt: g.prompt, options: GenerationOptions(maxTokens: 1000, sampler: Sampler(temperature: 3, seed: 1)))
        #expect(long.stopReason == .contextFull, "\(long.stopReason) after \(long.ids)")
        #expect(s.positions == 32 && long.ids.count == 32 - g.prompt.count + 1 && !long.ids.contains(2))
        let stopped = try s.generate(prompt: g.prompt, onToken: { _ in false })
        #expect(stopped.ids.count == 1 && stopped.stopReason == .callback)
    }

    @Test func badInputsAreTypedErrors() throws {
        let (g, model) = try convertOPT("opt_post_proj")
        let s = model.makeSession(context: try KernelContext(threads: 1))
        #expect(throws: ModelError.emptyPrompt) { try s.generate(prompt: []) }
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 1, id: 72, vocab: 72)) { try s.generate(prompt: [2, 72]) }
        #expect(throws: ModelError.tokenOutOfRange(input: 0, position: 0, id: -3, vocab: 72)) { try s.feed([-3]) }
        #expect(throws: ModelError.contextFull(positions: 33, max: 32)) { try s.generate(prompt: [Int32](repeating: 5, count: 33)) }
        #expect(throws: ModelError.badOption(name: "temperature", expected: "a finite number ≥ 0", found: "-1.0")) {
            try s.generate(prompt: g.prompt, options: GenerationOptions(sampler: Sampler(temperature: -1)))
        }
        let (sg, sllmSource) = (try loadSLLM("sllm_pre"), Bundle.module.url(forResource: "Fixtures/sllm/sllm_pre", withExtension: "safetensors")!.path)
        let sllmPath = try convertCheckpoint(sllmSource, name: "sllm-as-opt", type: .f32, flags: flagList(sg.flags))
        #expect(throws: ModelError.self) { try OPTLanguageModel(path: sllmPath) }
    }

    @Test func quantizedRunsClose() throws {
        let (g, model) = try convertOPT("opt_pre", type: .q8_0)
        let s = model.makeSession(context: try KernelContext(threads: 2))
        let logits = Array(try s.feed(g.prompt))
        #expect(try cosine(logits, g.logits.last!) > 0.99)
    }
}
