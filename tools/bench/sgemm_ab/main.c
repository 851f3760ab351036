// f32 sgemm A/B harness (run.sh): the AVX-512 f32 kernels of two builds of matmul.c (A, B) on
// the SVAE-768 encoder's products (per layer 2304x768, 768x768, 1536x768, 768x1536; weights of
// all layers distinct, so they stream from L3 as in the encode), n activation rows, one thread,
// alternated product by product in one process (this VM's slow phases hit both sides); with
// --blas also OpenBLAS cblas_sgemm (its own core choice: OPENBLAS_CORETYPE as set) in the same
// rotation. Prints per shape the GFLOP/s of each side (best round) and the median over rounds
// of the time ratio A/B (> 1: B faster), the whole pass likewise, the f32 FMA peak probed in
// the same run, and whether A and B wrote the same bits.
//   usage: harness [n=128] [rounds=15] [layers=4] [wp_max=24] [blas=0]
#include "csvae_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ab_common.h"

float *pack_a(const float *, size_t, size_t);
float *pack_b(const float *, size_t, size_t);
double run_a(const float *, const float *, size_t, size_t, const float *, float *, size_t, const float *, int, size_t);
double run_b(const float *, const float *, size_t, size_t, const float *, float *, size_t, const float *, int, size_t);
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
char *openblas_get_corename(void);
void openblas_set_num_threads(int);

static double run_blas(const float *w, size_t rows, size_t cols, const float *x, float *y, size_t n) {
    double t0 = ab_now();
    // row-major (101), X no-trans (111), W trans (112)
    cblas_sgemm(101, 111, 112, (int)n, (int)rows, (int)cols, 1.0f, x, (int)cols, w, (int)cols, 0.0f, y, (int)rows);
    return ab_now() - t0;
}

int main(int argc, char **argv) {
    size_t n = 128;
    int rounds = 15, layers = 4;
    if (ab_args(argc, argv, csvae_path_supported(CSVAE_PATH_AVX512), "AVX-512", &n, &rounds, &layers, "harness [n >= 1] [rounds 1...1000] [layers 1...16] [wp_max] [blas 0/1]")) return 2;
    size_t wp_max = argc > 4 ? (size_t)atoi(argv[4]) : 24;
    int blas = argc > 5 ? atoi(argv[5]) : 0;
    openblas_set_num_threads(1);
    const size_t *R = AB_ROWS, *C = AB_COLS;
    int nm = 0;
    float *w[64], *wpa[64], *wpb[64], *ya[64], *yb[64], *yc[64];
    float *x, *bias;
    ab_inputs(n, &x, &bias);
    for (int l = 0; l < layers; l++)
        for (int m = 0; m < 4; m++) {
            w[nm] = aligned_alloc(64, R[m] * C[m] * sizeof(float));
            for (size_t i = 0; i < R[m] * C[m]; i++) w[nm][i] = ab_frand() * 0.1f;
            wpa[nm] = n <= wp_max ? pack_a(w[nm], R[m], C[m]) : NULL;
            wpb[nm] = n <= wp_max ? pack_b(w[nm], R[m], C[m]) : NULL;
            ya[nm] = malloc(n * R[m] * sizeof(float)), yb[nm] = malloc(n * R[m] * sizeof(float));
            yc[nm] = malloc(n * R[m] * sizeof(float));
            nm++;
        }
    double ta[1000][4] = {{0}}, tb[1000][4] = {{0}}, tc[1000][4] = {{0}}, peak = 0;
    for (int r = 0; r < rounds; r++) {
        for (int m = 0; m < nm; m++) {
            int s = m % 4, relu = m % 2, order = (r + m) % (blas ? 3 : 2);
            for (int q = 0; q < (blas ? 3 : 2); q++) {
                int side = (q + order) % (blas ? 3 : 2);
                if (side == 0) ta[r][s] += run_a(w[m], wpa[m], R[s], C[s], x, ya[m], n, bias, relu, wp_max);
                else if (side == 1) tb[r][s] += run_b(w[m], wpb[m], R[s], C[s], x, yb[m], n, bias, relu, wp_max);
                else tc[r][s] += run_blas(w[m], R[s], C[s], x, yc[m], n);
            }
        }
        double t0 = ab_now(), ops = csvae_probe_peak(1, 200000), t = ab_now() - t0;
        peak = ops / t > peak ? ops / t : peak;
    }
    int same = 1;
    for (int m = 0; m < nm; m++) same &= memcmp(ya[m], yb[m], n * R[m % 4] * sizeof(float)) == 0;
    printf("n %zu (%s), %d layers, %d rounds, f32 peak %.0f GFLOP/s; GFLOP/s (best round) A -> B [median A/B]%s:\n", n,
           n <= wp_max ? "weights' panel copy" : "activation panels", layers, rounds, peak / 1e9,
           blas ? ", OpenBLAS" : "");
    double all = 0, pa[1000], pb[1000], pc[1000];
    for (int r = 0; r < rounds; r++) pa[r] = pb[r] = pc[r] = 0;
    for (int s = 0; s < 4; s++) {
        double ops = 2.0 * (double)n * (double)R[s] * (double)C[s] * layers, ba = 1e30, bb = 1e30, bc = 1e30, rat[1000];
        all += ops;
        for (int r = 0; r < rounds; r++) {
            ba = ta[r][s] < ba ? ta[r][s] : ba, bb = tb[r][s] < bb ? tb[r][s] : bb, bc = tc[r][s] < bc ? tc[r][s] : bc;
            rat[r] = ta[r][s] / tb[r][s];
            pa[r] += ta[r][s], pb[r] += tb[r][s], pc[r] += tc[r][s];
        }
        printf("  %zux%zu %.0f -> %.0f [%.3f]", R[s], C[s], ops / ba / 1e9, ops / bb / 1e9, ab_median(rat, rounds));
        if (blas) printf(", %.0f", ops / bc / 1e9);
        printf("\n");
    }
    double ba = 1e30, bb = 1e30, bc = 1e30, rat[1000];
    for (int r = 0; r < rounds; r++) {
        ba = pa[r] < ba ? pa[r] : ba, bb = pb[r] < bb ? pb[r] : bb, bc = pc[r] < bc ? pc[r] : bc;
        rat[r] = pa[r] / pb[r];
    }
    printf("  whole pass %.0f -> %.0f [%.3f] (%.0f%% -> %.0f%% of peak)", all / ba / 1e9, all / bb / 1e9, ab_median(rat, rounds),
           100 * all / ba / peak, 100 * all / bb / peak);
    if (blas) printf(", OpenBLAS (%s) %.0f", openblas_get_corename(), all / bc / 1e9);
    printf(" | outputs %s\n", same ? "bit-identical" : "DIFFER");
    return same ? 0 : 1;
}
