/// Why a tokenizer could not be built or could not decode.
///
/// Every case carries what was expected and what was found, so a message can point at the
/// offending line, token or id. Encoding text never fails.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The same token string appears at two ids.
    case duplicateToken(token: String, firstID: Int, secondID: Int)
    /// Two token strings claim the same id (vocab.json / tokenizer.json).
    case duplicateID(id: Int, first: String, second: String)
    /// Token ids must be exactly `0..<count`; this id is missing below the largest id.
    case missingID(id: Int, largestID: Int)
    /// A merge names a token that is not in the vocabulary. `rank` counts merges from 0.
    case mergeTokenNotInVocabulary(rank: Int, token: String)
    /// The concatenation of a merge's two tokens is not in the vocabulary.
    case mergeResultNotInVocabulary(rank: Int, left: String, right: String)
    /// The same pair is listed twice in the merges.
    case duplicateMerge(rank: Int, firstRank: Int, left: String, right: String)
    /// A line of merges.txt (1-based) or an entry of `model.merges` is not two tokens.
    case malformedMerge(line: Int, expected: String, found: String)
    /// JSON input does not have the expected shape at `path` (e.g. `model.vocab["a"]`).
    case malformedJSON(path: String, expected: String, found: String)
    /// A special, added or unknown token that must be in the vocabulary is not.
    case unknownSpecialToken(String)
    /// An id passed to `decode` (or an option) is outside `0..<vocabularySize`.
    case idOutOfRange(id: Int, vocabularySize: Int)
    /// The tokenizer description uses a feature this implementation does not reproduce.
    case unsupported(feature: String, found: String)
    /// A file could not be read, or is not strict JSON (`reason` gives line and column).
    case unreadableFile(path: String, reason: String)
    /// `path` holds no tokenizer files (tokenizer.json, vocab.json + merges.txt, or a folder with them).
    case notFound(path: String)
    /// What is wrong with the tokenizer file `path`.
    indirect case inFile(path: String, TokenizerError)

    /// The same added token is listed twice with different options.
    case conflictingAddedToken(String)

    /// A sentence naming what was expected and what was found.
    public var description: String {
        switch self {
        case let .duplicateToken(t, a, b): "token \(t.debugDescription) appears at ids \(a) and \(b); expected unique tokens"
        case let .duplicateID(id, a, b): "id \(id) is claimed by \(a.debugDescription) and \(b.debugDescription); expected one token per id"
        case let .missingID(id, largest): "no token has id \(id); expected ids 0...\(largest) without holes"
        case let .mergeTokenNotInVocabulary(r, t): "merge \(r) names \(t.debugDescription), which is not in the vocabulary"
        case let .mergeResultNotInVocabulary(r, a, b): "merge \(r) (\(a.debugDescription) \(b.debugDescription)) yields \((a + b).debugDescription), which is not in the vocabulary"
        case let .duplicateMerge(r, first, a, b): "merge \(r) (\(a.debugDescription) \(b.debugDescription)) repeats merge \(first)"
        case let .malformedMerge(line, expected, found): "merge \(line): expected \(expected), found \(found.debugDescription)"
        case let .malformedJSON(path, expected, found): "\(path): expected \(expected), found \(found)"
        case let .unknownSpecialToken(t): "special token \(t.debugDescription) is not in the vocabulary"
        case let .idOutOfRange(id, n): "id \(id) is out of range; expected 0..<\(n)"
        case let .unsupported(feature, found): "\(feature) = \(found) is not reproduced (ids would differ from Hugging Face); refusing"
        case let .unreadableFile(path, reason): "\(path): \(reason)"
        case let .notFound(path): "\(path): expected a tokenizer.json, a vocab.json with merges.txt beside it, or a folder holding them; found none"
        case let .inFile(path, problem): "\(path): \(problem)"
        case let .conflictingAddedToken(t): "added token \(t.debugDescription) is listed twice with different options; expected one set"
        }
    }
}
