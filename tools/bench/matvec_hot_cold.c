// Matrix-vector products (n = 1) of the SVAE-768 LM head [50272, 768], q4_0
// (csvae_matvec_quant_avx512) and i8r (csvae_i8r_rows, svae-convert's q8 choice), one thread,
// with the weights hot (one matrix, just read: it stays in this host's 260 MB L3, as a decoder's
// weights do between steps) and cold (copies totalling >= 768 MB, rotated: from DRAM). Each
// round times q4_0 hot, q4_0 cold, i8r hot, i8r cold; medians over rounds. AVX-512 VNNI only.
//   clang -O2 -g -I Sources/CSVAEKernels/include -I Sources/CSVAEKernels tools/bench/matvec_hot_cold.c \
//       Sources/CSVAEKernels/*.c -o /tmp/matvec_hot_cold -lopenblas -lm -lpthread && /tmp/matvec_hot_cold 30
#include "csvae_kernels.h"
#include "matvec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    size_t rows = 50272, cols = 768, reps = argc > 1 ? atoi(argv[1]) : 40;
    float *src = malloc(rows * cols * 4), *x = malloc(cols * 4), *y = malloc(rows * 4 + 64);
    srand(1);
    for (size_t i = 0; i < rows * cols; i++) src[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.1f;
    for (size_t i = 0; i < cols; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    size_t b4 = rows * csvae_row_bytes(CSVAE_Q4_0, cols), bi = csvae_i8r_bytes(rows, cols), bad;
    int nc4 = (int)(768e6 / b4) + 1, nci = (int)(768e6 / bi) + 1;
    uint8_t **w4 = malloc(nc4 * sizeof *w4), **wi = malloc(nci * sizeof *wi);
    for (int c = 0; c < nc4; c++) { w4[c] = aligned_alloc(64, (b4 + 63) / 64 * 64); if (c == 0) csvae_quantize_q4_0(w4[0], src, rows * cols, CSVAE_PATH_SCALAR, &bad); else memcpy(w4[c], w4[0], b4); }
    for (int c = 0; c < nci; c++) { wi[c] = aligned_alloc(64, (bi + 63) / 64 * 64); if (c == 0) csvae_quantize_i8r(wi[0], src, rows, cols, &bad); else memcpy(wi[c], wi[0], bi); }
    void *qs = aligned_alloc(64, (csvae_qact_bytes(1, cols) + 63) / 64 * 64);
    csvae_qact qa = csvae_qact_bind(qs, 1, cols);
    csvae_qact_quantize(&qa, x, CSVAE_Q4_0, 1, cols);
    void *is = aligned_alloc(64, (csvae_i8r_act_bytes(1, cols) + 63) / 64 * 64);
    csvae_i8r_act ia = csvae_i8r_act_bind(is, 1, cols, CSVAE_PATH_AVX512);
    csvae_i8r_act_quantize(&ia, x, 1, cols);
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = malloc(reps * sizeof(double));
    for (size_t r = 0; r < reps + 2; r++) {  // 2 unmeasured rounds first
        for (int k = 0; k < 4; k++) {           // q4_0 hot, q4_0 cold, i8r hot, i8r cold
            int cold = k % 2, c = cold ? (int)(r % (k < 2 ? nc4 : nci)) : 0;
            double dt = 0;
            for (int call = cold ? 1 : 0; call < 2; call++) {  // hot: an unmeasured call first
                double t0 = now();
                if (k < 2) {
                    csvae_matvec_quant_avx512(y, rows, w4[c], CSVAE_Q4_0, &qa, 1, 0, rows, cols);
                } else {
                    csvae_i8r_job j = {y, rows, wi[c], &ia, NULL, 0, CSVAE_PATH_AVX512, 1, rows, cols};
                    csvae_i8r_rows(&j, 0, rows);
                }
                dt = now() - t0;
            }
            if (r >= 2) t[k][r - 2] = dt;
        }
    }
    const char *name[4] = {"q4_0 hot (L3)", "q4_0 cold (DRAM)", "i8r hot (L3)", "i8r cold (DRAM)"};
    size_t bytes[4] = {b4, b4, bi, bi};
    for (int k = 0; k < 4; k++) {
        qsort(t[k], reps, sizeof(double), cmp);
        double m = t[k][reps / 2];
        printf("%-18s median %.3f ms (best %.3f), %.1f GB/s, %.1f ns per row\n", name[k], m * 1e3, t[k][0] * 1e3, bytes[k] / m / 1e9, m / rows * 1e9);
    }
    return 0;
}
