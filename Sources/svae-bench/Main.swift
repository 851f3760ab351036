// svae-bench: size and speed of svae on this machine (docs/bench.md), kept out of the user CLI
// `svae` as llama.cpp keeps llama-bench out of llama-cli. Random-weight models of the released
// shapes are written by the bench itself; tools/bench/*.py drive it for BENCHMARKS.md.
import ArgumentParser
import Foundation
import SVAECLISupport
import SVAE

struct SVAEBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae-bench",
        abstract: "Measure size and speed on this machine (medians over repetitions, after a warm-up).",
        discussion: """
            Errors are one line on stderr: svae-bench: error: <what>. Exit status: 0 ok; 1 a failed \
            measurement, a bad file or any other run-time error; 2 usage error.

            Examples:
              svae-bench model --shape svae-768-h4 --type q4_0 --threads 1
              svae-bench kernels
              svae-bench generate --types q8_0 --threads 1
            """,
        subcommands: [BenchModel.self, BenchSizes.self, BenchCold.self, BenchAll.self, BenchKernels.self, BenchGenerate.self, BenchOPT.self,
                      BenchProbe.self, BenchThreads.self, BenchTokenizer.self, BenchFirstSentence.self])
}

@main
enum Main {
    static func main() { ToolMain.run(SVAEBench.self) }
}
