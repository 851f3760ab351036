import Foundation
import Testing

/// `svae-convert --check` as a user runs it (the built executable beside this test binary): the
/// model's own samples.txt, the verdict and its exit status, and a bad --check-input refused
/// before anything is written.
/// The built `svae-convert` beside this test binary (nil when it is not there).
private let converterPath: String? = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [dir, dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()]
    return candidates.map { $0.appendingPathComponent("svae-convert").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

@Suite(.enabled(if: converterPath != nil, "svae-convert is not built beside the tests"))
struct ConvertCheckTests {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/svae-tiny").path

    func convert(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: converterPath!)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
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
