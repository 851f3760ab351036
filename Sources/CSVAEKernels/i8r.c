// i8r.c: the per-row int8 element type (formats/quantization.md §9): quantizer, dequantizer,
// per-token activation quantizer and the matrix kernels (scalar reference, AVX2, AVX-VNNI,
// AVX-512 VNNI, NEON sdot), each with a matrix-vector form for n <= 3 activation rows.
//
// Stored layout (one panel per 16 output rows, the last one zero-padded):
//   codes [cols/4][16][4] int8   group g holds rows 16p..16p+15, columns 4g..4g+3
//   scale [16] f32               x[r][k] ~ scale[r] * code
//   rsum  [16] int32             sum_k code[r][k]
// One vpdpbusd zmm reads a whole group (16 rows x 4 columns) directly from the mapping.
//
// Products: activations are quantized per token (row) to int8 with one f32 scale; every path
// computes the exact int32 isum = sum_k code_w * code_a and then, per output element,
//   y = (float)isum * (scale_w * scale_a)  [+ bias]  [max(., 0)]
// with the same float operations, so every path gives the same bits as the scalar reference.
// VNNI multiplies unsigned by signed bytes: activations are fed as u8 (code_a + 128) against
// the signed weight codes, and 128 * rsum is subtracted from the int32 sum at the end.
//
// Matrix-vector (n <= 3, the decoder's per-token products): the weights stream from DRAM once
// per product, so the kernels walk one panel at a time (one contiguous read of the whole
// slice), prefetch MV_AHEAD bytes ahead, and split K over several accumulators per activation
// row so that no dependency chain limits the stream (integer sums: the split changes nothing).
//
// Batched (AVX-512): tiles of up to 6 activation rows x 64 output rows (four panels, 24 zmm
// sums; from 64 activation rows on) or up to 8 x 48 (three panels, fewer rows) run the whole K;
// for each 128 activation rows the weights stream once, one slice of panels at a time, and
// every tile of a slice prefetches its share of the next slice into L2 (without it, the first
// tile of each slice waited on L3 or memory). The k-loop takes two groups per step and
// addresses the activation rows from one advancing pointer and three stride registers (no
// stack traffic). The 6 x 64 tile issues 10 loads per 24 vpdpbusd (8 x 32: 10 per 16) and
// fewer scalar operations per vpdpbusd; its 64-row slice no longer fits L1 beside the
// activations, which the L2 serves fast enough. tools/bench/i8r_ab cold mode (4 SVAE-768
// encoder layers, weights from L3), 21 rounds, against the 8 x 32 tile, medians of round ratios:
// 1.17x at 128 rows, 1.15x at 1024, 1.03x at 16 (8 x 48 there); at 32 and 48 rows 8 x 48 beat
// 6 x 64 by 1.06x and 1.05x, at 64 they tie, at 96 6 x 64 wins by 1.03x (hence WIDE_MIN).
// Whole encode (tools/bench/encode_ab.py, 21 rounds, 64 x 16): 1.12x (h1) and 1.13x (h4).
#pragma STDC FP_CONTRACT OFF
#include "csvae_kernels.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2_FN __attribute__((target("avx2,fma,f16c")))
#define AVX512_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define VNNI_FN __attribute__((target("avx2,fma,f16c,avxvnni")))
#define INLINE static inline __attribute__((always_inline))
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define PR CSVAE_I8R_PANEL_ROWS
/// Activation rows up to which the matrix-vector kernels run.
#define MV_N 3
/// Bytes ahead of the group being read that the matrix-vector kernels prefetch.
#ifndef MV_AHEAD
#define MV_AHEAD 4096
#endif

static size_t panel_bytes(size_t cols) { return PR * cols + PR * 8; }

/// Activation rows from which the AVX-512 batched kernel uses 6 x 64 tiles (below: 8 x 48).
#ifndef WIDE_MIN
#define WIDE_MIN 64
#endif

/// Panels per slice of the AVX-512 batched kernel for n activation rows (the unit in which
/// csvae_i8r_task splits the output rows).
static size_t slice_panels(size_t n) { return n >= WIDE_MIN ? 4 : 3; }

size_t csvae_i8r_bytes(size_t rows, size_t cols) {
    if (cols % 4 != 0) return 0;
    return (rows + PR - 1) / PR * panel_bytes(cols);
}

static float ldf(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
static int32_t ldi(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static void stf(uint8_t *p, float f) { memcpy(p, &f, 4); }
static void sti(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }

/// Smallest normal f32 (2^-126): rows whose largest magnitude is below it are stored as zeros.
#define TINY 1.17549435e-38f

int csvae_quantize_i8r(uint8_t *dst, const float *src, size_t rows, size_t cols, size_t *bad_index) {
    if (cols % 4 != 0) return CSVAE_ERR_SCALE_OVERFLOW;
    size_t pb = panel_bytes(cols), np = (rows + PR - 1) / PR;
    memset(dst, 0, np * pb);
    for (size_t r = 0; r < rows; r++) {
        const float *x = src + r * cols;
        float amax = 0.0f;
        for (size_t k = 0; k < cols; k++) {
            float v = x[k] < 0 ? -x[k] : x[k];
            if (!(v <= 3.40282347e+38f)) {  // NaN or Inf
                *bad_index = r * cols + k;
                return CSVAE_ERR_NONFINITE;
            }
            amax = v > amax ? v : amax;
        }
        uint8_t *panel = dst + r / PR * pb;
        size_t j = r % PR;
        if (amax < TINY) continue;  // zero codes, scale 0, sum 0
        float d = amax / 127.0f, id = 1.0f / d;
        int32_t sum = 0;
        for (size_t k = 0; k < cols; k++) {
            float v = __builtin_rintf(x[k] * id);
            int32_t c = (int32_t)(v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v));
            panel[(k / 4) * PR * 4 + j * 4 + k % 4] = (uint8_t)(int8_t)c;
            sum += c;
        }
        stf(panel + PR * cols + 4 * j, d);
        sti(panel + PR * cols + PR * 4 + 4 * j, sum);
    }
    return CSVAE_OK;
}

void csvae_i8r_dequantize_row(float *dst, const uint8_t *w, size_t row, size_t cols) {
    const uint8_t *panel = w + row / PR * panel_bytes(cols);
    size_t j = row % PR;
    float d = ldf(panel + PR * cols + 4 * j);
    for (size_t k = 0; k < cols; k++) dst[k] = d * (float)(int8_t)panel[(k / 4) * PR * 4 + j * 4 + k % 4];
}

// MARK: activations

size_t csvae_i8r_act_bytes(size_t n, size_t cols) { return n * cols + n * sizeof(float) + 2 * 64; }

csvae_i8r_act csvae_i8r_act_bind(void *scratch, size_t n, size_t cols, int path) {
    csvae_i8r_act a;
    uintptr_t p = ((uintptr_t)scratch + 63) & ~(uintptr_t)63;
    a.q = (uint8_t *)p;
    a.s = (float *)((p + n * cols + 63) & ~(uintptr_t)63);
    a.biased = path == CSVAE_PATH_AVX512 || path == CSVAE_PATH_AVXVNNI;
    a.path = path;
    return a;
}

/// Code of one activation: x * (127 / amax), rounded half away from zero, clamped to ±127.
static inline int32_t act_code(float x, float id) {
    float v = x * id;
    int32_t r = (int32_t)(v + (v >= 0 ? 0.5f : -0.5f));
    return r > 127 ? 127 : (r < -127 ? -127 : r);
}

static void act_quantize_scalar(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    uint8_t bias = a->biased ? 0x80 : 0;
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * cols;
        float amax = 0.0f;
        for (size_t k = 0; k < cols; k++) {
            float v = xi[k] < 0 ? -xi[k] : xi[k];
            amax = v > amax ? v : amax;
        }
        float id = amax > 0 ? 127.0f / amax : 0.0f;
        a->s[i] = amax / 127.0f;
        for (size_t k = 0; k < cols; k++) a->q[i * cols + k] = (uint8_t)(act_code(xi[k], id) ^ bias);
    }
}

#if defined(__x86_64__)
/// act_quantize_scalar with the same float operations per element (so the same bytes).
AVX512_FN static void act_quantize_avx512(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    const __m512 half = _mm512_set1_ps(0.5f), mhalf = _mm512_set1_ps(-0.5f), zero = _mm512_setzero_ps();
    const __m512i hi = _mm512_set1_epi32(127), lo = _mm512_set1_epi32(-127);
    const __m128i bias = _mm_set1_epi8(a->biased ? (char)0x80 : 0);
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * cols;
        // four independent max chains (max is exact and NaN-skipping in any order: same amax)
        __m512 m0 = zero, m1 = zero, m2 = zero, m3 = zero;
        size_t k = 0;
        for (; k + 64 <= cols; k += 64) {
            m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + k)), m0);
            m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + k + 16)), m1);
            m2 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + k + 32)), m2);
            m3 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + k + 48)), m3);
        }
        for (; k + 16 <= cols; k += 16) m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xi + k)), m0);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
        for (; k < cols; k++) {
            float v = xi[k] < 0 ? -xi[k] : xi[k];
            amax = v > amax ? v : amax;
        }
        float id = amax > 0 ? 127.0f / amax : 0.0f;
        a->s[i] = amax / 127.0f;
        __m512 idv = _mm512_set1_ps(id);
        uint8_t *q = a->q + i * cols;
        for (k = 0; k + 16 <= cols; k += 16) {
            __m512 v = _mm512_mul_ps(_mm512_loadu_ps(xi + k), idv);
            v = _mm512_add_ps(v, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GE_OQ), mhalf, half));
            __m512i r = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvttps_epi32(v), hi), lo);
            _mm_storeu_si128((__m128i *)(q + k), _mm_xor_si128(_mm512_cvtepi32_epi8(r), bias));
        }
        for (; k < cols; k++) q[k] = (uint8_t)(act_code(xi[k], id) ^ (a->biased ? 0x80 : 0));
    }
}

/// act_code on 8 lanes (the same float operations).
AVX2_FN INLINE __m256i act_code8(const float *x, __m256 id) {
    const __m256 zero = _mm256_setzero_ps();
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), id);
    v = _mm256_add_ps(v, _mm256_blendv_ps(_mm256_set1_ps(-0.5f), _mm256_set1_ps(0.5f), _mm256_cmp_ps(v, zero, _CMP_GE_OQ)));
    __m256i r = _mm256_cvttps_epi32(v);
    return _mm256_max_epi32(_mm256_min_epi32(r, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
}

/// act_quantize_scalar with the same float operations per element (so the same bytes).
AVX2_FN static void act_quantize_avx2(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m128i bias = _mm_set1_epi8(a->biased ? (char)0x80 : 0);
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * cols;
        __m256 m = _mm256_setzero_ps();
        size_t k = 0;
        for (; k + 8 <= cols; k += 8) m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xi + k), absmask), m);
        float lanes[8], amax = 0.0f;
        _mm256_storeu_ps(lanes, m);
        for (int l = 0; l < 8; l++) amax = lanes[l] > amax ? lanes[l] : amax;
        for (; k < cols; k++) {
            float v = xi[k] < 0 ? -xi[k] : xi[k];
            amax = v > amax ? v : amax;
        }
        float id = amax > 0 ? 127.0f / amax : 0.0f;
        a->s[i] = amax / 127.0f;
        __m256 idv = _mm256_set1_ps(id);
        uint8_t *q = a->q + i * cols;
        for (k = 0; k + 16 <= cols; k += 16) {
            // codes are within ±127, so the saturating packs are exact
            __m256i p = _mm256_packs_epi32(act_code8(xi + k, idv), act_code8(xi + k + 8, idv));
            p = _mm256_permute4x64_epi64(p, 0xD8);  // lanes interleave: back to element order
            __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
            _mm_storeu_si128((__m128i *)(q + k), _mm_xor_si128(b, bias));
        }
        for (; k < cols; k++) q[k] = (uint8_t)(act_code(xi[k], id) ^ (a->biased ? 0x80 : 0));
    }
}
#endif

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
/// act_code on 4 lanes (the same float operations; vcvtq_s32_f32 truncates like the C cast).
static inline int32x4_t act_code4(const float *x, float32x4_t id) {
    float32x4_t v = vmulq_f32(vld1q_f32(x), id);
    v = vaddq_f32(v, vbslq_f32(vcgeq_f32(v, vdupq_n_f32(0.0f)), vdupq_n_f32(0.5f), vdupq_n_f32(-0.5f)));
    int32x4_t r = vcvtq_s32_f32(v);
    return vmaxq_s32(vminq_s32(r, vdupq_n_s32(127)), vdupq_n_s32(-127));
}

/// act_quantize_scalar with the same float operations per element (so the same bytes).
static void act_quantize_neon(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    const uint8x8_t bias = vdup_n_u8(a->biased ? 0x80 : 0);
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * cols;
        float32x4_t m = vdupq_n_f32(0.0f);
        size_t k = 0;
        for (; k + 4 <= cols; k += 4) m = vmaxq_f32(vabsq_f32(vld1q_f32(xi + k)), m);
        float amax = vmaxvq_f32(m);
        for (; k < cols; k++) {
            float v = xi[k] < 0 ? -xi[k] : xi[k];
            amax = v > amax ? v : amax;
        }
        float id = amax > 0 ? 127.0f / amax : 0.0f;
        a->s[i] = amax / 127.0f;
        float32x4_t idv = vdupq_n_f32(id);
        uint8_t *q = a->q + i * cols;
        for (k = 0; k + 8 <= cols; k += 8) {
            int16x8_t h = vcombine_s16(vmovn_s32(act_code4(xi + k, idv)), vmovn_s32(act_code4(xi + k + 4, idv)));
            vst1_u8(q + k, veor_u8(vreinterpret_u8_s8(vmovn_s16(h)), bias));
        }
        for (; k < cols; k++) q[k] = (uint8_t)(act_code(xi[k], id) ^ (a->biased ? 0x80 : 0));
    }
}
#endif

void csvae_i8r_act_quantize(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    switch (a->path) {
#if defined(__x86_64__)
    case CSVAE_PATH_AVX512: act_quantize_avx512(a, x, n, cols); return;
    case CSVAE_PATH_AVX2:
    case CSVAE_PATH_AVXVNNI: act_quantize_avx2(a, x, n, cols); return;
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    case CSVAE_PATH_NEON: act_quantize_neon(a, x, n, cols); return;
#endif
    default: act_quantize_scalar(a, x, n, cols); return;
    }
}

void csvae_i8r_act_quantize_scalar(csvae_i8r_act *a, const float *x, size_t n, size_t cols) {
    act_quantize_scalar(a, x, n, cols);
}

// MARK: the epilogue every path shares

static inline float finish(int32_t isum, float sw, float sa, const float *bias, size_t r, int relu) {
    float y = (float)isum * (sw * sa);
    if (bias) y = y + bias[r];
    if (relu) y = y > 0 ? y : 0.0f;
    return y;
}

/// Y[i, r] = y, or in argmax mode the update of activation row i's lane r % 16 (rows in
/// increasing order per lane; NaN compares false and never wins).
static inline void put_one(const csvae_i8r_job *j, size_t i, size_t r, float y) {
    if (!j->best_v) {
        j->y[i * j->ldy + r] = y;
    } else if (y > j->best_v[i * PR + r % PR]) {
        j->best_v[i * PR + r % PR] = y;
        j->best_i[i * PR + r % PR] = (int32_t)r;
    }
}

/// Writes activation row i's outputs for the (up to) 16 rows of the panel at output row r from
/// their exact sums is[16] (or, in argmax mode, updates the row's 16 lanes of bests).
static inline void store_panel(const csvae_i8r_job *j, const uint8_t *panel, size_t r, size_t i, const int32_t *is) {
    const uint8_t *sp = panel + PR * j->cols;
    float sa = j->a->s[i];
    for (size_t q = 0; q < PR && r + q < j->rows; q++) put_one(j, i, r + q, finish(is[q], ldf(sp + 4 * q), sa, j->bias, r + q, j->relu));
}

void csvae_i8r_argmax_merge(int32_t *ids, const float *best_v, const int32_t *best_i, size_t tasks, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float top = -INFINITY;
        int32_t best = 0;
        for (size_t t = 0; t < tasks; t++) {
            const float *v = best_v + (t * n + i) * PR;
            const int32_t *ix = best_i + (t * n + i) * PR;
            for (size_t l = 0; l < PR; l++)
                if (v[l] > top || (v[l] == top && top > -INFINITY && ix[l] < best)) {
                    top = v[l];
                    best = ix[l];
                }
        }
        ids[i] = best;
    }
}

// MARK: scalar reference

static void rows_scalar(const csvae_i8r_job *j, size_t r0, size_t r1) {
    size_t cols = j->cols, pb = panel_bytes(cols);
    const uint8_t *w = (const uint8_t *)j->w;
    int biased = j->a->biased;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *panel = w + r / PR * pb;
        size_t jr = r % PR;
        float sw = ldf(panel + PR * cols + 4 * jr);
        for (size_t i = 0; i < j->n; i++) {
            const uint8_t *a = j->a->q + i * cols;
            int32_t isum = 0;
            for (size_t k = 0; k < cols; k++) {
                int32_t c = biased ? (int32_t)a[k] - 128 : (int32_t)(int8_t)a[k];
                isum += (int32_t)(int8_t)panel[(k / 4) * PR * 4 + jr * 4 + k % 4] * c;
            }
            put_one(j, i, r, finish(isum, sw, j->a->s[i], j->bias, r, j->relu));
        }
    }
}

// MARK: AVX2 (vpmaddubsw with the sign trick: |w| * sign(a, w), pair sums <= 2*127*127)

#if defined(__x86_64__)
/// Activation rows per AVX2 tile.
#define T2 4

/// C activation rows x one panel; `pf`: prefetch ahead (the matrix-vector case).
AVX2_FN INLINE void tile_avx2(const csvae_i8r_job *j, const uint8_t *panel, size_t r, size_t i0, const int C, const int pf) {
    size_t cols = j->cols;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[T2][2];
    for (int t = 0; t < C; t++) acc[t][0] = acc[t][1] = _mm256_setzero_si256();
    const uint8_t *a = j->a->q + i0 * cols;
    for (size_t g = 0; g < cols / 4; g++) {
        if (pf) _mm_prefetch((const char *)(panel + g * 64 + MV_AHEAD), _MM_HINT_T0);
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(panel + g * 64));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(panel + g * 64 + 32));
        __m256i u0 = _mm256_sign_epi8(w0, w0), u1 = _mm256_sign_epi8(w1, w1);
        for (int t = 0; t < C; t++) {
            int32_t av;
            memcpy(&av, a + t * cols + 4 * g, 4);
            __m256i b = _mm256_set1_epi32(av);
            acc[t][0] = _mm256_add_epi32(acc[t][0], _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(b, w0)), ones));
            acc[t][1] = _mm256_add_epi32(acc[t][1], _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(b, w1)), ones));
        }
    }
    for (int t = 0; t < C; t++) {
        int32_t is[16];
        _mm256_storeu_si256((__m256i *)is, acc[t][0]);
        _mm256_storeu_si256((__m256i *)(is + 8), acc[t][1]);
        store_panel(j, panel, r, i0 + t, is);
    }
}

AVX2_FN static void rows_avx2(const csvae_i8r_job *j, size_t r0, size_t r1) {
    size_t pb = panel_bytes(j->cols);
    for (size_t r = r0; r < r1; r += PR) {
        const uint8_t *panel = (const uint8_t *)j->w + r / PR * pb;
        int pf = j->n <= MV_N;  // one pass over the panel: stream it
        for (size_t i0 = 0; i0 < j->n; i0 += T2) {
            switch (j->n - i0 < T2 ? j->n - i0 : T2) {
            case 4: tile_avx2(j, panel, r, i0, 4, 0); break;
            case 3: tile_avx2(j, panel, r, i0, 3, pf); break;
            case 2: tile_avx2(j, panel, r, i0, 2, pf); break;
            default: tile_avx2(j, panel, r, i0, 1, pf); break;
            }
        }
    }
}

// MARK: AVX-VNNI (VEX vpdpbusd ymm, for CPUs without AVX-512): biased u8 activations as on AVX-512

/// Activation rows per AVX-VNNI tile (2 accumulators each, 16 ymm registers in all).
#define TV 6

/// C activation rows x one panel (two ymm halves: rows 0..7 and 8..15), K split over U
/// accumulators per half (C*2*U <= 12); `pf`: prefetch ahead (the matrix-vector case).
VNNI_FN INLINE void tile_vnni(const csvae_i8r_job *j, const uint8_t *panel, size_t r, size_t i0, const int C, const int U,
                              const int pf) {
    size_t cols = j->cols, groups = cols / 4, g = 0;
    __m256i acc[TV][2][2];
    for (int t = 0; t < C; t++)
        for (int u = 0; u < U; u++) acc[t][0][u] = acc[t][1][u] = _mm256_setzero_si256();
    const uint8_t *a = j->a->q + i0 * cols;
    for (; g + U <= groups; g += U) {
        for (int u = 0; u < U; u++) {
            const uint8_t *p = panel + (g + u) * 64;
            if (pf) _mm_prefetch((const char *)(p + MV_AHEAD), _MM_HINT_T0);
            __m256i w0 = _mm256_loadu_si256((const __m256i *)p), w1 = _mm256_loadu_si256((const __m256i *)(p + 32));
            for (int t = 0; t < C; t++) {
                __m256i b = _mm256_set1_epi32(ldi(a + t * cols + 4 * (g + u)));
                acc[t][0][u] = _mm256_dpbusd_avx_epi32(acc[t][0][u], b, w0);
                acc[t][1][u] = _mm256_dpbusd_avx_epi32(acc[t][1][u], b, w1);
            }
        }
    }
    for (; g < groups; g++) {
        const uint8_t *p = panel + g * 64;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)p), w1 = _mm256_loadu_si256((const __m256i *)(p + 32));
        for (int t = 0; t < C; t++) {
            __m256i b = _mm256_set1_epi32(ldi(a + t * cols + 4 * g));
            acc[t][0][0] = _mm256_dpbusd_avx_epi32(acc[t][0][0], b, w0);
            acc[t][1][0] = _mm256_dpbusd_avx_epi32(acc[t][1][0], b, w1);
        }
    }
    const uint8_t *sums = panel + PR * cols + 64;
    const __m256i comp0 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)sums), 7);  // 128 * rsum
    const __m256i comp1 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(sums + 32)), 7);
    for (int t = 0; t < C; t++) {
        __m256i h0 = acc[t][0][0], h1 = acc[t][1][0];
        for (int u = 1; u < U; u++) {
            h0 = _mm256_add_epi32(h0, acc[t][0][u]);
            h1 = _mm256_add_epi32(h1, acc[t][1][u]);
        }
        int32_t is[16];
        _mm256_storeu_si256((__m256i *)is, _mm256_sub_epi32(h0, comp0));
        _mm256_storeu_si256((__m256i *)(is + 8), _mm256_sub_epi32(h1, comp1));
        store_panel(j, panel, r, i0 + t, is);
    }
}

VNNI_FN static void rows_vnni(const csvae_i8r_job *j, size_t r0, size_t r1) {
    size_t pb = panel_bytes(j->cols);
    for (size_t r = r0; r < r1; r += PR) {
        const uint8_t *panel = (const uint8_t *)j->w + r / PR * pb;
        if (j->n <= MV_N) {
            switch (j->n) {
            case 3: tile_vnni(j, panel, r, 0, 3, 2, 1); break;
            case 2: tile_vnni(j, panel, r, 0, 2, 2, 1); break;
            default: tile_vnni(j, panel, r, 0, 1, 2, 1); break;
            }
            continue;
        }
        for (size_t i0 = 0; i0 < j->n; i0 += TV) {
            switch (j->n - i0 < TV ? j->n - i0 : TV) {
            case 6: tile_vnni(j, panel, r, i0, 6, 1, 0); break;
            case 5: tile_vnni(j, panel, r, i0, 5, 1, 0); break;
            case 4: tile_vnni(j, panel, r, i0, 4, 1, 0); break;
            case 3: tile_vnni(j, panel, r, i0, 3, 1, 0); break;
            case 2: tile_vnni(j, panel, r, i0, 2, 1, 0); break;
            default: tile_vnni(j, panel, r, i0, 1, 1, 0); break;
            }
        }
    }
}

// MARK: AVX-512 VNNI: tiles of up to 6 activation rows x 64 output rows (four panels), or up
// to 8 x 48 (three panels) for fewer activation rows, in at most 24 accumulators

/// Bounds of a tile: activation rows, panels.
#define T5 8
#define SP 4

/// Output rows rr.. (lanes m) of activation row i: stored, or in argmax mode compared with the
/// row's 16 lanes of bests (lane l: output row rr + l, rr a multiple of 16).
AVX512_FN INLINE void put_avx512(const csvae_i8r_job *j, size_t i, size_t rr, __mmask16 m, __m512 y) {
    if (!j->best_v) {
        _mm512_mask_storeu_ps(j->y + i * j->ldy + rr, m, y);
        return;
    }
    float *bv = j->best_v + i * PR;
    int32_t *bi = j->best_i + i * PR;
    __m512 cur = _mm512_loadu_ps(bv);
    __mmask16 gt = _mm512_mask_cmp_ps_mask(m, y, cur, _CMP_GT_OQ);  // NaN compares false
    _mm512_storeu_ps(bv, _mm512_mask_mov_ps(cur, gt, y));
    __m512i ix = _mm512_add_epi32(_mm512_set1_epi32((int32_t)rr), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm512_storeu_si512(bi, _mm512_mask_mov_epi32(_mm512_loadu_si512(bi), gt, ix));
}

/// y of activation row i for the (up to) 16 output rows of the panel at output row rr from the
/// biased int32 sums acc.
AVX512_FN INLINE void store_avx512(const csvae_i8r_job *j, const uint8_t *panel, size_t rr, size_t i, __m512i acc) {
    const uint8_t *sp = panel + PR * j->cols;
    __m512 sw = _mm512_loadu_ps((const void *)sp);
    __m512i comp = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(sp + 64)), 7);  // 128 * rsum
    __mmask16 m = rr + PR <= j->rows ? (__mmask16)0xffff : (__mmask16)((1u << (j->rows - rr)) - 1);
    __m512 sc = _mm512_mul_ps(sw, _mm512_set1_ps(j->a->s[i]));
    __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc, comp)), sc);
    if (j->bias) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, j->bias + rr));
    if (j->relu) y = _mm512_max_ps(y, _mm512_setzero_ps());
    put_avx512(j, i, rr, m, y);
}

/// Accumulators per activation row of the AVX-512 matrix-vector kernel (K split 4 ways).
#define MV_U 4

/// Matrix-vector: C <= 3 activation rows x one panel, prefetching ahead.
AVX512_FN INLINE void mv_avx512(const csvae_i8r_job *j, const uint8_t *panel, size_t r, const int C) {
    size_t cols = j->cols, groups = cols / 4, g = 0;
    __m512i acc[MV_N][MV_U];
    for (int t = 0; t < C; t++)
        for (int u = 0; u < MV_U; u++) acc[t][u] = _mm512_setzero_si512();
    const uint8_t *a = j->a->q;
    for (; g + MV_U <= groups; g += MV_U) {
        for (int u = 0; u < MV_U; u++) {
            const uint8_t *p = panel + (g + u) * 64;
            _mm_prefetch((const char *)(p + MV_AHEAD), _MM_HINT_T0);
            __m512i w = _mm512_loadu_si512((const void *)p);
            for (int t = 0; t < C; t++) acc[t][u] = _mm512_dpbusd_epi32(acc[t][u], _mm512_set1_epi32(ldi(a + t * cols + 4 * (g + u))), w);
        }
    }
    for (; g < groups; g++) {
        __m512i w = _mm512_loadu_si512((const void *)(panel + g * 64));
        for (int t = 0; t < C; t++) acc[t][0] = _mm512_dpbusd_epi32(acc[t][0], _mm512_set1_epi32(ldi(a + t * cols + 4 * g)), w);
    }
    for (int t = 0; t < C; t++)
        store_avx512(j, panel, r, (size_t)t, _mm512_add_epi32(_mm512_add_epi32(acc[t][0], acc[t][1]), _mm512_add_epi32(acc[t][2], acc[t][3])));
}

/// Group g of a tile: P weight vectors (panel p at w + p * pb) against the broadcast codes of
/// C activation rows. Row t's codes of group g are at x + ROW_OFS(t) + 4 g: one base pointer
/// that advances and the strides c, c3, c5, c7 (1, 3, 5, 7 rows) address every row, so the
/// k-loop needs no row pointers of its own (no stack reloads, no address arithmetic).
#define ROW_OFS(t) ((t) == 0 ? 0 : (t) == 1 ? c : (t) == 2 ? 2 * c : (t) == 3 ? c3 : (t) == 4 ? 4 * c : (t) == 5 ? c5 : (t) == 6 ? 2 * c3 : c7)
#define TILE_GROUP(x, w)                                                                                     \
    do {                                                                                                     \
        __m512i wv[4];                                                                                       \
        _Pragma("unroll") for (int p = 0; p < P; p++) wv[p] = _mm512_loadu_si512((const void *)((w) + p * pb)); \
        _Pragma("unroll") for (int t = 0; t < C; t++) {                                                      \
            __m512i b = _mm512_set1_epi32(ldi((x) + ROW_OFS(t)));                                              \
            _Pragma("unroll") for (int p = 0; p < P; p++) acc[t][p] = _mm512_dpbusd_epi32(acc[t][p], b, wv[p]);                \
        }                                                                                                    \
    } while (0)

/// P panels (1 to 4) starting at output row r, C activation rows starting at i0 (P * C <= 24
/// accumulators); meanwhile prefetches the `pfn` cache lines at `pf` into L2, `rate` lines per
/// group (more than one only when a single tile covers the slice). The k-loop takes two groups
/// per iteration: 2 P C vpdpbusd, 2 C broadcast loads, 2 P weight loads and a few scalar
/// operations (which share ports 0 and 5 with vpdpbusd). The loops over rows and panels must
/// unroll fully so that the sums stay in registers (clang left them on the stack otherwise).
AVX512_FN INLINE void tile_avx512(const csvae_i8r_job *j, const uint8_t *panel, size_t pb, size_t r, size_t i0,
                                  const int P, const int C, const uint8_t *pf, size_t pfn) {
    size_t cols = j->cols, groups = cols / 4;
    __m512i acc[T5][SP];
    _Pragma("unroll") for (int t = 0; t < C; t++)
        _Pragma("unroll") for (int p = 0; p < P; p++) acc[t][p] = _mm512_setzero_si512();
    size_t c = cols, c3 = 3 * cols, c5 = 5 * cols, c7 = 7 * cols;
    __asm__("" : "+r"(c3), "+r"(c5), "+r"(c7));  // kept as strides (not rebuilt from c by adds)
    const uint8_t *x = j->a->q + i0 * cols, *w = panel;
    // prefetch: `rate` lines per group (the slice has P lines per group), from pf on
    size_t rate = pfn > groups ? (pfn + groups - 1) / groups : 1;
    const uint8_t *q = pf, *qend = pf + 64 * pfn, *end = x + 4 * (groups & ~(size_t)1);
    for (; x < end; x += 8, w += 128) {
        if (q < qend) {
            for (size_t k = 0; k < 2 * rate; k++) _mm_prefetch((const char *)(q + 64 * k), _MM_HINT_T1);
            q += 128 * rate;
        }
        TILE_GROUP(x, w);
        TILE_GROUP(x + 4, w + 64);
    }
    if (groups & 1) TILE_GROUP(x, w);
    // store_avx512's operations, with each panel's scales, compensation, bias and mask loaded once
    _Pragma("unroll") for (int p = 0; p < P; p++) {
        const uint8_t *sp = panel + p * pb + PR * cols;
        size_t rr = r + p * PR;
        __m512 sw = _mm512_loadu_ps((const void *)sp);
        __m512i comp = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(sp + 64)), 7);  // 128 * rsum
        __mmask16 m = rr + PR <= j->rows ? (__mmask16)0xffff : (__mmask16)((1u << (j->rows - rr)) - 1);
        __m512 bias = j->bias ? _mm512_maskz_loadu_ps(m, j->bias + rr) : _mm512_setzero_ps();
        _Pragma("unroll") for (int t = 0; t < C; t++) {
            __m512 sc = _mm512_mul_ps(sw, _mm512_set1_ps(j->a->s[i0 + t]));
            __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[t][p], comp)), sc);
            if (j->bias) y = _mm512_add_ps(y, bias);
            if (j->relu) y = _mm512_max_ps(y, _mm512_setzero_ps());
            put_avx512(j, i0 + t, rr, m, y);
        }
    }
}
#undef TILE_GROUP
#undef ROW_OFS

/// Tile of P panels and c rows; 7 and 8 rows only ever come with at most 3 panels (8 x 48
/// tiles), the guard keeps the 4-panel 7- and 8-row tiles (28, 32 sums) from being compiled.
#define DISPATCH_C(P, c)                                                    \
    switch (c) {                                                            \
    case 8: tile_avx512(j, panel, pb, r, i0, P, P * 8 <= 24 ? 8 : 1, pf, pfn); break; \
    case 7: tile_avx512(j, panel, pb, r, i0, P, P * 7 <= 24 ? 7 : 1, pf, pfn); break; \
    case 6: tile_avx512(j, panel, pb, r, i0, P, 6, pf, pfn); break;         \
    case 5: tile_avx512(j, panel, pb, r, i0, P, 5, pf, pfn); break;         \
    case 4: tile_avx512(j, panel, pb, r, i0, P, 4, pf, pfn); break;         \
    case 3: tile_avx512(j, panel, pb, r, i0, P, 3, pf, pfn); break;         \
    case 2: tile_avx512(j, panel, pb, r, i0, P, 2, pf, pfn); break;         \
    default: tile_avx512(j, panel, pb, r, i0, P, 1, pf, pfn); break;        \
    }

/// Activation rows kept in L2 while a slice of weights streams past them.
#ifndef PANEL_N
#define PANEL_N 128
#endif
AVX512_FN static void rows_avx512(const csvae_i8r_job *j, size_t r0, size_t r1) {
    size_t pb = panel_bytes(j->cols);
    if (j->n <= MV_N) {
        for (size_t r = r0; r < r1; r += PR) {
            const uint8_t *panel = (const uint8_t *)j->w + r / PR * pb;
            switch (j->n) {
            case 3: mv_avx512(j, panel, r, 3); break;
            case 2: mv_avx512(j, panel, r, 2); break;
            default: mv_avx512(j, panel, r, 1); break;
            }
        }
        return;
    }
    // Tile shape: 6 rows x 4 panels from WIDE_MIN rows on, else 8 rows x 3 panels (fewer,
    // fuller tiles for a short batch).
    size_t sp = slice_panels(j->n), tr = sp == 4 ? 6 : 8;
    // The weights stream from L3 or memory once per PANEL_N activation rows: while the tiles
    // of one slice (sp panels) run, they prefetch the next slice into L2, spread evenly over
    // the tiles, so that no tile waits for its weights.
    size_t lines = (sp * pb + 63) / 64, end = (r1 + PR - 1) / PR * pb;
    const uint8_t *w = (const uint8_t *)j->w;
    for (size_t p0 = 0; p0 < j->n; p0 += PANEL_N) {
        size_t p1 = p0 + PANEL_N < j->n ? p0 + PANEL_N : j->n, m = p1 - p0;
        // tiles of equal size (within one row): 128 rows = 18 x 6 + 4 x 5, not 21 x 6 + 2
        size_t tiles = (m + tr - 1) / tr, base = m / tiles, extra = m % tiles, per = (lines + tiles - 1) / tiles;
        for (size_t r = r0; r < r1; r += sp * PR) {
            const uint8_t *panel = w + r / PR * pb;
            size_t np = (r1 - r + PR - 1) / PR;
            np = np < sp ? np : sp;
            // the slice after this one, or the first of the next PANEL_N rows
            size_t next = r + sp * PR < r1 ? (r + sp * PR) / PR * pb : (p1 < j->n ? r0 / PR * pb : end);
            size_t avail = end - next < sp * pb ? end - next : sp * pb;
            for (size_t i0 = p0, t = 0; i0 < p1; t++) {
                size_t c = base + (t < extra);
                size_t l0 = t * per * 64 < avail ? t * per * 64 : avail;
                size_t pfn = (avail - l0 + 63) / 64 < per ? (avail - l0 + 63) / 64 : per;
                const uint8_t *pf = w + next + l0;
                switch (np) {
                case 4: DISPATCH_C(4, c); break;
                case 3: DISPATCH_C(3, c); break;
                case 2: DISPATCH_C(2, c); break;
                default: DISPATCH_C(1, c); break;
                }
                i0 += c;
            }
        }
    }
}
#undef DISPATCH_C
#endif

// MARK: NEON sdot (arm64): signed x signed, no compensation

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
/// Activation rows per NEON tile (16 accumulators + 4 weight vectors of 32 registers).
#define TN 4

/// C activation rows x one panel: 4 sdot operands (rows 0-3, 4-7, 8-11, 12-15) per group;
/// `pf`: prefetch ahead (the matrix-vector case).
static inline __attribute__((always_inline)) void tile_neon(const csvae_i8r_job *j, const uint8_t *panel, size_t r, size_t i0,
                                                           const int C, const int pf) {
    size_t cols = j->cols;
    int32x4_t acc[TN][4];
    for (int t = 0; t < C; t++)
        for (int q = 0; q < 4; q++) acc[t][q] = vdupq_n_s32(0);
    const uint8_t *a = j->a->q + i0 * cols;
    for (size_t g = 0; g < cols / 4; g++) {
        const int8_t *p = (const int8_t *)panel + g * 64;
        if (pf) __builtin_prefetch(p + MV_AHEAD);
        int8x16_t w[4];
        for (int q = 0; q < 4; q++) w[q] = vld1q_s8(p + 16 * q);
        for (int t = 0; t < C; t++) {
            int8x16_t b = vreinterpretq_s8_s32(vdupq_n_s32(ldi(a + t * cols + 4 * g)));
            for (int q = 0; q < 4; q++) acc[t][q] = vdotq_s32(acc[t][q], w[q], b);
        }
    }
    for (int t = 0; t < C; t++) {
        int32_t is[16];
        for (int q = 0; q < 4; q++) vst1q_s32(is + 4 * q, acc[t][q]);
        store_panel(j, panel, r, i0 + t, is);
    }
}

static void rows_neon(const csvae_i8r_job *j, size_t r0, size_t r1) {
    size_t pb = panel_bytes(j->cols);
    int pf = j->n <= MV_N;  // one pass over the panel: stream it
    for (size_t r = r0; r < r1; r += PR) {
        const uint8_t *panel = (const uint8_t *)j->w + r / PR * pb;
        for (size_t i0 = 0; i0 < j->n; i0 += TN) {
            switch (j->n - i0 < TN ? j->n - i0 : TN) {
            case 4: tile_neon(j, panel, r, i0, 4, 0); break;
            case 3: tile_neon(j, panel, r, i0, 3, pf); break;
            case 2: tile_neon(j, panel, r, i0, 2, pf); break;
            default: tile_neon(j, panel, r, i0, 1, pf); break;
            }
        }
    }
}
#endif

// MARK: dispatch

void csvae_i8r_rows(const csvae_i8r_job *j, size_t r0, size_t r1) {
    switch (j->path) {
#if defined(__x86_64__)
    case CSVAE_PATH_AVX2: if (!j->a->biased) { rows_avx2(j, r0, r1); return; } break;
    case CSVAE_PATH_AVXVNNI: if (j->a->biased) { rows_vnni(j, r0, r1); return; } break;
    case CSVAE_PATH_AVX512: if (j->a->biased) { rows_avx512(j, r0, r1); return; } break;
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    case CSVAE_PATH_NEON: if (!j->a->biased) { rows_neon(j, r0, r1); return; } break;
#endif
    default: break;
    }
    rows_scalar(j, r0, r1);
}

void csvae_i8r_task(void *ctx, size_t task, size_t ntasks) {
    const csvae_i8r_job *j = (const csvae_i8r_job *)ctx;
    // whole slices of panels (the AVX-512 kernel's), spread evenly
    size_t unit = slice_panels(j->n) * PR, groups = (j->rows + unit - 1) / unit;
    size_t g0 = groups * task / ntasks, g1 = groups * (task + 1) / ntasks;
    size_t r0 = g0 * unit, r1 = g1 * unit < j->rows ? g1 * unit : j->rows;
    if (r0 >= r1) return;
    if (!j->best_v) {
        csvae_i8r_rows(j, r0, r1);
        return;
    }
    csvae_i8r_job own = *j;  // this task's bests
    own.best_v += task * j->n * PR;
    own.best_i += task * j->n * PR;
    csvae_i8r_rows(&own, r0, r1);
}

// MARK: peak probes (benchmark): 16 independent chains, so only throughput limits them

#if defined(__x86_64__)
/// Tells the compiler every chain's value is used each round (nothing to fold or hoist).
#define KEEP8(a, o)                                                                                        \
    __asm__ volatile("" : "+v"(a[o]), "+v"(a[o + 1]), "+v"(a[o + 2]), "+v"(a[o + 3]), "+v"(a[o + 4]),          \
                     "+v"(a[o + 5]), "+v"(a[o + 6]), "+v"(a[o + 7]))
#define KEEP16(a) \
    KEEP8(a, 0);  \
    KEEP8(a, 8)
AVX512_FN static int64_t vnni_chains(size_t iters) {
    __m512i acc[16];
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(-1);
    for (int c = 0; c < 16; c++) acc[c] = _mm512_set1_epi32(c);
    for (size_t i = 0; i < iters; i++) {
        for (int c = 0; c < 16; c++) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
        KEEP16(acc);
    }
    __m512i s = acc[0];
    for (int c = 1; c < 16; c++) s = _mm512_add_epi32(s, acc[c]);
    return _mm512_reduce_add_epi32(s);
}

AVX512_FN static float fma_chains(size_t iters) {
    __m512 acc[16];
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
    for (int c = 0; c < 16; c++) acc[c] = _mm512_set1_ps((float)c);
    for (size_t i = 0; i < iters; i++) {
        for (int c = 0; c < 16; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
        KEEP16(acc);
    }
    __m512 s = acc[0];
    for (int c = 1; c < 16; c++) s = _mm512_add_ps(s, acc[c]);
    return _mm512_reduce_add_ps(s);
}
#endif

double csvae_probe_peak(int kind, size_t iters) {
#if defined(__x86_64__)
    if (!csvae_path_supported(CSVAE_PATH_AVX512)) return 0;
    volatile double sink;
    if (kind == 0) {
        sink = (double)vnni_chains(iters);
        (void)sink;
        return (double)iters * 16 * 64 * 2;  // 64 int8 multiply-adds per vpdpbusd zmm
    }
    sink = (double)fma_chains(iters);
    (void)sink;
    return (double)iters * 16 * 16 * 2;  // 16 f32 multiply-adds per vfmadd zmm
#else
    (void)kind;
    (void)iters;
    return 0;
#endif
}
