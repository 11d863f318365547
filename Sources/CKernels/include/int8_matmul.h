#ifndef TEXTMODEL_INT8_MATMUL_H
#define TEXTMODEL_INT8_MATMUL_H

#include <stdint.h>

/* int8 matrix products with int32 accumulation for quantized inference (see
 * int8_matmul.c and Tensors/QuantizedMatrix.swift). Three code paths give the same
 * int32 sums, and the same floats after them, to the bit: AVX-512 VNNI, AVX2, and
 * portable C; qmm_best_path() picks the fastest this CPU runs.
 *
 * A weight matrix b [n × k] (row j = output channel j, values in [−127, 127]) is
 * prepared once: its row sums (qmm_row_sums, into qmm_padded_columns(n) entries, the
 * ones past n zero) and, for the VNNI and AVX2 paths, a packed copy (qmm_pack, into
 * qmm_packed_bytes(n, k) bytes; AVX2 runs without it too, more slowly). Names start with qmm_: tm_ is the exported ABI's. */

enum { QMM_PORTABLE = 0, QMM_AVX2 = 1, QMM_VNNI = 2 };

/* The fastest path this CPU and OS run (checked once through cpuid). */
__attribute__((visibility("hidden"))) int qmm_best_path(void);

/* Whether `path` runs on this CPU (tests run every path that does). */
__attribute__((visibility("hidden"))) int qmm_path_supported(int path);

/* n rounded up to a multiple of 64: the entries of `sums` and columns of a packed b. */
__attribute__((visibility("hidden"))) long qmm_padded_columns(long n);

/* Bytes of b [n × k] packed for the VNNI and AVX2 paths. */
__attribute__((visibility("hidden"))) long qmm_packed_bytes(long n, long k);

/* packed = b [n × k] in the VNNI layout: per block of 16 columns, per group of 4 k,
 * 64 bytes (column c's 4 values at 4c), zeros past n and k. */
__attribute__((visibility("hidden"))) void qmm_pack(const int8_t *b, long n, long k, int8_t *packed);

/* sums[j] = Σ_k b[j·k + k'] for j < n (the VNNI path multiplies a + 128 as unsigned
 * bytes and subtracts 128 · the row sum). */
__attribute__((visibility("hidden"))) void qmm_row_sums(const int8_t *b, long n, long k, int32_t *sums);

/* out[i·n + j] = Σ_k a[i·k + k'] · b[j·k + k'] in int32: a [m × k] with values in
 * [−127, 127]. `packed` (or NULL: the VNNI path then runs AVX2's unpacked loop) and `sums` as above. */
__attribute__((visibility("hidden"))) void qmm_s8_gemm_s32(int path, const int8_t *a, long m, const int8_t *b,
                                                           const int8_t *packed, const int32_t *sums, long n, long k,
                                                           int32_t *out);

/* Quantizes x [m × k] (row stride ldx) row by row to int8: scales[i] = max|x_i| / 127 and
 * q[i·k + k'] = round-half-even(x / scales[i]) (0 for an all-zero row). */
__attribute__((visibility("hidden"))) void qmm_quantize_rows(const float *x, long m, long k, long ldx, int8_t *q, float *scales);

/* The quantized linear layer y = x · Wᵀ (+ bias) with W = diag(b_scales) · b: each row
 * of x [m × k] (contiguous) is quantized on the fly (qmm_quantize_rows), multiplied
 * with int32 sums s, and out[i·ldo + j] = (accumulate ? out[i·ldo + j] : 0)
 *   + ((float)s · (x_scale[i] · b_scales[j]) + (bias ? bias[j] : 0)).
 * Deterministic: each output depends on its own row of x only, never on m. */
__attribute__((visibility("hidden"))) void qmm_linear(int path, const float *x, long m, long k, const int8_t *b,
                                                      const int8_t *packed, const float *b_scales, const int32_t *sums,
                                                      long n, const float *bias, int accumulate, float *out, long ldo);

#endif
