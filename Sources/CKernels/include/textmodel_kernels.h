#ifndef TEXTMODEL_KERNELS_H
#define TEXTMODEL_KERNELS_H

/* Hot loops compiled for AVX2 (with FMA) or AVX-512 and chosen at run time (see lstm_cell.c,
 * recurrent_gemm.c). */

/* 1 if this CPU runs the AVX2 kernels (AVX2 and FMA), else 0 (callers then run their own loops). */
__attribute__((visibility("hidden"))) int tm_kernels_avx2(void);

/* One LSTM step over `rows` rows (see LSTMLayer.forward(projected:)): gates [rows × 4h]
 * hold the pre-activations i, f, g, o on entry and their activations on return;
 * cells and hidden [rows × h] get c and h; previous_cells [rows × h] is c of the step
 * before, or NULL at the first step. Call only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_lstm_step_avx2(float *gates, float *cells, float *hidden, const float *previous_cells, long rows, long h);

/* One step of the LSTM backward pass over `rows` rows (see LSTMLayer.backwardStep):
 * gates [rows × 4h] activated, cells [rows × h], previous_cells [rows × h] or NULL at
 * the first step, d_hidden [rows × h] the states' gradients; carry [rows × h] holds the
 * cells' gradient from the step after on entry and passes it to the step before on
 * return; d_gates [rows × 4h] gets the gradients of the gates' pre-activations. Call
 * only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_lstm_backward_step_avx2(const float *gates, const float *cells, const float *previous_cells,
                                                                     const float *d_hidden, float *carry, float *d_gates, long rows, long h);

/* Asks the CPU to start loading every 64-byte cache line of the `bytes` bytes at `p`
 * (a hint: no effect on results). The bag model sums rows of a large embedding table
 * picked by token id, so nearly every row is a cache miss; fetching the next token's
 * row while the current one is summed overlaps the misses. The lines counted from the
 * row's first line, not from `p`: a 100-byte int8 row starting past byte 28 of a line
 * spans three lines, of which steps of 64 from `p` reach only two. Swift has no
 * prefetch of its own; this is inlined into the Swift caller. */
static inline void tm_prefetch_row(const void *p, long bytes) {
    const char *c = (const char *)p, *end = c + bytes;
    for (c -= (unsigned long)c % 64; c < end; c += 64) __builtin_prefetch(c, 0, 3);
}

/* Text b's mean embedding row of a packed batch (InputStage.bagMean): out [dim] =
 * (Σ over t < length, in order, of table row ids[offsets[t] + b]) × (1 / length), zeros
 * for length 0; rows `ahead` tokens on are prefetched. Call only when tm_kernels_avx2()
 * is 1. */
__attribute__((visibility("hidden"))) void tm_bag_mean_avx2(const float *table, long dim, const int *ids, const long *offsets,
                                                           long b, long length, long ahead, float *restrict out);

/* Rows of an int8 table's text sum added in int32 before a flush into the float sums:
 * 512 rows of at most 127 · 32767 each stay below 2^31 (bag_mean_int8.c). */
#define TM_BAG_INT8_CHUNK 512

/* The same mean over an int8 table whose row r is values_r · multipliers_r · unit
 * (0 ≤ multipliers_r ≤ 32767, |values| ≤ 127), summed in int32 over each chunk of
 * TM_BAG_INT8_CHUNK tokens, chunks added as floats, then × (unit / length), as
 * InputStage.bagMean(quantizedTable:)'s Swift loop; rows `ahead` tokens on are
 * prefetched. Call only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_bag_mean_int8_avx2(const signed char *values, const short *multipliers,
                                                                float unit, long dim, const int *ids, const long *offsets,
                                                                long b, long length, long ahead, float *restrict out);

/* The nearest of k 2-d centroids to each of `count` points (x at points[i·stride], y
 * next to it), as KMeans.nearest finds it (squared distance, the least index on ties),
 * visiting only the centroids that can be nearest (nearest_centroid.c). xs, ys, ids:
 * the centroids sorted by x (ids: their indices), 8·⌈k/8⌉ entries, padded with x = +∞,
 * y = 0 and id = INT32_MAX; every x and y finite. out[i] gets the index, or −1 when no
 * distance is finite (the caller then searches in full). Call only when
 * tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_nearest2_sorted_avx2(const float *xs, const float *ys, const int *ids, long k,
                                                                  const float *points, long stride, long count, int *out);

/* out [2m] += weight × the row that `code` [m] stands for, with dsub = 2: codebooks
 * [m × ksub × 2], each product rounded, then added, as ProductQuantizer.addDecoded
 * (pq_decode.c). Call only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_pq2_add_row_avx2(const unsigned char *code, const float *codebooks, long m, long ksub,
                                                              float weight, float *out);

/* Four rows at a time, whether each of `count` rows [dim] still equals its seeded
 * uniform draws on [low, high) (seeded_rows.c): lane l reads rows[l] [count × dim],
 * drawing from xoshiro256** state l (states [4 × 4]: word w of lane l at 4w + l,
 * advanced on return), and sets out[l][r] to 1 when row r equals its draws, else 0.
 * SeededGenerator.uniform's floats, bit for bit. Call only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_untouched_rows4_avx2(unsigned long long *states, const float *const *rows, long count,
                                                                  long dim, float low, float high, unsigned char *const *out);

/* out [outputs] = bias + x [inputs] · Wᵀ (W [outputs × inputs] row-major): one row of
 * Linear.forward with OpenBLAS's Haswell/Zen sgemm sums, each output's products fused
 * in input order from 0, then added to its bias (linear_row.c). Call only when
 * tm_kernels_fma() (recurrent_gemm_avx2.c) is 1. */
__attribute__((visibility("hidden"))) void tm_linear_row_fma(const float *x, const float *w, const float *bias, long inputs,
                                                            long outputs, float *out);

/* ---- Recurrent step products for AVX-512 CPUs (recurrent_gemm.c) ---- */

/* 1 if this CPU runs the AVX-512 kernels below, else 0 (callers then use OpenBLAS). */
__attribute__((visibility("hidden"))) int tm_kernels_avx512(void);

/* Floats tm_pack_panels writes for a k × n matrix: n rounded up to 64, times k. */
__attribute__((visibility("hidden"))) long tm_packed_panels_floats(long k, long n);

/* Packs B [k × n] (row stride ldb; with `transposed`, B is the transpose of the stored
 * [n × k] matrix) into panels of 64 columns, zero-padded: packed[(j/64)·k·64 + p·64 + j%64]. */
__attribute__((visibility("hidden"))) void tm_pack_panels(long k, long n, const float *b, long ldb, int transposed, float *packed);

/* C [m × n] (row stride ldc) += A [m × k] (row stride lda) · B, B packed by tm_pack_panels.
 * Each element adds its k products in order of k with fused multiply-adds: the result of
 * a row does not depend on m or on the other rows. Call only when tm_kernels_avx512() is 1. */
__attribute__((visibility("hidden"))) void tm_gemm_packed_avx512(long m, long n, long k, const float *a, long lda,
                                                                const float *packed, float *c, long ldc);

/* C [m × n] (row stride ldc) += op(A) · B with B a plain row-major [k × n] matrix (row
 * stride ldb > 0); op(A) [m × k] is A (row stride lda) or, with transposed_a, the
 * transpose of the stored [k × m] A. The same order of additions as tm_gemm_packed_avx512.
 * For the once-per-batch products of the recurrent layers' backward pass. Call only when
 * tm_kernels_avx512() is 1. */
__attribute__((visibility("hidden"))) void tm_gemm_avx512(int transposed_a, long m, long n, long k, const float *a, long lda,
                                                         const float *b, long ldb, float *c, long ldc);

/* One LSTM step over `rows` rows, the recurrent product fused with the gate math: for
 * each block of 6 rows, gates [rows × 4h] += previous_hidden [rows × h] · W_hhᵀ (packed
 * by tm_pack_panels(h, 4h, W_hh, h, 1, …); skipped when previous_hidden is NULL), then
 * tm_lstm_step_avx2 on those rows while they are in L1. */
__attribute__((visibility("hidden"))) void tm_lstm_step_fused_avx512(long rows, long h, const float *previous_hidden,
                                                                    const float *packed, float *gates, float *cells,
                                                                    float *hidden, const float *previous_cells);

/* Adam's update of params[0..<count] (see Adam.update): the same operations in the same
 * order as the Swift loop, so the same floats. Call only when tm_kernels_avx512() is 1. */
__attribute__((visibility("hidden"))) void tm_adam_update_avx512(float *params, float *grads, float *m, float *v, long count,
                                                                float b1, float b2, float eps, float step_size,
                                                                float inv_root, float decay, float l2);

/* The same update 8 lanes at a time, the same floats. Call only when tm_kernels_avx2() is 1. */
__attribute__((visibility("hidden"))) void tm_adam_update_avx2(float *params, float *grads, float *m, float *v, long count,
                                                              float b1, float b2, float eps, float step_size,
                                                              float inv_root, float decay, float l2);

/* ---- The same recurrent step products for CPUs with AVX2 and FMA (recurrent_gemm_avx2.c) ---- */

/* Each takes the arguments of its _avx512 namesake above, reads the same tm_pack_panels
 * panels and returns the same floats (every element's k products added in order of k
 * with fused multiply-adds). */

/* 1 if this CPU runs the AVX2 + FMA kernels below, else 0 (callers then use OpenBLAS). */
__attribute__((visibility("hidden"))) int tm_kernels_fma(void);

/* tm_gemm_packed_avx512 with 8 lanes. Call only when tm_kernels_fma() is 1. */
__attribute__((visibility("hidden"))) void tm_gemm_packed_avx2(long m, long n, long k, const float *a, long lda,
                                                              const float *packed, float *c, long ldc);

/* tm_gemm_avx512 with 8 lanes. Call only when tm_kernels_fma() is 1. */
__attribute__((visibility("hidden"))) void tm_gemm_avx2(int transposed_a, long m, long n, long k, const float *a, long lda,
                                                       const float *b, long ldb, float *c, long ldc);

/* tm_lstm_step_fused_avx512 with 8 lanes. Call only when tm_kernels_fma() is 1. */
__attribute__((visibility("hidden"))) void tm_lstm_step_fused_avx2(long rows, long h, const float *previous_hidden,
                                                                  const float *packed, float *gates, float *cells,
                                                                  float *hidden, const float *previous_cells);

#endif
