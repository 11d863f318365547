/* The sorted 2-d nearest-centroid search of one point (nearest_centroid.c explains it),
 * shared with the grid search (bench/kernels/nearest_grid.c, until the library calls it), which falls back to it for points
 * outside its grid. Private to CKernels. */
#ifndef TM_NEAREST2_SORTED_H
#define TM_NEAREST2_SORTED_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

/* One block of 8 centroids against the point: each lane keeps its best (distance, id). */
__attribute__((target("avx2"), always_inline)) static inline void tm_n2_visit(const float *xs, const float *ys,
                                                                               const int32_t *ids, long block, __m256 px,
                                                                               __m256 py, __m256 *best, __m256i *best_id) {
    __m256 dx = _mm256_sub_ps(_mm256_loadu_ps(xs + 8 * block), px);
    __m256 dy = _mm256_sub_ps(_mm256_loadu_ps(ys + 8 * block), py);
    __m256 d = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
    __m256i id = _mm256_loadu_si256((const __m256i *)(ids + 8 * block));
    __m256 nearer = _mm256_cmp_ps(d, *best, _CMP_LT_OQ);
    __m256 tie = _mm256_and_ps(_mm256_cmp_ps(d, *best, _CMP_EQ_OQ), _mm256_castsi256_ps(_mm256_cmpgt_epi32(*best_id, id)));
    __m256 better = _mm256_or_ps(nearer, tie);
    *best = _mm256_blendv_ps(*best, d, better);
    *best_id = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*best_id), _mm256_castsi256_ps(id), better));
}

__attribute__((target("avx2"), always_inline)) static inline float tm_n2_lanes_min(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

/* The least id among the lanes whose distance is `nearest`, branch-free. */
__attribute__((target("avx2"), always_inline)) static inline int32_t tm_n2_least_id_at(__m256 best, __m256i best_id,
                                                                                        float nearest) {
    __m256 at = _mm256_cmp_ps(best, _mm256_set1_ps(nearest), _CMP_EQ_OQ);
    __m256i id = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_set1_epi32(INT32_MAX)), _mm256_castsi256_ps(best_id), at));
    __m128i m = _mm_min_epi32(_mm256_castsi256_si128(id), _mm256_extracti128_si256(id, 1));
    m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    return _mm_cvtsi128_si32(m);
}

enum { TM_N2_MAX_BLOCKS = 64 };

/* Each block's first (least) x, padded with +∞ to whole vectors of 8: `firsts` holds
 * 8·⌈blocks/8⌉ floats. Only when blocks ≤ TM_N2_MAX_BLOCKS. */
static inline void tm_n2_firsts(const float *xs, long blocks, float *firsts) {
    long first_vectors = (blocks + 7) / 8;
    for (long b = 0; b < first_vectors * 8; b++) firsts[b] = b < blocks ? xs[8 * b] : INFINITY;
}

/* The nearest centroid to (x, y), or −1 when no distance is finite. */
__attribute__((target("avx2"), always_inline)) static inline int tm_n2_sorted_one(const float *xs, const float *ys,
                                                                                   const int32_t *ids, long blocks,
                                                                                   const float *firsts, float x, float y) {
    /* The last block whose first x is below the point's (block 0 if none): blocks
     * before it lie wholly below x, blocks after it wholly at or above. */
    long below = 0;
    if (blocks <= TM_N2_MAX_BLOCKS) {
        __m256 px = _mm256_set1_ps(x);
        long first_vectors = (blocks + 7) / 8;
        for (long v = 0; v < first_vectors; v++)
            below += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(firsts + 8 * v), px, _CMP_LT_OQ)));
    } else {
        for (long b = 0; b < blocks; b++) below += xs[8 * b] < x ? 1 : 0;
    }
    long here = below > 0 ? below - 1 : 0;
    __m256 px = _mm256_set1_ps(x), py = _mm256_set1_ps(y);
    __m256 best = _mm256_set1_ps(INFINITY);
    __m256i best_id = _mm256_set1_epi32(INT32_MAX);
    /* The block and its two neighbours hold the nearest centroid most of the time. */
    tm_n2_visit(xs, ys, ids, here, px, py, &best, &best_id);
    long right = here + 1, left = here - 1;
    if (right < blocks) tm_n2_visit(xs, ys, ids, right++, px, py, &best, &best_id);
    if (left >= 0) tm_n2_visit(xs, ys, ids, left--, px, py, &best, &best_id);
    float nearest = tm_n2_lanes_min(best);
    while (right < blocks || left >= 0) {
        float to_right = right < blocks ? xs[8 * right] - x : INFINITY;
        float to_left = left >= 0 ? x - xs[8 * left + 7] : INFINITY;
        /* The loop runs while a side is left, so one of them is always there. */
        int go_right = right < blocks && (left < 0 || to_right <= to_left);
        float reach = go_right ? to_right : to_left;
        if (!(reach * reach <= nearest)) break;
        if (go_right) tm_n2_visit(xs, ys, ids, right++, px, py, &best, &best_id);
        else tm_n2_visit(xs, ys, ids, left--, px, py, &best, &best_id);
        nearest = tm_n2_lanes_min(best);
    }
    int32_t winner = tm_n2_least_id_at(best, best_id, nearest);
    /* No finite distance (a point or centroid beyond floats): the caller's full search. */
    return isfinite(nearest) && winner != INT32_MAX ? winner : -1;
}

#endif
#endif
