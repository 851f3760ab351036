import Foundation
@testable import SVAEFormat

/// A fresh temporary directory for one test.
func tempDir() -> String {
    let p = NSTemporaryDirectory() + "svae-format-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

func f32Bytes(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

/// Writes a file with the given plan; tensor i is filled with bytes (i + j) & 0xFF unless given.
@discardableResult
func writeFile(_ path: String, metadata: Metadata, tokenizer: TokenizerData? = nil, tensors: [TensorPlan],
               data: [[UInt8]]? = nil, compress: Bool = true) throws -> [[UInt8]] {
    let w = try SVAEWriter(path: path, metadata: metadata, tokenizer: tokenizer, tensors: tensors, compress: compress)
    var written: [[UInt8]] = []
    for (i, t) in tensors.enumerated() {
        let n = t.type.byteCount(elements: t.shape.reduce(1, *), innermost: t.shape.last!)!
        let bytes = data?[i] ?? (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ i &* 7) }
        // Feed in uneven chunks to exercise streaming.
        var at = 0
        var step = 1
        while at < bytes.count {
            let end = min(bytes.count, at + step)
            try w.append(Array(bytes[at..<end]))
            at = end
            step = step * 3 + 1
        }
        written.append(bytes)
    }
    try w.finish()
    return written
}

/// A small valid file as bytes: two tensors, a few metadata keys, no model schema.
func smallFileBytes(compress: Bool = false, tokenizer: TokenizerData? = nil) throws -> [UInt8] {
    let dir = tempDir()
    let path = dir + "/small.svae"
    var m = Metadata()
    m["x.count"] = .u32(7)
    m["x.name"] = .string("small")
    try writeFile(path, metadata: m, tokenizer: tokenizer, tensors: [
        TensorPlan(name: "a", type: .f32, shape: [3]),
        TensorPlan(name: "b", type: .q8_0, shape: [2, 32]),
    ], compress: compress)
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

// Little-endian patching helpers for building bad files.
func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) } }
func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0..<8 { b[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) } }
func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8) }
func get64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
func get32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }

/// Section table entry i starts here.
func entry(_ i: Int) -> Int { 64 + 48 * i }

/// Index of the section of a kind in the table of `b`.
func sectionIndex(_ b: [UInt8], kind: UInt32) -> Int {
    let n = Int(get32(b, 24))
    return (0..<n).first { get32(b, entry($0)) == kind }!
}

/// Recomputes the checksum of section i from its stored bytes (after a deliberate edit).
func fixSectionChecksum(_ b: inout [UInt8], _ i: Int) {
    let off = Int(get64(b, entry(i) + 8)), size = Int(get64(b, entry(i) + 16))
    put64(&b, entry(i) + 32, XXH64.hash(Array(b[off..<off + size])))
}

/// Recomputes the header checksum (after a deliberate edit of the header or table).
func fixHeaderChecksum(_ b: inout [UInt8]) {
    let n = Int(get32(b, 24))
    var h = XXH64()
    h.update(Array(b[0..<56]))
    h.update(Array(b[64..<(64 + 48 * n)]))
    put64(&b, 56, h.digest())
}

/// The problem reported when parsing `bytes`, or nil if they parse.
func problem(_ bytes: [UInt8]) -> FormatProblem? {
    do {
        _ = try SVAEFile(bytes: bytes)
        return nil
    } catch let e as SVAEFormatError {
        return e.problem
    } catch {
        return .io(operation: "unexpected error type", message: "\(error)")
    }
}
