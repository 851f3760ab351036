// The GPT-2 pre-tokenization pattern, as a hand-written scanner over UTF-8 bytes:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// HF tokenizers runs it with Oniguruma. Its classes, checked against HF 0.23.3:
//   \p{L}  general categories Lu Ll Lt Lm Lo
//   \p{N}  Nd Nl No
//   \s     U+0009...U+000D, U+0085, and Zs Zl Zp (U+001C...U+001F, U+180E, U+200B, U+FEFF
//          are NOT whitespace)
// Everything else (marks, punctuation, symbols, controls, emoji, ZWJ) is "other".
// Oniguruma in HF tokenizers 0.23.3 carries Unicode 16.0 tables while Swift 6.3 ships 17.0:
// scalars assigned after `PreTokenizer.unicodeVersion` are unassigned (so "other") for HF,
// and we treat them the same. The test `unicodeClassesMatchHF` checks every code point
// against HF (Fixtures/unicode_classes.txt).
// The contractions are case-sensitive ASCII. The optional leading character is U+0020 only.

/// What the pattern distinguishes about a scalar.
enum ScalarClass: UInt8 {
    case letter = 0, number = 1, space = 2, other = 3
}

enum PreTokenizer {
    /// Classes of every BMP scalar, computed once from the Unicode tables Swift ships.
    static let bmpClasses: [UInt8] = {
        var table = [UInt8](repeating: ScalarClass.other.rawValue, count: 0x10000)
        for v in 0..<0x10000 { table[v] = classifySlow(UInt32(v)).rawValue }
        return table
    }()

    /// The Unicode version of HF's regex engine tables (Oniguruma in tokenizers 0.23.3).
    static let unicodeVersion = (major: 16, minor: 0)

    static func classifySlow(_ v: UInt32) -> ScalarClass {
        if (0x09...0x0D).contains(v) || v == 0x85 { return .space }
        guard let scalar = Unicode.Scalar(v) else { return .other }  // surrogate code points
        guard let age = scalar.properties.age,
              (age.major, age.minor) <= (unicodeVersion.major, unicodeVersion.minor)
        else { return .other }  // unassigned for HF
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return .space
        default:
            return .other
        }
    }

    @inline(__always)
    static func classify(_ v: UInt32, _ bmp: UnsafeBufferPointer<UInt8>) -> ScalarClass {
        if v < 0x10000 { return ScalarClass(rawValue: bmp[Int(v)]) ?? .other }
        return classifySlow(v)
    }

    /// Decodes the scalar starting at `i` of VALID UTF-8 (callers only pass bytes of a Swift
    /// String, which is always valid). Returns the scalar value and its length in bytes.
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
    }

    /// Calls `body(start, end)` for every pre-token of `p[range]`, in order; the pieces cover
    /// the range exactly.
    @inline(__always)
    static func scan(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Int, Int) -> Void) {
        bmpClasses.withUnsafeBufferPointer { bmp in
            let end = range.upperBound
            var i = range.lowerBound
            while i < end {
                let b = p[i]
                // 's 't 're 've 'm 'll 'd
                if b == 0x27, i + 1 < end {
                    let c1 = p[i + 1]
                    if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 {  // s t m d
                        body(i, i + 2); i += 2; continue
                    }
                    if i + 2 < end {
                        let c2 = p[i + 2]
                        if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) {
                            body(i, i + 3); i += 3; continue
                        }
                    }
                }
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
                let start = (b == 0x20 && i + 1 < end) ? i + 1 : i
                let (v, len) = decode(p, start)
                let cls = classify(v, bmp)
                if cls != .space {
                    var j = start + len
                    while j < end {
                        let (w, l) = decode(p, j)
                        if classify(w, bmp) != cls { break }
                        j += l
                    }
                    body(i, j); i = j; continue
                }
                // `\s+(?!\S)` then `\s+`: a whitespace run that reaches the end is one piece;
                // one followed by a non-space gives back its last scalar (which then starts the
                // next piece), unless the run is a single scalar.
                var j = i
                var lastStart = i
                var count = 0
                while j < end {
                    let (w, l) = decode(p, j)
                    if classify(w, bmp) != .space { break }
                    lastStart = j
                    j += l
                    count += 1
                }
                if j < end && count > 1 {
                    body(i, lastStart); i = lastStart
                } else {
                    body(i, j); i = j
                }
            }
        }
    }
}
