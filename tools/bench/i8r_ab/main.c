// i8r A/B harness (run.sh): the AVX-512 batched kernel of two builds of i8r.c (A, B) on the
// SVAE-768 encoder's products (per layer 2304x768, 768x768, 1536x768, 768x1536; weights of all
// layers distinct, so they stream from L3 as in the encode), n activation rows, alternated
// product by product in one process (this VM's slow phases hit both sides). Prints, per shape,
// the best time of each side as % of the int8 peak probed in the same run (B's
// csvae_probe_peak), the whole pass likewise, and checks that A and B wrote the same bits.
//   usage: harness [n=1024] [rounds=9] [layers=4]
#include "csvae_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ab_common.h"

int csvae_path_supported(int path) { return path == CSVAE_PATH_AVX512 ? __builtin_cpu_supports("avx512vnni") : 1; }
double run_a(const uint8_t **, const size_t *, const size_t *, int, const float *, float **, size_t, const float *);
double run_b(const uint8_t **, const size_t *, const size_t *, int, const float *, float **, size_t, const float *);

int main(int argc, char **argv) {
    size_t n = 1024;
    int rounds = 9, layers = 4;
    if (ab_args(argc, argv, csvae_path_supported(CSVAE_PATH_AVX512), "AVX-512 VNNI", &n, &rounds, &layers, "harness [n >= 1] [rounds 1...1000] [layers 1...16]")) return 2;
    const size_t *R = AB_ROWS, *C = AB_COLS;
    int nm = 0;
    const uint8_t *w[64];
    size_t rows[64], cols[64];
    float *ya[64], *yb[64];
    float *x, *bias;
    ab_inputs(n, &x, &bias);
    for (int l = 0; l < layers; l++)
        for (int m = 0; m < 4; m++) {
            size_t bytes = csvae_i8r_bytes(R[m], C[m]), bad;
            float *src = malloc(R[m] * C[m] * sizeof(float));
            for (size_t i = 0; i < R[m] * C[m]; i++) src[i] = ab_frand() * 0.1f;
            uint8_t *q = aligned_alloc(64, (bytes + 63) / 64 * 64);
            csvae_quantize_i8r(q, src, R[m], C[m], &bad);
            free(src);
            w[nm] = q, rows[nm] = R[m], cols[nm] = C[m];
            ya[nm] = malloc(n * R[m] * sizeof(float)), yb[nm] = malloc(n * R[m] * sizeof(float));
            nm++;
        }
    double ba[4] = {1e30, 1e30, 1e30, 1e30}, bb[4] = {1e30, 1e30, 1e30, 1e30}, pass_a = 1e30, pass_b = 1e30, peak = 0;
    for (int r = 0; r < rounds; r++) {
        double sa = 0, sb = 0;
        for (int m = 0; m < nm; m++) {
            double ta, tb;
            if ((r + m) % 2) {
                ta = run_a(w + m, rows + m, cols + m, 1, x, ya + m, n, bias);
                tb = run_b(w + m, rows + m, cols + m, 1, x, yb + m, n, bias);
            } else {
                tb = run_b(w + m, rows + m, cols + m, 1, x, yb + m, n, bias);
                ta = run_a(w + m, rows + m, cols + m, 1, x, ya + m, n, bias);
            }
            ba[m % 4] = ta < ba[m % 4] ? ta : ba[m % 4];
            bb[m % 4] = tb < bb[m % 4] ? tb : bb[m % 4];
            sa += ta, sb += tb;
        }
        pass_a = sa < pass_a ? sa : pass_a;
        pass_b = sb < pass_b ? sb : pass_b;
        double t0 = ab_now(), ops = csvae_probe_peak(0, 200000), t = ab_now() - t0;
        peak = ops / t > peak ? ops / t : peak;
    }
    int same = 1;
    for (int m = 0; m < nm; m++) same &= memcmp(ya[m], yb[m], n * rows[m] * sizeof(float)) == 0;
    printf("n %zu, %d layers, %d rounds, int8 peak %.0f GOP/s; best time as %% of peak, A -> B:", n, layers, rounds, peak / 1e9);
    double all = 0;
    for (int m = 0; m < 4; m++) {
        double ops = 2.0 * (double)n * (double)R[m] * (double)C[m];
        all += ops * layers;
        printf("  %zux%zu %.0f%% -> %.0f%%", R[m], C[m], 100 * ops / ba[m] / peak, 100 * ops / bb[m] / peak);
    }
    printf("  | whole pass %.0f%% -> %.0f%% | outputs %s\n", 100 * all / pass_a / peak, 100 * all / pass_b / peak,
           same ? "bit-identical" : "DIFFER");
    return same ? 0 : 1;
}
