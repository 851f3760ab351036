// transpose.h: internal to CSVAEKernels (not part of the public header): the 16 x 16 f32
// register transpose shared by the encoder's attention (ops.c) and the f32 product (matmul.c).
#pragma once
#include <stddef.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define TRANSPOSE_FN __attribute__((target("avx2,fma,avx512f")))
/// dst[c][16] (row stride ldd) = transpose of src rows 0..rows-1 (row stride lds), columns
/// 0..cols-1 (rows, cols <= 16; the rest of the 16 x 16 block is zero).
TRANSPOSE_FN static inline void csvae_transpose16(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t cols) {
    __m512 r[16], t[16];
    __mmask16 cm = (cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1));
    for (size_t i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(cm, src + i * lds) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // r[4g + c] holds, in 128-bit lane L, column 4L + c of rows 4g..4g+3; gather each column's
    // four lanes from the four groups.
    for (int c = 0; c < 4; c++) {
        __m512 a = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(2, 0, 2, 0));      // g0L0 g0L2 g1L0 g1L2
        __m512 b = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(3, 1, 3, 1));      // g0L1 g0L3 g1L1 g1L3
        __m512 e = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(2, 0, 2, 0));  // g2L0 g2L2 g3L0 g3L2
        __m512 f = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(3, 1, 3, 1));  // g2L1 g2L3 g3L1 g3L3
        t[c] = _mm512_shuffle_f32x4(a, e, _MM_SHUFFLE(2, 0, 2, 0));       // column c
        t[8 + c] = _mm512_shuffle_f32x4(a, e, _MM_SHUFFLE(3, 1, 3, 1));   // column 8 + c
        t[4 + c] = _mm512_shuffle_f32x4(b, f, _MM_SHUFFLE(2, 0, 2, 0));   // column 4 + c
        t[12 + c] = _mm512_shuffle_f32x4(b, f, _MM_SHUFFLE(3, 1, 3, 1));  // column 12 + c
    }
    for (size_t c = 0; c < cols; c++) _mm512_storeu_ps(dst + c * ldd, t[c]);
}
#endif
