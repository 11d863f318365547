/* The exact grid search for the 2-d nearest centroid (nearest_grid.c), kept in bench/ until
 * ProductQuantizer's encoding calls it (issue 12, PQ without a cutoff on one thread;
 * bench/RESULTS.md, pq-12d): it is not in the library yet. */
#ifndef TM_NEAREST_GRID_H
#define TM_NEAREST_GRID_H

/* A grid over k 2-d centroids (g × g cells over their bounding box, each listing only the
 * centroids that can be nearest in it) for nearest-centroid searches with the answers of
 * tm_nearest2_sorted_avx2, bit for bit (nearest_grid.c). The caller owns the workspace:
 * tm_plane_grid_bytes(k, g) bytes, 64-byte aligned, set up once by tm_plane_grid_init
 * and rebuilt by tm_plane_grid_build for each new set of centroids [k × 2] (x and y
 * interleaved; it returns 0 when no grid could be made, a centroid not finite or beyond
 * 1e18 in magnitude, and the search then takes the sorted search for every point: still
 * exact when every centroid is finite). tm_plane_grid_nearest: out[i] = the index of the
 * centroid nearest to (points[i·stride], points[i·stride + 1]), or −1 when no distance
 * is finite (the caller then searches in full). Call only when tm_kernels_avx2() is 1,
 * and search only after a build whose centroids were all finite. */
long tm_plane_grid_bytes(long k, long g);
void tm_plane_grid_init(void *workspace, long k, long g);
int tm_plane_grid_build(void *workspace, const float *centroids);
void tm_plane_grid_nearest(const void *workspace, const float *points, long stride,
                                                                 long count, int *out);

#endif
