// One side of the i8r A/B harness (run.sh): compiled twice, against each side's own header,
// with SIDE naming the entry point. Quantizes the activations and runs the AVX-512 kernel over
// all output rows of each matrix, one thread, as the encoder's products do.
#include "csvae_kernels.h"
#include <stdlib.h>
#include "../ab_common.h"

/// y[m] = x · w[m]ᵀ (+ bias, ReLU on odd m) for nm matrices; returns the seconds taken.
double CAT(run_, SIDE)(const uint8_t **w, const size_t *rows, const size_t *cols, int nm, const float *x, float **y, size_t n,
                       const float *bias) {
    static void *scratch;
    static size_t cap;
    double t0 = ab_now();
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
    return ab_now() - t0;
}
