import Foundation
import SVAEFormat
import SVAEImport
import SVAEJSON
import SVAEKernels
@testable import SVAEModel

/// Golden outputs of tools/parity/make_svae_fixtures.py.
struct Golden: Decodable {
    struct Config: Decodable {
        let hidden_size: Int
        let num_attention_heads: Int
        let max_seq_len: Int
        let vocab_size: Int
    }
    let config: Config
    let sentences: [[Int32]]
    let vectors: [[Float]]
    let logits_sentence: Int
    let logits: [[Float]]
    let logits_long_sentence: Int
    let logits_long: [[Float]]
    let greedy: [[Int32]]
}

let fixtureNames = ["h32_l1_la", "h32_l2_sum_proj", "h48_l3_la_proj", "h16_l2_sum"]

func fixtureURL(_ name: String, _ ext: String) -> URL {
    Bundle.module.url(forResource: "Fixtures/svae/\(name)", withExtension: ext)!
}

func loadGolden(_ name: String) throws -> Golden {
    try JSONDecoder().decode(Golden.self, from: Data(contentsOf: fixtureURL(name, "json")))
}

/// Converts a fixture checkpoint to .svae with `type` for 2-D weights (test-side stand-in for
/// svae-convert: plan with SVAEImport, write with SVAEWriter, quantize with SVAEKernels).
func convertFixture(_ name: String, type: SVAEFormat.ElementType, golden: Golden) throws -> String {
    try convertCheckpoint(fixtureURL(name, "safetensors").path, name: name, type: type,
                          flags: [("num_attention_heads", .number("\(golden.config.num_attention_heads)")),
                                  ("max_seq_len", .number("\(golden.config.max_seq_len)"))])
}

/// Converts any checkpoint: `flags` play the role of svae-convert's config flags; `prefill` sets
/// `llm.prefill_attention` (SLLM).
func convertCheckpoint(_ source: String, name: String, type: SVAEFormat.ElementType, flags: [(String, JSONValue)],
                       prefill: String? = nil) throws -> String {
    let checkpoint = try SourceCheckpoint.open(source)
    let plan = try ImportPlanner.plan(checkpoint, options: ImportOptions(configs: [ConfigSource.flags(flags)], prefillAttention: prefill))
    var meta = Metadata()
    for (k, v) in plan.metadata { meta[k] = try Converter.formatValue(k, v, file: source) }
    let expected = try ModelSchema.expectedTensors(metadata: meta) + ModelSchema.optionalTensors(metadata: meta).filter { plan[$0.name] != nil }
    var plans: [TensorPlan] = []
    for e in expected {
        var t = e.mustBeF32 || e.shape.count == 1 || e.shape.last! % 32 != 0 ? SVAEFormat.ElementType.f32 : type
        if type == .i8r && !e.mustBeF32 && e.shape.count == 2 {
            // svae-convert's q8 choice: i8r for the sentence VAE's linear weights, q8_0 elsewhere
            // (f32 for a q8_0 row length not a multiple of 32, as above)
            t = ModelSchema.q8Choice(e)
            if t == .q8_0 && e.shape.last! % 32 != 0 { t = .f32 }
        }
        plans.append(TensorPlan(name: e.name, type: t, shape: e.shape))
    }
    let dir = NSTemporaryDirectory() + "svae-model-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let out = dir + "/\(name)-\(type).svae"
    let w = try SVAEWriter(path: out, metadata: meta, tensors: plans)
    for p in plans {
        guard let mapped = plan[p.name] else {
            throw SVAEFormatError(file: out, .missingTensor(name: p.name + " (planned: " + plan.tensors.map(\.name).joined(separator: ",") + ")"))
        }
        let values = try mapped.f32()
        let kt = p.type
        let bytes = p.type == .f32 ? values.withUnsafeBytes { Array($0) } : try Quantizer.encode(values, as: kt, cols: p.shape.last!)
        try w.append(bytes)
    }
    try w.finish()
    return out
}

