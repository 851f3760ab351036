// The quantizers against goldens computed with NumPy from formats/quantization.md
// (tools/fixtures/make_quant_goldens.py): an independent check of the scalar reference, which
// the other kernel tests compare the SIMD paths with, and of the activation quantizer the
// integer references in MatMulTests are built from.
import CSVAEKernels
import Foundation
import SVAETestSupport
import Testing
@testable import SVAEKernels

struct QuantGoldens: Decodable {
    struct Weights: Decodable {
        let name: String
        let x: [UInt32]
        let q8_0: String?
        let q4_0: String?
    }
    struct Activations: Decodable {
        let cols: Int
        let x: [UInt32]
        let q: [Int8]
        let d: [UInt32]
        let corr_q8_0: [Int32]
        let corr_q4_0: [Int32]
    }
    let weights: [Weights]
    let activations: Activations

    static func load() throws -> QuantGoldens {
        let url = try #require(Bundle.module.url(forResource: "quant_goldens", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(QuantGoldens.self, from: Data(contentsOf: url))
    }
}

func hexBytes(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8).map { $0 <= 57 ? $0 - 48 : $0 - 87 }
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

@Suite struct QuantGoldenTests {
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func weightBlocksMatchNumPy(type: ElementType) throws {
        let g = try QuantGoldens.load()
        #expect(g.weights.count >= 14)
        var overflows = 0
        for w in g.weights {
            let x = w.x.map { Float(bitPattern: $0) }
            let golden = type == .q8_0 ? w.q8_0 : w.q4_0
            for path in testedPaths() {
                if let hex = golden {
                    let bytes = try Quantizer.encode(x, as: type, path: path)
                    let want = hexBytes(hex)
                    #expect(bytes == want, "\(type) \(w.name) on \(path): first differing byte \(bytes.indices.first { $0 >= want.count || bytes[$0] != want[$0] } ?? bytes.count)")
                } else {
                    overflows += 1
                    #expect("\(type) \(w.name) on \(path): NumPy says the scale overflows f16",
                            performing: { try Quantizer.encode(x, as: type, path: path) },
                            throws: { e in if case KernelError.scaleOverflow = e { true } else { false } })
                }
            }
        }
        #expect(type == .q4_0 ? overflows > 0 : true, "the goldens include a q4_0 overflow case")
    }

    /// The scalar and the dispatched activation quantizers write the golden codes, scales (one
    /// per block, in all 8 lanes) and lane corrections, for q8_0 and q4_0 weight offsets.
    @Test(arguments: [ElementType.q8_0, .q4_0])
    func activationBytesMatchNumPy(type: ElementType) throws {
        let a = try QuantGoldens.load().activations
        let cols = a.cols, n = a.x.count / cols, nb = cols / 32
        try #require(n >= 3 && a.q.count == n * cols && a.d.count == n * nb)
        let x = a.x.map { Float(bitPattern: $0) }
        let corr = type == .q8_0 ? a.corr_q8_0 : a.corr_q4_0
        let quantizers: [(String, (UnsafeMutablePointer<csvae_qact>, UnsafePointer<Float>, Int32, Int, Int) -> Void)] = [
            ("scalar", { csvae_qact_quantize_scalar($0, $1, $2, $3, $4) }),
            ("dispatched", { csvae_qact_quantize($0, $1, $2, $3, $4) }),
        ]
        for (name, quantize) in quantizers {
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: csvae_qact_bytes(n, cols), alignment: 64)
            defer { scratch.deallocate() }
            var qa = csvae_qact_bind(scratch, n, cols)
            x.withUnsafeBufferPointer { quantize(&qa, $0.baseAddress!, Int32(type.rawValue), n, cols) }
            #expect(Array(UnsafeBufferPointer(start: qa.q, count: n * cols)) == a.q, "\(name) codes")
            let d = Array(UnsafeBufferPointer(start: qa.d, count: n * nb * 8)).map(\.bitPattern)
            #expect(d == a.d.flatMap { [UInt32](repeating: $0, count: 8) }, "\(name) scales")
            #expect(Array(UnsafeBufferPointer(start: qa.corr, count: n * nb * 8)) == corr, "\(name) lane corrections")
        }
    }
}
