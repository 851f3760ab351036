// PyTorch zip checkpoints: ZIP reader, restricted unpickler, tensor views (checklist 10–12).

import Foundation
import Testing
@testable import SVAEImport

@Suite struct ZipTests {
    @Test func readsTorchZip() throws {
        let z = try ZipArchive(path: Fx.path("svae_tiny.pth"))
        #expect(z.entry("archive/data.pkl") != nil && z.entry("archive/byteorder") != nil)
        #expect(try z.read("archive/byteorder") == Array("little".utf8))
    }

    @Test func readsZip64Directory() throws {
        let p = tempFile(makeZip([ZipSpec(name: "a/data.pkl", data: [1, 2, 3]), ZipSpec(name: "a/x", data: [9])], zip64: true))
        let z = try ZipArchive(path: p)
        #expect(z.entries.map(\.name) == ["a/data.pkl", "a/x"])
        #expect(try z.read("a/x") == [9])
    }

    @Test func rejectsDotDotAndAbsoluteNames() {
        let p = tempFile(makeZip([ZipSpec(name: "archive/../../etc/passwd", data: [1])]))
        #expect(throws: ZipError.unsafeName(path: p, entry: "archive/../../etc/passwd")) { try ZipArchive(path: p) }
        let q = tempFile(makeZip([ZipSpec(name: "/etc/passwd", data: [1])]))
        #expect(throws: ZipError.unsafeName(path: q, entry: "/etc/passwd")) { try ZipArchive(path: q) }
    }

    @Test func rejectsDuplicateNames() {
        let p = tempFile(makeZip([ZipSpec(name: "a/b", data: [1]), ZipSpec(name: "a/b", data: [2])]))
        #expect(throws: ZipError.duplicateName(path: p, entry: "a/b")) { try ZipArchive(path: p) }
    }

    @Test func rejectsCompressedStorage() {
        let pkl = oneTensorPickle()
        let p = tempFile(makeZip([ZipSpec(name: "archive/data.pkl", data: pkl),
                                  ZipSpec(name: "archive/data/0", data: f32bytes([1, 2, 3, 4, 5, 6]), method: 8)]))
        #expect(throws: ZipError.compressedEntry(path: p, entry: "archive/data/0", method: 8)) { try TorchCheckpoint(path: p) }
    }

    @Test func rejectsEntryPastEOF() {
        let p = tempFile(makeZip([ZipSpec(name: "a/b", data: [1], localOffsetOverride: 1_000_000)]))
        #expect(throws: ZipError.entryPastEOF(path: p, entry: "a/b", end: 1_000_001, fileSize: 105)) { try ZipArchive(path: p) }
    }

    @Test func rejectsLocalHeaderMismatch() {
        let p = tempFile(makeZip([ZipSpec(name: "a/b", data: [1], localName: "a/c")]))
        #expect(throws: ZipError.localHeaderMismatch(path: p, entry: "a/b", field: "name", expected: "a/b", found: "a/c")) { try ZipArchive(path: p) }
    }

    @Test func rejectsNonZipAndTruncated() throws {
        let p = tempFile([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 7, count: 100))
        #expect(throws: ZipError.noEndOfCentralDirectory(path: p)) { try ZipArchive(path: p) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: Fx.path("svae_tiny.pth")))
        let q = tempFile(Array(whole.prefix(whole.count / 2)))
        #expect(throws: ZipError.noEndOfCentralDirectory(path: q)) { try ZipArchive(path: q) }
    }

    @Test func rejectsTwoDataPickles() {
        let p = tempFile(makeZip([ZipSpec(name: "a/data.pkl", data: [0x80, 2, 0x4E, 0x2E]),
                                  ZipSpec(name: "b/data.pkl", data: [0x80, 2, 0x4E, 0x2E])]))
        #expect(throws: TorchCheckpointError.multipleDataPickles(path: p, found: ["a/data.pkl", "b/data.pkl"])) { try TorchCheckpoint(path: p) }
        let q = tempFile(makeZip([ZipSpec(name: "a/other", data: [1])]))
        #expect(throws: TorchCheckpointError.noDataPickle(path: q)) { try TorchCheckpoint(path: q) }
    }

    @Test func boundedDirectoryCount() {
        // EOCD claiming 65535 entries in a 0-byte directory: refused before allocating.
        let bytes = le32(0x0605_4b50) + le16(0) + le16(0) + le16(0xFFFE) + le16(0xFFFE) + le32(0) + le32(0) + le16(0)
        let p = tempFile(bytes)
        #expect(throws: ZipError.badCentralDirectory(path: p, reason: "65534 entries cannot fit in 0 bytes")) { try ZipArchive(path: p) }
    }
}

@Suite struct PickleTests {
    let path = "t.pkl"
    func load(_ b: [UInt8]) throws -> PickleValue { try Unpickler.load(b, path: path).value }

    @Test func unknownOpcode() {
        #expect(throws: PickleError.unknownOpcode(path: path, offset: 2, opcode: 0xFF)) { try load([0x80, 2, 0xFF]) }
    }

    @Test func stackUnderflow() {
        #expect(throws: PickleError.stackUnderflow(path: path, offset: 2, opcode: "REDUCE", needed: 1, found: 0)) { try load([0x80, 2, 0x52, 0x2E]) }
        // items below a MARK are not reachable
        #expect(throws: PickleError.stackUnderflow(path: path, offset: 4, opcode: "TUPLE1", needed: 1, found: 0)) { try load([0x80, 2, 0x4E, 0x28, 0x85]) }
    }

    @Test func missingMark() {
        #expect(throws: PickleError.missingMark(path: path, offset: 3, opcode: "TUPLE")) { try load([0x80, 2, 0x4E, 0x74, 0x2E]) }
        #expect(throws: PickleError.missingMark(path: path, offset: 3, opcode: "SETITEMS")) { try load([0x80, 2, 0x7D, 0x75, 0x2E]) }
    }

    @Test func unknownMemo() {
        #expect(throws: PickleError.unknownMemo(path: path, offset: 2, index: 5)) { try load([0x80, 2, 0x68, 5, 0x2E]) }
    }

    @Test func truncatedArguments() {
        #expect(throws: PickleError.truncated(path: path, offset: 2, opcode: "BINUNICODE", needed: 1000, available: 3)) {
            try load([0x80, 2, 0x58] + le32(1000) + [0x61, 0x62, 0x2E])
        }
        // a 2^32−1 length: never allocated, reported against what is left
        #expect(throws: PickleError.truncated(path: path, offset: 2, opcode: "BINBYTES", needed: 0xFFFF_FFFF, available: 1)) {
            try load([0x80, 2, 0x42] + le32(0xFFFF_FFFF) + [0x2E])
        }
        #expect(throws: PickleError.truncated(path: path, offset: 2, opcode: "BININT", needed: 4, available: 2)) { try load([0x80, 2, 0x4A, 1, 2]) }
    }

    @Test func noStop() {
        #expect(throws: PickleError.noStop(path: path)) { try load([0x80, 2, 0x4E]) }
    }

    @Test func deepNesting() {
        #expect(throws: PickleError.nestingTooDeep(path: path, offset: 102, limit: 100)) {
            try load([0x80, 2] + [UInt8](repeating: 0x28, count: 200) + [0x2E])
        }
        // 150 nested 1-tuples
        var b: [UInt8] = [0x80, 2, 0x29]
        b += [UInt8](repeating: 0x85, count: 150)
        b.append(0x2E)
        #expect(throws: PickleError.nestingTooDeep(path: path, offset: 102, limit: 100)) { try load(b) }
    }

    @Test func unknownGlobalsAreInert() throws {
        var p = PickleBuilder()
        p.global("mmengine.logging", "MessageHub"); p.op(")"); p.op("R")   // REDUCE → inert object
        p.op("}"); p.str("x"); p.int(1); p.op("s"); p.op("b")            // BUILD with a state dict
        p.stop()
        guard case .object(let o) = try load(p.b) else { Issue.record("not an object"); return }
        #expect(o.symbol == "mmengine.logging.MessageHub")
        guard case .dict(let st)? = o.state else { Issue.record("no state"); return }
        guard case .int(1)? = st["x"] else { Issue.record("state lost"); return }
    }

    @Test func dangerousReduceIsRefused() {
        var p = PickleBuilder()
        p.global("os", "system"); p.str("touch /tmp/svae_import_never"); p.raw([0x85])
        let reduceAt = p.b.count
        p.op("R"); p.stop()
        #expect(throws: PickleError.dangerousCallable(path: path, offset: reduceAt, name: "os.system")) { try load(p.b) }
    }

    /// Protocol 4's STACK_GLOBAL reaches the same refusal as GLOBAL.
    @Test func dangerousStackGlobalIsRefused() {
        var p = PickleBuilder()
        p.raw([0x80, 4]); p.b.removeFirst(2)  // protocol 4 header instead of 2
        p.str("builtins"); p.str("eval"); p.raw([0x93])
        p.str("1+1"); p.raw([0x85])
        let reduceAt = p.b.count
        p.op("R"); p.stop()
        #expect(throws: PickleError.dangerousCallable(path: path, offset: reduceAt, name: "builtins.eval")) { try load(p.b) }
    }

    /// NEWOBJ (cls.__new__(cls, *args)) of a refused class is refused like REDUCE.
    @Test func dangerousNewObjIsRefused() {
        var p = PickleBuilder()
        p.global("subprocess", "Popen"); p.str("true"); p.raw([0x85])
        let at = p.b.count
        p.raw([0x81]); p.stop()
        #expect(throws: PickleError.dangerousCallable(path: path, offset: at, name: "subprocess.Popen")) { try load(p.b) }
    }

    /// BUILD applies state to an object; on a refused class itself (a symbol, never
    /// instantiated) it is an error, and no call happens.
    @Test func buildOnARefusedClassIsAnError() {
        var p = PickleBuilder()
        p.global("os", "system"); p.op("}"); p.str("x"); p.int(1); p.op("s")
        let at = p.b.count
        p.op("b"); p.stop()
        #expect(throws: PickleError.self) { try load(p.b) }
        do { _ = try load(p.b); Issue.record("BUILD on os.system loaded") } catch {
            #expect("\(error)".contains("\(at)") || "\(error)".contains("BUILD"), "\(error)")
        }
    }

    /// Dotted module names are refused by their top-level package, and the dangerous-name
    /// list matches module + name whatever the spelling of builtins.
    @Test(arguments: [("os.path", "join", "os.path.join"), ("posix", "system", "posix.system"),
                      ("subprocess.os", "system", "subprocess.os.system"), ("__builtin__", "getattr", "__builtin__.getattr"),
                      ("torch.serialization", "load", "torch.serialization.load")])
    func dottedModuleNamesAreRefused(module: String, name: String, shown: String) {
        for stack in [false, true] {
            var p = PickleBuilder()
            if stack { p.str(module); p.str(name); p.raw([0x93]) } else { p.global(module, name) }
            p.op(")")
            let at = p.b.count
            p.op("R"); p.stop()
            #expect(throws: PickleError.dangerousCallable(path: path, offset: at, name: shown), "\(shown) via \(stack ? "STACK_GLOBAL" : "GLOBAL")") {
                try load(p.b)
            }
        }
    }

    @Test func evilCheckpointsRunNothing() throws {
        for (tag, name) in [("os_system", "posix.system"), ("eval", "__builtin__.eval"), ("subprocess", "commands.call")] {
            let marker = "/tmp/svae_import_pwned_" + tag
            try? FileManager.default.removeItem(atPath: marker)
            let p = Fx.path("evil_\(tag).pth")
            #expect(performing: { try TorchCheckpoint(path: p) }, throws: { e in
                guard case PickleError.dangerousCallable(_, _, let n) = e else { return false }
                return n == name
            })
            #expect(!FileManager.default.fileExists(atPath: marker), "\(tag) created its marker")
        }
    }
}

@Suite struct TorchCheckpointTests {
    @Test func pthEqualsSafetensors() throws {
        let st = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        let pt = try TorchCheckpoint(path: Fx.path("svae_tiny.pth"))
        #expect(pt.stateDictKey == "" && !pt.bigEndian)
        #expect(Set(pt.tensors.map(\.name)) == Set(st.tensors.map(\.name)))
        for t in pt.tensors {
            let s = try #require(st.tensors.first { $0.name == t.name })
            #expect(t.shape == s.shape)
            #expect(try values(t) == values(s), "\(t.name)")
        }
    }

    @Test func mmengineCheckpointStateDict() throws {
        let st = try SafetensorsFile(path: Fx.path("svae_tiny.safetensors"))
        let pt = try TorchCheckpoint(path: Fx.path("svae_mmengine.pth"))
        #expect(pt.stateDictKey == "state_dict")
        #expect(pt.tensors.count == st.tensors.count)
        for t in pt.tensors {
            let s = try #require(st.tensors.first { $0.name == t.name })
            #expect(try values(t) == values(s))
        }
    }

    @Test func nonContiguousViews() throws {
        let pt = try TorchCheckpoint(path: Fx.path("views.pth"))
        func v(_ n: String) throws -> [Float] { try values(#require(pt.tensors.first { $0.name == n })) }
        // a = arange(12).view(3,4); t = a.t()
        let tv: [Float] = (0..<4).flatMap { (i: Int) -> [Float] in (0..<3).map { (j: Int) -> Float in Float(j * 4 + i) } }
        #expect(try v("t") == tv)
        // b = arange(20).view(4,5)
        let sv: [Float] = (1..<4).flatMap { (i: Int) -> [Float] in (2..<5).map { (j: Int) -> Float in Float(i * 5 + j) } }
        #expect(try v("slice") == sv)
        let step: [Float] = (0..<4).flatMap { (i: Int) -> [Float] in [0, 2, 4].map { (j: Int) -> Float in Float(i * 5 + j) } }
        #expect(try v("step") == step)
        #expect(try v("row") == (10..<15).map(Float.init))
        // c = arange(24, f16).view(2,3,4).permute(2,0,1) → [4,2,3], value c[j][k][i]
        var perm: [Float] = []
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 { perm.append(Float(j * 12 + k * 4 + i)) } } }
        #expect(try v("perm") == perm)
        #expect(try v("scalar") == [3.5])
        #expect(try v("param") == [1, 1, 1, 1])
        let t = try #require(pt.tensors.first { $0.name == "t" })
        #expect(!t.isContiguous && t.shape == [4, 3])
        var rows = [Float](repeating: 0, count: 6)
        try rows.withUnsafeMutableBufferPointer { try t.readRowsF32(1..<3, into: $0) }
        #expect(rows == [1, 5, 9, 2, 6, 10])
    }

    @Test func bigEndianStorages() throws {
        let pt = try TorchCheckpoint(path: Fx.path("be_small.pth"))
        #expect(pt.bigEndian)
        func v(_ n: String) throws -> [Float] { try values(#require(pt.tensors.first { $0.name == n })) }
        #expect(try v("w") == (0..<12).map { Float($0) / 4 })
        #expect(try v("h") == [-2, -1, 0, 1, 2])
        #expect(try v("d") == [0, 1.5, 3])
    }

    @Test func badByteOrder() {
        let p = tempFile(torchZip(pickle: oneTensorPickle(), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))], byteorder: "middle"))
        #expect(throws: TorchCheckpointError.badByteOrder(path: p, found: "middle")) { try TorchCheckpoint(path: p) }
    }

    @Test func craftedCheckpointReads() throws {
        let p = tempFile(torchZip(pickle: oneTensorPickle(), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]))
        let c = try TorchCheckpoint(path: p)
        #expect(try values(c.tensors[0]) == [1, 2, 3, 4, 5, 6])
    }

    @Test func persistentIDMustBeStorage() {
        let pid: (inout PickleBuilder) -> Void = { p in p.op("("); p.str("module"); p.str("os"); p.op("t") }
        let p = tempFile(torchZip(pickle: oneTensorPickle(pid: pid), storages: []))
        #expect(throws: TorchCheckpointError.badPersistentID(path: p, found: "('module', 'os')")) { try TorchCheckpoint(path: p) }
    }

    @Test func unknownStorageType() {
        let p = tempFile(torchZip(pickle: oneTensorPickle(pid: PickleBuilder.storagePID("ComplexFloatStorage", numel: 6)), storages: []))
        #expect(throws: TorchCheckpointError.unknownStorageType(path: p, key: "0", type: "torch.ComplexFloatStorage")) { try TorchCheckpoint(path: p) }
    }

    @Test func missingStorageRecord() {
        let p = tempFile(torchZip(pickle: oneTensorPickle(), storages: [("1", f32bytes([1, 2, 3, 4, 5, 6]))]))
        #expect(throws: TorchCheckpointError.missingStorage(path: p, tensor: "w", key: "0")) { try TorchCheckpoint(path: p) }
    }

    @Test func storageSizeMismatch() {
        let p = tempFile(torchZip(pickle: oneTensorPickle(), storages: [("0", f32bytes([1, 2, 3, 4, 5]))]))
        #expect(throws: TorchCheckpointError.storageSizeMismatch(path: p, key: "0", expected: 24, found: 20)) { try TorchCheckpoint(path: p) }
    }

    @Test func viewBeyondStorage() {
        // size [2,3] stride [3,1] offset 1 needs 7 elements; the storage has 6
        let p = tempFile(torchZip(pickle: oneTensorPickle(offset: 1), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]))
        #expect(throws: TorchCheckpointError.viewOutOfStorage(path: p, tensor: "w", offset: 1, extent: 6, storageElements: 6)) { try TorchCheckpoint(path: p) }
        // overflowing stride
        let q = tempFile(torchZip(pickle: oneTensorPickle(size: [2, 3], stride: [Int(Int32.max), 1]), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]))
        #expect(throws: TorchCheckpointError.viewOutOfStorage(path: q, tensor: "w", offset: 0, extent: Int(Int32.max) + 3, storageElements: 6)) { try TorchCheckpoint(path: q) }
    }

    @Test func negativeSizeOrStride() {
        let p = tempFile(torchZip(pickle: oneTensorPickle(stride: [3, -1]), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]))
        #expect(throws: TorchCheckpointError.negativeSizeOrStride(path: p, tensor: "w", size: [2, 3], stride: [3, -1])) { try TorchCheckpoint(path: p) }
        let q = tempFile(torchZip(pickle: oneTensorPickle(size: [-2, 3]), storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]))
        #expect(throws: TorchCheckpointError.negativeSizeOrStride(path: q, tensor: "w", size: [-2, 3], stride: [3, 1])) { try TorchCheckpoint(path: q) }
    }

    @Test func noStateDict() {
        var b = PickleBuilder()
        b.op("}"); b.str("epoch"); b.int(3); b.op("s"); b.stop()
        let p = tempFile(torchZip(pickle: b.b, storages: []))
        #expect(throws: TorchCheckpointError.noStateDict(path: p, found: "top-level keys: ['epoch']")) { try TorchCheckpoint(path: p) }
    }
}

extension TorchCheckpointTests {
    @Test func legacyNonZipFormat() {
        let p = tempFile([0x80, 0x02, 0x8A, 0x0A] + [UInt8](repeating: 0, count: 20))
        #expect(throws: TorchCheckpointError.legacyFormat(path: p)) { try SourceCheckpoint.open(p) }
    }

    @Test func storageKeyWithTwoTypes() {
        var b = PickleBuilder()
        b.op("}")
        b.str("a"); b.tensor(pid: PickleBuilder.storagePID("FloatStorage", numel: 2), offset: 0, size: [2], stride: [1]); b.op("s")
        b.str("b"); b.tensor(pid: PickleBuilder.storagePID("HalfStorage", numel: 4), offset: 0, size: [4], stride: [1]); b.op("s")
        b.stop()
        let p = tempFile(torchZip(pickle: b.b, storages: [("0", f32bytes([1, 2]))]))
        #expect(throws: TorchCheckpointError.storageTypeConflict(path: p, key: "0", first: "F32", second: "F16")) { try TorchCheckpoint(path: p) }
    }

    @Test func sharedStorageAndSkippedEntries() throws {
        // two views of one storage, plus a non-tensor entry that is skipped
        var b = PickleBuilder()
        b.op("}")
        b.str("a"); b.tensor(pid: PickleBuilder.storagePID(numel: 6), offset: 0, size: [3], stride: [1]); b.op("s")
        b.str("b"); b.tensor(pid: PickleBuilder.storagePID(numel: 6), offset: 3, size: [3], stride: [1]); b.op("s")
        b.str("note"); b.str("hello"); b.op("s")
        b.stop()
        let c = try TorchCheckpoint(path: tempFile(torchZip(pickle: b.b, storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))])))
        #expect(try values(c.tensors[0]) == [1, 2, 3] && values(c.tensors[1]) == [4, 5, 6])
        #expect(c.skipped == ["note"])
    }
}
