import Foundation
import Testing

import SVAE
import SVAETestSupport
import SVAETokenizer
import SVAECLISupport
@testable import svae_bench

/// The `svae-bench` helpers: statistics, the JSON that scripts read, and size arithmetic; the built
/// `svae-bench` run as a user would.
@Suite struct BenchTests {
    @Test func statsMedianOfOddAndEvenCounts() {
        let odd = Stats([5, 1, 3])
        #expect(odd == Stats(median: 3, min: 1, max: 5))
        let even = Stats([4, 1, 3, 2])
        #expect(even == Stats(median: 2.5, min: 1, max: 4))
    }

    @Test func statsOfNothingIsZero() {
        #expect(Stats([]) == Stats(median: 0, min: 0, max: 0))
    }

    @Test func statsJSONRoundTrips() throws {
        let s = Stats([0.25, 0.5, 2])
        let data = try JSONSerialization.data(withJSONObject: s.json)
        #expect(Stats(json: try JSONSerialization.jsonObject(with: data)) == s)
        #expect(Stats(json: ["median": 1.0, "min": 0.5]) == nil, "max is missing")
    }

    /// tools/bench/peers.py reads these keys from `svae-bench model --json`: keep them stable.
    @Test func modelResultJSONHasTheKeysScriptsRead() throws {
        let r = ModelBenchResult(
            shape: "svae-768-h1", type: "q8_0", threads: 1, repetitions: 5, fileBytes: 1000, coldStartSeconds: 0.1,
            peakRSSBytes: 2000, encodeOneMs: Stats([1, 2, 3]), encodeBatchSentencesPerSecond: Stats([100]),
            decodeMsPerToken: Stats([4, 5]))
        let machine = MachineInfo(cpu: "test CPU", cpus: 2, kernelPath: "scalar", load: [1, 2, 3])
        let o = r.json(machine: machine)
        for key in ["machine", "load_average", "shape", "type", "threads", "repetitions", "file_bytes", "cold_start_s",
                    "peak_rss_bytes", "encode one 16-token sentence", "encode 64 × 16 tokens", "decode with KV cache"] {
            #expect(o[key] != nil, "missing \(key)")
        }
        let line = try JSONSerialization.data(withJSONObject: o)
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        let back = try #require(ModelBenchResult(json: object))
        #expect(back.decodeMsPerToken == Stats(median: 4.5, min: 4, max: 5))
        #expect(back.encodeOneMs == r.encodeOneMs && back.fileBytes == 1000 && back.shape == "svae-768-h1")
        #expect((o["decode with KV cache"] as? [String: Any])?["unit"] as? String == "ms/token")
        #expect(o[ModelBenchResult.decodeBatchKey] == nil, "no batched-decode rows when they were not measured")
        // The batched-decode rows (peers.py reads them too).
        var batched = r
        (batched.decodeBatch, batched.decodeSentences) = (32, 32)
        (batched.decodeBatch1SentencesPerSecond, batched.decodeBatchSentencesPerSecond) = (Stats([10, 12]), Stats([40]))
        let ob = batched.json(machine: machine)
        for key in ["decode_batch", "decode_sentences", "decode sentences of 16 tokens, batch 1", "decode sentences of 16 tokens, batched"] {
            #expect(ob[key] != nil, "missing \(key)")
        }
        let parsed = try JSONSerialization.jsonObject(with: try JSONSerialization.data(withJSONObject: ob)) as? [String: Any]
        let object2 = try #require(parsed)
        let again = try #require(ModelBenchResult(json: object2))
        #expect(again.decodeBatch == 32 && again.decodeBatchSentencesPerSecond == Stats([40]) && again.decodeBatch1SentencesPerSecond == Stats([10, 12]))
    }

    @Test func firstSentenceResultRoundTrips() throws {
        let r = FirstSentenceResult(openSeconds: 0.01, encodeSeconds: 0.002, decodeSeconds: 0.03, firstSentenceSeconds: 0.07,
                                    peakRSSBytes: 123_456)
        let data = try JSONSerialization.data(withJSONObject: r.json)
        let text = "some log line\n" + String(decoding: data, as: UTF8.self) + "\n"
        let object = try #require(lastJSONObject(text))
        let back = try #require(FirstSentenceResult(json: object))
        #expect(back.peakRSSBytes == 123_456 && back.decodeSeconds == 0.03 && back.firstSentenceSeconds == 0.07)
        let old = try #require(FirstSentenceResult(json: ["open_s": 0.1, "encode_s": 0.1, "decode_s": 0.1, "peak_rss_bytes": 1]))
        #expect(old.firstSentenceSeconds == nil, "a child run without --spawned-at reports no first-sentence time")
        #expect(lastJSONObject("no json here") == nil)
    }

    /// Parameter counts of the reference checkpoints, counted tensor by tensor by
    /// tools/bench/make_random_checkpoint.py (LAYERS = 4 and 1).
    @Test func referenceParameterCounts() throws {
        #expect(try #require(ReleasedShape.named("svae-768-h4")).referenceParameters == 163_151_201)
        #expect(try #require(ReleasedShape.named("svae-768-h1")).referenceParameters == 127_697_249)
        #expect(ReleasedShape.named("svae-9-h9") == nil)
    }

    @Test func sizeRowRatioAndBitsPerWeight() throws {
        let shape = try #require(ReleasedShape.named("svae-768-h4"))
        let row = SizeRow(type: "q8_0", fileBytes: shape.referenceParameters * 17 / 16, shape: shape)
        #expect(row.sourceBytes == 4 * 163_151_201)
        #expect(abs(row.bitsPerWeight - 8.5) < 1e-6)
        #expect(abs(row.ratio - 8.5 / 32) < 1e-6)
    }

    /// tools/bench/peers_generate.py rebuilds this prompt in Python for OPT's vocabulary.
    @Test func optPromptIDsFollowTheSharedRule() {
        let ids = BenchOPT.promptIDs(32)
        // peers_generate.prompt_ids(32) prints [2, 4733, 9462, 14191, 18920, …, 46603].
        #expect(ids.count == 32 && Array(ids.prefix(5)) == [2, 4733, 9462, 14191, 18920] && ids[31] == 46603)
        #expect(BenchOPT.promptIDs(8, vocab: 20).dropFirst().allSatisfy { $0 >= 4 && $0 < 20 })
    }

    /// `svae-bench opt` (the built program) on a small random OPT file: its JSON reports the
    /// workload asked for and the greedy tokens `generate` gives for the same prompt; bad
    /// arguments are refused. (16 new tokens, median of 3: the decode time per token is a
    /// difference of two timings, which 2 tokens of this tiny model left to the load's noise.)
    @Test func benchOPTRunsOnAnOPTFile() throws {
        let path = try makeRandomModel(architecture: "opt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try BuiltTools.run(try #require(BuiltTools.path("svae-bench"), "svae-bench is not in \(BuiltTools.productsDirectory.path)"), ["opt", path, "--prompt", "5", "--new", "16", "--repetitions", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(lastJSONObject(r.stdout), "no JSON in: \(r.stdout)")
        #expect(o["prompt_tokens"] as? Int == 5 && o["new_tokens"] as? Int == 16 && o["repetitions"] as? Int == 3)
        let decode = try #require(Stats(json: o["decode_ms_per_token"] as Any))
        #expect(decode.median.isFinite && decode.median > 0)
        let model = try Model(path: path)
        let greedy = try model.makeSession(threads: 1).generate(promptIDs: [BenchOPT.promptIDs(5, vocab: 288)], options: GenerationOptions(maxTokens: 16))
        let ids = try #require(o["generated_ids"] as? [Int])
        #expect(ids.count == 16)
        // generate stops at EOS (2), the bench goes on: the same tokens up to it.
        let beforeEOS = Array(greedy.ids[0].prefix { $0 != 2 })
        #expect(Array(ids.prefix(beforeEOS.count)).map { Int32($0) } == beforeEOS, "bench greedy \(ids) vs generate \(greedy.ids[0])")
        #expect(throws: CLIError.self) { try BenchOPT.parse([path, "--new", "1"]).run() }
        let svae = try makeRandomModel(architecture: "svae")
        defer { try? FileManager.default.removeItem(atPath: svae) }
        #expect(throws: CLIError.self, "an svae file is not an OPT model") { try BenchOPT.parse([svae, "--new", "3", "--repetitions", "1"]).run() }
    }

    /// `svae-bench threads`'s figures: median and middle half of the rounds' ratios.
    @Test func threadsQuartiles() {
        let q = BenchThreads.quartiles([5, 1, 4, 2, 3])
        #expect(q.median == 3 && q.low == 2 && q.high == 4)
        let even = BenchThreads.quartiles([4, 1, 3, 2])
        #expect(even.median == 2.5 && even.low <= even.median && even.high >= even.median)
        #expect(BenchThreads.quartiles([7]).median == 7 && BenchThreads.quartiles([7]).low == 7)
    }

    /// `svae-bench threads` (the built program) on a small random SentenceVAE (vocabulary large
    /// enough for the bench batch's ids): one JSON object per model with positive finite
    /// scalings (it checked the vectors equal on 1 and 2 threads, or it would have failed);
    /// without AVX-512 VNNI it says so; one thread, no rounds or no model file are refused.
    @Test func benchThreadsReportsScalingPerModel() throws {
        let bench = try #require(BuiltTools.path("svae-bench"), "svae-bench is not in \(BuiltTools.productsDirectory.path)")
        let path = try makeRandomModel(vocab: 50272)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try BuiltTools.run(bench, ["threads", path, path, "--rounds", "3", "--probe-iterations", "1000", "--json"])
        if r.status == 1 {
            #expect(r.stderr.contains("AVX-512 VNNI"), "\(r.stderr)")
        } else {
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(lines.count == 2, "\(r.stdout)")
            let o = try #require(lastJSONObject(r.stdout), "no JSON in: \(r.stdout)")
            #expect(o["threads"] as? Int == 2 && o["rounds"] as? Int == 3 && o["model"] as? String == (path as NSString).lastPathComponent)
            for key in ["encode_scaling", "probe_scaling", "encode_of_probe", "encode_n_cpu_use", "probe_n_cpu_use", "encode_scaling_cpu_time",
                        "encode_1_of_int8_peak"] {
                let q = try #require(o[key] as? [String: Double], "\(key) in \(o)")
                let (m, lo, hi) = (q["median"] ?? .nan, q["q25"] ?? .nan, q["q75"] ?? .nan)
                #expect(m.isFinite && m > 0 && lo <= m && m <= hi, "\(key): \(q)")
            }
            #expect((o["encode_1_sentences_per_s"] as? Double ?? 0) > 0 && (o["encode_n_sentences_per_s"] as? Double ?? 0) > 0)
            // The 1-thread encode's rate in its linear layers' operations over its sentences/s:
            // the operations of one 16-token sentence in makeRandomModel's shape (hidden 32, FFN
            // 64, one layer): 2 · 16 · (4 · 32² + 2 · 32 · 64).
            let gops = try #require(o["encode_1_gops"] as? Double, "encode_1_gops in \(o)")
            let perSentence = gops * 1e9 / (o["encode_1_sentences_per_s"] as? Double ?? .nan)
            #expect(abs(perSentence / Double(2 * 16 * (4 * 32 * 32 + 2 * 32 * 64)) - 1) < 1e-9, "operations per sentence \(perSentence)")
        }
        for bad in [["threads", path, "--threads", "1"], ["threads", path, "--rounds", "0"], ["threads"]] {
            let u = try BuiltTools.run(bench, bad)
            #expect(u.status == 2 && u.stderr.hasPrefix("svae-bench: error: "), "\(bad): \(u.stderr)")
        }
        let missing = try BuiltTools.run(bench, ["threads", path + ".missing", "--rounds", "1"])
        #expect(missing.status == 1 && missing.stderr.contains(".missing"), "\(missing.stderr)")
    }

    /// Foundation's file errors (here: the model folder cannot be made under a file) come out as
    /// one line "<path>: <strerror>", not NSError's "Error Domain=… UserInfo={…}"; a bad option is
    /// a one-line usage error with status 2.
    @Test func errorsArePlainWordsOnOneLine() throws {
        let bench = try #require(BuiltTools.path("svae-bench"), "svae-bench is not in \(BuiltTools.productsDirectory.path)")
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let folder = try BuiltTools.run(bench, ["cold", "--file", "models/svae-tiny/README.md/sub/x.svae"], directory: repo)
        #expect(folder.status == 1 && folder.stderr == "svae-bench: error: models/svae-tiny/README.md/sub: Not a directory\n", "\(folder.stderr)")
        let usage = try BuiltTools.run(bench, ["model", "--threads", "many"])
        #expect(usage.status == 2 && usage.stderr.hasPrefix("svae-bench: error: ") && usage.stderr.filter { $0 == "\n" }.count == 1, "\(usage.stderr)")
    }

    /// The tokenizer throughput probe (`svae-bench tokenizer`) on GPT-2's files, found where the
    /// command looks by default.
    @Test func tokenizerBenchmarkReportsThroughput() throws {
        let gpt2 = try BPETokenizer(vocabPath: BenchTokenizer.fixtures + "/gpt2-vocab.json", mergesPath: BenchTokenizer.fixtures + "/gpt2-merges.txt",
                                    specialTokens: ["<|endoftext|>"])
        let r = TokenizerBenchmark.run(text: "It's a small test, isn't it? 123 tokens.", repetitions: 3, tokenizer: gpt2)
        #expect(r.bytesPerSecond > 0 && r.tokensPerSecond > 0)
        #expect(r.bytesPerSecond > r.tokensPerSecond)
    }
}
