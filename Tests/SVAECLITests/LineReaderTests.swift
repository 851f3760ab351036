import Foundation
import Testing

import SVAECLISupport
@testable import svae

/// The streaming reader under the text commands: line ends, chunk boundaries, the line cap.
@Suite struct LineReaderTests {
    func lines(of bytes: [UInt8]) throws -> [[UInt8]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linereader-\(UUID().uuidString).txt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try LineReader(path: path)
        var out: [[UInt8]] = []
        while let l = try r.next() {
            out.append(l)
            #expect(r.lineNumber == out.count)
        }
        #expect(r.offset == bytes.count, "every byte consumed")
        return out
    }

    @Test func lineEndsAndTheLastLine() throws {
        #expect(try lines(of: Array("a\nb\r\n\nc".utf8)) == [Array("a".utf8), Array("b".utf8), [], Array("c".utf8)])
        #expect(try lines(of: Array("a\n".utf8)) == [Array("a".utf8)], "a final newline makes no empty line")
        #expect(try lines(of: []) == [])
        #expect(try lines(of: Array("x\r".utf8)) == [Array("x".utf8)])
    }

    @Test func linesAcrossChunkBoundaries() throws {
        // Lines of 1…300 000 bytes: several span the 64 KiB reads, one spans many.
        var bytes: [UInt8] = [], expected: [[UInt8]] = []
        for (i, n) in [1, 65_535, 65_536, 65_537, 300_000, 7].enumerated() {
            let line = [UInt8](repeating: UInt8(ascii: "a") + UInt8(i), count: n)
            expected.append(line)
            bytes += line + [0x0A]
        }
        #expect(try lines(of: bytes) == expected)
    }

    @Test func aLineBeyondTheCapIsAnErrorNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linereader-long-\(UUID().uuidString).txt").path
        try Data(Array("ok\n".utf8) + [UInt8](repeating: 0x61, count: LineReader.maxLineBytes + LineReader.chunk + 1)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try LineReader(path: path)
        #expect(try r.next() == Array("ok".utf8))
        #expect(throws: CLIError.self) { _ = try r.next() }
        do { _ = try r.next() } catch { #expect(error.description == "\(path):2: expected a line of at most 16 MiB, found a longer one") }
    }

    @Test func missingFileAndFolderAreOneLine() {
        do { _ = try LineReader(path: "/nonexistent/in.txt"); Issue.record("expected an error") } catch {
            #expect(error.description == "/nonexistent/in.txt: cannot open the input file: No such file or directory")
        }
        do { _ = try LineReader(path: "/tmp"); Issue.record("expected an error") } catch {
            #expect(error.description == "/tmp: expected a file, found a folder")
        }
    }
}
