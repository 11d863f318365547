/* The nearest centroid of 2-d points (product quantization with dsub = 2: k-means and
 * encoding), reading only the centroids that can be nearest.
 *
 * The centroids come sorted by x, in blocks of 8. A search starts at the block where
 * the point's x falls (and its two neighbours) and widens left or right, always on the side whose nearest x is
 * closer, while that x alone, (cx − x)², is no more than the best distance found: a
 * block beyond it holds no centroid as near or nearer (rounding is monotone, so the
 * float distance is at least the float (cx − x)²). Distances are KMeans.nearest's,
 * (cx − x)² + (cy − y)² with the same IEEE operations (no contraction), and ties go to
 * the least centroid index, whatever the order of the visits: the answer is the full
 * search's, bit for bit. */
#include "textmodel_kernels.h"

#include <math.h>
#include <stdint.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include "nearest2_sorted.h"

__attribute__((target("avx2")))
void tm_nearest2_sorted_avx2(const float *xs, const float *ys, const int *ids, long k, const float *points,
                             long stride, long count, int *out) {
    if (k <= 0) return;
    long blocks = (k + 7) / 8;
    float firsts[TM_N2_MAX_BLOCKS];
    if (blocks <= TM_N2_MAX_BLOCKS) tm_n2_firsts(xs, blocks, firsts);
    for (long i = 0; i < count; i++)
        out[i] = tm_n2_sorted_one(xs, ys, ids, blocks, firsts, points[i * stride], points[i * stride + 1]);
}

#else

void tm_nearest2_sorted_avx2(const float *xs, const float *ys, const int *ids, long k, const float *points,
                             long stride, long count, int *out) {
    (void)xs; (void)ys; (void)ids; (void)k; (void)points; (void)stride;
    for (long i = 0; i < count; i++) out[i] = -1;
}

#endif
