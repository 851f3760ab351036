import CSVAEAPI
import SVAE
import Testing

/// `svae_generate` on a random-weight SLLM file: same text as the Swift API, size queries,
/// callbacks that stop early, bad parameters, and an svae file refused.
@Suite struct GenerateCAPITests {
    @Test func matchesSwiftAndReportsSizes() throws {
        let l = try Loaded(architecture: "sllm")
        var p = svae_generate_default_params()
        p.max_sentences = 3
        p.max_tokens = 40
        let (status, out) = query(CChar(0)) { svae_generate(l.ctx, "The cat sat. It slept.", &p, $0, $1, $2) }
        #expect(status == ok)
        let swift = try l.swift.generate(prompt: "The cat sat. It slept.", options: GenerationOptions(maxSentences: 3, maxTokens: 40))
        #expect(text(out) == swift.text)
        // Sampling is seeded: the same seed twice gives the same text.
        p.temperature = 1.3
        p.seed = 42
        let a = query(CChar(0)) { svae_generate(l.ctx, "The cat sat.", &p, $0, $1, $2) }
        let b = query(CChar(0)) { svae_generate(l.ctx, "The cat sat.", &p, $0, $1, $2) }
        #expect(a.0 == ok && b.0 == ok && a.1 == b.1)
    }

    @Test func callbacksCanStop() throws {
        let l = try Loaded(architecture: "sllm")
        final class Counter { var tokens = 0 }
        let counter = Counter()
        var p = svae_generate_default_params()
        p.max_sentences = 4
        p.user_data = Unmanaged.passUnretained(counter).toOpaque()
        p.on_token = { _, user in
            let c = Unmanaged<Counter>.fromOpaque(user!).takeUnretainedValue()
            c.tokens += 1
            return c.tokens < 3 ? 1 : 0
        }
        var n = 0
        var buffer = [CChar](repeating: 0, count: 4096)
        #expect(svae_generate(l.ctx, "Hello there.", &p, &buffer, buffer.count, &n) == ok)
        #expect(counter.tokens == 3)
    }

    @Test func badInputsAreCodes() throws {
        let sllm = try Loaded(architecture: "sllm")
        var p = svae_generate_default_params()
        p.top_p = 0
        var n = 0
        #expect(svae_generate(sllm.ctx, "x.", &p, nil, 0, &n) == SVAE_ERR_INVALID_ARGUMENT.rawValue)
        p = svae_generate_default_params()
        p.max_tokens = -1
        #expect(svae_generate(sllm.ctx, "x.", &p, nil, 0, &n) == SVAE_ERR_INVALID_ARGUMENT.rawValue)
        #expect(svae_generate(sllm.ctx, nil, nil, nil, 0, &n) == SVAE_ERR_INVALID_ARGUMENT.rawValue)
        #expect(svae_generate(nil, "x.", nil, nil, 0, &n) == SVAE_ERR_INVALID_ARGUMENT.rawValue)
        let svae = try Loaded()
        #expect(svae_generate(svae.ctx, "x.", nil, nil, 0, &n) == SVAE_ERR_MODEL.rawValue)
        #expect(String(cString: svae_context_last_error(svae.ctx)).contains("sllm"))
    }
}

/// An `opt` file through the C API: info getters, generation equal to the Swift API, and the
/// sentence-encoder calls refused with a message.
@Suite struct OPTCAPITests {
    @Test func optFileGeneratesAndRefusesEncoding() throws {
        let l = try Loaded(architecture: "opt")
        #expect(String(cString: svae_model_architecture(l.model)) == "opt")
        #expect(svae_model_n_encoder_layers(l.model) == 0)
        #expect(svae_model_n_decoder_layers(l.model) == 2)
        #expect(svae_model_hidden_size(l.model) == 32)
        var p = svae_generate_default_params()
        p.max_tokens = 12
        let (status, out) = query(CChar(0)) { svae_generate(l.ctx, "the cat", &p, $0, $1, $2) }
        #expect(status == ok)
        let swift = try l.swift.generate(prompt: "the cat", options: GenerationOptions(maxTokens: 12))
        #expect(text(out) == swift.text)
        var n = 0
        let status2 = withCStrings(["the cat"]) { texts in svae_encode_texts(l.ctx, texts, 1, nil, 0, &n) }
        #expect(status2 == SVAE_ERR_MODEL.rawValue)
        #expect(String(cString: svae_context_last_error(l.ctx)).contains("svae or sllm"))
    }
}
