/* One text's mean embedding row (InputStage.bagMean), 8 lanes at a time on CPUs with
 * AVX2: the same adds in the same order as the Swift loop (zeros, then each token's
 * row in token order, then one multiply by 1/length; no FMA), so every float equals the
 * Swift loop's (the int8 table's mean: bag_mean_int8.c). BagMeanKernelTests checks
 * this. Unlike the Swift loop, each block of lanes stays in registers over all the
 * text's rows; a dim of 100 takes two passes over the tokens (64 lanes, then 32 + 4),
 * where one lane at a time would take four more for its last 4 lanes. */
#include "textmodel_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma clang fp contract(off)

#if defined(__x86_64__)

/* Lanes j0 ..< j0 + 8·V (+ 4 more with TAIL4) of the sum over the text's rows, in
 * registers across all its tokens (each lane still adds the rows in token order): out
 * is stored once, not once a row. ADD8(acc, j, v) and ADD4(acc, j) are `acc` plus
 * lanes j + 8v ..< j + 8v + 8 and j ..< j + 4 of the row `row`. The first pass also
 * prefetches the rows `ahead` tokens on. */
#define BAG_BLOCK(V, TAIL4, PREFETCH)                                                          \
    do {                                                                                       \
        __m256 acc[(V) > 0 ? (V) : 1];                                                         \
        __m128 tail = _mm_setzero_ps();                                                        \
        for (int v = 0; v < (V); v++) acc[v] = _mm256_setzero_ps();                            \
        for (long t = 0; t < length; t++) {                                                    \
            if (PREFETCH && t + ahead < length) tm_prefetch_row(ROW(t + ahead), ROW_BYTES);    \
            long id = ids[offsets[t] + b];                                                     \
            ROW_SETUP(id);                                                                     \
            for (int v = 0; v < (V); v++) acc[v] = ADD8(acc[v], j0, v);                        \
            if (TAIL4) tail = ADD4(tail, j0 + 8 * (V));                                        \
        }                                                                                      \
        for (int v = 0; v < (V); v++) _mm256_storeu_ps(out + j0 + 8 * v, acc[v]);              \
        if (TAIL4) _mm_storeu_ps(out + j0 + 8 * (V), tail);                                    \
        j0 += 8 * (V) + 4 * (TAIL4);                                                           \
    } while (0)

/* BAG_BLOCK with PREFETCH a compile-time constant: prefetching on the first pass only. */
#define BAG_BLOCK_FIRST(V, TAIL4)                                                              \
    do { if (first) BAG_BLOCK(V, TAIL4, 1); else BAG_BLOCK(V, TAIL4, 0); } while (0)
/* ... and TAIL4 too: a 4-lane block after the V 8-lane ones when `tail4`. */
#define BAG_BLOCK_TAIL(V)                                                                      \
    do { if (tail4) BAG_BLOCK_FIRST(V, 1); else BAG_BLOCK_FIRST(V, 0); } while (0)

/* Every lane of the mean: passes of 64 lanes, then one pass over what is left (V blocks
 * of 8, a block of 4), then the last dim mod 4 lanes one at a time; then the scale. */
#define BAG_MEAN(SCALAR)                                                                       \
    do {                                                                                       \
        if (length <= 0) {                                                                     \
            for (long j = 0; j < dim; j++) out[j] = 0.0f;                                      \
            return;                                                                            \
        }                                                                                      \
        for (long t = 0; t < ahead && t < length; t++) tm_prefetch_row(ROW(t), ROW_BYTES);     \
        long j0 = 0;                                                                           \
        int first = 1;                                                                         \
        while (j0 + 64 <= dim) {                                                               \
            BAG_BLOCK_FIRST(8, 0);                                                             \
            first = 0;                                                                         \
        }                                                                                      \
        long left = dim - j0;                                                                  \
        if (left >= 4) {                                                                       \
            /* One pass: its 8-lane blocks and, if 4 or more lanes remain, a 4-lane one. */    \
            int tail4 = (left % 8) >= 4;                                                       \
            switch (left / 8) {                                                                \
            case 0: BAG_BLOCK_FIRST(0, 1); break;                                              \
            case 1: BAG_BLOCK_TAIL(1); break;                                                  \
            case 2: BAG_BLOCK_TAIL(2); break;                                                  \
            case 3: BAG_BLOCK_TAIL(3); break;                                                  \
            case 4: BAG_BLOCK_TAIL(4); break;                                                  \
            case 5: BAG_BLOCK_TAIL(5); break;                                                  \
            case 6: BAG_BLOCK_TAIL(6); break;                                                  \
            default: BAG_BLOCK_TAIL(7); break;                                                 \
            }                                                                                  \
        }                                                                                      \
        for (long j = j0; j < dim; j++) {                                                      \
            float sum = 0.0f;                                                                  \
            for (long t = 0; t < length; t++) sum = SCALAR(sum, ids[offsets[t] + b], j);       \
            out[j] = sum;                                                                      \
        }                                                                                      \
        float inverse = 1.0f / (float)length;                                                  \
        for (long j = 0; j < dim; j++) out[j] *= inverse;                                      \
    } while (0)

__attribute__((target("avx2")))
void tm_bag_mean_avx2(const float *table, long dim, const int *ids, const long *offsets, long b, long length,
                      long ahead, float *restrict out) {
#define ROW(t) (table + (long)ids[offsets[(t)] + b] * dim)
#define ROW_BYTES (4 * dim)
#define ROW_SETUP(id) const float *row = table + (id) * dim
#define ADD8(acc, j, v) _mm256_add_ps(acc, _mm256_loadu_ps(row + (j) + 8 * (v)))
#define ADD4(acc, j) _mm_add_ps(acc, _mm_loadu_ps(row + (j)))
#define F32_SCALAR(sum, id, j) (sum + table[(long)(id) * dim + (j)])
    BAG_MEAN(F32_SCALAR);
#undef F32_SCALAR
#undef ROW
#undef ROW_BYTES
#undef ROW_SETUP
#undef ADD8
#undef ADD4
}

#else

void tm_bag_mean_avx2(const float *table, long dim, const int *ids, const long *offsets, long b, long length,
                      long ahead, float *restrict out) {
    (void)table; (void)dim; (void)ids; (void)offsets; (void)b; (void)length; (void)ahead; (void)out;
}

#endif
