// ops.c: the element-wise and attention ops the models need (f32). Plain C loops written so
// that the compiler vectorizes them at -O2; none of these is bandwidth-critical next to the
// matrix products.
#include "csvae_kernels.h"
#include <math.h>
#include <float.h>
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

void csvae_relu(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void csvae_gelu(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void csvae_add(float *y, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void csvae_add_bias(float *y, const float *bias, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) y[r * cols + c] += bias[c];
}

static float dotf(const float *a, const float *b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/// One head of one query: out[hd] = softmax(scale * K q)[keys allowed] . V.
static void attend(float *out, float *sc, const float *q, const float *k, const float *v,
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

void csvae_attention_one(float *out, float *scratch, const float *q, const float *k, const float *v,
                         float scale, size_t ldkv, size_t heads, size_t hd, size_t t) {
    for (size_t h = 0; h < heads; h++)
        attend(out + h * hd, scratch, q + h * hd, k + h * hd, v + h * hd, NULL, t, scale, ldkv, hd);
}

void csvae_attention(float *out, float *scratch, const float *q, const float *k, const float *v,
                     const uint8_t *key_mask, int causal, float scale, size_t ldo, size_t ldq,
                     size_t ldkv, size_t heads, size_t hd, size_t s, size_t t) {
    for (size_t i = 0; i < s; i++) {
        size_t limit = t;
        if (causal) limit = t - s + i + 1 < t ? t - s + i + 1 : t;  // caller: s <= t
        for (size_t h = 0; h < heads; h++)
            attend(out + i * ldo + h * hd, scratch, q + i * ldq + h * hd, k + h * hd, v + h * hd,
                   key_mask, limit, scale, ldkv, hd);
    }
}

#if defined(__x86_64__)
#define AVX512_FN __attribute__((target("avx2,fma,avx512f")))
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

/// attend() without a key mask, 16 lanes at a time: the dot products of the scores and the
/// weighted sum of the values.
AVX512_FN static void attend_avx512(float *out, float *sc, const float *q, const float *k, const float *v,
                                    size_t t, float scale, size_t ldkv, size_t hd) {
    for (size_t j = 0; j < t; j++) sc[j] = scale * dot512(q, k + j * ldkv, hd);
    csvae_softmax(sc, t);
    for (size_t d0 = 0; d0 < hd; d0 += 16) {
        __mmask16 m = LANES(hd - d0);
        __m512 acc = _mm512_setzero_ps();
        for (size_t j = 0; j < t; j++)
            acc = _mm512_fmadd_ps(_mm512_set1_ps(sc[j]), _mm512_maskz_loadu_ps(m, v + j * ldkv + d0), acc);
        _mm512_mask_storeu_ps(out + d0, m, acc);
    }
}
#endif

void csvae_attention_self(float *out, size_t ldo, float *scratch, const float *q, const float *k, const float *v,
                          size_t ld, size_t heads, size_t hd, size_t t, float scale) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512f")) {
        for (size_t i = 0; i < t; i++)
            for (size_t h = 0; h < heads; h++)
                attend_avx512(out + i * ldo + h * hd, scratch, q + i * ld + h * hd, k + h * hd, v + h * hd, t, scale, ld, hd);
        return;
    }
#endif
    for (size_t i = 0; i < t; i++) csvae_attention_one(out + i * ldo, scratch, q + i * ld, k, v, scale, ld, heads, hd, t);
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
        __m512 v = _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(r + i));
        _mm512_storeu_ps(x + i, v);
        s = _mm512_add_ps(s, v);
    }
    float sum = _mm512_reduce_add_ps(s);
    for (size_t i = d16; i < d; i++) { x[i] += r[i]; sum += x[i]; }
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
    for (size_t i = 0; i < d; i++) { x[i] += r[i]; sum += x[i]; }
    float mean = sum / (float)d, var = 0.0f;
    for (size_t i = 0; i < d; i++) { float c = x[i] - mean; var += c * c; }
    float inv = 1.0f / sqrtf(var / (float)d + eps);
    for (size_t i = 0; i < d; i++) x[i] = (x[i] - mean) * inv * w[i] + b[i];
}

void csvae_add_layernorm_rows(float *x, const float *r, const float *weight, const float *bias, float eps, size_t rows, size_t d) {
#if defined(__x86_64__)
    if (csvae_path_supported(CSVAE_PATH_AVX512)) {
        for (size_t i = 0; i < rows; i++) add_layernorm_avx512(x + i * d, r + i * d, weight, bias, eps, d);
        return;
    }
#endif
    for (size_t i = 0; i < rows; i++) add_layernorm_scalar(x + i * d, r + i * d, weight, bias, eps, d);
}
