// ReaderLimits (docs/limits.md): each cap produces its typed error, in plain words, before the
// memory it guards is allocated; and the pickle DAG / summary blow-ups found by the fuzzer
// (tools/fuzz) stay linear. Limits are lowered here so each error is reached with small files.

import Foundation
import Testing
@testable import SVAEImport
import SVAEJSON

@Suite struct LimitsTests {
    let path = "t.pth:archive/data.pkl"

    func limits(_ set: (inout ReaderLimits) -> Void) -> ReaderLimits {
        var l = ReaderLimits()
        set(&l)
        return l
    }

    /// Fuzzer finding (pickle harness): a tuple shared through the memo k times nests as a DAG;
    /// the old depth check walked every path (2^k). 90 levels must load at once, and the
    /// values' true depth still counts (90 + 1 ≤ 100).
    @Test func memoSharedTuplesLoadInLinearTime() throws {
        var b: [UInt8] = [0x80, 2, 0x29, 0x71, 0]                    // () BINPUT 0
        for _ in 0..<90 { b += [0x68, 0, 0x68, 0, 0x86, 0x71, 0] }   // BINGET 0 ×2, TUPLE2, BINPUT 0
        b.append(0x2E)
        let (v, _) = try Unpickler.load(b, path: path)
        guard case .tuple(let t) = v else { Issue.record("expected a tuple, found \(v.summary)"); return }
        #expect(t.count == 2)
        // 110 levels of the same DAG exceed the depth cap: still refused, still at once.
        var deep: [UInt8] = [0x80, 2, 0x29, 0x71, 0]
        for _ in 0..<110 { deep += [0x68, 0, 0x68, 0, 0x86, 0x71, 0] }
        deep.append(0x2E)
        #expect(throws: PickleError.nestingTooDeep(path: path, offset: 5 + 100 * 7 - 3, limit: 100)) {
            try Unpickler.load(deep, path: path)
        }
    }

    /// Same DAG, 6 items per level, then a REDUCE of it: the error's summary of the operand
    /// must not walk 6^30 paths (it prints 2 levels) and stays short.
    @Test func summaryOfSharedTuplesIsBounded() {
        var b: [UInt8] = [0x80, 2, 0x29, 0x71, 0]
        for _ in 0..<30 { b += [0x28] + [UInt8](repeating: 0, count: 6).flatMap { _ in [0x68, 0] } + [0x74, 0x71, 0] }
        b += [0x29, 0x52, 0x2E]  // () REDUCE: calling a tuple
        do {
            _ = try Unpickler.load(b, path: path)
            Issue.record("calling a tuple loaded")
        } catch {
            guard case .badOperand(_, _, "REDUCE", "a callable symbol", let found) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(found.count < 400 && found.contains("(…)"), "\(found.count) characters")
        }
    }

    /// Fuzzer finding (pickle harness, "Fatal access conflict"): a container receiving itself
    /// (SETITEM d[1] = d, APPEND l to l, BUILD o with o) read its own depth while that depth was
    /// being modified: a Swift exclusivity trap. Such a cycle is now refused with a typed error
    /// (longer cycles were already refused by the depth rule), so no reference cycle leaks.
    @Test func containersReceivingThemselvesAreRefused() throws {
        func refused(_ b: [UInt8], offset: Int, _ op: String) {
            #expect(throws: PickleError.badOperand(path: path, offset: offset, opcode: op,
                                                   expected: "a value other than the container itself",
                                                   found: "the container itself (a cycle)")) {
                try Unpickler.load(b, path: path)
            }
        }
        refused([0x80, 2, 0x7D, 0x71, 0, 0x4B, 1, 0x68, 0, 0x73, 0x2E], offset: 9, "SETITEM")  // } q0 K1 h0 s
        refused([0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E], offset: 7, "APPEND")            // ] q0 h0 a
        var p = PickleBuilder()
        p.global("m", "f"); p.op(")"); p.op("R"); p.raw([0x71, 0, 0x68, 0]); p.op("b"); p.stop()
        refused(p.b, offset: p.b.count - 2, "BUILD")                                           // m.f() q0 h0 b
        // a two-container cycle: l in (l,) then (l,) into l: l is embedded and may not grow
        #expect(throws: PickleError.nestingTooDeep(path: path, offset: 8, limit: 100)) {
            try Unpickler.load([0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x85, 0x61, 0x2E], path: path)  // ] q0 h0 TUPLE1 a
        }
        #expect("\(PickleError.badOperand(path: "m.pth", offset: 9, opcode: "SETITEM", expected: "a value other than the container itself", found: "the container itself (a cycle)"))"
            == "m.pth: pickle byte 9: SETITEM: expected a value other than the container itself, found the container itself (a cycle)")
    }

    @Test func pickleMemoLimit() throws {
        let l = limits { $0.pickleMemo = 3 }
        // BINPUT 0..3 of one int: the fourth distinct index is refused
        var b: [UInt8] = [0x80, 2, 0x4B, 1]
        for i: UInt8 in 0..<4 { b += [0x71, i] }
        b.append(0x2E)
        #expect(throws: PickleError.limitExceeded(path: path, offset: 10, what: "memo entries", limit: 3)) {
            try Unpickler.load(b, path: path, limits: l)
        }
        // overwriting stored indices is no growth
        var ok: [UInt8] = [0x80, 2, 0x4B, 1]
        for i: UInt8 in [0, 1, 2, 0, 1, 2] { ok += [0x71, i] }
        ok.append(0x2E)
        #expect(throws: Never.self) { try Unpickler.load(ok, path: path, limits: l) }
        #expect("\(PickleError.limitExceeded(path: path, offset: 10, what: "memo entries", limit: 3))"
            == "t.pth:archive/data.pkl: pickle byte 10: expected at most 3 memo entries, found more")
    }

    @Test func pickleStackLimit() {
        let l = limits { $0.pickleStack = 5 }
        let b: [UInt8] = [0x80, 2] + [UInt8](repeating: 0x4E, count: 6) + [0x2E]  // six NONEs
        #expect(throws: PickleError.limitExceeded(path: path, offset: 7, what: "stack items", limit: 5)) {
            try Unpickler.load(b, path: path, limits: l)
        }
        #expect(throws: Never.self) { try Unpickler.load([0x80, 2] + [UInt8](repeating: 0x4E, count: 5) + [0x2E], path: path, limits: l) }
    }

    @Test func zipEntryLimit() throws {
        let p = tempFile(makeZip([ZipSpec(name: "a", data: [1]), ZipSpec(name: "b", data: [2]), ZipSpec(name: "c", data: [3])]))
        #expect(throws: ZipError.tooManyEntries(path: p, count: 3, limit: 2)) { try ZipArchive(path: p, limits: limits { $0.zipEntries = 2 }) }
        #expect(try ZipArchive(path: p, limits: limits { $0.zipEntries = 3 }).entries.count == 3)
        #expect("\(ZipError.tooManyEntries(path: "m.pth", count: 3, limit: 2))" == "m.pth: zip archive: expected at most 2 entries, found 3")
    }

    @Test func pthPickleSizeAndTensorLimits() throws {
        let pkl = oneTensorPickle()
        let p = tempFile(torchZip(pickle: pkl, storages: [("0", f32bytes([1, 2, 3, 4, 5, 6]))]), name: "t.pth")
        #expect(throws: TorchCheckpointError.pickleTooLarge(path: p, entry: "archive/data.pkl", size: pkl.count, limit: 10)) {
            try TorchCheckpoint(path: p, limits: limits { $0.pickleBytes = 10 })
        }
        #expect(throws: TorchCheckpointError.tooManyTensors(path: p, count: 1, limit: 0)) {
            try TorchCheckpoint(path: p, limits: limits { $0.tensors = 0 })
        }
        #expect(try TorchCheckpoint(path: p, limits: limits { $0.tensors = 1; $0.pickleBytes = pkl.count }).tensors.count == 1)
        #expect("\(TorchCheckpointError.pickleTooLarge(path: "m.pth", entry: "archive/data.pkl", size: 11, limit: 10))"
            == "m.pth: archive/data.pkl: expected a pickle of at most 10 bytes, found 11")
    }

    @Test func safetensorsHeaderAndTensorLimits() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"__metadata__":{"k":"v"}}"#
        let p = tempFile(safetensors(header, data: f32bytes([1, 2])), name: "m.safetensors")
        #expect(throws: SafetensorsError.tooManyTensors(path: p, count: 2, limit: 1)) {
            try SafetensorsFile(path: p, limits: limits { $0.tensors = 1 })
        }
        #expect(try SafetensorsFile(path: p, limits: limits { $0.tensors = 2 }).tensors.count == 2)
        let n = header.utf8.count
        #expect(throws: SafetensorsError.headerTooLarge(path: p, length: UInt64(n), limit: n - 1)) {
            try SafetensorsFile(path: p, limits: limits { $0.headerBytes = n - 1 })
        }
        #expect("\(SafetensorsError.tooManyTensors(path: "m", count: 2, limit: 1))" == "m: expected at most 1 tensors, found 2")
    }

    @Test func shardIndexLimits() throws {
        let index = Fx.path("svae_sharded/model.safetensors.index.json")
        let size = try FileManager.default.attributesOfItem(atPath: index)[.size] as! Int
        #expect(throws: SafetensorsError.indexTooLarge(path: index, size: size, limit: size - 1)) {
            try SafetensorsIndex(path: index, limits: limits { $0.headerBytes = size - 1 })
        }
        let all = try SafetensorsIndex(path: index)
        #expect(throws: SafetensorsError.tooManyTensors(path: index, count: all.tensors.count, limit: all.tensors.count - 1)) {
            try SafetensorsIndex(path: index, limits: limits { $0.tensors = all.tensors.count - 1 })
        }
        #expect("\(SafetensorsError.indexTooLarge(path: "i.json", size: 9, limit: 8))" == "i.json: shard index: expected at most 8 bytes, found 9")
    }

    /// JSON (headers, indexes, configs, tokenizer files): 64 levels parse, the 65th is refused.
    @Test func jsonNestingLimit() throws {
        let ok = Array(String(repeating: "[", count: 64).utf8) + Array(String(repeating: "]", count: 64).utf8)
        #expect(throws: Never.self) { try StrictJSON.parse(ok) }
        let deep = Array(String(repeating: "[", count: 65).utf8) + Array(String(repeating: "]", count: 65).utf8)
        #expect(throws: JSONFailure.tooDeep(limit: 64)) { try StrictJSON.parse(deep) }
        #expect(StrictJSON.maxDepth == 64)
    }

    /// YAML `!include`: a chain of 16 nested includes loads, the 17th is refused by name.
    @Test func yamlIncludeDepthLimit() throws {
        func chain(_ n: Int) throws -> String {
            let dir = tempDir()
            for i in 0..<n {
                _ = FileManager.default.createFile(atPath: dir + "/f\(i).yaml", contents: Data("__base__: !include f\(i + 1).yaml\nk\(i): \(i)\n".utf8))
            }
            _ = FileManager.default.createFile(atPath: dir + "/f\(n).yaml", contents: Data("k\(n): \(n)\n".utf8))
            return dir
        }
        #expect(ReferenceConfig.maxIncludeDepth == 16)
        let ok = try chain(16)
        let merged = try ReferenceConfig.loadMerged(path: ok + "/f0.yaml", includeRoot: ok)
        #expect(merged["k16"] != nil && merged["k0"] != nil)
        let deep = try chain(17)
        do {
            _ = try ReferenceConfig.loadMerged(path: deep + "/f0.yaml", includeRoot: deep)
            Issue.record("17 nested includes loaded")
        } catch let e as ReferenceConfigError {
            #expect(e.description.hasSuffix("!include f17.yaml: more than 16 nested includes"), "\(e)")
        }
    }

    /// Fuzzer finding (yaml harness, "Illegal instruction"): Yams computes YAML 1.1 base-60
    /// integers with unchecked arithmetic, so `!!int 77777777777:777:…` trapped. Base-60 values
    /// are computed with checks: in range they are numbers as before, beyond 64 bits the text
    /// stays a string (and a key that needs a number then says so).
    @Test func base60IntegersDoNotTrap() throws {
        let dir = tempDir()
        let p = dir + "/a.yaml"
        _ = FileManager.default.createFile(atPath: p, contents: Data("""
            a: !!int 77777777777:777:777777:777777755555547777:77777775555554
            b: 1:30
            c: -2:00
            d: !!int 1_0:0_5
            """.utf8))
        let m = try ReferenceConfig.loadMerged(path: p, includeRoot: dir)
        func scalar(_ k: String) -> JSONValue? { if case .scalar(let v, _)? = m[k] { v } else { nil } }
        #expect(scalar("a") == .string("77777777777:777:777777:777777755555547777:77777775555554"))
        #expect(scalar("b") == .number("90"))
        #expect(scalar("c") == .number("-120"))
        #expect(scalar("d") == .number("605"))
    }
}
