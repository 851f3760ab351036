// The command-line tools' one way of failing (`svae`, `svae-convert`, `svae-bench`): the exit
// statuses, the errors they throw, the plain-words text of every error they can meet, and the
// one line on stderr. Tools layer: only the three executables import this module.
import ArgumentParser
import Foundation
import SVAE

/// Exit statuses, the same in the three tools (README.md "Errors", each tool's `--help`).
public enum ExitStatus {
    public static let ok: Int32 = 0
    /// A run-time error: bad input (a file, a line), a model that cannot be used, an I/O error,
    /// a failed measurement. One line on stderr.
    public static let failure: Int32 = 1
    /// Wrong arguments: unknown option, bad value, missing argument. One line, no usage dump.
    public static let usage: Int32 = 2
    /// The run finished but not all of it counts: `svae --on-error skip` left input lines out,
    /// `svae-convert --check` found the output below its thresholds (the output is kept).
    public static let incomplete: Int32 = 3
}

/// A run-time failure the tool reports as one line, `<tool>: error: <description>`, exit 1.
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Wrong arguments found after parsing: one line, `<tool>: error: <description>`, exit 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Runs an API call, turning its `SVAEError` into a `CLIError` of the same text.
public func cli<R>(_ body: () throws(SVAEError) -> R) throws(CLIError) -> R {
    do { return try body() } catch { throw CLIError(error.description) }
}

/// Writes one line on standard error (errors, notes, progress; never results).
public func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// The plain-words text of any error a tool can meet, without the tool's name.
public enum ErrorText {
    /// - Foundation's and POSIX file errors: "<path>: <reason>" (the reason in words, from the
    ///   POSIX error underneath where there is one);
    /// - other Foundation errors: their own sentence, if they carry one;
    /// - the library's typed errors and the tools' own: their description (they name the file,
    ///   tensor or key, what was expected and what was found);
    /// - anything else: a sentence naming the error's type.
    /// Never NSError's "Error Domain=… Code=… UserInfo={…}" dump, never an enum case name.
    public static func describe(_ error: any Error) -> String {
        let n = error as NSError
        // Before CustomStringConvertible: CocoaError, POSIXError and NSError describe themselves as the dump.
        if n.domain == NSCocoaErrorDomain || n.domain == NSPOSIXErrorDomain { return foundation(n) }
        if type(of: error) is NSError.Type {
            return (n.userInfo[NSLocalizedDescriptionKey] as? String) ?? (n.userInfo["NSDebugDescription"] as? String)
                ?? "a system operation failed"
        }
        // Through Any: cast from `any Error`, the compiler would take it as NSError's (always true on Linux).
        if let e = (error as Any) as? any CustomStringConvertible { return e.description }
        return "unexpected error (\(type(of: error))); please report it"
    }

    /// A Cocoa or POSIX error: "<path>: <reason>", or the reason alone when it names no path.
    static func foundation(_ e: NSError) -> String {
        let userInfo = e.userInfo
        let path = userInfo[NSFilePathErrorKey] as? String ?? (userInfo[NSURLErrorKey] as? URL)?.path
        let underlying = (userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        let posix = e.domain == NSPOSIXErrorDomain ? e : underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? $0 : nil }
        let reason: String
        if let p = posix {
            reason = String(cString: strerror(Int32(truncatingIfNeeded: p.code)))
        } else {
            switch CocoaError.Code(rawValue: e.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or folder"
            case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
            case .fileWriteOutOfSpace: reason = "no space left on the device"
            case .fileWriteFileExists: reason = "a file is already there"
            case .fileWriteUnknown: reason = "cannot be created or written (a part of the path may be a file)"
            case .fileReadUnknown: reason = "cannot be read"
            case .fileReadCorruptFile: reason = "cannot be read: the file is corrupt"
            case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding: reason = "expected UTF-8 text, found other bytes"
            case .fileReadTooLarge: reason = "too large to read"
            case .fileWriteInapplicableStringEncoding: reason = "the text cannot be written in the requested encoding"
            case .fileWriteVolumeReadOnly: reason = "the volume is read-only"
            default:
                reason = (userInfo["NSDebugDescription"] as? String) ?? (path == nil ? "a file operation failed" : "the file operation failed")
            }
        }
        return (path.map { $0 + ": " } ?? "") + reason
    }
}

/// The `main` of a tool: parses the command line, runs the command, reports an error in one
/// line and exits with the status of `ExitStatus`.
public enum ToolMain {
    public static func run<C: ParsableCommand>(_ root: C.Type) -> Never {
        var command: ParsableCommand
        do {
            command = try C.parseAsRoot()
        } catch {
            exit(reportingParseError: error, of: root)
        }
        do {
            try command.run()
        } catch {
            exit(reporting: error, of: root)
        }
        Foundation.exit(ExitStatus.ok)
    }

    /// The tool's name, as its errors begin.
    static func name<C: ParsableCommand>(_ root: C.Type) -> String {
        C.configuration.commandName ?? (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "svae")
    }

    /// Help and --version print and exit 0; anything else from parsing is a usage error: the
    /// first line of ArgumentParser's message, status 2.
    public static func exit<C: ParsableCommand>(reportingParseError error: any Error, of root: C.Type) -> Never {
        if C.exitCode(for: error) == .success {
            print(C.fullMessage(for: error))
            Foundation.exit(ExitStatus.ok)
        }
        let message = C.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        printErr("\(name(root)): error: \(message)")
        Foundation.exit(ExitStatus.usage)
    }

    /// An error a command threw: `ExitCode` is the status itself; `UsageError`, a validation
    /// error and ArgumentParser's own errors (help of a subcommand, `help` command) are usage;
    /// every other error is a run-time error, `<tool>: error: <ErrorText>`, status 1.
    public static func exit<C: ParsableCommand>(reporting error: any Error, of root: C.Type) -> Never {
        switch error {
        case let e as ExitCode:
            Foundation.exit(e.rawValue)
        case let e as UsageError:
            printErr("\(name(root)): error: \(e.description)")
            Foundation.exit(ExitStatus.usage)
        case _ where error is ValidationError || error is CleanExit || String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            exit(reportingParseError: error, of: root)
        default:
            printErr("\(name(root)): error: \(ErrorText.describe(error))")
            Foundation.exit(ExitStatus.failure)
        }
    }
}
