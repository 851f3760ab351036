/*
 * encode.c: open a SentenceVAE model with the C API, encode sentences to vectors and
 * reconstruct them (encode, then greedy decode).
 *
 *   gcc -std=c99 encode.c $(pkg-config --cflags --libs svae) -o encode
 *   ./encode MODEL.svae ["sentence" ...]
 *
 * Output, one block per sentence:
 *   vector[i]: d values (%.6g)
 *   reconstruct[i]: exact=0|1 output=<text>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svae.h"

static void log_to_stderr(int level, const char *text, void *user_data) {
    (void)user_data;
    if (level <= SVAE_LOG_WARN) fprintf(stderr, "svae: %s\n", text);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.svae [sentence ...]\n", argv[0]);
        return 2;
    }
    static const char *defaults[] = {"Hello there.", "the end"};
    const char *const *texts = argc > 2 ? (const char *const *)(argv + 2) : defaults;
    int32_t n_texts = argc > 2 ? (int32_t)(argc - 2) : 2;

    svae_set_log_callback(log_to_stderr, NULL);
    char error[512];
    svae_model_params mp = svae_model_default_params();
    svae_model *model = svae_model_load(argv[1], &mp, error, sizeof error);
    if (!model) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], error);
        return 1;
    }
    svae_context_params cp = svae_context_default_params();
    svae_context *ctx = svae_context_new(model, &cp);
    if (!ctx) {
        svae_model_free(model);
        return 1;
    }
    printf("model: %s, hidden %d, vocab %d, max_seq_len %d, weights %s\n", svae_model_architecture(model),
           svae_model_hidden_size(model), svae_model_n_vocab(model), svae_model_max_seq_len(model),
           svae_model_type_summary(model));

    /* Size query, then the real call: out is [n_texts][hidden]. */
    int status = 1;
    size_t needed = 0;
    float *vectors = NULL;
    char *text = NULL;
    int rc = svae_encode_texts(ctx, texts, n_texts, NULL, 0, &needed);
    if (rc != SVAE_OK && rc != SVAE_ERR_BUFFER_TOO_SMALL) goto fail;
    vectors = malloc((needed ? needed : 1) * sizeof *vectors);
    if (!vectors) goto fail;
    if ((rc = svae_encode_texts(ctx, texts, n_texts, vectors, needed, &needed)) != SVAE_OK) goto fail;

    size_t d = (size_t)svae_model_hidden_size(model);
    size_t text_cap = 256;
    text = malloc(text_cap);
    if (!text) goto fail;
    for (int32_t i = 0; i < n_texts; i++) {
        printf("vector[%d]:", (int)i);
        for (size_t j = 0; j < d; j++) printf(" %.6g", vectors[(size_t)i * d + j]);
        printf("\n");
        size_t n = 0;
        int32_t exact = 0;
        rc = svae_reconstruct(ctx, texts[i], text, text_cap, &n, &exact);
        if (rc == SVAE_ERR_BUFFER_TOO_SMALL) { /* grow to the needed size (+ NUL) and retry */
            char *bigger = realloc(text, n + 1);
            if (!bigger) goto fail;
            text = bigger;
            text_cap = n + 1;
            rc = svae_reconstruct(ctx, texts[i], text, text_cap, &n, &exact);
        }
        if (rc != SVAE_OK) goto fail;
        printf("reconstruct[%d]: exact=%d output=%s\n", (int)i, (int)exact, text);
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "error %d (%s): %s\n", rc, svae_status_string(rc), svae_context_last_error(ctx));
done:
    free(text);
    free(vectors);
    svae_context_free(ctx);
    svae_model_free(model);
    return status;
}
