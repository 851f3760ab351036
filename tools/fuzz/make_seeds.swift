// Writes a seed corpus for the reader fuzzer: small valid files of several shapes.
// Compiled with the SVAEFormat sources by tools/fuzz/run.sh.
import Foundation

extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}

@main struct MakeSeeds {
    static func main() throws {
        let dir = CommandLine.arguments[1]
        var m = Metadata()
        m["x.a"] = .array(elementType: .i32, values: [.i32(1), .i32(2)])
        m["x.s"] = .string("seed")
        m["general.architecture"] = .string("svae")
        let tok = TokenizerData(tokens: ["a", "b", "ab", "<s>"], merges: [.init(0, 1)], specials: [.init(id: 3, text: "<s>")])
        let cases: [(String, TokenizerData?, [TensorPlan], Bool)] = [
            ("plain", nil, [TensorPlan(name: "w", type: .f32, shape: [2, 3])], false),
            ("quant", tok, [TensorPlan(name: "q8", type: .q8_0, shape: [2, 32]), TensorPlan(name: "q4", type: .q4_0, shape: [1, 64]),
                            TensorPlan(name: "h", type: .f16, shape: [3]), TensorPlan(name: "b", type: .bf16, shape: [1, 1, 1, 5])], false),
            ("zstd", tok, [TensorPlan(name: "w", type: .f32, shape: [4])], true),
        ]
        // Section bodies for the `sections` harness: first byte 0 = metadata, 1 = tokenizer.
        if CommandLine.arguments.count > 2 {
            let sdir = CommandLine.arguments[2]
            try ([0] + m.encoded()).write(to: "\(sdir)/metadata.bin")
            try ([1] + tok.encoded()).write(to: "\(sdir)/tokenizer.bin")
            var m2 = Metadata()
            m2["general.architecture"] = .string("svae")
            m2["x.f"] = .array(elementType: .f32, values: [.f32(1.5), .f32(-0)])
            m2["x.b"] = .bool(true)
            m2["x.u"] = .u64(7)
            try ([0] + m2.encoded()).write(to: "\(sdir)/metadata2.bin")
            let tok2 = TokenizerData(tokens: ["a", "b", "ab", "<s>", "<x>"], merges: [.init(0, 1)],
                                     specials: [.init(id: 3, text: "<s>"),
                                                .init(id: 4, text: "<x>", options: TokenizerData.Special.Options.lstrip | TokenizerData.Special.Options.singleWord)],
                                     addPrefixSpace: true)
            try ([1] + tok2.encoded()).write(to: "\(sdir)/tokenizer2.bin")
        }
        for (name, t, plans, compress) in cases {
            let w = try SVAEWriter(path: "\(dir)/\(name).svae", metadata: m, tokenizer: t, tensors: plans, compress: compress)
            for p in plans {
                let n = p.type.byteCount(elements: p.shape.reduce(1, *), innermost: p.shape.last!)!
                try w.append((0..<n).map { UInt8(truncatingIfNeeded: $0) })
            }
            try w.finish()
        }
    }
}
