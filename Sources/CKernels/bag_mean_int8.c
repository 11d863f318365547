/* One text's mean row of an int8 embedding table (InputStage.bagMean(quantizedTable:)),
 * summed in integers.
 *
 * Row r is values_r · multipliers_r · unit: each row's f32 scale is stored once more,
 * at load, as a 15-bit multiplier of one table-wide unit (RowMultipliers). With every
 * row on the same unit, a text's sum is an integer sum: lane j of a text is
 *     out_j = (Σ_chunks float(Σ_{t in chunk} values[id_t][j] · m[id_t])) · (unit / length)
 * with chunks of 512 tokens in token order. The integer sums are exact, so they do not
 * depend on the order the rows are added in: the Swift loop adds one row at a time and
 * this kernel two at a time, and every float is the same (BagMeanKernelTests). The
 * floats only come in at each chunk's end (one conversion, one add) and at the end (one
 * multiply), in the same order on both paths.
 *
 * Why integers: converting each int8 value to float and multiplying it by its row's scale
 * (the kernel before this one) took three instructions a lane, where the f32 table's row
 * takes one add; an int8 row in cache cost ~1.5× an f32 row. Here two rows' bytes are
 * interleaved, widened to int16 and multiplied pairwise by their two multipliers with one
 * vpmaddwd (a0·mA + b0·mB per int32 lane), then added: four instructions per 8 lanes of
 * two rows.
 *
 * No overflow: |value| ≤ 127 (quantization clamps to ±127 and a model file holding −128
 * is refused) and 0 ≤ m ≤ 32767, so one row adds at most 127 · 32767 = 4,161,409 to a lane
 * (and one vpmaddwd pair 8,322,818, far from its only overflow, −32768 · −32768 · 2), and
 * 512 rows at most 2,130,641,408 ≤ 2^31 − 1 = 2,147,483,647: the int32 lanes are flushed
 * into the float sums every 512 tokens (TM_BAG_INT8_CHUNK), before any can overflow. */
#include "textmodel_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#pragma clang fp contract(off)

/* Four bytes from an unaligned address. */
static inline int load4(const signed char *p) {
    int v;
    memcpy(&v, p, 4);
    return v;
}

/* Lanes j0 ..< j0 + 16·G16 + 8·G8 + 4·G4 of the text's sum, in int32 registers over each
 * chunk of tokens, two tokens at a time (an odd last token is paired with itself at
 * multiplier 0). acc[2g], acc[2g + 1]: lanes j0 + 16g ..< +8 and +8 ..< +16 of group g;
 * acc[2·G16]: the 8-lane group; tail: the 4-lane group. Each chunk's sums go to out as
 * floats (stored on the first chunk, added after). The first pass prefetches the rows
 * `ahead` tokens on. */
#define INT8_BLOCK(G16, G8, G4, PREFETCH)                                                      \
    do {                                                                                       \
        enum { N8 = 2 * (G16) + (G8) };                                                        \
        for (long start = 0; start < length; start += TM_BAG_INT8_CHUNK) {                     \
            long end = start + TM_BAG_INT8_CHUNK < length ? start + TM_BAG_INT8_CHUNK : length; \
            __m256i acc[N8 > 0 ? N8 : 1];                                                      \
            __m128i tail = _mm_setzero_si128();                                                \
            for (int v = 0; v < N8; v++) acc[v] = _mm256_setzero_si256();                      \
            for (long t = start; t < end; t += 2) {                                            \
                if (PREFETCH && t + ahead < length) tm_prefetch_row(ROW(t + ahead), dim);      \
                if (PREFETCH && t + 1 + ahead < length) tm_prefetch_row(ROW(t + 1 + ahead), dim); \
                long ia = ids[offsets[t] + b];                                                 \
                const signed char *ra = values + ia * dim, *rb = ra;                           \
                int pair = (unsigned short)multipliers[ia];                                    \
                if (t + 1 < end) {                                                             \
                    long ib = ids[offsets[t + 1] + b];                                         \
                    rb = values + ib * dim;                                                    \
                    pair |= (int)multipliers[ib] << 16;                                        \
                }                                                                              \
                __m256i m = _mm256_set1_epi32(pair);                                           \
                for (int g = 0; g < (G16); g++) {                                              \
                    long j = j0 + 16 * g;                                                      \
                    __m128i a = _mm_loadu_si128((const __m128i *)(ra + j));                    \
                    __m128i c = _mm_loadu_si128((const __m128i *)(rb + j));                    \
                    acc[2 * g] = _mm256_add_epi32(acc[2 * g],                                  \
                        _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, c)), m));  \
                    acc[2 * g + 1] = _mm256_add_epi32(acc[2 * g + 1],                          \
                        _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, c)), m));  \
                }                                                                              \
                if (G8) {                                                                      \
                    long j = j0 + 16 * (G16);                                                  \
                    __m128i a = _mm_loadl_epi64((const __m128i *)(ra + j));                    \
                    __m128i c = _mm_loadl_epi64((const __m128i *)(rb + j));                    \
                    acc[N8 > 0 ? N8 - 1 : 0] = _mm256_add_epi32(acc[N8 > 0 ? N8 - 1 : 0],          \
                        _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, c)), m));  \
                }                                                                              \
                if (G4) {                                                                      \
                    long j = j0 + 16 * (G16) + 8 * (G8);                                       \
                    __m128i a = _mm_cvtsi32_si128(load4(ra + j)), c = _mm_cvtsi32_si128(load4(rb + j)); \
                    tail = _mm_add_epi32(tail, _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_unpacklo_epi8(a, c)), \
                                                              _mm256_castsi256_si128(m)));     \
                }                                                                              \
            }                                                                                  \
            for (int v = 0; v < N8; v++) {                                                     \
                long j = j0 + 8 * v;                                                           \
                __m256 f = _mm256_cvtepi32_ps(acc[v]);                                         \
                if (start > 0) f = _mm256_add_ps(_mm256_loadu_ps(out + j), f);                 \
                _mm256_storeu_ps(out + j, f);                                                  \
            }                                                                                  \
            if (G4) {                                                                          \
                long j = j0 + 8 * N8;                                                          \
                __m128 f = _mm_cvtepi32_ps(tail);                                              \
                if (start > 0) f = _mm_add_ps(_mm_loadu_ps(out + j), f);                       \
                _mm_storeu_ps(out + j, f);                                                     \
            }                                                                                  \
        }                                                                                      \
        j0 += 16 * (G16) + 8 * (G8) + 4 * (G4);                                                \
    } while (0)

/* INT8_BLOCK with PREFETCH a compile-time constant: prefetching on the first pass only. */
#define INT8_BLOCK_FIRST(G16, G8, G4)                                                          \
    do { if (first) INT8_BLOCK(G16, G8, G4, 1); else INT8_BLOCK(G16, G8, G4, 0); } while (0)
/* ... and the 8- and 4-lane groups after G16 16-lane ones chosen at run time. */
#define INT8_BLOCK_TAILS(G16)                                                                  \
    do {                                                                                       \
        if (g8 && g4) INT8_BLOCK_FIRST(G16, 1, 1);                                             \
        else if (g8) INT8_BLOCK_FIRST(G16, 1, 0);                                              \
        else if (g4) INT8_BLOCK_FIRST(G16, 0, 1);                                              \
        else INT8_BLOCK_FIRST(G16, 0, 0);                                                      \
    } while (0)

#define ROW(t) (values + (long)ids[offsets[(t)] + b] * dim)

/* Every lane: passes of 64 lanes (8 int32 registers), then one pass over what is left
 * (16-, 8- and 4-lane groups), then the last dim mod 4 lanes one at a time; then the
 * one multiply by unit / length. */
__attribute__((target("avx2")))
void tm_bag_mean_int8_avx2(const signed char *values, const short *multipliers, float unit, long dim, const int *ids,
                           const long *offsets, long b, long length, long ahead, float *restrict out) {
    if (length <= 0) {
        for (long j = 0; j < dim; j++) out[j] = 0.0f;
        return;
    }
    for (long t = 0; t < ahead && t < length; t++) tm_prefetch_row(ROW(t), dim);
    long j0 = 0;
    int first = 1;
    while (j0 + 64 <= dim) {
        INT8_BLOCK_FIRST(4, 0, 0);
        first = 0;
    }
    long left = dim - j0;
    int g8 = (left % 16) >= 8, g4 = (left % 8) >= 4;
    switch (left / 16) {
    case 0: INT8_BLOCK_TAILS(0); break;
    case 1: INT8_BLOCK_TAILS(1); break;
    case 2: INT8_BLOCK_TAILS(2); break;
    default: INT8_BLOCK_TAILS(3); break;
    }
    for (long j = j0; j < dim; j++) {
        float sum = 0.0f;
        for (long start = 0; start < length; start += TM_BAG_INT8_CHUNK) {
            long end = start + TM_BAG_INT8_CHUNK < length ? start + TM_BAG_INT8_CHUNK : length;
            int chunk = 0;
            for (long t = start; t < end; t++) {
                long id = ids[offsets[t] + b];
                chunk += (int)values[id * dim + j] * (int)multipliers[id];
            }
            sum = start > 0 ? sum + (float)chunk : (float)chunk;
        }
        out[j] = sum;
    }
    float factor = unit / (float)length;
    for (long j = 0; j < dim; j++) out[j] *= factor;
}

#undef ROW

#else

void tm_bag_mean_int8_avx2(const signed char *values, const short *multipliers, float unit, long dim, const int *ids,
                           const long *offsets, long b, long length, long ahead, float *restrict out) {
    (void)values; (void)multipliers; (void)unit; (void)dim; (void)ids; (void)offsets; (void)b; (void)length; (void)ahead;
    (void)out;
}

#endif
