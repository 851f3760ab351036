// transpose.h: internal to CSVAEKernels (not part of the public header): the 16 x 16 f32
// register transpose shared by the encoder's attention (ops.c) and the f32 product (matmul.c),
// and the transpose-add tree of 16 vectors' lane sums (matvec.c, the decoder's attention).
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

/// The 16 lane sums of 16 vectors a[0..15] in one vector (lane i: the sum of a[i]), by one
/// transpose-add tree. Each a[i] is summed in the order of _mm512_reduce_add_ps (lanes
/// l + l+8, then l + l+4, l + l+2, l + l+1), whatever its position i, so a row's sum does not
/// depend on which rows share its group (nor on the thread split).
TRANSPOSE_FN static inline __attribute__((always_inline)) __m512 csvae_lane_sums16(const __m512 *a) {
    __m512 v[8], u[4], w[2];
    for (int i = 0; i < 8; i++)  // lanes 0..7: a[2i] l + l+8; lanes 8..15: a[2i+1]
        v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 4; i++)  // 128-bit block k: a[4i+k] l + l+4
        u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xDD));
    for (int i = 0; i < 2; i++)  // block k: a[8i+k] l + l+2 (lanes 0, 1), a[8i+4+k] (lanes 2, 3)
        w[i] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    // block k: the sums of a[k], a[4+k], a[8+k], a[12+k]; then lane 4k+m -> lane 4m+k
    __m512 z = _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_ps(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), z);
}
#endif
