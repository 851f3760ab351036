import SVAEModel

extension Model {
    /// See `Session.decode(_:batch:maxTokens:sampler:)`.
    public func decode(_ vectors: [[Float]], batch: Int = Session.defaultDecodeBatch, maxTokens: Int? = nil,
                       sampler: Sampler? = nil) throws(SVAEError) -> [[Int32]] {
        try withSession { (s) throws(SVAEError) in try s.decode(vectors, batch: batch, maxTokens: maxTokens, sampler: sampler) }
    }
}

extension Session {
    /// Sentences decoded in lockstep when no batch size is given (measured on one core of the
    /// project machine, BENCHMARKS.md "Batched decoding": the sentences/s gained from 16 to 32
    /// are small next to the KV caches and the latency they add).
    public static let defaultDecodeBatch = 32

    /// Decodes many sentence vectors, up to `batch` of them in lockstep: each step runs every
    /// decoder weight once for all live sentences, and a sentence that ends gives its place to
    /// the next vector at once (continuous batching). `batch` 1 decodes one vector at a time, as
    /// `decode(_:maxTokens:sampler:onToken:)` does.
    ///
    /// Greedy when `sampler` is nil; otherwise vector i is sampled by its own
    /// `sampler.reseeded(sampler.seed &+ i)`, so its output does not depend on its batch mates
    /// and equals `decode(vectors[i], sampler: sampler.reseeded(sampler.seed &+ i))` except where
    /// the kernels' summation order flips a near-tie (see `DecoderBatch`).
    ///
    /// - Returns: the generated ids of each vector (EOS last when produced), in input order.
    /// - Throws: `.vector(index:…)` for the first invalid vector, before decoding anything;
    ///   `.model(.badOption)` for a batch outside 1 ... `DecoderBatch.maxCapacity`.
    public func decode(_ vectors: [[Float]], batch: Int = Session.defaultDecodeBatch, maxTokens: Int? = nil,
                       sampler: Sampler? = nil) throws(SVAEError) -> [[Int32]] {
        let d = try model.requireVAE().config.hidden
        try Self.checkBatch(batch)
        for (i, v) in vectors.enumerated() {
            if v.count != d { throw .vector(index: i, .vectorSize(expected: d, found: v.count)) }
            if let bad = v.firstIndex(where: { !$0.isFinite }) { throw .vector(index: i, .nonFiniteVector(index: bad)) }
        }
        var out = [[Int32]](repeating: [], count: vectors.count)
        var it = vectors.makeIterator()
        var failure: SVAEError?
        try decode(batch: min(batch, max(vectors.count, 1)), maxTokens: maxTokens, sampler: sampler, next: { it.next() }) { i, r in
            switch r {
            case let .success(ids): out[i] = ids
            case let .failure(e): failure = failure ?? e
            }
        }
        if let failure { throw failure }
        return out
    }

    /// The streaming form of `decode(_:batch:maxTokens:sampler:)`: takes vectors from `next`
    /// (until it returns nil) while places are free, and reports each one's result through
    /// `onResult(index, result)` in input order, as soon as every earlier one has been reported
    /// (results that finish early wait, at most `batch` × max_seq_len of them). An invalid vector
    /// gets its `.vector(index:…)` error as its result; the others go on.
    public func decode(batch: Int = Session.defaultDecodeBatch, maxTokens: Int? = nil, sampler: Sampler? = nil,
                       next: () -> [Float]?, onResult: (Int, Result<[Int32], SVAEError>) -> Void) throws(SVAEError) {
        var count = 0
        try decode(batch: batch, next: { () -> DecodeRequest? in
            guard let v = next() else { return nil }
            defer { count += 1 }
            return DecodeRequest(vector: v, maxTokens: maxTokens, sampler: sampler.map { $0.reseeded($0.seed &+ UInt64(count)) })
        }, onResult: onResult)
    }

    /// The same with a limit and a sampler of its own for each vector (`DecodeRequest`).
    public func decode(batch: Int = Session.defaultDecodeBatch, next: () -> DecodeRequest?,
                       onResult: (Int, Result<[Int32], SVAEError>) -> Void) throws(SVAEError) {
        let vae = try model.requireVAE()
        try Self.checkBatch(batch)
        let decoder = try decoderBatch(vae, capacity: batch)
        var pending: [Int: Result<[Int32], SVAEError>] = [:]
        var reported = 0
        do {
            try decoder.run(limit: batch, next: next, onFinish: { i, r in
                pending[i] = r.mapError { SVAEError.vector(index: i, $0) }
                while let ready = pending.removeValue(forKey: reported) {
                    onResult(reported, ready)
                    reported += 1
                }
            })
        } catch {
            throw .model(error)
        }
    }

    /// Reconstructs many inputs: `next` gives each one's ids (BOS first, as `tokenize` returns
    /// them) and text (carried through; empty for id inputs); each is encoded alone, as
    /// `reconstruct(ids:text:)` does, and decoded greedily `batch` at a time. `onResult` gets
    /// the reconstructions in input order, as soon as every earlier one is done. An error from
    /// `next` or from encoding stops taking inputs: the sentences already taken are finished and
    /// reported, then the error is thrown.
    public func reconstruct(batch: Int = Session.defaultDecodeBatch, next: () throws(SVAEError) -> (ids: [Int32], text: String)?,
                            onResult: (Int, Reconstruction) -> Void) throws(SVAEError) {
        var inputs: [Int: (ids: [Int32], text: String, vector: [Float])] = [:]
        var count = 0
        var stopped: SVAEError?
        var failed: SVAEError?
        try decode(batch: batch, next: {
            do throws(SVAEError) {
                guard stopped == nil, let item = try next() else { return nil }
                let vector = try encode(ids: [item.ids])[0]
                inputs[count] = (item.ids, item.text, vector)
                count += 1
                return vector
            } catch {
                stopped = error
                return nil
            }
        }) { i, r in
            guard failed == nil, let input = inputs.removeValue(forKey: i) else { return }
            do throws(SVAEError) {
                onResult(i, try reconstruction(ids: input.ids, text: input.text, vector: input.vector, output: try r.get()))
            } catch {
                failed = error
            }
        }
        if let e = failed ?? stopped { throw e }
    }

    static func checkBatch(_ batch: Int) throws(SVAEError) {
        guard batch >= 1, batch <= DecoderBatch.maxCapacity else {
            throw .model(.badOption(name: "batch", expected: "1 ... \(DecoderBatch.maxCapacity)", found: "\(batch)"))
        }
    }

    /// A decoder batch for up to `capacity` sentences: this session's from an earlier call when
    /// it has room (a capacity-1 batch and larger ones compute differently, so one never stands
    /// in for the other), else a new one, kept for the next call.
    func decoderBatch(_ vae: SentenceVAE, capacity: Int) throws(SVAEError) -> DecoderBatch {
        if let b = batchDecoder, b.capacity >= capacity, (b.capacity == 1) == (capacity == 1) { return b }
        do {
            let b = try DecoderBatch(model: vae, capacity: capacity, context: context)
            batchDecoder = b
            return b
        } catch {
            throw .model(error)
        }
    }
}
