// svae-convert: converts SentenceVAE / SLLM / OPT checkpoints to `.svae` (docs/convert.md).
//
//   svae-convert INPUT... -o OUT.svae [--quant f32|f16|bf16|q8_0|q4_0] [--config FILE]...
//       [--llm-config FILE]... [--heads N] [--llm-heads N] [--max-seq-len N]
//       [--architecture svae|sllm|opt] [--prefill-attention bidirectional|causal]
//       [--tokenizer PATH | --no-tokenizer] [--add-bos | --no-add-bos] [--name NAME]
//       [--tensor-type REGEX=TYPE]... [--quiet]
//
// Progress goes to stderr (a bar redrawn with \r, only on a terminal); the summary line to
// stdout. On failure: one line `svae-convert: error: <file>: <what>` on stderr, exit 1, and
// no output file; a wrong argument: one line `svae-convert: error: <what>`, exit 2.

import ArgumentParser
import SVAE
import Foundation
import SVAEFormat
import SVAEImport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SVAEConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae-convert",
        abstract: "Convert SentenceVAE, SLLM or OPT checkpoints (safetensors, .pth) to a .svae file.",
        discussion: """
            Exit status: 0 ok; 1 the conversion failed (one line naming the file and what is wrong; \
            no output file is left); 2 usage error.

            Examples:
              svae-convert models/svae-tiny -o svae-tiny.svae --quant q8_0
              svae-convert model.safetensors --config config.json -o m.svae --quant q4_0 --tensor-type 'decoder\\.lm_head\\.weight=q8_0'
              svae-convert SVAE-768-H4.pth --config config.json --tokenizer opt-125m/ -o svae768h4.svae
            """,
        version: Converter.version)

    @Argument(help: "Checkpoint files or folders (.safetensors, model.safetensors.index.json, .pth, a HF folder). Several inputs are merged.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output .svae file.")
    var output: String

    @Option(help: "Type of 2-D weights: f32, f16, bf16, q8_0, q4_0. Norms, biases and vectors stay f32.")
    var quant: String = "f32"

    @Option(name: .customLong("tensor-type"), help: "REGEX=TYPE override on our tensor names (repeatable, first match wins), e.g. 'decoder\\.lm_head\\.weight=q8_0'.")
    var tensorTypes: [String] = []

    @Option(help: "Config JSON (HF config.json or the reference's flat config); repeatable. Default: config.json in an input folder.")
    var config: [String] = []

    @Option(name: .customLong("llm-config"), help: "SLLM: the HF config.json of the OPT model whose layers it uses; repeatable.")
    var llmConfig: [String] = []

    @Option(help: "Attention heads of the SentenceVAE (or OPT) layers.")
    var heads: Int?

    @Option(name: .customLong("llm-heads"), help: "SLLM: attention heads of the OPT layers.")
    var llmHeads: Int?

    @Option(name: .customLong("max-seq-len"), help: "Longest sentence in tokens (BOS and EOS included).")
    var maxSeqLen: Int?

    @Option(help: "Force the architecture: svae, sllm or opt (default: detected from tensor names).")
    var architecture: String?

    @Option(name: .customLong("prefill-attention"), help: "SLLM prompt attention: bidirectional (reference checkpoints) or causal.")
    var prefillAttention: String?

    @Option(help: "Tokenizer: tokenizer.json, vocab.json (merges.txt beside it) or a folder. Default: found in an input folder.")
    var tokenizer: String?

    @Flag(name: .customLong("no-tokenizer"), help: "Write no tokenizer, even if an input folder holds one.")
    var noTokenizer = false

    @Flag(inversion: .prefixedNo, help: "tokens.add_bos (default: on for OPT-style tokenizers with </s> at id 2).")
    var addBos: Bool?

    @Option(help: "general.name of the model.")
    var name: String?

    @Flag(help: "After writing, run the converted model and an f32 conversion of the same source on sample sentences and print vector cosine, greedy agreement and logit error.")
    var check = false

    @Option(name: .customLong("check-input"), help: "Sentences for --check, one per line (default: built-in samples).")
    var checkInput: String?

    @Flag(help: "No progress bar, notes or summary.")
    var quiet = false

    func options() throws -> ConvertOptions {
        guard let q = SVAEFormat.ElementType(name: quant) else {
            throw ValidationError("--quant \(quant): expected f32, f16, bf16, q8_0 or q4_0")
        }
        let arch: Architecture?
        if let a = architecture {
            guard let x = Architecture(rawValue: a) else { throw ValidationError("--architecture \(a): expected svae, sllm or opt") }
            arch = x
        } else {
            arch = nil
        }
        if let p = prefillAttention, p != "bidirectional" && p != "causal" {
            throw ValidationError("--prefill-attention \(p): expected bidirectional or causal")
        }
        if noTokenizer && tokenizer != nil { throw ValidationError("--tokenizer and --no-tokenizer exclude each other") }
        var flags: [(String, JSONValue)] = []
        if let h = heads { flags.append(("num_attention_heads", .number("\(h)"))) }
        if let h = llmHeads { flags.append(("llm_num_attention_heads", .number("\(h)"))) }
        if let m = maxSeqLen { flags.append(("max_seq_len", .number("\(m)"))) }
        var configFiles = config
        if configFiles.isEmpty {
            // Like Hugging Face loaders: a folder input's config.json is the model's config.
            for i in inputs {
                var isDir: ObjCBool = false
                let c = (i as NSString).appendingPathComponent("config.json")
                if FileManager.default.fileExists(atPath: i, isDirectory: &isDir), isDir.boolValue,
                   FileManager.default.fileExists(atPath: c) {
                    configFiles.append(c)
                }
            }
        }
        var configs = try configFiles.map { try ConfigSource.file($0) } + llmConfig.map { try ConfigSource.file($0, role: .llm) }
        if !flags.isEmpty { configs.append(.flags(flags)) }
        return ConvertOptions(
            importOptions: ImportOptions(architecture: arch, configs: configs, prefillAttention: prefillAttention),
            defaultType: q, tensorTypes: try tensorTypes.map { try TensorTypeRule(parsing: $0) },
            tokenizer: tokenizer, findTokenizer: !noTokenizer, addBOS: addBos, name: name)
    }

    func run() throws {
        do {
            let opts = try options()
            let bar = ProgressBar(enabled: !quiet && isatty(2) != 0)
            let report = try Converter.convert(inputs: inputs, output: output, options: opts) { bar.update($0) }
            bar.finish()
            if !quiet {
                for n in report.notes { printErr("note: \(n)") }
                print(String(format: "%@: %d tensors, %@ (%@ tensor data), %.2f bits/weight, %.1f s",
                             report.output, report.tensors.count, formatBytes(report.fileBytes), formatBytes(report.dataBytes),
                             report.bitsPerWeight, report.seconds))
            }
            if check { try runCheck(options: opts) }
        } catch let e as ValidationError {
            throw e
        } catch {
            printErr("svae-convert: error: " + ConvertError.describe(error, file: inputs.joined(separator: ", ")))
            throw ExitCode(1)
        }
    }
}

extension SVAEConvert {
    /// `--check`: converts the same inputs to f32 next to the output (a temporary file), then
    /// compares the two models on sample sentences.
    func runCheck(options: ConvertOptions) throws {
        let reference = (output as NSString).deletingLastPathComponent.isEmpty ? ".svae-check-reference.tmp"
            : (output as NSString).deletingLastPathComponent + "/.svae-check-reference-\(getpid()).tmp"
        var refOptions = options
        refOptions.defaultType = .f32
        refOptions.tensorTypes = []
        defer { try? FileManager.default.removeItem(atPath: reference) }
        _ = try Converter.convert(inputs: inputs, output: reference, options: refOptions, progress: nil)
        let cand: Model, ref: Model
        do {
            cand = try Model(path: output, options: ModelOptions(threads: 1))
            ref = try Model(path: reference, options: ModelOptions(threads: 1))
        } catch {
            printErr("note: --check needs a svae or sllm file the runtime can open: \(error)")
            return
        }
        var texts = QualityCheck.samples
        if let path = checkInput {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--check-input \(path): cannot read it") }
            texts = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        guard let config = cand.config else {
            printErr("note: --check compares sentence encoders and decoders; this file has none (architecture opt)")
            return
        }
        var sentences: [[Int32]] = []
        if let tok = cand.tokenizer {
            sentences = texts.map { tok.encode($0) }.map { Array($0.prefix(config.maxSeqLen)) }
        } else {
            // No tokenizer: deterministic pseudo-random id sentences of 6–16 tokens.
            var state: UInt64 = 1
            for n in 0..<8 {
                var ids: [Int32] = [config.bos]
                for _ in 0..<(6 + n) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    ids.append(Int32(4 + Int(state >> 33) % max(1, config.vocab - 4)))
                }
                sentences.append(Array(ids.prefix(config.maxSeqLen)))
            }
        }
        let r: QualityReport
        do { r = try QualityCheck.compare(reference: ref, candidate: cand, sentences: sentences) } catch { throw ValidationError("--check: \(error)") }
        print(String(format: "check (%@ vs f32, %d sentences): vector cosine mean %.6f min %.6f; greedy tokens %d/%d (%.1f%%), identical sentences %d/%d; logits max |Δ| %.4g mean |Δ| %.4g",
                     quant, r.sentences, r.meanCosine, r.minCosine, r.greedySame, r.greedyTotal, 100 * r.greedyAgreement,
                     r.greedyIdentical, r.sentences, r.maxLogitError, r.meanLogitError))
    }
}

/// A one-line progress bar on stderr, redrawn at most 10 times a second.
final class ProgressBar {
    let enabled: Bool
    /// Set at the first tensor chunk: rate and ETA cover tensor conversion only (the source
    /// digest and planning before it are announced on their own line).
    var start: Double? = nil
    var lastDraw = 0.0
    var drawn = false

    init(enabled: Bool) {
        self.enabled = enabled
        if enabled {
            FileHandle.standardError.write(Data("planning, hashing the sources (sha256)…\u{1B}[K".utf8))
            drawn = true
        }
    }

    func update(_ p: ConversionProgress) {
        guard enabled else { return }
        let t = monotonicSeconds()
        let start = self.start ?? t
        self.start = start
        guard t - lastDraw >= 0.1 || p.bytesWritten == p.bytesTotal else { return }
        lastDraw = t
        let elapsed = t - start
        let frac = p.bytesTotal == 0 ? 1 : Double(p.bytesWritten) / Double(p.bytesTotal)
        let rate = elapsed > 0 ? Double(p.bytesWritten) / elapsed : 0
        let eta = rate > 0 ? Double(p.bytesTotal - p.bytesWritten) / rate : 0
        let width = 24
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let name = p.tensorName.count > 32 ? "…" + p.tensorName.suffix(31) : p.tensorName
        let line = String(format: "\r[%@] %3d%% tensor %d/%d %@ / %@ %@/s ETA %.0fs %@\u{1B}[K",
                          bar, Int(frac * 100), p.tensor, p.tensorCount, formatBytes(p.bytesWritten), formatBytes(p.bytesTotal),
                          formatBytes(Int(rate)), eta, name)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}

func printErr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Help and --version exit 0; a wrong argument is one line and exit 2; a failed conversion one
/// line and exit 1 (the same statuses as `svae`).
func runConvert() -> Never {
    var command: ParsableCommand
    do {
        command = try SVAEConvert.parseAsRoot()
    } catch {
        usageExit(error)
    }
    do {
        try command.run()
    } catch let e as ExitCode {
        exit(e.rawValue)
    } catch {
        usageExit(error)
    }
    exit(0)
}

func usageExit(_ error: Error) -> Never {
    if SVAEConvert.exitCode(for: error) == .success {
        print(SVAEConvert.fullMessage(for: error))
        exit(0)
    }
    let message = SVAEConvert.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    printErr("svae-convert: error: \(message)")
    exit(2)
}

runConvert()
