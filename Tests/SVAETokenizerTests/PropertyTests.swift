import Foundation
import Testing
import SVAETestSupport
@testable import SVAETokenizer

/// Random text over all planes (assigned or not), biased to ASCII, spaces and specials.
func randomText(_ rng: inout SplitMix64, maxLength: Int) -> String {
    let pieces = [" ", "  ", "\t", "\n", "\r\n", "'s", "'ll", "<|endoftext|>", "</s>", "\u{200D}", "\u{301}"]
    var s = ""
    for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<4: s.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
        case 4..<6: s += pieces[Int.random(in: 0..<pieces.count, using: &rng)]
        case 6..<8:
            if let u = Unicode.Scalar(UInt32.random(in: 0x80...0xFFFF, using: &rng)) { s.unicodeScalars.append(u) }
        default:
            if let u = Unicode.Scalar(UInt32.random(in: 0x10000...0x10FFFF, using: &rng)) { s.unicodeScalars.append(u) }
        }
    }
    return s
}

@Suite struct PropertyTests {
    @Test func roundTripAndCacheIndependenceOnRandomText() throws {
        let gpt2 = try Fixtures.gpt2
        let uncached = try BPETokenizer(tokens: gpt2.tokens, merges: Fixtures.gpt2Merges, specialTokens: ["<|endoftext|>"],
                                        options: .init(cacheCapacity: 1))
        var rng = SplitMix64(2408_00655)
        var failures: [String] = []
        for _ in 0..<400 {
            let text = randomText(&rng, maxLength: 60)
            let ids = gpt2.encode(text)
            if try gpt2.decode(ids, skipSpecialTokens: false) != text { failures.append("round trip \(text.debugDescription)") }
            if gpt2.encode(text) != ids { failures.append("second encode \(text.debugDescription)") }
            if uncached.encode(text) != ids { failures.append("cache \(text.debugDescription)") }
            if gpt2.encode(bytes: Array(text.utf8)) != ids { failures.append("bytes \(text.debugDescription)") }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first \(failures.prefix(3))")
    }

    @Test func preTokensCoverTheTextOnRandomText() {
        var rng = SplitMix64(7)
        for _ in 0..<400 {
            var text = randomText(&rng, maxLength: 80)
            var pieces: [Range<Int>] = []
            let n = text.utf8.count
            text.withUTF8 { buf in PreTokenizer.scan(buf, 0..<buf.count) { pieces.append($0..<$1) } }
            var expected = 0
            var ok = true
            for p in pieces {
                ok = ok && p.lowerBound == expected && !p.isEmpty
                expected = p.upperBound
            }
            #expect(ok && expected == n, "\(text.debugDescription)")
        }
    }

    @Test func splitterConcatenatesToTheTextOnRandomText() {
        var rng = SplitMix64(11)
        let keep = SentenceSplitter(maxSentences: 1000)
        for _ in 0..<300 {
            var text = randomText(&rng, maxLength: 40)
            text += [".", "。", "……", "?\"", ""][Int.random(in: 0..<5, using: &rng)]
            #expect(keep.split(text).joined() == text, "\(text.debugDescription)")
            #expect(keep.split(text).allSatisfy { !$0.isEmpty })
        }
    }
}
