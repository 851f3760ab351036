// Added (and special) tokens: split out of the text before pre-tokenization, the way HF's
// `AddedVocabulary` does it (tokenizers/src/tokenizer/added_vocabulary.rs):
// - two passes: tokens with `normalized == false` are matched on the whole text first, then
//   tokens with `normalized == true` on each remaining segment (with no normalizer that is
//   the only effect of the flag);
// - in a pass, matches are leftmost-longest and non-overlapping (Aho-Corasick LeftmostLongest);
// - `singleWord`: a match with a word character (`\w`: Alphabetic, marks, Nd, Pc,
//   Join_Control) right before or after it inside the segment is dropped, and the search goes
//   on after it;
// - `lstrip` / `rstrip`: the White_Space run before / after the match is absorbed by it
//   (never reaching back into the previous match).

/// A token that is matched in the text as a whole before BPE (HF's `AddedToken`).
public struct AddedToken: Sendable, Hashable {
    /// The token's text; also its vocabulary string.
    public var content: String
    /// Special tokens are skipped by `decode(_:skipSpecialTokens:)` by default.
    public var special: Bool
    /// HF matches non-normalized tokens in a first pass and normalized ones in a second.
    public var normalized: Bool
    /// Absorb the whitespace before the match.
    public var lstrip: Bool
    /// Absorb the whitespace after the match.
    public var rstrip: Bool
    /// Match only when not touching a word character on either side.
    public var singleWord: Bool

    /// HF's defaults: `normalized` is `!special`, no stripping, not single-word.
    public init(_ content: String, special: Bool, normalized: Bool? = nil, lstrip: Bool = false,
                rstrip: Bool = false, singleWord: Bool = false) {
        self.content = content
        self.special = special
        self.normalized = normalized ?? !special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
    }
}

/// One pass of added-token matching.
struct AddedTokenMatcher: Sendable {
    struct Entry: Sendable {
        var bytes: [UInt8]
        var id: Int32
        var token: AddedToken
    }

    /// Longest first, so the first hit at a position is the leftmost-longest match.
    let entries: [Entry]
    let firstBytes: [Bool]

    init(_ entries: [Entry]) {
        self.entries = entries.sorted { $0.bytes.count > $1.bytes.count }
        var first = [Bool](repeating: false, count: 256)
        for e in entries { if let b = e.bytes.first { first[Int(b)] = true } }
        firstBytes = first
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Splits `buf[range]`: calls `text` for the pieces between matches and `token` for each
    /// matched id, in order.
    func split(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
               text: (Range<Int>) -> Void, token: (Int32) -> Void) {
        let lower = range.lowerBound
        let end = range.upperBound
        var startOffset = lower
        var i = lower
        while i < end {
            guard firstBytes[Int(buf[i])], let entry = longestMatch(buf, at: i, end: end) else {
                i += 1
                continue
            }
            var start = i
            var stop = i + entry.bytes.count
            i = stop  // the search resumes after the match, kept or not
            if entry.token.singleWord {
                let before = start > lower && Self.isWord(Self.scalar(endingAt: start, buf, lower))
                let after = stop < end && Self.isWord(PreTokenizer.decode(buf, stop).0)
                if before || after { continue }
            }
            if entry.token.lstrip {
                var s = start
                while s > lower {
                    let v = Self.scalar(endingAt: s, buf, lower)
                    guard Self.isSpace(v) else { break }
                    s -= Self.length(of: v)
                }
                start = max(s, startOffset)
            }
            if entry.token.rstrip {
                while stop < end {
                    let (v, l) = PreTokenizer.decode(buf, stop)
                    guard Self.isSpace(v) else { break }
                    stop += l
                }
            }
            if startOffset < start { text(startOffset..<start) }
            token(entry.id)
            startOffset = max(startOffset, stop)
        }
        if startOffset < end { text(startOffset..<end) }
    }

    private func longestMatch(_ buf: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> Entry? {
        for e in entries where e.bytes.count <= end - i {
            var same = true
            for k in 0..<e.bytes.count where buf[i + k] != e.bytes[k] {
                same = false
                break
            }
            if same { return e }
        }
        return nil
    }

    /// The scalar that ends right before byte `i` (valid UTF-8, `i > lower`).
    private static func scalar(endingAt i: Int, _ buf: UnsafeBufferPointer<UInt8>, _ lower: Int) -> UInt32 {
        var s = i - 1
        while s > lower && buf[s] & 0xC0 == 0x80 { s -= 1 }
        return PreTokenizer.decode(buf, s).0
    }

    private static func length(of v: UInt32) -> Int { v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4 }

    /// Rust regex `\s`: White_Space.
    private static func isSpace(_ v: UInt32) -> Bool {
        Unicode.Scalar(v)?.properties.isWhitespace ?? false
    }

    /// Rust regex `\w`: Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control.
    private static func isWord(_ v: UInt32) -> Bool {
        guard let p = Unicode.Scalar(v)?.properties else { return false }
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
