/* recurrent_gemm.c's step products for CPUs with AVX2 and FMA but no AVX-512 (chosen at
 * run time; recurrent_gemm.c says why the weights are packed once per pass).
 *
 * The same panels (tm_pack_panels: 64 columns, zero-padded) and the same floats: every
 * element of C adds its k products in order of k, one fused multiply-add each, starting
 * from C's value, so these kernels return the AVX-512 ones' bits. Only the register
 * blocking differs: 16 registers of 8 lanes hold at most 6 rows × 16 columns of C, and a
 * 64-column panel is walked as four strips of 16 (each strip reads whole cache lines). */
#include "textmodel_kernels.h"

#include <stddef.h>

#if defined(__x86_64__)
#include <immintrin.h>

int tm_kernels_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

enum { PANEL = 64, ROWS = 6, STRIP = 16 };

/* C[MR × 8·NV] += A[MR × k] · B[k × 8·NV], NV ≤ 2, B's rows `ldb` floats apart. With
 * MASKED the last vector of every row of B and C is read and written under `mask` (the
 * columns past n). A(r, p) is a[r·lda + p], or a[p·lda + r] with TA (A stored
 * transposed). MR, NV, TA and MASKED are constants at every call, so the accumulators
 * live in registers. */
__attribute__((target("avx2,fma"), always_inline))
static inline void block(const int MR, const int NV, const int TA, const int MASKED, long k, const float *restrict a,
                         long lda, const float *restrict b, long ldb, float *restrict c, long ldc, __m256i mask) {
    __m256 acc[ROWS][2];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = MASKED && v == NV - 1 ? _mm256_maskload_ps(c + r * ldc + 8 * v, mask)
                                              : _mm256_loadu_ps(c + r * ldc + 8 * v);
    for (long p = 0; p < k; p++) {
        __m256 bv[2];
        for (int v = 0; v < NV; v++)
            bv[v] = MASKED && v == NV - 1 ? _mm256_maskload_ps(b + p * ldb + 8 * v, mask)
                                          : _mm256_loadu_ps(b + p * ldb + 8 * v);
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(TA ? a + p * lda + r : a + r * lda + p);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) {
            if (MASKED && v == NV - 1) _mm256_maskstore_ps(c + r * ldc + 8 * v, mask, acc[r][v]);
            else _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
        }
}

/* One strip of `width` ≤ 16 columns for MR rows. */
__attribute__((target("avx2,fma"), always_inline))
static inline void rows_block(const int MR, const int TA, long width, long k, const float *a, long lda, const float *b,
                              long ldb, float *c, long ldc) {
    long nv = (width + 7) / 8, tail = width - 8 * (nv - 1);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if (tail == 8) {
        if (nv == 2) block(MR, 2, TA, 0, k, a, lda, b, ldb, c, ldc, mask);
        else block(MR, 1, TA, 0, k, a, lda, b, ldb, c, ldc, mask);
    } else {
        if (nv == 2) block(MR, 2, TA, 1, k, a, lda, b, ldb, c, ldc, mask);
        else block(MR, 1, TA, 1, k, a, lda, b, ldb, c, ldc, mask);
    }
}

/* C[mr × n] += A[mr × k] · B, mr ≤ ROWS: every 16-column strip for the same rows. B is
 * packed panels (ldb 0) or a plain row-major [k × n] matrix with row stride ldb. */
__attribute__((target("avx2,fma"), always_inline))
static inline void strip(const int TA, long mr, long n, long k, const float *a, long lda, const float *b, long ldb,
                         float *c, long ldc) {
    for (long j0 = 0; j0 < n; j0 += STRIP) {
        long width = n - j0 < STRIP ? n - j0 : STRIP;
        const float *columns = ldb ? b + j0 : b + (j0 / PANEL) * k * PANEL + j0 % PANEL;
        long stride = ldb ? ldb : PANEL;
        switch (mr) {
        case 6: rows_block(6, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        case 5: rows_block(5, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        case 4: rows_block(4, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        case 3: rows_block(3, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        case 2: rows_block(2, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        default: rows_block(1, TA, width, k, a, lda, columns, stride, c + j0, ldc); break;
        }
    }
}

__attribute__((target("avx2,fma")))
static void strip_plain(long mr, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    strip(0, mr, n, k, a, lda, b, ldb, c, ldc);
}

__attribute__((target("avx2,fma")))
static void strip_transposed(long mr, long n, long k, const float *a, long lda, const float *b, long ldb, float *c,
                             long ldc) {
    strip(1, mr, n, k, a, lda, b, ldb, c, ldc);
}

__attribute__((target("avx2,fma")))
static void row_strip(long mr, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    strip(0, mr, n, k, a, lda, packed, 0, c, ldc);
}

/* The rows of the next block when `remaining` rows are left: the blocks of ≤ 6 rows made
 * as even as they go (32 rows as 6, 6, 5, 5, 5, 5 rather than five 6s and a 2, whose 4
 * accumulators are fewer than the fused multiply-adds in flight). A row's floats do not
 * depend on its block. */
static long block_rows(long remaining) {
    long blocks = (remaining + ROWS - 1) / ROWS;
    return (remaining + blocks - 1) / blocks;
}

/* The plain product's k is cut into slices of this many, so that a block's slice of A
 * (6 columns of a transposed A touch one cache line per k) stays in L1 across the strips.
 * C is stored and reloaded between slices, which leaves every element's additions and
 * their order as they were. */
enum { K_SLICE = 128 };

void tm_gemm_avx2(int transposed_a, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                  float *c, long ldc) {
    if (ldb <= 0) return;
    for (long i = 0, mr; i < m; i += mr) {
        mr = block_rows(m - i);
        for (long p = 0; p < k; p += K_SLICE) {
            long kc = k - p < K_SLICE ? k - p : K_SLICE;
            if (transposed_a) strip_transposed(mr, n, kc, a + p * lda + i, lda, b + p * ldb, ldb, c + i * ldc, ldc);
            else strip_plain(mr, n, kc, a + i * lda + p, lda, b + p * ldb, ldb, c + i * ldc, ldc);
        }
    }
}

void tm_gemm_packed_avx2(long m, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    for (long i = 0, mr; i < m; i += mr) {
        mr = block_rows(m - i);
        row_strip(mr, n, k, a + i * lda, lda, packed, c + i * ldc, ldc);
    }
}

void tm_lstm_step_fused_avx2(long rows, long h, const float *previous_hidden, const float *packed, float *gates,
                             float *cells, float *hidden, const float *previous_cells) {
    long g4 = 4 * h;
    for (long i = 0, mr; i < rows; i += mr) {
        mr = block_rows(rows - i);
        if (previous_hidden) row_strip(mr, g4, h, previous_hidden + i * h, h, packed, gates + i * g4, g4);
        /* These rows' pre-activations are complete and still in L1: activate them now. */
        tm_lstm_step_avx2(gates + i * g4, cells + i * h, hidden + i * h, previous_cells ? previous_cells + i * h : NULL,
                          mr, h);
    }
}

#else

int tm_kernels_fma(void) { return 0; }
void tm_gemm_avx2(int transposed_a, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                  float *c, long ldc) {
    (void)transposed_a; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc;
}
void tm_gemm_packed_avx2(long m, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc;
}
void tm_lstm_step_fused_avx2(long rows, long h, const float *previous_hidden, const float *packed, float *gates,
                             float *cells, float *hidden, const float *previous_cells) {
    (void)rows; (void)h; (void)previous_hidden; (void)packed; (void)gates; (void)cells; (void)hidden; (void)previous_cells;
}

#endif
