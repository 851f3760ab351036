// matmul.c: Y[n, rows] = X[n, cols] . W[rows, cols]^T for weights in f32/f16/bf16/q8_0/q4_0.
//
// Paths (same signature, chosen by the caller): scalar (portable C, the reference),
// AVX2 (+FMA, F16C), AVX-512 (F/BW/VL/DQ + VNNI), NEON (+dotprod, arm64 only).
//
// Quantized weights use integer dot products against activations quantized on the fly to
// int8 blocks of 32 (csvae_qact): per block b, isum_b = sum_k w_k a_k exactly in int32, and
// y = sum_b (dw_b * da_b) * isum_b in float. The x86 instructions multiply unsigned by signed
// bytes (vpdpbusd, vpmaddubsw), so weight codes are fed unsigned (q8_0: w + 128 via xor 0x80;
// q4_0: the stored nibble 0..15) and the bias off * sum(a) is removed by starting the int32
// accumulator at qa->corr: lane l of a block holds -off * (a[4l] + ... + a[4l+3]), the bias
// of exactly the 4 products vpdpbusd adds into lane l, so every lane ends as the exact signed
// partial dot and no large biased value ever meets the float conversion.
// The float check path (dequantize a row, dot with f32 x) is kept for tests.
#include "csvae_kernels.h"
#include "matvec.h"
#include "transpose.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define AVX512_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

/// Activation rows processed together per weight row (register tile).
#define TILE_N 4
/// Activation rows kept hot in L2 while all weight rows of a slice stream past them.
#define PANEL_N 64

// The AVX-512 panel kernel for batches of quantized weights (rows_quant_panels, below).
/// Blocks per K chunk: the scratch panel of 2 x 16 rows is 2 x 512 bytes per block (16 KiB).
#ifndef QP_KB
#define QP_KB 16
#endif
/// Activation rows per tile at most (tile: QP_C x 2 panels: 14 int32 sums + 14 f32
/// accumulators); a panel's rows are split into tiles of nearly equal size (32: 7,7,6,6,6).
/// Measured (C harness, CPU time, one thread, best of 31, 32 rows, q4_0): 3072 x 768 in L2
/// 0.397 (4 rows) / 0.374 (6) / 0.361 ms (7); 50272 x 768 6.8 / 6.5 / 6.3 ms.
#define QP_C 7
/// Longest rows (blocks) the panel kernel takes.
#define QP_MAXNB 128
/// Scratch of the panel kernel: the codes and the scales of 2 x 16 rows x QP_KB blocks, then
/// the activations' per-block code sums (PANEL_N rows at most).
#define QP_PANEL_BYTES (2 * QP_KB * 512)
#define QP_SCALE_BYTES (2 * QP_KB * 16 * sizeof(float))

// MARK: activation quantization (shared by every path)

size_t csvae_qact_bytes(size_t n, size_t cols) {
    size_t nb = cols / CSVAE_QK;
    return n * cols + n * nb * 8 * (sizeof(float) + sizeof(int32_t)) + 3 * 64;
}

static void *align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

csvae_qact csvae_qact_bind(void *scratch, size_t n, size_t cols) {
    size_t nb = cols / CSVAE_QK;
    csvae_qact a;
    a.q = (int8_t *)align64(scratch);
    a.d = (float *)align64(a.q + n * cols);
    a.corr = (int32_t *)align64(a.d + n * nb * 8);
    return a;
}

void csvae_qact_quantize_scalar(csvae_qact *a, const float *x, int wtype, size_t n, size_t cols) {
    size_t nb = cols / CSVAE_QK;
    int32_t off = wtype == CSVAE_Q8_0 ? 128 : 8;
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + i * cols + b * CSVAE_QK;
            int8_t *q = a->q + i * cols + b * CSVAE_QK;
            float amax = 0.0f;
            for (int k = 0; k < CSVAE_QK; k++) {
                float v = xb[k] < 0 ? -xb[k] : xb[k];
                amax = v > amax ? v : amax;
            }
            float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
            float *dd = a->d + (i * nb + b) * 8;
            int32_t *cc = a->corr + (i * nb + b) * 8;
            for (int l = 0; l < 8; l++) { dd[l] = d; cc[l] = 0; }
            for (int k = 0; k < CSVAE_QK; k++) {
                float v = xb[k] * id;  // |v| <= 127 (+ rounding)
                int32_t r = (int32_t)(v + (v >= 0 ? 0.5f : -0.5f));
                r = r > 127 ? 127 : (r < -127 ? -127 : r);
                q[k] = (int8_t)r;
                cc[k / 4] -= off * r;  // lane k/4 of vpdpbusd sums elements 4l..4l+3
            }
        }
    }
}

#if defined(__x86_64__)
/// csvae_qact_quantize_scalar on AVX-512, same bytes: the same float operations per element
/// (|x| max, x * id, +-0.5 chosen by v >= 0, truncation, clamp) and exact integer lane sums.
AVX512_FN static void qact_quantize_avx512(csvae_qact *a, const float *x, int wtype, size_t n, size_t cols) {
    size_t nb = cols / CSVAE_QK;
    const __m256i noff = _mm256_set1_epi32(wtype == CSVAE_Q8_0 ? -128 : -8);
    const __m512 half = _mm512_set1_ps(0.5f), mhalf = _mm512_set1_ps(-0.5f), zero = _mm512_setzero_ps();
    const __m512i hi = _mm512_set1_epi32(127), lo = _mm512_set1_epi32(-127);
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + i * cols + b * CSVAE_QK;
            __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
            // max_ps(v, m) returns m when v is NaN, as the scalar `v > amax ? v : amax`.
            __m512 m = _mm512_max_ps(_mm512_abs_ps(x1), _mm512_max_ps(_mm512_abs_ps(x0), zero));
            float amax = _mm512_reduce_max_ps(m);
            float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
            __m512 idv = _mm512_set1_ps(id);
            __m512 v0 = _mm512_mul_ps(x0, idv), v1 = _mm512_mul_ps(x1, idv);
            v0 = _mm512_add_ps(v0, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v0, zero, _CMP_GE_OQ), mhalf, half));
            v1 = _mm512_add_ps(v1, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v1, zero, _CMP_GE_OQ), mhalf, half));
            __m512i r0 = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvttps_epi32(v0), hi), lo);
            __m512i r1 = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvttps_epi32(v1), hi), lo);
            __m256i q = _mm256_set_m128i(_mm512_cvtepi32_epi8(r1), _mm512_cvtepi32_epi8(r0));
            _mm256_storeu_si256((__m256i *)(a->q + i * cols + b * CSVAE_QK), q);
            // lane l: q[4l] + ... + q[4l+3] (u8 ones x s8 codes), times -off
            __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
            _mm256_storeu_si256((__m256i *)(a->corr + (i * nb + b) * 8), _mm256_mullo_epi32(sums, noff));
            _mm256_storeu_ps(a->d + (i * nb + b) * 8, _mm256_set1_ps(d));
        }
    }
}
#endif

void csvae_qact_quantize(csvae_qact *a, const float *x, int wtype, size_t n, size_t cols) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        qact_quantize_avx512(a, x, wtype, n, cols);
        return;
    }
#endif
    csvae_qact_quantize_scalar(a, x, wtype, n, cols);
}

// MARK: scalar (portable reference)

static float w_at(const uint8_t *row, int t, size_t k) {
    switch (t) {
    case CSVAE_F32: { float f; memcpy(&f, row + 4 * k, 4); return f; }
    case CSVAE_F16: return csvae_f16_to_f32(ld16(row + 2 * k));
    default: return csvae_bf16_to_f32(ld16(row + 2 * k));
    }
}

static void rows_float_scalar(float *y, size_t ldy, const uint8_t *w, int t, const float *x,
                              size_t n, size_t r0, size_t r1, size_t cols) {
    size_t rb = csvae_row_bytes(t, cols);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * rb;
        for (size_t i = 0; i < n; i++) {
            const float *xi = x + i * cols;
            float s = 0.0f;
            for (size_t k = 0; k < cols; k++) s += w_at(row, t, k) * xi[k];
            y[i * ldy + r] = s;
        }
    }
}

/// The float check path for quantized weights: dequantize each block, dot with f32 x.
static void rows_dequant_scalar(float *y, size_t ldy, const uint8_t *w, int t, const float *x,
                                size_t n, size_t r0, size_t r1, size_t cols) {
    size_t rb = csvae_row_bytes(t, cols);
    float blk[CSVAE_QK];
    for (size_t r = r0; r < r1; r++) {
        for (size_t i = 0; i < n; i++) {
            float s = 0.0f;
            for (size_t b = 0; b < cols / CSVAE_QK; b++) {
                csvae_dequantize(blk, w + r * rb, t, b * CSVAE_QK, CSVAE_QK);
                const float *xb = x + i * cols + b * CSVAE_QK;
                for (int k = 0; k < CSVAE_QK; k++) s += blk[k] * xb[k];
            }
            y[i * ldy + r] = s;
        }
    }
}

/// Signed weight code k of a quantized block.
static int32_t code_at(const uint8_t *blk, int t, int k) {
    if (t == CSVAE_Q8_0) return (int8_t)blk[2 + k];
    return k < 16 ? (blk[2 + k] & 15) - 8 : (blk[2 + k - 16] >> 4) - 8;
}

static void rows_quant_scalar(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa,
                              size_t n, size_t r0, size_t r1, size_t cols) {
    size_t nb = cols / CSVAE_QK, bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    for (size_t r = r0; r < r1; r++) {
        for (size_t i = 0; i < n; i++) {
            float s = 0.0f;
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *blk = w + (r * nb + b) * bb;
                const int8_t *a = qa->q + i * cols + b * CSVAE_QK;
                int32_t isum = 0;
                for (int k = 0; k < CSVAE_QK; k++) isum += code_at(blk, t, k) * a[k];
                s += (csvae_f16_to_f32(ld16(blk)) * qa->d[(i * nb + b) * 8]) * (float)isum;
            }
            y[i * ldy + r] = s;
        }
    }
}

// MARK: AVX2

#if defined(__x86_64__)
#define INLINE static inline __attribute__((always_inline))

/// Calls TILE(C) with a compile-time tile height C in 1..TILE_N, so the accumulator arrays
/// in the tile functions are unrolled into registers.
#define DISPATCH_TILE(c, TILE) \
    switch ((c) < TILE_N ? (c) : TILE_N) { \
    case 4: TILE(4); break;    \
    case 3: TILE(3); break;    \
    case 2: TILE(2); break;    \
    default: TILE(1); break;   \
    }

/// Loops over 64-row activation panels, then weight rows [r0, r1) one at a time, then 4-row
/// activation tiles, calling TILE(C) with r and i0 in scope.
#define FOR_TILES(TILE)                                                                   \
    for (size_t p0 = 0; p0 < n; p0 += PANEL_N) {                                          \
        size_t p1 = p0 + PANEL_N < n ? p0 + PANEL_N : n;                                  \
        for (size_t r = r0; r < r1; r++)                                                  \
            for (size_t i0 = p0; i0 < p1; i0 += TILE_N) { DISPATCH_TILE(p1 - i0, TILE) } \
    }

AVX2_FN INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// 8 weights of type t starting at element k of row, as f32.
AVX2_FN INLINE __m256 wload8(const uint8_t *row, int t, size_t k) {
    switch (t) {
    case CSVAE_F32: return _mm256_loadu_ps((const float *)(const void *)(row + 4 * k));
    case CSVAE_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * k)));
    default:
        return _mm256_castsi256_ps(_mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * k))), 16));
    }
}

/// One weight row times C activation rows (float weights).
AVX2_FN INLINE void tile_float_avx2(float *y, size_t ldy, const uint8_t *row, int t, const float *x,
                                    size_t cols, const int C) {
    size_t k8 = cols & ~(size_t)7;
    __m256 acc[TILE_N];
    for (int j = 0; j < C; j++) acc[j] = _mm256_setzero_ps();
    for (size_t k = 0; k < k8; k += 8) {
        __m256 wv = wload8(row, t, k);
        for (int j = 0; j < C; j++) acc[j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + j * cols + k), acc[j]);
    }
    for (int j = 0; j < C; j++) {
        float s = hsum256(acc[j]);
        for (size_t k = k8; k < cols; k++) s += w_at(row, t, k) * x[j * cols + k];
        y[j * ldy] = s;
    }
}

AVX2_FN static void rows_float_avx2(float *y, size_t ldy, const uint8_t *w, int t, const float *x,
                                    size_t n, size_t r0, size_t r1, size_t cols) {
    size_t rb = csvae_row_bytes(t, cols);
#define T(C) tile_float_avx2(y + i0 * ldy + r, ldy, w + r * rb, t, x + i0 * cols, cols, C)
    FOR_TILES(T)
#undef T
}

/// int32 dot of 32 weight codes of one block (AVX2) with 32 int8 activations, per 8 lanes.
AVX2_FN INLINE __m256i qdot_avx2(const uint8_t *blk, int t, const int8_t *a, const int32_t *corr) {
    __m256i av = _mm256_loadu_si256((const __m256i *)a);
    const __m256i ones = _mm256_set1_epi16(1);
    if (t == CSVAE_Q8_0) {
        // |w| * sign(a, w): u8 x s8 without the +128 bias (|pair sums| <= 2*127*127 < 2^15).
        __m256i wv = _mm256_loadu_si256((const __m256i *)(blk + 2));
        __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(av, wv));
        return _mm256_madd_epi16(p, ones);
    }
    __m128i qs = _mm_loadu_si128((const __m128i *)(blk + 2));
    __m128i m = _mm_set1_epi8(15);
    __m256i wv = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), m), _mm_and_si128(qs, m));
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, av), ones);  // <= 2*15*127
    return _mm256_add_epi32(p, _mm256_loadu_si256((const __m256i *)corr));
}

/// One weight row (nb blocks) times C quantized activation rows starting at row i0.
AVX2_FN INLINE void tile_quant_avx2(float *y, size_t ldy, const uint8_t *row, int t, const csvae_qact *qa,
                                    size_t i0, size_t nb, const int C) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    __m256 acc[TILE_N];
    for (int j = 0; j < C; j++) acc[j] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *blk = row + b * bb;
        __m256 dw = _mm256_set1_ps(_cvtsh_ss(ld16(blk)));
        for (int j = 0; j < C; j++) {
            size_t ab = (i0 + j) * nb + b;
            __m256i is = qdot_avx2(blk, t, qa->q + ab * CSVAE_QK, qa->corr + ab * 8);
            __m256 sc = _mm256_mul_ps(dw, _mm256_loadu_ps(qa->d + ab * 8));
            acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), sc, acc[j]);
        }
    }
    for (int j = 0; j < C; j++) y[j * ldy] = hsum256(acc[j]);
}

AVX2_FN static void rows_quant_avx2(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa,
                                    size_t n, size_t r0, size_t r1, size_t cols) {
    if (n < TILE_N && csvae_matvec_quant_avx2(y, ldy, w, t, qa, n, r0, r1, cols)) return;  // decode (matvec.c)
    size_t nb = cols / CSVAE_QK, rb = csvae_row_bytes(t, cols);
#define T(C) tile_quant_avx2(y + i0 * ldy + r, ldy, w + r * rb, t, qa, i0, nb, C)
    FOR_TILES(T)
#undef T
}

// MARK: AVX-512 + VNNI

/// 16 weights of type t at element k of row as f32 (masked tail: lanes past cols read as 0).
AVX512_FN INLINE __m512 wload16(const uint8_t *row, int t, size_t k, __mmask16 m) {
    if (t == CSVAE_F32) return _mm512_maskz_loadu_ps(m, row + 4 * k);
    __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * k);
    return t == CSVAE_F16 ? _mm512_cvtph_ps(h) : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AVX512_FN INLINE void tile_float_avx512(float *y, size_t ldy, const uint8_t *row, int t, const float *x,
                                        size_t cols, const int C) {
    __m512 a0[TILE_N], a1[TILE_N];  // two accumulators per row hide the FMA latency
    for (int j = 0; j < C; j++) a0[j] = a1[j] = _mm512_setzero_ps();
    size_t k = 0;
    for (; k + 32 <= cols; k += 32) {
        __m512 w0 = wload16(row, t, k, 0xffff), w1 = wload16(row, t, k + 16, 0xffff);
        for (int j = 0; j < C; j++) {
            a0[j] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + j * cols + k), a0[j]);
            a1[j] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + j * cols + k + 16), a1[j]);
        }
    }
    for (; k < cols; k += 16) {
        size_t left = cols - k;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 wv = wload16(row, t, k, m);
        for (int j = 0; j < C; j++) a0[j] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + j * cols + k), a0[j]);
    }
    for (int j = 0; j < C; j++) y[j * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(a0[j], a1[j]));
}

/// RQF weight rows times C activation rows (float weights): each weight vector is loaded once
/// for C rows and each activation vector once for RQF weight rows, so the loop is bound by
/// FMAs, not loads; RQF*C accumulators stay in registers. pf: prefetch the next RQF rows
/// (set on the first tile when there is one panel: the weights then stream from DRAM once).
#define RQF 4
AVX512_FN INLINE void tile_float_avx512_r4(float *y, size_t ldy, const uint8_t *row, size_t rb, int t, const float *x,
                                           size_t cols, const int pf, const int C) {
    __m512 acc[RQF][TILE_N];
    for (int r = 0; r < RQF; r++)
        for (int j = 0; j < C; j++) acc[r][j] = _mm512_setzero_ps();
    for (size_t k = 0; k < cols; k += 16) {
        __mmask16 m = cols - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (cols - k)) - 1);
        __m512 wv[RQF];
        for (int r = 0; r < RQF; r++) wv[r] = wload16(row + r * rb, t, k, m);
        if (pf)  // the next RQF rows, same columns: their DRAM latency hides behind this tile
            for (int r = 0; r < RQF; r++) _mm_prefetch((const char *)(row + (RQF + r) * rb) + k * (rb / cols), _MM_HINT_T0);
        for (int j = 0; j < C; j++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + j * cols + k);
            for (int r = 0; r < RQF; r++) acc[r][j] = _mm512_fmadd_ps(wv[r], xv, acc[r][j]);
        }
    }
    for (int r = 0; r < RQF; r++)
        for (int j = 0; j < C; j++) y[j * ldy + r] = _mm512_reduce_add_ps(acc[r][j]);
}

AVX512_FN static void rows_float_avx512(float *y, size_t ldy, const uint8_t *w, int t, const float *x,
                                        size_t n, size_t r0, size_t r1, size_t cols) {
    size_t rb = csvae_row_bytes(t, cols);
    if (n >= TILE_N) {  // batches: RQF weight rows x TILE_N activation rows, then the rows left
        for (size_t p0 = 0; p0 < n; p0 += PANEL_N) {
            size_t p1 = p0 + PANEL_N < n ? p0 + PANEL_N : n;
            for (size_t r = r0; r + RQF <= r1; r += RQF)
                for (size_t i0 = p0; i0 < p1; i0 += TILE_N) {
#define T(C) tile_float_avx512_r4(y + i0 * ldy + r, ldy, w + r * rb, rb, t, x + i0 * cols, cols, 0, C)
                    if (i0 == 0 && n <= PANEL_N && p1 >= TILE_N)
                        tile_float_avx512_r4(y + r, ldy, w + r * rb, rb, t, x, cols, 1, TILE_N);
                    else
                        DISPATCH_TILE(p1 - i0, T)
#undef T
                }
        }
        r0 += (r1 - r0) / RQF * RQF;
    }
#define T(C) tile_float_avx512(y + i0 * ldy + r, ldy, w + r * rb, t, x + i0 * cols, cols, C)
    FOR_TILES(T)
#undef T
}

/// Weight codes (u8) of blocks b and b+1 as one zmm, in element order, and their f16 scales
/// broadcast to 8 lanes each.
AVX512_FN INLINE __m512i wpair_avx512(const uint8_t *blk, int t, __m512 *scale) {
    __m512i wv;
    size_t bb;
    if (t == CSVAE_Q8_0) {
        bb = CSVAE_Q8_0_BYTES;
        __m256i lo = _mm256_loadu_si256((const __m256i *)(blk + 2));
        __m256i hi = _mm256_loadu_si256((const __m256i *)(blk + bb + 2));
        wv = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8((char)0x80));
    } else {
        bb = CSVAE_Q4_0_BYTES;
        // [qsA | qsA | qsB | qsB] (broadcast loads), then shift the 2nd copy of each by 4:
        // 128-bit lanes become [lowA, highA, lowB, highB] = elements 0..31 of A, then of B.
        __m256i a = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(blk + 2)));
        __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(blk + bb + 2)));
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
        const __m512i shifts = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004,
                                                 0, 0, 0x0004000400040004, 0x0004000400040004);
        wv = _mm512_and_si512(_mm512_srlv_epi16(v, shifts), _mm512_set1_epi8(15));
    }
    // Both f16 scales with one masked load (words 0 and bb/2 only: never reads past the pair),
    // one word permute to [dA x8, dB x8] and one conversion.
    int kb = (int)(bb / 2), kk = kb | (kb << 16);
    __m512i raw = _mm512_maskz_loadu_epi16((__mmask32)(1u | (1u << kb)), blk);
    __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, kk, kk, kk, kk, 0, 0, 0, 0, 0, 0, 0, 0);
    *scale = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(idx, raw)));
    return wv;
}

AVX512_FN INLINE __m256i wone_avx512(const uint8_t *blk, int t) {
    if (t == CSVAE_Q8_0)
        return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8((char)0x80));
    __m128i qs = _mm_loadu_si128((const __m128i *)(blk + 2));
    __m128i m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), m), _mm_and_si128(qs, m));
}

/// The odd last block of a row (on ymm): dw·da·isum for activation block ab.
AVX512_FN INLINE float last_block_avx512(const uint8_t *blk, int t, const csvae_qact *qa, size_t ab) {
    __m256i is = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)(qa->corr + ab * 8)), wone_avx512(blk, t),
                                     _mm256_loadu_si256((const __m256i *)(qa->q + ab * CSVAE_QK)));
    __m256 sc = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(ld16(blk))), _mm256_loadu_ps(qa->d + ab * 8));
    return hsum256(_mm256_mul_ps(_mm256_cvtepi32_ps(is), sc));
}

#define RQ 4
/// RQ weight rows (row stride rb) times C activation rows: the batched micro-kernel for rows
/// too long for rows_quant_panels (below). Each weight pair is unpacked once for C activation
/// rows and each activation vector is loaded once for RQ weight rows; RQ*C accumulators stay
/// in registers.
AVX512_FN INLINE void tile_quant_avx512_r4(float *y, size_t ldy, const uint8_t *row, size_t rb,
                                           int t, const csvae_qact *qa, size_t i0, size_t nb, const int C) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES, nb2 = nb & ~(size_t)1;
    __m512 acc[RQ][TILE_N];
    for (int r = 0; r < RQ; r++)
        for (int j = 0; j < C; j++) acc[r][j] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb2; b += 2) {
        __m512i wv[RQ];
        __m512 ws[RQ];
        for (int r = 0; r < RQ; r++) wv[r] = wpair_avx512(row + r * rb + b * bb, t, &ws[r]);
        for (int j = 0; j < C; j++) {
            size_t ab = (i0 + j) * nb + b;
            __m512i a = _mm512_loadu_si512(qa->q + ab * CSVAE_QK);
            __m512i cr = _mm512_loadu_si512(qa->corr + ab * 8);
            __m512 dv = _mm512_loadu_ps(qa->d + ab * 8);
            for (int r = 0; r < RQ; r++) {
                __m512i is = _mm512_dpbusd_epi32(cr, wv[r], a);
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(ws[r], dv), acc[r][j]);
            }
        }
    }
    for (int r = 0; r < RQ; r++)
        for (int j = 0; j < C; j++) {
            float s = _mm512_reduce_add_ps(acc[r][j]);
            if (nb2 < nb) s += last_block_avx512(row + r * rb + nb2 * bb, t, qa, (i0 + j) * nb + nb2);
            y[j * ldy + r] = s;
        }
}

AVX512_FN INLINE void tile_quant_avx512(float *y, size_t ldy, const uint8_t *row, int t, const csvae_qact *qa,
                                        size_t i0, size_t nb, const int C) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES, nb2 = nb & ~(size_t)1;
    __m512 acc[TILE_N];
    for (int j = 0; j < C; j++) acc[j] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb2; b += 2) {
        __m512 ws;
        __m512i wv = wpair_avx512(row + b * bb, t, &ws);
        for (int j = 0; j < C; j++) {
            size_t ab = (i0 + j) * nb + b;
            __m512i is = _mm512_dpbusd_epi32(_mm512_loadu_si512(qa->corr + ab * 8), wv,
                                             _mm512_loadu_si512(qa->q + ab * CSVAE_QK));
            __m512 sc = _mm512_mul_ps(ws, _mm512_loadu_ps(qa->d + ab * 8));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), sc, acc[j]);
        }
    }
    for (int j = 0; j < C; j++) {
        float s = _mm512_reduce_add_ps(acc[j]);
        if (nb2 < nb) s += last_block_avx512(row + nb2 * bb, t, qa, (i0 + j) * nb + nb2);
        y[j * ldy] = s;
    }
}

// MARK: AVX-512 VNNI batches: block-quantized weights repacked into i8r-order panels
//
// For n >= 4 activation rows (decoder batches; encoder batches without AVX-512 BF16), per call
// and per slice of 32 output rows, the weight blocks of a K chunk (QP_KB blocks) are unpacked
// once into a scratch panel in the i8r kernel's order: codes [32 k/4][16 rows][4] as unsigned
// bytes (q4_0: the nibble = code + 8; q8_0: code ^ 0x80 = code + 128), so one vpdpbusd zmm
// reads 16 output rows x 4 k against 4 broadcast activation codes, plus per block the 16 rows'
// f32 scales. The panel is reused by every activation row. Per activation row, output row pair
// of 16-row panels and block b: the int32 sum starts at csum = -off * sum_k a_k (the bias of
// the unsigned weights; the 8 lanes of qa->corr summed), 8 vpdpbusd give the exact signed
// isum_b, and one FMA adds (float)isum_b * (dw_b * da_b) to the f32 accumulator: ~1.5 vector
// ops per vpdpbusd instead of 4 in tile_quant_avx512_r4. The integer sums are those of every
// other path; only the float accumulation order differs (the same as the scalar reference's:
// block by block, one chain per output).
// Batch invariance: each output's float chain (zero, then one FMA per block in block order,
// continued through y between K chunks) does not depend on n (>= 4), on which activation rows
// or tile share the call, on the output-row slice or on the thread split: bit for bit.
// The bias (and ReLU) of a job are added in the tiles' last store, with csvae_bias_relu's
// operations (the logits of a 50272-row head are then written once, not read back).
// Memory: while the tiles of one slice run, they prefetch the next slice into L2, spread over
// the tiles (the vocabulary projection streams 21.7 MB of q4_0 per step from memory). Measured
// with a C harness (CPU time, 50272 x 768 q4_0 x 32 rows, one thread, load 3-5, best of 31
// calls, alternated): 8.1-8.7 -> 6.9-7.3 ms; on 3072 rows in L2 it costs ~3-5 %.
// Remaining cost (perf, svae-768-h1 q4_0 batch 32): the kernel ~90 % of the batched decode; in
// it per block 8 vpdpbusd per (16 rows, activation row) need 3 float operations (conversion,
// scale product, FMA) that the i8r kernel does not, and the per-call unpacking takes up to ~15 %
// (measured without the tiles on 3072 x 768, 32 rows).

/// Rows r < m of the 16 rows at p (stride bytes apart), 16 bytes each (rows >= m read as 0),
/// transposed: out[d] lane r = bytes 4d..4d+3 of row r.
AVX512_FN INLINE void qp_tr16x4(__m512i out[4], const uint8_t *p, size_t stride, size_t m) {
    __m512i z[4];
#define QP_LD(r) (m >= 16 || (size_t)(r) < m ? _mm_loadu_si128((const __m128i *)(p + (size_t)(r) * stride)) : _mm_setzero_si128())
    for (int j = 0; j < 4; j++) {
        __m512i v = _mm512_castsi128_si512(QP_LD(4 * j));
        v = _mm512_inserti32x4(v, QP_LD(4 * j + 1), 1);
        v = _mm512_inserti32x4(v, QP_LD(4 * j + 2), 2);
        z[j] = _mm512_inserti32x4(v, QP_LD(4 * j + 3), 3);
    }
#undef QP_LD
    // z[j] dword 4q + d = row 4j + q, dword d. Stage 1: dwords d = 0, 1 (A) or 2, 3 (B) of rows
    // 0..7 (from z0, z1) or 8..15 (z2, z3); stage 2: the 128-bit halves of rows 0..7 and 8..15.
    const __m512i ia = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i ib = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    __m512i p0 = _mm512_permutex2var_epi32(z[0], ia, z[1]), p1 = _mm512_permutex2var_epi32(z[0], ib, z[1]);
    __m512i p2 = _mm512_permutex2var_epi32(z[2], ia, z[3]), p3 = _mm512_permutex2var_epi32(z[2], ib, z[3]);
    out[0] = _mm512_shuffle_i64x2(p0, p2, 0x44);
    out[1] = _mm512_shuffle_i64x2(p0, p2, 0xEE);
    out[2] = _mm512_shuffle_i64x2(p1, p3, 0x44);
    out[3] = _mm512_shuffle_i64x2(p1, p3, 0xEE);
}

/// Unpacks blocks [b0, b0 + kb) of the m <= 16 weight rows at row (stride rb) into the panel
/// pw [kb][8][16][4] (u8 codes) and ws [kb][16] (f32 scales); rows >= m get zeros.
AVX512_FN INLINE void qp_pack(uint8_t *pw, float *ws, const uint8_t *row, size_t rb, int t, size_t b0, size_t kb, size_t m) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    const __m512i rowoff = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32((int)rb));
    const __mmask16 valid = m >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << m) - 1);
    for (size_t bl = 0; bl < kb; bl++) {
        const uint8_t *blk = row + (b0 + bl) * bb;
        __m512i o[4];
        __m512i *dst = (__m512i *)(void *)(pw + bl * 512);
        qp_tr16x4(o, blk + 2, rb, m);
        if (t == CSVAE_Q8_0) {
            const __m512i flip = _mm512_set1_epi8((char)0x80);
            for (int d = 0; d < 4; d++) _mm512_store_si512(dst + d, _mm512_xor_si512(o[d], flip));
            qp_tr16x4(o, blk + 18, rb, m);
            for (int d = 0; d < 4; d++) _mm512_store_si512(dst + 4 + d, _mm512_xor_si512(o[d], flip));
        } else {
            const __m512i lo = _mm512_set1_epi8(15);
            for (int d = 0; d < 4; d++) {
                _mm512_store_si512(dst + d, _mm512_and_si512(o[d], lo));
                _mm512_store_si512(dst + 4 + d, _mm512_and_si512(_mm512_srli_epi16(o[d], 4), lo));
            }
        }
        if (m < 16)  // rows past m: nibble 0 would be code -8; their outputs are never stored
            for (int g = 0; g < 8; g++) _mm512_store_si512(dst + g, _mm512_maskz_mov_epi32(valid, dst[g]));
        // the 16 f16 scales: 4 bytes gathered at each row's block (the low word), converted
        __m512i h = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, rowoff, blk, 1);
        _mm512_store_ps(ws + bl * 16, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
    }
}

/// C activation rows from i0 x P 16-row panels at output row r, blocks [b0, b0 + kb): the
/// accumulators start at 0 (first chunk) or at y, and are stored to y (masks mk[p]).
AVX512_FN INLINE void qp_tile(float *y, size_t ldy, const uint8_t *pw, const float *ws, const csvae_qact *qa,
                              const int32_t *csum, size_t cols, size_t b0, size_t kb, size_t i0, size_t ci0, size_t r,
                              const __mmask16 *mk, int first, int last, const float *bias, int relu, const uint8_t *pf,
                              size_t pfn, const int P, const int C) {
    size_t nb = cols / CSVAE_QK, lpb = (pfn + kb - 1) / kb;
    __m512 acc[QP_C][2];
    for (int t = 0; t < C; t++)
        for (int p = 0; p < P; p++)
            acc[t][p] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mk[p], y + (i0 + t) * ldy + r + 16 * p);
    for (size_t bl = 0; bl < kb; bl++) {
        size_t b = b0 + bl;
        for (size_t l = bl * lpb; l < (bl + 1) * lpb && l < pfn; l++) _mm_prefetch((const char *)(pf + 64 * l), _MM_HINT_T1);
        __m512i is[QP_C][2];
        for (int t = 0; t < C; t++) {
            __m512i c = _mm512_set1_epi32(csum[(ci0 + t) * nb + b]);
            for (int p = 0; p < P; p++) is[t][p] = c;
        }
        const uint8_t *wb = pw + bl * 512;
        const int8_t *ab = qa->q + i0 * cols + b * CSVAE_QK;
        for (int g = 0; g < 8; g++) {
            __m512i w[2];
            for (int p = 0; p < P; p++) w[p] = _mm512_load_si512((const void *)(wb + p * QP_KB * 512 + g * 64));
            for (int t = 0; t < C; t++) {
                int32_t av;
                memcpy(&av, ab + t * cols + 4 * g, 4);
                __m512i a = _mm512_set1_epi32(av);
                for (int p = 0; p < P; p++) is[t][p] = _mm512_dpbusd_epi32(is[t][p], w[p], a);
            }
        }
        __m512 sw[2];
        for (int p = 0; p < P; p++) sw[p] = _mm512_load_ps(ws + (p * QP_KB + bl) * 16);
        for (int t = 0; t < C; t++) {
            __m512 da = _mm512_set1_ps(qa->d[((i0 + t) * nb + b) * 8]);
            for (int p = 0; p < P; p++)
                acc[t][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is[t][p]), _mm512_mul_ps(sw[p], da), acc[t][p]);
        }
    }
    if (last && bias) {  // the epilogue: csvae_bias_relu's operations
        for (int p = 0; p < P; p++) {
            __m512 bv = _mm512_maskz_loadu_ps(mk[p], bias + r + 16 * p);
            for (int t = 0; t < C; t++) acc[t][p] = _mm512_add_ps(acc[t][p], bv);
        }
    }
    if (last && relu)
        for (int t = 0; t < C; t++)
            for (int p = 0; p < P; p++) acc[t][p] = _mm512_max_ps(acc[t][p], _mm512_setzero_ps());
    for (int t = 0; t < C; t++)
        for (int p = 0; p < P; p++) _mm512_mask_storeu_ps(y + (i0 + t) * ldy + r + 16 * p, mk[p], acc[t][p]);
}

/// The panel kernel for output rows [r0, r1), n >= 1 activation rows, bias (or NULL) and ReLU
/// in the epilogue; scratch: csvae_matmul_scratch_bytes(n, cols) bytes, 64-byte aligned.
/// Returns 0 (nothing done) when the rows are too long for it (cols > 32 * QP_MAXNB).
AVX512_FN static int rows_quant_panels(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n,
                                       size_t r0, size_t r1, size_t cols, const float *bias, int relu, uint8_t *scratch) {
    size_t nb = cols / CSVAE_QK, rb = csvae_row_bytes(t, cols);
    if (nb == 0 || nb > QP_MAXNB) return 0;
    uint8_t *pw = scratch;
    float *ws = (float *)(void *)(scratch + QP_PANEL_BYTES);
    int32_t *csum = (int32_t *)(void *)(scratch + QP_PANEL_BYTES + QP_SCALE_BYTES);
    size_t end = r1 * rb, nchunks = (nb + QP_KB - 1) / QP_KB;
    for (size_t p0 = 0; p0 < n; p0 += PANEL_N) {
        size_t p1 = p0 + PANEL_N < n ? p0 + PANEL_N : n;
        for (size_t i = p0; i < p1; i++)
            for (size_t b = 0; b < nb; b++) {
                const int32_t *c = qa->corr + (i * nb + b) * 8;
                csum[(i - p0) * nb + b] = c[0] + c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7];
            }
        for (size_t r = r0; r < r1; r += 32) {
            size_t m = r1 - r < 32 ? r1 - r : 32;
            __mmask16 mk[2];
            mk[0] = m >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << m) - 1);
            mk[1] = m >= 32 ? (__mmask16)0xffff : m > 16 ? (__mmask16)((1u << (m - 16)) - 1) : 0;
            // the slice after this one (the next 32 rows, or the first of the next PANEL_N
            // activation rows) is pulled into L2 while this one runs, spread over its tiles
            size_t next = r + 32 < r1 ? (r + 32) * rb : (p1 < n ? r0 * rb : end);
            size_t avail = end - next < 32 * rb ? end - next : 32 * rb;
            size_t tiles = (p1 - p0 + QP_C - 1) / QP_C, c = 0;
            size_t calls = nchunks * tiles, per = ((avail + 63) / 64 + calls - 1) / calls, call = 0;
            for (size_t b0 = 0; b0 < nb; b0 += QP_KB) {
                size_t kb = nb - b0 < QP_KB ? nb - b0 : QP_KB;
                if (m >= 16) qp_pack(pw, ws, w + r * rb, rb, t, b0, kb, 16);  // constant: no per-row checks
                else qp_pack(pw, ws, w + r * rb, rb, t, b0, kb, m);
                if (m == 32) qp_pack(pw + QP_KB * 512, ws + QP_KB * 16, w + (r + 16) * rb, rb, t, b0, kb, 16);
                else if (m > 16) qp_pack(pw + QP_KB * 512, ws + QP_KB * 16, w + (r + 16) * rb, rb, t, b0, kb, m - 16);
                for (size_t i0 = p0, left = tiles; i0 < p1; i0 += c, call++, left--) {
                    c = (p1 - i0 + left - 1) / left;
                    size_t l0 = call * per * 64 < avail ? call * per * 64 : avail;
                    size_t pfn = (avail - l0 + 63) / 64 < per ? (avail - l0 + 63) / 64 : per;
                    const uint8_t *pf = w + next + l0;
#define QT(P, C) qp_tile(y, ldy, pw, ws, qa, csum, cols, b0, kb, i0, i0 - p0, r, mk, b0 == 0, b0 + kb == nb, bias, relu, pf, pfn, P, C)
                    if (m > 16) {
                        switch (c) { case 7: QT(2, 7); break; case 6: QT(2, 6); break; case 5: QT(2, 5); break; case 4: QT(2, 4); break; case 3: QT(2, 3); break; case 2: QT(2, 2); break; default: QT(2, 1); break; }
                    } else {
                        switch (c) { case 7: QT(1, 7); break; case 6: QT(1, 6); break; case 5: QT(1, 5); break; case 4: QT(1, 4); break; case 3: QT(1, 3); break; case 2: QT(1, 2); break; default: QT(1, 1); break; }
                    }
#undef QT
                }
            }
        }
    }
    return 1;
}

/// rows_quant_panels with its scratch on the stack (callers without scratch: csvae_matmul_rows).
AVX512_FN __attribute__((noinline)) static int rows_quant_panels_stack(float *y, size_t ldy, const uint8_t *w, int t,
                                                                      const csvae_qact *qa, size_t n, size_t r0, size_t r1,
                                                                      size_t cols, const float *bias, int relu) {
    _Alignas(64) uint8_t local[QP_PANEL_BYTES + QP_SCALE_BYTES + PANEL_N * QP_MAXNB * sizeof(int32_t)];
    return rows_quant_panels(y, ldy, w, t, qa, n, r0, r1, cols, bias, relu, local);
}

/// Returns 1 when bias and ReLU were applied (the panel kernel), 0 when the caller must.
AVX512_FN static int rows_quant_avx512(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa,
                                       size_t n, size_t r0, size_t r1, size_t cols, const float *bias, int relu,
                                       uint8_t *scratch) {
    if (n < TILE_N && csvae_matvec_quant_avx512(y, ldy, w, t, qa, n, r0, r1, cols)) return 0;  // decode (matvec.c)
    if (n >= TILE_N && (scratch ? rows_quant_panels(y, ldy, w, t, qa, n, r0, r1, cols, bias, relu, scratch)
                                : rows_quant_panels_stack(y, ldy, w, t, qa, n, r0, r1, cols, bias, relu)))
        return 1;  // batches (above)
    size_t nb = cols / CSVAE_QK, rb = csvae_row_bytes(t, cols);
    for (size_t p0 = 0; p0 < n; p0 += PANEL_N) {
        size_t p1 = p0 + PANEL_N < n ? p0 + PANEL_N : n;
        size_t r = r0;
        for (; n >= TILE_N && r + RQ <= r1; r += RQ)  // batches: RQ weight rows x TILE_N activation rows
            for (size_t i0 = p0; i0 < p1; i0 += TILE_N) {
#define T(C) tile_quant_avx512_r4(y + i0 * ldy + r, ldy, w + r * rb, rb, t, qa, i0, nb, C)
                DISPATCH_TILE(p1 - i0, T)
#undef T
            }
        for (; r < r1; r++)
            for (size_t i0 = p0; i0 < p1; i0 += TILE_N) {
#define T(C) tile_quant_avx512(y + i0 * ldy + r, ldy, w + r * rb, t, qa, i0, nb, C)
                DISPATCH_TILE(p1 - i0, T)
#undef T
            }
    }
    return 0;
}
#endif

/// Output rows [r0, r1) of task `task`: slices of whole 16-row groups, spread evenly. 0: none.
static int task_rows(size_t rows, size_t task, size_t ntasks, size_t *r0, size_t *r1) {
    size_t groups = (rows + 15) / 16;
    size_t g0 = groups * task / ntasks, g1 = groups * (task + 1) / ntasks;
    *r0 = g0 * 16;
    *r1 = g1 * 16 < rows ? g1 * 16 : rows;
    return *r0 < *r1;
}

// MARK: AVX-512 BF16 (batched quantized products)

#if defined(__x86_64__)
#define BF16_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

int csvae_bf16_supported(void) {
    return csvae_path_supported(CSVAE_PATH_AVX512) && __builtin_cpu_supports("avx512bf16");
}

BF16_FN void csvae_to_bf16(uint16_t *dst, const float *x, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512(dst + i, (__m512i)h);
    }
    for (; i < count; i++) {
        __m128bh h = _mm_cvtneps_pbh(_mm_set_ss(x[i]));
        uint16_t v;
        memcpy(&v, &h, 2);
        dst[i] = v;
    }
}

/// Dequantizes one block (32 weights) to bf16 (code * scale rounded to nearest even).
BF16_FN static inline __m512i wblock_bf16(const uint8_t *blk, int t) {
    __m512 d = _mm512_set1_ps(_cvtsh_ss(ld16(blk)));
    __m512i c0, c1;
    if (t == CSVAE_Q8_0) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
        c0 = _mm512_cvtepi8_epi32(_mm256_castsi256_si128(q));
        c1 = _mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1));
    } else {
        __m128i qs = _mm_loadu_si128((const __m128i *)(blk + 2)), m = _mm_set1_epi8(15), e = _mm_set1_epi8(8);
        c0 = _mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(qs, m), e));
        c1 = _mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(qs, 4), m), e));
    }
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_mul_ps(_mm512_cvtepi32_ps(c1), d), _mm512_mul_ps(_mm512_cvtepi32_ps(c0), d));
}

BF16_FN INLINE void tile_bf16_r4(float *y, size_t ldy, const uint16_t *wu, const uint16_t *x, size_t cols, const int C) {
    __m512 acc[RQ][TILE_N];
    for (int r = 0; r < RQ; r++)
        for (int j = 0; j < C; j++) acc[r][j] = _mm512_setzero_ps();
    for (size_t k = 0; k < cols; k += 32) {
        __m512i wv[RQ];
        for (int r = 0; r < RQ; r++) wv[r] = _mm512_loadu_si512(wu + r * cols + k);
        for (int j = 0; j < C; j++) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512(x + j * cols + k);
            for (int r = 0; r < RQ; r++) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], (__m512bh)wv[r], xv);
        }
    }
    for (int r = 0; r < RQ; r++)
        for (int j = 0; j < C; j++) y[j * ldy + r] = _mm512_reduce_add_ps(acc[r][j]);
}

BF16_FN static void rows_bf16(float *y, size_t ldy, const uint8_t *w, int t, const uint16_t *x,
                              size_t n, size_t r0, size_t r1, size_t cols) {
    size_t nb = cols / CSVAE_QK, rb = csvae_row_bytes(t, cols), bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    uint16_t wu[RQ * CSVAE_BF16_MAX_COLS] __attribute__((aligned(64)));
    for (size_t p0 = 0; p0 < n; p0 += PANEL_N) {
        size_t p1 = p0 + PANEL_N < n ? p0 + PANEL_N : n;
        for (size_t r = r0; r < r1; r += RQ) {
            size_t m = r1 - r < RQ ? r1 - r : RQ;
            for (size_t i = 0; i < RQ; i++)
                for (size_t b = 0; b < nb; b++)
                    _mm512_storeu_si512(wu + i * cols + b * CSVAE_QK,
                                        i < m ? wblock_bf16(w + (r + i) * rb + b * bb, t) : _mm512_setzero_si512());
            float tmp[TILE_N * RQ];
            for (size_t i0 = p0; i0 < p1; i0 += TILE_N) {
                if (m == RQ) {
#define T(C) tile_bf16_r4(y + i0 * ldy + r, ldy, wu, x + i0 * cols, cols, C)
                    DISPATCH_TILE(p1 - i0, T)
#undef T
                } else {
                    size_t c = p1 - i0 < TILE_N ? p1 - i0 : TILE_N;
#define T(C) tile_bf16_r4(tmp, RQ, wu, x + i0 * cols, cols, C)
                    DISPATCH_TILE(c, T)
#undef T
                    for (size_t j = 0; j < c; j++)
                        for (size_t i = 0; i < m; i++) y[(i0 + j) * ldy + r + i] = tmp[j * RQ + i];
                }
            }
        }
    }
}

void csvae_matmul_bf16_task(void *ctx, size_t task, size_t ntasks) {
    const csvae_bf16_job *j = (const csvae_bf16_job *)ctx;
    size_t r0, r1;
    if (!task_rows(j->rows, task, ntasks, &r0, &r1)) return;
    rows_bf16(j->y, j->ldy, (const uint8_t *)j->w, j->wtype, j->x, j->n, r0, r1, j->cols);
}
#else
int csvae_bf16_supported(void) { return 0; }
void csvae_to_bf16(uint16_t *dst, const float *x, size_t count) { (void)dst; (void)x; (void)count; }
void csvae_matmul_bf16_task(void *ctx, size_t task, size_t ntasks) { (void)ctx; (void)task; (void)ntasks; }
#endif

// MARK: f32 weights on AVX-512: activations packed, weights broadcast

size_t csvae_sgemm_pack_floats(size_t n, size_t cols) { return (n + 15) / 16 * 16 * cols; }

#if defined(__x86_64__)
int csvae_sgemm_supported(void) { return csvae_path_supported(CSVAE_PATH_AVX512); }

void csvae_sgemm_pack(float *xt, const float *x, size_t n, size_t cols) {
    for (size_t p = 0; p * 16 < n; p++)
        for (size_t k0 = 0; k0 < cols; k0 += 16)
            csvae_transpose16(xt + (p * cols + k0) * 16, 16, x + p * 16 * cols + k0, cols, n - 16 * p < 16 ? n - 16 * p : 16,
                              cols - k0 < 16 ? cols - k0 : 16);
}

/// Weight rows per tile of the many-row kernel (at most 8) and activation panels per tile (at
/// most 4): 6 x 4 = 24 accumulators, per column 4 panel loads and 6 weight broadcasts. Measured
/// against 8 x 3 (tools/bench/sgemm_ab, the svae-768 encoder's four products, 4 layers, one
/// thread, same SGEMM_XBLOCK = 8, median of 11 rounds' time ratios): n = 128 5.5 %, n = 1024
/// 4.5 % faster; 12 x 2 and 4 x 6 were not faster.
#ifndef SGEMM_MR
#define SGEMM_MR 6
#endif
#ifndef SGEMM_NP
#define SGEMM_NP 4
#endif
_Static_assert(SGEMM_MR >= 1 && SGEMM_MR <= 8 && SGEMM_NP >= 1 && SGEMM_NP <= 4, "sgemm tile: MR 1...8, NP 1...4");

/// MR weight rows from r0 times NP panels (16 activation rows each, from panel p0): MR x NP
/// accumulators whose lanes are activation rows; per k one load per panel and MR weight
/// broadcasts (memory operands of the FMAs), so the loop is bound by FMAs. The epilogue
/// transposes each panel's MR x 16 block back to rows of Y, adds the bias, applies ReLU.
AVX512_FN INLINE void sgemm_tile(const csvae_sgemm_job *j, size_t p0, size_t r0, const int MR, const int NP) {
    size_t K = j->cols;
    __m512 acc[8][4];
    for (int m = 0; m < MR; m++)
        for (int p = 0; p < NP; p++) acc[m][p] = _mm512_setzero_ps();
    const float *wr = j->w + r0 * K, *xp = j->xt + p0 * 16 * K;
    // The next tile's weight rows (contiguous after this tile's MR rows) are pulled into L2,
    // MR lines per 16 columns, as fast as this tile consumes its own: the weights stream from
    // memory once per panel block, and the L2 streamer (stopping at each 4 KiB page, following
    // MR interleaved row streams) alone leaves the product waiting on memory when n is small.
    const char *pf = (const char *)(wr + (size_t)MR * K), *pfend = (const char *)(j->w + j->rows * K);
#define SGEMM_STEP(k)                                                                      \
    do {                                                                                   \
        __m512 xv[4];                                                                      \
        for (int p = 0; p < NP; p++) xv[p] = _mm512_loadu_ps(xp + (p * K + (k)) * 16);     \
        for (int m = 0; m < MR; m++) {                                                     \
            __m512 b = _mm512_set1_ps(wr[m * K + (k)]);                                    \
            for (int p = 0; p < NP; p++) acc[m][p] = _mm512_fmadd_ps(b, xv[p], acc[m][p]); \
        }                                                                                  \
    } while (0)
    size_t k = 0;
    if (NP == 1) {
        // One panel (n <= 16, e.g. one sentence): 16 columns per prefetch round, unrolled by 4
        // so the row addresses are computed once per 4 columns (measured faster here; with 2-4
        // panels this loop shape, or the plain loop unrolled, ran at half speed, so they keep
        // the plain loop below).
        for (; k + 16 <= K; k += 16) {
            for (int m = 0; m < MR; m++)
                if (pf + 64 * m < pfend) _mm_prefetch(pf + 64 * m, _MM_HINT_T1);
            pf += 64 * MR;
#pragma clang loop unroll_count(4)
            for (size_t kk = k; kk < k + 16; kk++) SGEMM_STEP(kk);
        }
    } else {
        const size_t pfstep = 16 / (size_t)MR;  // k steps per prefetched line: >= MR * K * 4 bytes over K steps
        for (; k < K; k++) {
            if (k % pfstep == 0 && pf < pfend) {
                _mm_prefetch(pf, _MM_HINT_T1);
                pf += 64;
            }
            SGEMM_STEP(k);
        }
    }
    for (; k < K; k++) SGEMM_STEP(k);
#undef SGEMM_STEP
    __mmask16 mm = (__mmask16)((1u << MR) - 1);
    __m512 bv = j->bias ? _mm512_maskz_loadu_ps(mm, j->bias + r0) : _mm512_setzero_ps();
    for (int p = 0; p < NP; p++) {
        size_t i0 = (p0 + p) * 16;
        if (i0 >= j->n) break;
        size_t rows = j->n - i0 < 16 ? j->n - i0 : 16;
        float a[16 * 16] __attribute__((aligned(64))), t[16 * 16] __attribute__((aligned(64)));
        for (int m = 0; m < MR; m++) _mm512_store_ps(a + m * 16, acc[m][p]);
        csvae_transpose16(t, 16, a, 16, (size_t)MR, 16);  // t[l][m] = Y[i0 + l][r0 + m]
        for (size_t l = 0; l < rows; l++) {
            __m512 v = _mm512_add_ps(_mm512_load_ps(t + l * 16), bv);
            if (j->relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(j->y + (i0 + l) * j->ldy + r0, mm, v);
        }
    }
}

/// Activation panels kept in L2 while the weight rows of a slice pass (8 panels = 128 rows:
/// 384 KiB of panels at 768 columns). Measured (tools/bench/sgemm_ab, 6 x 4 tiles, encoder
/// products, 4 layers, n = 1024, median of 9 rounds' time ratios against 16 panels): 4 panels
/// 11.9 %, 8 panels 11.5 % faster, 12 panels 2.3 %, 32 panels 22 % slower; n = 256 4.4 %, n = 512
/// 10.7 % faster with 8 (16 panels left the product at ≈ 60 % of the f32 peak from n = 256 on).
#ifndef SGEMM_XBLOCK
#define SGEMM_XBLOCK 8
#endif

AVX512_FN static void sgemm_rows(const csvae_sgemm_job *j, size_t r0, size_t r1) {
    size_t panels = (j->n + 15) / 16;
    for (size_t b0 = 0; b0 < panels; b0 += SGEMM_XBLOCK) {
        size_t b1 = b0 + SGEMM_XBLOCK < panels ? b0 + SGEMM_XBLOCK : panels;
        size_t r = r0;
        for (; r + SGEMM_MR <= r1; r += SGEMM_MR)
            for (size_t p = b0; p < b1;) {
                size_t c = b1 - p < SGEMM_NP ? b1 - p : SGEMM_NP;
                if (c == SGEMM_NP) sgemm_tile(j, p, r, SGEMM_MR, SGEMM_NP);
                else if (c == 3) sgemm_tile(j, p, r, SGEMM_MR, 3);
                else if (c == 2) sgemm_tile(j, p, r, SGEMM_MR, 2);
                else sgemm_tile(j, p, r, SGEMM_MR, 1);
                p += c;
            }
        if (r < r1)
            for (size_t p = b0; p < b1; p++) switch (r1 - r) {
                case 7: sgemm_tile(j, p, r, 7, 1); break;
                case 6: sgemm_tile(j, p, r, 6, 1); break;
                case 5: sgemm_tile(j, p, r, 5, 1); break;
                case 4: sgemm_tile(j, p, r, 4, 1); break;
                case 3: sgemm_tile(j, p, r, 3, 1); break;
                case 2: sgemm_tile(j, p, r, 2, 1); break;
                default: sgemm_tile(j, p, r, 1, 1); break;
                }
    }
}

void csvae_sgemm_task(void *ctx, size_t task, size_t ntasks) {
    const csvae_sgemm_job *j = (const csvae_sgemm_job *)ctx;
    size_t r0, r1;
    if (task_rows(j->rows, task, ntasks, &r0, &r1)) sgemm_rows(j, r0, r1);
}

// MARK: f32 weights packed once, activations broadcast (few activation rows)

/// NT activation rows from t0 times NP weight panels (16 output rows each, from panel q0):
/// NT x NP accumulators whose lanes are output rows; per k NP panel loads and NT activation
/// broadcasts. The epilogue adds the bias, applies ReLU and stores each accumulator as 16
/// consecutive floats of a row of Y (masked past the last output row).
AVX512_FN INLINE void sgemm_wp_tile(const csvae_sgemm_job *j, size_t t0, size_t q0, const int NT, const int NP,
                                    const char *pf, size_t pfp) {
    const size_t K = j->cols;
    __m512 acc[8][3];
    for (int t = 0; t < NT; t++)
        for (int p = 0; p < NP; p++) acc[t][p] = _mm512_setzero_ps();
    const float *xr = j->xt + t0 * K, *wp = j->w + q0 * 16 * K;  // X row-major, W in panels
    for (size_t k = 0; k < K; k++) {
        if (pf)
            for (size_t p = 0; p < pfp; p++) _mm_prefetch(pf + (p * K + k) * 64, _MM_HINT_T1);
        __m512 wv[3];
        for (int p = 0; p < NP; p++) wv[p] = _mm512_loadu_ps(wp + (p * K + k) * 16);
        for (int t = 0; t < NT; t++) {
            __m512 b = _mm512_set1_ps(xr[t * K + k]);
            for (int p = 0; p < NP; p++) acc[t][p] = _mm512_fmadd_ps(b, wv[p], acc[t][p]);
        }
    }
    for (int p = 0; p < NP; p++) {
        size_t r = (q0 + p) * 16;
        size_t m = j->rows - r < 16 ? j->rows - r : 16;
        __mmask16 mm = (__mmask16)((1u << m) - 1);
        __m512 bv = j->bias ? _mm512_maskz_loadu_ps(mm, j->bias + r) : _mm512_setzero_ps();
        for (int t = 0; t < NT; t++) {
            __m512 v = _mm512_add_ps(acc[t][p], bv);
            if (j->relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(j->y + (t0 + t) * j->ldy + r, mm, v);
        }
    }
}

#define WP_NT(T, c, q, NP)                          \
    switch (c) {                                    \
    case 8: sgemm_wp_tile(j, T, q, 8, NP, pf, pfp); break;   \
    case 7: sgemm_wp_tile(j, T, q, 7, NP, pf, pfp); break;   \
    case 6: sgemm_wp_tile(j, T, q, 6, NP, pf, pfp); break;   \
    case 5: sgemm_wp_tile(j, T, q, 5, NP, pf, pfp); break;   \
    case 4: sgemm_wp_tile(j, T, q, 4, NP, pf, pfp); break;   \
    case 3: sgemm_wp_tile(j, T, q, 3, NP, pf, pfp); break;   \
    case 2: sgemm_wp_tile(j, T, q, 2, NP, pf, pfp); break;   \
    default: sgemm_wp_tile(j, T, q, 1, NP, pf, pfp); break;  \
    }

/// Weight panels [q0, q1) (16 output rows each): per 3 panels (a 48-row block of the packed
/// weights, contiguous) every group of 8 activation rows, so the block is read from memory
/// once and from L2 for the later groups.
AVX512_FN static void sgemm_wp_panels(const csvae_sgemm_job *j, size_t q0, size_t q1) {
    const size_t panels = (j->rows + 15) / 16;
    for (size_t q = q0; q < q1;) {
        size_t np = q1 - q < 3 ? q1 - q : 3;
        // The next block's panels (contiguous after this block) pulled into L2 while the first
        // activation group passes: one line per panel per column.
        size_t pq = q + np, pfp = panels - pq < 3 ? panels - pq : 3;
        const char *pfb = pfp ? (const char *)(j->w + pq * 16 * j->cols) : NULL;
        for (size_t t = 0; t < j->n; t += 8) {
            size_t c = j->n - t < 8 ? j->n - t : 8;
            const char *pf = t == 0 ? pfb : NULL;
            if (np == 3) { WP_NT(t, c, q, 3) }
            else if (np == 2) { WP_NT(t, c, q, 2) }
            else { WP_NT(t, c, q, 1) }
        }
        q += np;
    }
}
#undef WP_NT

void csvae_sgemm_wp_task(void *ctx, size_t task, size_t ntasks) {
    const csvae_sgemm_job *j = (const csvae_sgemm_job *)ctx;
    size_t r0, r1;
    if (task_rows(j->rows, task, ntasks, &r0, &r1)) sgemm_wp_panels(j, r0 / 16, (r1 + 15) / 16);
}
#else
int csvae_sgemm_supported(void) { return 0; }
void csvae_sgemm_pack(float *xt, const float *x, size_t n, size_t cols) { (void)xt; (void)x; (void)n; (void)cols; }
void csvae_sgemm_task(void *ctx, size_t task, size_t ntasks) { (void)ctx; (void)task; (void)ntasks; }
void csvae_sgemm_wp_task(void *ctx, size_t task, size_t ntasks) { (void)ctx; (void)task; (void)ntasks; }
#endif

// MARK: NEON + dotprod (arm64)

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
static void rows_float_neon(float *y, size_t ldy, const uint8_t *w, int t, const float *x,
                            size_t n, size_t r0, size_t r1, size_t cols) {
    size_t rb = csvae_row_bytes(t, cols), k4 = cols & ~(size_t)3;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * rb;
        for (size_t i = 0; i < n; i++) {
            const float *xi = x + i * cols;
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (size_t k = 0; k < k4; k += 4) {
                float32x4_t wv;
                if (t == CSVAE_F32) {
                    wv = vld1q_f32((const float *)(const void *)(row + 4 * k));
                } else {
                    uint16x4_t h = vld1_u16((const uint16_t *)(const void *)(row + 2 * k));
                    wv = t == CSVAE_F16 ? vcvt_f32_f16(vreinterpret_f16_u16(h))
                                        : vreinterpretq_f32_u32(vshll_n_u16(h, 16));
                }
                acc = vfmaq_f32(acc, wv, vld1q_f32(xi + k));
            }
            float s = vaddvq_f32(acc);
            for (size_t k = k4; k < cols; k++) s += w_at(row, t, k) * xi[k];
            y[i * ldy + r] = s;
        }
    }
}

static void rows_quant_neon(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa,
                            size_t n, size_t r0, size_t r1, size_t cols) {
    size_t nb = cols / CSVAE_QK, bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * nb * bb;
        for (size_t i = 0; i < n; i++) {
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *blk = row + b * bb;
                size_t ab = i * nb + b;
                const int8_t *a = qa->q + ab * CSVAE_QK;
                int8x16_t w0, w1;
                if (t == CSVAE_Q8_0) {
                    w0 = vld1q_s8((const int8_t *)(blk + 2));
                    w1 = vld1q_s8((const int8_t *)(blk + 18));
                } else {
                    uint8x16_t qs = vld1q_u8(blk + 2);
                    int8x16_t eight = vdupq_n_s8(8);
                    w0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(15))), eight);
                    w1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(qs, 4)), eight);
                }
                int32x4_t is = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(a)), w1, vld1q_s8(a + 16));
                float sc = csvae_f16_to_f32(ld16(blk)) * qa->d[ab * 8];
                acc = vmlaq_n_f32(acc, vcvtq_f32_s32(is), sc);
            }
            y[i * ldy + r] = vaddvq_f32(acc);
        }
    }
}
#endif

// MARK: dispatch

/// csvae_matmul_rows with bias/ReLU and the panel kernel's scratch (or NULL); returns 1 when
/// bias and ReLU were applied, 0 when the caller must.
static int matmul_rows(float *y, size_t ldy, const void *wv, int t, const float *x, const csvae_qact *qa, int path,
                       int float_check, size_t n, size_t r0, size_t r1, size_t cols, const float *bias, int relu,
                       uint8_t *scratch) {
    const uint8_t *w = (const uint8_t *)wv;
    int quant = t == CSVAE_Q8_0 || t == CSVAE_Q4_0;
    if (quant && float_check) {
        rows_dequant_scalar(y, ldy, w, t, x, n, r0, r1, cols);
        return 0;
    }
    (void)bias; (void)relu; (void)scratch;
    switch (path) {
#if defined(__x86_64__)
    case CSVAE_PATH_AVX2:
    case CSVAE_PATH_AVXVNNI:  // only i8r products (i8r.c) differ from AVX2
        if (quant) rows_quant_avx2(y, ldy, w, t, qa, n, r0, r1, cols);
        else rows_float_avx2(y, ldy, w, t, x, n, r0, r1, cols);
        return 0;
    case CSVAE_PATH_AVX512:
        if (quant) return rows_quant_avx512(y, ldy, w, t, qa, n, r0, r1, cols, bias, relu, scratch);
        rows_float_avx512(y, ldy, w, t, x, n, r0, r1, cols);
        return 0;
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    case CSVAE_PATH_NEON:
        if (quant) rows_quant_neon(y, ldy, w, t, qa, n, r0, r1, cols);
        else rows_float_neon(y, ldy, w, t, x, n, r0, r1, cols);
        return 0;
#endif
    default:
        if (quant) rows_quant_scalar(y, ldy, w, t, qa, n, r0, r1, cols);
        else rows_float_scalar(y, ldy, w, t, x, n, r0, r1, cols);
        return 0;
    }
}

void csvae_matmul_rows(float *y, size_t ldy, const void *w, int t, const float *x, const csvae_qact *qa,
                       int path, int float_check, size_t n, size_t r0, size_t r1, size_t cols) {
    matmul_rows(y, ldy, w, t, x, qa, path, float_check, n, r0, r1, cols, NULL, 0, NULL);
}

size_t csvae_matmul_scratch_bytes(size_t n, size_t cols) {
    size_t nb = cols / CSVAE_QK, rows = n < PANEL_N ? n : PANEL_N;
    nb = nb < QP_MAXNB ? nb : QP_MAXNB;
    return QP_PANEL_BYTES + QP_SCALE_BYTES + (rows * nb * sizeof(int32_t) + 63) / 64 * 64;
}

void csvae_matmul_task(void *ctx, size_t task, size_t ntasks) {
    const csvae_matmul_job *j = (const csvae_matmul_job *)ctx;
    size_t r0, r1;
    if (!task_rows(j->rows, task, ntasks, &r0, &r1)) return;
    uint8_t *scratch = j->scratch ? (uint8_t *)j->scratch + task * csvae_matmul_scratch_bytes(j->n, j->cols) : NULL;
    if (matmul_rows(j->y, j->ldy, j->w, j->wtype, j->x, j->qa, j->path, j->float_check, j->n, r0, r1, j->cols, j->bias,
                    j->relu, scratch) || (!j->bias && !j->relu))
        return;
    for (size_t i = 0; i < j->n; i++) csvae_bias_relu(j->y + i * j->ldy + r0, j->bias ? j->bias + r0 : NULL, 1, r1 - r0, j->relu);
}
