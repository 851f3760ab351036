/*
 * svae.h: C API of the svae runtime (SentenceVAE, arXiv 2408.00655) on CPU.
 *
 * Plain C99, usable from C++. Link with libsvae.so (`pkg-config --cflags --libs svae`).
 *
 * THREAD SAFETY
 *   - svae_model is read-only once loaded: share one model between any number of threads.
 *   - svae_context holds per-thread scratch, KV caches, a thread pool and the last error
 *     message. Use one context per thread; a context may move between threads but must never
 *     be used by two threads at the same time.
 *   - svae_set_log_callback may be called at any time; the callback can be invoked from any
 *     thread and must be thread-safe itself.
 *   - A context holds a reference to its model: svae_model_free releases the caller's
 *     reference, and the model's memory goes when its last context is freed too.
 *
 * CONVENTIONS
 *   - Functions returning `int` return SVAE_OK (0) on success or a negative svae_status.
 *     After an error, svae_context_last_error(ctx) describes it (what was expected, what was
 *     found).
 *   - Output buffers are allocated by the caller as (pointer, capacity). Each function writes
 *     the number of elements it produced, or would need, to a `size_t *n_...` out parameter
 *     (required, never NULL, except for an output svae_decode is told to skip). If the capacity is too small the function writes nothing into
 *     the buffer, returns SVAE_ERR_BUFFER_TOO_SMALL and stores the needed count: call again
 *     with a larger buffer. A NULL buffer with capacity 0 is a size query.
 *   - Text is UTF-8, NUL-terminated on input (at most SVAE_MAX_TEXT_BYTES bytes); invalid
 *     UTF-8 returns SVAE_ERR_INVALID_UTF8. Text outputs are NUL-terminated: their needed size
 *     counts the bytes WITHOUT the terminator, and the capacity must be at least that + 1.
 *   - Counts passed in are int32_t: a negative count returns SVAE_ERR_INVALID_ARGUMENT.
 *   - NULL handles are detected; a freed handle, or a pointer that did not come from this
 *     library, cannot be (undefined behaviour, as with free()).
 *   - Token ids are int32_t in [0, svae_model_n_vocab). Ids from svae_tokenize start with BOS
 *     when the model's tokenizer adds it; svae_encode_ids expects them in that form.
 *   - No function exits or aborts the host process on bad input, and the library never prints:
 *     diagnostics go to the log callback. (An allocation failure inside the Swift runtime still
 *     traps; sizes the caller controls are bounded and checked before anything is allocated.)
 *   - Model files are memory-mapped read-only: truncating a model file while it is loaded
 *     raises SIGBUS on access, as with any mmap-based loader. Do not modify loaded files.
 */
#ifndef SVAE_H
#define SVAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to this header (signatures, struct layouts, codes); it is the
 * N of the library's SONAME libsvae.so.N (README.md, "The ABI rule"). */
#define SVAE_ABI_VERSION 1

/* Largest input text accepted, in bytes (excluding the NUL terminator). */
#define SVAE_MAX_TEXT_BYTES (1 << 26)
/* Largest number of texts or id sequences in one call. */
#define SVAE_MAX_BATCH (1 << 20)

/* ---------------------------------------------------------------- status codes */

typedef enum svae_status {
    SVAE_OK = 0,
    SVAE_ERR_INVALID_ARGUMENT = -1, /* NULL handle or pointer, negative or absurd count, bad option, empty sentence */
    SVAE_ERR_BUFFER_TOO_SMALL = -2, /* output capacity too small; the needed count was stored */
    SVAE_ERR_OUT_OF_RANGE = -3,     /* token id outside [0, n_vocab) */
    SVAE_ERR_MODEL = -4,            /* model file unreadable or invalid, or a runtime model error */
    SVAE_ERR_NO_TOKENIZER = -5,     /* the model has no tokenizer: use the id-based calls */
    SVAE_ERR_INVALID_UTF8 = -6,     /* input text is not valid UTF-8 */
    SVAE_ERR_TOO_LONG = -7,         /* a sentence has more tokens than max_seq_len */
    SVAE_ERR_BAD_VECTOR = -8,       /* vector length != hidden size, or a NaN/Inf value */
    SVAE_ERR_INTERNAL = -9          /* unexpected failure (e.g. the thread pool could not start) */
} svae_status;

/* A static English name for a status code ("ok", "invalid argument", ...). Never NULL. */
const char *svae_status_string(int status);

/* ---------------------------------------------------------------- version and logging */

/* Library version, e.g. "0.1.0". Static string. */
const char *svae_version(void);
/* SVAE_ABI_VERSION of the library actually loaded (compare with the header's). */
int svae_abi_version(void);

typedef enum svae_log_level {
    SVAE_LOG_ERROR = 2,
    SVAE_LOG_WARN = 3,
    SVAE_LOG_INFO = 4,
    SVAE_LOG_DEBUG = 5
} svae_log_level;

/* `text` is one NUL-terminated line without a trailing newline, valid only during the call. */
typedef void (*svae_log_callback)(int level, const char *text, void *user_data);

/* Install a log callback for the whole process (NULL: discard logs, the default). */
void svae_set_log_callback(svae_log_callback callback, void *user_data);

/* ---------------------------------------------------------------- model and context */

typedef struct svae_model svae_model;     /* read-only, shareable */
typedef struct svae_context svae_context; /* per thread */

typedef struct svae_model_params {
    /* Default worker threads for contexts of this model; 0 = physical cores. Range 0...256. */
    int32_t n_threads;
} svae_model_params;

typedef struct svae_context_params {
    /* Worker threads of this context; 0 = the model's n_threads. Range 0...256. */
    int32_t n_threads;
} svae_context_params;

svae_model_params svae_model_default_params(void);
svae_context_params svae_context_default_params(void);

/* Open, validate and map a .svae model. `params` may be NULL (defaults).
 * Returns NULL on failure; then, if error != NULL and error_cap > 0, a NUL-terminated message
 * (truncated to error_cap - 1 bytes) is written to `error`. */
svae_model *svae_model_load(const char *path, const svae_model_params *params, char *error, size_t error_cap);
/* NULL is ignored. */
void svae_model_free(svae_model *model);

/* Returns NULL on failure (NULL model, bad params; the reason is logged). `params` may be NULL. */
svae_context *svae_context_new(const svae_model *model, const svae_context_params *params);
/* NULL is ignored. */
void svae_context_free(svae_context *ctx);

/* Message of the last failed call on `ctx` ("" if none, "invalid context" for NULL). The string
 * belongs to the context and stays valid until the next call on it or its free. */
const char *svae_context_last_error(const svae_context *ctx);

/* ---------------------------------------------------------------- model info
 * These return -1 (SVAE_ERR_INVALID_ARGUMENT) for a NULL model. For a token-level OPT file
 * ("opt") they describe its layer stack: 0 encoder layers, its layers as decoder layers, its
 * position count as max_seq_len; encode, decode and reconstruct then return SVAE_ERR_MODEL and
 * svae_generate is the call to use. */

int32_t svae_model_hidden_size(const svae_model *model);  /* d: length of a sentence vector */
int32_t svae_model_n_heads(const svae_model *model);
int32_t svae_model_n_vocab(const svae_model *model);
int32_t svae_model_n_encoder_layers(const svae_model *model);
int32_t svae_model_n_decoder_layers(const svae_model *model);
int32_t svae_model_max_seq_len(const svae_model *model);  /* tokens per sentence, BOS and EOS included */
int32_t svae_model_bos_id(const svae_model *model);
int32_t svae_model_eos_id(const svae_model *model);
int32_t svae_model_pad_id(const svae_model *model);
/* 1 if the model file carries a tokenizer, 0 if not (then only the id-based calls work). */
int32_t svae_model_has_tokenizer(const svae_model *model);
/* Token ids the tokenizer can spell: [0, n_tokenizer_vocab), which can be smaller than n_vocab
 * (an embedding padded past the tokenizer, e.g. OPT's 50272 > 50265); 0 without a tokenizer.
 * svae_decode's text leaves the ids at or above it out; svae_detokenize refuses them. */
int32_t svae_model_n_tokenizer_vocab(const svae_model *model);
/* "svae" for SentenceVAE files. Owned by the model; NULL for a NULL model. */
const char *svae_model_architecture(const svae_model *model);
/* Element types of the weights with their tensor counts, e.g. "f32:34 q8_0:12" (sorted by
 * name). Owned by the model; NULL for a NULL model. */
const char *svae_model_type_summary(const svae_model *model);

/* ---------------------------------------------------------------- text */

/* Token ids of `text` (BOS first when the tokenizer adds it).
 * Output: ids[0 .. *n_ids). */
int svae_tokenize(svae_context *ctx, const char *text, int32_t *ids, size_t ids_cap, size_t *n_ids);

/* UTF-8 text of `ids` (special tokens skipped; bytes that do not form valid UTF-8 become U+FFFD).
 * Ids must be below the TOKENIZER's vocabulary size, which may be smaller than n_vocab
 * (SVAE_ERR_OUT_OF_RANGE otherwise).
 * Output: text[0 .. *n_bytes) plus a NUL at text[*n_bytes]; needs text_cap >= *n_bytes + 1. */
int svae_detokenize(svae_context *ctx, const int32_t *ids, int32_t n_ids, char *text, size_t text_cap, size_t *n_bytes);

/* One sentence as a byte range of the input text. */
typedef struct svae_span {
    size_t offset; /* byte offset of the first byte in the input */
    size_t length; /* bytes */
} svae_span;

/* Split a passage into sentences like the reference (`PassageCollate.cut_sentence_func`):
 * at most `max_sentences` (> 0; 64 in the released configs). With mimic_reference != 0, text
 * after the last sentence end is dropped as the reference does; with 0 it is kept.
 * Spans are consecutive from offset 0. Needs no tokenizer.
 * Output: spans[0 .. *n_sentences). */
int svae_split_sentences(svae_context *ctx, const char *text, int32_t max_sentences, int32_t mimic_reference,
                         svae_span *spans, size_t spans_cap, size_t *n_sentences);

/* ---------------------------------------------------------------- encode */

/* Sentence vectors of `n_texts` texts, each one sentence.
 * Output: row-major [n_texts][hidden_size] floats; *n_out = n_texts * hidden_size, checked
 * before any work is done. */
int svae_encode_texts(svae_context *ctx, const char *const *texts, int32_t n_texts,
                      float *out, size_t out_cap, size_t *n_out);

/* Sentence vectors of `n_seqs` id sequences: seqs[i] has lengths[i] ids (1 .. max_seq_len),
 * BOS first as svae_tokenize returns them.
 * Output: row-major [n_seqs][hidden_size] floats; *n_out = n_seqs * hidden_size. */
int svae_encode_ids(svae_context *ctx, const int32_t *const *seqs, const int32_t *lengths, int32_t n_seqs,
                    float *out, size_t out_cap, size_t *n_out);

/* ---------------------------------------------------------------- decode */

/* Called with each generated id as it is produced; return 0 to stop (the id is kept), nonzero
 * to go on. Runs on the calling thread. On the decoding context it may call svae_tokenize,
 * svae_detokenize and svae_split_sentences (e.g. to print each piece); encode, decode and
 * reconstruct there return SVAE_ERR_INVALID_ARGUMENT (use another context). */
typedef int (*svae_token_callback)(int32_t id, void *user_data);

typedef struct svae_decode_params {
    int32_t max_tokens;  /* 0 = up to max_seq_len - 1 (the upper bound in any case) */
    float temperature;   /* 0 = greedy (argmax); > 0 samples */
    int32_t top_k;       /* sampling: keep the k most likely ids; 0 = all */
    float top_p;         /* sampling: nucleus mass in (0, 1]; 1 = off */
    uint64_t seed;       /* sampling: same seed, same output */
    svae_token_callback on_token; /* NULL = no streaming */
    void *user_data;     /* passed to on_token */
} svae_decode_params;

/* Greedy, up to max_seq_len - 1 tokens, no callback. */
svae_decode_params svae_decode_default_params(void);

/* Generate a sentence from a vector of `n_vector` (= hidden_size) floats. `params` may be NULL.
 * Either output may be skipped by passing NULL for both its buffer and its count pointer:
 *   ids:  ids[0 .. *n_ids), EOS last when generated; ids_cap >= max_seq_len always suffices.
 *   text: text[0 .. *n_bytes) + NUL, the detokenized ids (needs a tokenizer). Ids beyond the
 *         tokenizer's vocabulary (a model vocabulary padded past it) have no text and are left
 *         out of the text (with a SVAE_LOG_WARN line); they stay in `ids`.
 * Generation runs before the capacities can be checked: on SVAE_ERR_BUFFER_TOO_SMALL call
 * again with larger buffers (greedy and seeded decoding repeat exactly; on_token runs again). */
int svae_decode(svae_context *ctx, const float *vector, int32_t n_vector, const svae_decode_params *params,
                int32_t *ids, size_t ids_cap, size_t *n_ids,
                char *text, size_t text_cap, size_t *n_bytes);

/* Sentences decoded in lockstep by svae_decode_batch when batch_size is 0. */
#define SVAE_DEFAULT_DECODE_BATCH 32
/* Largest batch_size of svae_decode_batch (KV caches: batch x layers x 2 x max_seq_len x hidden floats). */
#define SVAE_MAX_DECODE_BATCH 256

/* Generate a sentence from each of `n_vectors` vectors, up to `batch_size` of them in lockstep:
 * each step runs every decoder weight once for all live sentences, and a sentence that ends
 * gives its place to the next vector at once. batch_size 0 = SVAE_DEFAULT_DECODE_BATCH; 1 =
 * one vector at a time, as svae_decode; at most SVAE_MAX_DECODE_BATCH.
 * Inputs:
 *   vectors: row-major [n_vectors][n_hidden] floats, n_hidden = hidden_size.
 *   params:  as svae_decode (NULL: greedy); on_token must be NULL (no streaming here). Sampling:
 *            vector i uses seed + i, so its ids are those of svae_decode with seed + i, whatever
 *            its batch mates (up to near-ties, see below).
 * Outputs (caller buffers, one entry or row per vector):
 *   ids:    row-major [n_vectors][ids_per_vector] int32; vector i's ids are
 *           ids[i * ids_per_vector .. + n_ids[i]), EOS last when generated. ids_per_vector >=
 *           max_seq_len - 1 always suffices.
 *   n_ids:  [n_vectors]: ids generated for vector i (or needed, when it did not fit).
 *   status: [n_vectors]: SVAE_OK; SVAE_ERR_BAD_VECTOR (a NaN or Inf value: not decoded);
 *           SVAE_ERR_BUFFER_TOO_SMALL (more than ids_per_vector ids: its row is left untouched,
 *           n_ids[i] holds the count needed).
 * Returns SVAE_OK when every status is SVAE_OK; otherwise the status of the first vector that
 * failed (every other vector is decoded all the same: read `status`). An invalid call (NULL
 * pointers, negative counts, n_hidden != hidden_size, bad params, an "opt" file) returns its code
 * before any work and writes no output.
 * The ids equal svae_decode's for the same vector except where the batched and matrix-vector
 * kernels' summation order flips a near-tie of the two best logits (measured: none in 300
 * sentences of the shipped model). With batch_size > 1, a vector's ids do not depend on which
 * or how many vectors share its batch (steps with few sentences are padded to the row count
 * from which the batched kernels sum every row the same way). */
int svae_decode_batch(svae_context *ctx, const float *vectors, int32_t n_vectors, int32_t n_hidden,
                      const svae_decode_params *params, int32_t batch_size,
                      int32_t *ids, size_t ids_per_vector, size_t *n_ids, int32_t *status);

/* Encode `text` and decode it greedily.
 * Output: text out[0 .. *n_bytes) + NUL; *exact (may be NULL) = 1 when the generated tokens
 * equal the input tokens (BOS and EOS aside) and EOS was produced, else 0. */
int svae_reconstruct(svae_context *ctx, const char *text, char *out, size_t out_cap, size_t *n_bytes,
                     int32_t *exact);

/* ---------------------------------------------------------------- generate (SLLM, OPT) */

/* Called with each generated sentence's text when it is finished; return 0 to stop, nonzero to
 * go on. Same rules as svae_token_callback. */
typedef int (*svae_sentence_callback)(const char *text, void *user_data);

typedef struct svae_generate_params {
    int32_t max_sentences; /* sentences generated after the prompt; 0 = 16 */
    int32_t max_tokens;    /* tokens generated in all; 0 = 256 */
    float temperature;     /* 0 = greedy (argmax); > 0 samples (the stop decision stays argmax) */
    int32_t top_k;         /* sampling: keep the k most likely ids; 0 = all */
    float top_p;           /* sampling: nucleus mass in (0, 1]; 1 = off */
    uint64_t seed;         /* sampling: same seed, same output */
    svae_token_callback on_token;       /* NULL = no token streaming */
    svae_sentence_callback on_sentence; /* NULL = no sentence streaming */
    void *user_data;       /* passed to both callbacks */
} svae_generate_params;

/* Greedy, 16 sentences, 256 tokens, no callbacks. */
svae_generate_params svae_generate_default_params(void);

/* Generation. An SLLM file (architecture "sllm"): the prompt is split into sentences, encoded,
 * run through the SLLM layers, and continued sentence by sentence until the stop head ends the
 * passage or a limit is reached (max_sentences, max_tokens). A token-level OPT file ("opt"):
 * token by token up to max_tokens or EOS; on_sentence is called once with the whole output.
 * Needs a tokenizer. `params` may be NULL.
 * Output: the generated text out[0 .. *n_bytes) + NUL (the prompt is not repeated).
 * An "svae" file returns SVAE_ERR_MODEL. Generation runs before the capacity can be checked: on
 * SVAE_ERR_BUFFER_TOO_SMALL call again with a larger buffer (greedy and seeded runs repeat). */
int svae_generate(svae_context *ctx, const char *prompt, const svae_generate_params *params,
                  char *out, size_t out_cap, size_t *n_bytes);

/* ---------------------------------------------------------------- perplexity
 * Teacher-forced perplexity of the context's model on lines of text, optionally with the KL
 * divergence of its next-token distributions from a reference model's (docs/perplexity.md).
 * A line is one sentence ("svae" files: the decoder, given the sentence's own vector, is scored
 * on its tokens and EOS), one passage ("sllm": split into sentences; the decoder with the SLLM
 * state of sentence i is scored on sentence i+1, the stop head on "another sentence follows"),
 * or one token sequence ("opt": next-token cross-entropy). Blank lines are skipped. Every target
 * token weighs the same. Needs a tokenizer. Memory does not grow with the number of lines: a
 * run keeps totals and a fixed-size histogram of the per-token KL divergences. */

typedef enum svae_attention {
    SVAE_ATTENTION_FILE = 0,          /* the file's llm.prefill_attention */
    SVAE_ATTENTION_BIDIRECTIONAL = 1, /* the reference checkpoints' maskless prefill */
    SVAE_ATTENTION_CAUSAL = 2
} svae_attention;

typedef struct svae_perplexity_params {
    /* A context of a model with the same architecture, vocabulary and tokenizer (e.g. the f32
     * conversion), run in lockstep; NULL = no comparison. It must not be used by another thread
     * while svae_perplexity_add runs. The run keeps its model alive. */
    svae_context *reference;
    int32_t attention; /* svae_attention; SLLM files only (ignored otherwise) */
} svae_perplexity_params;

typedef struct svae_perplexity_result {
    int64_t units;          /* lines scored */
    int64_t tokens;         /* target tokens scored */
    double sum_ce;          /* sum of the per-token cross-entropy, nats */
    double mean_ce;         /* sum_ce / tokens (0 when tokens == 0) */
    double ppl;             /* exp(mean_ce) */
    int64_t correct;        /* targets that are the model's argmax */
    int64_t stop_decisions; /* SLLM: stop-head decisions, and those right */
    int64_t stop_correct;
    int32_t attention;      /* SLLM: SVAE_ATTENTION_BIDIRECTIONAL or _CAUSAL in use; else 0 */
    int32_t has_reference;  /* 1 when the fields below are set, else 0 (and they are 0) */
    double reference_mean_ce;
    double ppl_ratio;       /* exp(mean_ce - reference_mean_ce) */
    double top1_agreement;  /* share of tokens whose argmax equals the reference's */
    double kld_mean;        /* KL(P_reference || P_model) per token: exact mean and max; median */
    double kld_median;      /* and 99th percentile (nearest rank) within 0.12 % relative (1e-12 */
    double kld_p99;         /* absolute) from a log-spaced histogram */
    double kld_max;
} svae_perplexity_result;

/* No reference, the file's attention mode. */
svae_perplexity_params svae_perplexity_default_params(void);

/* Starts a run on `ctx` (dropping any earlier one). `params` may be NULL. */
int svae_perplexity_begin(svae_context *ctx, const svae_perplexity_params *params);
/* Scores `n_lines` lines and adds them to the run (SVAE_ERR_INVALID_ARGUMENT before a begin).
 * A line that fails (a sentence over max_seq_len: SVAE_ERR_TOO_LONG; more sentences than the
 * SLLM's positions; invalid UTF-8) adds nothing and ends the call with its status; the lines
 * before it stay counted, and *n_done (may be NULL) tells how many lines were consumed. */
int svae_perplexity_add(svae_context *ctx, const char *const *lines, int32_t n_lines, size_t *n_done);
/* The run's totals so far. */
int svae_perplexity_result_get(svae_context *ctx, svae_perplexity_result *result);

/* One call: begin, add every line, get the result. */
int svae_perplexity(svae_context *ctx, const char *const *lines, int32_t n_lines, const svae_perplexity_params *params,
                    svae_perplexity_result *result);

#ifdef __cplusplus
}
#endif

#endif /* SVAE_H */
