import Foundation
import Testing
@testable import SVAEFormat

/// formats/svae.md §9: the normative example, byte for byte.
@Suite struct SpecExampleTests {
    static let hex = "53564145010000000d0c0b0a40000000880100000000000003000000400000000000000000000000000000000000000000000000000000005df1602803b92d7d0100000000000000000100000000000015000000000000001500000000000000b50d77a6827c71ae00000000000000000300000000000000400100000000000033000000000000003300000000000000f0460210ed62d350000000000000000004000000000000008001000000000000080000000000000008000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000000000000000300782e6b04000000070000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000000000000000100740000000001000000020000000000000000000000000000000800000000000000763d40305c536ec8000000000000000000000000000000803f00000040"

    static var bytes: [UInt8] {
        var out: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }

    @Test func readerParsesTheExample() throws {
        let f = try SVAEFile(bytes: Self.bytes)
        #expect(f.fileSize == 392)
        #expect(f.metadata.keys == ["x.k"])
        #expect(f.metadata["x.k"] == .u32(7))
        #expect(f.tokenizer == nil)
        let t = try #require(f.tensor("t"))
        #expect(t.type == .f32 && t.shape == [2] && t.offset == 0x180)
        #expect(Array(f.bytes(of: t)) == f32Bytes([1.0, 2.0]))
        try f.verify()
    }

    @Test func writerProducesTheExample() throws {
        let path = tempDir() + "/example.svae"
        try writeFile(path, metadata: Metadata(["x.k": .u32(7)]), tensors: [TensorPlan(name: "t", type: .f32, shape: [2])],
                      data: [f32Bytes([1.0, 2.0])], compress: false)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Self.bytes)
    }

    @Test func specDocumentShowsTheSameBytes() throws {
        // Tests/SVAEFormatTests/SpecExampleTests.swift → repository root → formats/svae.md
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let spec = try String(contentsOf: root.appendingPathComponent("formats/svae.md"), encoding: .utf8)
        var dump = ""
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            let l = String(line)
            guard l.count > 6, l.prefix(4).allSatisfy(\.isHexDigit), l.dropFirst(4).hasPrefix("  ") else { continue }
            dump += l.dropFirst(6).replacingOccurrences(of: " ", with: "")
        }
        #expect(dump == Self.hex)
    }
}
