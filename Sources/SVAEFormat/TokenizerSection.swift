/// The byte-level BPE tokenizer stored in a file (formats/svae.md §6).
public struct TokenizerData: Equatable, Sendable {
    /// Token strings exactly as in `vocab.json` (GPT-2 byte-to-unicode alphabet); id = index.
    public var tokens: [String]
    /// Merges in rank order, as pairs of token ids.
    public var merges: [Merge]
    /// Added / special tokens matched in text before BPE.
    public var specials: [Special]
    /// HF ByteLevel `add_prefix_space`: a space is put before text that does not start with one.
    public var addPrefixSpace: Bool

    public struct Merge: Equatable, Sendable {
        public var left: UInt32
        public var right: UInt32
        public init(_ left: UInt32, _ right: UInt32) { self.left = left; self.right = right }
    }

    /// An added token (HF `AddedToken`): matched in the text before BPE, with HF's options.
    public struct Special: Equatable, Sendable {
        public var id: UInt32
        public var text: String
        /// Bits of `Options`. Files without options (flags bit 1 clear) read as `.special`.
        public var options: UInt32

        /// Option bits, as stored (formats/svae.md §6).
        public enum Options {
            /// Skipped by decode (HF `special`).
            public static let special: UInt32 = 1 << 0
            /// Matched in the second pass, after non-normalized tokens (HF `normalized`).
            public static let normalized: UInt32 = 1 << 1
            /// Absorbs the whitespace before it (HF `lstrip`).
            public static let lstrip: UInt32 = 1 << 2
            /// Absorbs the whitespace after it (HF `rstrip`).
            public static let rstrip: UInt32 = 1 << 3
            /// Matches only with no word character on either side (HF `single_word`).
            public static let singleWord: UInt32 = 1 << 4
            static let all: UInt32 = 0x1F
        }

        public init(id: UInt32, text: String, options: UInt32 = Options.special) {
            self.id = id
            self.text = text
            self.options = options
        }
    }

    public init(tokens: [String], merges: [Merge], specials: [Special], addPrefixSpace: Bool = false) {
        self.tokens = tokens
        self.merges = merges
        self.specials = specials
        self.addPrefixSpace = addPrefixSpace
    }

    static let kindByteLevelBPE: UInt32 = 1
    static let maxTokenBytes = 1024
    /// Section flags: bit 0 `add_prefix_space`; bit 1 every special carries a u32 of options.
    static let flagPrefixSpace: UInt32 = 1 << 0
    static let flagTokenOptions: UInt32 = 1 << 1

    func encoded() throws(FormatProblem) -> [UInt8] {
        try validate()
        var s = ByteSink()
        s.u32(Self.kindByteLevelBPE)
        s.u32((addPrefixSpace ? Self.flagPrefixSpace : 0) | Self.flagTokenOptions)
        s.u64(UInt64(tokens.count))
        for t in tokens {
            let b = Array(t.utf8)
            s.u32(UInt32(b.count))
            s.raw(b)
        }
        s.u64(UInt64(merges.count))
        for m in merges { s.u32(m.left); s.u32(m.right) }
        s.u64(UInt64(specials.count))
        for sp in specials {
            let b = Array(sp.text.utf8)
            s.u32(sp.id)
            s.u32(sp.options)
            s.u32(UInt32(b.count))
            s.raw(b)
        }
        return s.bytes
    }

    /// Checks the rules of §6: unique non-empty tokens, ids in range, merges that produce tokens.
    func validate() throws(FormatProblem) {
        var index = [[UInt8]: Int]()
        index.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let b = Array(t.utf8)
            guard !b.isEmpty, b.count <= Self.maxTokenBytes else {
                throw .badTokenizer(what: "token \(i)", expected: "1–\(Self.maxTokenBytes) bytes", found: "\(b.count) bytes")
            }
            if let j = index[b] {
                throw .badTokenizer(what: "token \(i)", expected: "a unique string", found: "a duplicate of token \(j) \(quoted(t))")
            }
            index[b] = i
        }
        let n = UInt32(clamping: tokens.count)
        for (r, m) in merges.enumerated() {
            guard m.left < n, m.right < n else {
                throw .badTokenizer(what: "merge \(r)", expected: "ids < \(n)", found: "(\(m.left), \(m.right))")
            }
            let joined = Array(tokens[Int(m.left)].utf8) + Array(tokens[Int(m.right)].utf8)
            guard index[joined] != nil else {
                throw .badTokenizer(what: "merge \(r)", expected: "its two tokens to join into a token",
                                    found: quoted(String(decoding: joined, as: UTF8.self)) + " not in the vocabulary")
            }
        }
        for sp in specials {
            guard sp.id < n else {
                throw .badTokenizer(what: "special token \(quoted(sp.text))", expected: "id < \(n)", found: "\(sp.id)")
            }
            guard !sp.text.isEmpty, sp.text.utf8.count <= Self.maxTokenBytes else {
                throw .badTokenizer(what: "special token \(sp.id)", expected: "1–\(Self.maxTokenBytes) bytes", found: "\(sp.text.utf8.count) bytes")
            }
            guard sp.options & ~Special.Options.all == 0 else {
                throw .badTokenizer(what: "options of special token \(sp.id)", expected: "bits 0–4", found: "\(sp.options)")
            }
        }
    }

    static func decode(_ body: UnsafeRawBufferPointer) throws(FormatProblem) -> TokenizerData {
        var c = ByteCursor(body, what: "tokenizer section")
        let kind = try c.u32("kind")
        guard kind == kindByteLevelBPE else { throw .badTokenizer(what: "kind", expected: "1 (byte-level BPE)", found: "\(kind)") }
        let flags = try c.u32("flags")
        guard flags & ~(flagPrefixSpace | flagTokenOptions) == 0 else {
            throw .badTokenizer(what: "flags", expected: "bits 0 and 1 only", found: "\(flags)")
        }
        let hasOptions = flags & flagTokenOptions != 0
        let nTokens = try c.count("token count", minElementBytes: 5, limit: UInt64(UInt32.max))
        var tokens: [String] = []
        tokens.reserveCapacity(nTokens)
        for i in 0..<nTokens {
            let len = Int(try c.u32("length of token \(i)"))
            tokens.append(try c.string(len, "token \(i)"))
        }
        let nMerges = try c.count("merge count", minElementBytes: 8)
        var merges: [Merge] = []
        merges.reserveCapacity(nMerges)
        for i in 0..<nMerges {
            let l = try c.u32("merge \(i)"), r = try c.u32("merge \(i)")
            merges.append(Merge(l, r))
        }
        let nSpecials = try c.count("special token count", minElementBytes: hasOptions ? 13 : 9)
        var specials: [Special] = []
        specials.reserveCapacity(nSpecials)
        for i in 0..<nSpecials {
            let id = try c.u32("id of special token \(i)")
            let options = hasOptions ? try c.u32("options of special token \(i)") : Special.Options.special
            let len = Int(try c.u32("length of special token \(i)"))
            specials.append(Special(id: id, text: try c.string(len, "special token \(i)"), options: options))
        }
        if !c.atEnd { throw .trailingBytes(what: "tokenizer section", count: UInt64(c.remaining)) }
        let t = TokenizerData(tokens: tokens, merges: merges, specials: specials, addPrefixSpace: flags & flagPrefixSpace != 0)
        try t.validate()
        return t
    }
}
