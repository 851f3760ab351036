// ab_common.h: shared by the kernel A/B harnesses (i8r_ab, sgemm_ab): a monotonic clock and
// the token pasting that gives each side's entry points their own names (run_a, run_b, ...).
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

static inline double ab_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int ab_cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/// Sorts v[0..n) in place and returns its median.
static inline double ab_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), ab_cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// A value in [-0.5, 0.5] from rand() (the harnesses seed it with srand(1)).
static inline float ab_frand(void) { return (float)rand() / (float)RAND_MAX - 0.5f; }

/// The harnesses' first arguments [n [rounds [layers]]] over the given defaults; returns 0, or
/// 2 after a message when the CPU lacks the kernel (`supported` 0: it has no `feature`), n < 1,
/// rounds is not 1...1000 or layers not 1...16 (then printing `usage`).
static inline int ab_args(int argc, char **argv, int supported, const char *feature, size_t *n, int *rounds, int *layers,
                          const char *usage) {
    if (!supported) {
        fprintf(stderr, "harness: this CPU has no %s\n", feature);
        return 2;
    }
    long nv = argc > 1 ? atol(argv[1]) : (long)*n;
    *rounds = argc > 2 ? atoi(argv[2]) : *rounds;
    *layers = argc > 3 ? atoi(argv[3]) : *layers;
    if (nv < 1 || *rounds < 1 || *rounds > 1000 || *layers < 1 || *layers > 16) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    *n = (size_t)nv;
    return 0;
}

/// The svae-768 encoder layer's products, W [rows, cols]: QKV, attention output, FFN in, FFN out.
static const size_t AB_ROWS[4] = {2304, 768, 1536, 768}, AB_COLS[4] = {768, 768, 768, 1536};

/// srand(1), then the activations x [n, 1536] (rows of every product's width; magnitudes vary
/// with the column) and a bias [2304], both malloc'd.
static inline void ab_inputs(size_t n, float **x, float **bias) {
    *x = malloc(n * 1536 * sizeof(float)), *bias = malloc(2304 * sizeof(float));
    srand(1);
    for (size_t i = 0; i < n * 1536; i++) (*x)[i] = ab_frand() * (float)(1 + i % 7);
    for (int i = 0; i < 2304; i++) (*bias)[i] = ab_frand();
}

#ifdef CSVAE_I8R_PANEL_ROWS  // csvae_kernels.h included first (the i8r harnesses)
/// A [rows, cols] i8r matrix of ab_frand() * 0.1 weights, quantized into a 64-byte aligned
/// buffer (exits with status 2 when out of memory).
static inline uint8_t *ab_i8r_weights(size_t rows, size_t cols) {
    size_t bytes = csvae_i8r_bytes(rows, cols), bad;
    float *src = malloc(rows * cols * sizeof(float));
    uint8_t *w = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!src || !w) {
        fprintf(stderr, "harness: out of memory for a %zu x %zu matrix\n", rows, cols);
        exit(2);
    }
    for (size_t i = 0; i < rows * cols; i++) src[i] = ab_frand() * 0.1f;
    csvae_quantize_i8r(w, src, rows, cols, &bad);
    free(src);
    return w;
}
#endif
