import Foundation
import Testing

import SVAETestSupport

/// `svae-convert --check` as a user runs it (the built executable beside this test binary): the
/// model's own samples.txt, the verdict and its exit status, and a bad --check-input refused
/// before anything is written.
@Suite(.enabled(if: BuiltTools.path("svae-convert") != nil, "svae-convert is not built beside the tests"))
struct ConvertCheckTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/svae-tiny").path

    func convert(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try BuiltTools.run(BuiltTools.path("svae-convert")!, args)
        return (r.status, r.stdout, r.stderr)
    }

    @Test func verdictOnTheModelsOwnSamples() throws {
        let dir = NSTemporaryDirectory() + "svae-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let q8 = try convert([Self.tiny, "-o", dir + "/q8.svae", "--quant", "q8_0", "--check", "--quiet"])
        #expect(q8.status == 0, "\(q8.err)")
        #expect(q8.out.contains("from \(Self.tiny)/samples.txt") && q8.out.contains("KLD mean") && q8.out.hasSuffix("check: PASS\n"), "\(q8.out)")
        // q4_0 of a 128-wide model misses the PPL-ratio threshold: FAIL, exit 3, the file kept.
        let q4 = try convert([Self.tiny, "-o", dir + "/q4.svae", "--quant", "q4_0", "--check", "--quiet"])
        #expect(q4.status == 3 && q4.out.contains("check: FAIL"), "\(q4.out) \(q4.err)")
        #expect(FileManager.default.fileExists(atPath: dir + "/q4.svae"))
        // No temporary reference is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["q4.svae", "q8.svae"])
    }

    @Test func badCheckInputWritesNothing() throws {
        let dir = NSTemporaryDirectory() + "svae-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let missing = try convert([Self.tiny, "-o", dir + "/m.svae", "--check", "--check-input", dir + "/missing.txt"])
        #expect(missing.status == 1 && missing.err.contains("missing.txt: cannot read the --check input"), "\(missing.err)")
        try Data([0x6F, 0x6B, 0x0A, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/bad.txt"))
        let bad = try convert([Self.tiny, "-o", dir + "/m.svae", "--check", "--check-input", dir + "/bad.txt"])
        #expect(bad.status == 1 && bad.err.contains("bad.txt:2: expected UTF-8 text"), "\(bad.err)")
        try Data("\n  \n".utf8).write(to: URL(fileURLWithPath: dir + "/empty.txt"))
        let empty = try convert([Self.tiny, "-o", dir + "/m.svae", "--check", "--check-input", dir + "/empty.txt"])
        #expect(empty.status == 1 && empty.err.contains("found none"), "\(empty.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.svae"))
    }
}
