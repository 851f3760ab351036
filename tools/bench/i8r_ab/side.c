// One side of the i8r A/B harness (run.sh): compiled twice, against each side's own header,
// with SIDE naming the entry point. Quantizes the activations and runs the AVX-512 kernel over
// all output rows of each matrix, one thread, as the encoder's products do.
#include "csvae_kernels.h"
#include <stdlib.h>
#include <time.h>
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/// y[m] = x · w[m]ᵀ (+ bias, ReLU on odd m) for nm matrices; returns the seconds taken.
double CAT(run_, SIDE)(const uint8_t **w, const size_t *rows, const size_t *cols, int nm, const float *x, float **y, size_t n,
                       const float *bias) {
    static void *scratch;
    static size_t cap;
    double t0 = now();
    for (int m = 0; m < nm; m++) {
        size_t need = csvae_i8r_act_bytes(n, cols[m]);
        if (need > cap) {
            free(scratch);
            scratch = aligned_alloc(64, (need + 63) / 64 * 64);
            cap = need;
        }
        csvae_i8r_act a = csvae_i8r_act_bind(scratch, n, cols[m], CSVAE_PATH_AVX512);
        csvae_i8r_act_quantize(&a, x, n, cols[m]);
        csvae_i8r_job j = {y[m], rows[m], w[m], &a, bias, m % 2, CSVAE_PATH_AVX512, n, rows[m], cols[m]};
        csvae_i8r_rows(&j, 0, rows[m]);
    }
    return now() - t0;
}
