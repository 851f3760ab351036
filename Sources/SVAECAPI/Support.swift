// Support for the C API: status codes from typed errors, the log sink, and checked reading of
// C inputs / writing of caller-allocated outputs. Nothing here traps on caller input.
import CSVAEAPI
import SVAE
import SVAEModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits mirrored from `svae.h` (`SVAE_MAX_TEXT_BYTES`, `SVAE_MAX_BATCH`).
enum Limits {
    static let textBytes = 1 << 26
    static let batch = 1 << 20
    static let threads = 256
}

/// A failure of one C call: its status code (`svae_status`) and a message for
/// `svae_context_last_error`.
enum CAPIError: Error {
    case invalidArgument(String)
    case bufferTooSmall(String)
    case outOfRange(String)
    case model(String)
    case noTokenizer(String)
    case invalidUTF8(String)
    case tooLong(String)
    case badVector(String)
    case `internal`(String)

    var status: Int32 {
        switch self {
        case .invalidArgument: SVAE_ERR_INVALID_ARGUMENT.rawValue
        case .bufferTooSmall: SVAE_ERR_BUFFER_TOO_SMALL.rawValue
        case .outOfRange: SVAE_ERR_OUT_OF_RANGE.rawValue
        case .model: SVAE_ERR_MODEL.rawValue
        case .noTokenizer: SVAE_ERR_NO_TOKENIZER.rawValue
        case .invalidUTF8: SVAE_ERR_INVALID_UTF8.rawValue
        case .tooLong: SVAE_ERR_TOO_LONG.rawValue
        case .badVector: SVAE_ERR_BAD_VECTOR.rawValue
        case .internal: SVAE_ERR_INTERNAL.rawValue
        }
    }

    var message: String {
        switch self {
        case let .invalidArgument(m), let .bufferTooSmall(m), let .outOfRange(m), let .model(m), let .noTokenizer(m),
             let .invalidUTF8(m), let .tooLong(m), let .badVector(m), let .internal(m):
            m
        }
    }

    /// Maps a Swift API error to its C status, keeping its message.
    init(_ e: SVAEError) {
        let m = e.description
        switch e {
        case .noTokenizer: self = .noTokenizer(m)
        case .kernel: self = .internal(m)
        case .tokenizer: self = .model(m)
        case let .model(me), let .vector(_, me):
            switch me {
            case .tokenOutOfRange: self = .outOfRange(m)
            case .sentenceTooLong: self = .tooLong(m)
            case .emptySentence, .badOption, .emptyPrompt: self = .invalidArgument(m)
            case .contextFull: self = .tooLong(m)
            case .vectorSize, .nonFiniteVector: self = .badVector(m)
            case .format, .wrongArchitecture, .kernel, .bigEndianHost: self = .model(m)
            }
        }
    }
}

// MARK: - logging

/// The process-wide log callback and its user pointer (set from C; the C side promises the
/// callback is thread-safe).
struct LogSink: @unchecked Sendable {
    var callback: svae_log_callback?
    var userData: UnsafeMutableRawPointer?
}

let logSink = Mutex(LogSink())

/// Sends one line to the installed callback, if any (the library never prints by itself).
func log(_ level: svae_log_level, _ text: String) {
    let sink = logSink.withLock { $0 }
    guard let cb = sink.callback else { return }
    text.withCString { cb(Int32(level.rawValue), $0, sink.userData) }
}

// MARK: - inputs

/// A NUL-terminated UTF-8 C string as a Swift `String`: NULL, longer than
/// `SVAE_MAX_TEXT_BYTES`, or invalid UTF-8 are errors.
func readText(_ p: UnsafePointer<CChar>?, _ what: String) throws(CAPIError) -> String {
    guard let p else { throw .invalidArgument("\(what): expected a text, found NULL") }
    let n = strnlen(p, Limits.textBytes + 1)
    guard n <= Limits.textBytes else {
        throw .invalidArgument("\(what): expected at most \(Limits.textBytes) bytes, found more")
    }
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
    guard let s = String(validating: bytes, as: UTF8.self) else {
        throw .invalidUTF8("\(what): expected valid UTF-8, found an invalid byte sequence at byte \(firstInvalidUTF8(bytes))")
    }
    return s
}

/// Offset of the first byte that starts an invalid UTF-8 sequence (for error messages).
func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var it = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
        switch decoder.decode(&it) {
        case let .scalarValue(s): offset += UTF8.width(s)
        case .emptyInput, .error: return offset
        }
    }
}

/// A count passed in as `int32_t`: 0 ... `max`.
func checkCount(_ n: Int32, _ what: String, max: Int) throws(CAPIError) -> Int {
    guard n >= 0 else { throw .invalidArgument("\(what): expected a count ≥ 0, found \(n)") }
    guard Int(n) <= max else { throw .invalidArgument("\(what): expected at most \(max), found \(n)") }
    return Int(n)
}

/// `n` values at `p` (NULL allowed only when n == 0).
func readArray<T>(_ p: UnsafePointer<T>?, count n: Int, _ what: String) throws(CAPIError) -> [T] {
    guard n > 0 else { return [] }
    guard let p else { throw .invalidArgument("\(what): expected \(n) values, found NULL") }
    return Array(UnsafeBufferPointer(start: p, count: n))
}

// MARK: - outputs

/// A caller-allocated output buffer: `pointer[0 ..< capacity]`, with its required count
/// pointer `count`. Validated on creation (NULL with capacity > 0, capacity ≥ 2^63 and a NULL
/// count pointer are errors).
struct Output<T> {
    let pointer: UnsafeMutablePointer<T>?
    let capacity: Int
    let count: UnsafeMutablePointer<Int>
    let name: String

    init(_ pointer: UnsafeMutablePointer<T>?, _ capacity: Int, _ count: UnsafeMutablePointer<Int>?, _ name: String) throws(CAPIError) {
        guard let count else { throw .invalidArgument("\(name): expected a pointer for the output count, found NULL") }
        // size_t arrives as Int: a "negative" capacity is ≥ 2^63, i.e. absurd.
        guard capacity >= 0 else { throw .invalidArgument("\(name): capacity \(UInt(bitPattern: capacity)) is absurd") }
        guard pointer != nil || capacity == 0 else {
            throw .invalidArgument("\(name): expected a buffer for capacity \(capacity), found NULL")
        }
        self.pointer = pointer
        self.capacity = capacity
        self.count = count
        self.name = name
    }

    /// Stores `needed` in the count and reports whether `needed` (+ `extra`) elements fit.
    func fits(_ needed: Int, extra: Int = 0) -> Bool {
        count.pointee = needed
        return needed + extra <= capacity
    }

    func tooSmall(_ needed: Int, extra: Int = 0) -> CAPIError {
        .bufferTooSmall("\(name): expected a capacity of at least \(needed + extra), found \(capacity)")
    }

    /// Writes `values` (after a successful `fits`).
    func write(_ values: [T]) { write(values, at: 0) }

    /// Writes the rows one after another (after a successful `fits` of their total).
    func write(rows: [[T]]) {
        var at = 0
        for r in rows {
            write(r, at: at)
            at += r.count
        }
    }

    private func write(_ values: [T], at offset: Int) {
        guard let pointer, !values.isEmpty else { return }
        values.withUnsafeBufferPointer { (pointer + offset).update(from: $0.baseAddress!, count: values.count) }
    }
}

extension Output where T == CChar {
    /// Stores the UTF-8 length of `text` and checks it fits with its NUL.
    func fits(text: String) -> Bool { fits(text.utf8.count, extra: 1) }
    func tooSmall(text: String) -> CAPIError { tooSmall(text.utf8.count, extra: 1) }

    /// Writes `text` and a NUL (after a successful `fits(text:)`).
    func write(text: String) {
        guard let pointer else { return }
        var i = 0
        for b in text.utf8 {
            pointer[i] = CChar(bitPattern: b)
            i += 1
        }
        pointer[i] = 0
    }

    /// All of `text`, or the whole output buffer.
    func writeOrThrow(text: String) throws(CAPIError) {
        guard fits(text: text) else { throw tooSmall(text: text) }
        write(text: text)
    }
}

/// Copies `message` into `buffer[0 ..< capacity]` with a NUL, cut at a character boundary.
func copyMessage(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else { return }
    var bytes = Array(message.utf8)
    if bytes.count > capacity - 1 {
        var n = capacity - 1
        while n > 0 && bytes[n] & 0xC0 == 0x80 { n -= 1 }  // do not cut a UTF-8 sequence
        bytes.removeSubrange(n...)
    }
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    buffer[bytes.count] = 0
}

/// A NUL-terminated copy of `s` in malloc'ed memory (freed by its owner).
func mallocCString(_ s: String) -> UnsafeMutablePointer<CChar>? { strdup(s) }

/// A static C string (string literals are NUL-terminated and live for the whole process).
func staticCString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
