/*
 * soak.c: a soak test of the C API (not CI). N threads share one model, each with its own
 * context, and loop over a mix of tokenize, detokenize, encode, decode, reconstruct and
 * deliberately bad calls for a given time. Prints calls/s, unexpected results, and the
 * process RSS every 30 s; the RSS after warm-up and at the end should stay flat.
 *
 *   gcc -O2 -std=c11 -pthread tools/soak/soak.c -I Sources/CSVAEAPI/include -L DIR -lSVAECAPI -o soak
 *   ./soak MODEL.svae [SECONDS=600] [THREADS=8]
 * Exit status 0 only when every call returned what it should.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svae.h"

static const svae_model *model;
static atomic_int stop;
static atomic_long calls, ok_calls, expected_errors, unexpected;
static int want_encode[64], want_reconstruct[64]; /* each text's status, measured once before the threads start */

static const char *texts[] = {
    "Hello there.", "the end", "a b c", "x", "Ünïcödé text, with punctuation!", "", "   ",
    "A somewhat longer sentence that will be cut at the model's maximum sequence length for sure, "
    "because it keeps going and going with more and more words until it stops.",
};
#define N_TEXTS (int)(sizeof texts / sizeof texts[0])

static void fail(int tid, const char *what, int rc, svae_context *ctx) {
    atomic_fetch_add(&unexpected, 1);
    fprintf(stderr, "thread %d: %s returned %d (%s): %s\n", tid, what, rc, svae_status_string(rc),
            ctx ? svae_context_last_error(ctx) : "");
}

/* rc must equal `want`. */
static void expect(int tid, const char *what, int rc, int want, svae_context *ctx) {
    atomic_fetch_add(&calls, 1);
    if (rc != want) { fail(tid, what, rc, ctx); return; }
    if (rc == SVAE_OK) atomic_fetch_add(&ok_calls, 1); else atomic_fetch_add(&expected_errors, 1);
}

static void *worker(void *arg) {
    int tid = (int)(intptr_t)arg;
    svae_context_params cp = svae_context_default_params();
    cp.n_threads = 1;
    svae_context *ctx = svae_context_new(model, &cp);
    if (!ctx) { fail(tid, "svae_context_new", -1, NULL); return NULL; }
    int32_t d = svae_model_hidden_size(model), L = svae_model_max_seq_len(model);
    int32_t vocab = svae_model_n_vocab(model);
    float *vec = malloc(sizeof(float) * (size_t)d * N_TEXTS);
    int32_t *ids = malloc(sizeof(int32_t) * 4096);
    char text[8192];
    size_t n0 = 0;
    if (svae_encode_texts(ctx, texts, 1, vec, (size_t)d, &n0) != SVAE_OK) fail(tid, "first encode", -1, ctx);
    uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(tid + 1);
    size_t n = 0;
    int32_t exact = 0;
    for (uint64_t i = 0; !atomic_load(&stop); i++) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        int ti = (int)(rng % N_TEXTS);
        const char *t = texts[ti];
        switch (i % 10) {
        case 0:
            expect(tid, "tokenize", svae_tokenize(ctx, t, ids, 4096, &n), SVAE_OK, ctx);
            break;
        case 1: {
            int rc = svae_tokenize(ctx, t, ids, 4096, &n);
            expect(tid, "tokenize", rc, SVAE_OK, ctx);
            expect(tid, "detokenize", svae_detokenize(ctx, ids, (int32_t)n, text, sizeof text, &n), SVAE_OK, ctx);
            break;
        }
        case 2:
            expect(tid, "encode_texts", svae_encode_texts(ctx, &t, 1, vec + d, (size_t)d, &n), want_encode[ti], ctx);
            break;
        case 3: {
            svae_decode_params dp = svae_decode_default_params();
            if (rng & 1) { dp.temperature = 0.8f; dp.top_k = 20; dp.seed = rng; }
            expect(tid, "decode", svae_decode(ctx, vec, d, &dp, ids, 4096, &n, text, sizeof text, &n), SVAE_OK, ctx);
            break;
        }
        case 4:
            expect(tid, "reconstruct", svae_reconstruct(ctx, t, text, sizeof text, &n, &exact), want_reconstruct[ti], ctx);
            break;
        case 5: {
            svae_span spans[64];
            expect(tid, "split_sentences", svae_split_sentences(ctx, "One. Two! Three? four", 64, 1, spans, 64, &n), SVAE_OK, ctx);
            break;
        }
        /* bad calls: each must fail with its documented status and leave the context usable */
        case 6:
            expect(tid, "encode_texts(small buffer)", svae_encode_texts(ctx, texts, 2, vec, 1, &n), SVAE_ERR_BUFFER_TOO_SMALL, ctx);
            expect(tid, "encode_texts(NULL ctx)", svae_encode_texts(NULL, texts, 1, vec, (size_t)d, &n), SVAE_ERR_INVALID_ARGUMENT, NULL);
            break;
        case 7: {
            int32_t bad[3] = {0, vocab + 5, -1};
            expect(tid, "detokenize(bad ids)", svae_detokenize(ctx, bad, 3, text, sizeof text, &n), SVAE_ERR_OUT_OF_RANGE, ctx);
            break;
        }
        case 8: {
            const int32_t *seqs[1] = {ids};
            int32_t len[1] = {L + 1};
            for (int32_t k = 0; k < L + 1; k++) ids[k] = 1;
            int rc = svae_encode_ids(ctx, seqs, len, 1, vec, (size_t)d, &n);
            expect(tid, "encode_ids(too long)", rc == SVAE_OK ? 0 : 1, 1, ctx);
            expect(tid, "decode(wrong n_vector)", svae_decode(ctx, vec, d - 1, NULL, ids, 4096, &n, NULL, 0, NULL) == SVAE_OK ? 0 : 1, 1, ctx);
            break;
        }
        case 9:
            expect(tid, "reconstruct(NULL text)", svae_reconstruct(ctx, NULL, text, sizeof text, &n, &exact), SVAE_ERR_INVALID_ARGUMENT, ctx);
            expect(tid, "reconstruct(small buffer)", svae_reconstruct(ctx, texts[0], text, 1, &n, &exact), SVAE_ERR_BUFFER_TOO_SMALL, ctx);
            break;
        }
    }
    svae_context_free(ctx);
    free(vec);
    free(ids);
    return NULL;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
    if (f) fclose(f);
    return kb;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.svae [SECONDS=600] [THREADS=8]\n", argv[0]); return 2; }
    int secs = argc > 2 ? atoi(argv[2]) : 600, nthreads = argc > 3 ? atoi(argv[3]) : 8;
    char error[512];
    svae_model_params mp = svae_model_default_params();
    mp.n_threads = 1;
    model = svae_model_load(argv[1], &mp, error, sizeof error);
    if (!model) { fprintf(stderr, "cannot load %s: %s\n", argv[1], error); return 1; }
    {
        svae_context *c = svae_context_new(model, NULL);
        int32_t d = svae_model_hidden_size(model);
        float *v = malloc(sizeof(float) * (size_t)d);
        char out[8192];
        size_t n;
        for (int i = 0; i < N_TEXTS; i++) {
            want_encode[i] = svae_encode_texts(c, &texts[i], 1, v, (size_t)d, &n);
            want_reconstruct[i] = svae_reconstruct(c, texts[i], out, sizeof out, &n, NULL);
            printf("text %d: encode %s, reconstruct %s\n", i, svae_status_string(want_encode[i]),
                   svae_status_string(want_reconstruct[i]));
        }
        free(v);
        svae_context_free(c);
    }
    long rss0 = rss_kb();
    pthread_t th[256];
    if (nthreads < 1 || nthreads > 256) return 2;
    double t0 = now();
    for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    long rss_warm = -1;
    int warm = secs < 60 ? secs / 4 : 30;
    for (int s = 1; s <= secs; s++) {
        sleep(1);
        if (s == warm) rss_warm = rss_kb();
        if (s % 30 == 0 || s == secs)
            printf("t=%4ds calls=%ld (%.0f/s) ok=%ld expected_errors=%ld unexpected=%ld rss=%ld KB\n", s,
                   atomic_load(&calls), atomic_load(&calls) / (now() - t0), atomic_load(&ok_calls),
                   atomic_load(&expected_errors), atomic_load(&unexpected), rss_kb());
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double dt = now() - t0;
    long rss_end = rss_kb();
    printf("threads=%d seconds=%.0f calls=%ld calls/s=%.0f ok=%ld expected_errors=%ld unexpected=%ld\n", nthreads, dt,
           atomic_load(&calls), atomic_load(&calls) / dt, atomic_load(&ok_calls), atomic_load(&expected_errors),
           atomic_load(&unexpected));
    printf("rss KB: after load %ld, after %ds warm-up %ld, at end %ld (end - warm-up %+ld KB)\n", rss0, warm, rss_warm,
           rss_end, rss_end - rss_warm);
    svae_model_free((svae_model *)model);
    return atomic_load(&unexpected) == 0 ? 0 : 1;
}
