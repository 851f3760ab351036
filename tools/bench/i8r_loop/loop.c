// i8r loop harness (run.sh): the working tree's AVX-512 i8r kernel in plain C loops, one thread,
// to see what bounds it outside the runtime. Three modes:
//
//   loop product N ROWS COLS CALLS [COPIES]
//       one ROWS x COLS product of N activation rows, CALLS calls per batch, cycling through
//       COPIES distinct copies of the weights (so that they come from L3 or memory), activations
//       quantized once. Environment: ARGMAX=1 argmax mode (the greedy LM head: no logits
//       written), POLLUTE=MB reads MB of other memory between calls (untimed: what else a
//       decode step reads), FILEMAP=PATH weights through a shared file mapping (as the runtime
//       maps a model; PATH.0, PATH.1, ... are written, then removed).
//   loop encoder N PASSES
//       the svae-768-h4 encoder's 16 products (4 layers of 2304x768, 768x768, 1536x768,
//       768x1536, distinct weights, 18.9 MB) at N rows, each after quantizing its activations,
//       PASSES passes per batch: per shape, the mean time of its products and their share of
//       the probe; the whole pass.
//   loop step N STEPS [LAYERS=4]
//       a greedy decoder step of svae-768 at N rows: LAYERS layers of those four products, then
//       the 50272 x 768 LM head in argmax mode; per step the layers' and the head's time.
//
// Every mode runs 7 batches and prints the best and the median batch (this VM's slow phases
// move the median: compare runs of one build only on the best, or alternate builds as
// i8r_ab does), as GOP/s and as % of the int8 peak that csvae_probe_peak measures first.
#include "csvae_kernels.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../ab_common.h"

int csvae_path_supported(int path) { return path == CSVAE_PATH_AVX512 ? __builtin_cpu_supports("avx512vnni") : 1; }

#define BATCHES 7

/// The whole [rows, cols] product of the n activation rows quantized in `a` (argmax mode when
/// bv is set: the bests are reset first, as a decoder step does).
static void product(const csvae_i8r_act *a, const uint8_t *w, size_t rows, size_t cols, size_t n, float *y, float *bv,
                    int32_t *bi) {
    if (bv)
        for (size_t z = 0; z < n * CSVAE_I8R_PANEL_ROWS; z++) bv[z] = -INFINITY, bi[z] = 0;
    csvae_i8r_job j = {.y = y, .ldy = rows, .w = w, .a = a, .path = CSVAE_PATH_AVX512, .n = n, .rows = rows, .cols = cols,
                       .best_v = bv, .best_i = bi};
    csvae_i8r_rows(&j, 0, rows);
}

static void report(const char *what, double ops, double *t, double peak) {
    double med = ab_median(t, BATCHES), best = t[0];  // ab_median sorts t
    printf("%s: best %.3f ms %.0f GOP/s (%.0f %% of the probe), median %.3f ms (%.0f %%)\n", what, best * 1e3, ops / best / 1e9,
           100 * ops / best / peak, med * 1e3, 100 * ops / med / peak);
}

int main(int argc, char **argv) {
    const char *usage = "loop product N ROWS COLS CALLS [COPIES] | loop encoder N PASSES | loop step N STEPS [LAYERS]";
    if (!csvae_path_supported(CSVAE_PATH_AVX512)) {
        fprintf(stderr, "loop: this CPU has no AVX-512 VNNI\n");
        return 2;
    }
    int mode = argc > 1 ? (!strcmp(argv[1], "product") ? 1 : !strcmp(argv[1], "encoder") ? 2 : !strcmp(argv[1], "step") ? 3 : 0) : 0;
    long v[5] = {0, 0, 0, 0, 0};
    int need = mode == 1 ? 4 : 2;
    for (int i = 0; i < argc - 2 && i < 5; i++) v[i] = atol(argv[i + 2]);
    if (!mode || argc - 2 < need || v[0] < 1 || v[0] > 4096 || v[1] < 1) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    srand(1);
    size_t n = (size_t)v[0];
    double t0 = ab_now(), peak = csvae_probe_peak(0, 20000000);
    peak /= ab_now() - t0;
    float *x = malloc(n * 3072 * sizeof(float)), *y = malloc(n * 50272 * sizeof(float));
    for (size_t i = 0; i < n * 3072; i++) x[i] = ab_frand();
    void *scratch = aligned_alloc(64, (csvae_i8r_act_bytes(n, 3072) + 63) / 64 * 64);
    float *bv = malloc(n * CSVAE_I8R_PANEL_ROWS * sizeof(float));
    int32_t *bi = malloc(n * CSVAE_I8R_PANEL_ROWS * sizeof(int32_t));
    if (!x || !y || !scratch || !bv || !bi) {
        fprintf(stderr, "loop: out of memory\n");
        return 2;
    }
    double t[BATCHES];
    const size_t *R = AB_ROWS, *C = AB_COLS;  // the svae-768 layer's four products
    printf("int8 peak %.0f GOP/s (csvae_probe_peak, one thread); %s\n", peak / 1e9, argv[1]);

    if (mode == 1) {
        size_t rows = (size_t)v[1], cols = (size_t)v[2], calls = (size_t)v[3], copies = v[4] > 0 ? (size_t)v[4] : 1;
        if (cols % 4 || cols > 3072 || rows > 50272 || calls < 1 || copies > 256) {
            fprintf(stderr, "loop product: COLS a multiple of 4 up to 3072, ROWS up to 50272, COPIES up to 256\n");
            return 2;
        }
        uint8_t *w[256];
        size_t bytes = csvae_i8r_bytes(rows, cols);
        const char *map = getenv("FILEMAP");
        for (size_t c = 0; c < copies; c++) {
            w[c] = ab_i8r_weights(rows, cols);
            if (map) {
                char path[4096];
                snprintf(path, sizeof path, "%s.%zu", map, c);
                int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || write(fd, w[c], bytes) != (ssize_t)bytes) {
                    fprintf(stderr, "loop: cannot write %s: %s\n", path, strerror(errno));
                    return 2;
                }
                free(w[c]);
                w[c] = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
                close(fd);
                unlink(path);
                if (w[c] == MAP_FAILED) {
                    fprintf(stderr, "loop: cannot map %s: %s\n", path, strerror(errno));
                    return 2;
                }
            }
        }
        size_t pol = getenv("POLLUTE") ? (size_t)atol(getenv("POLLUTE")) << 20 : 0;
        volatile uint8_t *other = pol ? calloc(pol, 1) : NULL;
        csvae_i8r_act a = csvae_i8r_act_bind(scratch, n, cols, CSVAE_PATH_AVX512);
        csvae_i8r_act_quantize(&a, x, n, cols);
        int argmax = getenv("ARGMAX") != NULL;
        for (int b = 0; b < BATCHES; b++) {
            double spent = 0;
            for (size_t k = 0; k < calls; k++) {
                if (pol) {
                    unsigned sum = 0;
                    for (size_t o = 0; o < pol; o += 64) sum += other[o];
                    other[0] = (uint8_t)sum;
                }
                double s = ab_now();
                product(&a, w[k % copies], rows, cols, n, y, argmax ? bv : NULL, bi);
                spent += ab_now() - s;
            }
            t[b] = spent;
        }
        char what[256];
        snprintf(what, sizeof what, "%zu rows x %zu x %zu, %zu copies (%.1f MB)%s%s, POLLUTE %zu MB, %zu calls", n, rows, cols,
                 copies, copies * bytes / 1e6, argmax ? ", argmax" : "", map ? ", file-mapped" : "", pol >> 20, calls);
        report(what, 2.0 * n * rows * cols * calls, t, peak);
        return 0;
    }

    if (mode == 2) {
        size_t passes = (size_t)v[1];
        uint8_t *w[16];
        for (int m = 0; m < 16; m++) w[m] = ab_i8r_weights(R[m % 4], C[m % 4]);
        double shape[4] = {0, 0, 0, 0}, ops = 0;
        for (int m = 0; m < 4; m++) ops += 4 * 2.0 * n * R[m] * C[m];
        for (int b = 0; b < BATCHES; b++) {
            double s = ab_now();
            for (size_t p = 0; p < passes; p++)
                for (int m = 0; m < 16; m++) {
                    csvae_i8r_act a = csvae_i8r_act_bind(scratch, n, C[m % 4], CSVAE_PATH_AVX512);
                    csvae_i8r_act_quantize(&a, x, n, C[m % 4]);
                    double q = ab_now();
                    product(&a, w[m], R[m % 4], C[m % 4], n, y, NULL, NULL);
                    shape[m % 4] += ab_now() - q;
                }
            t[b] = (ab_now() - s) / passes;
        }
        for (int m = 0; m < 4; m++) {
            double each = shape[m] / (4.0 * passes * BATCHES);
            printf("%zu x %zu: %.1f us per product (mean), %.0f %% of the probe\n", R[m], C[m], each * 1e6,
                   100 * 2.0 * n * R[m] * C[m] / each / peak);
        }
        char what[128];
        snprintf(what, sizeof what, "encoder pass, %zu rows (quantizing included)", n);
        report(what, ops, t, peak);
        return 0;
    }

    size_t steps = (size_t)v[1], layers = v[2] > 0 ? (size_t)v[2] : 4;
    if (layers > 12) {
        fprintf(stderr, "loop step: LAYERS up to 12\n");
        return 2;
    }
    uint8_t *w[48], *head = ab_i8r_weights(50272, 768);
    for (size_t m = 0; m < 4 * layers; m++) w[m] = ab_i8r_weights(R[m % 4], C[m % 4]);
    double tl[BATCHES], th[BATCHES], ol = 0;
    for (int m = 0; m < 4; m++) ol += layers * 2.0 * n * R[m] * C[m];
    for (int b = 0; b < BATCHES; b++) {
        tl[b] = th[b] = 0;
        for (size_t s = 0; s < steps; s++) {
            double a0 = ab_now();
            for (size_t m = 0; m < 4 * layers; m++) {
                csvae_i8r_act a = csvae_i8r_act_bind(scratch, n, C[m % 4], CSVAE_PATH_AVX512);
                csvae_i8r_act_quantize(&a, x, n, C[m % 4]);
                product(&a, w[m], R[m % 4], C[m % 4], n, y, NULL, NULL);
            }
            double a1 = ab_now();
            csvae_i8r_act a = csvae_i8r_act_bind(scratch, n, 768, CSVAE_PATH_AVX512);
            csvae_i8r_act_quantize(&a, x, n, 768);
            product(&a, head, 50272, 768, n, y, bv, bi);
            tl[b] += a1 - a0;
            th[b] += ab_now() - a1;
        }
    }
    char what[128];
    snprintf(what, sizeof what, "decoder step, %zu rows: %zu layers (per step)", n, layers);
    for (int b = 0; b < BATCHES; b++) tl[b] /= steps, th[b] /= steps;
    report(what, ol, tl, peak);
    snprintf(what, sizeof what, "decoder step, %zu rows: LM head, argmax (per step)", n);
    report(what, 2.0 * n * 50272 * 768, th, peak);
    return 0;
}
