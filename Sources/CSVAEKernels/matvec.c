// matvec.c: the quantized matrix-vector kernels for few activation rows (n <= 3: the decoder's
// per-token products), AVX-512 + VNNI and AVX2 (at the end). rows_quant_avx512 and
// rows_quant_avx2 (matmul.c) call them for n < 4; the batched kernels there do n >= 4.
//
// At n = 1 the batched kernel spends per weight row and block pair a scale load/permute/
// convert, an int->float convert, a multiply and an FMA, and q4_0 a broadcast/shift unpack:
// it is compute-bound well below the read bandwidth. Here:
//  - blocks go in quads of 4. One two-source word permute (vpermt2w) collects codes 0..15 of
//    the 4 blocks into one zmm, another codes 16..31 (q4_0: one permute collects the 4 x 16
//    packed bytes; low nibbles = codes 0..15, high nibbles = codes 16..31). So each int32
//    lane of vpdpbusd sums 8 products of one block and each block owns 4 lanes.
//  - the activations are repacked once per call (on the stack) into that order: per quad 64
//    bytes of codes 0..15 of the 4 blocks, 64 of codes 16..31, and the bias correction of
//    each lane, corr4[4k+l] = corr[8k+l] + corr[8k+4+l] (see matmul.c on qa->corr).
//  - per 16 blocks, a transpose-add tree reduces the 4 lanes of each block exactly in int32
//    to one lane per block; one FMA then adds (dw_b * da_b) * isum_b for the 16 blocks (the
//    scalar reference's product order), the 16 weight scales dw picked out of the same loads
//    by masked word permutes and converted at once. Per 16 weight rows one transpose-add tree
//    sums each row's 16 lanes (in _mm512_reduce_add_ps's order) into one vector of row sums.
//    Each row's sum is computed alone, so nothing depends on the thread split.
#include "matvec.h"
#include "transpose.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define MV_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))

/// Activation rows and quads per row that the stack repack holds (cols <= 8192).
#define MV_MAXN 3
#define MV_MAXQ 64
/// Each weight row is prefetched this many bytes ahead of its use. The weights stream from
/// DRAM at n <= 3 and the hardware prefetchers alone leave the matvec short of the read
/// bandwidth (measured on Zen 4: q8_0 50272x768 1.8 -> 1.3 ms with 8 KiB; 4..16 KiB similar).
#define MV_PREFETCH 8192

/// Word indices for vpermt2w: codes 0..15 (LO) and 16..31 (HI) of a quad of q8_0 blocks from
/// loads at +0/+64 (LO) and +8/+72 (HI) bytes; the 16 packed bytes of a quad of q4_0 blocks
/// from loads at +0/+8. Word j of the result is word 8k + m of block k = j / 8.
#define W8(k, m) (17 * (k) + 1 + (m))
#define W8H(k, m) (17 * (k) + 5 + (m))
#define W4(k, m) ((k) < 3 ? 9 * (k) + 1 + (m) : 56 + (m))
#define ROW8(F, k) F(k, 0), F(k, 1), F(k, 2), F(k, 3), F(k, 4), F(k, 5), F(k, 6), F(k, 7)
#define QUAD(F) {ROW8(F, 0), ROW8(F, 1), ROW8(F, 2), ROW8(F, 3)}
static const uint16_t idx_q8_lo[32] = QUAD(W8), idx_q8_hi[32] = QUAD(W8H), idx_q4[32] = QUAD(W4);
/// Word indices of the 4 block scales of a quad (q8_0: from the loads at +0/+64; q4_0: at +0),
/// repeated for the 4 quad positions of a group.
#define S4(a, b, c, d) a, b, c, d, a, b, c, d, a, b, c, d, a, b, c, d
static const uint16_t sidx_q8[32] = {S4(0, 17, 34, 51)}, sidx_q4[32] = {S4(0, 9, 18, 27)};

/// Byte mask of the valid bytes among 64 starting `from` bytes into a run of `len` bytes.
static inline __mmask64 mask_bytes(size_t len, size_t from) {
    if (len <= from) return 0;
    return len - from >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (len - from)) - 1);
}

MV_FN INLINE __m512i load_part(const uint8_t *p, size_t len, size_t from, int full) {
    return full ? _mm512_loadu_si512(p + from) : _mm512_maskz_loadu_epi8(mask_bytes(len, from), p + from);
}

/// Unsigned codes of a quad of blocks at blk (len valid bytes; bytes past them read as 0):
/// *lo = codes 0..15 of blocks 0..3, *hi = codes 16..31; and the 4 f16 scales of the quad in
/// words 4k..4k+3 of the result (other words 0), k = quad position in its group of 16 blocks.
MV_FN INLINE __m512i quad_codes(const uint8_t *blk, int t, size_t len, int full, int k, __m512i *lo, __m512i *hi) {
    const __mmask32 sw = (__mmask32)(15u << (4 * k));  // the scale words of quad k
    if (t == CSVAE_Q8_0) {
        full = full || len >= 4 * CSVAE_Q8_0_BYTES;
        const __m512i flip = _mm512_set1_epi8((char)0x80);
        __m512i a = load_part(blk, len, 0, full), b = load_part(blk, len, 64, full);
        __m512i c = load_part(blk, len, 8, full), d = load_part(blk, len, 72, full);
        *lo = _mm512_xor_si512(_mm512_permutex2var_epi16(a, _mm512_loadu_si512(idx_q8_lo), b), flip);
        *hi = _mm512_xor_si512(_mm512_permutex2var_epi16(c, _mm512_loadu_si512(idx_q8_hi), d), flip);
        // scales: words 0, 17 of a; words 2, 19 of b (byte 68, 102)
        const __m512i si = _mm512_loadu_si512(sidx_q8);
        return _mm512_maskz_permutex2var_epi16(sw, a, si, b);
    }
    full = full || len >= 4 * CSVAE_Q4_0_BYTES;
    __m512i a = load_part(blk, len, 0, full), b = load_part(blk, len, 8, full);
    __m512i v = _mm512_permutex2var_epi16(a, _mm512_loadu_si512(idx_q4), b);
    const __m512i m = _mm512_set1_epi8(15);
    *lo = _mm512_and_si512(v, m);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
    const __m512i si = _mm512_loadu_si512(sidx_q4);
    return _mm512_maskz_permutexvar_epi16(sw, si, a);
}

/// Sums of adjacent lane pairs: lanes 0..7 from a, 8..15 from b.
MV_FN INLINE __m512i hpair(__m512i a, __m512i b) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_add_epi32(_mm512_permutex2var_epi32(a, ev, b), _mm512_permutex2var_epi32(a, od, b));
}

/// The repacked activations: row i, quad g at q + (i*nq + g)*128 (codes 0..15 of the 4 blocks,
/// then codes 16..31), corr + (i*nq + g)*16, and the block scales at d + i*nq*4 + b.
typedef struct {
    int8_t *q;
    int32_t *corr;
    float *d;
    size_t nq;
} mv_act;

static void mv_repack(mv_act *m, const csvae_qact *qa, size_t n, size_t nb) {
    memset(m->q, 0, n * m->nq * 128);
    memset(m->corr, 0, n * m->nq * 16 * sizeof(int32_t));
    memset(m->d, 0, (n * m->nq * 4 + 16) * sizeof(float));  // + 16: the last group loads 16 lanes
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < nb; b++) {
            size_t ab = i * nb + b, g = i * m->nq + b / 4, k = b % 4;
            memcpy(m->q + g * 128 + 16 * k, qa->q + ab * CSVAE_QK, 16);
            memcpy(m->q + g * 128 + 64 + 16 * k, qa->q + ab * CSVAE_QK + 16, 16);
            for (int l = 0; l < 4; l++) m->corr[g * 16 + 4 * k + l] = qa->corr[ab * 8 + l] + qa->corr[ab * 8 + 4 + l];
            m->d[i * m->nq * 4 + b] = qa->d[ab * 8];
        }
}

/// The body of an entry point: repack the activations on the stack (or return 0 when they do
/// not fit), then ROWS_FN(..., type, activation rows) with both as compile-time constants, so
/// the inner loops have no branches on them.
#define MV_TYPED(ROWS_FN, C) \
    (q8 ? ROWS_FN(y, ldy, w, CSVAE_Q8_0, &m, nb, r0, r1, C) : ROWS_FN(y, ldy, w, CSVAE_Q4_0, &m, nb, r0, r1, C))
#define MV_ENTRY(ROWS_FN)                                       \
    size_t nb = cols / CSVAE_QK, nq = (nb + 3) / 4;             \
    if (n < 1 || n > MV_MAXN || nq > MV_MAXQ) return 0;         \
    _Alignas(64) int8_t q[MV_MAXN * MV_MAXQ * 128];             \
    _Alignas(64) int32_t corr[MV_MAXN * MV_MAXQ * 16];          \
    _Alignas(64) float d[MV_MAXN * MV_MAXQ * 4 + 16];           \
    mv_act m = {q, corr, d, nq};                                \
    mv_repack(&m, qa, n, nb);                                   \
    int q8 = t == CSVAE_Q8_0;                                   \
    switch (n) {                                                \
    case 1: MV_TYPED(ROWS_FN, 1); break;                        \
    case 2: MV_TYPED(ROWS_FN, 2); break;                        \
    default: MV_TYPED(ROWS_FN, 3); break;                       \
    }                                                           \
    return 1;

/// NQ quads (NQ*4 blocks) from block b0 of a weight row times C activation rows, added to
/// acc[j]; left = blocks left in the row (> 4*NQ - 4; full: left >= 4*NQ, known at compile
/// time on the main path so the quads unroll without masks).
MV_FN INLINE void mv_group(__m512 *acc, const uint8_t *row, int t, const mv_act *m, size_t b0, size_t left,
                           const int NQ, const int full, const int C) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    __m512i s[4][MV_MAXN], sw = _mm512_setzero_si512();
    for (int k = 0; k < 4; k++) {
        if (k >= NQ) {
            for (int j = 0; j < C; j++) s[k][j] = _mm512_setzero_si512();
            continue;
        }
        __m512i lo, hi;
        sw = _mm512_or_si512(sw, quad_codes(row + (b0 + 4 * k) * bb, t, full ? 0 : (left - 4 * k) * bb, full, k, &lo, &hi));
        for (int j = 0; j < C; j++) {
            size_t g = j * m->nq + b0 / 4 + k;
            __m512i is = _mm512_dpbusd_epi32(_mm512_load_si512(m->corr + g * 16), lo, _mm512_load_si512(m->q + g * 128));
            s[k][j] = _mm512_dpbusd_epi32(is, hi, _mm512_load_si512(m->q + g * 128 + 64));
        }
    }
    __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(sw));
    for (int j = 0; j < C; j++) {
        __m512i isum = hpair(hpair(s[0][j], s[1][j]), hpair(s[2][j], s[3][j]));  // lane l: block b0 + l
        __m512 sc = _mm512_mul_ps(dw, _mm512_loadu_ps(m->d + j * m->nq * 4 + b0));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), sc, acc[j]);
    }
}

/// Weight rows [r0, r1) times C activation rows, in groups of 16 weight rows: the rows'
/// accumulators are summed by one csvae_lane_sums16 and stored with one (masked) store per
/// activation row. (Prefetching a group's bytes in one burst instead of per row was slower:
/// tools/bench/matvec_ab, q4_0 LM head hot 1.35x the per-row prefetch.)
MV_FN INLINE void mv_rows(float *y, size_t ldy, const uint8_t *w, int t, const mv_act *m, size_t nb, size_t r0,
                          size_t r1, const int C) {
    size_t rb = nb * (t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES), nb16 = nb & ~(size_t)15, left = nb - nb16;
    for (size_t r = r0; r < r1; r += 16) {
        size_t nr = r1 - r < 16 ? r1 - r : 16;
        __m512 acc[MV_MAXN][16];
        for (size_t i = nr; i < 16; i++)  // the rows past r1 of a last partial group sum to 0
            for (int j = 0; j < C; j++) acc[j][i] = _mm512_setzero_ps();
        for (size_t i = 0; i < nr; i++) {
            const uint8_t *row = w + (r + i) * rb;
            for (size_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)row + MV_PREFETCH + o, _MM_HINT_T0);
            __m512 a[MV_MAXN];
            for (int j = 0; j < C; j++) a[j] = _mm512_setzero_ps();
            for (size_t b0 = 0; b0 < nb16; b0 += 16) mv_group(a, row, t, m, b0, 16, 4, 1, C);
            switch ((left + 3) / 4) {  // the last 1..15 blocks
            case 1: mv_group(a, row, t, m, nb16, left, 1, 0, C); break;
            case 2: mv_group(a, row, t, m, nb16, left, 2, 0, C); break;
            case 3: mv_group(a, row, t, m, nb16, left, 3, 0, C); break;
            case 4: mv_group(a, row, t, m, nb16, left, 4, 0, C); break;
            default: break;
            }
            for (int j = 0; j < C; j++) acc[j][i] = a[j];
        }
        __mmask16 keep = (__mmask16)((1u << nr) - 1);
        for (int j = 0; j < C; j++) _mm512_mask_storeu_ps(y + j * ldy + r, keep, csvae_lane_sums16(acc[j]));
    }
}

MV_FN int csvae_matvec_quant_avx512(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n,
                                    size_t r0, size_t r1, size_t cols) {
    MV_ENTRY(mv_rows)
}

// MARK: AVX2 (no VNNI, no two-source permutes)
//
// The same repacked activations, a block pair (half a quad) per ymm: the 16 code bytes of each
// block are loaded into the two 128-bit halves, so q4_0's low and high nibbles are codes 0..15
// and 16..31 of both blocks and q8_0 takes two such loads. vpmaddubsw + vpmaddwd give 4 int32
// lanes per block (q8_0 with the |w| / sign(a, w) trick, exact without a bias; q4_0 nibbles
// plus corr4), two vphaddd levels reduce 8 blocks to one lane each (exact), then one FMA.

#define MV2_FN __attribute__((target("avx2,fma,f16c")))

/// int32 partial dots of blocks blk and blk + bb (4 lanes each; two = 0: the second block is
/// past the row end and reads as 0) with activation pair half h of quad g.
MV2_FN INLINE __m256i pair_avx2(const uint8_t *blk, const int t, int two, const int8_t *a, const int32_t *corr) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i al = _mm256_load_si256((const __m256i *)a), ah = _mm256_load_si256((const __m256i *)(a + 64));
#define LOAD2(o) (two ? _mm256_loadu2_m128i((const __m128i *)(blk + bb + (o)), (const __m128i *)(blk + (o))) \
                      : _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(blk + (o)))))
    if (t == CSVAE_Q8_0) {
        __m256i wl = LOAD2(2), wh = LOAD2(18);
        __m256i pl = _mm256_maddubs_epi16(_mm256_sign_epi8(wl, wl), _mm256_sign_epi8(al, wl));  // |pairs| <= 2*128*127
        __m256i ph = _mm256_maddubs_epi16(_mm256_sign_epi8(wh, wh), _mm256_sign_epi8(ah, wh));
        return _mm256_add_epi32(_mm256_madd_epi16(pl, ones), _mm256_madd_epi16(ph, ones));
    }
    __m256i v = LOAD2(2);
#undef LOAD2
    const __m256i m = _mm256_set1_epi8(15);
    __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, m), al),  // <= 4*15*127
                                 _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m), ah));
    return _mm256_add_epi32(_mm256_madd_epi16(p, ones), _mm256_load_si256((const __m256i *)corr));
}

/// 8 blocks from block b0 (left = blocks left in the row; full: left >= 8) of a weight row
/// times C activation rows, added to acc[j].
MV2_FN INLINE void mv2_group(__m256 *acc, const uint8_t *row, const int t, const mv_act *m, size_t b0, size_t left,
                             const int full, const int C) {
    size_t bb = t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES;
    __m256i s[4][MV_MAXN];
    uint16_t dh[8];
    for (size_t b = 0; b < 8; b++) dh[b] = full || b < left ? (uint16_t)(row[(b0 + b) * bb] | row[(b0 + b) * bb + 1] << 8) : 0;
    for (size_t p = 0; p < 4; p++) {
        size_t b = b0 + 2 * p;
        for (int j = 0; j < C; j++) {
            if (!full && 2 * p >= left) { s[p][j] = _mm256_setzero_si256(); continue; }
            size_t g = j * m->nq + b / 4, h = (b / 2) % 2;
            s[p][j] = pair_avx2(row + b * bb, t, full || 2 * p + 1 < left, m->q + g * 128 + 32 * h, m->corr + g * 16 + 8 * h);
        }
    }
    __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // hadd leaves blocks 0,2,4,6 | 1,3,5,7
    for (int j = 0; j < C; j++) {
        __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0][j], s[1][j]), _mm256_hadd_epi32(s[2][j], s[3][j]));
        __m256i isum = _mm256_permutevar8x32_epi32(hs, order);  // lane l: block b0 + l
        __m256 sc = _mm256_mul_ps(dw, _mm256_loadu_ps(m->d + j * m->nq * 4 + b0));
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc[j]);
    }
}

MV2_FN INLINE void mv2_rows(float *y, size_t ldy, const uint8_t *w, const int t, const mv_act *m, size_t nb,
                            size_t r0, size_t r1, const int C) {
    size_t rb = nb * (t == CSVAE_Q8_0 ? CSVAE_Q8_0_BYTES : CSVAE_Q4_0_BYTES), nb8 = nb & ~(size_t)7;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * rb;
        for (size_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)row + MV_PREFETCH + o, _MM_HINT_T0);
        __m256 acc[MV_MAXN];
        for (int j = 0; j < C; j++) acc[j] = _mm256_setzero_ps();
        for (size_t b0 = 0; b0 < nb8; b0 += 8) mv2_group(acc, row, t, m, b0, 8, 1, C);
        if (nb8 < nb) mv2_group(acc, row, t, m, nb8, nb - nb8, 0, C);
        for (int j = 0; j < C; j++) {
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[j]), _mm256_extractf128_ps(acc[j], 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            y[j * ldy + r] = _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
        }
    }
}

MV2_FN int csvae_matvec_quant_avx2(float *y, size_t ldy, const uint8_t *w, int t, const csvae_qact *qa, size_t n,
                                   size_t r0, size_t r1, size_t cols) {
    MV_ENTRY(mv2_rows)
}
#endif
