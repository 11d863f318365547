/* The recurrent layers' step products, C += A · B with B packed once per pass, for CPUs
 * with AVX-512 (chosen at run time; recurrent_gemm_avx2.c has the same products for CPUs
 * with AVX2 and FMA, and the Swift side falls back to OpenBLAS without either).
 *
 * Why not OpenBLAS here: a recurrent step multiplies the few rows still running (m ≤ a
 * shard of the batch, ~20–32 on the tweets) by the same weight matrix, step after step.
 * OpenBLAS copies ("packs") both operands on every call, so at m ≈ 20 it spends as much
 * time copying the 4H × H weights as multiplying, and reaches about a third of the
 * core's peak. Here the weights are packed once per forward or backward pass of a layer
 * into panels of 64 columns that stay in L2, and every step streams only its own rows.
 *
 * Floats: every element of C accumulates its k products in order of k, one fused
 * multiply-add each, starting from C's value; the blocking never changes that order, so
 * a row's result does not depend on the other rows of the call nor on where a block
 * starts (batched and one-text inference agree), and a run repeats bit for bit. */
#include "textmodel_kernels.h"

#include <stddef.h>

#if defined(__x86_64__)
#include <immintrin.h>

int tm_kernels_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

enum { PANEL = 64, ROWS = 6 };

long tm_packed_panels_floats(long k, long n) { return (n + PANEL - 1) / PANEL * PANEL * k; }

void tm_pack_panels(long k, long n, const float *b, long ldb, int transposed, float *packed) {
    long panels = (n + PANEL - 1) / PANEL;
    for (long jp = 0; jp < panels; jp++) {
        float *panel = packed + jp * k * PANEL;
        for (long p = 0; p < k; p++) {
            float *row = panel + p * PANEL;
            for (long jj = 0; jj < PANEL; jj++) {
                long j = jp * PANEL + jj;
                row[jj] = j < n ? (transposed ? b[j * ldb + p] : b[p * ldb + j]) : 0.0f;
            }
        }
    }
}

/* C[MR × 16·NV] += A[MR × k] · B[k × 16·NV], B's rows `ldb` floats apart (64 in a
 * packed panel), the last vector of each row of B and C read and written under `last`.
 * A(r, p) is a[r·lda + p], or a[p·lda + r] with TA (A stored transposed). MR, NV and TA
 * are constants at every call, so the accumulators live in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void block(const int MR, const int NV, const int TA, long k, const float *restrict a, long lda,
                         const float *restrict panel, long ldb, float *restrict c, long ldc, __mmask16 last) {
    __m512 acc[ROWS][4];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last : (__mmask16)0xFFFF, c + r * ldc + 16 * v);
    for (long p = 0; p < k; p++) {
        __m512 bv[4];
        for (int v = 0; v < NV; v++)
            bv[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last : (__mmask16)0xFFFF, panel + p * ldb + 16 * v);
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(TA ? a[p * lda + r] : a[r * lda + p]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(c + r * ldc + 16 * v, v == NV - 1 ? last : (__mmask16)0xFFFF, acc[r][v]);
}

/* One panel's columns [16·nv wide, the last vector under `last`] for MR rows. */
__attribute__((target("avx512f"), always_inline))
static inline void rows_block(const int MR, const int TA, long nv, long k, const float *a, long lda, const float *panel,
                              long ldb, float *c, long ldc, __mmask16 last) {
    switch (nv) {
    case 4: block(MR, 4, TA, k, a, lda, panel, ldb, c, ldc, last); break;
    case 3: block(MR, 3, TA, k, a, lda, panel, ldb, c, ldc, last); break;
    case 2: block(MR, 2, TA, k, a, lda, panel, ldb, c, ldc, last); break;
    default: block(MR, 1, TA, k, a, lda, panel, ldb, c, ldc, last); break;
    }
}

/* C[mr × n] += A[mr × k] · B, mr ≤ ROWS: every 64-column block for the same rows. B is
 * packed panels (ldb 0) or a plain row-major [k × n] matrix with row stride ldb. */
__attribute__((target("avx512f"), always_inline))
static inline void strip(const int TA, long mr, long n, long k, const float *a, long lda, const float *b, long ldb,
                         float *c, long ldc) {
    for (long j0 = 0; j0 < n; j0 += PANEL) {
        long width = n - j0 < PANEL ? n - j0 : PANEL;
        long nv = (width + 15) / 16;
        long tail = width - 16 * (nv - 1);
        __mmask16 last = (__mmask16)(tail == 16 ? 0xFFFF : ((1u << tail) - 1));
        const float *panel = ldb ? b + j0 : b + (j0 / PANEL) * k * PANEL;
        long stride = ldb ? ldb : PANEL;
        switch (mr) {
        case 6: rows_block(6, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        case 5: rows_block(5, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        case 4: rows_block(4, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        case 3: rows_block(3, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        case 2: rows_block(2, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        default: rows_block(1, TA, nv, k, a, lda, panel, stride, c + j0, ldc, last); break;
        }
    }
}

__attribute__((target("avx512f")))
static void strip_plain(long mr, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    strip(0, mr, n, k, a, lda, b, ldb, c, ldc);
}

__attribute__((target("avx512f")))
static void strip_transposed(long mr, long n, long k, const float *a, long lda, const float *b, long ldb, float *c,
                             long ldc) {
    strip(1, mr, n, k, a, lda, b, ldb, c, ldc);
}

__attribute__((target("avx512f")))
static void row_strip(long mr, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    strip(0, mr, n, k, a, lda, packed, 0, c, ldc);
}

void tm_gemm_avx512(int transposed_a, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                    float *c, long ldc) {
    if (ldb <= 0) return;
    for (long i = 0; i < m; i += ROWS) {
        long mr = m - i < ROWS ? m - i : ROWS;
        if (transposed_a) strip_transposed(mr, n, k, a + i, lda, b, ldb, c + i * ldc, ldc);
        else strip_plain(mr, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    }
}

void tm_gemm_packed_avx512(long m, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    for (long i = 0; i < m; i += ROWS) {
        long mr = m - i < ROWS ? m - i : ROWS;
        row_strip(mr, n, k, a + i * lda, lda, packed, c + i * ldc, ldc);
    }
}

void tm_lstm_step_fused_avx512(long rows, long h, const float *previous_hidden, const float *packed,
                               float *gates, float *cells, float *hidden, const float *previous_cells) {
    long g4 = 4 * h;
    for (long i = 0; i < rows; i += ROWS) {
        long mr = rows - i < ROWS ? rows - i : ROWS;
        if (previous_hidden) row_strip(mr, g4, h, previous_hidden + i * h, h, packed, gates + i * g4, g4);
        /* These rows' pre-activations are complete and still in L1: activate them now. */
        tm_lstm_step_avx2(gates + i * g4, cells + i * h, hidden + i * h, previous_cells ? previous_cells + i * h : NULL,
                          mr, h);
    }
}

#else

int tm_kernels_avx512(void) { return 0; }
long tm_packed_panels_floats(long k, long n) { (void)k; (void)n; return 0; }
void tm_pack_panels(long k, long n, const float *b, long ldb, int transposed, float *packed) {
    (void)k; (void)n; (void)b; (void)ldb; (void)transposed; (void)packed;
}
void tm_gemm_avx512(int transposed_a, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                    float *c, long ldc) {
    (void)transposed_a; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc;
}
void tm_gemm_packed_avx512(long m, long n, long k, const float *a, long lda, const float *packed, float *c, long ldc) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc;
}
void tm_lstm_step_fused_avx512(long rows, long h, const float *previous_hidden, const float *packed,
                               float *gates, float *cells, float *hidden, const float *previous_cells) {
    (void)rows; (void)h; (void)previous_hidden; (void)packed; (void)gates; (void)cells; (void)hidden; (void)previous_cells;
}

#endif
