import SVAEFormat
import SVAEKernels

// The OPT decoder layer stack shared by the SLLM (`llm.*`, over sentence positions) and the
// token-level OPT causal LM (`opt.*`, over token positions).
//
// Ports HF transformers `modeling_opt.py` (`OPTLearnedPositionalEmbedding`, `OPTAttention`,
// `OPTDecoderLayer`) in float32:
//   pre-norm  (do_layer_norm_before):  x += out(attn(LN1(x)));  x += fc2(relu(fc1(LN2(x))))
//   post-norm (350m):                  x = LN1(x + out(attn(x))); x = LN2(x + fc2(relu(fc1(x))))
// with q scaled by head_dim^-0.5 and learned positions `pos_embed[p + 2]` (OPT's offset 2).

/// Hyperparameters of an OPT layer stack, read from `llm.*` or `opt.*` keys.
public struct OPTStackConfig: Sendable, Equatable {
    public var hidden: Int
    public var heads: Int
    public var ffn: Int
    public var layers: Int
    /// Positions (rows of the position table − 2).
    public var maxPositions: Int
    /// `do_layer_norm_before`: pre-norm when true.
    public var normBefore: Bool
    public var eps: Float
    public var headDim: Int { hidden / heads }

    init(_ m: Metadata, keys k: OPTStackKeys) {
        // Validated by ModelSchema; the fallbacks are never used.
        hidden = m.int(k.hiddenSize) ?? 0
        heads = m.int(k.numHeads) ?? 1
        ffn = m.int(k.ffnSize) ?? 0
        layers = m.int(k.layers) ?? 0
        maxPositions = m.int(k.maxPositions) ?? 0
        normBefore = m.bool(k.normBefore) ?? true
        eps = Float(m.float(k.layerNormEps) ?? 1e-5)
    }
}

/// One `OPTDecoderLayer`: q, k, v projections stacked in `qkv` ([3d, d]), `out_proj`,
/// `self_attn_layer_norm`, `fc1`, `fc2`, `final_layer_norm`.
struct OPTLayer: @unchecked Sendable {
    let qkv: Linear       // [3d, d] q|k|v rows + [3d]
    let out: Linear       // [d, d] + [d]
    let attnNorm: Norm    // [d], [d]
    let up: Linear        // [f, d] + [f]  (fc1)
    let down: Linear      // [d, f] + [d]  (fc2)
    let ffnNorm: Norm     // [d], [d]
}

/// Keys and values of every layer for positions [0, length): per layer two row-major
/// [capacity, d] f32 buffers, grown by doubling (contents kept) up to `maxLength` positions.
/// Not thread-safe: owned by one session.
public final class KVCache {
    public let layers: Int
    public let width: Int
    public let maxLength: Int
    private var keys: [UnsafeMutablePointer<Float>] = []
    private var values: [UnsafeMutablePointer<Float>] = []
    public private(set) var capacity = 0
    /// Positions held.
    public internal(set) var length = 0

    init(layers: Int, width: Int, maxLength: Int) {
        self.layers = layers
        self.width = width
        self.maxLength = maxLength
    }

    deinit {
        for p in keys + values { p.deallocate() }
    }

    /// Bytes of the cached keys and values of the positions held (f32).
    public var bytes: Int { 2 * layers * length * width * MemoryLayout<Float>.size }
    /// Bytes allocated (capacity, not length).
    public var allocatedBytes: Int { 2 * layers * capacity * width * MemoryLayout<Float>.size }

    /// Forgets every position (keeps the memory).
    public func reset() { length = 0 }

    /// Makes room for `count` positions (≤ maxLength, checked by the caller).
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        let newCapacity = min(maxLength, max(count, capacity * 2, 16))
        func grow(_ old: UnsafeMutablePointer<Float>?) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * width)
            if let o = old {
                p.update(from: o, count: length * width)
                o.deallocate()
            }
            return p
        }
        keys = (0..<layers).map { grow(keys.isEmpty ? nil : keys[$0]) }
        values = (0..<layers).map { grow(values.isEmpty ? nil : values[$0]) }
        capacity = newCapacity
    }

    func keys(_ layer: Int) -> UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: keys[layer], count: capacity * width) }
    func values(_ layer: Int) -> UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: values[layer], count: capacity * width) }
}

/// Reusable activations of one session for `OPTStack.forward` over n new rows (P = positions
/// held after them); each grows to the largest n seen.
final class OPTScratch {
    let qkv = FloatBuffer()     // [n, 3d] q|k|v of each row
    let q = FloatBuffer()       // [n, d] queries, contiguous for the attention kernel
    let att = FloatBuffer()     // [n, d] attention output
    let tmp = FloatBuffer()     // [n, d] output of out / fc2 before the residual add
    let normed = FloatBuffer()  // [n, d] LayerNorm of x (pre-norm models)
    let h = FloatBuffer()       // [n, f] FFN hidden
    let scores = FloatBuffer()  // [P] attention scores of one query and head
}

/// The learned position table and the decoder layers of an OPT model, read in place.
struct OPTStack: @unchecked Sendable {
    let config: OPTStackConfig
    let names: TensorName.OPTStack
    let positions: WeightMatrix  // [maxPositions + 2, d]; position p uses row p + 2
    let layers: [OPTLayer]       // config.layers of them

    init(_ t: TensorTable, names: TensorName.OPTStack, config c: OPTStackConfig) throws(ModelError) {
        config = c
        self.names = names
        positions = try t.matrix(names.posEmbed)
        var ls: [OPTLayer] = []
        for k in 0..<c.layers {
            let n = names.layer(k)
            ls.append(OPTLayer(qkv: try t.linear(n.qkv), out: try t.linear(n.out), attnNorm: try t.norm(n.attnNorm),
                               up: try t.linear(n.up), down: try t.linear(n.down), ffnNorm: try t.norm(n.ffnNorm)))
        }
        layers = ls
    }

    func makeCache() -> KVCache { KVCache(layers: layers.count, width: config.hidden, maxLength: config.maxPositions) }

    /// KV-cache bytes per position (all layers, keys and values, f32).
    var cacheBytesPerPosition: Int { 2 * layers.count * config.hidden * MemoryLayout<Float>.size }

    /// Adds `pos_embed[first + i + 2]` to row i of x [n, d].
    func addPositions(_ x: UnsafeMutableBufferPointer<Float>, n: Int, first: Int, scratch: FloatBuffer) throws(ModelError) {
        let d = config.hidden
        let row = scratch.view(d)
        for i in 0..<n {
            do { try positions.gatherRow(row, row: first + i + 2) } catch { throw .kernel(tensor: names.posEmbed, error) }
            let xr = x.row(i, d)
            Ops.add(xr, xr.readOnly, row.readOnly)
        }
    }

    /// Runs rows x [n, d] (embeddings plus positions) through every layer as positions
    /// `cache.length ..< cache.length + n`, appending their keys and values to the cache.
    ///
    /// - Parameter causal: among the n new rows, row i attends only rows ≤ i; when false they all
    ///   attend each other (the SLLM's bidirectional prefill). Every row attends all cached positions.
    /// - Throws: `.contextFull` when the positions would exceed `maxPositions`.
    func forward(_ x: UnsafeMutableBufferPointer<Float>, n: Int, cache: KVCache, causal: Bool,
                 scratch s: OPTScratch, context: KernelContext) throws(ModelError) {
        let c = config, d = c.hidden, p0 = cache.length, total = p0 + n
        guard n > 0 else { return }
        let x = x.slice(0, n * d)
        guard total <= c.maxPositions else { throw .contextFull(positions: total, max: c.maxPositions) }
        cache.reserve(total)
        let qkv = s.qkv.view(n * 3 * d), q = s.q.view(n * d), att = s.att.view(n * d), tmp = s.tmp.view(n * d)
        let normed = s.normed.view(n * d), h = s.h.view(n * c.ffn), scores = s.scores.view(total)
        let scale = 1 / Float(c.headDim).squareRoot()
        func norm(_ into: UnsafeMutableBufferPointer<Float>, _ from: UnsafeBufferPointer<Float>, _ nm: Norm) {
            for i in 0..<n {
                Ops.layerNorm(into.row(i, d), UnsafeBufferPointer(rebasing: from[(i * d)..<((i + 1) * d)]), weight: nm.w, bias: nm.b, eps: c.eps)
            }
        }
        for (l, layer) in layers.enumerated() {
            // Self-attention block.
            var input = x.readOnly
            if c.normBefore {
                norm(normed, x.readOnly, layer.attnNorm)
                input = normed.readOnly
            }
            context.linear(qkv, layer.qkv, input, n: n)
            let kc = cache.keys(l), vc = cache.values(l)
            for i in 0..<n {
                _ = q.row(i, d).update(fromContentsOf: qkv.slice(i * 3 * d, d))
                _ = kc.row(p0 + i, d).update(fromContentsOf: qkv.slice(i * 3 * d + d, d))
                _ = vc.row(p0 + i, d).update(fromContentsOf: qkv.slice(i * 3 * d + 2 * d, d))
            }
            Ops.attention(out: att, scratch: scores, q: q.readOnly, k: kc.readOnly, v: vc.readOnly, keyMask: nil,
                          causal: causal, scale: scale, heads: c.heads, headDim: c.headDim, queries: n, length: total)
            context.linear(tmp, layer.out, att.readOnly, n: n)
            Ops.add(x, x.readOnly, tmp.readOnly)
            if !c.normBefore { norm(x, x.readOnly, layer.attnNorm) }
            // Feed-forward block.
            input = x.readOnly
            if c.normBefore {
                norm(normed, x.readOnly, layer.ffnNorm)
                input = normed.readOnly
            }
            context.linear(h, layer.up, input, n: n, relu: true)  // ReLU in the product's epilogue
            context.linear(tmp, layer.down, h.readOnly, n: n)
            Ops.add(x, x.readOnly, tmp.readOnly)
            if !c.normBefore { norm(x, x.readOnly, layer.ffnNorm) }
        }
        cache.length = total
    }
}
