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
// no output file; a wrong argument: one line `svae-convert: error: <what>`, exit 2; --check
// below its thresholds: exit 3 (ExitStatus, SVAECLISupport).

import ArgumentParser
import SVAE
import Foundation
import SVAECLISupport
import SVAEFormat
import SVAEImport
import SVAEJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
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

    @Option(help: "Type of 2-D weights: f32, f16, bf16, q8_0, q4_0 (q8_0 gives the encoder's and decoder's linear weights and the LM head i8r, per-row int8 in the kernels' layout; `--tensor-type '^decoder\\.=q8_0'` keeps the decoder's q8_0). Norms, biases and vectors stay f32.")
    var quant: String = "f32"

    @Option(name: .customLong("tensor-type"), help: "REGEX=TYPE override on our tensor names (repeatable, first match wins), e.g. 'decoder\\.lm_head\\.weight=q8_0'.")
    var tensorTypes: [String] = []

    @Option(help: "Config: the reference's YAML (config/SVAE/…/svae_768_h4.yaml, includes and ref_model_dir followed), or JSON (HF config.json or the reference's flat config); repeatable. Default: config.json in an input folder.")
    var config: [String] = []

    @Option(name: .customLong("ref-model"), help: "With a YAML config: the OPT folder to use instead of its ref_model_dir (svae.ref_model_dir for an SLLM).")
    var refModel: String?

    @Option(name: .customLong("llm-ref-model"), help: "With an SLLM YAML config: the OPT folder to use instead of llm.ref_model_dir.")
    var llmRefModel: String?

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

    @Flag(inversion: .prefixedNo, help: "\(MetadataKey.addBOS) (default: on for OPT-style tokenizers with </s> at id 2).")
    var addBos: Bool?

    @Option(help: "\(MetadataKey.name) of the model.")
    var name: String?

    @Flag(help: ArgumentHelp("After writing, score the converted model against an f32 conversion of the same source and print a verdict.",
                             discussion: "Teacher-forced perplexity of both models in lockstep on sample text: KL divergence (mean, p99), top-1 agreement and PPL ratio, against the thresholds of docs/convert.md (KLD mean ≤ 0.10, PPL ratio ≤ 1.10, top-1 agreement ≥ 85 %). Samples: --check-input, else samples.txt beside the input (a model folder that ships one), else built-in sentences. Exit status 3 when a threshold is missed (the output is kept)."))
    var check = false

    @Option(name: .customLong("check-input"), help: ArgumentHelp("Text for --check, one sentence (svae, opt) or passage (sllm) per line.", valueName: "file"))
    var checkInput: String?

    @Flag(help: "No progress bar, notes or summary.")
    var quiet = false

    /// The conversion options, and where a YAML config's values came from (printed as notes).
    func options() throws -> (ConvertOptions, notes: [String]) {
        var referenceNotes: [String] = []
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
        let yaml = configFiles.filter(ReferenceConfig.isYAML)
        if yaml.count > 1 { throw ValidationError("--config: expected at most one YAML config, found \(yaml.count)") }
        if yaml.isEmpty && (refModel != nil || llmRefModel != nil) {
            throw ValidationError("--ref-model and --llm-ref-model need a YAML --config (they replace its ref_model_dir)")
        }
        var configs: [ConfigSource] = []
        var tokenizerPath = tokenizer
        for c in configFiles {
            if ReferenceConfig.isYAML(c) {
                let r = try ReferenceConfig.load(path: c, includeRoot: Self.includeRoot(for: c), workingDirectory: ".",
                                                 refModel: refModel, llmRefModel: llmRefModel)
                configs += r.sources
                referenceNotes = r.notes
                if tokenizerPath == nil && !noTokenizer { tokenizerPath = r.tokenizer }
            } else {
                configs.append(try ConfigSource.file(c))
            }
        }
        configs += try llmConfig.map { try ConfigSource.file($0, role: .llm) }
        if !flags.isEmpty { configs.append(.flags(flags)) }
        return (ConvertOptions(
            importOptions: ImportOptions(architecture: arch, configs: configs, prefillAttention: prefillAttention),
            defaultType: q, tensorTypes: try tensorTypes.map { try TensorTypeRule(parsing: $0) },
            tokenizer: tokenizerPath, findTokenizer: !noTokenizer, addBOS: addBos, name: name), referenceNotes)
    }

    /// `!include` stays inside the working directory when the config is under it (the
    /// reference runs its scripts from the repository root), else inside the config's folder.
    static func includeRoot(for config: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let dir = (config as NSString).deletingLastPathComponent
        let real = (((dir.isEmpty ? "." : dir) as NSString).resolvingSymlinksInPath as NSString).standardizingPath
        let absolute = real.hasPrefix("/") ? real : (cwd as NSString).appendingPathComponent(real)
        let cwdReal = (cwd as NSString).resolvingSymlinksInPath
        return absolute == cwdReal || absolute.hasPrefix(cwdReal + "/") ? cwdReal : absolute
    }

    func run() throws {
        do {
            let (opts, referenceNotes) = try options()
            if !quiet { for n in referenceNotes { printErr("note: \(n)") } }
            // Everything --check needs is read and validated before anything is written.
            let samples = check ? try CheckSamples.find(checkInput: checkInput, inputs: inputs) : nil
            let bar = ProgressBar(enabled: !quiet && isatty(2) != 0)
            let report = try Converter.convert(inputs: inputs, output: output, options: opts) { bar.update($0) }
            bar.finish()
            if !quiet {
                for n in report.notes { printErr("note: \(n)") }
                print(String(format: "%@: %d tensors, %@ (%@ tensor data), %.2f bits/weight, %.1f s",
                             report.output, report.tensors.count, formatBytes(report.fileBytes), formatBytes(report.dataBytes),
                             report.bitsPerWeight, report.seconds))
            }
            if let samples, try !runCheck(options: opts, samples: samples) { throw ExitCode(ExitStatus.incomplete) }
        } catch let e as ConfigError {
            // A key missing or conflicting across the configs names no file: the inputs are where it is from.
            throw CLIError(ConvertError.describe(e, file: inputs.joined(separator: ", ")))
        }
        // Any other error reaches ToolMain: one line, `svae-convert: error: <file>: <what>`, exit 1.
    }
}

/// The text `--check` scores: `--check-input`, the model's own `samples.txt`, or built-in
/// sentences. Read and validated before the conversion starts.
struct CheckSamples {
    var lines: [String]
    var source: String

    static func find(checkInput: String?, inputs: [String]) throws -> CheckSamples {
        if let path = checkInput { return CheckSamples(lines: try read(path), source: path) }
        for i in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: i, isDirectory: &isDir) else { continue }
            let dir = isDir.boolValue ? i : (i as NSString).deletingLastPathComponent
            let candidate = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent("samples.txt")
            if FileManager.default.fileExists(atPath: candidate) { return CheckSamples(lines: try read(candidate), source: candidate) }
        }
        return CheckSamples(lines: QualityCheck.samples, source: "built-in sentences")
    }

    /// Non-blank lines of a UTF-8 file; an unreadable, non-UTF-8 or empty file is an error.
    static func read(_ path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
              let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(path): cannot read the --check input (expected a text file)")
        }
        var lines: [String] = []
        for (n, raw) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let bytes = raw.last == 0x0D ? raw.dropLast() : raw
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw CLIError("\(path):\(n + 1): expected UTF-8 text, found an invalid byte sequence")
            }
            if !line.allSatisfy(\.isWhitespace) { lines.append(line) }
        }
        guard !lines.isEmpty else { throw CLIError("\(path): expected at least one line of text for --check, found none") }
        return lines
    }
}

/// The thresholds of `--check` (docs/convert.md): a conversion passes when all three hold.
enum CheckThresholds {
    static let kldMean = 0.10
    static let pplRatio = 1.10
    static let top1Agreement = 0.85
}

extension SVAEConvert {
    /// `--check`: converts the same inputs to f32 next to the output (a temporary file), scores
    /// both models in lockstep on the samples and prints the verdict. Returns whether it passed.
    func runCheck(options: ConvertOptions, samples: CheckSamples) throws -> Bool {
        let dir = (output as NSString).deletingLastPathComponent
        let reference = (dir.isEmpty ? "." : dir) + "/.svae-check-reference-\(getpid()).tmp"
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
            throw CLIError("--check: \(ErrorText.describe(error))")
        }
        // Units: lines of text (sllm: the lines joined into passages by the splitter), or, without
        // a tokenizer, deterministic pseudo-random id sentences.
        let evaluator: PerplexityEvaluator
        do { evaluator = try PerplexityEvaluator(model: cand, reference: ref, threads: 1) } catch { throw CLIError("--check: \(ErrorText.describe(error))") }
        var skipped = 0, used = 0
        var what = samples.source
        if cand.tokenizer != nil {
            let lines = cand.architecture == "sllm" ? [samples.lines.joined(separator: " ")] : samples.lines
            for line in lines {
                do throws(SVAEError) {
                    try evaluator.add(line: line)
                    used += 1
                } catch {
                    skipped += 1  // e.g. a sentence longer than max_seq_len
                }
            }
        } else {
            what = "pseudo-random token ids (the file has no tokenizer)"
            let vocab = cand.config?.vocab ?? cand.opt?.config.vocab ?? 5
            let bos = cand.config?.bos ?? cand.opt?.config.bos ?? 2
            let maxLen = min(cand.config?.maxSeqLen ?? 64, 17)
            var state: UInt64 = 1
            var sentences: [[Int32]] = []
            for n in 0..<8 {
                var ids: [Int32] = [bos]
                for _ in 0..<min(6 + n, maxLen - 1) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    ids.append(Int32(4 + Int(state >> 33) % max(1, vocab - 4)))
                }
                sentences.append(ids)
            }
            do throws(SVAEError) {
                if cand.architecture == "svae" { for s in sentences { try evaluator.add(ids: [s]) } } else { try evaluator.add(ids: sentences) }
                used = sentences.count
            } catch {
                throw CLIError("--check: \(ErrorText.describe(error))")
            }
        }
        let s = evaluator.stats
        guard s.tokens > 0 else {
            throw CLIError("--check: no token could be scored from \(what) (\(skipped) lines did not fit the model)")
        }
        let kld = s.kld.mean, ratio = s.perplexityRatio, top1 = s.top1Agreement
        let pass = kld <= CheckThresholds.kldMean && ratio <= CheckThresholds.pplRatio && top1 >= CheckThresholds.top1Agreement
        print(String(format: "check (%@ vs f32, %d %@ from %@, %d tokens%@): KLD mean %.6f (≤ %.2f), p99 %.6f, max %.6f; PPL %.4f vs %.4f, ratio %.4f (≤ %.2f); top-1 agreement %.2f%% (≥ %.0f%%)",
                     options.defaultType.description, used, cand.architecture == "sllm" ? "passage(s)" : "lines", what, s.tokens,
                     skipped > 0 ? ", \(skipped) lines too long for the model left out" : "",
                     kld, CheckThresholds.kldMean, s.kld.quantile(0.99), s.kld.max, s.perplexity, s.referencePerplexity, ratio,
                     CheckThresholds.pplRatio, 100 * top1, 100 * CheckThresholds.top1Agreement))
        // Sentence vectors and free-running greedy decoding (informative, svae and sllm files with text).
        if let config = cand.config, let tok = cand.tokenizer {
            let sentences = samples.lines.map { tok.encode($0) }.filter { $0.count <= config.maxSeqLen }
            if !sentences.isEmpty, let r = try? QualityCheck.compare(reference: ref, candidate: cand, sentences: sentences) {
                print(String(format: "check: vector cosine mean %.6f min %.6f; greedy tokens %d/%d (%.1f%%), identical sentences %d/%d",
                             r.meanCosine, r.minCosine, r.greedySame, r.greedyTotal, 100 * r.greedyAgreement, r.greedyIdentical, r.sentences))
            }
        }
        print("check: \(pass ? "PASS" : "FAIL (below the thresholds of docs/convert.md)")")
        return pass
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

ToolMain.run(SVAEConvert.self)
