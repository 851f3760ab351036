import Foundation
import Testing
@testable import SVAETokenizer

@Suite struct PreTokenizerTests {
    /// Every code point's class (letter / number / whitespace / other) agrees with what HF's
    /// regex engine does, as probed by make_goldens.py (Unicode 16.0 tables in HF 0.23.3).
    @Test func unicodeClassesMatchHF() throws {
        let text = try #require(String(data: try Fixtures.data("unicode_classes.txt"), encoding: .utf8))
        var runs: [(start: UInt32, cls: ScalarClass)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            let start = try #require(parts.count == 2 ? UInt32(parts[0], radix: 16) : nil, "bad line \(line)")
            let cls: ScalarClass = switch parts[1] { case "L": .letter; case "N": .number; case "S": .space; default: .other }
            runs.append((start, cls))
        }
        #expect(runs.count > 1000 && runs.first?.start == 0)
        runs.append((0x110000, .other))
        var mismatches: [String] = []
        PreTokenizer.bmpClasses.withUnsafeBufferPointer { bmp in
            for k in 0..<(runs.count - 1) {
                for v in runs[k].start..<runs[k + 1].start where !(0xD800...0xDFFF).contains(v) {
                    let got = PreTokenizer.classify(v, bmp)
                    if got != runs[k].cls { mismatches.append(String(format: "U+%04X: %d, HF %d", v, got.rawValue, runs[k].cls.rawValue)) }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) code points differ, first \(mismatches.prefix(10))")
    }

    func pieces(_ s: String) -> [String] {
        var out: [String] = []
        var s = s
        s.withUTF8 { buf in
            PreTokenizer.scan(buf, 0..<buf.count) { a, b in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: buf[a..<b]), as: UTF8.self))
            }
        }
        return out
    }

    @Test func gpt2PatternPieces() {
        #expect(pieces("Hello world") == ["Hello", " world"])
        #expect(pieces("a   b") == ["a", "  ", " b"])
        #expect(pieces("a \tb") == ["a", " ", "\t", "b"])
        #expect(pieces("x  ") == ["x", "  "])
        #expect(pieces("it's 'Sam' 'll've") == ["it", "'s", " '", "Sam", "'", " '", "ll", "'ve"])
        #expect(pieces("!'s") == ["!'", "s"])
        #expect(pieces("e\u{301}t") == ["e", "\u{301}", "t"])
        #expect(pieces("123abc 4½") == ["123", "abc", " 4½"])
        #expect(pieces("") == [])
    }
}
