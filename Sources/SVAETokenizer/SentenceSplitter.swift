/// Splits a passage into sentences the way SentenceVAE's reference does
/// (`PassageCollate.cut_sentence_func`, BestAnHongjun/SentenceVAE,
/// `sentence_vae/data/data_collate.py`).
///
/// The text is scanned by Unicode scalar (the reference indexes a Python `str`, i.e. code
/// points, so `"\r\n"` is two characters and an emoji ZWJ sequence several). A cut happens
/// after any of `，。”！？；：,.!?;:"`, `\n`, `\r`, or after one of the two-character pairs
/// `……`, `，”`, `”，`, `。”`, `”。`, `!”`, `”！`, `？”`, `”？`, `,"`, `",`, `."`, `".`, `!"`,
/// `"!`, `?"`, `"?` (pairs are tested first and consumed whole). After a cut, following
/// spaces, `\n` and `\r` join the sentence just cut. At most `maxSentences` are returned.
///
/// Two documented choices:
/// - Text after the last cut (no closing punctuation) is kept as a final sentence by default;
///   the reference drops it. Set `mimicReference` to drop it too.
/// - The reference pads its list with empty strings up to `max_sentence_num` and returns a
///   mask; we return only the real sentences (the mask is `count` ones).
public struct SentenceSplitter: Sendable, Equatable {
    /// Cap on the number of sentences (`max_sentence_num`; 64 in the released configs). Text
    /// beyond the cap is dropped, as in the reference.
    public var maxSentences: Int
    /// Drop text after the last cut, like the reference.
    public var mimicReference: Bool

    /// Defaults: 64 sentences, trailing text kept.
    public init(maxSentences: Int = 64, mimicReference: Bool = false) {
        self.maxSentences = maxSentences
        self.mimicReference = mimicReference
    }

    private static let singles: Set<UInt32> = Set("，。”！？；：,.!?;:\"\n\r".unicodeScalars.map(\.value))
    private static let pairs: Set<UInt64> = {
        let list = ["……", "，”", "”，", "。”", "”。", "!”", "”！", "？”", "”？",
                    ",\"", "\",", ".\"", "\".", "!\"", "\"!", "?\"", "\"?"]
        return Set(list.map { s in
            let v = s.unicodeScalars.map(\.value)
            return UInt64(v[0]) << 32 | UInt64(v[1])
        })
    }()

    /// The sentences of `text`, in order; their concatenation is a prefix of `text` (all of it
    /// unless the cap was reached or `mimicReference` dropped a tail).
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let n = scalars.count
        var out: [String] = []
        var p = 0
        var last = 0
        func piece(_ r: Range<Int>) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[r])
            return String(view)
        }
        while p < n && out.count < maxSentences {
            if p + 1 < n && Self.pairs.contains(UInt64(scalars[p].value) << 32 | UInt64(scalars[p + 1].value)) {
                p += 2
            } else if Self.singles.contains(scalars[p].value) {
                p += 1
            } else {
                p += 1
                continue
            }
            while p < n, scalars[p] == " " || scalars[p] == "\n" || scalars[p] == "\r" { p += 1 }
            out.append(piece(last..<p))
            last = p
        }
        if !mimicReference && last < n && out.count < maxSentences {
            out.append(piece(last..<n))
        }
        return out
    }
}
