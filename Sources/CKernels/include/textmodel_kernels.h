#ifndef TEXTMODEL_KERNELS_H
#define TEXTMODEL_KERNELS_H

/* Hot loops compiled for AVX2 and chosen at run time (see lstm_cell.c). */

/* 1 if this CPU runs the AVX2 kernels, else 0 (callers then run their own loops). */
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

/* Asks the CPU to start loading `bytes` bytes at `p` into cache (a hint: no effect on
 * results). The bag model sums rows of a large embedding table picked by token id,
 * so nearly every row is a cache miss; fetching the next token's row while the current
 * one is summed overlaps the misses. Swift has no prefetch of its own; this is inlined
 * into the Swift caller. */
static inline void tm_prefetch_row(const void *p, long bytes) {
    const char *c = (const char *)p;
    for (long k = 0; k < bytes; k += 64) __builtin_prefetch(c + k, 0, 3);
}

#endif
