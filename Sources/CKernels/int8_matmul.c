/* int8 × int8 matrix products with int32 accumulation (see include/int8_matmul.h).
 *
 * Every path computes the same exact integer sums, so the choice of path never changes
 * a result: the portable path multiplies and adds int32s; the AVX2 path widens the bytes
 * to int16 and uses vpmaddwd (pairs of int16 products summed into int32, exact for
 * |values| ≤ 127); the VNNI path uses vpdpbusd, which multiplies unsigned by signed
 * bytes, so it feeds a + 128 (the byte with its top bit flipped) and subtracts
 * 128 · Σ_k b afterwards. Work is done in tiles of 4 rows of a × 4 rows of b; a tile
 * past the edge repeats a valid row and drops its sums. Functions carry their own
 * target attribute, so the file builds for any x86-64 (and any other CPU without the
 * x86 paths) and each path runs only where cpuid says it can. */
#include "int8_matmul.h"

#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QMM_X86 1
#else
#define QMM_X86 0
#endif

typedef void (*tile_fn)(const int8_t *const a[4], const int8_t *const b[4], const int32_t sums[4], long k,
                        int32_t t[4][4]);

static void tile_portable(const int8_t *const a[4], const int8_t *const b[4], const int32_t sums[4], long k,
                          int32_t t[4][4]) {
    (void)sums;
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            int32_t s = 0;
            for (long p = 0; p < k; p++) s += (int32_t)a[i][p] * (int32_t)b[j][p];
            t[i][j] = s;
        }
    }
}

#if QMM_X86
__attribute__((target("avx2"))) static inline int32_t sum8_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* Two rows of a at a time against the four rows of b: 8 accumulators fit AVX2's 16 registers. */
__attribute__((target("avx2"))) static void tile_avx2(const int8_t *const a[4], const int8_t *const b[4],
                                                      const int32_t sums[4], long k, int32_t t[4][4]) {
    (void)sums;
    long body = k & ~15L;
    for (int i = 0; i < 4; i += 2) {
        __m256i acc[2][4];
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 4; j++) acc[r][j] = _mm256_setzero_si256();
        for (long p = 0; p < body; p += 16) {
            __m256i va0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a[i] + p)));
            __m256i va1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a[i + 1] + p)));
            for (int j = 0; j < 4; j++) {
                __m256i vb = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b[j] + p)));
                acc[0][j] = _mm256_add_epi32(acc[0][j], _mm256_madd_epi16(va0, vb));
                acc[1][j] = _mm256_add_epi32(acc[1][j], _mm256_madd_epi16(va1, vb));
            }
        }
        for (int r = 0; r < 2; r++) {
            for (int j = 0; j < 4; j++) {
                int32_t s = sum8_avx2(acc[r][j]);
                for (long p = body; p < k; p++) s += (int32_t)a[i + r][p] * (int32_t)b[j][p];
                t[i + r][j] = s;
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void tile_vnni(const int8_t *const a[4], const int8_t *const b[4],
                                                                              const int32_t sums[4], long k, int32_t t[4][4]) {
    __m512i acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_si512();
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (long p = 0; p < k; p += 64) {
        /* The last block loads only the bytes inside k: a's masked-off lanes become 128
         * after the flip, b's are 0, so they add nothing. */
        __mmask64 mask = k - p >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (k - p)) - 1);
        __m512i va[4];
        for (int i = 0; i < 4; i++) va[i] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, a[i] + p), flip);
        for (int j = 0; j < 4; j++) {
            __m512i vb = _mm512_maskz_loadu_epi8(mask, b[j] + p);
            for (int i = 0; i < 4; i++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], va[i], vb);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) t[i][j] = _mm512_reduce_add_epi32(acc[i][j]) - 128 * sums[j];
}
#endif

int qmm_path_supported(int path) {
    switch (path) {
    case QMM_PORTABLE: return 1;
#if QMM_X86
    case QMM_AVX2: return __builtin_cpu_supports("avx2") ? 1 : 0;
    case QMM_VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni") ? 1 : 0;
#endif
    default: return 0;
    }
}

int qmm_best_path(void) {
    static int best = -1;
    if (best < 0) best = qmm_path_supported(QMM_VNNI) ? QMM_VNNI : qmm_path_supported(QMM_AVX2) ? QMM_AVX2 : QMM_PORTABLE;
    return best;
}

static tile_fn tile_for(int path) {
#if QMM_X86
    if (path == QMM_VNNI && qmm_path_supported(QMM_VNNI)) return tile_vnni;
    if (path == QMM_AVX2 && qmm_path_supported(QMM_AVX2)) return tile_avx2;
#endif
    (void)path;
    return tile_portable;
}

void qmm_row_sums(const int8_t *b, long n, long k, int32_t *sums) {
    for (long j = 0; j < n; j++) {
        int32_t s = 0;
        for (long p = 0; p < k; p++) s += b[j * k + p];
        sums[j] = s;
    }
}

/* Rows i0 .. i0 + 4 of a (clamped to m) against every row of b; `emit` receives each
 * valid sum. */
typedef struct {
    float *out;
    long ldo;
    const float *a_scales;
    const float *b_scales;
    const float *bias;
    int accumulate;
    int32_t *out_i32;
} epilogue;

static void rows_times_b(tile_fn tile, const int8_t *a, long i0, long m, const int8_t *b, const int32_t *sums, long n,
                         long k, const epilogue *e) {
    const int8_t *ar[4];
    long mr = m - i0 < 4 ? m - i0 : 4;
    for (int i = 0; i < 4; i++) ar[i] = a + (i < mr ? i : 0) * k;
    for (long j0 = 0; j0 < n; j0 += 4) {
        long nr = n - j0 < 4 ? n - j0 : 4;
        const int8_t *br[4];
        int32_t s4[4];
        for (int j = 0; j < 4; j++) {
            long row = j0 + (j < nr ? j : 0);
            br[j] = b + row * k;
            s4[j] = sums[row];
        }
        int32_t t[4][4];
        tile(ar, br, s4, k, t);
        for (long i = 0; i < mr; i++) {
            for (long j = 0; j < nr; j++) {
                long row = i0 + i, col = j0 + j;
                if (e->out_i32) {
                    e->out_i32[row * n + col] = t[i][j];
                } else {
                    float *y = e->out + row * e->ldo + col;
                    float v = (float)t[i][j] * (e->a_scales[i] * e->b_scales[col]);
                    if (e->bias) v += e->bias[col];
                    *y = e->accumulate ? *y + v : v;
                }
            }
        }
    }
}

void qmm_s8_gemm_s32(int path, const int8_t *a, long m, const int8_t *b, const int32_t *sums, long n, long k,
                     int32_t *out) {
    if (m <= 0 || n <= 0) return;
    tile_fn tile = tile_for(path);
    epilogue e = {0};
    e.out_i32 = out;
    for (long i0 = 0; i0 < m; i0 += 4) rows_times_b(tile, a + i0 * k, i0, m, b, sums, n, k, &e);
}

void qmm_quantize_rows(const float *x, long m, long k, long ldx, int8_t *q, float *scales) {
    for (long i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        float top = 0;
        for (long p = 0; p < k; p++) {
            float v = fabsf(row[p]);
            top = v > top ? v : top;
        }
        scales[i] = top / 127.0f;
        float inverse = top > 0 ? 127.0f / top : 0.0f;
        for (long p = 0; p < k; p++) {
            float v = nearbyintf(row[p] * inverse);
            v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
            q[i * k + p] = (int8_t)v;
        }
    }
}

/* Rows of x are quantized four at a time into a buffer on the stack (the heap for
 * rows wider than it holds), so the call allocates nothing for usual widths. */
enum { STACK_BYTES = 16384 };

void qmm_linear(int path, const float *x, long m, long k, const int8_t *b, const float *b_scales, const int32_t *sums,
                long n, const float *bias, int accumulate, float *out, long ldo) {
    if (m <= 0 || n <= 0) return;
    tile_fn tile = tile_for(path);
    int8_t stack[STACK_BYTES];
    int8_t *q = 4 * k <= STACK_BYTES ? stack : (int8_t *)malloc((size_t)(4 * k));
    if (!q) {
        /* No memory for four wide rows: the same sums, one product at a time. */
        for (long i = 0; i < m; i++) {
            const float *row = x + i * k;
            float top = 0;
            for (long p = 0; p < k; p++) top = fabsf(row[p]) > top ? fabsf(row[p]) : top;
            float scale = top / 127.0f, inverse = top > 0 ? 127.0f / top : 0.0f;
            for (long j = 0; j < n; j++) {
                int32_t s = 0;
                for (long p = 0; p < k; p++) {
                    float v = nearbyintf(row[p] * inverse);
                    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
                    s += (int32_t)v * b[j * k + p];
                }
                float v = (float)s * (scale * b_scales[j]);
                if (bias) v += bias[j];
                out[i * ldo + j] = accumulate ? out[i * ldo + j] + v : v;
            }
        }
        return;
    }
    float scales[4];
    epilogue e = {0};
    e.ldo = ldo;
    e.b_scales = b_scales;
    e.bias = bias;
    e.accumulate = accumulate;
    e.a_scales = scales;
    for (long i0 = 0; i0 < m; i0 += 4) {
        long mr = m - i0 < 4 ? m - i0 : 4;
        qmm_quantize_rows(x + i0 * k, mr, k, k, q, scales);
        e.out = out;
        rows_times_b(tile, q, i0, m, b, sums, n, k, &e);
    }
    if (q != stack) free(q);
}
