// Safetensors reader: fixtures and the docs/bad-input.md checklist (items 2–5).

import Foundation
import Testing
@testable import SVAEImport

@Suite struct SafetensorsTests {
    @Test func readsSingleFileFixture() throws {
        let f = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        #expect(f.tensors.count > 30)
        #expect(f.metadata.map(\.0) == ["format", "source"])
        let emb = try #require(f.tensors.first { $0.name == "encoder.embed_token.weight" })
        #expect(emb.shape == [64, 32] && emb.dtype == .f32)
        let v = try values(emb)
        #expect(v.allSatisfy { $0.isFinite } && v.contains { $0 != 0 })
    }

    @Test func convertsF16BF16F64Exactly() throws {
        let f = try SafetensorsFile(path: Fx.path("dtypes.safetensors"))
        for tag in ["f16", "bf16", "f64", "f32"] {
            let x = try #require(f.tensors.first { $0.name == "x." + tag })
            let e = try #require(f.tensors.first { $0.name == "x." + tag + ".expected" })
            #expect(try values(x).map(\.bitPattern) == values(e).map(\.bitPattern), "\(tag)")
        }
        let ids = try #require(f.tensors.first { $0.name == "ids.i64" })
        #expect(throws: SourceTensorError.unsupportedDType(path: f.path, tensor: "ids.i64", dtype: "I64")) { try values(ids) }
    }

    @Test func readsRowRanges() throws {
        let f = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        let t = try #require(f.tensors.first { $0.name == "decoder.linear.weight" })
        let all = try values(t)
        var part = [Float](repeating: 0, count: 5 * t.rowSize)
        try part.withUnsafeMutableBufferPointer { try t.readRowsF32(10..<15, into: $0) }
        #expect(part == Array(all[(10 * t.rowSize)..<(15 * t.rowSize)]))
        #expect(throws: SourceTensorError.rowRange(path: t.path, tensor: t.name, rows: 64, requested: "60..<70")) {
            var b = [Float](repeating: 0, count: 10 * t.rowSize)
            try b.withUnsafeMutableBufferPointer { try t.readRowsF32(60..<70, into: $0) }
        }
    }

    // checklist 1/2: lengths
    @Test func fileTooSmall() {
        let p = tempFile([1, 2, 3, 4, 5])
        #expect(throws: SafetensorsError.fileTooSmall(path: p, size: 5)) { try SafetensorsFile(path: p) }
    }

    @Test func headerTooLarge() {
        let p = tempFile(le64(200_000_000) + [0x7B])
        #expect(throws: SafetensorsError.headerTooLarge(path: p, length: 200_000_000, limit: 100_000_000)) { try SafetensorsFile(path: p) }
        let q = tempFile(le64(UInt64.max) + [0x7B])  // n + 8 would overflow
        #expect(throws: SafetensorsError.headerTooLarge(path: q, length: UInt64.max, limit: 100_000_000)) { try SafetensorsFile(path: q) }
    }

    @Test func headerPastEOF() {
        let p = tempFile(le64(1000) + Array("{}".utf8))
        #expect(throws: SafetensorsError.headerPastEOF(path: p, headerLength: 1000, fileSize: 10)) { try SafetensorsFile(path: p) }
    }

    @Test func headerNotUTF8() {
        let p = tempFile(le64(4) + [0x7B, 0xFF, 0xFE, 0x7D])
        #expect(throws: SafetensorsError.headerNotUTF8(path: p)) { try SafetensorsFile(path: p) }
    }

    @Test func headerNotJSON() {
        let p = tempFile(safetensors("{\"a\": "))
        #expect(throws: SafetensorsError.headerNotJSON(path: p, offset: 6, reason: "unexpected end")) { try SafetensorsFile(path: p) }
    }

    @Test func headerNotObject() {
        let p = tempFile(safetensors("[1,2]"))
        #expect(throws: SafetensorsError.headerNotObject(path: p, found: "[1,2]")) { try SafetensorsFile(path: p) }
    }

    @Test func duplicateKeys() {
        let e = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
        let p = tempFile(safetensors("{\"w\":\(e),\"w\":\(e)}", data: f32bytes([1])))
        #expect(throws: SafetensorsError.duplicateKey(path: p, key: "w")) { try SafetensorsFile(path: p) }
    }

    // checklist 3
    @Test func unknownDType() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", data: [0]))
        #expect(throws: SafetensorsError.unknownDType(path: p, tensor: "w", dtype: "F8_E4M3")) { try SafetensorsFile(path: p) }
    }

    @Test func negativeAndOverflowingShapes() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,0]}}"))
        #expect(throws: SafetensorsError.badShape(path: p, tensor: "w", shape: "[-1,4]")) { try SafetensorsFile(path: p) }
        let big = "[4611686018427387904,4611686018427387904]"
        let q = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":\(big),\"data_offsets\":[0,0]}}"))
        #expect(throws: SafetensorsError.badShape(path: q, tensor: "w", shape: big)) { try SafetensorsFile(path: q) }
        // numel fits but numel × 4 overflows: checked multiplication, not a trap
        let r = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]))
        #expect(throws: SafetensorsError.byteLengthMismatch(path: r, tensor: "w", expected: Int.max, found: 4)) { try SafetensorsFile(path: r) }
    }

    // checklist 4
    @Test func byteLengthMismatch() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: f32bytes([1])))
        #expect(throws: SafetensorsError.byteLengthMismatch(path: p, tensor: "w", expected: 8, found: 4)) { try SafetensorsFile(path: p) }
    }

    // checklist 5
    @Test func beginAfterEnd() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", data: f32bytes([1])))
        #expect(throws: SafetensorsError.beginAfterEnd(path: p, tensor: "w", begin: 4, end: 0)) { try SafetensorsFile(path: p) }
    }

    @Test func overlappingOffsets() {
        let h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        let p = tempFile(safetensors(h, data: f32bytes([1, 2, 3])))
        #expect(throws: SafetensorsError.offsetsOverlap(path: p, tensor: "b", previous: "a", expectedBegin: 8, foundBegin: 4)) { try SafetensorsFile(path: p) }
    }

    @Test func gapBetweenOffsets() {
        let h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}"
        let p = tempFile(safetensors(h, data: f32bytes([1, 2, 3])))
        #expect(throws: SafetensorsError.offsetsGap(path: p, tensor: "b", expectedBegin: 4, foundBegin: 8)) { try SafetensorsFile(path: p) }
    }

    @Test func unsortedKeysAreSortedByOffset() throws {
        // JSON order b, a; data order a, b: accepted (upstream sorts by offset too).
        let h = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        let f = try SafetensorsFile(path: tempFile(safetensors(h, data: f32bytes([1, 2]))))
        #expect(f.tensors.map(\.name) == ["a", "b"])
        #expect(try values(f.tensors[1]) == [2])
    }

    @Test func dataPastEOF() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: f32bytes([1])))
        #expect(throws: SafetensorsError.dataPastEOF(path: p, tensor: "w", end: 8, dataSize: 4)) { try SafetensorsFile(path: p) }
    }

    @Test func trailingBytes() {
        let h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        let p = tempFile(safetensors(h, data: f32bytes([1, 2])))
        #expect(throws: SafetensorsError.trailingBytes(path: p, expectedEnd: 8 + h.utf8.count + 4, fileSize: 8 + h.utf8.count + 8)) { try SafetensorsFile(path: p) }
    }

    @Test func metadataMustBeStringMap() {
        let p = tempFile(safetensors("{\"__metadata__\":{\"format\":1}}"))
        #expect(throws: SafetensorsError.badMetadata(path: p, key: "format", found: "1")) { try SafetensorsFile(path: p) }
    }

    @Test func badEntryFields() {
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}"))
        #expect(throws: SafetensorsError.badEntry(path: p, tensor: "w", field: "data_offsets", expected: "[begin, end] non-negative integers", found: "missing")) {
            try SafetensorsFile(path: p)
        }
    }

    // MARK: sharded

    @Test func shardedEqualsSingleFile() throws {
        let single = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        let sharded = try SafetensorsIndex(path: Fx.path("svae_sharded/model.safetensors.index.json"))
        #expect(sharded.shards.count == 2)
        #expect(Set(sharded.tensors.map(\.name)) == Set(single.tensors.map(\.name)))
        for t in sharded.tensors {
            let s = try #require(single.tensors.first { $0.name == t.name })
            #expect(try values(t) == values(s))
        }
        // folder auto-detection
        let c = try SourceCheckpoint.open(Fx.path("svae_sharded"))
        #expect(c.format == .safetensorsSharded && c.tensors.count == single.tensors.count)
    }

    func shard(_ names: [String]) -> [UInt8] {
        var h: [String] = []
        for (i, n) in names.enumerated() { h.append("\"\(n)\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\(4 * i),\(4 * i + 4)]}") }
        return safetensors("{" + h.joined(separator: ",") + "}", data: f32bytes(names.map { _ in 1 }))
    }

    func index(_ dir: String, _ map: [(String, String)]) -> String {
        let body = map.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",")
        let p = dir + "/model.safetensors.index.json"
        _ = FileManager.default.createFile(atPath: p, contents: Data("{\"metadata\":{\"total_size\":8},\"weight_map\":{\(body)}}".utf8))
        return p
    }

    @Test func missingShard() {
        let d = tempDir()
        let p = index(d, [("a", "s1.safetensors")])
        #expect(throws: SafetensorsError.missingShard(path: p, shard: "s1.safetensors")) { try SafetensorsIndex(path: p) }
    }

    @Test func shardOutsideFolder() {
        let d = tempDir()
        let p = index(d, [("a", "../s1.safetensors")])
        #expect(throws: SafetensorsError.shardOutsideFolder(path: p, shard: "../s1.safetensors")) { try SafetensorsIndex(path: p) }
    }

    @Test func tensorInTwoShards() {
        let d = tempDir()
        _ = FileManager.default.createFile(atPath: d + "/s1.safetensors", contents: Data(shard(["a"])))
        _ = FileManager.default.createFile(atPath: d + "/s2.safetensors", contents: Data(shard(["a", "b"])))
        let p = index(d, [("a", "s1.safetensors"), ("b", "s2.safetensors")])
        #expect(throws: SafetensorsError.tensorInTwoShards(path: p, tensor: "a", first: "s1.safetensors", second: "s2.safetensors")) {
            try SafetensorsIndex(path: p)
        }
    }

    @Test func everyTensorListed() {
        let d = tempDir()
        _ = FileManager.default.createFile(atPath: d + "/s1.safetensors", contents: Data(shard(["a", "extra"])))
        let p = index(d, [("a", "s1.safetensors")])
        #expect(throws: SafetensorsError.tensorNotListed(path: p, tensor: "extra", shard: "s1.safetensors")) { try SafetensorsIndex(path: p) }
        let e = tempDir()
        _ = FileManager.default.createFile(atPath: e + "/s1.safetensors", contents: Data(shard(["a"])))
        let q = index(e, [("a", "s1.safetensors"), ("ghost", "s1.safetensors")])
        #expect(throws: SafetensorsError.listedTensorMissing(path: q, tensor: "ghost", shard: "s1.safetensors")) { try SafetensorsIndex(path: q) }
    }

    @Test func indexDuplicateKeys() {
        let d = tempDir()
        let p = d + "/model.safetensors.index.json"
        _ = FileManager.default.createFile(atPath: p, contents: Data("{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}".utf8))
        #expect(throws: SafetensorsError.duplicateKey(path: p, key: "a")) { try SafetensorsIndex(path: p) }
    }
}

extension SafetensorsTests {
    @Test func tooManyDimensions() {
        let dims = "[" + Array(repeating: "1", count: 17).joined(separator: ",") + "]"
        let p = tempFile(safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":\(dims),\"data_offsets\":[0,4]}}", data: f32bytes([1])))
        #expect(throws: SafetensorsError.badShape(path: p, tensor: "w", shape: dims)) { try SafetensorsFile(path: p) }
    }
}
