import CSVAEAPI
import Foundation
import SVAE
import SVAETestSupport
import SVAETokenizer
import Synchronization
import Testing

// Tests of the C API (svae.h) called from Swift: errors instead of crashes on bad handles,
// pointers, lengths, ids, text and files; caller buffers never overflowed; results equal to
// the Swift API's; one shared model under 8 threads. The C/C++ examples and the installed
// library are exercised by tools/test-c-examples.sh.

let ok = SVAE_OK.rawValue
let invalidArgument = SVAE_ERR_INVALID_ARGUMENT.rawValue
let bufferTooSmall = SVAE_ERR_BUFFER_TOO_SMALL.rawValue

/// A loaded model and one context on it, freed together.
final class Loaded {
    let model: OpaquePointer
    let ctx: OpaquePointer
    let swift: Model

    init(tokenizer: Bool = true, threads: Int32 = 1, architecture: String = "svae") throws {
        let path = try makeRandomModel(withTokenizer: tokenizer, architecture: architecture)
        var error = [CChar](repeating: 0, count: 256)
        var params = svae_model_default_params()
        params.n_threads = threads
        guard let m = svae_model_load(path, &params, &error, error.count) else {
            throw CAPITestError.load(cstr(error))
        }
        model = m
        var cp = svae_context_default_params()
        cp.n_threads = threads
        guard let c = svae_context_new(m, &cp) else { throw CAPITestError.load("svae_context_new returned NULL") }
        ctx = c
        swift = try Model(path: path, options: ModelOptions(threads: Int(threads)))
    }

    deinit {
        svae_context_free(ctx)
        svae_model_free(model)
    }

    var lastError: String { String(cString: svae_context_last_error(ctx)) }
}

enum CAPITestError: Error { case load(String) }

/// Runs a "fill this buffer" call twice: a size query, then with an exact buffer.
func query<T>(_ fill: T, _ call: (UnsafeMutablePointer<T>?, Int, UnsafeMutablePointer<Int>) -> Int32) -> (Int32, [T]) {
    var needed = -1
    let status = call(nil, 0, &needed)
    guard status == bufferTooSmall || (status == ok && needed == 0) else { return (status, []) }
    var buffer = [T](repeating: fill, count: needed + 1)
    var n = -1
    let second = call(&buffer, buffer.count, &n)
    return (second, Array(buffer.prefix(n)))
}

/// The text before the first NUL of a C buffer.
func cstr(_ buffer: [CChar]) -> String { text(Array(buffer.prefix { $0 != 0 })) }

func text(_ bytes: [CChar]) -> String { String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

/// C strings for an array of texts, freed after `body`.
func withCStrings<R>(_ texts: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let p = texts.map { UnsafePointer(strdup($0)) }
    defer { p.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
    return body(p)
}

func encodeTexts(_ ctx: OpaquePointer?, _ texts: [String]) -> (Int32, [Float]) {
    withCStrings(texts) { p in query(Float(0)) { svae_encode_texts(ctx, p, Int32(p.count), $0, $1, $2) } }
}

func decodeIDs(_ ctx: OpaquePointer?, _ v: [Float], _ params: svae_decode_params? = nil) -> (Int32, [Int32]) {
    var ids = [Int32](repeating: -1, count: 64)
    var n = 0
    var p = params ?? svae_decode_default_params()
    let status = svae_decode(ctx, v, Int32(v.count), &p, &ids, ids.count, &n, nil, 0, nil)
    return (status, Array(ids.prefix(n)))
}

// MARK: - header

/// The first of `names` found on PATH.
func findTool(_ names: [String]) -> String? {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
    for n in names {
        for d in dirs where FileManager.default.isExecutableFile(atPath: "\(d)/\(n)") { return "\(d)/\(n)" }
    }
    return nil
}

let headerPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Sources/CSVAEAPI/include/svae.h").path

func run(_ tool: String, _ args: [String]) throws -> (Int32, String) {
    let r = try BuiltTools.run(tool, args)
    return (r.status, r.stdout + r.stderr)
}

@Suite struct CAPIHeaderTests {
    @Test func headerCompilesAsStrictC99() throws {
        // No compiler is a failure, not a skip: the C API's users have one, and so does CI.
        let gcc = try #require(findTool(["gcc", "cc", "clang"]), "no gcc, cc or clang on PATH")
        let (status, out) = try run(gcc, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c", headerPath])
        #expect(status == 0, "\(gcc) -std=c99 on svae.h:\n\(out)")
    }

    @Test func headerCompilesAsCxx17() throws {
        let gxx = try #require(findTool(["g++", "c++", "clang++"]), "no g++, c++ or clang++ on PATH")
        let (status, out) = try run(gxx, ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c++", headerPath])
        #expect(status == 0, "\(gxx) -std=c++17 on svae.h:\n\(out)")
    }
}

// MARK: - calls

@Suite struct CAPITests {
    @Test func versionAndStatusStrings() {
        #expect(svae_abi_version() == SVAE_ABI_VERSION)
        #expect(!String(cString: svae_version()).isEmpty)
        #expect(String(cString: svae_status_string(bufferTooSmall)) == "buffer too small")
        #expect(String(cString: svae_status_string(-1000)) == "unknown status")
    }

    @Test func nullHandlesAreErrors() {
        var n = 0
        var ids = [Int32](repeating: 0, count: 4)
        #expect(svae_tokenize(nil, "a", &ids, 4, &n) == invalidArgument)
        #expect(svae_detokenize(nil, ids, 1, nil, 0, &n) == invalidArgument)
        #expect(svae_encode_texts(nil, nil, 0, nil, 0, &n) == invalidArgument)
        #expect(svae_decode(nil, nil, 0, nil, nil, 0, &n, nil, 0, nil) == invalidArgument)
        #expect(svae_reconstruct(nil, "a", nil, 0, &n, nil) == invalidArgument)
        #expect(svae_context_new(nil, nil) == nil)
        #expect(String(cString: svae_context_last_error(nil)) == "invalid context")
        #expect(svae_model_hidden_size(nil) == -1 && svae_model_n_vocab(nil) == -1 && svae_model_has_tokenizer(nil) == -1
                && svae_model_n_tokenizer_vocab(nil) == -1)
        #expect(svae_model_architecture(nil) == nil && svae_model_type_summary(nil) == nil)
        svae_model_free(nil)
        svae_context_free(nil)
    }

    @Test func loadFailuresReturnNullWithMessage() throws {
        var error = [CChar](repeating: 0x7F, count: 512)
        #expect(svae_model_load(nil, nil, &error, error.count) == nil)
        #expect(!cstr(error).isEmpty)
        #expect(svae_model_load("/nonexistent/model.svae", nil, &error, error.count) == nil)
        #expect(cstr(error).contains("/nonexistent/model.svae"))
        let garbage = NSTemporaryDirectory() + "svae-capi-garbage-\(UUID().uuidString).svae"
        try Data("this is not a model file, just some bytes".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(svae_model_load(garbage, nil, &error, error.count) == nil)
        #expect(!cstr(error).isEmpty)
        // A tiny error buffer gets a truncated, NUL-terminated message; NULL is allowed.
        var tiny = [CChar](repeating: 0x7F, count: 8)
        #expect(svae_model_load(garbage, nil, &tiny, tiny.count) == nil)
        #expect(tiny[7] == 0 && !cstr(tiny).isEmpty)
        #expect(svae_model_load(garbage, nil, nil, 0) == nil)
        var bad = svae_model_default_params()
        bad.n_threads = -3
        #expect(svae_model_load(try makeRandomModel(), &bad, &error, error.count) == nil)
        #expect(cstr(error).contains("n_threads"))
    }

    @Test func modelInfo() throws {
        let l = try Loaded()
        let c = try #require(l.swift.config)
        #expect(svae_model_hidden_size(l.model) == Int32(c.hidden))
        #expect(svae_model_n_heads(l.model) == Int32(c.heads))
        #expect(svae_model_n_vocab(l.model) == Int32(c.vocab))
        #expect(svae_model_n_encoder_layers(l.model) == Int32(c.encoderLayers))
        #expect(svae_model_n_decoder_layers(l.model) == Int32(c.decoderLayers))
        #expect(svae_model_max_seq_len(l.model) == Int32(c.maxSeqLen))
        #expect(svae_model_bos_id(l.model) == c.bos && svae_model_eos_id(l.model) == c.eos && svae_model_pad_id(l.model) == c.pad)
        #expect(svae_model_has_tokenizer(l.model) == 1)
        // The random model's embedding is padded past its tokenizer: the tokenizer's own size is
        // the bound svae_detokenize enforces.
        let spelled = svae_model_n_tokenizer_vocab(l.model)
        #expect(spelled > 0 && spelled < svae_model_n_vocab(l.model))
        var text = [CChar](repeating: 0, count: 64)
        var nBytes = 0
        var last = [spelled - 1], past = [spelled]
        #expect(svae_detokenize(l.ctx, &last, 1, &text, text.count, &nBytes) == SVAE_OK.rawValue)
        #expect(svae_detokenize(l.ctx, &past, 1, &text, text.count, &nBytes) == SVAE_ERR_OUT_OF_RANGE.rawValue)
        #expect(String(cString: svae_model_architecture(l.model)) == "svae")
        let n = l.swift.file.tensors.count
        #expect(String(cString: svae_model_type_summary(l.model)) == "f32:\(n)")
    }

    @Test func tokenizeAndDetokenizeWithBufferChecks() throws {
        let l = try Loaded()
        let expected = try l.swift.tokenize("the cat sat")
        let (status, ids) = query(Int32(0)) { svae_tokenize(l.ctx, "the cat sat", $0, $1, $2) }
        #expect(status == ok && ids == expected)
        // Too small: nothing written, needed count returned.
        var small = [Int32](repeating: -7, count: 2)
        var needed = 0
        #expect(svae_tokenize(l.ctx, "the cat sat", &small, small.count, &needed) == bufferTooSmall)
        #expect(needed == expected.count && small == [-7, -7])
        #expect(l.lastError.contains("capacity"))
        // NULL count pointer, NULL buffer with a capacity, NULL text.
        #expect(svae_tokenize(l.ctx, "x", &small, 2, nil) == invalidArgument)
        #expect(svae_tokenize(l.ctx, "x", nil, 2, &needed) == invalidArgument)
        #expect(svae_tokenize(l.ctx, nil, &small, 2, &needed) == invalidArgument)
        #expect(svae_tokenize(l.ctx, "x", &small, -1, &needed) == invalidArgument, "size_t of 2^64-1")
        // Invalid UTF-8: a lone continuation byte, a truncated sequence.
        let invalid: [CChar] = [0x61, CChar(bitPattern: 0x80), 0x62, 0]
        #expect(svae_tokenize(l.ctx, invalid, &small, 2, &needed) == SVAE_ERR_INVALID_UTF8.rawValue)
        #expect(l.lastError.contains("byte 1"))
        let truncated: [CChar] = [CChar(bitPattern: 0xE6), CChar(bitPattern: 0x97), 0]
        #expect(svae_tokenize(l.ctx, truncated, &small, 2, &needed) == SVAE_ERR_INVALID_UTF8.rawValue)

        let (s2, bytes) = query(CChar(0)) { svae_detokenize(l.ctx, expected, Int32(expected.count), $0, $1, $2) }
        #expect(s2 == ok && text(bytes) == "the cat sat")
        // The needed size excludes the NUL; capacity == length fails, length + 1 succeeds.
        var buffer = [CChar](repeating: 0x55, count: 11)
        #expect(svae_detokenize(l.ctx, expected, Int32(expected.count), &buffer, 11, &needed) == bufferTooSmall)
        #expect(needed == 11 && buffer.allSatisfy { $0 == 0x55 })
        buffer.append(0x55)
        #expect(svae_detokenize(l.ctx, expected, Int32(expected.count), &buffer, 12, &needed) == ok)
        #expect(buffer[11] == 0 && cstr(buffer) == "the cat sat")
        #expect(svae_detokenize(l.ctx, expected, -1, &buffer, 12, &needed) == invalidArgument)
        #expect(svae_detokenize(l.ctx, nil, 3, &buffer, 12, &needed) == invalidArgument)
        // 262 ..< 288: inside the model's vocabulary, beyond the tokenizer's (padded embeddings).
        for bad: Int32 in [-1, 262, 287, 288, Int32.max, Int32.min] {
            #expect(svae_detokenize(l.ctx, [2, bad], 2, &buffer, 12, &needed) == SVAE_ERR_OUT_OF_RANGE.rawValue)
        }
        #expect(l.lastError.contains("outside the vocabulary"))
    }

    @Test func splitSentences() throws {
        let l = try Loaded()
        let passage = "Hello there. How are you? Fine, thanks"
        let expected = SentenceSplitter(maxSentences: 64).split(passage)
        let (status, spans) = query(svae_span(offset: 0, length: 0)) { svae_split_sentences(l.ctx, passage, 64, 0, $0, $1, $2) }
        #expect(status == ok && spans.count == expected.count)
        let bytes = Array(passage.utf8)
        let pieces = spans.map { String(decoding: bytes[$0.offset..<($0.offset + $0.length)], as: UTF8.self) }
        #expect(pieces == expected)
        var n = 0
        #expect(svae_split_sentences(l.ctx, passage, 0, 0, nil, 0, &n) == invalidArgument)
        #expect(svae_split_sentences(l.ctx, passage, -5, 0, nil, 0, &n) == invalidArgument)
        let mimic = SentenceSplitter(maxSentences: 64, mimicReference: true).split(passage)
        #expect(svae_split_sentences(l.ctx, passage, 64, 1, nil, 0, &n) == bufferTooSmall && n == mimic.count)
        #expect(svae_split_sentences(l.ctx, passage, 2, 0, nil, 0, &n) == bufferTooSmall && n == 2)
    }

    @Test func encodeMatchesSwiftAndChecksInputs() throws {
        let l = try Loaded()
        let texts = ["Hello there.", "the end", "x"]
        let expected = try l.swift.encode(texts)
        let (status, flat) = encodeTexts(l.ctx, texts)
        #expect(status == ok && flat.count == 3 * 32)
        #expect(try maxAbsDiff(flat, expected.flatMap { $0 }) <= 1e-5)
        // Too small: checked before the work, nothing written.
        var small = [Float](repeating: 9, count: 64)
        var n = 0
        let s2 = withCStrings(texts) { svae_encode_texts(l.ctx, $0, 3, &small, small.count, &n) }
        #expect(s2 == bufferTooSmall && n == 96 && small.allSatisfy { $0 == 9 })
        #expect(withCStrings(texts) { svae_encode_texts(l.ctx, $0, -1, &small, small.count, &n) } == invalidArgument)
        #expect(svae_encode_texts(l.ctx, nil, 2, &small, small.count, &n) == invalidArgument)
        #expect(svae_encode_texts(l.ctx, nil, 0, nil, 0, &n) == ok && n == 0, "an empty batch")
        #expect(svae_encode_ids(l.ctx, nil, nil, 0, nil, 0, &n) == ok && n == 0)
        #expect(withCStrings(["a"]) { svae_encode_texts(l.ctx, $0, 1 << 30, &small, small.count, &n) } == invalidArgument)
        let withNull: [UnsafePointer<CChar>?] = [nil]
        #expect(svae_encode_texts(l.ctx, withNull, 1, &small, small.count, &n) == invalidArgument)

        // Ids: same vectors as the texts' token ids.
        let ids = try texts.map { try l.swift.tokenize($0) }
        let lengths = ids.map { Int32($0.count) }
        let p: [UnsafeMutablePointer<Int32>] = ids.map { a in
            let m = UnsafeMutablePointer<Int32>.allocate(capacity: a.count)
            m.initialize(from: a, count: a.count)
            return m
        }
        defer { p.forEach { $0.deallocate() } }
        let seqs: [UnsafePointer<Int32>?] = p.map { UnsafePointer($0) }
        var out = [Float](repeating: 0, count: 96)
        #expect(svae_encode_ids(l.ctx, seqs, lengths, 3, &out, out.count, &n) == ok && n == 96)
        #expect(try maxAbsDiff(out, flat) <= 1e-6)
        #expect(svae_encode_ids(l.ctx, seqs, [3, -1, 1], 3, &out, out.count, &n) == invalidArgument)
        #expect(svae_encode_ids(l.ctx, seqs, [3, 0, 1], 3, &out, out.count, &n) == invalidArgument, "empty sentence")
        #expect(svae_encode_ids(l.ctx, seqs, nil, 3, &out, out.count, &n) == invalidArgument)
        let long = [Int32](repeating: 70, count: 25)
        #expect(svae_encode_ids(l.ctx, [long.withUnsafeBufferPointer { $0.baseAddress }], [25], 1, &out, out.count, &n)
                == SVAE_ERR_TOO_LONG.rawValue)
        let badID: [Int32] = [2, 300]
        #expect(badID.withUnsafeBufferPointer { svae_encode_ids(l.ctx, [$0.baseAddress], [2], 1, &out, out.count, &n) }
                == SVAE_ERR_OUT_OF_RANGE.rawValue)
    }

    @Test func decodeAndReconstructMatchSwift() throws {
        let l = try Loaded()
        let v = try l.swift.encode(["Hello there."])[0]
        let expected = try l.swift.decode(v)
        let (status, ids) = decodeIDs(l.ctx, v)
        #expect(status == ok && ids == expected)
        // Text and ids together; text alone; needed sizes.
        var idBuf = [Int32](repeating: 0, count: 24)
        var textBuf = [CChar](repeating: 0, count: 200)
        var nIDs = 0, nBytes = 0
        #expect(svae_decode(l.ctx, v, 32, nil, &idBuf, 24, &nIDs, &textBuf, 200, &nBytes) == ok)
        let expectedText = try l.swift.detokenize(expected)
        #expect(Array(idBuf.prefix(nIDs)) == expected && cstr(textBuf) == expectedText && nBytes == expectedText.utf8.count)
        // A one-id buffer for a longer output: nothing written, the needed count returned.
        try #require(expected.count > 1, "the random model decodes \"Hello there.\" to \(expected.count) ids")
        var tiny = [Int32](repeating: -3, count: 1)
        #expect(svae_decode(l.ctx, v, 32, nil, &tiny, 1, &nIDs, &textBuf, 200, &nBytes) == bufferTooSmall)
        #expect(nIDs == expected.count && tiny == [-3])
        // Bad vectors and params.
        #expect(svae_decode(l.ctx, v, 31, nil, &idBuf, 24, &nIDs, nil, 0, nil) == SVAE_ERR_BAD_VECTOR.rawValue)
        #expect(svae_decode(l.ctx, v, -32, nil, &idBuf, 24, &nIDs, nil, 0, nil) == invalidArgument)
        #expect(svae_decode(l.ctx, nil, 32, nil, &idBuf, 24, &nIDs, nil, 0, nil) == invalidArgument)
        var nan = v
        nan[5] = .nan
        #expect(svae_decode(l.ctx, nan, 32, nil, &idBuf, 24, &nIDs, nil, 0, nil) == SVAE_ERR_BAD_VECTOR.rawValue)
        var p = svae_decode_default_params()
        p.temperature = -1
        #expect(svae_decode(l.ctx, v, 32, &p, &idBuf, 24, &nIDs, nil, 0, nil) == invalidArgument)
        p = svae_decode_default_params()
        p.top_p = 0
        #expect(svae_decode(l.ctx, v, 32, &p, &idBuf, 24, &nIDs, nil, 0, nil) == invalidArgument)
        // Sampling repeats with its seed; max_tokens caps the length.
        p = svae_decode_default_params()
        p.temperature = 1.5
        p.seed = 42
        let a = decodeIDs(l.ctx, v, p), b = decodeIDs(l.ctx, v, p)
        #expect(a.0 == ok && a.1 == b.1 && !a.1.isEmpty)
        p = svae_decode_default_params()
        p.max_tokens = 2
        #expect(decodeIDs(l.ctx, v, p).1 == Array(expected.prefix(2)))
        // Streaming: the callback sees each id and can stop early.
        final class Seen { var ids: [Int32] = [] }
        let seen = Seen()
        p = svae_decode_default_params()
        p.user_data = Unmanaged.passUnretained(seen).toOpaque()
        p.on_token = { id, user in
            let s = Unmanaged<Seen>.fromOpaque(user!).takeUnretainedValue()
            s.ids.append(id)
            return s.ids.count < 3 ? 1 : 0
        }
        let streamed = withExtendedLifetime(seen) { decodeIDs(l.ctx, v, p) }
        #expect(streamed.1 == Array(expected.prefix(3)) && seen.ids == streamed.1)

        // Sampled ids beyond the tokenizer's vocabulary (262 of the model's 288) stay in the ids
        // and are left out of the text.
        var sp = svae_decode_default_params()
        sp.temperature = 2
        var padded = 0
        for seed in 0..<40 {
            sp.seed = UInt64(seed)
            #expect(svae_decode(l.ctx, v, 32, &sp, &idBuf, 24, &nIDs, &textBuf, 200, &nBytes) == ok)
            let got = Array(idBuf.prefix(nIDs))
            padded += got.filter { $0 >= 262 }.count
            #expect(cstr(textBuf) == (try l.swift.detokenize(got.filter { $0 < 262 })))
        }
        #expect(padded > 0, "some sampled ids fall in the padded range")

        // Inside the callback: detokenize works on the same context, a nested decode is refused.
        final class Nested { var ctx: OpaquePointer?; var v: [Float] = []; var pieces: [String] = []; var nested: Int32 = 0 }
        let nested = Nested()
        nested.ctx = l.ctx
        nested.v = v
        p = svae_decode_default_params()
        p.user_data = Unmanaged.passUnretained(nested).toOpaque()
        p.on_token = { id, user in
            let s = Unmanaged<Nested>.fromOpaque(user!).takeUnretainedValue()
            var buf = [CChar](repeating: 0, count: 64)
            var n = 0
            if svae_detokenize(s.ctx, [id], 1, &buf, buf.count, &n) == SVAE_OK.rawValue { s.pieces.append(cstr(buf)) }
            var ids = [Int32](repeating: 0, count: 24)
            s.nested = svae_decode(s.ctx, s.v, Int32(s.v.count), nil, &ids, ids.count, &n, nil, 0, nil)
            return 1
        }
        #expect(withExtendedLifetime(nested) { decodeIDs(l.ctx, v, p) }.1 == expected)
        #expect(nested.nested == invalidArgument && nested.pieces.joined() == expectedText)
        #expect(decodeIDs(l.ctx, v).1 == expected, "the context works again after the callback")

        let r = try l.swift.reconstruct("the end")
        var exact: Int32 = -1
        let (s3, out) = query(CChar(0)) { svae_reconstruct(l.ctx, "the end", $0, $1, $2, &exact) }
        #expect(s3 == ok && text(out) == r.output && exact == (r.exact ? 1 : 0))
        var n = 0
        let tooLong = String(repeating: "z ", count: 30)
        #expect(svae_reconstruct(l.ctx, tooLong, nil, 0, &n, nil) == SVAE_ERR_TOO_LONG.rawValue)
        #expect(l.lastError.hasPrefix("svae_reconstruct: text: expected at most"), "the message names the argument, found: \(l.lastError)")
    }

    @Test func modelWithoutTokenizer() throws {
        let l = try Loaded(tokenizer: false)
        #expect(svae_model_has_tokenizer(l.model) == 0)
        #expect(svae_model_n_tokenizer_vocab(l.model) == 0)
        var n = 0
        var ids = [Int32](repeating: 0, count: 8)
        #expect(svae_tokenize(l.ctx, "text", &ids, 8, &n) == SVAE_ERR_NO_TOKENIZER.rawValue)
        #expect(l.lastError.contains("tokenizer"))
        #expect(svae_detokenize(l.ctx, [70], 1, nil, 0, &n) == SVAE_ERR_NO_TOKENIZER.rawValue)
        #expect(encodeTexts(l.ctx, ["text"]).0 == SVAE_ERR_NO_TOKENIZER.rawValue)
        #expect(svae_reconstruct(l.ctx, "text", nil, 0, &n, nil) == SVAE_ERR_NO_TOKENIZER.rawValue)
        let seq: [Int32] = [2, 70, 71]
        var v = [Float](repeating: 0, count: 32)
        #expect(seq.withUnsafeBufferPointer { svae_encode_ids(l.ctx, [$0.baseAddress], [3], 1, &v, 32, &n) } == ok)
        #expect(try maxAbsDiff(v, try l.swift.encode(ids: [seq])[0]) <= 1e-6)
        #expect(decodeIDs(l.ctx, v).0 == ok)
        var textBuf = [CChar](repeating: 0, count: 64)
        #expect(svae_decode(l.ctx, v, 32, nil, nil, 0, nil, &textBuf, 64, &n) == SVAE_ERR_NO_TOKENIZER.rawValue)
    }

    /// The models tools/test-c-examples.sh and tools/test-python.sh use (they have no other way
    /// to make one), checked through the C API: the random model does not reconstruct "the end"
    /// exactly, the echo model does. With SVAE_CAPI_MODEL_OUT=PATH the random model is also
    /// copied to PATH and the echo model to PATH with ".echo.svae" for ".svae";
    /// SVAE_CAPI_SLLM_OUT and SVAE_CAPI_OPT_OUT receive random sllm and opt models.
    @Test func writeModelForScripts() throws {
        let random = try makeRandomModel(), echo = try makeRandomModel(echo: true)
        for (path, exact) in [(random, Int32(0)), (echo, 1)] {
            let m = try #require(svae_model_load(path, nil, nil, 0))
            defer { svae_model_free(m) }
            let c = try #require(svae_context_new(m, nil))
            defer { svae_context_free(c) }
            var flag: Int32 = -1
            let (status, out) = query(CChar(0)) { svae_reconstruct(c, echoSentence.text, $0, $1, $2, &flag) }
            #expect(status == ok && flag == exact && (text(out) == echoSentence.text) == (exact == 1), "\(path): \(text(out))")
        }
        let env = ProcessInfo.processInfo.environment
        var copies: [(from: String, to: String)] = []
        if let out = env["SVAE_CAPI_MODEL_OUT"] {
            let stem = out.hasSuffix(".svae") ? String(out.dropLast(5)) : out
            // Beside it: the echo model, and the same kind of random model without a tokenizer (id-only calls).
            copies += [(random, out), (echo, stem + ".echo.svae"), (try makeRandomModel(withTokenizer: false), stem + ".no-tokenizer.svae")]
        }
        for (variable, architecture) in [("SVAE_CAPI_SLLM_OUT", "sllm"), ("SVAE_CAPI_OPT_OUT", "opt")] {
            if let out = env[variable] { copies.append((try makeRandomModel(architecture: architecture), out)) }
        }
        for (from, to) in copies {
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
    }

    @Test func contextKeepsModelAlive() throws {
        let path = try makeRandomModel()
        guard let m = svae_model_load(path, nil, nil, 0), let c = svae_context_new(m, nil) else {
            Issue.record("load failed")
            return
        }
        svae_model_free(m)
        var ids = [Int32](repeating: 0, count: 16)
        var n = 0
        #expect(svae_tokenize(c, "the", &ids, 16, &n) == ok)
        svae_context_free(c)
    }
}

// MARK: - logging

/// Messages seen by the test log callback (a global: the callback may outlive any test).
let logged = Mutex<[String]>([])

@Suite struct CAPILogTests {
    @Test func logCallbackReceivesErrors() throws {
        svae_set_log_callback({ level, text, _ in
            guard let text else { return }
            let line = "\(level) \(String(cString: text))"
            logged.withLock { $0.append(line) }
        }, nil)
        defer { svae_set_log_callback(nil, nil) }
        #expect(svae_model_load("/nonexistent/for-log.svae", nil, nil, 0) == nil)
        let lines = logged.withLock { $0 }
        #expect(lines.contains { $0.hasPrefix("\(SVAE_LOG_ERROR.rawValue) ") && $0.contains("for-log.svae") })
    }
}

// MARK: - threads

/// An opaque handle shared between threads (the model is read-only: the header's rule).
struct SharedHandle: @unchecked Sendable { let pointer: OpaquePointer }

/// Everything one thread computes, to compare with the single-thread run.
struct ThreadResult: Equatable {
    var vectors: [Float] = []
    var decoded: [[Int32]] = []
    var reconstructed: [String] = []
    var status: [Int32] = []
}

func work(_ model: OpaquePointer, _ texts: [String]) -> ThreadResult {
    var r = ThreadResult()
    var p = svae_context_default_params()
    p.n_threads = 1
    guard let ctx = svae_context_new(model, &p) else { return r }
    defer { svae_context_free(ctx) }
    let (s, v) = encodeTexts(ctx, texts)
    r.status.append(s)
    r.vectors = v
    for i in 0..<texts.count {
        let (s2, ids) = decodeIDs(ctx, Array(v[(i * 32)..<((i + 1) * 32)]))
        r.status.append(s2)
        r.decoded.append(ids)
        let (s3, out) = query(CChar(0)) { svae_reconstruct(ctx, texts[i], $0, $1, $2, nil) }
        r.status.append(s3)
        r.reconstructed.append(text(out))
    }
    return r
}

@Suite struct CAPIThreadTests {
    @Test func eightThreadsOnOneModelMatchOneThread() throws {
        let path = try makeRandomModel()
        guard let model = svae_model_load(path, nil, nil, 0) else {
            Issue.record("load failed")
            return
        }
        defer { svae_model_free(model) }
        let texts = ["Hello there.", "the end", "a b c d e f", "x", "the the the"]
        let reference = work(model, texts)
        #expect(reference.status.allSatisfy { $0 == ok } && reference.vectors.count == texts.count * 32)
        let shared = SharedHandle(pointer: model)
        let results = Mutex<[ThreadResult]>([])
        // 8 threads, each with its own context, 3 rounds each, all on the one shared model.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let local = (0..<3).map { _ in work(shared.pointer, texts) }
            results.withLock { $0.append(contentsOf: local) }
        }
        let all = results.withLock { $0 }
        #expect(all.count == 24)
        for r in all {
            #expect(r == reference, "a thread's results differ from the single-thread run (bit for bit)")
        }
    }
}

