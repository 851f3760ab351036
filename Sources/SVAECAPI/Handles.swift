// The C handles: `svae_model` and `svae_context` are retained Swift objects passed as opaque
// pointers (`Unmanaged`). A context holds a strong reference to its model, so the model's
// memory outlives every context even if the caller frees the model first.
import CSVAEAPI
import SVAE
import SVAEFormat
import SVAEKernels
import SVAEModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The object behind a handle (not retained), nil for NULL.
func object<T: AnyObject>(_ p: OpaquePointer?) -> T? {
    guard let p else { return nil }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

/// Drops the caller's reference to a handle made with `passRetained` (NULL is ignored).
func release<T: AnyObject>(_ p: OpaquePointer?, as _: T.Type) {
    guard let p else { return }
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).release()
}

/// What an `svae_model *` points to: the shared Swift `Model` and the C strings it hands out.
final class ModelHandle: Sendable {
    let model: Model
    /// The sentence encoder/decoder hyperparameters (svae and sllm files; nil for opt).
    let vaeConfig: SentenceVAEConfig?
    /// What the model-info functions report (for opt files: its OPT layers, no encoder).
    let info: ModelInfo
    /// `svae_model_architecture` and `svae_model_type_summary` (owned, freed in `deinit`).
    nonisolated(unsafe) let architecture: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) let typeSummary: UnsafeMutablePointer<CChar>?

    init(model: Model) {
        self.model = model
        vaeConfig = model.config
        info = ModelInfo(model)
        architecture = mallocCString(model.file.architecture ?? "")
        var counts: [String: Int] = [:]
        for t in model.file.tensors { counts["\(t.type)", default: 0] += 1 }
        typeSummary = mallocCString(counts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))
    }

    deinit {
        free(architecture)
        free(typeSummary)
    }

    static func from(_ p: OpaquePointer?) -> ModelHandle? { object(p) }

    /// The SentenceVAE hyperparameters, or `SVAE_ERR_MODEL` for an opt file (no sentence
    /// encoder/decoder: encode, decode and reconstruct need an svae or sllm file).
    func config() throws(CAPIError) -> SentenceVAEConfig {
        guard let c = vaeConfig else {
            throw .model("\(model.path): architecture \(model.architecture) has no sentence encoder/decoder (expected svae or sllm)")
        }
        return c
    }
}

/// Model facts for the svae_model_* getters. OPT files report their layer stack as the
/// "decoder" (no encoder) and their position count as max_seq_len.
struct ModelInfo: Sendable {
    let hidden, heads, vocab, encoderLayers, decoderLayers, maxSeqLen: Int
    let bos, eos, pad: Int32

    init(_ m: Model) {
        if let c = m.config {
            (hidden, heads, vocab, encoderLayers, decoderLayers, maxSeqLen) = (c.hidden, c.heads, c.vocab, c.encoderLayers, c.decoderLayers, c.maxSeqLen)
            (bos, eos, pad) = (c.bos, c.eos, c.pad)
        } else if let o = m.opt?.config {
            (hidden, heads, vocab, encoderLayers, decoderLayers, maxSeqLen) = (o.layers.hidden, o.layers.heads, o.vocab, 0, o.layers.layers, o.layers.maxPositions)
            (bos, eos, pad) = (o.bos, o.eos, o.pad)
        } else {
            (hidden, heads, vocab, encoderLayers, decoderLayers, maxSeqLen, bos, eos, pad) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        }
    }
}

/// What an `svae_context *` points to: a session (scratch, KV caches, thread pool) and the
/// last error message. Used by one thread at a time (the header's rule).
final class ContextHandle {
    let handle: ModelHandle
    let session: Session
    /// NUL-terminated message of the last failed call ("" before any).
    private var lastError: UnsafeMutablePointer<CChar>?
    /// A call that uses the session (encode, decode, reconstruct) is running: a second one from
    /// a token callback would overwrite its scratch, so it is refused.
    private var busy = false
    /// The perplexity run of `svae_perplexity_begin` (nil before the first).
    var perplexity: PerplexityEvaluator?

    var model: Model { handle.model }

    init(handle: ModelHandle, session: Session) {
        self.handle = handle
        self.session = session
        lastError = mallocCString("")
    }

    deinit { free(lastError) }

    var lastErrorPointer: UnsafePointer<CChar> {
        lastError.map { UnsafePointer($0) } ?? staticCString("")
    }

    func setError(_ message: String) {
        free(lastError)
        lastError = mallocCString(message)
    }

    static func from(_ p: OpaquePointer?) -> ContextHandle? { object(p) }

    /// Runs one C call on context `p`: NULL → `SVAE_ERR_INVALID_ARGUMENT`; a thrown error →
    /// its status, with its message kept as the last error and logged. `usesSession` marks the
    /// calls that may not run inside another one (from a token callback) on the same context.
    static func call(_ p: OpaquePointer?, _ function: String, usesSession: Bool = false,
                     _ body: (ContextHandle) throws(CAPIError) -> Void) -> Int32 {
        guard let ctx = from(p) else {
            log(SVAE_LOG_ERROR, "\(function): expected a context, found NULL")
            return SVAE_ERR_INVALID_ARGUMENT.rawValue
        }
        do throws(CAPIError) {
            if usesSession {
                guard !ctx.busy else {
                    throw CAPIError.invalidArgument(
                        "expected a context not in use, found one running another call (a token callback may only use svae_tokenize, svae_detokenize and svae_split_sentences on its own context)")
                }
                ctx.busy = true
            }
            defer { if usesSession { ctx.busy = false } }
            try body(ctx)
            return SVAE_OK.rawValue
        } catch {
            ctx.setError("\(function): \(error.message)")
            // A too-small buffer is the normal answer to a size query, not an error worth a line.
            log(error.status == SVAE_ERR_BUFFER_TOO_SMALL.rawValue ? SVAE_LOG_DEBUG : SVAE_LOG_ERROR, "\(function): \(error.message)")
            return error.status
        }
    }
}

// MARK: - version and logging

@_cdecl("svae_version")
public func cVersion() -> UnsafePointer<CChar> { staticCString("0.1.0") }

@_cdecl("svae_abi_version")
public func cABIVersion() -> Int32 { 1 }

@_cdecl("svae_status_string")
public func cStatusString(_ status: Int32) -> UnsafePointer<CChar> {
    switch status {
    case SVAE_OK.rawValue: staticCString("ok")
    case SVAE_ERR_INVALID_ARGUMENT.rawValue: staticCString("invalid argument")
    case SVAE_ERR_BUFFER_TOO_SMALL.rawValue: staticCString("buffer too small")
    case SVAE_ERR_OUT_OF_RANGE.rawValue: staticCString("token id out of range")
    case SVAE_ERR_MODEL.rawValue: staticCString("model error")
    case SVAE_ERR_NO_TOKENIZER.rawValue: staticCString("model has no tokenizer")
    case SVAE_ERR_INVALID_UTF8.rawValue: staticCString("invalid UTF-8")
    case SVAE_ERR_TOO_LONG.rawValue: staticCString("sentence too long")
    case SVAE_ERR_BAD_VECTOR.rawValue: staticCString("bad sentence vector")
    case SVAE_ERR_INTERNAL.rawValue: staticCString("internal error")
    default: staticCString("unknown status")
    }
}

@_cdecl("svae_set_log_callback")
public func cSetLogCallback(_ callback: svae_log_callback?, _ userData: UnsafeMutableRawPointer?) {
    logSink.withLock { $0 = LogSink(callback: callback, userData: userData) }
}

// MARK: - model and context

@_cdecl("svae_model_default_params")
public func cModelDefaultParams() -> svae_model_params { svae_model_params(n_threads: 0) }

@_cdecl("svae_context_default_params")
public func cContextDefaultParams() -> svae_context_params { svae_context_params(n_threads: 0) }

/// Loads a model; on failure returns NULL and copies the message into `error`.
@_cdecl("svae_model_load")
public func cModelLoad(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<svae_model_params>?,
                       _ errorBuffer: UnsafeMutablePointer<CChar>?, _ errorCapacity: Int) -> OpaquePointer? {
    do throws(CAPIError) {
        let p = params?.pointee ?? cModelDefaultParams()
        let threads = try checkCount(p.n_threads, "svae_model_params.n_threads", max: Limits.threads)
        let file = try readText(path, "path")
        let model: Model
        do {
            model = try Model(path: file, options: ModelOptions(threads: threads == 0 ? ThreadPool.physicalCores : threads))
        } catch {
            throw CAPIError(error)
        }
        let handle = ModelHandle(model: model)
        log(SVAE_LOG_INFO, "svae_model_load: \(file): \(model.architecture), hidden \(handle.info.hidden), vocab \(handle.info.vocab)")
        return OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    } catch {
        log(SVAE_LOG_ERROR, "svae_model_load: \(error.message)")
        copyMessage(error.message, to: errorBuffer, capacity: errorCapacity)
        return nil
    }
}

@_cdecl("svae_model_free")
public func cModelFree(_ model: OpaquePointer?) { release(model, as: ModelHandle.self) }

@_cdecl("svae_context_new")
public func cContextNew(_ model: OpaquePointer?, _ params: UnsafePointer<svae_context_params>?) -> OpaquePointer? {
    guard let handle = ModelHandle.from(model) else {
        log(SVAE_LOG_ERROR, "svae_context_new: expected a model, found NULL")
        return nil
    }
    do throws(CAPIError) {
        let p = params?.pointee ?? cContextDefaultParams()
        let threads = try checkCount(p.n_threads, "svae_context_params.n_threads", max: Limits.threads)
        let session: Session
        do { session = try handle.model.makeSession(threads: threads == 0 ? nil : threads) } catch { throw CAPIError(error) }
        return OpaquePointer(Unmanaged.passRetained(ContextHandle(handle: handle, session: session)).toOpaque())
    } catch {
        log(SVAE_LOG_ERROR, "svae_context_new: \(error.message)")
        return nil
    }
}

@_cdecl("svae_context_free")
public func cContextFree(_ ctx: OpaquePointer?) { release(ctx, as: ContextHandle.self) }

@_cdecl("svae_context_last_error")
public func cContextLastError(_ ctx: OpaquePointer?) -> UnsafePointer<CChar> {
    ContextHandle.from(ctx)?.lastErrorPointer ?? staticCString("invalid context")
}

// MARK: - model info

/// A config value of a model, or -1 for NULL.
private func info(_ model: OpaquePointer?, _ value: (ModelHandle) -> Int) -> Int32 {
    guard let h = ModelHandle.from(model) else { return SVAE_ERR_INVALID_ARGUMENT.rawValue }
    return Int32(clamping: value(h))
}

@_cdecl("svae_model_hidden_size")
public func cModelHidden(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.hidden } }
@_cdecl("svae_model_n_heads")
public func cModelHeads(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.heads } }
@_cdecl("svae_model_n_vocab")
public func cModelVocab(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.vocab } }
@_cdecl("svae_model_n_encoder_layers")
public func cModelEncoderLayers(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.encoderLayers } }
@_cdecl("svae_model_n_decoder_layers")
public func cModelDecoderLayers(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.decoderLayers } }
@_cdecl("svae_model_max_seq_len")
public func cModelMaxSeqLen(_ m: OpaquePointer?) -> Int32 { info(m) { $0.info.maxSeqLen } }
@_cdecl("svae_model_bos_id")
public func cModelBOS(_ m: OpaquePointer?) -> Int32 { info(m) { Int($0.info.bos) } }
@_cdecl("svae_model_eos_id")
public func cModelEOS(_ m: OpaquePointer?) -> Int32 { info(m) { Int($0.info.eos) } }
@_cdecl("svae_model_pad_id")
public func cModelPad(_ m: OpaquePointer?) -> Int32 { info(m) { Int($0.info.pad) } }
@_cdecl("svae_model_has_tokenizer")
public func cModelHasTokenizer(_ m: OpaquePointer?) -> Int32 { info(m) { $0.model.tokenizer == nil ? 0 : 1 } }
@_cdecl("svae_model_n_tokenizer_vocab")
public func cModelTokenizerVocab(_ m: OpaquePointer?) -> Int32 { info(m) { $0.model.tokenizer?.vocabularySize ?? 0 } }

@_cdecl("svae_model_architecture")
public func cModelArchitecture(_ m: OpaquePointer?) -> UnsafePointer<CChar>? {
    ModelHandle.from(m)?.architecture.map { UnsafePointer($0) }
}

@_cdecl("svae_model_type_summary")
public func cModelTypeSummary(_ m: OpaquePointer?) -> UnsafePointer<CChar>? {
    ModelHandle.from(m)?.typeSummary.map { UnsafePointer($0) }
}
