// csvae_kernels.h: the C half of the svae kernels layer.
//
// Shapes, element types and arithmetic only: nothing here knows about transformers.
// Conventions (llm.c style): outputs first, sizes last. All matrices are row-major.
// A weight W [rows, cols] is an nn.Linear weight [out, in]: y = W x.
//
// Thread safety: every function is reentrant and touches only the memory passed to it,
// except csvae_pool_* (one pool may be driven by one caller thread at a time).
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: element types (fixed by the .svae file format)

/// Element type ids. Quantized types use blocks of CSVAE_QK consecutive elements of a row.
typedef enum {
    CSVAE_F32 = 0,   ///< IEEE binary32 LE, 4 bytes
    CSVAE_F16 = 1,   ///< IEEE binary16 LE, 2 bytes
    CSVAE_BF16 = 2,  ///< upper 16 bits of binary32 LE, 2 bytes
    CSVAE_Q8_0 = 3,  ///< 34-byte block: f16 d, int8 q[32]; x = d*q
    CSVAE_Q4_0 = 4,  ///< 18-byte block: f16 d, 16 bytes of nibbles; x[j] = d*((qs[j]&15)-8), x[j+16] = d*((qs[j]>>4)-8)
    CSVAE_I8R = 5,   ///< per-row int8 in 16-row panels (see csvae_i8r_* below); not a block type
} csvae_type;

#define CSVAE_QK 32
#define CSVAE_Q8_0_BYTES 34
#define CSVAE_Q4_0_BYTES 18

/// Bytes of one row of `cols` elements of type `t` (cols must be a multiple of 32 for quantized types).
size_t csvae_row_bytes(int t, size_t cols);

// MARK: scalar conversions (round to nearest, ties to even; NaN stays NaN)

uint16_t csvae_f32_to_f16(float x);
float csvae_f16_to_f32(uint16_t h);
uint16_t csvae_f32_to_bf16(float x);
float csvae_bf16_to_f32(uint16_t h);

/// dst[n] (f16 bits) = src[n]
void csvae_f32_to_f16_array(uint16_t *dst, const float *src, size_t n);
void csvae_f16_to_f32_array(float *dst, const uint16_t *src, size_t n);
void csvae_f32_to_bf16_array(uint16_t *dst, const float *src, size_t n);
void csvae_bf16_to_f32_array(float *dst, const uint16_t *src, size_t n);

// MARK: dispatch paths

typedef enum {
    CSVAE_PATH_SCALAR = 0,  ///< portable C, the reference; compiles everywhere
    CSVAE_PATH_AVX2 = 1,    ///< x86-64 AVX2 + FMA + F16C
    CSVAE_PATH_AVX512 = 2,  ///< x86-64 AVX-512 F/BW/VL/DQ + VNNI
    CSVAE_PATH_NEON = 3,    ///< arm64 NEON + dotprod
    CSVAE_PATH_AVXVNNI = 4, ///< x86-64 AVX2 + FMA + F16C + AVX-VNNI (VEX vpdpbusd ymm): the AVX2
                            ///< kernels, except i8r products (for CPUs with AVX-VNNI, no AVX-512)
} csvae_path;

/// 1 if this CPU (and this build) can run `path`.
int csvae_path_supported(int path);
/// This core's L2 cache in bytes as the C library reports it (glibc: from CPUID), 0 when unknown.
size_t csvae_l2_cache_bytes(void);
/// The fastest supported path: AVX-512 (VNNI) > AVX-VNNI > AVX2 > NEON > scalar.
int csvae_best_path(void);

// MARK: quantizers (see formats/quantization.md)

/// Result codes of the quantizers. On error *bad_index is the element index (in src) at fault.
enum {
    CSVAE_OK = 0,
    CSVAE_ERR_NONFINITE = 1,       ///< NaN or Inf in the input
    CSVAE_ERR_SCALE_OVERFLOW = 2,  ///< the block scale does not fit in f16 (|x| too large)
};

/// Quantize n elements (n multiple of 32) to q8_0 / q4_0 blocks. dst holds n/32 blocks.
/// `path` selects the implementation; every path writes identical bytes.
int csvae_quantize_q8_0(uint8_t *dst, const float *src, size_t n, int path, size_t *bad_index);
int csvae_quantize_q4_0(uint8_t *dst, const float *src, size_t n, int path, size_t *bad_index);

/// Index of the first non-finite element of src[n], or n if all are finite.
size_t csvae_find_nonfinite(const float *src, size_t n);

/// dst[n] = elements [first, first+n) of a tensor of type t stored at src.
/// For quantized types first and n must be multiples of 32.
void csvae_dequantize(float *dst, const void *src, int t, size_t first, size_t n);

/// Asks for the cache lines of p[0, bytes) (a hint: never faults, changes no result).
void csvae_prefetch(const void *p, size_t bytes);

// MARK: matrix products

/// Activations quantized to int8 blocks of 32 for the integer dot products.
/// Layout per activation row i (nb = cols/32 blocks):
///   q    [n, cols]   int8, |q| <= 127
///   d    [n, nb*8]   f32 scale of block b repeated in 8 lanes, x ~ d*q
///   corr [n, nb*8]   int32; corr[b*8+l] = -off * (q[4l] + q[4l+1] + q[4l+2] + q[4l+3]) of
///                    block b, where off is the unsigned bias of the weight codes fed to u8*s8
///                    dot instructions (128 for q8_0 weights, 8 for q4_0 nibbles).
typedef struct {
    int8_t *q;
    float *d;
    int32_t *corr;
} csvae_qact;

/// Bytes of scratch needed by csvae_qact_bind for n rows of cols (cols multiple of 32).
size_t csvae_qact_bytes(size_t n, size_t cols);
/// Lay out a csvae_qact in `scratch` (64-byte aligned, csvae_qact_bytes long).
csvae_qact csvae_qact_bind(void *scratch, size_t n, size_t cols);
/// Quantize activations x [n, cols] (finite; non-finite values give unspecified results)
/// for weights of type wtype (q8_0 or q4_0).
void csvae_qact_quantize(csvae_qact *a, const float *x, int wtype, size_t n, size_t cols);
/// The portable reference of csvae_qact_quantize (which gives the same bytes on every path).
void csvae_qact_quantize_scalar(csvae_qact *a, const float *x, int wtype, size_t n, size_t cols);

/// Y[i, r] = sum_k X[i, k] * W[r, k] for i in [0, n), r in [r0, r1).
/// y: [n, ldy] (ldy >= rows), w: [rows, cols] of type wtype, x: [n, cols] f32.
/// For quantized wtype, `qa` must hold x quantized by csvae_qact_quantize and x is unused
/// (except on the float check path below); for float types qa is unused.
/// `path` must be supported. `float_check` = 1 selects the all-float check path for quantized
/// weights (dequantize the row, dot with f32 x; needs x), ignoring path.
void csvae_matmul_rows(float *y, size_t ldy, const void *w, int wtype, const float *x,
                       const csvae_qact *qa, int path, int float_check, size_t n,
                       size_t r0, size_t r1, size_t cols);

// MARK: i8r, the per-row int8 type (formats/quantization.md §9)
//
// A [rows, cols] matrix (cols multiple of 4) is stored as ceil(rows/16) panels of
// 16*cols + 128 bytes: codes [cols/4][16][4] int8 (group g: rows 16p..16p+15 x columns
// 4g..4g+3), then 16 f32 row scales, then 16 int32 row sums of the codes. Rows past `rows` in
// the last panel are zero. x[r][k] = scale[r] * code[r][k].

#define CSVAE_I8R_PANEL_ROWS 16

/// Bytes of a [rows, cols] i8r matrix, 0 if cols is not a multiple of 4.
size_t csvae_i8r_bytes(size_t rows, size_t cols);
/// Quantize src [rows, cols] (cols multiple of 4) into dst (csvae_i8r_bytes(rows, cols) bytes).
/// Returns CSVAE_OK or CSVAE_ERR_NONFINITE (*bad_index = flat index of the first NaN/Inf).
/// One implementation (portable C): the bytes are the same everywhere.
int csvae_quantize_i8r(uint8_t *dst, const float *src, size_t rows, size_t cols, size_t *bad_index);
/// dst[cols] = row `row` of the i8r matrix at w.
void csvae_i8r_dequantize_row(float *dst, const uint8_t *w, size_t row, size_t cols);

/// Activations quantized per row (token) for i8r products: q [n, cols] codes (signed int8, or
/// code + 128 as unsigned bytes when `biased`, which the VNNI paths (AVX-512, AVX-VNNI) need),
/// s [n] f32 scales (x ~ s * code); `path` is the path bound (it picks the quantizer).
typedef struct {
    uint8_t *q;
    float *s;
    int biased;
    int path;
} csvae_i8r_act;
size_t csvae_i8r_act_bytes(size_t n, size_t cols);
/// Lay out activations for n rows of cols in scratch (csvae_i8r_act_bytes long) for `path`
/// (which must be supported).
csvae_i8r_act csvae_i8r_act_bind(void *scratch, size_t n, size_t cols, int path);
/// code = clamp(round-half-away(x * (127 / amax)), ±127) per row, s = amax / 127 (finite x),
/// with the bound path's implementation (AVX-512; AVX2 for AVX2 and AVX-VNNI; NEON; scalar).
void csvae_i8r_act_quantize(csvae_i8r_act *a, const float *x, size_t n, size_t cols);
/// The portable reference of csvae_i8r_act_quantize (same bytes).
void csvae_i8r_act_quantize_scalar(csvae_i8r_act *a, const float *x, size_t n, size_t cols);

/// Y[i, r] = isum(i, r) * (scale_w[r] * s[i]) (+ bias[r]) (then max(., 0) if relu), the integer
/// sum exact on every path. y [n, ldy]; a bound for `path`.
///
/// Argmax instead of Y (greedy decoding: the LM head's logits are never written): when best_v
/// is set, y is not touched; best_v [n][16] and best_i [n][16] (start: -inf and 0) hold, for
/// activation row i and lane l, the largest Y[i, r] over the rows r = l (mod 16) computed so far
/// and the first such r (strict >, rows in increasing order, NaN never wins). csvae_i8r_task
/// gives each task its own [n][16] pair (task t at best_v + t * n * 16);
/// csvae_i8r_argmax_merge merges them into the first index of each row's largest value.
typedef struct {
    float *y;
    size_t ldy;
    const void *w;
    const csvae_i8r_act *a;
    const float *bias;  ///< [rows] or NULL
    int relu;
    int path;
    size_t n, rows, cols;
    float *best_v;     ///< NULL: write y
    int32_t *best_i;
} csvae_i8r_job;
/// ids[i] = the first index of the largest value of activation row i over the argmax-mode bests
/// of `tasks` tasks (ties: the smallest index; NaN never wins; 0 when no value exceeds -inf, as
/// csvae_argmax).
void csvae_i8r_argmax_merge(int32_t *ids, const float *best_v, const int32_t *best_i, size_t tasks, size_t n);
/// Output rows [r0, r1) of the job (r0 a multiple of 16). n <= 3 (the decoder's per-token
/// products) runs each path's matrix-vector kernel: one pass over the weights, prefetched.
void csvae_i8r_rows(const csvae_i8r_job *j, size_t r0, size_t r1);
/// Task body for csvae_pool_run with ctx = csvae_i8r_job* (whole slices of 48 or 64 output rows).
void csvae_i8r_task(void *ctx, size_t task, size_t ntasks);

/// Runs 16 independent chains of vpdpbusd zmm (kind 0) or vfmadd zmm f32 (kind 1), `iters`
/// rounds, and returns the operations done (2 per multiply-add); 0 without AVX-512 VNNI.
double csvae_probe_peak(int kind, size_t iters);

// MARK: thread pool (workers park on a condition variable)

typedef struct csvae_pool csvae_pool;
/// A task body: called once for each task index in [0, ntasks).
typedef void (*csvae_task_fn)(void *ctx, size_t task, size_t ntasks);
/// Create a pool of `threads` >= 1 workers in total (the calling thread is one of them,
/// so threads-1 OS threads are started). Returns NULL on failure.
csvae_pool *csvae_pool_create(size_t threads);
void csvae_pool_destroy(csvae_pool *p);
size_t csvae_pool_threads(const csvae_pool *p);
/// Run fn(ctx, t, ntasks) for t in [0, ntasks); workers (the caller among them) claim tasks
/// one at a time. Returns when all tasks are done. No allocation.
void csvae_pool_run(csvae_pool *p, csvae_task_fn fn, void *ctx, size_t ntasks);

/// A matmul job split by output rows across pool tasks (see csvae_matmul_rows).
typedef struct {
    float *y;
    size_t ldy;
    const void *w;
    int wtype;
    const float *x;
    const csvae_qact *qa;
    int path;
    int float_check;
    size_t n, rows, cols;
    const float *bias;  ///< [rows] or NULL: y = product + bias, then max(y, 0) if relu (csvae_bias_relu's operations)
    int relu;
    /// NULL, or ntasks x csvae_matmul_scratch_bytes(n, cols) bytes (64-byte aligned), one part
    /// per task: the AVX-512 batched quantized kernel's weight panels (else on its stack).
    void *scratch;
} csvae_matmul_job;
/// Task body for csvae_pool_run with ctx = csvae_matmul_job*: task t computes a contiguous
/// slice of output rows (slices are multiples of 16 rows when possible), bias and ReLU included.
void csvae_matmul_task(void *ctx, size_t task, size_t ntasks);
/// Bytes of scratch one task of a csvae_matmul_job of n rows of cols uses (a multiple of 64).
size_t csvae_matmul_scratch_bytes(size_t n, size_t cols);

/// Quantized weights (q8_0/q4_0, cols <= CSVAE_BF16_MAX_COLS) times bf16 activations on
/// AVX-512 BF16: each group of 4 weight rows is dequantized to bf16 (code * scale, rounded to
/// nearest even) once per 64-row activation panel, then vdpbf16ps with f32 accumulation. Each
/// product w*x is off by at most about 2^-8 |w*x| (two bf16 roundings).
#define CSVAE_BF16_MAX_COLS 4096
typedef struct {
    float *y;
    size_t ldy;
    const void *w;
    int wtype;
    const uint16_t *x;  ///< [n, cols] bf16 (csvae_to_bf16)
    size_t n, rows, cols;
} csvae_bf16_job;
/// 1 if this CPU has AVX-512 BF16 (and the AVX-512 path).
int csvae_bf16_supported(void);
/// dst[count] = x rounded to bf16 (nearest even). Needs csvae_bf16_supported().
void csvae_to_bf16(uint16_t *dst, const float *x, size_t count);
/// Task body for csvae_pool_run with ctx = csvae_bf16_job* (slices of 16 output rows).
void csvae_matmul_bf16_task(void *ctx, size_t task, size_t ntasks);

/// f32 weights on AVX-512 (csvae_sgemm_supported): Y[n, rows] = X[n, cols] W^T (+ bias) (ReLU),
/// with X first packed by csvae_sgemm_pack into ceil(n/16) panels of [cols][16] (activation
/// rows as lanes, zero past n; csvae_sgemm_pack_floats(n, cols) floats) and W [rows, cols]
/// row-major read in place, each weight broadcast against a panel. Bias (may be NULL) and
/// ReLU are the epilogue.
typedef struct {
    float *y;
    size_t ldy;
    const float *w;
    const float *xt;
    const float *bias;
    int relu;
    size_t n, rows, cols;
} csvae_sgemm_job;
int csvae_sgemm_supported(void);
size_t csvae_sgemm_pack_floats(size_t n, size_t cols);
void csvae_sgemm_pack(float *xt, const float *x, size_t n, size_t cols);
/// Task body for csvae_pool_run with ctx = csvae_sgemm_job* (slices of 16 output rows).
void csvae_sgemm_task(void *ctx, size_t task, size_t ntasks);

/// The same product with the roles swapped, for few activation rows (one sentence), on the
/// same job: job.w = W packed once by csvae_sgemm_pack(wp, w, rows, cols) into ceil(rows/16)
/// panels of [cols][16] (output rows as lanes, zero past rows), job.xt = X [n, cols] row-major,
/// NOT packed; each activation broadcast against a weight panel (tiles of 8 activation rows x
/// 48 output rows, no transposes). Bias (may be NULL) and ReLU are the epilogue. Same bits as
/// csvae_sgemm_task (each output one FMA chain over the columns in order).
/// Task body for csvae_pool_run with ctx = csvae_sgemm_job* (slices of 16 output rows).
void csvae_sgemm_wp_task(void *ctx, size_t task, size_t ntasks);

// MARK: other ops (f32)

/// y[n] = (x - mean) / sqrt(var + eps) * weight + bias (weight/bias may be NULL = 1/0).
void csvae_layernorm(float *y, const float *x, const float *weight, const float *bias, float eps, size_t n);
/// x[rows, d] = LayerNorm(x + r) row by row (post-norm residual), f32 sums (16-lane on AVX-512;
/// csvae_layernorm, with f64 sums, is the reference). weight and bias [d], not NULL; r NULL:
/// x = LayerNorm(x).
void csvae_add_layernorm_rows(float *x, const float *r, const float *weight, const float *bias, float eps, size_t rows, size_t d);
/// In place, numerically stable (subtracts the max). n >= 1.
void csvae_softmax(float *x, size_t n);
/// y[n] = a[n] + b[n] (y may alias a or b).
void csvae_add(float *y, const float *a, const float *b, size_t n);
/// y[rows, cols] += bias[cols] for every row (bias may be NULL: none), then max(y, 0) when relu:
/// one pass over y.
void csvae_bias_relu(float *y, const float *bias, size_t rows, size_t cols, int relu);
/// out[d] = sum_t alpha_t x_t over the rows x [rows, d], alpha_t = w . x_t + b (learnable-add
/// pooling) or 1 when w is NULL (sum pooling).
void csvae_pool_rows(float *out, const float *x, size_t rows, size_t d, const float *w, float b);

/// Index of the largest of x[0..n) (n < 2^31): the first one on ties, NaN never wins, 0 when
/// none exceeds -inf (torch.argmax's choice on finite input).
int32_t csvae_argmax(const float *x, size_t n);

/// Attention for one query position.
/// out [heads*hd], q [heads*hd], k and v caches [t, ldkv] (row j = position j; the heads are
/// the first heads*hd columns), attends keys [0, t). scratch [t] floats.
/// out_h = softmax(scale * K_h q_h) V_h per head h. AVX-512: 16-lane dot products for the
/// scores, the 16-lane softmax (exp within ~2 ulp of expf) and weighted sums the encoder's
/// csvae_attention_sentences uses; elsewhere the portable loop, the reference.
void csvae_attention_one(float *out, float *scratch, const float *q, const float *k, const float *v,
                         float scale, size_t ldkv, size_t heads, size_t hd, size_t t);
/// csvae_attention_one for `rows` queries, each over its own cache (the batched decoder's step:
/// one sentence per row): row i's query at q + i*ldq attends keys [0, lengths[i]) of the caches
/// k[i] and v[i] [lengths[i], ldkv]; its output goes to out + i*ldo. A row of length 0 gets
/// zeros. scratch: the largest length, in floats. Each row is computed alone, the same way
/// whatever the other rows are.
void csvae_attention_rows(float *out, size_t ldo, float *scratch, const float *q, size_t ldq,
                          const float *const *k, const float *const *v, size_t ldkv, const size_t *lengths,
                          size_t rows, size_t heads, size_t hd, float scale);
/// Attention for s queries q [s, ldq] over t keys/values [t, ldkv]; out [s, ldo].
/// key_mask [t] (may be NULL): 0 = padding (never attended), nonzero = keep.
/// causal: query i (at absolute position t - s + i) attends keys j <= t - s + i.
/// A query with no key left gets a zero output. scratch [t] floats.
void csvae_attention(float *out, float *scratch, const float *q, const float *k, const float *v,
                     const uint8_t *key_mask, int causal, float scale, size_t ldo, size_t ldq,
                     size_t ldkv, size_t heads, size_t hd, size_t s, size_t t);

/// Self-attention of a batch of sentences (the encoder: no mask, not causal). Sentence s is rows
/// [offsets[s], offsets[s+1]) and attends only to itself; row i of q, k and v is at q + i*ld,
/// k + i*ld, v + i*ld (heads in the first heads*hd columns), of out at out + i*ldo. scratch:
/// csvae_attention_sentences_scratch(longest sentence, hd) floats. Same result as
/// csvae_attention_one per position up to the order of float sums and exp's last bits
/// (AVX-512: 16 queries at a time as the lanes of a vector, their rows transposed per head; the
/// scores, the softmax over keys and the weighted sums of 16 queries at once).
void csvae_attention_sentences(float *out, size_t ldo, float *scratch, const float *q, const float *k, const float *v,
                               size_t ld, const size_t *offsets, size_t count, size_t heads, size_t hd, float scale);
size_t csvae_attention_sentences_scratch(size_t max_len, size_t hd);

// MARK: memory bandwidth probe (benchmark)

/// Sum of n floats, streamed (for bandwidth measurements); uses the best path.
float csvae_stream_sum(const float *x, size_t n);

#ifdef __cplusplus
}
#endif
