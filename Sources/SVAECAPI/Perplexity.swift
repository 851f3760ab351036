// The C perplexity calls: a run lives in the context (`ContextHandle.perplexity`), so lines can
// be streamed through several calls in constant memory.
import CSVAEAPI
import SVAE
import SVAEModel

@_cdecl("svae_perplexity_default_params")
public func cPerplexityDefaultParams() -> svae_perplexity_params {
    svae_perplexity_params(reference: nil, attention: Int32(SVAE_ATTENTION_FILE.rawValue))
}

@_cdecl("svae_perplexity_begin")
public func cPerplexityBegin(_ ctx: OpaquePointer?, _ params: UnsafePointer<svae_perplexity_params>?) -> Int32 {
    ContextHandle.call(ctx, "svae_perplexity_begin", usesSession: true) { (c) throws(CAPIError) in
        let p = params?.pointee ?? cPerplexityDefaultParams()
        let attention: PrefillAttention?
        switch p.attention {
        case Int32(SVAE_ATTENTION_FILE.rawValue): attention = nil
        case Int32(SVAE_ATTENTION_BIDIRECTIONAL.rawValue): attention = .bidirectional
        case Int32(SVAE_ATTENTION_CAUSAL.rawValue): attention = .causal
        default: throw .invalidArgument("attention: expected 0 (file), 1 (bidirectional) or 2 (causal), found \(p.attention)")
        }
        var reference: Session? = nil
        if let r = p.reference {
            guard let handle = ContextHandle.from(r) else { throw .invalidArgument("reference: expected a context") }
            guard handle !== c else { throw .invalidArgument("reference: expected another context than ctx, found the same") }
            reference = handle.session
        }
        c.perplexity = nil
        do throws(SVAEError) {
            c.perplexity = try PerplexityEvaluator(session: c.session, reference: reference,
                                                   attention: c.model.architecture == "sllm" ? attention : nil)
        } catch {
            throw CAPIError(error)
        }
    }
}

@_cdecl("svae_perplexity_add")
public func cPerplexityAdd(_ ctx: OpaquePointer?, _ lines: UnsafePointer<UnsafePointer<CChar>?>?, _ nLines: Int32,
                           _ nDone: UnsafeMutablePointer<Int>?) -> Int32 {
    ContextHandle.call(ctx, "svae_perplexity_add", usesSession: true) { (c) throws(CAPIError) in
        nDone?.pointee = 0
        guard let run = c.perplexity else { throw .invalidArgument("expected a run started by svae_perplexity_begin, found none") }
        let n = try checkCount(nLines, "n_lines", max: Limits.batch)
        let pointers = try readArray(lines, count: n, "lines")
        for (i, p) in pointers.enumerated() {
            let text = try readText(p, "lines[\(i)]")
            do throws(SVAEError) { try run.add(line: text) } catch {
                let e = CAPIError(error)
                throw e.with(prefix: "lines[\(i)]: ")
            }
            nDone?.pointee = i + 1
        }
    }
}

@_cdecl("svae_perplexity_result_get")
public func cPerplexityResult(_ ctx: OpaquePointer?, _ result: UnsafeMutablePointer<svae_perplexity_result>?) -> Int32 {
    ContextHandle.call(ctx, "svae_perplexity_result_get") { (c) throws(CAPIError) in
        guard let result else { throw .invalidArgument("result: expected a pointer, found NULL") }
        guard let run = c.perplexity else { throw .invalidArgument("expected a run started by svae_perplexity_begin, found none") }
        result.pointee = cResult(run)
    }
}

@_cdecl("svae_perplexity")
public func cPerplexity(_ ctx: OpaquePointer?, _ lines: UnsafePointer<UnsafePointer<CChar>?>?, _ nLines: Int32,
                        _ params: UnsafePointer<svae_perplexity_params>?, _ result: UnsafeMutablePointer<svae_perplexity_result>?) -> Int32 {
    if let c = ContextHandle.from(ctx), result == nil {
        c.setError("svae_perplexity: result: expected a pointer, found NULL")
        return SVAE_ERR_INVALID_ARGUMENT.rawValue
    }
    let begun = cPerplexityBegin(ctx, params)
    guard begun == SVAE_OK.rawValue else { return begun }
    let added = cPerplexityAdd(ctx, lines, nLines, nil)
    guard added == SVAE_OK.rawValue else { return added }
    return cPerplexityResult(ctx, result)
}

func cResult(_ run: PerplexityEvaluator) -> svae_perplexity_result {
    let s = run.stats
    let attention: Int32 = switch run.attention {
    case .bidirectional?: Int32(SVAE_ATTENTION_BIDIRECTIONAL.rawValue)
    case .causal?: Int32(SVAE_ATTENTION_CAUSAL.rawValue)
    case nil: 0
    }
    let r = s.hasReference
    return svae_perplexity_result(
        units: Int64(s.units), tokens: Int64(s.tokens), sum_ce: s.sumCE, mean_ce: s.meanCE, ppl: s.perplexity,
        correct: Int64(s.correct), stop_decisions: Int64(s.stopDecisions), stop_correct: Int64(s.stopCorrect),
        attention: attention, has_reference: r ? 1 : 0,
        reference_mean_ce: r ? s.referenceMeanCE : 0, ppl_ratio: r ? s.perplexityRatio : 0, top1_agreement: r ? s.top1Agreement : 0,
        kld_mean: r ? s.kld.mean : 0, kld_median: r ? s.kld.quantile(0.5) : 0, kld_p99: r ? s.kld.quantile(0.99) : 0,
        kld_max: r ? s.kld.max : 0)
}

extension CAPIError {
    /// The same status with `prefix` before its message.
    func with(prefix: String) -> CAPIError {
        switch self {
        case let .invalidArgument(m): .invalidArgument(prefix + m)
        case let .bufferTooSmall(m): .bufferTooSmall(prefix + m)
        case let .outOfRange(m): .outOfRange(prefix + m)
        case let .model(m): .model(prefix + m)
        case let .noTokenizer(m): .noTokenizer(prefix + m)
        case let .invalidUTF8(m): .invalidUTF8(prefix + m)
        case let .tooLong(m): .tooLong(prefix + m)
        case let .badVector(m): .badVector(prefix + m)
        case let .internal(m): .internal(prefix + m)
        }
    }
}
