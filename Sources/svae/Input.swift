// The input side of the text commands (encode, decode, reconstruct, tokenize): one streaming
// reader for files and standard input, one parser for input lines, one driver that hands
// windows of parsed lines to a command and writes its results in input order.
//
// Memory does not grow with the input: the reader holds one 64 KiB chunk and the current line,
// the driver one window of lines and their results.

import ArgumentParser
import Foundation
import SVAECLISupport
import SVAEJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines of a file or of standard input (`-`), read in 64 KiB chunks. Each line is returned
/// without its `\n` (and a `\r` before it); a last line without `\n` counts.
final class LineReader {
    /// The name used in messages: the path as given, or `-`.
    let name: String
    /// The size of a regular file (nil for standard input, pipes and devices).
    let size: Int?
    /// The line number of the last line returned (1-based).
    private(set) var lineNumber = 0
    /// Bytes consumed so far (for progress).
    private(set) var offset = 0
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var atEnd = false
    static let chunk = 1 << 16
    /// A longer line is an input error, so one bad line cannot take all memory.
    static let maxLineBytes = 16 << 20

    init(path: String) throws(CLIError) {
        name = path
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIError("\(path): cannot open the input file: \(String(cString: strerror(errno)))") }
        }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            if fd != 0 { close(fd) }
            throw CLIError("\(path): expected a file, found a folder")
        }
        size = fd != 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
    }

    deinit { if fd != 0 { close(fd) } }

    /// Whether the next line can be returned without reading (so without waiting on a pipe).
    var hasBufferedLine: Bool { buffer[start...].contains(0x0A) }

    /// The next line's bytes, or nil at the end of the input.
    func next() throws(CLIError) -> [UInt8]? {
        while true {
            if let nl = buffer[scanned...].firstIndex(of: 0x0A) {
                var end = nl
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = Array(buffer[start..<end])
                offset += nl + 1 - start
                start = nl + 1
                scanned = start
                lineNumber += 1
                return line
            }
            scanned = buffer.count
            if atEnd {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = Array(buffer[start..<end])
                offset += buffer.count - start
                start = buffer.count
                lineNumber += 1
                return line
            }
            if buffer.count - start > Self.maxLineBytes {
                throw CLIError("\(name):\(lineNumber + 1): expected a line of at most \(Self.maxLineBytes >> 20) MiB, found a longer one")
            }
            try fill()
        }
    }

    /// Drops consumed bytes and reads the next chunk.
    private func fill() throws(CLIError) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.chunk))
        var n: Int
        repeat {
            n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, Self.chunk) }
        } while n < 0 && errno == EINTR
        guard n >= 0 else {
            buffer.removeSubrange(old...)
            throw CLIError("\(name): cannot read the input: \(String(cString: strerror(errno)))")
        }
        buffer.removeSubrange((old + n)...)
        if n == 0 { atEnd = true }
    }
}

/// The JSON fields an input line may carry; each command accepts its own set.
enum InputField: String, CaseIterable {
    case text, ids, vector
    /// Carried through from `svae encode --json` output to `svae decode` output.
    case line, sentence
}

/// A bad input line: where it is and what is wrong with it.
struct InputError: Error, CustomStringConvertible {
    let location: String
    let message: String
    init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }
    var description: String { "\(location): \(message)" }
}

/// One parsed input: its position (`FILE:LINE` or `argument N`) and its fields.
struct InputItem {
    var location: String
    /// The input line number (argument index for command-line texts), as printed in `"line"`.
    var line: Int
    var text: String?
    var ids: [Int32]?
    var vector: [Float]?
    /// `line` / `sentence` given in the JSON (decode passes them through).
    var passedLine: Int?
    var passedSentence: Int?
}

/// Parses one input line: a JSON object when it starts with `{` (strictly: only `accepted`
/// fields, each of its type), plain text otherwise. Invalid UTF-8 is an error, as in the C API.
func parseInputLine(_ bytes: [UInt8], location: String, line: Int, accepted: Set<InputField>) throws(InputError) -> InputItem {
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw InputError(location, "expected UTF-8 text, found an invalid byte at byte \(firstInvalidUTF8(bytes) + 1) of the line")
    }
    var item = InputItem(location: location, line: line)
    guard text.hasPrefix("{") else {
        guard accepted.contains(.text) && !accepted.contains(.vector) else {
            throw InputError(location, "expected a JSON object with a \"vector\" field, found plain text")
        }
        item.text = text
        return item
    }
    let json: JSONValue
    do { json = try StrictJSON.parse(bytes) } catch { throw InputError(location, "\(error.description)") }
    guard case .object(let members) = json else { throw InputError(location, "expected a JSON object") }
    let names = accepted.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ", ")
    for (key, value) in members {
        guard let field = InputField(rawValue: key), accepted.contains(field) else {
            throw InputError(location, "field \"\(key)\": not used by this command (it reads \(names))")
        }
        let wrong = { (expected: String) in InputError(location, "field \"\(key)\": expected \(expected), found \(describe(value))") }
        switch field {
        case .text:
            // null: no text (svae encode / reconstruct --json write it for a line given as ids).
            if case .null = value { continue }
            guard case .string(let s) = value else { throw wrong("a string or null") }
            item.text = s
        case .ids:
            guard case .array(let a) = value else { throw wrong("an array of token ids") }
            var ids: [Int32] = []
            for (i, v) in a.enumerated() {
                guard case .number(let n) = v, let id = Int32(n) else {
                    throw InputError(location, "field \"ids\": element \(i): expected an integer token id, found \(describe(v))")
                }
                ids.append(id)
            }
            item.ids = ids
        case .vector:
            guard case .array(let a) = value else { throw wrong("an array of numbers") }
            var v: [Float] = []
            for (i, x) in a.enumerated() {
                guard case .number(let n) = x, let f = Float(n), f.isFinite else {
                    throw InputError(location, "field \"vector\": element \(i): expected a finite number, found \(describe(x))")
                }
                v.append(f)
            }
            item.vector = v
        case .line, .sentence:
            guard case .number(let n) = value, let k = Int(n), k >= 0 else { throw wrong("a whole number") }
            if field == .line { item.passedLine = k } else { item.passedSentence = k }
        }
    }
    if item.text != nil && item.ids != nil && !accepted.contains(.vector) {
        throw InputError(location, "expected one of \"text\" and \"ids\", found both")
    }
    if accepted.contains(.vector) {
        guard item.vector != nil else { throw InputError(location, "expected a \"vector\" field, found none") }
    } else if item.text == nil && item.ids == nil {
        throw InputError(location, "expected a \"text\" or \"ids\" field, found none")
    }
    return item
}

/// Index of the first byte that is not part of valid UTF-8.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
    var parser = Unicode.UTF8.ForwardParser()
    var it = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &it) {
        case .valid(let s): offset += s.count
        case .emptyInput: return offset
        case .error: return offset
        }
    }
}

/// A JSON value named in an error message: its kind, and its text when short.
func describe(_ v: JSONValue) -> String {
    let kind: String
    switch v {
    case .null: return "null"
    case .bool: kind = "a boolean"
    case .number: kind = "a number"
    case .string: kind = "a string"
    case .array: kind = "an array"
    case .object: kind = "an object"
    }
    let t = v.text
    return t.count <= 40 ? "\(kind) \(t)" : kind
}

/// What to do with a bad input line.
enum OnError: String, ExpressibleByArgument, CaseIterable {
    case stop, skip
}

/// Options shared by the text commands: where inputs come from, how results are printed, and
/// what a bad line does.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Read inputs from FILE (- for standard input), one per line.",
        discussion: "A line starting with { is a JSON object with the fields the command reads; any other line is text.",
        valueName: "file"))
    var input: String?
    @Flag(help: "Print one JSON object per line of output.") var json = false
    @Option(name: .customLong("on-error"), help: ArgumentHelp(
        "stop: a bad input line ends the run (exit 1). skip: it is left out (with --json, {\"line\": N, \"error\": \"...\"} takes its place), counted on stderr, exit 3.",
        valueName: "stop|skip"))
    var onError: OnError = .stop
}

/// What a command made of one input: output lines, or a message (without the location) that
/// makes the input a bad line.
enum ItemResult {
    case output([String])
    case failed(String)
}

/// Runs a text command over its inputs: parses each line, hands windows of up to `window`
/// parsed items to `process`, and writes the results in input order. Applies `--on-error`,
/// draws a progress line on a terminal, and ends with the skip count and exit status.
struct InputDriver {
    let options: InputOptions
    let texts: [String]
    let accepted: Set<InputField>

    /// Reads, processes and prints everything. Throws the first bad line under `--on-error stop`;
    /// exits with status 3 after the last line when lines were skipped.
    func run(window: Int, _ process: ([InputItem]) throws -> [ItemResult]) throws {
        var skipped = 0, total = 0
        var pending: [(location: String, line: Int, item: Result<InputItem, InputError>)] = []
        let progress = Progress(reader: nil)

        func flush() throws {
            let items = pending.compactMap { try? $0.item.get() }
            let results = items.isEmpty ? [] : try process(items)
            precondition(results.count == items.count, "one result per item")
            var next = results.makeIterator()
            for p in pending {
                let outcome: ItemResult
                switch p.item {
                case .success: outcome = next.next()!
                case .failure(let e): outcome = .failed(e.message)
                }
                switch outcome {
                case .output(let lines):
                    for l in lines { emit(l) }
                case .failed(let message):
                    let full = "\(p.location): \(message)"
                    guard options.onError == .skip else {
                        progress.clear()
                        throw CLIError(full)
                    }
                    skipped += 1
                    if options.json {
                        emit(jsonLine(["line": p.line, "error": full]))
                    } else {
                        progress.clear()
                        printErr("svae: skipped: \(full)")
                    }
                }
            }
            pending.removeAll(keepingCapacity: true)
        }

        func add(_ bytes: [UInt8], location: String, line: Int) throws {
            total += 1
            pending.append((location, line, Result { () throws(InputError) in
                try parseInputLine(bytes, location: location, line: line, accepted: accepted)
            }))
            if pending.count >= window { try flush() }
        }

        if let path = options.input {
            guard texts.isEmpty else { throw UsageError("give texts or --input, not both") }
            let reader = try LineReader(path: path)
            progress.reader = reader
            while let bytes = try reader.next() {
                try add(bytes, location: "\(reader.name):\(reader.lineNumber)", line: reader.lineNumber)
                progress.update()
                // From a pipe or a terminal, answer what has arrived before waiting for more.
                if reader.size == nil && !reader.hasBufferedLine && !pending.isEmpty { try flush() }
            }
        } else {
            guard !texts.isEmpty else { throw UsageError("expected texts or --input FILE (--input - reads standard input)") }
            for (i, t) in texts.enumerated() {
                // Arguments are always text, even when they start with {.
                var item = InputItem(location: "argument \(i + 1)", line: i + 1)
                item.text = t
                total += 1
                if accepted.contains(.text) {
                    pending.append((item.location, i + 1, .success(item)))
                } else {
                    pending.append((item.location, i + 1, .failure(InputError(item.location, "expected a JSON line with a \"vector\" field; give vectors with --input"))))
                }
                if pending.count >= window { try flush() }
            }
        }
        try flush()
        progress.clear()
        if skipped > 0 {
            printErr("svae: \(skipped) of \(total) input lines skipped")
            throw ExitCode(ExitStatus.incomplete)
        }
    }
}

/// A progress line on stderr (`FILE: line N, P %`), only when stderr is a terminal and the
/// input is a regular file; redrawn at most 10 times a second.
final class Progress {
    var reader: LineReader?
    private let enabled = isatty(2) != 0
    private var last = 0.0
    private var drawn = false

    init(reader: LineReader?) { self.reader = reader }

    func update() {
        guard enabled, let r = reader, let size = r.size, size > 0 else { return }
        let t = Date.timeIntervalSinceReferenceDate
        guard t - last >= 0.1 else { return }
        last = t
        let line = String(format: "\r%@: line %d, %.0f %%\u{1B}[K", r.name, r.lineNumber, 100 * Double(r.offset) / Double(size))
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func clear() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

/// Writes one line of output to stdout at once (so piped output is line-buffered and a reader
/// downstream sees each result as soon as it is ready).
func emit(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(0x0A)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }  // a closed pipe: nothing more to say
        done += n
    }
}

