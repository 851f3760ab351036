// SVAEJSON: the one strict JSON reader of the project, for every JSON input: safetensors
// headers, shard indexes, config.json, tokenizer.json, vocab.json, tokenizer_config.json.
//
// Why a module of its own: the tokenizer (model layer) and the importer (import layer) both
// read JSON, and the tokenizer must not import the importer. The format layer is the
// `.svae` file, which holds no JSON, so the reader sits beside it as a leaf module with no
// dependencies (Glibc only, no Foundation) that both can import.
//
// Why not Foundation's JSONSerialization: it silently keeps one of two duplicate keys,
// and a header with `"w": {…}, "w": {…}` must be rejected (two readers could disagree on
// which tensor "w" is). This reader keeps object members in file order, rejects duplicate
// keys, caps nesting depth, and never recurses more than `maxDepth` levels.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed JSON value; objects keep their members in file order.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// Numbers keep their source text (so integers beyond 2^53 are not rounded).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Member `key` of an object (nil for other values or a missing key).
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The value as an exact integer (`12`, `-3`; not `1.5` or `1e3`).
    package var intValue: Int? {
        guard case .number(let s) = self else { return nil }
        return Int(s)
    }

    /// The value as a Double (any JSON number).
    package var doubleValue: Double? {
        guard case .number(let s) = self else { return nil }
        return Double(s)
    }

    /// The string of a `.string`.
    package var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    /// The value of a `.bool`.
    package var boolValue: Bool? {
        guard case .bool(let b) = self else { return nil }
        return b
    }

    /// The members of an `.object`, in file order.
    package var members: [(String, JSONValue)]? {
        guard case .object(let m) = self else { return nil }
        return m
    }

    /// The items of an `.array`.
    package var items: [JSONValue]? {
        guard case .array(let a) = self else { return nil }
        return a
    }

    /// What kind of value this is, for messages ("an object", "the string \"x\"", "null" …).
    package var kind: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let s): "the number \(s)"
        case .string(let s): "the string \(s.debugDescription)"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Compact text for error messages.
    package var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let s): s
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let m): "{" + m.map { "\"\($0.0)\":\($0.1.text)" }.joined(separator: ",") + "}"
        }
    }
}

/// Why a byte string is not acceptable JSON.
package enum JSONFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case notUTF8
    /// `offset` counts bytes from the start of the text.
    case syntax(offset: Int, reason: String)
    case duplicateKey(String)
    case tooDeep(limit: Int)

    package var description: String {
        switch self {
        case .notUTF8: "expected UTF-8 JSON, found invalid UTF-8 bytes"
        case let .syntax(offset, reason): "invalid JSON at byte \(offset): \(reason)"
        case let .duplicateKey(key): "invalid JSON: key \"\(key)\" appears twice in one object"
        case let .tooDeep(limit): "invalid JSON: nested deeper than \(limit) levels"
        }
    }
}

/// A JSON file that cannot be read or is not strict JSON; the message names the file and,
/// for a syntax error, the line and column.
package struct JSONFileError: Error, Equatable, Sendable, CustomStringConvertible {
    package let path: String
    package let reason: String
    package var description: String { "\(path): \(reason)" }
    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Strict recursive-descent JSON parser over UTF-8 bytes.
package struct StrictJSON {
    package static let maxDepth = 64

    /// Reads and parses the JSON file at `path`.
    package static func read(file path: String) throws(JSONFileError) -> JSONValue {
        let bytes = try readFile(path)
        do {
            return try parse(bytes)
        } catch {
            if case let .syntax(offset, reason) = error {
                let (line, column) = position(of: offset, in: bytes)
                throw JSONFileError(path: path, reason: "line \(line), column \(column): expected JSON, found \(reason)")
            }
            throw JSONFileError(path: path, reason: error.description)
        }
    }

    /// 1-based line and column (in bytes) of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1, column = 1
        for b in bytes.prefix(offset) {
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The whole file at `path` (a regular file), read with POSIX calls.
    package static func readFile(_ path: String) throws(JSONFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw JSONFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw JSONFileError(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw JSONFileError(path: path, reason: "expected a file, found a folder or other non-file")
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { readBytes(fd, $0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw JSONFileError(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Parses a whole JSON text.
    package static func parse(_ bytes: [UInt8]) throws(JSONFailure) -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .notUTF8 }
        var p = StrictJSON(b: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw .syntax(offset: p.i, reason: "trailing characters") }
        return v
    }

    let b: [UInt8]
    var i = 0

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    func fail(_ reason: String) -> JSONFailure { .syntax(offset: i, reason: reason) }

    mutating func value(depth: Int) throws(JSONFailure) -> JSONValue {
        guard depth < Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth) }
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, JSONValue)] = []
            var seen = Set<String>()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw .duplicateKey(key) }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end in object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end in array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws(JSONFailure) {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w else { throw fail("bad literal") }
        i += w.count
    }

    mutating func number() throws(JSONFailure) -> String {
        let start = i
        func digits(_ p: inout StrictJSON) -> Int {
            let s = p.i
            while p.i < p.b.count, p.b[p.i] >= 0x30, p.b[p.i] <= 0x39 { p.i += 1 }
            return p.i - s
        }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { throw fail("bad number") }
        if b[i] == UInt8(ascii: "0") { i += 1 } else if digits(&self) == 0 { throw fail("bad number") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw fail("bad fraction") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw fail("bad exponent") }
        }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    mutating func hex4() throws(JSONFailure) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("bad hex digit")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func string() throws(JSONFailure) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u")
                    else { throw fail("lone surrogate") }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    throw fail("lone surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad scalar") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// read(2) under a name the `read` members here do not shadow (the C library's, whichever of
/// Glibc, Musl or Darwin provides it).
private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(fd, buffer.baseAddress, buffer.count)
}
