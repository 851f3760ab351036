import Foundation

/// The command-line programs built next to the running test bundle (`svae`, `svae-convert`,
/// `svae-bench`),
/// found in the build products directory of this test run, whatever the configuration
/// (`.build/debug`, `.build/release`, a custom `--scratch-path`).
public enum BuiltTools {
    /// The directory holding the test bundle: the build products directory.
    public static let productsDirectory: URL = {
        #if os(macOS)
        if let b = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return b.bundleURL.deletingLastPathComponent()
        }
        #endif
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath().deletingLastPathComponent()
    }()

    /// Path of the built executable `name`, or nil when it was not built.
    public static func path(_ name: String) -> String? {
        let p = productsDirectory.appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    final class Box: @unchecked Sendable { var data = Data() }

    /// What a finished process returned.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` with `arguments` (standard input from `stdin`), in `directory`.
    public static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil, directory: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let d = directory { p.currentDirectoryURL = URL(fileURLWithPath: d) }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        // Feed stdin and drain stderr on their own threads, so no pipe can fill up and block.
        let errBox = Box(), writer = Thread { [inp] in
            if let s = stdin { inp.fileHandleForWriting.write(s) }
            try? inp.fileHandleForWriting.close()
        }
        let reader = Thread { [err] in errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        writer.start()
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished || !writer.isFinished { usleep(1000) }
        let errData = errBox.data
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}
