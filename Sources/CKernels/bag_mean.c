/* One text's mean embedding row (InputStage.bagMean), 8 lanes at a time on CPUs with
 * AVX2: the same adds in the same order as the Swift loop (zeros, then each token's
 * row in token order, then one multiply by 1/length; no FMA), so every float equals
 * the Swift loop's. BagMeanKernelTests checks this. Unlike the Swift loop, each block
 * of lanes stays in registers over all the text's rows. */
#include "textmodel_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma clang fp contract(off)

#if defined(__x86_64__)

/* Lanes j0 ..< j0 + 8·V of the sum over the text's rows, in V registers across all its
 * tokens (each lane still adds the rows in token order): out is stored once, not once a
 * row. The first block also prefetches the rows `ahead` tokens on. */
#define BAG_BLOCK(V, PREFETCH)                                                                 \
    do {                                                                                       \
        __m256 acc[V];                                                                         \
        for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();                              \
        for (long t = 0; t < length; t++) {                                                    \
            if (PREFETCH && t + ahead < length) tm_prefetch_row(ROW(t + ahead), 4 * dim);      \
            const float *row = ROW(t) + j0;                                                    \
            for (int v = 0; v < V; v++) acc[v] = _mm256_add_ps(acc[v], _mm256_loadu_ps(row + 8 * v)); \
        }                                                                                      \
        for (int v = 0; v < V; v++) _mm256_storeu_ps(out + j0 + 8 * v, acc[v]);                \
        j0 += 8 * V;                                                                           \
    } while (0)

__attribute__((target("avx2")))
void tm_bag_mean_avx2(const float *table, long dim, const int *ids, const long *offsets, long b, long length,
                      long ahead, float *restrict out) {
#define ROW(t) (table + (long)ids[offsets[(t)] + b] * dim)
    if (length <= 0) {
        for (long j = 0; j < dim; j++) out[j] = 0.0f;
        return;
    }
    for (long t = 0; t < ahead && t < length; t++) tm_prefetch_row(ROW(t), 4 * dim);
    long j0 = 0;
    int first = 1;
    while (j0 + 64 <= dim) { if (first) BAG_BLOCK(8, 1); else BAG_BLOCK(8, 0); first = 0; }
    if (j0 + 32 <= dim) { if (first) BAG_BLOCK(4, 1); else BAG_BLOCK(4, 0); first = 0; }
    while (j0 + 8 <= dim) { if (first) BAG_BLOCK(1, 1); else BAG_BLOCK(1, 0); first = 0; }
    for (long j = j0; j < dim; j++) {
        float sum = 0.0f;
        for (long t = 0; t < length; t++) sum += ROW(t)[j];
        out[j] = sum;
    }
    float scale = 1.0f / (float)length;
    for (long j = 0; j < dim; j++) out[j] *= scale;
#undef ROW
}

/* The int8 table's block (InputStage.bagMean(quantizedTable:)): each row's lanes are
 * widened to f32, multiplied by the row's scale, then added (no FMA), as the Swift loop
 * does; the row's bytes are a quarter of the f32 table's. */
#define BAG_BLOCK_I8(V, PREFETCH)                                                              \
    do {                                                                                       \
        __m256 acc[V];                                                                         \
        for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();                              \
        for (long t = 0; t < length; t++) {                                                    \
            if (PREFETCH && t + ahead < length) tm_prefetch_row(ROW(t + ahead), dim);         \
            long id = ids[offsets[t] + b];                                                     \
            const signed char *row = values + id * dim + j0;                                   \
            __m256 scale = _mm256_set1_ps(scales[id]);                                         \
            for (int v = 0; v < V; v++) {                                                      \
                __m128i bytes = _mm_loadl_epi64((const __m128i *)(row + 8 * v));               \
                __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));                    \
                acc[v] = _mm256_add_ps(acc[v], _mm256_mul_ps(x, scale));                       \
            }                                                                                  \
        }                                                                                      \
        for (int v = 0; v < V; v++) _mm256_storeu_ps(out + j0 + 8 * v, acc[v]);                \
        j0 += 8 * V;                                                                           \
    } while (0)

__attribute__((target("avx2")))
void tm_bag_mean_int8_avx2(const signed char *values, const float *scales, long dim, const int *ids, const long *offsets,
                           long b, long length, long ahead, float *restrict out) {
#define ROW(t) (values + (long)ids[offsets[(t)] + b] * dim)
    if (length <= 0) {
        for (long j = 0; j < dim; j++) out[j] = 0.0f;
        return;
    }
    for (long t = 0; t < ahead && t < length; t++) tm_prefetch_row(ROW(t), dim);
    long j0 = 0;
    int first = 1;
    while (j0 + 64 <= dim) { if (first) BAG_BLOCK_I8(8, 1); else BAG_BLOCK_I8(8, 0); first = 0; }
    if (j0 + 32 <= dim) { if (first) BAG_BLOCK_I8(4, 1); else BAG_BLOCK_I8(4, 0); first = 0; }
    while (j0 + 8 <= dim) { if (first) BAG_BLOCK_I8(1, 1); else BAG_BLOCK_I8(1, 0); first = 0; }
    for (long j = j0; j < dim; j++) {
        float sum = 0.0f;
        for (long t = 0; t < length; t++) {
            long id = ids[offsets[t] + b];
            sum += (float)values[id * dim + j] * scales[id];
        }
        out[j] = sum;
    }
    float inverse = 1.0f / (float)length;
    for (long j = 0; j < dim; j++) out[j] *= inverse;
#undef ROW
}

#else

void tm_bag_mean_int8_avx2(const signed char *values, const float *scales, long dim, const int *ids, const long *offsets,
                           long b, long length, long ahead, float *restrict out) {
    (void)values; (void)scales; (void)dim; (void)ids; (void)offsets; (void)b; (void)length; (void)ahead; (void)out;
}

void tm_bag_mean_avx2(const float *table, long dim, const int *ids, const long *offsets, long b, long length,
                      long ahead, float *restrict out) {
    (void)table; (void)dim; (void)ids; (void)offsets; (void)b; (void)length; (void)ahead; (void)out;
}

#endif
