import Foundation
import Testing

import SVAE
import SVAETestSupport
import SVAETokenizer

/// The built `svae` and `svae-convert` run as a user runs them, on the shipped model
/// (models/svae-tiny, converted once): each finding of issue 15 by its command, exit status and
/// message, the encode | decode pipe, and every example command of README.md, docs/ and --help.
enum Shipped {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let svae = BuiltTools.path("svae")
    static let convert = BuiltTools.path("svae-convert")
    static let samples = "\(repo)/models/svae-tiny/samples.txt"
    static let heldoutV1 = "\(repo)/models/svae-tiny/heldout-v1.txt"

    /// A scratch folder holding `svae-tiny.svae` (q8_0, as README converts it) and a `models`
    /// link to the repository's, so example commands run unchanged inside it.
    static let workdir: String? = {
        guard let convert else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svae-cli-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: dir + "/models", withDestinationPath: repo + "/models")
        guard let r = try? BuiltTools.run(convert, ["models/svae-tiny", "-o", "svae-tiny.svae", "--quant", "q8_0", "--quiet"], directory: dir),
              r.status == 0 else { return nil }
        return dir
    }()
    static var model: String { (workdir ?? "/nonexistent") + "/svae-tiny.svae" }
    /// The same model in f32: encoding a batch and one sentence give identical vectors there
    /// (q8_0's batched and single-sentence kernels round activations differently).
    static let f32Model: String = {
        let path = (workdir ?? "/nonexistent") + "/svae-tiny-f32.svae"
        _ = try? BuiltTools.run(convert!, ["models/svae-tiny", "-o", path, "--quiet"], directory: workdir)
        return path
    }()

    static let ready: Bool = {
        let ok = svae != nil && workdir != nil
        if !ok { Issue.record("svae / svae-convert not built next to the tests in \(BuiltTools.productsDirectory.path) (swift build first), or the conversion failed") }
        return ok
    }()

    static func svae(_ args: [String], stdin: String? = nil) throws -> BuiltTools.Output {
        try BuiltTools.run(svae!, args, stdin: stdin.map { Data($0.utf8) }, directory: workdir)
    }

    static func lines(_ s: String) -> [String] { s.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    static func json(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }
}

@Suite(.serialized) struct CommandLineTests {
    // MARK: finding 1: the README's tokenize form

    @Test func tokenizeWithTokenizerFolderTakesTheFirstText() throws {
        guard Shipped.ready else { return }
        let r = try Shipped.svae(["tokenize", "--tokenizer", "models/svae-tiny", "First text."])
        let viaModel = try Shipped.svae(["tokenize", Shipped.model, "First text."])
        #expect(r.status == 0 && viaModel.status == 0)
        #expect(!r.stdout.isEmpty && r.stdout == viaModel.stdout, "\(r.stdout) vs \(viaModel.stdout)")
        #expect(r.stdout.hasPrefix("2 "), "BOS first: \(r.stdout)")
    }

    // MARK: finding 2: standard input, and no input at all

    @Test func encodePipedIntoDecodeRoundTripsTheSamples() throws {
        guard Shipped.ready else { return }
        let m = Shipped.f32Model
        let enc = try Shipped.svae(["encode", m, "--input", Shipped.samples, "--json"])
        #expect(enc.status == 0, "\(enc.stderr)")
        let dec = try Shipped.svae(["decode", m, "--input", "-", "--json"], stdin: enc.stdout)
        #expect(dec.status == 0, "\(dec.stderr)")
        let rec = try Shipped.svae(["reconstruct", m, "--input", Shipped.samples, "--json"])
        let texts = Shipped.lines(try String(contentsOfFile: Shipped.samples, encoding: .utf8))
        let decoded = Shipped.lines(dec.stdout).map(Shipped.json), reconstructed = Shipped.lines(rec.stdout).map(Shipped.json)
        #expect(decoded.count == texts.count && reconstructed.count == texts.count)
        for (i, (d, r)) in zip(decoded, reconstructed).enumerated() {
            #expect(d["text"] as? String == texts[i] && d["line"] as? Int == i + 1)
            // The pipe gives what reconstruct gives in one process (same vector, greedy decode).
            #expect(d["output"] as? String == r["output"] as? String, "line \(i + 1)")
            #expect((d["output_ids"] as? [Int]) == (r["output_ids"] as? [Int]))
        }
        #expect(reconstructed.contains { $0["exact"] as? Bool == true }, "the shipped model reconstructs some samples exactly")
    }

    /// The vectors encode prints, as text and as JSON, are the library's floats exactly: each number
    /// reads back as the same 32-bit float, bit for bit (they were "%.6g" text before: 6 digits).
    @Test func encodePrintsTheLibrarysFloatsExactly() throws {
        guard Shipped.ready else { return }
        let m = Shipped.f32Model
        let texts = Shipped.lines(try String(contentsOfFile: Shipped.samples, encoding: .utf8))
        let expected = try SVAE.Model(path: m).encode(texts)
        let plain = try Shipped.svae(["encode", m, "--input", Shipped.samples])
        let json = try Shipped.svae(["encode", m, "--input", Shipped.samples, "--json"])
        #expect(plain.status == 0 && json.status == 0, "\(plain.stderr) \(json.stderr)")
        let fromText = Shipped.lines(plain.stdout).map { $0.split(separator: " ").map { Float(String($0)) } }
        let fromJSON = Shipped.lines(json.stdout).map { line -> [Float?] in
            // Read as text, not through JSONSerialization's Double: the printed digits themselves.
            let inner = line.components(separatedBy: "\"vector\":[").last?.components(separatedBy: "]").first ?? ""
            return inner.split(separator: ",").map { Float(String($0)) }
        }
        #expect(fromText.count == texts.count && fromJSON.count == texts.count)
        for (i, e) in expected.enumerated() where i < fromText.count && i < fromJSON.count {
            #expect(fromText[i].map { $0?.bitPattern } == e.map(\.bitPattern), "line \(i + 1), text")
            #expect(fromJSON[i].map { $0?.bitPattern } == e.map(\.bitPattern), "line \(i + 1), JSON")
        }
        // The object around the vector is what JSONSerialization writes, keys sorted, vector last.
        let first = Shipped.json(Shipped.lines(json.stdout)[0])
        #expect(first.keys.sorted() == ["ids", "line", "text", "vector"] && first["line"] as? Int == 1)
        #expect(Shipped.lines(json.stdout)[0].hasPrefix("{\"ids\":["))
    }

    /// A line given as ids has no text: encode --json writes "text": null, and decode takes that
    /// line back (it used to refuse the null) and writes no "text".
    @Test func encodePipedIntoDecodeTakesLinesGivenAsIDs() throws {
        guard Shipped.ready else { return }
        let m = Shipped.f32Model
        let ids = try Shipped.svae(["tokenize", m, "Rule used to estimate the integral."])
        let line = "{\"ids\": [\(ids.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))]}\n"
        let enc = try Shipped.svae(["encode", m, "--input", "-", "--json"], stdin: line)
        #expect(enc.status == 0 && enc.stdout.contains("\"text\":null"), "\(enc.stdout) \(enc.stderr)")
        let dec = try Shipped.svae(["decode", m, "--input", "-", "--json"], stdin: enc.stdout)
        #expect(dec.status == 0, "\(dec.stderr)")
        let d = try #require(Shipped.lines(dec.stdout).map(Shipped.json).first)
        #expect(d["text"] == nil && d["line"] as? Int == 1 && (d["output"] as? String)?.isEmpty == false, "\(d)")
        let wrong = try Shipped.svae(["decode", m, "--input", "-"], stdin: "{\"text\": 3, \"vector\": [1]}\n")
        #expect(wrong.status == 1 && wrong.stderr.contains("field \"text\": expected a string or null, found"), "\(wrong.stderr)")
    }

    /// The first output line of `svae args` fed `input` on a standard input that stays open: it
    /// only arrives if the command answers each line as it comes, not at the end of the input.
    static func firstLineWhileInputIsOpen(_ args: [String], _ input: String) throws -> (String, Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Shipped.svae!)
        p.arguments = args
        let inp = Pipe(), out = Pipe()
        p.standardInput = inp
        p.standardOutput = out
        try p.run()
        inp.fileHandleForWriting.write(Data(input.utf8))
        var got = Data()
        while !got.contains(0x0A) {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            got += d
        }
        try inp.fileHandleForWriting.close()
        p.waitUntilExit()
        return (String(decoding: got, as: UTF8.self), p.terminationStatus)
    }

    @Test func encodeAndDecodeAnswerEachLineBeforeStandardInputEnds() throws {
        guard Shipped.ready else { return }
        let text = "Rule used to estimate the integral."
        let enc = try Shipped.svae(["encode", Shipped.model, text, "--json"])
        let (decoded, s1) = try Self.firstLineWhileInputIsOpen(["decode", Shipped.model, "--input", "-"], enc.stdout)
        #expect(decoded == text + "\n" && s1 == 0)
        let (encoded, s2) = try Self.firstLineWhileInputIsOpen(["encode", Shipped.model, "--input", "-", "--json"], text + "\n")
        #expect(encoded == enc.stdout && s2 == 0)
    }

    /// Issue 14: --batch decodes N sentences in lockstep; the output is the same for every N
    /// on these lines (greedy and seeded), in input order, and --batch 1 is one at a time.
    @Test func batchSizesGiveTheSameOutput() throws {
        guard Shipped.ready else { return }
        let lines = Shipped.lines(try String(contentsOfFile: Shipped.heldoutV1, encoding: .utf8)).prefix(70).joined(separator: "\n") + "\n"
        let rec = try [1, 5, 32].map { try Shipped.svae(["reconstruct", Shipped.model, "--input", "-", "--json", "--batch", "\($0)"], stdin: lines) }
        #expect(rec.allSatisfy { $0.status == 0 } && Shipped.lines(rec[0].stdout).count == 70, "\(rec.map(\.stderr))")
        #expect(rec[1].stdout == rec[0].stdout && rec[2].stdout == rec[0].stdout)
        let enc = try Shipped.svae(["encode", Shipped.model, "--input", "-", "--json"], stdin: lines)
        let dec = try [1, 4, 32].map { try Shipped.svae(["decode", Shipped.model, "--input", "-", "--json", "--temperature", "0.9", "--seed", "3", "--batch", "\($0)"], stdin: enc.stdout) }
        #expect(dec.allSatisfy { $0.status == 0 } && dec[1].stdout == dec[0].stdout && dec[2].stdout == dec[0].stdout)
        #expect(Shipped.lines(dec[0].stdout).map { Shipped.json($0)["line"] as? Int } == (1...70).map { $0 })
        for bad in ["0", "257"] {
            let r = try Shipped.svae(["decode", Shipped.model, "--input", Shipped.samples, "--batch", bad])
            #expect(r.status == 2 && r.stderr.contains("--batch \(bad): expected a whole number in 1 ... 256"), "\(r.stderr)")
        }
    }

    @Test func noTextsAndNoInputIsAUsageError() throws {
        guard Shipped.ready else { return }
        for cmd in ["encode", "reconstruct"] {
            let r = try Shipped.svae([cmd, Shipped.model])
            #expect(r.status == 2)
            #expect(r.stderr == "svae: error: expected texts or --input FILE (--input - reads standard input)\n")
        }
        let r = try Shipped.svae(["decode", Shipped.model])
        #expect(r.status == 2)
    }

    // MARK: finding 4: a line beyond the sentence limit

    @Test func aTooLongLineNamesFileAndLineAndStops() throws {
        guard Shipped.ready else { return }
        let r = try Shipped.svae(["reconstruct", Shipped.model, "--input", "models/svae-tiny/heldout-v1.txt", "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("svae: error: models/svae-tiny/heldout-v1.txt:121: expected at most 32 tokens (the model's max_seq_len, BOS included), found "))
        #expect(Shipped.lines(r.stdout).count == 120, "lines before the bad one are printed")
        let e = try Shipped.svae(["encode", Shipped.model, "--input", "models/svae-tiny/heldout-v1.txt"])
        #expect(e.status == 1 && e.stderr.contains("heldout-v1.txt:121: "))
        #expect(Shipped.lines(e.stdout).count == 120)
    }

    @Test func skipPutsAnErrorObjectInPlaceAndExitsThree() throws {
        guard Shipped.ready else { return }
        let input = try String(contentsOfFile: Shipped.heldoutV1, encoding: .utf8)
        let first = Shipped.lines(input).prefix(130).joined(separator: "\n") + "\n"
        let r = try Shipped.svae(["encode", Shipped.model, "--input", "-", "--json", "--on-error", "skip"], stdin: first)
        #expect(r.status == 3)
        let out = Shipped.lines(r.stdout).map(Shipped.json)
        #expect(out.count == 130)
        #expect(out.enumerated().allSatisfy { $0.element["line"] as? Int == $0.offset + 1 }, "input order, one object per line")
        let errors = out.filter { $0["error"] != nil }
        #expect(errors.first?["line"] as? Int == 121)
        #expect((errors.first?["error"] as? String)?.hasPrefix("-:121: expected at most 32 tokens") == true)
        #expect(r.stderr == "svae: \(errors.count) of 130 input lines skipped\n")
    }

    @Test func splitCutsALongLineIntoTheReferenceSentences() throws {
        guard Shipped.ready else { return }
        let texts = Shipped.lines(try String(contentsOfFile: Shipped.samples, encoding: .utf8))
        let long = texts.prefix(4).joined(separator: " ")
        let without = try Shipped.svae(["encode", Shipped.model, long])
        #expect(without.status == 1 && without.stderr.contains("argument 1: expected at most 32 tokens") && without.stderr.contains("--split"))
        let r = try Shipped.svae(["encode", Shipped.model, long, "--split", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = Shipped.lines(r.stdout).map(Shipped.json)
        let pieces = SentenceSplitter().split(long)
        #expect(pieces.count > 1 && out.count == pieces.count)
        #expect(out.map { $0["text"] as? String } == pieces.map { Optional($0) })
        #expect(out.map { $0["sentence"] as? Int } == (1...pieces.count).map { Optional($0) })
        #expect(out.allSatisfy { $0["line"] as? Int == 1 })
    }

    // MARK: finding 5: strict JSON fields

    @Test func jsonLinesTakeOnlyTheFieldsTheCommandUses() throws {
        guard Shipped.ready else { return }
        let cases: [(cmd: String, line: String, message: String)] = [
            ("reconstruct", #"{"vector": [0.5, 1]}"#, #"-:1: field "vector": not used by this command (it reads "ids", "text")"#),
            ("encode", #"{"vector": [0.5, 1]}"#, #"-:1: field "vector": not used by this command (it reads "ids", "text")"#),
            ("encode", #"{"text": "a", "ids": [2, 5]}"#, #"-:1: expected one of "text" and "ids", found both"#),
            ("encode", #"{"text": 5}"#, #"-:1: field "text": expected a string or null, found a number 5"#),
            ("tokenize", #"{"ids": [2, true]}"#, #"-:1: field "ids": element 1: expected an integer token id, found a boolean true"#),
            ("encode", #"{"ids": [2, 1.5]}"#, #"-:1: field "ids": element 1: expected an integer token id, found a number 1.5"#),
            ("encode", #"{"text": "a", "text": "b"}"#, #"-:1: invalid JSON: key "text" appears twice in one object"#),
            ("decode", #"{"text": "a"}"#, #"-:1: expected a "vector" field, found none"#),
            ("decode", #"{"vector": [1, 2]}"#, #"-:1: field "vector": expected 128 values, found 2"#),
            ("decode", "plain text", #"-:1: expected a JSON object with a "vector" field, found plain text"#),
            ("encode", #"{"ids": [2, 99999]}"#, #"-:1: field "ids": element 1: expected a token id in 0..<2048, found 99999"#),
        ]
        for c in cases {
            let r = try Shipped.svae([c.cmd, Shipped.model, "--input", "-"], stdin: c.line + "\n")
            #expect(r.status == 1, "\(c.cmd) \(c.line)")
            #expect(r.stderr == "svae: error: \(c.message)\n", "\(c.cmd) \(c.line)")
            #expect(r.stdout.isEmpty)
        }
        // {"ids"} given to tokenize is turned into text, not silently re-tokenized.
        let ids = try Shipped.svae(["tokenize", Shipped.model, "Rule used to estimate the integral.", "--json"])
        let idList = (Shipped.json(ids.stdout)["ids"] as? [Int] ?? []).map(String.init).joined(separator: ", ")
        let back = try Shipped.svae(["tokenize", Shipped.model, "--input", "-", "--json"], stdin: "{\"ids\": [\(idList)]}\n")
        #expect(back.status == 0, "\(back.stderr)")
        #expect(Shipped.json(back.stdout)["text"] as? String == "Rule used to estimate the integral.")
    }

    // MARK: finding 6: invalid UTF-8

    @Test func invalidUTF8IsAnInputError() throws {
        guard Shipped.ready else { return }
        let path = Shipped.workdir! + "/bad-utf8.txt"
        try Data(Array("Rule used to estimate the integral.\nbad ".utf8) + [0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        for cmd in ["encode", "reconstruct", "tokenize"] {
            let r = try Shipped.svae([cmd, Shipped.model, "--input", "bad-utf8.txt"])
            #expect(r.status == 1)
            #expect(r.stderr == "svae: error: bad-utf8.txt:2: expected UTF-8 text, found an invalid byte at byte 5 of the line\n", "\(cmd): \(r.stderr)")
            #expect(!r.stdout.isEmpty, "line 1 is done before line 2 fails")
        }
    }

    // MARK: finding 7: messages in plain words, one line

    @Test func errorsArePlainWordsOnOneLine() throws {
        guard Shipped.ready else { return }
        let missingTok = try Shipped.svae(["tokenize", "--tokenizer", "models/svae-tiny/tokenizer.json.missing", "x"])
        #expect(missingTok.status == 1 && missingTok.stderr == "svae: error: models/svae-tiny/tokenizer.json.missing: expected a tokenizer.json, a vocab.json with merges.txt beside it, or a folder holding them; found none\n")
        let emptyDir = Shipped.workdir! + "/empty-tokenizer"
        try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
        let noFiles = try Shipped.svae(["tokenize", "--tokenizer", "empty-tokenizer", "x"])
        #expect(noFiles.status == 1 && noFiles.stderr == "svae: error: empty-tokenizer: expected a tokenizer.json, a vocab.json with merges.txt beside it, or a folder holding them; found none\n")

        let whole = try Data(contentsOf: URL(fileURLWithPath: Shipped.model))
        try whole.prefix(1000).write(to: URL(fileURLWithPath: Shipped.workdir! + "/cut.svae"))
        let cut = try Shipped.svae(["inspect", "cut.svae"])
        #expect(cut.status == 1)
        #expect(cut.stderr == "svae: error: cut.svae: truncated: the file is 1000 bytes long, its header says \(whole.count) (an incomplete copy or download?)\n")

        let st = try Data(contentsOf: URL(fileURLWithPath: Shipped.repo + "/models/svae-tiny/model.safetensors"))
        try st.prefix(100).write(to: URL(fileURLWithPath: Shipped.workdir! + "/cut.safetensors"))
        let c = try BuiltTools.run(Shipped.convert!, ["cut.safetensors", "--config", "models/svae-tiny/config.json", "-o", "never.svae"], directory: Shipped.workdir)
        #expect(c.status == 1)
        #expect(c.stderr.hasPrefix("svae-convert: error: cut.safetensors: truncated: the header claims "))
        #expect(c.stderr.hasSuffix(" bytes, the file is 100 bytes long\n"))
        #expect(!FileManager.default.fileExists(atPath: Shipped.workdir! + "/never.svae"))

        let unknown = try Shipped.svae(["encode", Shipped.model, "--no-such-option", "x"])
        #expect(unknown.status == 2 && unknown.stderr == "svae: error: Unknown option '--no-such-option'\n")
        let convertUsage = try BuiltTools.run(Shipped.convert!, ["models/svae-tiny"], directory: Shipped.workdir)
        #expect(convertUsage.status == 2 && Shipped.lines(convertUsage.stderr).count == 1 && convertUsage.stderr.hasPrefix("svae-convert: error: "))
        for r in [missingTok, noFiles, cut, c, unknown] {
            #expect(!r.stderr.contains("Error Domain") && !r.stderr.contains("Usage:") && Shipped.lines(r.stderr).count == 1)
        }
    }

    // MARK: finding 8: version, numeric options, --tensor-type

    @Test func versionAndNumericOptions() throws {
        guard Shipped.ready else { return }
        let v = try Shipped.svae(["--version"])
        #expect(v.status == 0 && v.stdout == "svae 0.1.0\n")
        let full = try Shipped.svae(["version"])
        #expect(full.status == 0 && full.stdout.hasPrefix("svae 0.1.0\nformat  svae 1.0") && full.stdout.contains("kernels "))
        let bad: [([String], String)] = [
            (["encode", Shipped.model, "--threads", "0", "x"], "--threads 0: expected a whole number ≥ 1"),
            (["encode", Shipped.model, "--threads", "-2", "x"], "--threads -2: expected a whole number ≥ 1"),
            (["decode", Shipped.model, "--input", "-", "--temperature", "-1"], "--temperature -1.0: expected a number ≥ 0 (0 = greedy)"),
            (["decode", Shipped.model, "--input", "-", "--top-p", "0"], "--top-p 0.0: expected a number in (0, 1]"),
            (["generate", Shipped.model, "--prompt", "x", "--max-tokens", "0"], "--max-tokens 0: expected a whole number ≥ 1"),
            (["encode", Shipped.model, "--on-error", "ignore", "x"], "The value 'ignore' is invalid for '--on-error <stop|skip>'. Please provide one of 'stop' and 'skip'."),
        ]
        for (args, message) in bad {
            let r = try Shipped.svae(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr == "svae: error: \(message)\n", "\(args)")
        }
        let rule = try BuiltTools.run(Shipped.convert!, ["models/svae-tiny", "-o", "rule.svae", "--tensor-type", "lm_hed=q4_0", "--quiet"], directory: Shipped.workdir)
        #expect(rule.status == 1)
        #expect(rule.stderr.hasPrefix("svae-convert: error: --tensor-type lm_hed=q4_0: matches no tensor of this model"))
        #expect(!FileManager.default.fileExists(atPath: Shipped.workdir! + "/rule.svae"))
    }

    // MARK: documentation

    /// Every example command that uses the shipped model, from README.md, docs/*.md (sh code
    /// blocks) and each subcommand's --help, runs and exits 0 (3 when it asks for --on-error skip).
    @Test func exampleCommandsRun() throws {
        guard Shipped.ready else { return }
        var commands: [String] = []
        let docs = ["README.md"] + ((try? FileManager.default.contentsOfDirectory(atPath: Shipped.repo + "/docs")) ?? []).filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        for doc in docs {
            var inBlock = false
            for line in Shipped.lines(try String(contentsOfFile: Shipped.repo + "/" + doc, encoding: .utf8) + "\n") {
                if line.hasPrefix("```") { inBlock = line.hasPrefix("```sh") && !inBlock; continue }
                guard inBlock, line.contains("svae-tiny"), !line.hasPrefix("#") else { continue }
                // Setup and build steps of the quick start are not the CLI's to test.
                let steps = line.components(separatedBy: " && ").filter { !$0.hasPrefix("tools/setup-debian.sh") && !$0.hasPrefix("swift ") }
                commands.append(steps.joined(separator: " && "))
            }
        }
        #expect(commands.count >= 3, "README shows commands on the shipped model")
        for sub in ["encode", "decode", "reconstruct", "tokenize", "inspect", "verify"] {
            let help = try Shipped.svae([sub, "--help"])
            #expect(help.status == 0)
            // The indented lines after "Examples:"; a line ending in \ continues on the next.
            var examples: [String] = [], inExamples = false, continued = false
            for line in Shipped.lines(help.stdout) {
                if line == "Examples:" { inExamples = true; continue }
                guard inExamples, line.hasPrefix("  ") else { inExamples = false; continue }
                let text = line.trimmingCharacters(in: .whitespaces)
                if continued { examples[examples.count - 1] += " " + text } else { examples.append(text) }
                continued = text.hasSuffix("\\")
                if continued { examples[examples.count - 1].removeLast() }
            }
            examples = examples.filter { $0.contains("svae-tiny") }
            #expect(examples.count >= 2, "svae \(sub) --help shows examples")
            commands += examples
        }
        let bin = BuiltTools.productsDirectory.path
        try Shipped.svae(["encode", Shipped.model, "--input", "models/svae-tiny/samples.txt", "--json"]).stdout
            .write(toFile: Shipped.workdir! + "/vectors.jsonl", atomically: true, encoding: .utf8)
        for command in commands {
            let local = command.replacingOccurrences(of: ".build/release/", with: "")
            let r = try BuiltTools.run("/bin/sh", ["-c", "PATH=\"\(bin):$PATH\"; " + local + " > /dev/null"], directory: Shipped.workdir)
            let expected: Int32 = command.contains("--on-error skip") ? 3 : 0
            #expect(r.status == expected || (expected == 3 && r.status == 0), "\(command): \(r.stderr)")
        }
    }
}
