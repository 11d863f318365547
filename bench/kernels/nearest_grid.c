/* The nearest 2-d centroid through a uniform grid over the centroids' bounding box: each
 * cell lists, in blocks of 4, only the centroids that can be nearest to some point of
 * the cell, so a point in the box checks a few candidates (k-means and encoding of a
 * product quantizer with dsub = 2). Points outside the box take the sorted search
 * (nearest2_sorted.h).
 *
 * Exactness: a centroid c is listed for a cell when its least squared distance to the
 * cell, L(c), is at most U · (1 + 1e-6) + 1e-40, U the least over all centroids of the
 * largest squared distance to the cell (exact values, computed in double from the
 * floats). The float distance (cx − x)² + (cy − y)² (three roundings, no contraction)
 * is within 3·2⁻²⁴ relative (plus ~2⁻¹⁴⁸ below the normal range) of the exact one, so a
 * centroid whose float distance is the least at a point of the cell (ties included)
 * passes: L(c)(1 − 3u) − t ≤ d̃(c) ≤ d̃(c') ≤ U(1 + 3u) + t, with u = 2⁻²⁴. The cells
 * are widened by 1% of their width on every side, more than the rounding of the
 * cell index computed for a point (a relative error of a few u of at most g cells). The
 * candidates are compared by the float distance and the least index on ties, as the full
 * search: the answer is the full search's, bit for bit. Every coordinate of the
 * centroids is at most 1e18 in magnitude (else no grid), so no distance in the box
 * overflows. */
#include "textmodel_kernels.h"
#include "nearest_grid.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include "nearest2_sorted.h"

typedef struct {
    float x[4], y[4];
    int32_t id[4];
} cell_block;

typedef struct {
    long k, g, sorted_blocks, capacity, used;
    int usable;
    float x0, y0, x1, y1, sx, sy;
    int32_t *order;      /* [k] centroid ids in x order, kept between builds (near-sorted input) */
    float *xs, *ys;      /* [8·⌈k/8⌉] sorted by x, padded with +∞ and 0 */
    int32_t *ids;        /* [8·⌈k/8⌉] padded with INT32_MAX */
    float *firsts;       /* [TM_N2_MAX_BLOCKS] */
    int32_t *start;      /* [g² + 1] each cell's first block */
    cell_block *blocks;  /* [capacity] */
} grid;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static long capacity_of(long k, long g) { return g * g * 6 + (k + 3) / 4 + 64; }

long tm_plane_grid_bytes(long k, long g) {
    if (k <= 0 || g <= 0) return 0;
    long padded = (k + 7) / 8 * 8;
    size_t n = align64(sizeof(grid)) + align64((size_t)k * 4) + 3 * align64((size_t)padded * 4) +
               align64(TM_N2_MAX_BLOCKS * 4) + align64((size_t)(g * g + 1) * 4) +
               (size_t)capacity_of(k, g) * sizeof(cell_block);
    return (long)n;
}

static grid *carve(void *workspace, long k, long g) {
    char *p = (char *)workspace;
    grid *w = (grid *)p;
    long padded = (k + 7) / 8 * 8;
    p += align64(sizeof(grid));
    w->order = (int32_t *)p; p += align64((size_t)k * 4);
    w->xs = (float *)p; p += align64((size_t)padded * 4);
    w->ys = (float *)p; p += align64((size_t)padded * 4);
    w->ids = (int32_t *)p; p += align64((size_t)padded * 4);
    w->firsts = (float *)p; p += align64(TM_N2_MAX_BLOCKS * 4);
    w->start = (int32_t *)p; p += align64((size_t)(g * g + 1) * 4);
    w->blocks = (cell_block *)p;
    return w;
}

void tm_plane_grid_init(void *workspace, long k, long g) {
    grid *w = carve(workspace, k, g);
    w->k = k;
    w->g = g;
    w->capacity = capacity_of(k, g);
    w->usable = 0;
    for (long c = 0; c < k; c++) w->order[c] = (int32_t)c;
}

/* x order, then the id: a total order, so the sorted arrays do not depend on the start. */
static int before(const float *centroids, int32_t a, int32_t b) {
    float xa = centroids[2 * a], xb = centroids[2 * b];
    return xa < xb || (xa == xb && a < b);
}

__attribute__((target("avx2")))
int tm_plane_grid_build(void *workspace, const float *centroids) {
    grid *w = (grid *)workspace;
    long k = w->k, g = w->g;
    w->usable = 0;
    for (long i = 0; i < 2 * k; i++)
        if (!(fabsf(centroids[i]) <= 1e18f)) return 0;   /* NaN fails too */
    /* Insertion sort from the last build's order: k-means moves centroids a little. */
    int32_t *order = w->order;
    for (long i = 1; i < k; i++) {
        int32_t c = order[i];
        long j = i;
        while (j > 0 && before(centroids, c, order[j - 1])) { order[j] = order[j - 1]; j--; }
        order[j] = c;
    }
    long padded = (k + 7) / 8 * 8;
    float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (long i = 0; i < padded; i++) {
        if (i < k) {
            int32_t c = order[i];
            float x = centroids[2 * c], y = centroids[2 * c + 1];
            w->xs[i] = x; w->ys[i] = y; w->ids[i] = c;
            x0 = fminf(x0, x); x1 = fmaxf(x1, x); y0 = fminf(y0, y); y1 = fmaxf(y1, y);
        } else {
            w->xs[i] = INFINITY; w->ys[i] = 0; w->ids[i] = INT32_MAX;
        }
    }
    w->sorted_blocks = padded / 8;
    if (w->sorted_blocks <= TM_N2_MAX_BLOCKS) tm_n2_firsts(w->xs, w->sorted_blocks, w->firsts);
    w->x0 = x0; w->x1 = x1; w->y0 = y0; w->y1 = y1;
    /* A flat box has one cell across: every point of it is on the box's edge. */
    float wx = x1 - x0, wy = y1 - y0;
    w->sx = wx > 0 ? (float)g / wx : 0;
    w->sy = wy > 0 ? (float)g / wy : 0;
    if (!isfinite(w->sx) || !isfinite(w->sy)) return 0;
    double cw = (double)(x1 - x0) / (double)g, ch = (double)(y1 - y0) / (double)g;
    long used = 0;
    for (long j = 0; j < g; j++) {
        double ay = (double)y0 + ((double)j - 0.01) * ch, by = (double)y0 + ((double)j + 1.01) * ch;
        for (long i = 0; i < g; i++) {
            double ax = (double)x0 + ((double)i - 0.01) * cw, bx = (double)x0 + ((double)i + 1.01) * cw;
            /* A first bound from the centroid nearest the cell's centre. */
            int near = tm_n2_sorted_one(w->xs, w->ys, w->ids, w->sorted_blocks, w->firsts,
                                        (float)(0.5 * (ax + bx)), (float)(0.5 * (ay + by)));
            if (near < 0) return 0;
            double nx = centroids[2 * near], ny = centroids[2 * near + 1];
            double fx = fmax(fabs(nx - ax), fabs(nx - bx)), fy = fmax(fabs(ny - ay), fabs(ny - by));
            double u = fx * fx + fy * fy;
            /* Only centroids within √u of the cell in x can do better or be listed. */
            /* (The last term: more than the rounding of ax − reach and bx + reach.) */
            double reach = sqrt(u) * (1 + 1e-6) + 1e-20 + 1e-12 * (fabs(ax) + fabs(bx));
            long lo = 0, hi = k;   /* first sorted position with x ≥ ax − reach */
            while (lo < hi) {
                long mid = (lo + hi) / 2;
                if ((double)w->xs[mid] < ax - reach) lo = mid + 1; else hi = mid;
            }
            long first = lo, last = lo;
            while (last < k && (double)w->xs[last] <= bx + reach) last++;
            for (long s = first; s < last; s++) {
                double cx = w->xs[s], cy = w->ys[s];
                double mx = fmax(fabs(cx - ax), fabs(cx - bx)), my = fmax(fabs(cy - ay), fabs(cy - by));
                double m = mx * mx + my * my;
                if (m < u) u = m;
            }
            double limit = u * (1 + 1e-6) + 1e-40;
            w->start[j * g + i] = (int32_t)used;
            long lane = 4;
            for (long s = first; s < last; s++) {
                double cx = w->xs[s], cy = w->ys[s];
                double lx = fmax(fmax(ax - cx, cx - bx), 0), ly = fmax(fmax(ay - cy, cy - by), 0);
                if (lx * lx + ly * ly > limit) continue;
                if (lane == 4) {
                    if (used == w->capacity) return 0;
                    cell_block *b = &w->blocks[used++];
                    for (int l = 0; l < 4; l++) { b->x[l] = INFINITY; b->y[l] = 0; b->id[l] = INT32_MAX; }
                    lane = 0;
                }
                cell_block *b = &w->blocks[used - 1];
                b->x[lane] = w->xs[s]; b->y[lane] = w->ys[s]; b->id[lane] = w->ids[s];
                lane++;
            }
        }
    }
    w->start[g * g] = (int32_t)used;
    w->used = used;
    w->usable = 1;
    return 1;
}

__attribute__((target("avx2")))
void tm_plane_grid_nearest(const void *workspace, const float *points, long stride, long count, int *out) {
    const grid *w = (const grid *)workspace;
    long g = w->g;
    const float x0 = w->x0, x1 = w->x1, y0 = w->y0, y1 = w->y1, sx = w->sx, sy = w->sy;
    for (long p = 0; p < count; p++) {
        float x = points[p * stride], y = points[p * stride + 1];
        if (!w->usable || !(x >= x0 && x <= x1 && y >= y0 && y <= y1)) {
            out[p] = tm_n2_sorted_one(w->xs, w->ys, w->ids, w->sorted_blocks, w->firsts, x, y);
            continue;
        }
        long i = (long)((x - x0) * sx), j = (long)((y - y0) * sy);
        i = i < g - 1 ? i : g - 1;
        j = j < g - 1 ? j : g - 1;
        long cell = j * g + i;
        const cell_block *b = w->blocks + w->start[cell], *end = w->blocks + w->start[cell + 1];
        __m128 px = _mm_set1_ps(x), py = _mm_set1_ps(y);
        __m128 best = _mm_set1_ps(INFINITY);
        __m128i best_id = _mm_set1_epi32(INT32_MAX);
        for (; b < end; b++) {
            __m128 dx = _mm_sub_ps(_mm_loadu_ps(b->x), px), dy = _mm_sub_ps(_mm_loadu_ps(b->y), py);
            __m128 d = _mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dy, dy));
            __m128i id = _mm_loadu_si128((const __m128i *)b->id);
            __m128 nearer = _mm_cmplt_ps(d, best);
            __m128 tie = _mm_and_ps(_mm_cmpeq_ps(d, best), _mm_castsi128_ps(_mm_cmpgt_epi32(best_id, id)));
            __m128 better = _mm_or_ps(nearer, tie);
            best = _mm_blendv_ps(best, d, better);
            best_id = _mm_castps_si128(_mm_blendv_ps(_mm_castsi128_ps(best_id), _mm_castsi128_ps(id), better));
        }
        __m128 m = _mm_min_ps(best, _mm_movehl_ps(best, best));
        m = _mm_min_ps(m, _mm_shuffle_ps(m, m, 0x55));
        __m128 at = _mm_cmpeq_ps(best, _mm_shuffle_ps(m, m, 0));
        __m128i id = _mm_castps_si128(_mm_blendv_ps(_mm_castsi128_ps(_mm_set1_epi32(INT32_MAX)), _mm_castsi128_ps(best_id), at));
        id = _mm_min_epi32(id, _mm_shuffle_epi32(id, 0x4E));
        id = _mm_min_epi32(id, _mm_shuffle_epi32(id, 0xB1));
        out[p] = _mm_cvtsi128_si32(id);
    }
}

#else

long tm_plane_grid_bytes(long k, long g) { (void)k; (void)g; return 0; }
void tm_plane_grid_init(void *workspace, long k, long g) { (void)workspace; (void)k; (void)g; }
int tm_plane_grid_build(void *workspace, const float *centroids) { (void)workspace; (void)centroids; return 0; }
void tm_plane_grid_nearest(const void *workspace, const float *points, long stride, long count, int *out) {
    (void)workspace; (void)points; (void)stride;
    for (long i = 0; i < count; i++) out[i] = -1;
}

#endif
