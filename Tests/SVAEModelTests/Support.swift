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

/// Converts a fixture checkpoint to .svae with `type` for 2-D weights (`convertCheckpoint`).
func convertFixture(_ name: String, type: SVAEFormat.ElementType, golden: Golden) throws -> String {
    try convertCheckpoint(fixtureURL(name, "safetensors").path, name: name, type: type,
                          flags: [("num_attention_heads", .number("\(golden.config.num_attention_heads)")),
                                  ("max_seq_len", .number("\(golden.config.max_seq_len)"))])
}

/// Converts any checkpoint as svae-convert does (`Converter.convert`, no tokenizer): `flags` play
/// the role of its config flags, `prefill` sets `llm.prefill_attention` (SLLM). `type` is its
/// `--quant`, except that `.q8_0` is q8_0 for every 2-D weight (`--quant q8_0 --tensor-type
/// '.*=q8_0'`) and `.i8r` the q8 choice (`--quant q8_0`: i8r linear weights, q8_0 embeddings);
/// a quantized type falls back to f16 where a row length is not a multiple of 32.
func convertCheckpoint(_ source: String, name: String, type: SVAEFormat.ElementType, flags: [(String, JSONValue)],
                       prefill: String? = nil) throws -> String {
    let dir = NSTemporaryDirectory() + "svae-model-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let out = dir + "/\(name)-\(type).svae"
    let options = ConvertOptions(importOptions: ImportOptions(configs: [.flags(flags)], prefillAttention: prefill),
                                 defaultType: type == .i8r ? .q8_0 : type,
                                 tensorTypes: type == .q8_0 ? [try TensorTypeRule(pattern: ".*", type: .q8_0)] : [], findTokenizer: false)
    _ = try Converter.convert(inputs: [source], output: out, options: options)
    return out
}

