import Foundation
import Testing

import SVAECLISupport
import SVAEFormat
import SVAETestSupport
import SVAETokenizer

/// What NSError's description dump contains; none of it may reach a user.
let foundationDump = ["NSCocoaErrorDomain", "NSPOSIXErrorDomain", "Error Domain=", "UserInfo", "NSUnderlyingError", "Code="]

func expectPlain(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for d in foundationDump { #expect(!text.contains(d), "\(d) in \(text)", sourceLocation: sourceLocation) }
}

/// A scratch folder holding a regular file, a folder and a link to nothing: paths that make
/// the file system refuse (a folder where a file is expected, a path through a file, a
/// dangling link), whatever the user (root reads through chmod 000, so no permission tricks).
struct BadPaths {
    let dir: String
    var file: String { dir + "/file.txt" }
    var folder: String { dir + "/folder" }
    var dangling: String { dir + "/dangling" }
    var underFile: String { dir + "/file.txt/x" }

    init() throws {
        dir = NSTemporaryDirectory() + "svae-bad-paths-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        try Data("some text\n".utf8).write(to: URL(fileURLWithPath: dir + "/file.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: dir + "/nothing-here")
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// The reporter's text (SVAECLISupport.ErrorText) for each kind of error a tool can meet.
@Suite struct ToolErrorTextTests {
    @Test func cocoaFileErrorIsPathAndReason() throws {
        let p = try BadPaths()
        defer { p.remove() }
        // A real Foundation error: reading a folder as a file (CocoaError with a POSIX error underneath).
        let e = try #require(throws: (any Error).self) { _ = try String(contentsOfFile: p.folder, encoding: .utf8) }
        #expect(ErrorText.describe(e) == "\(p.folder): \(String(cString: strerror(EISDIR)))")
        let missing = try #require(throws: (any Error).self) { _ = try Data(contentsOf: URL(fileURLWithPath: p.dangling)) }
        #expect(ErrorText.describe(missing) == "\(p.dangling): \(String(cString: strerror(ENOENT)))")
        expectPlain(ErrorText.describe(e) + ErrorText.describe(missing))
        // No POSIX error underneath: the Cocoa code in words.
        let bare = CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/models/x.svae"])
        #expect(ErrorText.describe(bare) == "/models/x.svae: no such file or folder")
        let noPath = CocoaError(.fileWriteOutOfSpace)
        #expect(ErrorText.describe(noPath) == "no space left on the device")
    }

    @Test func posixErrorIsItsReason() {
        #expect(ErrorText.describe(POSIXError(.EACCES)) == String(cString: strerror(EACCES)))
        // (POSIXError drops a userInfo on Linux; an NSError of the POSIX domain keeps it.)
        let withPath = NSError(domain: NSPOSIXErrorDomain, code: Int(ENOTDIR), userInfo: [NSFilePathErrorKey: "/a/file.txt/x"])
        #expect(ErrorText.describe(withPath) == "/a/file.txt/x: \(String(cString: strerror(ENOTDIR)))")
        expectPlain(ErrorText.describe(withPath))
    }

    @Test func libraryErrorsAreTheirOwnDescription() throws {
        let p = try BadPaths()
        defer { p.remove() }
        let format = try #require(throws: SVAEFormatError.self) { _ = try SVAEFile.open(p.folder) }
        #expect(ErrorText.describe(format) == format.description)
        #expect(ErrorText.describe(format).hasPrefix(p.folder + ": "), "\(format.description)")
        let tokenizer = TokenizerError.notFound(path: p.underFile)
        #expect(ErrorText.describe(tokenizer) == tokenizer.description && tokenizer.description.contains(p.underFile))
        #expect(!ErrorText.describe(tokenizer).contains("notFound"))
        #expect(ErrorText.describe(CLIError("x.txt:3: expected a number, found \"a\"")) == "x.txt:3: expected a number, found \"a\"")
    }

    enum Opaque: Error { case secretCaseName(Int) }

    @Test func otherErrorsAreAPlainSentence() throws {
        let json = try #require(throws: (any Error).self) { _ = try JSONSerialization.data(withJSONObject: ["a": Double.nan]) }
        let text = ErrorText.describe(json)
        expectPlain(text)
        #expect(!text.isEmpty)
        let other = ErrorText.describe(NSError(domain: "SomeLibrary", code: 7, userInfo: nil))
        #expect(other == "a system operation failed")
        let opaque = ErrorText.describe(Opaque.secretCaseName(3))
        #expect(opaque.hasPrefix("unexpected error (") && !opaque.contains("secretCaseName"), "\(opaque)")
    }
}

/// The three tools run as a user runs them, on paths the file system refuses: status 1 (the
/// run-time status of README.md), one line naming the path, no Foundation dump.
@Suite struct ToolFileErrorTests {
    func expectRuntimeError(_ r: BuiltTools.Output, tool: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == ExitStatus.failure && ExitStatus.failure == 1, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("\(tool): error: ") && r.stderr.contains(path), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("USAGE"), sourceLocation: sourceLocation)
        expectPlain(r.stderr, sourceLocation: sourceLocation)
    }

    @Test func svae() throws {
        let svae = try #require(BuiltTools.path("svae"), "svae is not in \(BuiltTools.productsDirectory.path)")
        let p = try BadPaths()
        defer { p.remove() }
        let model = try makeRandomModel()
        defer { try? FileManager.default.removeItem(atPath: model) }
        for bad in [p.folder, p.underFile, p.dangling] {
            expectRuntimeError(try BuiltTools.run(svae, ["inspect", bad]), tool: "svae", path: bad)
            expectRuntimeError(try BuiltTools.run(svae, ["encode", bad, "text"]), tool: "svae", path: bad)
            expectRuntimeError(try BuiltTools.run(svae, ["encode", model, "--input", bad]), tool: "svae", path: bad)
            expectRuntimeError(try BuiltTools.run(svae, ["tokenize", "--tokenizer", bad, "text"]), tool: "svae", path: bad)
        }
    }

    @Test func svaeConvert() throws {
        let convert = try #require(BuiltTools.path("svae-convert"), "svae-convert is not in \(BuiltTools.productsDirectory.path)")
        let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/svae-tiny").path
        let p = try BadPaths()
        defer { p.remove() }
        for bad in [p.underFile, p.dangling] {
            expectRuntimeError(try BuiltTools.run(convert, [bad, "-o", p.dir + "/out.svae", "--quiet"]), tool: "svae-convert", path: bad)
            expectRuntimeError(try BuiltTools.run(convert, [tiny, "-o", p.dir + "/out.svae", "--config", bad, "--quiet"]),
                               tool: "svae-convert", path: bad)
        }
        // The output through a file, or onto a folder: nothing is written.
        expectRuntimeError(try BuiltTools.run(convert, [tiny, "-o", p.underFile, "--quiet"]), tool: "svae-convert", path: p.underFile)
        expectRuntimeError(try BuiltTools.run(convert, [tiny, "-o", p.folder, "--quiet"]), tool: "svae-convert", path: p.folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.dir).sorted() == ["dangling", "file.txt", "folder"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.folder).isEmpty)
    }

    @Test func svaeBench() throws {
        let bench = try #require(BuiltTools.path("svae-bench"), "svae-bench is not in \(BuiltTools.productsDirectory.path)")
        let p = try BadPaths()
        defer { p.remove() }
        // `tokenizer` reads its text with Foundation: a CocoaError in each case.
        for bad in [p.folder, p.underFile, p.dangling] {
            expectRuntimeError(try BuiltTools.run(bench, ["tokenizer", bad, "--repetitions", "1"]), tool: "svae-bench", path: bad)
        }
        // `cold` runs its work in child processes: the child's own error reaches the one line.
        let cold = try BuiltTools.run(bench, ["cold", "--file", p.file, "--repetitions", "1", "--no-drop-caches"])
        expectRuntimeError(cold, tool: "svae-bench", path: p.file)
        #expect(cold.stderr.contains("header") && cold.stderr.components(separatedBy: "error:").count == 2, "\(cold.stderr)")
        // A model file that cannot be created (the format layer's error, neither a CLIError nor a
        // Foundation error): it used to exit 2, the usage status.
        #if os(Linux)
        expectRuntimeError(try BuiltTools.run(bench, ["model", "--file", "/proc/svae-bench-\(getpid()).svae", "--repetitions", "1"]),
                           tool: "svae-bench", path: "/proc/svae-bench-\(getpid()).svae")
        #endif
    }

    /// Wrong arguments stay the usage status, one line, in all three tools.
    @Test func usageErrorsAreStatusTwo() throws {
        for tool in ["svae", "svae-convert", "svae-bench"] {
            let exe = try #require(BuiltTools.path(tool), "\(tool) is not in \(BuiltTools.productsDirectory.path)")
            let r = try BuiltTools.run(exe, tool == "svae-bench" ? ["model", "--no-such-option"] : ["--no-such-option"])
            #expect(r.status == ExitStatus.usage && ExitStatus.usage == 2, "\(tool): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("\(tool): error: ") && r.stderr.split(separator: "\n").count == 1, "\(tool): \(r.stderr)")
        }
    }
}

/// `jsonLine(_:appending:raw:)` writes what `jsonLine` writes for the whole object.
@Suite struct JSONLineTests {
    @Test func appendingARawMemberEqualsTheWholeObject() {
        let raw = "[0.5,-1.25,3]"
        for object: [String: Any] in [[:], ["a": 1], ["line": 3, "text": "a \"quoted\" / slash\n", "ids": [2, 5]]] {
            var whole = object
            whole["vector"] = [0.5, -1.25, 3]
            #expect(jsonLine(object, appending: "vector", raw: raw) == jsonLine(whole), "\(object)")
        }
        #expect(jsonLine(["a": 1], appending: "z\"q", raw: "1") == jsonLine(["a": 1, "z\"q": 1]))
    }

    @Test func nonFiniteNumbersAreNullNotAnEmptyObject() {
        let line = jsonLine(["ppl": Double.infinity, "kld": [1.5, Double.nan], "inner": ["x": Float.nan, "n": 2] as [String: Any], "name": "a"])
        #expect(line == #"{"inner":{"n":2,"x":null},"kld":[1.5,null],"name":"a","ppl":null}"#, "\(line)")
    }
}
