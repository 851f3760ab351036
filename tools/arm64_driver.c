// arm64_driver.c: a small C check of the kernels, built natively and for arm64 by
// tools/check-arm64.sh. Prints hashes of quantizer output for deterministic data (which must be
// identical on every machine) and checks every supported matmul path against the scalar path.
#include "csvae_kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {  // xorshift, [-1, 1)
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((int64_t)rng >> 40) / (float)(1 << 23);
}
static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int main(void) {
    enum { N = 32 * 4096 };
    float *x = malloc(N * sizeof(float));
    for (size_t i = 0; i < N; i++) {
        float s = (i / 32) % 3 == 0 ? 1e-6f : ((i / 32) % 3 == 1 ? 1.0f : 300.0f);
        x[i] = frand() * s;
    }
    uint8_t *q8 = malloc(N / 32 * 34), *q4 = malloc(N / 32 * 18);
    size_t bad;
    int failures = 0;
    for (int path = 0; path < 4; path++) {
        if (!csvae_path_supported(path)) continue;
        if (csvae_quantize_q8_0(q8, x, N, path, &bad) || csvae_quantize_q4_0(q4, x, N, path, &bad)) {
            printf("quantize failed\n");
            return 1;
        }
        printf("path %d q8_0 %016llx q4_0 %016llx\n", path, (unsigned long long)fnv(q8, N / 32 * 34),
               (unsigned long long)fnv(q4, N / 32 * 18));
    }
    // matmul: every path vs scalar, quantized and float types
    size_t rows = 37, cols = 96, n = 5;
    float *w = malloc(rows * cols * 4), *a = malloc(n * cols * 4), *y0 = malloc(n * rows * 4), *y1 = malloc(n * rows * 4);
    for (size_t i = 0; i < rows * cols; i++) w[i] = frand() * 0.1f;
    for (size_t i = 0; i < n * cols; i++) a[i] = frand();
    uint8_t *wb = malloc(rows * cols * 4);
    void *scratch = malloc(csvae_qact_bytes(n, cols));
    for (int t = 0; t <= CSVAE_Q4_0; t++) {
        switch (t) {
        case CSVAE_F32: for (size_t i = 0; i < rows * cols; i++) ((float *)wb)[i] = w[i]; break;
        case CSVAE_F16: csvae_f32_to_f16_array((uint16_t *)wb, w, rows * cols); break;
        case CSVAE_BF16: csvae_f32_to_bf16_array((uint16_t *)wb, w, rows * cols); break;
        case CSVAE_Q8_0: csvae_quantize_q8_0(wb, w, rows * cols, 0, &bad); break;
        default: csvae_quantize_q4_0(wb, w, rows * cols, 0, &bad); break;
        }
        csvae_qact qa = csvae_qact_bind(scratch, n, cols);
        if (t >= CSVAE_Q8_0) csvae_qact_quantize(&qa, a, t, n, cols);
        csvae_matmul_rows(y0, rows, wb, t, a, &qa, CSVAE_PATH_SCALAR, 0, n, 0, rows, cols);
        for (int path = 1; path < 4; path++) {
            if (!csvae_path_supported(path)) continue;
            csvae_matmul_rows(y1, rows, wb, t, a, &qa, path, 0, n, 0, rows, cols);
            float worst = 0;
            for (size_t i = 0; i < n * rows; i++) worst = fmaxf(worst, fabsf(y1[i] - y0[i]));
            int ok = worst <= 1e-4f;  // |y| ~ 0.5; only float summation order differs
            printf("matmul type %d path %d max|diff| %.3g %s\n", t, path, worst, ok ? "ok" : "FAIL");
            failures += !ok;
        }
    }
    // i8r: one quantizer (bytes hashed, identical on every machine) and every path's outputs
    // bit-identical to the scalar reference (exact int32 sums, the same float epilogue).
    {
        uint8_t *wi = malloc(csvae_i8r_bytes(rows, cols));
        csvae_quantize_i8r(wi, w, rows, cols, &bad);
        printf("i8r %016llx\n", (unsigned long long)fnv(wi, csvae_i8r_bytes(rows, cols)));
        float *bias = malloc(rows * 4);
        for (size_t i = 0; i < rows; i++) bias[i] = frand();
        void *as = malloc(csvae_i8r_act_bytes(n, cols));
        csvae_i8r_act a0 = csvae_i8r_act_bind(as, n, cols, CSVAE_PATH_SCALAR);
        csvae_i8r_act_quantize_scalar(&a0, a, n, cols);
        csvae_i8r_job j0 = {y0, rows, wi, &a0, bias, 1, CSVAE_PATH_SCALAR, n, rows, cols};
        csvae_i8r_rows(&j0, 0, rows);
        for (int path = 1; path < 4; path++) {
            if (!csvae_path_supported(path)) continue;
            void *as1 = malloc(csvae_i8r_act_bytes(n, cols));
            csvae_i8r_act a1 = csvae_i8r_act_bind(as1, n, cols, path);
            csvae_i8r_act_quantize(&a1, a, n, cols);
            csvae_i8r_job j1 = {y1, rows, wi, &a1, bias, 1, path, n, rows, cols};
            csvae_i8r_rows(&j1, 0, rows);
            int same = 1;
            for (size_t i = 0; i < n * rows; i++) same &= y0[i] == y1[i];
            printf("matmul i8r path %d %s\n", path, same ? "identical ok" : "FAIL");
            failures += !same;
            free(as1);
        }
        free(as); free(bias); free(wi);
    }
    printf("best path %d, %s\n", csvae_best_path(), failures ? "FAILURES" : "all ok");
    return failures != 0;
}
