#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SVAEKernels

// Token embeddings: the table lookup (with the optional `project_in`) shared by the sentence
// encoder, the sentence decoder and the OPT model, and the SentenceVAE's sinusoidal positions
// added on top.

/// Token embedding with the optional `project_in` (E → d).
struct Embedding: @unchecked Sendable {
    /// The table's tensor name, for errors.
    let name: String
    let table: WeightMatrix  // [V, E]
    let projectIn: Linear?   // [d, E], only when E ≠ d

    /// Rows [n, d] of `x` = embeddings of `ids` (through `project_in` when present; `scratchE`
    /// then holds [n, E]). A bad id is a `.kernel` error naming the table.
    func lookup(_ x: UnsafeMutableBufferPointer<Float>, ids: some Collection<Int32>, scratchE: FloatBuffer,
                context: KernelContext) throws(ModelError) {
        do throws(KernelError) {
            if let proj = projectIn {
                let E = table.cols
                let buf = scratchE.view(ids.count * E)
                try gather(buf, ids: ids)
                context.linear(x, proj, buf.readOnly, n: ids.count)
            } else {
                try gather(x, ids: ids)
            }
        } catch {
            throw .kernel(tensor: name, error)
        }
    }

    /// Rows [n, E] of `dst` = the table's rows `ids`, each asked for 4 ids before it is read.
    private func gather(_ dst: UnsafeMutableBufferPointer<Float>, ids: some Collection<Int32>) throws(KernelError) {
        let E = table.cols, ahead = 4
        var next = ids.startIndex
        for _ in 0..<min(ahead, ids.count) { table.prefetchRow(Int(ids[next])); next = ids.index(after: next) }
        for (i, id) in ids.enumerated() {
            if next != ids.endIndex { table.prefetchRow(Int(ids[next])); next = ids.index(after: next) }
            try table.gatherRow(dst.row(i, E), row: Int(id))
        }
    }
}

extension SentenceVAE {
    /// Embeds `ids` into rows [n, d] of `x` (`scratchE` holds [n, E] when there is `project_in`)
    /// and adds the sinusoidal position `position(i)` to row i. No allocation (one call per
    /// decoded token).
    func embed(_ x: UnsafeMutableBufferPointer<Float>, _ e: Embedding, ids: some Collection<Int32>, position: (Int) -> Int,
               scratchE: FloatBuffer, context: KernelContext) throws(ModelError) {
        let d = config.hidden
        try e.lookup(x, ids: ids, scratchE: scratchE, context: context)
        positions.withUnsafeBufferPointer { pe in
            for i in 0..<ids.count {
                let p = position(i)
                let row = x.row(i, d)
                Ops.add(row, row.readOnly, UnsafeBufferPointer(rebasing: pe[(p * d)..<((p + 1) * d)]))
            }
        }
    }

    /// PE[p, 2i] = sin(p · exp(−2i · ln(10000) / d)), PE[p, 2i+1] = cos(…), computed in f32 the
    /// way `positional_encoding.py` does.
    static func sinusoidal(length: Int, d: Int) -> [Float] {
        var pe = [Float](repeating: 0, count: length * d)
        let k = -Float(log(10000.0)) / Float(d)
        for i in stride(from: 0, to: d, by: 2) {
            let div = Float(exp(Float(i) * k))
            for p in 0..<length {
                let a = Float(p) * div
                pe[p * d + i] = sin(a)
                if i + 1 < d { pe[p * d + i + 1] = cos(a) }
            }
        }
        return pe
    }
}
