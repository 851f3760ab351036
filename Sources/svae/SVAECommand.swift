import ArgumentParser
import Foundation
import SVAEFormat
import SVAEKernels

struct SVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae",
        abstract: "Run and inspect SentenceVAE / SLLM models in the .svae format.",
        discussion: """
            Errors are one line on stderr: svae: error: <where>: <what>. Exit status: 0 ok; \
            1 input or model error (a bad input line stops the run unless --on-error skip); \
            2 usage error (unknown option, bad value); 3 the run finished but --on-error skip \
            left out input lines.
            """,
        version: versionText,
        subcommands: [Reconstruct.self, Encode.self, Decode.self, Generate.self, Perplexity.self, Tokenize.self, Inspect.self, Verify.self,
                      Version.self])
}

/// `svae --version` and `svae version`: the toolkit, the file format it reads, the kernel path.
let versionText = "svae \(SVAEVersion.toolkit)"

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version, the .svae format version and the kernel path this CPU uses.")

    func run() {
        print(versionText)
        print("format  svae \(SVAEVersion.formatMajor).\(SVAEVersion.formatMinor) (reads 1.x)")
        print("kernels \(KernelPath.best) (supported: \(KernelPath.supported.map(\.description).joined(separator: ", ")))")
    }
}

/// A failure the CLI reports as one line, `svae: error: <description>`, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Wrong arguments: one line, `svae: error: <description>`, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

@main
enum Main {
    static func main() {
        var command: ParsableCommand
        do {
            command = try SVAECommand.parseAsRoot()
        } catch {
            exit(reportingParseError: error)
        }
        do {
            try command.run()
        } catch {
            exit(reporting: error)
        }
    }

    /// Help and --version print and exit 0; anything else is a usage error: one line, status 2.
    static func exit(reportingParseError error: Error) -> Never {
        if SVAECommand.exitCode(for: error) == .success {
            print(SVAECommand.fullMessage(for: error))
            Foundation.exit(0)
        }
        let message = SVAECommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        printErr("svae: error: \(message)")
        Foundation.exit(ExitStatus.usage)
    }

    /// Prints a run-time error the one way the CLI prints errors and exits with its status.
    static func exit(reporting error: Error) -> Never {
        switch error {
        case let e as ExitCode:
            Foundation.exit(e.rawValue)
        case let e as UsageError:
            printErr("svae: error: \(e.description)")
            Foundation.exit(ExitStatus.usage)
        case _ where error is ValidationError || error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            exit(reportingParseError: error)  // --help of a subcommand arrives here, from ArgumentParser's help command
        case let e as CustomStringConvertible:  // CLIError, InputError, the library's typed errors
            printErr("svae: error: \(e.description)")
            Foundation.exit(ExitStatus.failure)
        default:
            printErr("svae: error: \(error)")
            Foundation.exit(ExitStatus.failure)
        }
    }
}

/// Checks a numeric option: a one-line usage error naming the option, what was expected and found.
func requireRange<T: Comparable>(_ value: T?, _ option: String, _ range: PartialRangeFrom<T>, _ expected: String) throws {
    if let v = value, !range.contains(v) { throw ValidationError("\(option) \(v): expected \(expected)") }
}

func requireRange<T: Comparable>(_ value: T?, _ option: String, _ range: ClosedRange<T>, _ expected: String) throws {
    if let v = value, !range.contains(v) { throw ValidationError("\(option) \(v): expected \(expected)") }
}
