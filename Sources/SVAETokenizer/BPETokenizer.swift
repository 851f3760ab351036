import Synchronization

/// GPT-2 byte-level BPE that reproduces Hugging Face `tokenizers` ids exactly.
///
/// The pipeline is HF's, step by step:
/// 1. Added (special) tokens are split out of the text first and map to their own ids (HF's
///    default: `encode_special_tokens=False`; see `AddedToken` for the matching rules). So
///    `"a</s>b"` with `</s>` registered gives `a`, `</s>`, `b`.
/// 2. Every other segment is cut by the GPT-2 pattern (see `PreTokenizer.swift`), each piece's
///    UTF-8 bytes become byte tokens (`Ġ` for a space, …).
/// 3. Merges are applied lowest rank first, leftmost first among equal ranks (HF's `merge_all`),
///    with a per-word cache.
/// 4. If `Options.bosID` is set, it is prepended (OPT prepends `</s>`, id 2).
///
/// Thread safety: a `BPETokenizer` is immutable apart from its word cache, which is behind a
/// mutex taken twice per `encode` call (a concurrent caller gets a private cache). Share one
/// instance between threads freely.
public final class BPETokenizer: Sendable {
    /// Settings that are not part of the vocabulary.
    public struct Options: Sendable, Equatable {
        /// Prepended to every encoded text when set. OPT: `2` (`</s>`). GPT-2: `nil`.
        public var bosID: Int32?
        /// HF ByteLevel `add_prefix_space`: prepend a space to every segment that does not
        /// start with one. False for GPT-2 and OPT.
        public var addPrefixSpace: Bool
        /// Token used for bytes that have no byte token (never needed by GPT-2-style vocabularies).
        /// HF drops such bytes when there is no unknown token; so does this tokenizer.
        public var unknownToken: String?
        /// Word-cache entries kept before the cache is cleared.
        public var cacheCapacity: Int

        /// Defaults: no BOS, no prefix space, no unknown token, 32768 cached words.
        public init(bosID: Int32? = nil, addPrefixSpace: Bool = false, unknownToken: String? = nil,
                    cacheCapacity: Int = 1 << 15) {
            self.bosID = bosID
            self.addPrefixSpace = addPrefixSpace
            self.unknownToken = unknownToken
            self.cacheCapacity = cacheCapacity
        }

        /// OPT's convention: `</s>` (id 2) is prepended to every text.
        public static let opt = Options(bosID: OPTTokens.bos)
    }

    /// Token strings indexed by id, spelled as in vocab.json (byte-level characters).
    public let tokens: [String]
    /// The options the tokenizer was built with.
    public let options: Options
    /// Number of ids (`tokens.count`).
    public var vocabularySize: Int { tokens.count }
    /// Ids that are special tokens (skipped by `decode(_:skipSpecialTokens:)`).
    public let specialTokenIDs: Set<Int32>
    /// Every added token (special or not) in construction order, specials given by name first.
    public let addedTokens: [AddedToken]
    /// The contents of the special added tokens.
    public var specialTokens: [String] { addedTokens.filter(\.special).map(\.content) }

    let tokenIDs: [String: Int32]
    /// Id of each single-byte token, -1 where missing.
    let byteTokenIDs: [Int32]
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    let merges: [UInt64: UInt64]
    /// Added-token passes: non-normalized tokens first, then normalized ones.
    let firstPass: AddedTokenMatcher
    let secondPass: AddedTokenMatcher
    let unknownID: Int32?
    /// Bytes of every id, flattened: id `i` is `decodedBytes[decodedOffsets[i]..<decodedOffsets[i+1]]`.
    let decodedBytes: [UInt8]
    let decodedOffsets: [Int]
    let cache: Mutex<WordCache?>

    /// Builds a tokenizer from what a `.svae` file stores.
    ///
    /// - Parameters:
    ///   - tokens: token strings in id order, spelled exactly as in vocab.json.
    ///   - merges: merge pairs in rank order, each naming two entries of `tokens`.
    ///   - specialTokens: strings of `tokens` that are split out of text before BPE and
    ///     skipped by `decode` by default (e.g. `["<s>", "<pad>", "</s>", "<unk>"]` for OPT);
    ///     shorthand for `AddedToken(s, special: true)` with HF's defaults.
    ///   - addedTokens: further added tokens with all of HF's options; contents must be in
    ///     `tokens`. Listing the same content twice with different options is an error.
    ///   - options: BOS and other settings.
    /// - Throws: `TokenizerError` for a duplicate token, a merge naming an unknown token or
    ///   yielding one, a repeated merge, an unknown special token or an out-of-range BOS id.
    public init(tokens: [String], merges: [(String, String)], specialTokens: [String] = [],
                addedTokens: [AddedToken] = [], options: Options = Options()) throws(TokenizerError) {
        guard tokens.count <= Int(Int32.max) else {
            throw TokenizerError.idOutOfRange(id: tokens.count - 1, vocabularySize: Int(Int32.max))
        }
        var ids = [String: Int32](minimumCapacity: tokens.count)
        for (i, t) in tokens.enumerated() {
            if let first = ids[t] { throw TokenizerError.duplicateToken(token: t, firstID: Int(first), secondID: i) }
            ids[t] = Int32(i)
        }
        var mergeTable = [UInt64: UInt64](minimumCapacity: merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let l = ids[left] else { throw TokenizerError.mergeTokenNotInVocabulary(rank: rank, token: left) }
            guard let r = ids[right] else { throw TokenizerError.mergeTokenNotInVocabulary(rank: rank, token: right) }
            guard let m = ids[left + right] else {
                throw TokenizerError.mergeResultNotInVocabulary(rank: rank, left: left, right: right)
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if let previous = mergeTable[key] {
                throw TokenizerError.duplicateMerge(rank: rank, firstRank: Int(previous >> 32), left: left, right: right)
            }
            mergeTable[key] = UInt64(rank) << 32 | UInt64(UInt32(m))
        }
        var added: [AddedToken] = []
        var entries: [AddedTokenMatcher.Entry] = []
        var special = Set<Int32>()
        for token in specialTokens.map({ AddedToken($0, special: true) }) + addedTokens {
            guard let id = ids[token.content] else { throw TokenizerError.unknownSpecialToken(token.content) }
            if let previous = added.first(where: { $0.content == token.content }) {
                if previous == token { continue }
                throw TokenizerError.conflictingAddedToken(token.content)
            }
            added.append(token)
            if token.special { special.insert(id) }
            if !token.content.isEmpty { entries.append(.init(bytes: Array(token.content.utf8), id: id, token: token)) }
        }
        var unknown: Int32?
        if let u = options.unknownToken {
            guard let id = ids[u] else { throw TokenizerError.unknownSpecialToken(u) }
            unknown = id
        }
        if let bos = options.bosID, !(0..<Int32(tokens.count)).contains(bos) {
            throw TokenizerError.idOutOfRange(id: Int(bos), vocabularySize: tokens.count)
        }
        var offsets = [0]
        offsets.reserveCapacity(tokens.count + 1)
        var bytes: [UInt8] = []
        for t in tokens {
            bytes.append(contentsOf: ByteLevel.bytes(ofToken: t))
            offsets.append(bytes.count)
        }
        self.tokens = tokens
        self.tokenIDs = ids
        self.byteTokenIDs = (0..<256).map { ids[ByteLevel.string(forByte: UInt8($0))] ?? -1 }
        self.merges = mergeTable
        self.addedTokens = added
        self.firstPass = AddedTokenMatcher(entries.filter { !$0.token.normalized })
        self.secondPass = AddedTokenMatcher(entries.filter { $0.token.normalized })
        self.specialTokenIDs = special
        self.unknownID = unknown
        self.options = options
        self.decodedBytes = bytes
        self.decodedOffsets = offsets
        self.cache = Mutex(WordCache(capacity: options.cacheCapacity))
    }

    /// The merges in rank order as token-string pairs: with `tokens`, `addedTokens` and
    /// `options` this is everything needed to rebuild the tokenizer with
    /// `init(tokens:merges:addedTokens:options:)` (what a converter stores).
    public var mergePairs: [(String, String)] {
        var pairs = [(rank: UInt64, left: Int, right: Int)]()
        pairs.reserveCapacity(merges.count)
        for (key, value) in merges {
            pairs.append((value >> 32, Int(key >> 32), Int(key & 0xFFFF_FFFF)))
        }
        pairs.sort { $0.rank < $1.rank }
        return pairs.map { (tokens[$0.left], tokens[$0.right]) }
    }

    /// The id of a token string (spelled as in vocab.json), if any.
    public func id(of token: String) -> Int32? { tokenIDs[token] }

    /// The token string of an id, or nil when out of range.
    public func token(of id: Int32) -> String? {
        (0..<Int32(tokens.count)).contains(id) ? tokens[Int(id)] : nil
    }

    // MARK: encoding

    /// Encodes text to ids; prepends `options.bosID` when set.
    public func encode(_ text: String) -> [Int32] { encode(text, addBOS: options.bosID != nil) }

    /// Encodes text to ids; prepends `options.bosID` only if `addBOS` (and a BOS id is set).
    public func encode(_ text: String, addBOS: Bool) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addBOS, let bos = options.bosID { out.append(bos) }
        var local = cache.withLock { slot -> WordCache? in
            let taken = slot
            slot = nil
            return taken
        } ?? WordCache(capacity: options.cacheCapacity)
        var scratch = BPEScratch()
        var text = text
        text.withUTF8 { buf in
            encodeSegments(buf, into: &out, cache: &local, scratch: &scratch)
        }
        cache.withLock { slot in
            if slot == nil { slot = local }
        }
        return out
    }

    /// Encodes raw bytes the way a Python caller of HF `tokenizers` must hand them over:
    /// decoded as UTF-8 with `errors="replace"`, each maximal invalid subsequence becoming one
    /// U+FFFD (Python's and Rust's rule; Swift's `String(decoding:as:)` follows the same one),
    /// then encoded as text. Valid UTF-8 gives exactly `encode(String)`.
    public func encode<Bytes: Collection<UInt8>>(bytes: Bytes) -> [Int32] {
        encode(String(decoding: bytes, as: UTF8.self))
    }

    /// Splits out added tokens (two passes), then pre-tokenizes and BPE-encodes the rest.
    private func encodeSegments(_ buf: UnsafeBufferPointer<UInt8>, into out: inout [Int32],
                                cache: inout WordCache, scratch: inout BPEScratch) {
        if firstPass.isEmpty && secondPass.isEmpty {
            encodeText(buf, 0..<buf.count, into: &out, cache: &cache, scratch: &scratch)
            return
        }
        firstPass.split(buf, 0..<buf.count, text: { segment in
            secondPass.split(buf, segment, text: { piece in
                encodeText(buf, piece, into: &out, cache: &cache, scratch: &scratch)
            }, token: { out.append($0) })
        }, token: { out.append($0) })
    }

    private func encodeText(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32],
                            cache: inout WordCache, scratch: inout BPEScratch) {
        if range.isEmpty { return }
        if options.addPrefixSpace && buf[range.lowerBound] != 0x20 {
            var prefixed: [UInt8] = [0x20]
            prefixed.append(contentsOf: UnsafeBufferPointer(rebasing: buf[range]))
            prefixed.withUnsafeBufferPointer { p in
                encodePieces(p, 0..<p.count, into: &out, cache: &cache, scratch: &scratch)
            }
        } else {
            encodePieces(buf, range, into: &out, cache: &cache, scratch: &scratch)
        }
    }

    private func encodePieces(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32],
                              cache: inout WordCache, scratch: inout BPEScratch) {
        PreTokenizer.scan(buf, range) { start, end in
            if end - start == 1 {
                let id = byteTokenIDs[Int(buf[start])]
                if id >= 0 { out.append(id) } else if let unknownID { out.append(unknownID) }
                return
            }
            let h = WordCache.hash(buf, start, end)
            if let r = cache.lookup(buf, start, end, hash: h) {
                out.append(contentsOf: cache.ids[r])
                return
            }
            let first = out.count
            bpe(buf, start, end, into: &out, scratch: &scratch)
            cache.insert(buf, start, end, hash: h, ids: out[first...])
        }
    }

    /// Applies the merges to one pre-token: a min-heap of (rank, position) over a linked list
    /// of symbols, stale entries skipped when popped (HF `Word::merge_all`).
    private func bpe(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32],
                     scratch: inout BPEScratch) {
        scratch.reset()
        for i in start..<end {
            let id = byteTokenIDs[Int(buf[i])]
            if id >= 0 { scratch.symbols.append(id) } else if let unknownID { scratch.symbols.append(unknownID) }
        }
        let n = scratch.symbols.count
        if n == 0 { return }
        for i in 0..<n {
            scratch.next.append(Int32(i + 1 < n ? i + 1 : -1))
            scratch.prev.append(Int32(i - 1))
        }
        for i in 0..<(n - 1) {
            if let m = merges[pairKey(scratch.symbols[i], scratch.symbols[i + 1])] {
                scratch.push((m & 0xFFFF_FFFF_0000_0000) | UInt64(i))
            }
        }
        while let top = scratch.pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            let right = Int(scratch.next[pos])
            guard scratch.symbols[pos] >= 0, right >= 0,
                  let m = merges[pairKey(scratch.symbols[pos], scratch.symbols[right])], m >> 32 == rank
            else { continue }
            scratch.symbols[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            scratch.symbols[right] = -1
            let after = Int(scratch.next[right])
            scratch.next[pos] = Int32(after)
            if after >= 0 { scratch.prev[after] = Int32(pos) }
            let before = Int(scratch.prev[pos])
            if before >= 0, let m2 = merges[pairKey(scratch.symbols[before], scratch.symbols[pos])] {
                scratch.push((m2 & 0xFFFF_FFFF_0000_0000) | UInt64(before))
            }
            if after >= 0, let m2 = merges[pairKey(scratch.symbols[pos], scratch.symbols[after])] {
                scratch.push((m2 & 0xFFFF_FFFF_0000_0000) | UInt64(pos))
            }
        }
        var i = 0
        while i >= 0 && i < n {
            out.append(scratch.symbols[i])
            i = Int(scratch.next[i])
        }
    }

    @inline(__always)
    private func pairKey(_ l: Int32, _ r: Int32) -> UInt64 { UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r)) }

    // MARK: decoding

    /// The bytes that `ids` stand for (HF ByteLevel decoder before its UTF-8 step).
    ///
    /// - Parameter skipSpecialTokens: leave out ids in `specialTokenIDs` (HF's default).
    /// - Throws: `TokenizerError.idOutOfRange` for an id outside `0..<vocabularySize` (HF
    ///   silently drops such ids; we report them).
    public func decodeBytes(_ ids: [Int32], skipSpecialTokens: Bool = true) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            guard id >= 0, Int(id) < tokens.count else {
                throw TokenizerError.idOutOfRange(id: Int(id), vocabularySize: tokens.count)
            }
            if skipSpecialTokens && specialTokenIDs.contains(id) { continue }
            out.append(contentsOf: decodedBytes[decodedOffsets[Int(id)]..<decodedOffsets[Int(id) + 1]])
        }
        return out
    }

    /// Decodes ids to text: the exact inverse of `encode` on valid ids (with the BOS and other
    /// special tokens skipped by default). Bytes that are not valid UTF-8 (a sequence cut in the
    /// middle of a character) become U+FFFD, one per maximal invalid subsequence, like HF's
    /// ByteLevel decoder (`String::from_utf8_lossy`).
    ///
    /// Added tokens go through the same byte table as HF does it, quirk included: an added token
    /// spelled only in table characters (ASCII, most of Latin-1) stands for those BYTES, so
    /// `é!` decodes to `"\u{FFFD}!"`; any other content (e.g. `日本`) decodes as its own UTF-8.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) throws -> String {
        String(decoding: try decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }
}

/// OPT's special ids (`facebook/opt-*` tokenizer): `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3.
public enum OPTTokens {
    /// `</s>`: prepended to every text and also the end-of-sentence id.
    public static let bos: Int32 = 2
    /// `</s>`.
    public static let eos: Int32 = 2
    /// `<pad>`.
    public static let pad: Int32 = 1
    /// The four tokens at ids 0...3, in id order. The OPT-style goldens register all four as
    /// special. OPT's own tokenizer files declare which of them HF treats as special (its
    /// special_tokens_map names `</s>` as bos/eos/unk and `<pad>` as pad, so `<s>` and `<unk>`
    /// typed in text are probably BPE-encoded there; not verifiable offline): a converter
    /// should pass the special tokens the checkpoint's tokenizer config lists.
    public static let specialTokens = ["<s>", "<pad>", "</s>", "<unk>"]

    /// An OPT-STYLE table from GPT-2's: the four specials at 0...3, then every GPT-2 token at
    /// its GPT-2 id + 4. OPT's real table (opt-125m vocab.json) is a permutation of this kind,
    /// so ids differ from OPT's except for the specials; load OPT's own vocab.json for those.
    public static func optStyleTokens(fromGPT2 tokens: [String]) -> [String] {
        specialTokens + tokens
    }
}

/// Reusable buffers for `bpe`, so a word costs no allocation once they have grown.
struct BPEScratch {
    var symbols: [Int32] = []
    var next: [Int32] = []
    var prev: [Int32] = []
    var heap: [UInt64] = []

    mutating func reset() {
        symbols.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
    }

    mutating func push(_ v: UInt64) {
        heap.append(v)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent] <= heap[i] { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var i = 0
        let n = heap.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let c = (r < n && heap[r] < heap[l]) ? r : l
            if heap[i] <= heap[c] { break }
            heap.swapAt(i, c)
            i = c
        }
        return top
    }
}
