// attention_ab (run.sh): loads two builds of ops.c (A, B) and compares csvae_attention_one,
// csvae_attention (key mask, not causal) and csvae_attention_sentences (the encoder's
// self-attention of a batch of sentences) output bits on the same random inputs. The AVX-512
// path is taken on both sides when the CPU has it (run.sh's stub says every path is supported).
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ab_common.h"

typedef void (*one_fn)(float *, float *, const float *, const float *, const float *, float, size_t, size_t, size_t, size_t);
typedef void (*many_fn)(float *, float *, const float *, const float *, const float *, const unsigned char *, int, float, size_t,
                        size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*sent_fn)(float *, size_t, float *, const float *, const float *, const float *, size_t, const size_t *, size_t,
                        size_t, size_t, float);
typedef size_t (*scratch_fn)(size_t, size_t);

static float frand(float lo, float hi) { return lo + (hi - lo) * (float)rand() / (float)RAND_MAX; }

/// Microseconds per sentence and layer of `f` on svae-768's encoder shape (8 sentences of 16
/// tokens, 12 heads of 64, q|k|v rows 2304 floats apart), mean of `calls` calls.
static double time_sentences(sent_fn f, scratch_fn z, const float *x, float *y, int calls) {
    size_t offsets[9];
    for (size_t s = 0; s <= 8; s++) offsets[s] = 16 * s;
    float *scratch = malloc(z(64, 64) * sizeof(float));
    double t = ab_now();
    for (int c = 0; c < calls; c++) f(y, 768, scratch, x, x + 768, x + 2 * 768, 2304, offsets, 8, 12, 64, 0.125f);
    t = (ab_now() - t) / calls / 8 * 1e6;
    free(scratch);
    return t;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: cmp A.so B.so [ROUNDS]\n");
        return 2;
    }
    void *a = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL), *b = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (!a || !b) {
        fprintf(stderr, "cmp: cannot load %s (did run.sh's build of it fail?)\n", a ? argv[2] : argv[1]);
        return 2;
    }
    one_fn oa = (one_fn)dlsym(a, "csvae_attention_one"), ob = (one_fn)dlsym(b, "csvae_attention_one");
    many_fn ma = (many_fn)dlsym(a, "csvae_attention"), mb = (many_fn)dlsym(b, "csvae_attention");
    sent_fn sa = (sent_fn)dlsym(a, "csvae_attention_sentences"), sb = (sent_fn)dlsym(b, "csvae_attention_sentences");
    scratch_fn za = (scratch_fn)dlsym(a, "csvae_attention_sentences_scratch"), zb = (scratch_fn)dlsym(b, "csvae_attention_sentences_scratch");
    if (!oa || !ob || !ma || !mb || !sa || !sb || !za || !zb) {
        fprintf(stderr, "cmp: an attention function is missing\n");
        return 2;
    }
    srand(3);
    int differ = 0, calls = 0;
    const size_t hds[] = {1, 8, 20, 64, 100};
    for (int hi = 0; hi < 5; hi++)
        for (size_t t = 1; t <= 40; t++)
            for (size_t heads = 1; heads <= 3; heads++) {
                size_t hd = hds[hi], w = heads * hd, ld = w + 3;
                float *q = malloc(w * 4), *k = malloc(t * ld * 4), *v = malloc(t * ld * 4);
                float *ya = calloc(w, 4), *yb = calloc(w, 4), *s = malloc(t * 4);
                unsigned char *mask = malloc(t);
                for (size_t i = 0; i < w; i++) q[i] = frand(-2, 2);
                for (size_t i = 0; i < t * ld; i++) k[i] = frand(-2, 2), v[i] = frand(-0.5f, 0.5f);
                for (size_t j = 0; j < t; j++) mask[j] = rand() % 3 != 0;
                oa(ya, s, q, k, v, 0.3f, ld, heads, hd, t);
                ob(yb, s, q, k, v, 0.3f, ld, heads, hd, t);
                differ += memcmp(ya, yb, w * 4) != 0, calls++;
                ma(ya, s, q, k, v, mask, 0, 0.3f, w, w, ld, heads, hd, 1, t);
                mb(yb, s, q, k, v, mask, 0, 0.3f, w, w, ld, heads, hd, 1, t);
                differ += memcmp(ya, yb, w * 4) != 0, calls++;
                free(q), free(k), free(v), free(ya), free(yb), free(s), free(mask);
            }
    // sentences of 1-40 positions (one to three per call, stride ld > heads * hd), each side with
    // its own scratch size
    for (int hi = 0; hi < 5; hi++)
        for (size_t heads = 1; heads <= 3; heads++)
            for (int trial = 0; trial < 40; trial++) {
                size_t hd = hds[hi], w = heads * hd, ld = 3 * w + 5, count = 1 + (size_t)(rand() % 3), offsets[4] = {0}, longest = 0;
                for (size_t c = 0; c < count; c++) {
                    size_t len = trial < 40 / 2 ? 1 + (size_t)trial : 1 + (size_t)(rand() % 40);
                    offsets[c + 1] = offsets[c] + len;
                    longest = len > longest ? len : longest;
                }
                size_t rows = offsets[count];
                float *x = malloc(rows * ld * 4), *ya = calloc(rows * w, 4), *yb = calloc(rows * w, 4);
                float *ssa = malloc(za(longest, hd) * 4), *ssb = malloc(zb(longest, hd) * 4);
                for (size_t i = 0; i < rows * ld; i++) x[i] = frand(-2, 2);
                sa(ya, w, ssa, x, x + w, x + 2 * w, ld, offsets, count, heads, hd, 0.3f);
                sb(yb, w, ssb, x, x + w, x + 2 * w, ld, offsets, count, heads, hd, 0.3f);
                differ += memcmp(ya, yb, rows * w * 4) != 0, calls++;
                free(x), free(ya), free(yb), free(ssa), free(ssb);
            }
    printf("%d of %d calls differ\n", differ, calls);
    if (argc == 4 && differ == 0) {
        // timing: rounds of A, B, B, A (a drift within a round cancels), 500 calls each
        int rounds = atoi(argv[3]) > 0 ? atoi(argv[3]) : 15;
        float *x = malloc(128 * 2304 * sizeof(float)), *y = malloc(128 * 768 * sizeof(float));
        for (size_t i = 0; i < 128 * 2304; i++) x[i] = frand(-2, 2);
        double *ta = malloc(rounds * sizeof(double)), *tb = malloc(rounds * sizeof(double)), *r = malloc(rounds * sizeof(double));
        time_sentences(sa, za, x, y, 100), time_sentences(sb, zb, x, y, 100);  // warm-up
        for (int k = 0; k < rounds; k++) {
            double a1 = time_sentences(sa, za, x, y, 500), b1 = time_sentences(sb, zb, x, y, 500);
            double b2 = time_sentences(sb, zb, x, y, 500), a2 = time_sentences(sa, za, x, y, 500);
            ta[k] = (a1 + a2) / 2, tb[k] = (b1 + b2) / 2, r[k] = ta[k] / tb[k];
        }
        qsort(ta, rounds, sizeof(double), ab_cmpd), qsort(tb, rounds, sizeof(double), ab_cmpd), qsort(r, rounds, sizeof(double), ab_cmpd);
        printf("csvae_attention_sentences, 8 sentences x 16 tokens, 12 heads x 64, %d rounds: A %.2f us, B %.2f us per "
               "sentence and layer (medians); A / B %.3f (middle half %.3f-%.3f)\n",
               rounds, ta[rounds / 2], tb[rounds / 2], r[rounds / 2], r[rounds / 4], r[(3 * rounds) / 4]);
        free(x), free(y), free(ta), free(tb), free(r);
    }
    return differ != 0;
}
