// The tokenizer as a `.svae` file stores it (formats/svae.md §6): the tokenizer section
// (tokens, merges, added tokens with their HF options, prefix space) plus the metadata keys
// `tokens.add_bos`, `tokens.bos_id` and `tokens.unk_id`. Both directions live here, so the
// converter writes exactly what the runtime reads back.

import SVAEFormat
import SVAETokenizer

extension BPETokenizer {
    /// The tokenizer of a model file: its tokenizer section and `tokens.*` metadata.
    /// `tokens.bos_id` is prepended when `tokens.add_bos` is true (2 when the id is absent,
    /// OPT's, as files before `tokens.bos_id` was mandatory meant).
    public convenience init(section t: TokenizerData, metadata m: Metadata) throws(TokenizerError) {
        let merges = t.merges.map { (t.tokens[Int($0.left)], t.tokens[Int($0.right)]) }
        let added = t.specials.map { s in
            AddedToken(s.text, special: s.options & TokenizerData.Special.Options.special != 0,
                       normalized: s.options & TokenizerData.Special.Options.normalized != 0,
                       lstrip: s.options & TokenizerData.Special.Options.lstrip != 0,
                       rstrip: s.options & TokenizerData.Special.Options.rstrip != 0,
                       singleWord: s.options & TokenizerData.Special.Options.singleWord != 0)
        }
        var options = Options(addPrefixSpace: t.addPrefixSpace)
        if m.bool(.addBOS) == true { options.bosID = Int32(m.int(.bosID) ?? 2) }
        if let u = m.int(.unkID), u >= 0 {
            guard u < t.tokens.count else { throw .idOutOfRange(id: u, vocabularySize: t.tokens.count) }
            options.unknownToken = t.tokens[u]
        }
        try self.init(tokens: t.tokens, merges: merges, addedTokens: added, options: options)
    }

    /// The tokenizer section that stores this tokenizer (the `tokens.*` keys are `storedMetadata`).
    public var section: TokenizerData {
        var index = [String: UInt32](minimumCapacity: tokens.count)
        for (i, t) in tokens.enumerated() { index[t] = UInt32(i) }
        let merges = mergePairs.map { TokenizerData.Merge(index[$0.0]!, index[$0.1]!) }
        let specials = addedTokens.map { a in
            var o: UInt32 = 0
            if a.special { o |= TokenizerData.Special.Options.special }
            if a.normalized { o |= TokenizerData.Special.Options.normalized }
            if a.lstrip { o |= TokenizerData.Special.Options.lstrip }
            if a.rstrip { o |= TokenizerData.Special.Options.rstrip }
            if a.singleWord { o |= TokenizerData.Special.Options.singleWord }
            return TokenizerData.Special(id: index[a.content]!, text: a.content, options: o)
        }.sorted { $0.id < $1.id }
        return TokenizerData(tokens: tokens, merges: merges, specials: specials, addPrefixSpace: options.addPrefixSpace)
    }

    /// `tokens.add_bos` (always written), and `tokens.unk_id` when there is an unknown token.
    /// `tokens.bos_id` is the model's; a converter checks it equals `options.bosID`.
    public var storedMetadata: [(String, MetadataValue)] {
        var out: [(String, MetadataValue)] = [(MetadataKey.addBOS.rawValue, .bool(options.bosID != nil))]
        if let u = options.unknownToken, let id = id(of: u) { out.append((MetadataKey.unkID.rawValue, .i32(id))) }
        return out
    }
}
