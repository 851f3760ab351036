import Foundation
import Testing
@testable import SVAEFormat

@Suite struct RoundTripTests {
    @Test func everyElementTypeRoundTrips() throws {
        let dir = tempDir()
        let path = dir + "/types.svae"
        let plans = [
            TensorPlan(name: "t.f32", type: .f32, shape: [3, 5]),
            TensorPlan(name: "t.f16", type: .f16, shape: [7]),
            TensorPlan(name: "t.bf16", type: .bf16, shape: [2, 2, 3]),
            TensorPlan(name: "t.q8_0", type: .q8_0, shape: [3, 64]),
            TensorPlan(name: "t.q4_0", type: .q4_0, shape: [1, 2, 3, 32]),
        ]
        let written = try writeFile(path, metadata: Metadata(["x.k": .u8(1)]), tensors: plans)
        let f = try SVAEFile.open(path)
        #expect(f.tensors.map(\.name) == plans.map(\.name))
        for (i, p) in plans.enumerated() {
            let t = try #require(f.tensor(p.name))
            #expect(t.type == p.type)
            #expect(t.shape == p.shape)
            #expect(t.offset % 64 == 0, "tensor \(p.name) must be 64-byte aligned in the file")
            #expect(Array(f.bytes(of: t)) == written[i])
        }
        #expect(f.tensor("t.q8_0")!.byteCount == 3 * 2 * 34)
        #expect(f.tensor("t.q4_0")!.byteCount == 6 * 18)
        try f.verify()
    }

    @Test func everyMetadataTypeRoundTrips() throws {
        var m = Metadata()
        m["x.u8"] = .u8(255)
        m["x.i8"] = .i8(-128)
        m["x.u16"] = .u16(65535)
        m["x.i16"] = .i16(-32768)
        m["x.u32"] = .u32(.max)
        m["x.i32"] = .i32(.min)
        m["x.u64"] = .u64(.max)
        m["x.i64"] = .i64(.min)
        m["x.f32"] = .f32(-1.5e-7)
        m["x.f64"] = .f64(.pi)
        m["x.bool"] = .bool(true)
        m["x.string"] = .string("héllo, 世界 🙂")
        m["x.empty"] = .string("")
        m["x.ints"] = .array(elementType: .i32, values: [.i32(1), .i32(-2), .i32(3)])
        m["x.strings"] = .array(elementType: .string, values: [.string("a"), .string(""), .string("ü")])
        m["x.none"] = .array(elementType: .f64, values: [])
        m["general.architecture"] = .string("svae")
        for compress in [false, true] {
            let path = tempDir() + "/meta.svae"
            try writeFile(path, metadata: m, tensors: [TensorPlan(name: "x", type: .f32, shape: [1])], compress: compress)
            let f = try SVAEFile.open(path)
            #expect(f.metadata == m)
            #expect(f.metadata.keys == f.metadata.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        }
    }

    @Test func tokenizerRoundTripsAndCompresses() throws {
        // A vocabulary where every merge joins two tokens into a third.
        var tokens = (0..<200).map { "t\($0)" }
        tokens += ["a", "b", "ab", "abab"]
        let a = UInt32(tokens.firstIndex(of: "a")!), b = UInt32(tokens.firstIndex(of: "b")!), ab = UInt32(tokens.firstIndex(of: "ab")!)
        let tok = TokenizerData(tokens: tokens, merges: [.init(a, b), .init(ab, ab)], specials: [.init(id: 0, text: "</s>")])
        for compress in [false, true] {
            let path = tempDir() + "/tok.svae"
            try writeFile(path, metadata: Metadata(["x.k": .bool(false)]), tokenizer: tok,
                          tensors: [TensorPlan(name: "x", type: .f32, shape: [1])], compress: compress)
            let f = try SVAEFile.open(path)
            #expect(f.tokenizer == tok)
            let section = f.sections.first { $0.kind == 2 }!
            #expect(section.codec == (compress ? 1 : 0), "200 similar tokens compress by more than 10 %")
        }
    }

    @Test func tokenizerOptionsRoundTripAndOldSectionsStillRead() throws {
        let tokens = ["a", "b", "ab", "[X]", "<s>"]
        let all = TokenizerData.Special.Options.self
        let tok = TokenizerData(tokens: tokens, merges: [.init(0, 1)], specials: [
            .init(id: 3, text: "[X]", options: all.normalized | all.lstrip | all.rstrip | all.singleWord),
            .init(id: 4, text: "<s>")], addPrefixSpace: true)
        let decoded = try tok.encoded().withUnsafeBytes { b throws(FormatProblem) in try TokenizerData.decode(b) }
        #expect(decoded == tok)
        // A section written before options existed (flags 0, no per-token options): specials read as special.
        var old = ByteSink()
        old.u32(1); old.u32(0); old.u64(UInt64(tokens.count))
        for t in tokens { old.u32(UInt32(t.utf8.count)); old.raw(Array(t.utf8)) }
        old.u64(1); old.u32(0); old.u32(1)
        old.u64(1); old.u32(4); old.u32(3); old.raw(Array("<s>".utf8))
        let legacy = try old.bytes.withUnsafeBytes { b throws(FormatProblem) in try TokenizerData.decode(b) }
        #expect(legacy == TokenizerData(tokens: tokens, merges: [.init(0, 1)], specials: [.init(id: 4, text: "<s>", options: all.special)]))
        // Unknown flag or option bits are refused.
        var bad = tok
        bad.specials[0].options = 1 << 7
        #expect(throws: FormatProblem.self) { try bad.encoded() }
        var flags = try tok.encoded()
        flags[4] = 4
        #expect(throws: FormatProblem.self) { try flags.withUnsafeBytes { b throws(FormatProblem) in try TokenizerData.decode(b) } }
    }

    @Test func outputIsByteIdentical() throws {
        let dir = tempDir()
        let plans = [TensorPlan(name: "a", type: .f32, shape: [100]), TensorPlan(name: "b", type: .q4_0, shape: [4, 64])]
        let m = Metadata(["general.name": .string("same"), "x.v": .f64(0.1)])
        try writeFile(dir + "/1.svae", metadata: m, tensors: plans)
        try writeFile(dir + "/2.svae", metadata: m, tensors: plans)
        let one = try Data(contentsOf: URL(fileURLWithPath: dir + "/1.svae"))
        let two = try Data(contentsOf: URL(fileURLWithPath: dir + "/2.svae"))
        #expect(one == two)
    }

    @Test func fileWithNoTensorsIsValid() throws {
        let path = tempDir() + "/empty.svae"
        try writeFile(path, metadata: Metadata(["x.k": .u8(0)]), tensors: [])
        let f = try SVAEFile.open(path)
        #expect(f.tensors.isEmpty)
    }

    @Test func failedWritesLeaveNoFile() throws {
        let dir = tempDir()
        let path = dir + "/out.svae"
        // Too few bytes, then finish.
        do {
            let w = try SVAEWriter(path: path, metadata: Metadata(), tensors: [TensorPlan(name: "a", type: .f32, shape: [4])])
            try w.append([1, 2, 3])
            #expect(throws: SVAEFormatError.self) { try w.finish() }
        }
        // Too many bytes.
        do {
            let w = try SVAEWriter(path: path, metadata: Metadata(), tensors: [TensorPlan(name: "a", type: .f32, shape: [1])])
            #expect(throws: SVAEFormatError.self) { try w.append([UInt8](repeating: 0, count: 5)) }
            w.abort()
        }
        // Dropped without finishing (an interrupted conversion).
        do {
            let w = try SVAEWriter(path: path, metadata: Metadata(), tensors: [TensorPlan(name: "a", type: .f32, shape: [1])])
            try w.append([0, 0, 128, 63])
        }
        // An invalid plan is rejected before anything is created.
        #expect(throws: SVAEFormatError.self) {
            _ = try SVAEWriter(path: path, metadata: Metadata(), tensors: [TensorPlan(name: "q", type: .q4_0, shape: [2, 31])])
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "no temporary file is left behind")
    }

    @Test func existingDestinationIsReplacedOnlyOnSuccess() throws {
        let dir = tempDir()
        let path = dir + "/out.svae"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
        do {
            let w = try SVAEWriter(path: path, metadata: Metadata(), tensors: [TensorPlan(name: "a", type: .f32, shape: [1])])
            w.abort()
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("previous".utf8))
        try writeFile(path, metadata: Metadata(), tensors: [TensorPlan(name: "a", type: .f32, shape: [1])])
        #expect(try SVAEFile.open(path).tensors.count == 1)
    }

    @Test func verifyNamesTheCorruptTensor() throws {
        var b = try smallFileBytes()
        let f = try SVAEFile(bytes: b)
        let t = f.tensor("b")!
        b[t.offset + 5] ^= 0xFF
        let bad = try SVAEFile(bytes: b)  // structure is still valid
        #expect(throws: SVAEFormatError(file: "<memory>", .tensorChecksum(tensor: "b", expected: t.checksum, found: XXH64.hash(Array(bad.bytes(of: t)))))) {
            try bad.verify()
        }
        // Non-zero padding between tensors is found too.
        var c = try smallFileBytes()
        let a = f.tensor("a")!
        c[a.offset + a.byteCount + 1] = 1
        #expect(throws: SVAEFormatError.self) { try SVAEFile(bytes: c).verify() }
    }

    @Test func writerRejectsBadMetadata() throws {
        let path = tempDir() + "/m.svae"
        for (m, expected) in [
            (Metadata(["Bad Key": .u8(1)]), FormatProblem.invalidName(what: "metadata key", found: "Bad Key")),
            (Metadata(["svae.hidden_size": .string("768")]), .wrongMetadataType(key: "svae.hidden_size", expected: "u32", found: "string")),
            (Metadata(["unknown.key": .u8(1)]), .wrongMetadataType(key: "unknown.key", expected: "a registered key or an x. extension key", found: "an unknown key")),
        ] {
            #expect(throws: SVAEFormatError(file: path, expected)) {
                _ = try SVAEWriter(path: path, metadata: m, tensors: [])
            }
        }
    }
}

@Suite struct FileAndWriterErrorTests {
    @Test func openFailuresNameTheFile() throws {
        let dir = tempDir()
        let missing = dir + "/missing.svae"
        #expect(throws: SVAEFormatError(file: missing, .io(operation: "open", message: "No such file or directory"))) {
            try SVAEFile.open(missing)
        }
        #expect(throws: SVAEFormatError(file: dir, .io(operation: "open", message: "not a regular file"))) { try SVAEFile.open(dir) }
    }

    @Test func writerRejectsOutOfOrderWrongSizeAndExtraBytes() throws {
        let path = tempDir() + "/w.svae"
        let w = try SVAEWriter(path: path, metadata: Metadata(),
                               tensors: [TensorPlan(name: "a", type: .f32, shape: [2]), TensorPlan(name: "b", type: .f32, shape: [1])])
        defer { w.abort() }
        let four = [UInt8](repeating: 0, count: 4), eight = [UInt8](repeating: 0, count: 8)
        #expect(throws: SVAEFormatError(file: path, .badField(field: "writer tensor order", expected: "\"a\"", found: "\"b\""))) {
            try four.withUnsafeBytes { try w.writeTensor("b", $0) }
        }
        #expect(throws: SVAEFormatError(file: path, .byteLengthMismatch(tensor: "a", expected: 8, found: 4))) {
            try four.withUnsafeBytes { try w.writeTensor("a", $0) }
        }
        try eight.withUnsafeBytes { try w.writeTensor("a", $0) }
        #expect(w.nextTensor == "b")
        try w.append(four)
        #expect(w.nextTensor == nil)
        #expect(throws: SVAEFormatError(file: path, .trailingBytes(what: "writer: every planned tensor is complete", count: 4))) {
            try w.append(four)
        }
    }
}
