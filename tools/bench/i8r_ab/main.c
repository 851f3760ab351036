// i8r A/B harness (run.sh): the AVX-512 batched kernel of two builds of i8r.c (A, B) on the
// SVAE-768 encoder's products (per layer 2304x768, 768x768, 1536x768, 768x1536; weights of all
// layers distinct, so they stream from L3 as in the encode), n activation rows, alternated
// product by product in one process (this VM's slow phases hit both sides). Prints, per shape,
// the best time of each side as % of the int8 peak probed in the same run (B's
// csvae_probe_peak), the whole pass likewise, and checks that A and B wrote the same bits.
// The whole-pass figure is also given as the median over rounds of the round's A time ÷ B time
// (both sides of a round share the VM's slow phases).
//   usage: harness [n=1024] [rounds=9] [layers=4] [paired|cold|lmhead]
// paired (default): A and B alternate product by product on the same weights (the second run
// of a pair may find them in L2); cold: one side's whole pass, then the other's; lmhead: the
// 50272 x 768 vocabulary projection alone (39 MB: from L3 or memory on both sides; batched
// decoding's largest product; no bias), A and B alternated, layers ignored.
#include "csvae_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ab_common.h"

int csvae_path_supported(int path) { return path == CSVAE_PATH_AVX512 ? __builtin_cpu_supports("avx512vnni") : 1; }
double run_a(const uint8_t **, const size_t *, const size_t *, int, const float *, float **, size_t, const float *);
double run_b(const uint8_t **, const size_t *, const size_t *, int, const float *, float **, size_t, const float *);

int main(int argc, char **argv) {
    if (!csvae_path_supported(CSVAE_PATH_AVX512)) {
        fprintf(stderr, "harness: this CPU has no AVX-512 VNNI\n");
        return 2;
    }
    size_t n = 1024;
    int rounds = 9, layers = 4;
    const char *usage = "harness [n >= 1] [rounds 1...1000] [layers 1...16] [paired|cold|lmhead]";
    if (ab_args(argc, argv, csvae_path_supported(CSVAE_PATH_AVX512), "AVX-512 VNNI", &n, &rounds, &layers, usage)) return 2;
    if (argc > 4 && strcmp(argv[4], "cold") != 0 && strcmp(argv[4], "paired") != 0 && strcmp(argv[4], "lmhead") != 0) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    int cold = argc > 4 && strcmp(argv[4], "cold") == 0;
    static const size_t LM_ROWS[1] = {50272}, LM_COLS[1] = {768};
    int lmhead = argc > 4 && strcmp(argv[4], "lmhead") == 0, kinds = lmhead ? 1 : 4;
    const size_t *R = lmhead ? LM_ROWS : AB_ROWS, *C = lmhead ? LM_COLS : AB_COLS;
    if (lmhead) layers = 1;
    int nm = 0;
    const uint8_t *w[64];
    size_t rows[64], cols[64];
    float *ya[64], *yb[64];
    float *x, *bias;
    ab_inputs(n, &x, &bias);
    for (int l = 0; l < layers; l++)
        for (int m = 0; m < kinds; m++) {
            w[nm] = ab_i8r_weights(R[m], C[m]), rows[nm] = R[m], cols[nm] = C[m];
            ya[nm] = malloc(n * R[m] * sizeof(float)), yb[nm] = malloc(n * R[m] * sizeof(float));
            nm++;
        }
    double *ratio = malloc((size_t)rounds * sizeof(double));
    double ba[4] = {1e30, 1e30, 1e30, 1e30}, bb[4] = {1e30, 1e30, 1e30, 1e30}, pass_a = 1e30, pass_b = 1e30, peak = 0;
    for (int r = 0; r < rounds; r++) {
        double sa = 0, sb = 0;
        if (cold) {
            // a whole pass of one side, then of the other (order alternating by round): with the
            // layers' weights past L2, each product finds its weights in L3 on both sides, as
            // in the encode (paired runs of one product give the second side warm weights)
            for (int side = 0; side < 2; side++) {
                int b_side = (r + side) % 2;
                for (int m = 0; m < nm; m++) {
                    double t = b_side ? run_b(w + m, rows + m, cols + m, 1, x, yb + m, n, lmhead ? NULL : bias)
                                      : run_a(w + m, rows + m, cols + m, 1, x, ya + m, n, lmhead ? NULL : bias);
                    double *best = b_side ? bb : ba;
                    best[m % kinds] = t < best[m % kinds] ? t : best[m % kinds];
                    *(b_side ? &sb : &sa) += t;
                }
            }
        } else {
            for (int m = 0; m < nm; m++) {
                double ta, tb;
                if ((r + m) % 2) {
                    ta = run_a(w + m, rows + m, cols + m, 1, x, ya + m, n, lmhead ? NULL : bias);
                    tb = run_b(w + m, rows + m, cols + m, 1, x, yb + m, n, lmhead ? NULL : bias);
                } else {
                    tb = run_b(w + m, rows + m, cols + m, 1, x, yb + m, n, lmhead ? NULL : bias);
                    ta = run_a(w + m, rows + m, cols + m, 1, x, ya + m, n, lmhead ? NULL : bias);
                }
                ba[m % kinds] = ta < ba[m % kinds] ? ta : ba[m % kinds];
                bb[m % kinds] = tb < bb[m % kinds] ? tb : bb[m % kinds];
                sa += ta, sb += tb;
            }
        }
        ratio[r] = sa / sb;
        pass_a = sa < pass_a ? sa : pass_a;
        pass_b = sb < pass_b ? sb : pass_b;
        double t0 = ab_now(), ops = csvae_probe_peak(0, 200000), t = ab_now() - t0;
        peak = ops / t > peak ? ops / t : peak;
    }
    int same = 1;
    for (int m = 0; m < nm; m++) same &= memcmp(ya[m], yb[m], n * rows[m] * sizeof(float)) == 0;
    printf("n %zu, %d layers, %d rounds, %s, int8 peak %.0f GOP/s; best time as %% of peak, A -> B:", n, layers, rounds, lmhead ? "LM head" : cold ? "cold (whole passes alternated)" : "paired", peak / 1e9);
    double all = 0;
    for (int m = 0; m < kinds; m++) {
        double ops = 2.0 * (double)n * (double)R[m] * (double)C[m];
        all += ops * layers;
        printf("  %zux%zu %.0f%% -> %.0f%%", R[m], C[m], 100 * ops / ba[m] / peak, 100 * ops / bb[m] / peak);
    }
    double med = ab_median(ratio, rounds);  // sorted: the quartiles follow
    printf("  | whole pass %.0f%% -> %.0f%%, B's speed-up median of rounds %.3f (middle half %.3f-%.3f) | outputs %s\n",
           100 * all / pass_a / peak, 100 * all / pass_b / peak, med, ratio[rounds / 4], ratio[3 * rounds / 4],
           same ? "bit-identical" : "DIFFER");
    return same ? 0 : 1;
}
