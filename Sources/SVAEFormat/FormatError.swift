/// Everything that can be wrong with a `.svae` file. Every case says what was expected and
/// what was found; `SVAEFormatError` adds the file it came from.
public enum FormatProblem: Error, Equatable, Sendable {
    /// The file (or a structure inside it) ends before `needed` bytes: `available` remain.
    case truncated(what: String, needed: UInt64, available: UInt64)
    case badMagic(found: [UInt8])
    /// The header's `file_size` differs from the file's length: cut short, or bytes appended.
    case fileSize(declared: UInt64, actual: UInt64)
    /// The endian marker reads as the byte-swapped value: a big-endian writer or a swapped copy.
    case byteSwapped
    case unsupportedVersion(major: UInt16, minor: UInt16, supportedMajor: UInt16)
    /// A fixed field of the header or section table holds a value the spec does not allow.
    case badField(field: String, expected: String, found: String)
    case checksumMismatch(what: String, expected: UInt64, found: UInt64)
    case unknownSection(kind: UInt32)
    case duplicateSection(kind: UInt32)
    case missingSection(name: String)
    /// A section sits somewhere other than where §4.9 puts it.
    case misplacedSection(section: String, expectedOffset: UInt64, foundOffset: UInt64)
    case nonZeroPadding(where: String, offset: UInt64)
    case compression(section: String, message: String)
    /// A length or count that cannot fit in the bytes that remain (or exceeds a fixed limit).
    case lengthOutOfRange(what: String, found: UInt64, limit: UInt64)
    case invalidUTF8(what: String)
    case invalidName(what: String, found: String)
    case duplicateKey(key: String)
    case unsortedKeys(previous: String, found: String)
    case unknownValueType(key: String, found: UInt32)
    /// A registry key has the wrong value type, or a value out of its allowed set.
    case wrongMetadataType(key: String, expected: String, found: String)
    case trailingBytes(what: String, count: UInt64)
    case duplicateTensor(name: String)
    case unknownElementType(tensor: String, found: UInt32)
    case badRank(tensor: String, found: UInt32)
    case badDimension(tensor: String, index: Int, found: UInt64)
    case elementCountOverflow(tensor: String)
    case notBlockMultiple(tensor: String, innermost: UInt64, block: Int)
    case byteLengthMismatch(tensor: String, expected: UInt64, found: UInt64)
    case misplacedTensor(tensor: String, expectedOffset: UInt64, foundOffset: UInt64)
    case tensorChecksum(tensor: String, expected: UInt64, found: UInt64)
    case badTokenizer(what: String, expected: String, found: String)
    /// Model-level consistency (§5.1): a hyperparameter out of range or inconsistent with another.
    case hyperparameter(key: String, expected: String, found: String)
    case missingMetadata(key: String)
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case tensorShape(tensor: String, expected: [Int], found: [Int])
    case tensorType(tensor: String, expected: String, found: String)
    case io(operation: String, message: String)

    public var message: String {
        switch self {
        case let .truncated(what, needed, available):
            "\(what): truncated, expected \(needed) bytes, found \(available)"
        case let .fileSize(declared, actual) where actual < declared:
            "truncated: the file is \(actual) bytes long, its header says \(declared) (an incomplete copy or download?)"
        case let .fileSize(declared, actual):
            "the file is \(actual) bytes long, its header says \(declared): \(actual - declared) bytes were appended after its end"
        case let .badMagic(found):
            "bad magic: expected 53 56 41 45 (\"SVAE\"), found \(found.map { hex2($0) }.joined(separator: " "))"
        case .byteSwapped:
            "byte-swapped file: expected endian marker 0x0A0B0C0D, found 0x0D0C0B0A (big-endian writer?)"
        case let .unsupportedVersion(major, minor, supported):
            "unsupported format version: expected major \(supported), found \(major).\(minor)"
        case let .badField(field, expected, found):
            "\(field): expected \(expected), found \(found)"
        case let .checksumMismatch(what, expected, found):
            "\(what): checksum mismatch, expected \(hex16(expected)), found \(hex16(found))"
        case let .unknownSection(kind):
            "unknown required section kind \(kind): expected 1–4 or an optional kind (bit 31 set)"
        case let .duplicateSection(kind):
            "section kind \(kind) appears twice: expected at most once"
        case let .missingSection(name):
            "missing \(name) section: expected exactly one, found none"
        case let .misplacedSection(section, e, f):
            "\(section) section: expected at offset \(e), found \(f)"
        case let .nonZeroPadding(w, offset):
            "\(w): expected zero padding, found a non-zero byte at offset \(offset)"
        case let .compression(section, message):
            "\(section) section: zstd: \(message)"
        case let .lengthOutOfRange(what, found, limit):
            "\(what): expected at most \(limit), found \(found)"
        case let .invalidUTF8(what):
            "\(what): expected valid UTF-8, found invalid bytes"
        case let .invalidName(what, found):
            "\(what): invalid name \(quoted(found))"
        case let .duplicateKey(key):
            "metadata key \(quoted(key)) appears twice: expected unique keys"
        case let .unsortedKeys(previous, found):
            "metadata keys out of order: expected keys after \(quoted(previous)) to sort after it, found \(quoted(found))"
        case let .unknownValueType(key, found):
            "metadata key \(quoted(key)): unknown value type \(found), expected 0–12"
        case let .wrongMetadataType(key, expected, found):
            "metadata key \(quoted(key)): expected \(expected), found \(found)"
        case let .trailingBytes(what, count):
            "\(what): expected nothing after the last entry, found \(count) trailing bytes"
        case let .duplicateTensor(name):
            "tensor \(quoted(name)) appears twice: expected unique names"
        case let .unknownElementType(tensor, found):
            "tensor \(quoted(tensor)): unknown element type \(found), expected 0–4 (f32, f16, bf16, q8_0, q4_0); a newer file?"
        case let .badRank(tensor, found):
            "tensor \(quoted(tensor)): expected rank 1–4, found \(found)"
        case let .badDimension(tensor, index, found):
            "tensor \(quoted(tensor)): dimension \(index) expected ≥ 1 and < 2^48, found \(found)"
        case let .elementCountOverflow(tensor):
            "tensor \(quoted(tensor)): element count overflows 64 bits"
        case let .notBlockMultiple(tensor, innermost, block):
            "tensor \(quoted(tensor)): innermost dimension expected a multiple of \(block), found \(innermost)"
        case let .byteLengthMismatch(tensor, e, f):
            "tensor \(quoted(tensor)): byte length expected \(e), found \(f)"
        case let .misplacedTensor(tensor, e, f):
            "tensor \(quoted(tensor)): expected at data offset \(e), found \(f)"
        case let .tensorChecksum(tensor, e, f):
            "tensor \(quoted(tensor)): checksum mismatch, expected \(hex16(e)), found \(hex16(f))"
        case let .badTokenizer(what, e, f):
            "tokenizer \(what): expected \(e), found \(f)"
        case let .hyperparameter(key, e, f):
            "\(key): expected \(e), found \(f)"
        case let .missingMetadata(key):
            "metadata key \(quoted(key)): expected it, found none"
        case let .missingTensor(name):
            "tensor \(quoted(name)): expected it, found none"
        case let .unexpectedTensor(name):
            "tensor \(quoted(name)): not part of this architecture"
        case let .tensorShape(tensor, e, f):
            "tensor \(quoted(tensor)): expected shape \(e), found \(f)"
        case let .tensorType(tensor, e, f):
            "tensor \(quoted(tensor)): expected element type \(e), found \(f)"
        case let .io(op, message):
            "\(op): \(message)"
        }
    }
}

/// An error about one file: the path and what is wrong with it.
public struct SVAEFormatError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let problem: FormatProblem
    public init(file: String, _ problem: FormatProblem) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem.message)" }
}

func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
}

func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - s.count) + s
}

/// Quote a possibly hostile string for an error message: printable, bounded.
func quoted(_ s: String) -> String {
    var out = "\""
    for (i, u) in s.unicodeScalars.enumerated() {
        if i >= 80 { out += "…"; break }
        if u.value >= 0x20 && u.value < 0x7F && u != "\"" && u != "\\" { out.unicodeScalars.append(u) }
        else { out += "\\u{\(String(u.value, radix: 16))}" }
    }
    return out + "\""
}
