// One side of the f32 sgemm A/B harness (run.sh): compiled twice, against each side's own
// matmul.c (its exported names renamed on side A), with SIDE naming the entry points. Runs the
// product of n activation rows with one weight matrix on one thread as the encoder's `linear`
// does: few rows (n <= wp_max) against the weights' panel copy (csvae_sgemm_wp_task), more
// rows packed into activation panels first (csvae_sgemm_pack, csvae_sgemm_task).
#include "csvae_kernels.h"
#include <stdlib.h>
#include "../ab_common.h"

/// The weights' panel copy (as PackedF32Weights makes it) for the few-row path.
float *CAT(pack_, SIDE)(const float *w, size_t rows, size_t cols) {
    float *p = aligned_alloc(64, (csvae_sgemm_pack_floats(rows, cols) * sizeof(float) + 63) / 64 * 64);
    csvae_sgemm_pack(p, w, rows, cols);
    return p;
}

/// y = x · wᵀ + bias (ReLU when relu); wp: the panel copy, used when n <= wp_max. Returns seconds.
double CAT(run_, SIDE)(const float *w, const float *wp, size_t rows, size_t cols, const float *x, float *y, size_t n,
                       const float *bias, int relu, size_t wp_max) {
    static float *xt;
    static size_t cap;
    double t0 = ab_now();
    if (n <= wp_max) {
        csvae_sgemm_job j = {y, rows, wp, x, bias, relu, n, rows, cols};
        csvae_sgemm_wp_task(&j, 0, 1);
    } else {
        size_t need = csvae_sgemm_pack_floats(n, cols);
        if (need > cap) {
            free(xt);
            xt = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
            cap = need;
        }
        csvae_sgemm_pack(xt, x, n, cols);
        csvae_sgemm_job j = {y, rows, w, xt, bias, relu, n, rows, cols};
        csvae_sgemm_task(&j, 0, 1);
    }
    return ab_now() - t0;
}
