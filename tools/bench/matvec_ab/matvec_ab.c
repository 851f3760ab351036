// A/B of csvae_matvec_quant_avx512 (q4_0 and q8_0, n = 1) on the SVAE-768 LM head [50272, 768],
// one thread: "old" = a matvec.c built with its entry points renamed old_* (e.g. main's),
// "new" = the tree's. First checks, for q4_0 and q8_0, n = 1..3 and several row ranges
// (partial 16-row groups, odd starts), that both write the same bits; then per round times
// old and new alternately (order swapped each round), hot (weights just read by one
// unmeasured call of each, in L3) and cold
// (rotated copies >= 768 MB, from DRAM), and prints medians of the per-round new/old ratios.
// Build and run: tools/bench/matvec_ab/run.sh <old matvec.c> [rounds]
#include "csvae_kernels.h"
#include "matvec.h"
#include "../ab_common.h"
#include <string.h>
int old_matvec_quant_avx512(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n, size_t r0,
                            size_t r1, size_t cols);
typedef int (*mv_fn)(float *, size_t, const uint8_t *, int, const csvae_qact *, size_t, size_t, size_t, size_t);
static double median(double *v, int k) { qsort(v, k, sizeof *v, ab_cmpd); return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2; }
int main(int argc, char **argv) {
    size_t rows = 50272, cols = 768, n3 = 3;
    int reps = argc > 1 ? atoi(argv[1]) : 15;
    float *src = malloc(rows * cols * 4), *x = malloc(n3 * cols * 4);
    float *ya = malloc(n3 * rows * 4 + 64), *yb = malloc(n3 * rows * 4 + 64);
    srand(1);
    for (size_t i = 0; i < rows * cols; i++) src[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.1f;
    for (size_t i = 0; i < n3 * cols; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    const int types[2] = {CSVAE_Q4_0, CSVAE_Q8_0};
    const char *tname[2] = {"q4_0", "q8_0"};
    uint8_t **w[2];
    int nc[2];
    csvae_qact qa[2];
    size_t bad;
    for (int ti = 0; ti < 2; ti++) {
        size_t b = rows * csvae_row_bytes(types[ti], cols);
        nc[ti] = (int)(768e6 / b) + 1;
        w[ti] = malloc(nc[ti] * sizeof *w[ti]);
        for (int c = 0; c < nc[ti]; c++) {
            w[ti][c] = aligned_alloc(64, (b + 63) / 64 * 64);
            if (c == 0) {
                if (types[ti] == CSVAE_Q4_0) csvae_quantize_q4_0(w[ti][0], src, rows * cols, CSVAE_PATH_SCALAR, &bad);
                else csvae_quantize_q8_0(w[ti][0], src, rows * cols, CSVAE_PATH_SCALAR, &bad);
            } else memcpy(w[ti][c], w[ti][0], b);
        }
        void *qs = aligned_alloc(64, (csvae_qact_bytes(n3, cols) + 63) / 64 * 64);
        qa[ti] = csvae_qact_bind(qs, n3, cols);
        csvae_qact_quantize(&qa[ti], x, types[ti], n3, cols);
    }
    // bit-identity check
    size_t ranges[][2] = {{0, 50272}, {0, 1}, {3, 20}, {17, 50}, {50255, 50272}, {50260, 50271}, {1000, 1016}};
    long diffs = 0, checked = 0;
    for (int ti = 0; ti < 2; ti++)
        for (size_t n = 1; n <= 3; n++)
            for (size_t k = 0; k < sizeof ranges / sizeof *ranges; k++) {
                size_t r0 = ranges[k][0], r1 = ranges[k][1];
                for (size_t i = 0; i < n3 * rows + 16; i++) ya[i] = yb[i] = -7.0f;
                int oa = old_matvec_quant_avx512(ya, rows, w[ti][0], types[ti], &qa[ti], n, r0, r1, cols);
                int ob = csvae_matvec_quant_avx512(yb, rows, w[ti][0], types[ti], &qa[ti], n, r0, r1, cols);
                if (oa != 1 || ob != 1) { printf("kernel declined (%d %d)\n", oa, ob); return 1; }
                diffs += memcmp(ya, yb, (n3 * rows + 16) * 4) != 0;
                checked++;
            }
    printf("bit-identity: %ld of %ld calls (q4_0/q8_0, n 1..3, 7 row ranges) differ in any output byte\n", diffs, checked);
    if (diffs) return 1;
    // timing: k = type*2 + cold
    mv_fn fn[2] = {old_matvec_quant_avx512, csvae_matvec_quant_avx512};
    double *ratio[4], *tm[4][2];
    for (int k = 0; k < 4; k++) {
        ratio[k] = malloc(reps * sizeof(double));
        for (int v = 0; v < 2; v++) tm[k][v] = malloc(reps * sizeof(double));
    }
    for (int r = 0; r < reps + 2; r++) {  // 2 unmeasured rounds
        for (int k = 0; k < 4; k++) {
            int ti = k / 2, cold = k % 2;
            double dt[2];
            if (!cold)  // hot: both unmeasured first (the first call after a cold run is slower)
                for (int v = 0; v < 2; v++) fn[v](ya, rows, w[ti][0], types[ti], &qa[ti], 1, 0, rows, cols);
            for (int s = 0; s < 2; s++) {
                int v = (r + s) % 2;  // alternate which goes first
                int c = cold ? (2 * r + s) % nc[ti] : 0;
                double t0 = ab_now();
                fn[v](ya, rows, w[ti][c], types[ti], &qa[ti], 1, 0, rows, cols);
                dt[v] = ab_now() - t0;
            }
            if (getenv("MATVEC_AB_VERBOSE") && k == 0) printf("round %d %s first: old %.3f new %.3f\n", r, r % 2 ? "new" : "old", dt[0] * 1e3, dt[1] * 1e3);
            if (r >= 2) { ratio[k][r - 2] = dt[1] / dt[0]; tm[k][0][r - 2] = dt[0]; tm[k][1][r - 2] = dt[1]; }
        }
    }
    for (int k = 0; k < 4; k++) {
        double mo = median(tm[k][0], reps), mn = median(tm[k][1], reps), mr = median(ratio[k], reps);
        printf("%s %-4s n=1: old median %.3f ms, new %.3f ms, median new/old ratio %.3f (%d rounds)\n", tname[k / 2],
               k % 2 ? "cold" : "hot", mo * 1e3, mn * 1e3, mr, reps);
    }
    return 0;
}
