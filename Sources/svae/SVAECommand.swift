import ArgumentParser
import Foundation
import SVAECLISupport
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

@main
enum Main {
    static func main() { ToolMain.run(SVAECommand.self) }
}

/// Checks a numeric option: a one-line usage error naming the option, what was expected and found.
func requireRange<T: Comparable>(_ value: T?, _ option: String, _ range: PartialRangeFrom<T>, _ expected: String) throws {
    if let v = value, !range.contains(v) { throw ValidationError("\(option) \(v): expected \(expected)") }
}

func requireRange<T: Comparable>(_ value: T?, _ option: String, _ range: ClosedRange<T>, _ expected: String) throws {
    if let v = value, !range.contains(v) { throw ValidationError("\(option) \(v): expected \(expected)") }
}
