import SVAEKernels

/// Decodes up to `capacity` sentence vectors in lockstep with KV caches: each `step` feeds one
/// token to each of the given sentences and runs every decoder weight as ONE product over all of
/// them, so the weights (the 50272-row vocabulary projection above all) are read once per step
/// for the whole batch instead of once per sentence.
///
/// Each sentence owns a slot, allocated in `init` for `capacity` sentences: its KV cache
/// (max_seq_len positions of K and V per layer, so the caches never exceed capacity ×
/// max_seq_len positions), its length and its cross-attention constants. Cross-attention over a
/// single memory vector has softmax weight 1, so each layer's cross-attention output is the
/// constant `cross_out(cross_v · m + b_v) + b_out`, computed once when the sentence joins;
/// causal self-attention keeps K and V of every position instead of re-running the prefix (the
/// reference re-runs it each step). Sentences join and leave between steps (`run` does
/// continuous batching on top).
///
/// Rows: with capacity > 1, every product has between `rows.lowerBound` and `rows.upperBound`
/// activation rows (a step with fewer sentences is padded, a larger one split), the range over
/// which the kernels compute each row the same way (`KernelContext.batchInvariantRows`): a
/// sentence's logits then do not depend on which sentences share its steps, nor on how many.
/// Capacity 1 (`DecoderSession`) runs the matrix-vector kernels, which for f32/f16/q8_0/q4_0 sum
/// in another order: ids agree with a batch's except where that order flips a near-tie of the two
/// best logits. `i8r` weights (svae-convert's q8 choice) compute each row's exact integer sum for
/// any number of rows: their range is every n, no step is padded, and a sentence's ids alone and
/// in any batch are the same.
///
/// Not thread-safe: one batch per thread.
public final class DecoderBatch {
    public let model: SentenceVAE
    public let capacity: Int
    let context: KernelContext
    /// Activation rows per product (see the type's documentation).
    let rows: ClosedRange<Int>
    /// Per layer: K and V of every slot, [capacity, maxSeqLen, d]. Not a `KVCache` (OPTLayers.swift)
    /// per slot, on purpose: this is one slab allocated once for `capacity` sentences of at most
    /// max_seq_len positions, whose slots continuous batching hands from sentence to sentence;
    /// `KVCache` is one sequence that grows by doubling up to max_positions (an OPT session
    /// would otherwise hold 2 × layers × 2048 × d floats from its first token).
    private let keys: [FloatBuffer]
    private let values: [FloatBuffer]
    /// Cross-attention constants, [capacity, layers, d].
    private let cross: FloatBuffer
    private var lengths: [Int]
    private var occupied: [Bool]
    // Activations of one product of m rows (m ≤ max(capacity, rows.lowerBound) when the step
    // is not split, else ≤ rows.upperBound), allocated in init.
    private let x = FloatBuffer()             // [m, d] residual stream; the joining vectors in join
    private let qkv = FloatBuffer()           // [m, 3d] q|k|v of each row
    private let att = FloatBuffer()           // [m, d] self-attention output (padding rows zero); cross_out's in join
    private let tmp = FloatBuffer()           // [m, d] out / ffn_down output before add+norm; cross_v's in join
    private let h = FloatBuffer()             // [m, f] FFN hidden
    private let scores = FloatBuffer()        // [maxSeqLen] attention scores of one query and head
    private let e = FloatBuffer()             // [m, E] embeddings before project_in (E ≠ d only)
    private let logitsBuffer = FloatBuffer()  // [max(capacity, rows.lowerBound), V] logits of a step
    private let idsBuffer: UnsafeMutableBufferPointer<Int32>  // [max(capacity, rows.lowerBound)] greedy ids of a step
    /// Slot, token and position of each row of the current product (padding rows repeat row 0).
    private var rowSlots: [Int] = [], rowTokens: [Int32] = [], rowPositions: [Int] = []
    /// Per live row of a product: its slot's K and V cache of the current layer and the keys it
    /// attends (position + 1), what the attention kernel takes; allocated in init.
    private let rowKeys: UnsafeMutableBufferPointer<UnsafePointer<Float>?>
    private let rowValues: UnsafeMutableBufferPointer<UnsafePointer<Float>?>
    private let rowLengths: UnsafeMutableBufferPointer<Int>

    /// Largest capacity accepted (KV caches: capacity × layers × 2 × max_seq_len × d floats).
    public static let maxCapacity = 256

    /// Allocates the caches and scratch of `capacity` sentences (1 ... `maxCapacity`).
    public init(model: SentenceVAE, capacity: Int, context: KernelContext) throws(ModelError) {
        guard capacity >= 1, capacity <= Self.maxCapacity else {
            throw .badOption(name: "batch", expected: "1 ... \(Self.maxCapacity)", found: "\(capacity)")
        }
        let c = model.config, d = c.hidden
        self.model = model
        self.capacity = capacity
        self.context = context
        if capacity == 1 {
            rows = 1...1
        } else {
            var weights = model.decLayers.flatMap { [$0.selfQKV.w, $0.selfOut.w, $0.up.w, $0.down.w, $0.crossV.w, $0.crossOut.w] }
            weights.append(model.lmHead.w)
            if let p = model.decEmbed.projectIn { weights.append(p.w) }
            let ranges = weights.map { context.batchInvariantRows($0) }
            let lower = ranges.map(\.lowerBound).max()!, upper = ranges.map(\.upperBound).min()!
            // Splitting n > upper rows into ⌈n / upper⌉ near-equal products keeps each ≥ lower.
            precondition(upper >= 2 * lower, "batched decoding: kernel row range \(lower)...\(upper) too narrow")
            rows = lower...upper
        }
        let perSlot = c.maxSeqLen * d
        keys = model.decLayers.map { _ in FloatBuffer(capacity * perSlot) }
        values = model.decLayers.map { _ in FloatBuffer(capacity * perSlot) }
        cross = FloatBuffer(capacity * c.decoderLayers * d)
        lengths = [Int](repeating: 0, count: capacity)
        occupied = [Bool](repeating: false, count: capacity)
        let n = max(min(capacity, rows.upperBound), rows.lowerBound)
        rowKeys = .allocate(capacity: n)
        rowKeys.initialize(repeating: nil)
        rowValues = .allocate(capacity: n)
        rowValues.initialize(repeating: nil)
        rowLengths = .allocate(capacity: n)
        rowLengths.initialize(repeating: 0)
        _ = (x.view(n * d), qkv.view(n * 3 * d), att.view(n * d), tmp.view(n * d), h.view(n * c.ffn), scores.view(c.maxSeqLen))
        _ = logitsBuffer.view(max(capacity, rows.lowerBound) * c.vocab)
        idsBuffer = .allocate(capacity: max(capacity, rows.lowerBound))
        idsBuffer.initialize(repeating: 0)
        rowSlots.reserveCapacity(capacity)
        rowTokens.reserveCapacity(capacity)
        rowPositions.reserveCapacity(capacity)
    }

    deinit {
        rowKeys.deallocate()
        rowValues.deallocate()
        rowLengths.deallocate()
        idsBuffer.deallocate()
    }

    /// Slots not holding a sentence.
    public var freeSlots: Int { occupied.lazy.filter { !$0 }.count }

    /// Tokens fed so far to the sentence in `slot` (BOS included).
    public func length(of slot: Int) -> Int { lengths[slot] }

    /// Takes a free slot for a sentence vector of `hidden` floats (what `encode` returns, or an
    /// SLLM state) and computes its cross-attention constants. Precondition: `freeSlots > 0`.
    /// Returns the slot.
    public func join(_ vector: [Float]) throws(ModelError) -> Int {
        try check(vector)
        return join(checked: [vector])[0]
    }

    /// Throws what `join` throws for a vector that is not `hidden` finite floats.
    func check(_ vector: [Float]) throws(ModelError) {
        let d = model.config.hidden
        guard vector.count == d else { throw .vectorSize(expected: d, found: vector.count) }
        if let bad = vector.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteVector(index: bad) }
    }

    /// Takes a free slot for each of `vectors` (each passed by `check`; at most `freeSlots`) and
    /// computes their cross-attention constants with one product per weight for all of them (rows
    /// as in `step`: a few padded to `rows.lowerBound`, many split), so that joining B sentences
    /// reads each cross-attention weight once, not B times. Returns the slots, in order.
    func join(checked vectors: [[Float]]) -> [Int] {
        let c = model.config, d = c.hidden, n = vectors.count
        var slots: [Int] = []
        slots.reserveCapacity(n)
        for _ in 0..<n {
            guard let slot = occupied.firstIndex(of: false) else { preconditionFailure("DecoderBatch.join: no free slot") }
            occupied[slot] = true
            lengths[slot] = 0
            slots.append(slot)
        }
        let all = cross.view(capacity * c.decoderLayers * d)
        let parts = n <= rows.upperBound ? 1 : (n - 1) / rows.upperBound + 1
        for p in 0..<parts {
            let r0 = n * p / parts, r1 = n * (p + 1) / parts, k = r1 - r0, m = max(k, rows.lowerBound)
            let memory = x.view(m * d), v = tmp.view(m * d), out = att.view(m * d)
            for i in 0..<m { _ = memory.row(i, d).update(fromContentsOf: vectors[r0 + (i < k ? i : 0)]) }  // padding repeats the first
            for (l, layer) in model.decLayers.enumerated() {
                context.linear(v, layer.crossV, memory.readOnly, n: m)
                context.linear(out, layer.crossOut, v.readOnly, n: m)
                for i in 0..<k { _ = all.row(slots[r0 + i] * c.decoderLayers + l, d).update(fromContentsOf: out.row(i, d)) }
            }
        }
        return slots
    }

    /// Frees `slot` (its cache is overwritten by the next sentence that joins).
    public func leave(_ slot: Int) {
        precondition(occupied[slot], "DecoderBatch.leave: slot \(slot) is free")
        occupied[slot] = false
    }

    /// Feeds `tokens[i]` to the sentence in `slots[i]` (distinct occupied slots) and returns the
    /// logits [slots.count, vocab]: row i holds the next-token logits of `slots[i]` (valid until
    /// the next call). Errors name the row i as the input.
    public func step(slots: some Collection<Int>, tokens: some Collection<Int32>) throws(ModelError) -> UnsafeBufferPointer<Float> {
        let n = try advance(slots: slots, tokens: tokens, greedy: false)
        return UnsafeBufferPointer(logitsBuffer.view(n * model.config.vocab))  // advance grew it to at least this
    }

    /// `step` for greedy decoding: returns the argmax of each row's logits [slots.count] (the ids
    /// `Sampler.argmax` picks from `step`'s logits, valid until the next call). With i8r vocabulary
    /// weights the logits are never written (`KernelContext.linearArgmax`).
    public func stepGreedy(slots: some Collection<Int>, tokens: some Collection<Int32>) throws(ModelError) -> UnsafeBufferPointer<Int32> {
        let n = try advance(slots: slots, tokens: tokens, greedy: true)
        return UnsafeBufferPointer(rebasing: idsBuffer[0..<n])
    }

    /// Checks and runs one step (logits, or greedy ids) and advances the sentences; returns the rows.
    private func advance(slots: some Collection<Int>, tokens: some Collection<Int32>, greedy: Bool) throws(ModelError) -> Int {
        let c = model.config, n = slots.count
        precondition(tokens.count == n && n > 0, "DecoderBatch.step: expected as many tokens as slots, at least one")
        rowSlots.removeAll(keepingCapacity: true)
        rowTokens.removeAll(keepingCapacity: true)
        rowPositions.removeAll(keepingCapacity: true)
        for (i, (slot, token)) in zip(slots, tokens).enumerated() {
            precondition(occupied[slot] && !rowSlots.contains(slot), "DecoderBatch.step: slot \(slot) free or repeated")
            let pos = lengths[slot]
            guard pos < c.maxSeqLen else { throw .sentenceTooLong(input: i, tokens: pos + 1, max: c.maxSeqLen) }
            guard token >= 0, Int(token) < c.vocab else { throw .tokenOutOfRange(input: i, position: pos, id: token, vocab: c.vocab) }
            rowSlots.append(slot)
            rowTokens.append(token)
            rowPositions.append(pos)
        }
        // Products of lower...upper rows: pad a small step, split a large one evenly.
        let parts = n <= rows.upperBound ? 1 : (n - 1) / rows.upperBound + 1
        let logits = logitsBuffer.view(max(n, rows.lowerBound) * c.vocab)
        for p in 0..<parts {
            let r0 = n * p / parts, r1 = n * (p + 1) / parts
            try forward(r0..<r1, padded: max(r1 - r0, rows.lowerBound), logits: logits.slice(r0 * c.vocab, logits.count - r0 * c.vocab),
                        ids: greedy ? UnsafeMutableBufferPointer(rebasing: idsBuffer[r0...]) : nil)
        }
        for s in rowSlots { lengths[s] += 1 }
        return n
    }

    /// One pass of the decoder over rows `live` of the step, as a product of `padded` ≥ live.count
    /// rows (rows past the live ones repeat the first row's token and skip attention); writes the
    /// logits of the live rows to `logits` [live.count, vocab] (padding rows write after them), or
    /// with `ids` their greedy ids there (padding rows' after them; logits only as scratch).
    private func forward(_ live: Range<Int>, padded m: Int, logits: UnsafeMutableBufferPointer<Float>,
                         ids picked: UnsafeMutableBufferPointer<Int32>?) throws(ModelError) {
        let c = model.config, d = c.hidden, k = live.count, first = live.lowerBound
        let x = self.x.view(m * d), qkv = self.qkv.view(m * 3 * d), att = self.att.view(m * d), tmp = self.tmp.view(m * d)
        let h = self.h.view(m * c.ffn), scores = self.scores.view(c.maxSeqLen)
        let ids = (0..<m).lazy.map { self.rowTokens[first + ($0 < k ? $0 : 0)] }
        try model.embed(x, model.decEmbed, ids: ids, position: { self.rowPositions[first + ($0 < k ? $0 : 0)] },
                        scratchE: e, context: context)
        let scale = 1 / Float(c.headDim).squareRoot(), perSlot = c.maxSeqLen * d
        let crossAll = cross.view(capacity * c.decoderLayers * d)
        for (l, layer) in model.decLayers.enumerated() {
            context.linear(qkv, layer.selfQKV, x.readOnly, n: m)
            let kAll = keys[l].view(capacity * perSlot), vAll = values[l].view(capacity * perSlot)
            for i in 0..<k {
                let slot = rowSlots[first + i], pos = rowPositions[first + i], row = qkv.row(i, 3 * d)
                let kc = kAll.slice(slot * perSlot, perSlot), vc = vAll.slice(slot * perSlot, perSlot)
                _ = kc.row(pos, d).update(fromContentsOf: row.slice(d, d))
                _ = vc.row(pos, d).update(fromContentsOf: row.slice(2 * d, d))
                rowKeys[i] = UnsafePointer(kc.baseAddress)
                rowValues[i] = UnsafePointer(vc.baseAddress)
                rowLengths[i] = pos + 1
            }
            Ops.attention(out: att, scratch: scores, q: qkv.readOnly, qStride: 3 * d,
                          keys: UnsafeBufferPointer(rebasing: rowKeys[0..<k]), values: UnsafeBufferPointer(rebasing: rowValues[0..<k]),
                          lengths: UnsafeBufferPointer(rebasing: rowLengths[0..<k]), kvStride: d,
                          scale: scale, heads: c.heads, headDim: c.headDim)
            att.slice(k * d, (m - k) * d).update(repeating: 0)
            context.linear(tmp, layer.selfOut, att.readOnly, n: m)
            addNorm(x, tmp.readOnly, layer.norm1, n: m, d: d, eps: c.eps)
            // each live row's cross-attention constant, gathered, then one add + LayerNorm
            for i in 0..<k { _ = tmp.row(i, d).update(fromContentsOf: crossAll.row(rowSlots[first + i] * c.decoderLayers + l, d)) }
            addNorm(x, tmp.readOnly, layer.norm2, n: k, d: d, eps: c.eps)
            context.linear(h, layer.up, x.readOnly, n: m, relu: true)  // ReLU in the product's epilogue
            context.linear(tmp, layer.down, h.readOnly, n: m)
            addNorm(x, tmp.readOnly, layer.norm3, n: m, d: d, eps: c.eps)
        }
        if let picked {
            context.linearArgmax(picked, model.lmHead, x.readOnly, n: m, logits: logits.slice(0, m * c.vocab))
        } else {
            context.linear(logits.slice(0, m * c.vocab), model.lmHead, x.readOnly, n: m)
        }
    }
}

/// Decodes one sentence vector token by token with a KV cache: a `DecoderBatch` of one (the
/// matrix-vector kernels). Not thread-safe: one session per thread.
public final class DecoderSession {
    public let model: SentenceVAE
    /// The number its errors give the vector being decoded (`ModelError`'s `input`).
    public let input: Int
    private let batch: DecoderBatch
    private let slot: Int
    /// Tokens fed so far (BOS included).
    public var length: Int { batch.length(of: slot) }

    /// - Parameters:
    ///   - vector: a sentence vector of `hidden` floats (what `encode` returns, or an SLLM state).
    ///   - input: the vector's number among the caller's inputs, named by the session's errors.
    public init(model: SentenceVAE, vector: [Float], context: KernelContext, input: Int = 0) throws(ModelError) {
        self.model = model
        self.input = input
        batch = try DecoderBatch(model: model, capacity: 1, context: context)
        slot = try batch.join(vector)
    }

    /// Feeds one token and returns the logits [vocab] for the next one (valid until the next call).
    /// Errors name `input`.
    public func step(_ token: Int32) throws(ModelError) -> UnsafeBufferPointer<Float> {
        try namingInput { () throws(ModelError) in try batch.step(slots: CollectionOfOne(slot), tokens: CollectionOfOne(token)) }
    }

    /// `step`, greedy: the argmax of the next token's logits (`DecoderBatch.stepGreedy`).
    func stepGreedy(_ token: Int32) throws(ModelError) -> Int32 {
        try namingInput { () throws(ModelError) in try batch.stepGreedy(slots: CollectionOfOne(slot), tokens: CollectionOfOne(token))[0] }
    }

    /// Runs a step of the one-slot batch, its errors naming `input` instead of the batch's row 0.
    private func namingInput<R>(_ body: () throws(ModelError) -> R) throws(ModelError) -> R {
        do throws(ModelError) {
            return try body()
        } catch {
            throw error.renumberingInput { _ in input }
        }
    }

    /// Generates a sentence from BOS: greedy when `sampler` is nil. Stops after EOS (included in the
    /// result) or after `maxTokens` tokens (default and upper bound: max_seq_len − 1, so BOS plus the
    /// output fit the model's length; the reference's cap never fires, ours does).
    /// `onToken` sees each token as it is produced; returning false stops early.
    public func generate(maxTokens: Int? = nil, sampler: Sampler? = nil, onToken: ((Int32) -> Bool)? = nil) throws(ModelError) -> [Int32] {
        let c = model.config
        var s = SentenceInProgress(bos: c.bos, cap: min(maxTokens ?? (c.maxSeqLen - 1), c.maxSeqLen - 1 - length), sampler: sampler)
        while !s.finished {
            if sampler == nil {
                s.accept(id: try stepGreedy(s.next), eos: c.eos, onToken: onToken)
            } else {
                s.accept(try step(s.next), eos: c.eos, onToken: onToken)
            }
        }
        return s.ids
    }
}

/// One sentence being generated: the token to feed next, the ids produced so far, the cap and
/// its own sampler state (so its output does not depend on other sentences decoded beside it).
struct SentenceInProgress {
    private(set) var next: Int32
    private(set) var ids: [Int32] = []
    private(set) var finished: Bool
    let cap: Int
    var sampler: Sampler?

    init(bos: Int32, cap: Int, sampler: Sampler?) {
        next = bos
        self.cap = cap
        self.sampler = sampler
        finished = cap <= 0
    }

    /// Picks the next id from the logits of the last step (greedy or sampled) and ends the
    /// sentence after EOS, at the cap, or when `onToken` returns false.
    mutating func accept(_ logits: UnsafeBufferPointer<Float>, eos: Int32, onToken: ((Int32) -> Bool)?) {
        accept(id: sampler.pick(logits), eos: eos, onToken: onToken)
    }

    /// `accept` of an id already picked (greedy steps: `DecoderBatch.stepGreedy`).
    mutating func accept(id: Int32, eos: Int32, onToken: ((Int32) -> Bool)?) {
        ids.append(id)
        next = id
        let stop = onToken.map { !$0(id) } ?? false
        finished = stop || id == eos || ids.count >= cap
    }
}

/// One sentence vector to decode, with its own limit and sampler.
public struct DecodeRequest: Sendable {
    public var vector: [Float]
    /// Most tokens generated (nil and upper bound: max_seq_len − 1).
    public var maxTokens: Int?
    /// nil: greedy.
    public var sampler: Sampler?

    public init(vector: [Float], maxTokens: Int? = nil, sampler: Sampler? = nil) {
        self.vector = vector
        self.maxTokens = maxTokens
        self.sampler = sampler
    }
}

extension DecoderBatch {
    /// Decodes requests with continuous batching: while a slot is free and `next` has a request,
    /// the request joins (all that fit join together: one product per cross-attention weight);
    /// each step feeds all live sentences at once; a sentence that ends (EOS, its cap, or
    /// `onToken` returning false) leaves at once and its slot goes to the next request, so a long
    /// sentence never holds the others back.
    ///
    /// Requests are numbered from 0 in the order `next` returns them (it is not called again
    /// after returning nil). `onFinish(number, result)` reports each sentence when it ends, in
    /// completion order: its ids (EOS last when produced), or the error of a request whose vector
    /// is invalid (that request never joins; the others go on). `onToken(number, id)` sees every
    /// id as it is produced. At most `limit` sentences (default: `capacity`) are live at once.
    public func run(limit: Int? = nil, next: () -> DecodeRequest?, onToken: ((Int, Int32) -> Bool)? = nil,
                    onFinish: (Int, Result<[Int32], ModelError>) -> Void) throws(ModelError) {
        let c = model.config
        var live: [(slot: Int, number: Int, sentence: SentenceInProgress)] = []
        var slots: [Int] = [], tokens: [Int32] = []
        var count = 0, exhausted = false
        let most = min(capacity, max(limit ?? capacity, 1))
        defer { for s in live { leave(s.slot) } }
        while true {
            // The requests that fit join together (one product per cross-attention weight).
            var joining: [(number: Int, sentence: SentenceInProgress, vector: [Float])] = []
            while !exhausted && live.count + joining.count < most {
                guard let r = next() else { exhausted = true; break }
                let number = count
                count += 1
                let s = SentenceInProgress(bos: c.bos, cap: min(r.maxTokens ?? (c.maxSeqLen - 1), c.maxSeqLen - 1), sampler: r.sampler)
                do throws(ModelError) {
                    try check(r.vector)
                } catch {
                    onFinish(number, .failure(error))
                    continue
                }
                if s.finished {
                    onFinish(number, .success([]))  // nothing to generate (a cap of 0)
                } else {
                    joining.append((number, s, r.vector))
                }
            }
            if !joining.isEmpty {
                for (j, slot) in zip(joining, join(checked: joining.map(\.vector))) { live.append((slot, j.number, j.sentence)) }
            }
            if live.isEmpty { return }
            slots.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
            for s in live {
                slots.append(s.slot)
                tokens.append(s.sentence.next)
            }
            // Every live sentence greedy: ids straight from the step (no logits with i8r weights).
            let greedy = live.allSatisfy { $0.sentence.sampler == nil }
            var logits = UnsafeBufferPointer<Float>(start: nil, count: 0), ids = UnsafeBufferPointer<Int32>(start: nil, count: 0)
            do throws(ModelError) {
                if greedy {
                    ids = try stepGreedy(slots: slots, tokens: tokens)
                } else {
                    logits = try step(slots: slots, tokens: tokens)
                }
            } catch {
                throw error.renumberingInput { live[$0].number }  // the request, not the row of this step
            }
            for i in live.indices {
                let number = live[i].number, report = onToken.map { cb in { cb(number, $0) } }
                if greedy {
                    live[i].sentence.accept(id: ids[i], eos: c.eos, onToken: report)
                } else {
                    live[i].sentence.accept(UnsafeBufferPointer(rebasing: logits[(i * c.vocab)..<((i + 1) * c.vocab)]), eos: c.eos, onToken: report)
                }
            }
            var kept = 0
            for s in live {
                if s.sentence.finished {
                    leave(s.slot)
                    onFinish(s.number, .success(s.sentence.ids))
                } else {
                    live[kept] = s
                    kept += 1
                }
            }
            live.removeSubrange(kept...)
        }
    }
}
