// Test support: fixture paths, temporary files, and byte builders for crafted bad inputs
// (safetensors headers, ZIP archives, pickles, torch checkpoints).

import Foundation
import Testing
@testable import SVAEImport

enum Fx {
    /// Folder of the committed fixtures (tools/fixtures/make_import_fixtures.py).
    static let dir: String = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    static func path(_ name: String) -> String { dir + "/" + name }
}

/// A fresh temporary folder per call.
func tempDir() -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("svae-import-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

/// Writes `bytes` to a new temporary file and returns its path.
func tempFile(_ bytes: [UInt8], name: String = "f.bin") -> String {
    let p = tempDir() + "/" + name
    _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
    return p
}

func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

/// safetensors bytes from a raw header text and a data section.
func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return le64(UInt64(h.count)) + h + data
}

/// f32 little-endian bytes.
func f32bytes(_ xs: [Float]) -> [UInt8] { xs.flatMap { le32($0.bitPattern) } }

// MARK: ZIP builder

struct ZipSpec {
    var name: String
    var data: [UInt8]
    var method: UInt16 = 0
    var localName: String? = nil       // local header name (mismatch when different)
    var localOffsetOverride: UInt32? = nil
}

/// A minimal STORED zip (optionally ZIP64 directory fields) for crafted archives.
func makeZip(_ specs: [ZipSpec], zip64: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for s in specs {
        let offset = UInt32(out.count)
        let lname = Array((s.localName ?? s.name).utf8)
        out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(s.method) + le16(0) + le16(0) + le32(0)
        out += le32(UInt32(s.data.count)) + le32(UInt32(s.data.count)) + le16(UInt16(lname.count)) + le16(0)
        out += lname + s.data
        let name = Array(s.name.utf8)
        var extra: [UInt8] = []
        var size32 = UInt32(s.data.count), off32 = s.localOffsetOverride ?? offset
        if zip64 {
            extra = le16(1) + le16(24) + le64(UInt64(s.data.count)) + le64(UInt64(s.data.count)) + le64(UInt64(off32))
            size32 = 0xFFFF_FFFF
            off32 = 0xFFFF_FFFF
        }
        central += le32(0x0201_4b50) + le16(45) + le16(20) + le16(0) + le16(s.method) + le16(0) + le16(0) + le32(0)
        central += le32(size32) + le32(size32) + le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0)
        central += le16(0) + le16(0) + le32(0) + le32(off32) + name + extra
    }
    let cdOffset = out.count
    out += central
    if zip64 {
        let recOffset = out.count
        out += le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
        out += le64(UInt64(specs.count)) + le64(UInt64(specs.count)) + le64(UInt64(central.count)) + le64(UInt64(cdOffset))
        out += le32(0x0706_4b50) + le32(0) + le64(UInt64(recOffset)) + le32(1)
        out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF)
        out += le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(0)
    } else {
        out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(specs.count)) + le16(UInt16(specs.count))
        out += le32(UInt32(central.count)) + le32(UInt32(cdOffset)) + le16(0)
    }
    return out
}

// MARK: pickle builder

struct PickleBuilder {
    var b: [UInt8] = [0x80, 2]
    mutating func op(_ c: Character) { b.append(c.asciiValue!) }
    mutating func raw(_ x: [UInt8]) { b += x }
    mutating func global(_ m: String, _ n: String) { op("c"); b += Array(m.utf8) + [0x0A] + Array(n.utf8) + [0x0A] }
    mutating func str(_ s: String) { op("X"); b += le32(UInt32(s.utf8.count)) + Array(s.utf8) }
    mutating func int(_ i: Int) {
        if i >= 0 && i < 256 { op("K"); b.append(UInt8(i)) } else { op("J"); b += le32(UInt32(bitPattern: Int32(i))) }
    }
    mutating func ints(_ xs: [Int]) { op("("); xs.forEach { int($0) }; op("t") }
    mutating func stop() { op(".") }

    /// `_rebuild_tensor_v2(pid, offset, size, stride, False, OrderedDict())`.
    mutating func tensor(pid: (inout PickleBuilder) -> Void, offset: Int, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        op("(")
        pid(&self)
        op("Q")
        int(offset); ints(size); ints(stride)
        b.append(0x89)
        global("collections", "OrderedDict"); op(")"); op("R")
        op("t"); op("R")
    }

    static func storagePID(_ type: String = "FloatStorage", key: String = "0", numel: Int) -> (inout PickleBuilder) -> Void {
        { p in p.op("("); p.str("storage"); p.global("torch", type); p.str(key); p.str("cpu"); p.int(numel); p.op("t") }
    }
}

/// A torch-style checkpoint `{name: tensor}` with one storage record.
func torchZip(pickle: [UInt8], storages: [(String, [UInt8])], byteorder: String? = "little", extra: [ZipSpec] = []) -> [UInt8] {
    var specs = [ZipSpec(name: "archive/data.pkl", data: pickle)]
    if let bo = byteorder { specs.append(ZipSpec(name: "archive/byteorder", data: Array(bo.utf8))) }
    for (k, d) in storages { specs.append(ZipSpec(name: "archive/data/" + k, data: d)) }
    return makeZip(specs + extra)
}

/// A one-tensor state dict pickle `{"w": tensor}`.
func oneTensorPickle(pid: (inout PickleBuilder) -> Void = PickleBuilder.storagePID(numel: 6),
                     offset: Int = 0, size: [Int] = [2, 3], stride: [Int] = [3, 1]) -> [UInt8] {
    var p = PickleBuilder()
    p.op("}"); p.str("w")
    p.tensor(pid: pid, offset: offset, size: size, stride: stride)
    p.op("s"); p.stop()
    return p.b
}

/// Reads all f32 values of a source tensor.
func values(_ t: SourceTensor) throws -> [Float] {
    var out = [Float](repeating: .nan, count: t.elementCount)
    try out.withUnsafeMutableBufferPointer { try t.readF32(into: $0) }
    return out
}
