import ArgumentParser
import Foundation
import SVAECLISupport
import SVAEKernels
import SVAEModel

/// Token-level OPT on a given `.svae` file with the workload of the peers' OPT rows
/// (`tools/bench/peers_generate.py`, CTranslate2 / transformers): a fixed prompt, then greedy
/// tokens with EOS ignored, so every engine produces exactly the same number of tokens.
///
/// Per repetition, from an empty cache: T1 = until the prompt and the first new token, T = until
/// all `new` tokens, clocked in the same run. Decode ms/token = (T − T1) / (new − 1) (the decode
/// steps alone, never a difference of two runs); tokens/s including the prefill = new / T.
struct BenchOPT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt",
        abstract: "Token-level OPT generation on an opt .svae file: fixed prompt, greedy, EOS ignored (the peers' OPT workload).")

    @Argument(help: "An opt .svae file (for example from svae-convert on a Hugging Face OPT folder).") var model: String
    @Option(help: "Prompt tokens (BOS then deterministic ids, the same as tools/bench/peers_generate.py).") var prompt = 32
    @Option(help: "New tokens per run.") var new = 128
    @Option(help: "Threads.") var threads = 1
    @Option(help: "Repetitions after the warm-up.") var repetitions = 5
    @Flag(help: "Print JSON.") var json = false

    /// BOS (2) then `count - 1` ids in 4..<4 + m, m = min(50000, vocab − 4), from a fixed rule;
    /// peers_generate.py builds the same list for OPT's vocabulary (m = 50000).
    static func promptIDs(_ count: Int, vocab: Int = 50272) -> [Int32] {
        let m = max(1, min(50_000, vocab - 4))
        return [2] + (1..<max(count, 1)).map { Int32(4 + ($0 * 104_729) % m) }
    }

    func run() throws {
        guard prompt >= 1, new >= 2, threads >= 1, repetitions >= 1 else {
            throw CLIError("opt: expected --prompt ≥ 1, --new ≥ 2, --threads ≥ 1, --repetitions ≥ 1")
        }
        var first: [Double] = [], full: [Double] = []
        var generated: [Int32] = []
        do {
            let ctx = try KernelContext(threads: threads)
            let m = try OPTLanguageModel(path: model)
            guard m.config.vocab > 4 else { throw CLIError("opt: the model's vocabulary (\(m.config.vocab)) is too small") }
            let ids = Self.promptIDs(prompt, vocab: m.config.vocab)
            let s = m.makeSession(context: ctx)
            /// (T1, T) of one run.
            func once() throws(ModelError) -> (Double, Double) {
                s.reset()
                let t0 = now()
                var next = Sampler.argmax(try s.feed(ids))
                let t1 = now()
                generated = [next]
                for _ in 1..<new {
                    next = Sampler.argmax(try s.feed([next]))
                    generated.append(next)
                }
                return (t1 - t0, now() - t0)
            }
            _ = try once()
            for _ in 0..<repetitions {
                let (t1, t) = try once()
                first.append(t1)
                full.append(t)
            }
        } catch let e as ModelError {
            throw CLIError(e.description)
        } catch let e as KernelError {
            throw CLIError("\(e)")
        }
        let decode = Stats(zip(full, first).map { ($0 - $1) / Double(new - 1) * 1000 })
        let rate = Stats(full.map { Double(new) / $0 })
        let prefill = Stats(first.map { $0 * 1000 })
        if json {
            printJSON(["model": model, "threads": threads, "prompt_tokens": prompt, "new_tokens": new, "repetitions": repetitions,
                       "decode_ms_per_token": decode.json, "tokens_per_s_with_prefill": rate.json, "prefill_plus_one_ms": prefill.json,
                       "generated_ids": generated.prefix(16).map { Int($0) }, "peak_rss_bytes": peakRSSBytes(),
                       "machine": MachineInfo.current().description])
        } else {
            print("machine    \(machineDescription())")
            print("model      \(model), \(threads) thread(s); prompt \(prompt) tokens + \(new) new, greedy, EOS ignored; \(repetitions) runs (median (min–max))")
            print("decode     \(decode) ms/token")
            print("prefill    \(prefill) ms (prompt + first token)")
            print("rate       \(rate) tokens/s including the prefill")
            print("peak RSS   \(peakRSSBytes() / 1_000_000) MB")
        }
    }
}
