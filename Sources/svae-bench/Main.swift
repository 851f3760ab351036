// svae-bench: size and speed of svae on this machine (docs/bench.md), kept out of the user CLI
// `svae` as llama.cpp keeps llama-bench out of llama-cli. Random-weight models of the released
// shapes are written by the bench itself; tools/bench/*.py drive it for BENCHMARKS.md.
import ArgumentParser
import Foundation
import SVAE

struct SVAEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae-bench",
        abstract: "Measure size and speed on this machine (medians over repetitions, after a warm-up).",
        discussion: """
            Errors are one line on stderr: svae-bench: error: <what>. Exit status: 0 ok; 1 a failed \
            measurement or file; 2 usage error.

            Examples:
              svae-bench model --shape svae-768-h4 --type q4_0 --threads 1
              svae-bench kernels
              svae-bench generate --types q8_0 --threads 1
            """,
        subcommands: [BenchModel.self, BenchSizes.self, BenchCold.self, BenchAll.self, BenchKernels.self, BenchGenerate.self, BenchOPT.self,
                      BenchProbe.self, BenchTokenizer.self, BenchFirstSentence.self])
}

/// A failed measurement: one line, `svae-bench: error: <description>`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

@main
enum Main {
    static func main() {
        do {
            var command = try SVAEBench.parseAsRoot()
            try command.run()
        } catch let e as CLIError {
            fail(e.description, status: 1)
        } catch where FileErrorText.applies(to: error) {  // Foundation's file errors (the model folders)
            fail(FileErrorText.describe(error), status: 1)
        } catch {
            // Help and --version print and exit 0 (ArgumentParser's own exit); a parse or
            // validation error is one line with status 2.
            if SVAEBench.exitCode(for: error) == .success { SVAEBench.exit(withError: error) }
            fail(SVAEBench.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments", status: 2)
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        printErr("svae-bench: error: \(message)")
        exit(status)
    }
}

/// Foundation's file errors in plain words: "<path>: <reason>", the reason from the POSIX error
/// underneath (strerror), never NSError's "Error Domain=… UserInfo={…}" dump.
enum FileErrorText {
    static func applies(to error: Error) -> Bool {
        let e = error as NSError
        return e.domain == NSCocoaErrorDomain || e.domain == NSPOSIXErrorDomain
    }

    static func describe(_ error: Error) -> String {
        let e = error as NSError
        let path = e.userInfo[NSFilePathErrorKey] as? String ?? (e.userInfo[NSURLErrorKey] as? URL)?.path
        let underlying = (e.userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
        let posix = e.domain == NSPOSIXErrorDomain ? e : underlying
        let reason: String
        if let p = posix, p.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(p.code)))
        } else {
            switch CocoaError.Code(rawValue: e.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or folder"
            case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
            case .fileWriteOutOfSpace: reason = "no space left on the device"
            case .fileWriteFileExists: reason = "a file is already there"
            case .fileWriteUnknown: reason = "cannot be created or written (a part of the path may be a file)"
            case .fileReadUnknown: reason = "cannot be read"
            default: reason = "the file operation failed (Foundation error \(e.code))"
            }
        }
        return (path.map { $0 + ": " } ?? "") + reason
    }
}

/// Wraps an API error as a one-line error.
func cli<R>(_ body: () throws(SVAEError) -> R) throws -> R {
    do { return try body() } catch { throw CLIError(error.description) }
}

/// Prints one JSON object on one line (keys sorted).
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// Prints a line on standard error (progress, never results).
func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
