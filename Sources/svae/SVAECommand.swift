import ArgumentParser

@main
struct SVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae",
        abstract: "Run and inspect SentenceVAE / SLLM models in the .svae format.",
        subcommands: [Reconstruct.self, Encode.self, Decode.self, Generate.self, Perplexity.self, Tokenize.self, Inspect.self, Verify.self, Bench.self])
}

/// Prints one line to standard error and exits non-zero: the CLIs' only way of failing.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
