import SVAEKernels
import SVAEModel
import SVAETokenizer

/// Teacher-forced perplexity of a model on text, line by line, optionally with the KL divergence
/// from a reference model (docs/perplexity.md). Lines are added one at a time (streaming): memory
/// does not grow with the input. Not thread-safe: one evaluator per thread.
///
/// A line is one sentence for `svae` files, one passage for `sllm` files (split with the
/// reference splitter, cap `llm.max_sentences`), one token sequence for `opt` files. Blank
/// lines are skipped.
public final class PerplexityEvaluator {
    public let model: Model
    public let reference: Model?
    /// SLLM prefill attention in use (nil for svae and opt files).
    public let attention: PrefillAttention?
    private let scorer: PerplexityScorer
    private let tokenizer: BPETokenizer
    private let splitter: SentenceSplitter?

    /// - Parameters:
    ///   - reference: a model of the same architecture, vocabulary and tokenizer (e.g. the f32
    ///     conversion of the same checkpoint), run in lockstep.
    ///   - attention: SLLM prefill attention; nil = the file's `llm.prefill_attention`.
    ///   - threads: worker threads of each model's kernel context (default: the model's option).
    public convenience init(model: Model, reference: Model? = nil, attention: PrefillAttention? = nil, threads: Int? = nil) throws(SVAEError) {
        let n = threads ?? model.options.threads
        let ctx: KernelContext, rctx: KernelContext?
        do throws(KernelError) {
            ctx = try KernelContext(threads: n)
            rctx = reference == nil ? nil : try KernelContext(threads: n)
        } catch {
            throw .kernel(error)
        }
        try self.init(model: model, context: ctx, reference: reference, referenceContext: rctx, attention: attention)
    }

    /// An evaluator running on the kernel contexts (threads, scratch) of existing sessions, e.g.
    /// the C API's contexts. The sessions must not be used elsewhere while it runs.
    public convenience init(session: Session, reference: Session? = nil, attention: PrefillAttention? = nil) throws(SVAEError) {
        try self.init(model: session.model, context: session.context, reference: reference?.model, referenceContext: reference?.context,
                      attention: attention)
    }

    init(model: Model, context: KernelContext, reference: Model?, referenceContext: KernelContext?, attention: PrefillAttention?) throws(SVAEError) {
        self.model = model
        self.reference = reference
        tokenizer = try model.requireTokenizer()
        let m = try Self.scored(model)
        var r: ScoredModel? = nil
        if let ref = reference {
            r = try Self.scored(ref)
            if let rt = ref.tokenizer, rt.tokens != tokenizer.tokens || rt.mergePairs.count != tokenizer.mergePairs.count {
                throw .model(.badOption(name: "reference", expected: "the tokenizer of \(model.path)", found: "another tokenizer in \(ref.path)"))
            }
            if ref.architecture == "svae" || ref.architecture == "sllm", ref.config?.maxSeqLen != model.config?.maxSeqLen {
                throw .model(.badOption(name: "reference", expected: "max_seq_len \(model.config?.maxSeqLen ?? 0)", found: "\(ref.config?.maxSeqLen ?? 0)"))
            }
        }
        if let l = model.sentenceLLM {
            splitter = SentenceSplitter(maxSentences: l.config.maxSentences)
            self.attention = attention ?? l.config.prefill
        } else {
            splitter = nil
            self.attention = nil
        }
        do throws(ModelError) {
            scorer = try PerplexityScorer(model: m, reference: r, attention: self.attention, context: context, referenceContext: referenceContext)
        } catch {
            throw .model(error)
        }
    }

    static func scored(_ m: Model) throws(SVAEError) -> ScoredModel {
        if let l = m.sentenceLLM { return .sllm(l) }
        if let o = m.opt { return .opt(o) }
        return .svae(try m.requireVAE())
    }

    /// Totals so far.
    public var stats: PerplexityStats { scorer.stats }

    /// The unit a line becomes: its ids (svae, opt) or its sentences' ids (sllm); empty for a
    /// blank line.
    public func unit(of line: String) -> [[Int32]] {
        if line.allSatisfy(\.isWhitespace) { return [] }
        if let s = splitter { return s.split(line).map { tokenizer.encode($0) } }
        return [tokenizer.encode(line)]
    }

    /// Scores one line (see the type's documentation). Returns its totals (zero for a blank line);
    /// a line that fails adds nothing.
    @discardableResult
    public func add(line: String) throws(SVAEError) -> PerplexityStats {
        let u = unit(of: line)
        if u.isEmpty { return PerplexityStats() }
        return try add(ids: u)
    }

    /// Scores one unit of token ids: svae, one sentence per row, each its own unit; sllm, the
    /// rows are the sentences of one passage; opt, the rows are concatenated into one sequence.
    @discardableResult
    public func add(ids: [[Int32]]) throws(SVAEError) -> PerplexityStats {
        do throws(ModelError) {
            if model.architecture == "svae" && ids.count > 1 {
                var total = PerplexityStats()
                for s in ids { total.merge(try scorer.score([s])) }
                return total
            }
            return try scorer.score(ids)
        } catch {
            throw .model(error)
        }
    }
}
