// quantize.c: f16/bf16 conversions, the q8_0/q4_0 quantizers (scalar reference + AVX2 fast
// path writing identical bytes), dequantization, CPU feature detection.
//
// Determinism: the quantizers must give the same bytes on every machine (a reported
// converter bug: FP contraction made x86 and arm64 differ). So this file
//  * turns contraction off (#pragma below), and
//  * never writes a*b+c in quantizer code anyway: every step is one IEEE operation
//    (max, |x|, one division, one multiplication, rint, compare) whose result is exactly
//    defined, so SIMD and scalar code produce the same values bit for bit.
#pragma STDC FP_CONTRACT OFF
#include "csvae_kernels.h"
#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

// MARK: scalar conversions

uint16_t csvae_f32_to_f16(float f) {
    // After F. Giesen's float_to_half_fast3_rtne (public domain): exact RNE incl. subnormals.
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x47800000u) {  // >= 65536 (rounds to inf), inf or NaN
        return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
    }
    if (ax < 0x38800000u) {  // < 2^-14: f16 subnormal or zero
        // Adding 0.5 (ulp 2^-24) rounds |x| to a multiple of 2^-24, ties to even.
        float a;
        memcpy(&a, &ax, 4);
        volatile float sum = a + 0.5f;  // volatile: keep this exact add as written
        float s = sum;
        uint32_t b;
        memcpy(&b, &s, 4);
        return (uint16_t)(sign | (b - 0x3f000000u));
    }
    uint32_t odd = (ax >> 13) & 1u;
    ax += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;  // rebias, round to nearest even
    return (uint16_t)(sign | (ax >> 13));
}

float csvae_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e != 0) {
        bits = sign | ((e + 112u) << 23) | (m << 13);
    } else if (m == 0) {
        bits = sign;
    } else {  // subnormal: normalize
        e = 113;
        while (!(m & 0x400u)) { m <<= 1; e--; }
        bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t csvae_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);  // quiet NaN
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float csvae_bf16_to_f32(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void csvae_f32_to_f16_array(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = csvae_f32_to_f16(src[i]);
}
void csvae_f16_to_f32_array(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = csvae_f16_to_f32(src[i]);
}
void csvae_f32_to_bf16_array(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = csvae_f32_to_bf16(src[i]);
}
void csvae_bf16_to_f32_array(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = csvae_bf16_to_f32(src[i]);
}

size_t csvae_row_bytes(int t, size_t cols) {
    switch (t) {
    case CSVAE_F32: return cols * 4;
    case CSVAE_F16:
    case CSVAE_BF16: return cols * 2;
    case CSVAE_Q8_0: return cols / CSVAE_QK * CSVAE_Q8_0_BYTES;
    case CSVAE_Q4_0: return cols / CSVAE_QK * CSVAE_Q4_0_BYTES;
    default: return 0;
    }
}

// MARK: CPU features

size_t csvae_l2_cache_bytes(void) {
#if defined(_SC_LEVEL2_CACHE_SIZE)
    long n = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (n > 0) return (size_t)n;
#endif
    return 0;
}

int csvae_path_supported(int path) {
    switch (path) {
    case CSVAE_PATH_SCALAR: return 1;
#if defined(__x86_64__)
    case CSVAE_PATH_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    case CSVAE_PATH_AVX512:
        return csvae_path_supported(CSVAE_PATH_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
    case CSVAE_PATH_AVXVNNI: {
        // AVX-VNNI: CPUID leaf 7 sub-leaf 1, EAX bit 4 (its VEX encoding needs the YMM state,
        // which the AVX2 check already requires the OS to save).
        unsigned a, b, c, d;
        return csvae_path_supported(CSVAE_PATH_AVX2) && __get_cpuid_max(0, 0) >= 7 &&
               __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);
    }
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case CSVAE_PATH_NEON:
        // NEON is baseline on arm64; sdot needs FEAT_DotProd, checked at compile time.
#if defined(__ARM_FEATURE_DOTPROD)
        return 1;
#else
        return 0;
#endif
#endif
    default: return 0;
    }
}

int csvae_best_path(void) {
    static const int order[] = {CSVAE_PATH_AVX512, CSVAE_PATH_AVXVNNI, CSVAE_PATH_AVX2, CSVAE_PATH_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (csvae_path_supported(order[i])) return order[i];
    return CSVAE_PATH_SCALAR;
}

// MARK: quantizer scale rules (shared by all paths: identical bytes)

/// The f16 nearest to d whose magnitude is >= |d| (rounding away from zero). May be +-inf.
static uint16_t f16_away(float d) {
    uint16_t h = csvae_f32_to_f16(d);
    if (fabsf(csvae_f16_to_f32(h)) < fabsf(d)) h = (uint16_t)(h + 1);  // next magnitude up
    if ((h & 0x7fffu) == 0) h = (uint16_t)(h | 1u);  // d != 0 underflowed: smallest subnormal
    return h;
}

static int f16_is_inf(uint16_t h) { return (h & 0x7fffu) >= 0x7c00u; }

/// q8_0 scale from the block's max |x| (amax > 0). Returns the stored f16 or 0xffff on overflow.
static uint16_t q8_scale(float amax) {
    uint16_t h = f16_away(amax / 127.0f);
    return f16_is_inf(h) ? 0xffffu : h;
}

/// q4_0 scale from the block's min and max (not both 0). See formats/quantization.md:
/// signed rule d = m / -8 (m = the extreme of largest magnitude; negative on ties) unless the
/// opposite extreme would land above 7.5 quantization steps; then d = amax / 7.5.
static uint16_t q4_scale(float mn, float mx) {
    float m = (-mn >= mx) ? mn : mx;
    float o = (-mn >= mx) ? mx : mn;
    uint16_t h = f16_away(m / -8.0f);
    if (f16_is_inf(h)) return 0xffffu;
    float id = 1.0f / csvae_f16_to_f32(h);
    if (o * id > 7.5f) {
        float amax = fmaxf(-mn, mx);
        h = f16_away(amax / 7.5f);
        if (f16_is_inf(h)) return 0xffffu;
    }
    return h;
}

static void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

size_t csvae_find_nonfinite(const float *src, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(src[i]) <= FLT_MAX)) return i;
    return n;
}

// MARK: scalar reference quantizers

/// Writes the header of a q8_0 block whose max |x| is amax: for amax = 0 the whole (zero)
/// block and *id = 0; else the scale, with *id = 1/d. Returns CSVAE_ERR_SCALE_OVERFLOW if
/// the scale does not fit in f16.
static int q8_head(uint8_t *out, float amax, float *id) {
    *id = 0.0f;
    if (amax == 0.0f) {
        memset(out, 0, CSVAE_Q8_0_BYTES);
        return CSVAE_OK;
    }
    uint16_t h = q8_scale(amax);
    if (h == 0xffffu) return CSVAE_ERR_SCALE_OVERFLOW;
    *id = 1.0f / csvae_f16_to_f32(h);
    put_u16(out, h);
    return CSVAE_OK;
}

/// q4_0 counterpart of q8_head, from the block's min and max.
static int q4_head(uint8_t *out, float mn, float mx, float *id) {
    *id = 0.0f;
    if (mn == 0.0f && mx == 0.0f) {
        put_u16(out, 0);
        memset(out + 2, 0x88, 16);
        return CSVAE_OK;
    }
    uint16_t h = q4_scale(mn, mx);
    if (h == 0xffffu) return CSVAE_ERR_SCALE_OVERFLOW;
    *id = 1.0f / csvae_f16_to_f32(h);
    put_u16(out, h);
    return CSVAE_OK;
}


static int q8_block_scalar(uint8_t *out, const float *x) {
    float amax = 0.0f;
    for (int i = 0; i < CSVAE_QK; i++) amax = fmaxf(amax, fabsf(x[i]));
    float id;
    int rc = q8_head(out, amax, &id);
    if (rc != CSVAE_OK || id == 0.0f) return rc;
    for (int i = 0; i < CSVAE_QK; i++) {
        float q = rintf(x[i] * id);
        q = fminf(fmaxf(q, -127.0f), 127.0f);
        out[2 + i] = (uint8_t)(int8_t)q;
    }
    return CSVAE_OK;
}

static int q4_block_scalar(uint8_t *out, const float *x) {
    float mn = x[0], mx = x[0];
    for (int i = 1; i < CSVAE_QK; i++) { mn = fminf(mn, x[i]); mx = fmaxf(mx, x[i]); }
    float id;
    int rc = q4_head(out, mn, mx, &id);
    if (rc != CSVAE_OK || id == 0.0f) return rc;
    for (int j = 0; j < 16; j++) {
        float a = fminf(fmaxf(rintf(x[j] * id), -8.0f), 7.0f);
        float b = fminf(fmaxf(rintf(x[j + 16] * id), -8.0f), 7.0f);
        out[2 + j] = (uint8_t)(((int)a + 8) | (((int)b + 8) << 4));
    }
    return CSVAE_OK;
}

// MARK: AVX2 fast quantizers (identical bytes: same IEEE operations, lane-parallel)

#if defined(__x86_64__)
#define AVX2_FN __attribute__((target("avx2,fma,f16c")))

AVX2_FN static float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
AVX2_FN static float hmin8(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/// 32 floats * id, rounded to nearest even, clamped to [lo, hi], as int32 in 4 vectors.
AVX2_FN static void round32(__m256i out[4], const float *x, float id, float lo, float hi) {
    __m256 vid = _mm256_set1_ps(id), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    for (int k = 0; k < 4; k++) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid);
        v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
        out[k] = _mm256_cvtps_epi32(v);
    }
}

/// Pack 4x8 int32 (in element order) into 32 int8.
AVX2_FN static __m256i pack32(const __m256i v[4]) {
    __m256i a = _mm256_packs_epi32(v[0], v[1]);  // lanes interleave by 128-bit halves
    __m256i b = _mm256_packs_epi32(v[2], v[3]);
    __m256i c = _mm256_packs_epi16(a, b);
    return _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

AVX2_FN static int q8_block_avx2(uint8_t *out, const float *x) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + 8 * k), absmask));
    float amax = hmax8(m);
    float id;
    int rc = q8_head(out, amax, &id);
    if (rc != CSVAE_OK || id == 0.0f) return rc;
    __m256i q[4];
    round32(q, x, id, -127.0f, 127.0f);
    _mm256_storeu_si256((__m256i *)(out + 2), pack32(q));
    return CSVAE_OK;
}

AVX2_FN static int q4_block_avx2(uint8_t *out, const float *x) {
    __m256 mn = _mm256_loadu_ps(x), mx = mn;
    for (int k = 1; k < 4; k++) {
        __m256 v = _mm256_loadu_ps(x + 8 * k);
        mn = _mm256_min_ps(mn, v);
        mx = _mm256_max_ps(mx, v);
    }
    float lo = hmin8(mn), hi = hmax8(mx);
    float id;
    int rc = q4_head(out, lo, hi, &id);
    if (rc != CSVAE_OK || id == 0.0f) return rc;
    __m256i q[4];
    round32(q, x, id, -8.0f, 7.0f);
    __m256i b = _mm256_add_epi8(pack32(q), _mm256_set1_epi8(8));  // codes 0..15, element order
    __m128i l = _mm256_castsi256_si128(b), u = _mm256_extracti128_si256(b, 1);
    _mm_storeu_si128((__m128i *)(out + 2), _mm_or_si128(l, _mm_slli_epi16(u, 4)));
    return CSVAE_OK;
}

AVX2_FN static int block_finite_avx2(const float *x) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 big = _mm256_set1_ps(FLT_MAX);
    __m256 ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int k = 0; k < 4; k++) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + 8 * k), absmask);
        ok = _mm256_and_ps(ok, _mm256_cmp_ps(a, big, _CMP_LE_OQ));  // false for NaN and inf
    }
    return _mm256_movemask_ps(ok) == 0xff;
}
#endif

static int block_finite_scalar(const float *x) {
    return csvae_find_nonfinite(x, CSVAE_QK) == CSVAE_QK;
}

typedef int (*block_fn)(uint8_t *, const float *);

static int quantize_blocks(uint8_t *dst, const float *src, size_t n, size_t bytes, block_fn blk,
                           int (*finite)(const float *), size_t *bad) {
    for (size_t b = 0; b < n / CSVAE_QK; b++) {
        const float *x = src + b * CSVAE_QK;
        if (!finite(x)) {
            if (bad) *bad = b * CSVAE_QK + csvae_find_nonfinite(x, CSVAE_QK);
            return CSVAE_ERR_NONFINITE;
        }
        int rc = blk(dst + b * bytes, x);
        if (rc != CSVAE_OK) {
            if (bad) {  // the element of largest magnitude caused the overflow
                size_t k = 0;
                for (size_t i = 1; i < CSVAE_QK; i++)
                    if (fabsf(x[i]) > fabsf(x[k])) k = i;
                *bad = b * CSVAE_QK + k;
            }
            return rc;
        }
    }
    return CSVAE_OK;
}

int csvae_quantize_q8_0(uint8_t *dst, const float *src, size_t n, int path, size_t *bad) {
#if defined(__x86_64__)
    if (path != CSVAE_PATH_SCALAR && csvae_path_supported(CSVAE_PATH_AVX2))
        return quantize_blocks(dst, src, n, CSVAE_Q8_0_BYTES, q8_block_avx2, block_finite_avx2, bad);
#endif
    (void)path;
    return quantize_blocks(dst, src, n, CSVAE_Q8_0_BYTES, q8_block_scalar, block_finite_scalar, bad);
}

int csvae_quantize_q4_0(uint8_t *dst, const float *src, size_t n, int path, size_t *bad) {
#if defined(__x86_64__)
    if (path != CSVAE_PATH_SCALAR && csvae_path_supported(CSVAE_PATH_AVX2))
        return quantize_blocks(dst, src, n, CSVAE_Q4_0_BYTES, q4_block_avx2, block_finite_avx2, bad);
#endif
    (void)path;
    return quantize_blocks(dst, src, n, CSVAE_Q4_0_BYTES, q4_block_scalar, block_finite_scalar, bad);
}

// MARK: dequantization

#if defined(__x86_64__)
AVX2_FN static void f16_to_f32_f16c(float *dst, const uint8_t *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 2 * i))));
    for (; i < n; i++) dst[i] = csvae_f16_to_f32((uint16_t)(src[2 * i] | (src[2 * i + 1] << 8)));
}
#endif

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

#if defined(__x86_64__)
/// q8_0 blocks to f32, 8 lanes at a time: the same d * (float)q products as the scalar loop.
AVX2_FN static void q8_0_to_f32_avx2(float *dst, const uint8_t *s, size_t blocks) {
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *p = s + b * CSVAE_Q8_0_BYTES;
        __m256 d = _mm256_set1_ps(csvae_f16_to_f32(get_u16(p)));
        for (int i = 0; i < CSVAE_QK; i += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + i)));
            _mm256_storeu_ps(dst + b * CSVAE_QK + i, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
        }
    }
}
#endif

void csvae_prefetch(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(c + o);
    if (bytes) __builtin_prefetch(c + bytes - 1);
}

void csvae_dequantize(float *dst, const void *src, int t, size_t first, size_t n) {
    const uint8_t *s = (const uint8_t *)src;
    switch (t) {
    case CSVAE_F32: memcpy(dst, s + first * 4, n * 4); break;
    case CSVAE_F16:
#if defined(__x86_64__)
        if (csvae_path_supported(CSVAE_PATH_AVX2)) {  // exact either way: F16C is a speed-up only
            f16_to_f32_f16c(dst, s + 2 * first, n);
            break;
        }
#endif
        for (size_t i = 0; i < n; i++) dst[i] = csvae_f16_to_f32(get_u16(s + 2 * (first + i)));
        break;
    case CSVAE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = csvae_bf16_to_f32(get_u16(s + 2 * (first + i)));
        break;
    case CSVAE_Q8_0:
#if defined(__x86_64__)
        if (csvae_path_supported(CSVAE_PATH_AVX2)) {  // the same products: a speed-up only
            q8_0_to_f32_avx2(dst, s + first / CSVAE_QK * CSVAE_Q8_0_BYTES, n / CSVAE_QK);
            break;
        }
#endif
        for (size_t b = 0; b < n / CSVAE_QK; b++) {
            const uint8_t *p = s + (first / CSVAE_QK + b) * CSVAE_Q8_0_BYTES;
            float d = csvae_f16_to_f32(get_u16(p));
            for (int i = 0; i < CSVAE_QK; i++) dst[b * CSVAE_QK + i] = d * (float)(int8_t)p[2 + i];
        }
        break;
    case CSVAE_Q4_0:
        for (size_t b = 0; b < n / CSVAE_QK; b++) {
            const uint8_t *p = s + (first / CSVAE_QK + b) * CSVAE_Q4_0_BYTES;
            float d = csvae_f16_to_f32(get_u16(p));
            for (int j = 0; j < 16; j++) {
                dst[b * CSVAE_QK + j] = d * (float)((p[2 + j] & 15) - 8);
                dst[b * CSVAE_QK + j + 16] = d * (float)((p[2 + j] >> 4) - 8);
            }
        }
        break;
    default: break;
    }
}
