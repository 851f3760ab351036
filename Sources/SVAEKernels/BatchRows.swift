// BatchRows.swift: which batch sizes compute each row of a product the same way (for batched
// decoding, whose output for one sentence must not depend on the sentences beside it).

extension KernelContext {
    /// The activation row counts n over which `matmul(_:_:_:n:)` computes every row of Y with the
    /// same operations in the same order, so that a row's result depends neither on n nor on the
    /// other rows. Outside the range another kernel takes over and sums in another order (or,
    /// for n ≥ `bf16MinRows` on AVX-512 BF16, rounds the activations to bf16):
    /// - q8_0 / q4_0: n < 4 runs the matrix-vector kernels of matvec.c on AVX-512 and AVX2;
    /// - f32: n = 1 runs OpenBLAS sgemv, n ≥ 2 sgemm, except n ≥ 4 on the AVX-512 path when
    ///   OpenBLAS has no AVX-512 kernel (our float kernel); sgemm's K loop is the same for every
    ///   number of rows;
    /// - f16 / bf16: n ≥ 16 runs sgemm on converted weights, fewer rows our float kernel.
    /// The scalar path and the float check are the same loop for every n. `i8r` is invariant for
    /// every n on every path: activations are quantized per row, every kernel (matrix-vector or
    /// batched, any tile) computes the row's exact int32 sum and then the same float operations
    /// (formats/quantization.md §9.2).
    package func batchInvariantRows(_ w: WeightMatrix) -> ClosedRange<Int> {
        if path == .scalar || w.type == .i8r { return 1...Int.max }
        if w.type.isQuantized {
            if floatCheck || path == .neon { return 1...Int.max }
            return 4...(usesBF16(w, n: Self.bf16MinRows) ? Self.bf16MinRows - 1 : Int.max)
        }
        switch w.type {
        case .f32: return path == .avx512 && !Self.blasHasAVX512 ? 4...Int.max : 2...Int.max
        default: return 16...Int.max
        }
    }
}
