// ops.c: the element-wise and attention ops the models need (f32). Plain C loops written so
// that the compiler vectorizes them at -O2; none of these is bandwidth-critical next to the
// matrix products.
#include "csvae_kernels.h"
#include "transpose.h"
#include <math.h>
#include <float.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

void csvae_layernorm(float *y, const float *x, const float *weight, const float *bias, float eps, size_t n) {
    // Two passes (mean, then centered variance) as PyTorch does; sums in double for stability.
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= (double)n;
    float inv = (float)(1.0 / sqrt(var + (double)eps)), m = (float)mean;
    for (size_t i = 0; i < n; i++) {
        float v = (x[i] - m) * inv;
        if (weight) v *= weight[i];
        if (bias) v += bias[i];
        y[i] = v;
    }
}

void csvae_softmax(float *x, size_t n) {
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    if (mx == -INFINITY) {  // every entry masked: uniform zeros rather than NaN
        for (size_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    float inv = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

void csvae_add(float *y, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}


static float dotf(const float *a, const float *b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/// One head of one query (portable path): out[hd] = softmax(scale * K q)[keys allowed] . V.
static void attend_scalar(float *out, float *sc, const float *q, const float *k, const float *v,
                   const uint8_t *key_mask, size_t limit, float scale, size_t ldkv, size_t hd) {
    int any = 0;
    for (size_t j = 0; j < limit; j++) {
        if (key_mask && !key_mask[j]) { sc[j] = -INFINITY; continue; }
        sc[j] = scale * dotf(q, k + j * ldkv, hd);
        any = 1;
    }
    for (size_t d = 0; d < hd; d++) out[d] = 0.0f;
    if (!any) return;
    csvae_softmax(sc, limit);
    for (size_t j = 0; j < limit; j++) {
        float p = sc[j];
        if (p == 0.0f) continue;
        const float *vj = v + j * ldkv;
        for (size_t d = 0; d < hd; d++) out[d] += p * vj[d];
    }
}

#if defined(__x86_64__)
#define AVX512_FN __attribute__((target("avx2,fma,avx512f")))
#define INLINE static inline __attribute__((always_inline))
/// Mask of the first n < 16 lanes, or all 16.
#define LANES(n) ((n) >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n)) - 1))

AVX512_FN static inline float dot512(const float *a, const float *b, size_t n) {
    __m512 acc = _mm512_setzero_ps();
    for (size_t k = 0; k < n; k += 16) {
        __mmask16 m = LANES(n - k);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

#endif

// MARK: argmax (greedy decoding: 50272 logits per sentence and step)

#if defined(__x86_64__)
/// Four running (max, first index) pairs of 16 lanes over interleaved chunks (strict >: a lane
/// keeps the first index of its max; NaN compares false and never wins), then the smallest index
/// holding the overall max.
AVX512_FN static int32_t argmax_avx512(const float *x, size_t n) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512 m[4] = {ninf, ninf, ninf, ninf};
    __m512i ix[4] = {iota, iota, iota, iota};
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int a = 0; a < 4; a++) {
            __m512 v = _mm512_loadu_ps(x + i + 16 * a);
            __mmask16 gt = _mm512_cmp_ps_mask(v, m[a], _CMP_GT_OQ);
            m[a] = _mm512_mask_mov_ps(m[a], gt, v);
            ix[a] = _mm512_mask_mov_epi32(ix[a], gt, _mm512_add_epi32(_mm512_set1_epi32((int32_t)(i + 16 * a)), iota));
        }
    for (; i < n; i += 16) {
        __mmask16 lanes = LANES(n - i);
        __m512 v = _mm512_mask_loadu_ps(ninf, lanes, x + i);
        __mmask16 gt = _mm512_mask_cmp_ps_mask(lanes, v, m[0], _CMP_GT_OQ);
        m[0] = _mm512_mask_mov_ps(m[0], gt, v);
        ix[0] = _mm512_mask_mov_epi32(ix[0], gt, _mm512_add_epi32(_mm512_set1_epi32((int32_t)i), iota));
    }
    float top = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m[0], m[1]), _mm512_max_ps(m[2], m[3])));
    if (top == -INFINITY) return 0;
    __m512 t = _mm512_set1_ps(top);
    int32_t best = INT32_MAX;
    for (int a = 0; a < 4; a++) {
        __mmask16 eq = _mm512_cmp_ps_mask(m[a], t, _CMP_EQ_OQ);
        if (eq) {
            int32_t c = _mm512_mask_reduce_min_epi32(eq, ix[a]);
            best = c < best ? c : best;
        }
    }
    return best;
}
#endif

int32_t csvae_argmax(const float *x, size_t n) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) return argmax_avx512(x, n);
#endif
    size_t best = 0;
    float top = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] > top) { top = x[i]; best = i; }
    return (int32_t)best;
}

// MARK: bandwidth probe

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float sum512(const float *x, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < n; i++) s += x[i];
    return s;
}
#endif

float csvae_stream_sum(const float *x, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return sum512(x, n);
#endif
    float a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) a[l] += x[i + l];
    float s = 0;
    for (int l = 0; l < 8; l++) s += a[l];
    for (; i < n; i++) s += x[i];
    return s;
}

// MARK: residual add + LayerNorm, f32 (the encoder's hot path; csvae_layernorm is the f64 reference)

#if defined(__x86_64__)
__attribute__((target("avx2,fma,avx512f,avx512dq"))) static void add_layernorm_avx512(
    float *x, const float *r, const float *w, const float *b, float eps, size_t d) {
    size_t d16 = d & ~(size_t)15;
    __m512 s = _mm512_setzero_ps();
    for (size_t i = 0; i < d16; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        if (r) {
            v = _mm512_add_ps(v, _mm512_loadu_ps(r + i));
            _mm512_storeu_ps(x + i, v);
        }
        s = _mm512_add_ps(s, v);
    }
    float sum = _mm512_reduce_add_ps(s);
    for (size_t i = d16; i < d; i++) {
        if (r) x[i] += r[i];
        sum += x[i];
    }
    float mean = sum / (float)d;
    __m512 m = _mm512_set1_ps(mean), q = _mm512_setzero_ps();
    for (size_t i = 0; i < d16; i += 16) {
        __m512 c = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        q = _mm512_fmadd_ps(c, c, q);
    }
    float var = _mm512_reduce_add_ps(q);
    for (size_t i = d16; i < d; i++) { float c = x[i] - mean; var += c * c; }
    float inv = 1.0f / sqrtf(var / (float)d + eps);
    __m512 iv = _mm512_set1_ps(inv);
    for (size_t i = 0; i < d16; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), m), iv);
        _mm512_storeu_ps(x + i, _mm512_fmadd_ps(v, _mm512_loadu_ps(w + i), _mm512_loadu_ps(b + i)));
    }
    for (size_t i = d16; i < d; i++) x[i] = (x[i] - mean) * inv * w[i] + b[i];
}
#endif

static void add_layernorm_scalar(float *x, const float *r, const float *w, const float *b, float eps, size_t d) {
    float sum = 0.0f;
    for (size_t i = 0; i < d; i++) {
        if (r) x[i] += r[i];
        sum += x[i];
    }
    float mean = sum / (float)d, var = 0.0f;
    for (size_t i = 0; i < d; i++) { float c = x[i] - mean; var += c * c; }
    float inv = 1.0f / sqrtf(var / (float)d + eps);
    for (size_t i = 0; i < d; i++) x[i] = (x[i] - mean) * inv * w[i] + b[i];
}

void csvae_add_layernorm_rows(float *x, const float *r, const float *weight, const float *bias, float eps, size_t rows, size_t d) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        for (size_t i = 0; i < rows; i++) add_layernorm_avx512(x + i * d, r ? r + i * d : NULL, weight, bias, eps, d);
        return;
    }
#endif
    for (size_t i = 0; i < rows; i++) add_layernorm_scalar(x + i * d, r ? r + i * d : NULL, weight, bias, eps, d);
}

// MARK: fused bias + ReLU, pooling (f32, the encoder's hot path)

#if defined(__x86_64__)
AVX512_FN static void bias_relu_avx512(float *y, const float *bias, size_t rows, size_t cols, int relu) {
    const __m512 zero = _mm512_setzero_ps();
    for (size_t r = 0; r < rows; r++) {
        float *yr = y + r * cols;
        for (size_t c = 0; c < cols; c += 16) {
            __mmask16 m = LANES(cols - c);
            __m512 v = _mm512_maskz_loadu_ps(m, yr + c);
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
            if (relu) v = _mm512_max_ps(v, zero);
            _mm512_mask_storeu_ps(yr + c, m, v);
        }
    }
}
#endif

void csvae_bias_relu(float *y, const float *bias, size_t rows, size_t cols, int relu) {
    if (!bias && !relu) return;
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        bias_relu_avx512(y, bias, rows, cols, relu);
        return;
    }
#endif
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            float v = y[r * cols + c];
            if (bias) v += bias[c];
            if (relu) v = v > 0.0f ? v : 0.0f;
            y[r * cols + c] = v;
        }
}

#if defined(__x86_64__)
AVX512_FN static void pool_rows_avx512(float *out, const float *x, size_t rows, size_t d, const float *w, float b) {
    for (size_t c = 0; c < d; c += 16) _mm512_mask_storeu_ps(out + c, LANES(d - c), _mm512_setzero_ps());
    for (size_t t = 0; t < rows; t++) {
        const float *xt = x + t * d;
        float alpha = 1.0f;
        if (w) alpha = dot512(w, xt, d) + b;
        __m512 a = _mm512_set1_ps(alpha);
        for (size_t c = 0; c < d; c += 16) {
            __mmask16 m = LANES(d - c);
            _mm512_mask_storeu_ps(out + c, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, xt + c), _mm512_maskz_loadu_ps(m, out + c)));
        }
    }
}
#endif

void csvae_pool_rows(float *out, const float *x, size_t rows, size_t d, const float *w, float b) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        pool_rows_avx512(out, x, rows, d, w, b);
        return;
    }
#endif
    for (size_t c = 0; c < d; c++) out[c] = 0.0f;
    for (size_t t = 0; t < rows; t++) {
        const float *xt = x + t * d;
        float alpha = 1.0f;
        if (w) alpha = dotf(w, xt, d) + b;
        for (size_t c = 0; c < d; c++) out[c] += alpha * xt[c];
    }
}

// MARK: encoder self-attention of a batch of sentences

size_t csvae_attention_sentences_scratch(size_t max_len, size_t hd) {
    size_t lp = (max_len + 15) & ~(size_t)15;
    return 16 * (hd + lp) + 16;
}

#if defined(__x86_64__)
/// e^x for x <= 0 (scores minus their row max), 16 lanes: Cephes' expf (range reduction by
/// ln 2 in two parts, degree-6 polynomial, 2^n by vscalefps), within ~2 ulp of expf.
AVX512_FN static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3365447505f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504089f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

#endif

#if defined(__x86_64__)
/// out_r (at out + r * ldo) = inv[r] * sum_j p[j * ps + r] v_j, j in order, for R queries: 64
/// output columns in four registers per query, each load of v shared by the R queries. A query
/// whose bit is set in `zero` (every score -inf) gets zeros.
AVX512_FN static inline __attribute__((always_inline)) void pv_queries(float *out, size_t ldo, const float *p, size_t ps, const float *v,
                                                                      size_t ld, size_t L, size_t hd, const float *inv,
                                                                      unsigned zero, const int R) {
    for (size_t d0 = 0; d0 < hd; d0 += 64) {
        __mmask16 m[4];
        for (int c = 0; c < 4; c++) m[c] = d0 + 16 * c < hd ? LANES(hd - d0 - 16 * c) : 0;
        __m512 a[4][4];
        for (int r = 0; r < R; r++)
            for (int c = 0; c < 4; c++) a[r][c] = _mm512_setzero_ps();
        for (size_t j = 0; j < L; j++) {
            const float *vj = v + j * ld + d0;
            __m512 vc[4];
            for (int c = 0; c < 4; c++) vc[c] = _mm512_maskz_loadu_ps(m[c], vj + 16 * c);
            for (int r = 0; r < R; r++) {
                __m512 pr = _mm512_set1_ps(p[j * ps + r]);
                for (int c = 0; c < 4; c++) a[r][c] = _mm512_fmadd_ps(pr, vc[c], a[r][c]);
            }
        }
        for (int r = 0; r < R; r++) {
            __m512 iv = _mm512_set1_ps(inv[r]);
            float *o = out + r * ldo + d0;
            for (int c = 0; c < 4; c++)
                _mm512_mask_storeu_ps(o + 16 * c, m[c], (zero >> r) & 1 ? _mm512_setzero_ps() : _mm512_mul_ps(a[r][c], iv));
        }
    }
}

/// out = softmax(s[0..L)) . V for one query of one head: the 16-lane max, exps (exp512; a score
/// of -inf, a masked key, weighs exactly 0) and sum, then pv_queries; s is overwritten with the
/// exps. Every score -inf: zeros, as csvae_softmax. The decoder's and OPT's step.
AVX512_FN INLINE void softmax_pv(float *out, float *s, const float *v, size_t ld, size_t L, size_t hd) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mx = ninf;
    for (size_t c = 0; c < L; c += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, LANES(L - c), s + c));
    float m = _mm512_reduce_max_ps(mx), inv = 0.0f;
    unsigned zero = m == -INFINITY;  // every score -inf (infinite inputs): zeros, as csvae_softmax
    if (zero) {
        for (size_t c = 0; c < L; c++) s[c] = 0.0f;
    } else {
        __m512 mv = _mm512_set1_ps(m), sum = _mm512_setzero_ps();
        for (size_t c = 0; c < L; c += 16) {
            __mmask16 lanes = LANES(L - c);
            __m512 x = _mm512_maskz_loadu_ps(lanes, s + c);
            __mmask16 keep = _mm512_mask_cmp_ps_mask(lanes, x, ninf, _CMP_NEQ_UQ);
            __m512 e = _mm512_maskz_mov_ps(keep, exp512(_mm512_sub_ps(x, mv)));
            _mm512_mask_storeu_ps(s + c, lanes, e);
            sum = _mm512_add_ps(sum, e);
        }
        inv = 1.0f / _mm512_reduce_add_ps(sum);
    }
    pv_queries(out, 0, s, 1, v, ld, L, hd, &inv, zero, 1);
}

/// One head of one query over keys [0, limit) (key_mask NULL or 0 = never attended): the scores
/// as 16-lane dot products over hd, then softmax_pv. The decoder's and OPT's step.
/// The scores take 16 keys at a time: 16 independent FMA chains (each key's in dot512's order),
/// then one transpose-add tree for their 16 sums, each in _mm512_reduce_add_ps's order, so
/// every score has dot512's bits (one latency-bound chain and reduction per key before).
AVX512_FN static void attend_avx512(float *out, float *sc, const float *q, const float *k, const float *v,
                                    const uint8_t *key_mask, size_t limit, float scale, size_t ldkv, size_t hd) {
    const __m512 sv = _mm512_set1_ps(scale);
    for (size_t j0 = 0; j0 < limit; j0 += 16) {
        size_t nk = limit - j0 < 16 ? limit - j0 : 16;
        __m512 acc[16];
        _Pragma("unroll") for (size_t j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
        for (size_t d = 0; d < hd; d += 16) {
            __mmask16 m = LANES(hd - d);
            __m512 qd = _mm512_maskz_loadu_ps(m, q + d);
            // keys past the limit load nothing (mask 0) and sum to 0; all 16 chains stay in registers
            _Pragma("unroll") for (size_t j = 0; j < 16; j++)
                acc[j] = _mm512_fmadd_ps(qd, _mm512_maskz_loadu_ps(j < nk ? m : 0, k + (j0 + (j < nk ? j : 0)) * ldkv + d), acc[j]);
        }
        _mm512_mask_storeu_ps(sc + j0, LANES(nk), _mm512_mul_ps(sv, csvae_lane_sums16(acc)));
    }
    if (key_mask)
        for (size_t j = 0; j < limit; j++)
            if (!key_mask[j]) sc[j] = -INFINITY;
    softmax_pv(out, sc, v, ldkv, limit, hd);
}
#endif

#if defined(__x86_64__)
/// Scores of C keys (rows k, k + ld, …) against the 16 queries of qt [hd][16] (the queries as
/// lanes): s[r][i] = scale * k_r . q_i, each summed over d in order, then scaled.
AVX512_FN static inline __attribute__((always_inline)) void scores_keys(float *s, const float *k, size_t ld, const float *qt,
                                                                       size_t hd, float scale, const int C) {
    __m512 acc[8];
    for (int r = 0; r < C; r++) acc[r] = _mm512_setzero_ps();
    for (size_t d = 0; d < hd; d++) {
        __m512 qv = _mm512_loadu_ps(qt + d * 16);
        for (int r = 0; r < C; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(k[r * ld + d]), qv, acc[r]);
    }
    for (int r = 0; r < C; r++) _mm512_storeu_ps(s + r * 16, _mm512_mul_ps(acc[r], _mm512_set1_ps(scale)));
}

/// One head of one sentence of L positions attending each other, 16 queries at a time as the
/// lanes of a vector: their rows transposed into qt [hd][16], the scores s [L][16] as FMAs over
/// qt with each key's elements broadcast, the softmax over keys lane by lane (max, exps and
/// sums of 16 queries at once, no horizontal reductions), then out_i = sum_j p_ij v_j with 64
/// output columns per pass. Same bits as one query at a time over keys as lanes (the form
/// before 2026-12-03, and csvae_attention_one's step): every score sums d in order and is then
/// scaled; the max is exact; each exp is exp512's; each query's sum adds its keys l, l + 16, …
/// into 16 partial sums, then adds those by _mm512_reduce_add_ps's tree (l + l+8, l + l+4,
/// l + l+2, l + l+1); tools/bench/attention_ab checks it against the previous build.
AVX512_FN static void self_head_avx512(float *out, size_t ldo, const float *q, const float *k, const float *v, size_t ld,
                                       size_t L, size_t hd, float scale, float *qt, float *s) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t i0 = 0; i0 < L; i0 += 16) {
        size_t nq = L - i0 < 16 ? L - i0 : 16;
        for (size_t d0 = 0; d0 < hd; d0 += 16)
            csvae_transpose16(qt + d0 * 16, 16, q + i0 * ld + d0, ld, nq, hd - d0 < 16 ? hd - d0 : 16);
        for (size_t j0 = 0; j0 < L; j0 += 8) {
            float *sj = s + j0 * 16;
            const float *kj = k + j0 * ld;
            switch (L - j0 < 8 ? L - j0 : 8) {
            case 8: scores_keys(sj, kj, ld, qt, hd, scale, 8); break;
            case 7: scores_keys(sj, kj, ld, qt, hd, scale, 7); break;
            case 6: scores_keys(sj, kj, ld, qt, hd, scale, 6); break;
            case 5: scores_keys(sj, kj, ld, qt, hd, scale, 5); break;
            case 4: scores_keys(sj, kj, ld, qt, hd, scale, 4); break;
            case 3: scores_keys(sj, kj, ld, qt, hd, scale, 3); break;
            case 2: scores_keys(sj, kj, ld, qt, hd, scale, 2); break;
            default: scores_keys(sj, kj, ld, qt, hd, scale, 1); break;
            }
        }
        __m512 mx = ninf;
        for (size_t j = 0; j < L; j++) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j * 16));
        unsigned zero = _mm512_cmp_ps_mask(mx, ninf, _CMP_EQ_OQ);  // every score -inf (infinite inputs): zeros
        __m512 part[16];
        _Pragma("unroll") for (size_t l = 0; l < 16; l++) {
            __m512 sum = _mm512_setzero_ps();
            for (size_t j = l; j < L; j += 16) {
                __m512 x = _mm512_loadu_ps(s + j * 16);
                __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, ninf, _CMP_NEQ_UQ), exp512(_mm512_sub_ps(x, mx)));
                _mm512_storeu_ps(s + j * 16, e);
                sum = _mm512_add_ps(sum, e);
            }
            part[l] = sum;
        }
        for (int l = 0; l < 8; l++) part[l] = _mm512_add_ps(part[l], part[l + 8]);
        for (int l = 0; l < 4; l++) part[l] = _mm512_add_ps(part[l], part[l + 4]);
        for (int l = 0; l < 2; l++) part[l] = _mm512_add_ps(part[l], part[l + 2]);
        float inv[16];
        _mm512_storeu_ps(inv, _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(part[0], part[1])));
        float *o = out + i0 * ldo;
        size_t i = 0;
        for (; i + 4 <= nq; i += 4) pv_queries(o + i * ldo, ldo, s + i, 16, v, ld, L, hd, inv + i, zero >> i, 4);
        switch (nq - i) {
        case 3: pv_queries(o + i * ldo, ldo, s + i, 16, v, ld, L, hd, inv + i, zero >> i, 3); break;
        case 2: pv_queries(o + i * ldo, ldo, s + i, 16, v, ld, L, hd, inv + i, zero >> i, 2); break;
        case 1: pv_queries(o + i * ldo, ldo, s + i, 16, v, ld, L, hd, inv + i, zero >> i, 1); break;
        default: break;
        }
    }
}
#endif

void csvae_attention_sentences(float *out, size_t ldo, float *scratch, const float *q, const float *k, const float *v,
                               size_t ld, const size_t *offsets, size_t count, size_t heads, size_t hd, float scale) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        for (size_t s = 0; s < count; s++) {
            size_t o = offsets[s], L = offsets[s + 1] - o;
            for (size_t h = 0; h < heads; h++)
                self_head_avx512(out + o * ldo + h * hd, ldo, q + o * ld + h * hd, k + o * ld + h * hd, v + o * ld + h * hd, ld,
                                 L, hd, scale, scratch, scratch + 16 * hd);
        }
        return;
    }
#endif
    for (size_t s = 0; s < count; s++) {
        size_t o = offsets[s], L = offsets[s + 1] - o;
        for (size_t i = 0; i < L; i++)
            csvae_attention_one(out + (o + i) * ldo, scratch, q + (o + i) * ld, k + o * ld, v + o * ld, scale, ld, heads, hd, L);
    }
}

// MARK: attention of single queries over KV caches (decoder and OPT steps, prefill)

typedef void (*attend_fn)(float *, float *, const float *, const float *, const float *, const uint8_t *, size_t, float, size_t, size_t);

static attend_fn attend_path(void) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) return attend_avx512;
#endif
    return attend_scalar;
}

void csvae_attention_one(float *out, float *scratch, const float *q, const float *k, const float *v,
                         float scale, size_t ldkv, size_t heads, size_t hd, size_t t) {
    attend_fn attend = attend_path();
    for (size_t h = 0; h < heads; h++)
        attend(out + h * hd, scratch, q + h * hd, k + h * hd, v + h * hd, NULL, t, scale, ldkv, hd);
}

void csvae_attention(float *out, float *scratch, const float *q, const float *k, const float *v,
                     const uint8_t *key_mask, int causal, float scale, size_t ldo, size_t ldq,
                     size_t ldkv, size_t heads, size_t hd, size_t s, size_t t) {
    attend_fn attend = attend_path();
    for (size_t i = 0; i < s; i++) {
        size_t limit = t;
        if (causal) limit = t - s + i + 1 < t ? t - s + i + 1 : t;  // caller: s <= t
        for (size_t h = 0; h < heads; h++)
            attend(out + i * ldo + h * hd, scratch, q + i * ldq + h * hd, k + h * hd, v + h * hd,
                   key_mask, limit, scale, ldkv, hd);
    }
}


void csvae_attention_rows(float *out, size_t ldo, float *scratch, const float *q, size_t ldq,
                          const float *const *k, const float *const *v, size_t ldkv, const size_t *lengths,
                          size_t rows, size_t heads, size_t hd, float scale) {
    attend_fn attend = attend_path();
    for (size_t i = 0; i < rows; i++)
        for (size_t h = 0; h < heads; h++)
            attend(out + i * ldo + h * hd, scratch, q + i * ldq + h * hd, k[i] + h * hd, v[i] + h * hd,
                   NULL, lengths[i], scale, ldkv, hd);
}
