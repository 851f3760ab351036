// matvec.h: internal to CSVAEKernels (not part of the public header).
#pragma once
#include "csvae_kernels.h"

#if defined(__x86_64__)
/// Y[i, r] for i < n, r in [r0, r1) with quantized weights (q8_0/q4_0) on AVX-512 + VNNI, for
/// n <= 3 activation rows (see matvec.c). Same contract as csvae_matmul_rows. Returns 0 (and
/// writes nothing) if n or cols is outside what it handles; the caller then uses another kernel.
int csvae_matvec_quant_avx512(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n,
                              size_t r0, size_t r1, size_t cols);
/// The same on AVX2 + FMA + F16C (no VNNI); same results as the scalar path within the tests'
/// limits, not bit-identical to the AVX-512 kernel.
int csvae_matvec_quant_avx2(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n,
                            size_t r0, size_t r1, size_t cols);
#endif
