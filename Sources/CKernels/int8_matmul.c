/* int8 × int8 matrix products with int32 accumulation (see include/int8_matmul.h).
 *
 * Every path computes the same exact integer sums, and the same float epilogue after
 * them, so the choice of path never changes a result:
 *   portable  int32 multiply-adds;
 *   AVX2      over b packed as for VNNI (below): a's 4 bytes broadcast, vpmaddubsw of
 *             |a| by b with a's sign (vpsignb; a pair sums to ≤ 2 · 127², no
 *             saturation) and vpmaddwd by ones into int32: 4 rows × 16 columns per
 *             pass, no horizontal sums. Without a packed b: bytes widened to int16 and
 *             vpmaddwd, 2 rows of a × 4 rows of b per pass, horizontal sums at the end;
 *   VNNI      vpdpbusd multiplies unsigned by signed bytes and sums groups of 4 into
 *             int32: it is fed a + 128 (the byte with its top bit flipped) and 128 · Σ_k b
 *             is subtracted afterwards. b is packed so that each group of 4 bytes of a
 *             row of a, broadcast, multiplies 16 output columns at once: 4 rows × 64
 *             columns per pass, no horizontal sums.
 * Functions carry their own target attributes, so the file builds for any x86-64 (and
 * any other CPU, without the x86 paths) and each path runs only where cpuid says so. */
#include "int8_matmul.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define QMM_X86 1
#else
#define QMM_X86 0
#endif

/* Where the sums of a block of rows go: int32 as they are, or through the float
 * epilogue of qmm_linear. */
typedef struct {
    int32_t *out_i32;
    float *out;
    long n, ldo;
    const float *a_scales; /* of the block's rows */
    const float *b_scales;
    const float *bias;
    int accumulate;
} sink;

static inline void emit(const sink *s, long row, long block_row, long col, int32_t sum) {
    if (s->out_i32) {
        s->out_i32[row * s->n + col] = sum;
        return;
    }
    float *y = s->out + row * s->ldo + col;
    float v = (float)sum * (s->a_scales[block_row] * s->b_scales[col]);
    if (s->bias) v = v + s->bias[col];
    *y = s->accumulate ? *y + v : v;
}

/* ---------------------------------------------------------------- portable */

/* a: mr rows `stride` bytes apart (k used). */
static void rows_portable(const int8_t *a, long stride, long row0, long mr, long k, const int8_t *b, long n,
                          const sink *s) {
    for (long i = 0; i < mr; i++) {
        for (long j = 0; j < n; j++) {
            int32_t sum = 0;
            for (long p = 0; p < k; p++) sum += (int32_t)a[i * stride + p] * (int32_t)b[j * k + p];
            emit(s, row0 + i, i, j, sum);
        }
    }
}

#if QMM_X86
/* -------------------------------------------------------------------- AVX2 */

__attribute__((target("avx2"))) static inline int32_t sum8_avx2(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
}

__attribute__((target("avx2"))) static void rows_avx2(const int8_t *a, long stride, long row0, long mr, long k,
                                                      const int8_t *b, long n, const sink *s) {
    long body = k & ~15L;
    for (long i = 0; i < mr; i += 2) {
        const int8_t *a0 = a + i * stride, *a1 = a + (i + 1 < mr ? i + 1 : i) * stride;
        for (long j0 = 0; j0 < n; j0 += 4) {
            const int8_t *br[4];
            for (int j = 0; j < 4; j++) br[j] = b + (j0 + j < n ? j0 + j : j0) * k;
            __m256i acc0[4], acc1[4];
            for (int j = 0; j < 4; j++) acc0[j] = acc1[j] = _mm256_setzero_si256();
            for (long p = 0; p < body; p += 16) {
                __m256i va0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a0 + p)));
                __m256i va1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a1 + p)));
                for (int j = 0; j < 4; j++) {
                    __m256i vb = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(br[j] + p)));
                    acc0[j] = _mm256_add_epi32(acc0[j], _mm256_madd_epi16(va0, vb));
                    acc1[j] = _mm256_add_epi32(acc1[j], _mm256_madd_epi16(va1, vb));
                }
            }
            for (int j = 0; j < 4 && j0 + j < n; j++) {
                int32_t s0 = sum8_avx2(acc0[j]), s1 = sum8_avx2(acc1[j]);
                for (long p = body; p < k; p++) {
                    s0 += (int32_t)a0[p] * (int32_t)br[j][p];
                    s1 += (int32_t)a1[p] * (int32_t)br[j][p];
                }
                emit(s, row0 + i, i, j0 + j, s0);
                if (i + 1 < mr) emit(s, row0 + i + 1, i + 1, j0 + j, s1);
            }
        }
    }
}

/* qmm_quantize_rows for one row, 8 floats at a time: the same maximum (order does not
 * matter for max), the same product x · (127 / max) and the same rounding (vcvtps2dq
 * rounds half to even, as nearbyintf does in the default rounding mode), so the same
 * bytes; the portable loop calls nearbyintf per value, which costs more than the
 * products it feeds. */
__attribute__((target("avx2"))) static void quantize_row_avx2(const float *row, long k, int8_t *q, float *scale) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 top8 = _mm256_setzero_ps();
    long body = k & ~7L, p;
    for (p = 0; p < body; p += 8) top8 = _mm256_max_ps(top8, _mm256_andnot_ps(sign, _mm256_loadu_ps(row + p)));
    float lanes[8], top = 0;
    _mm256_storeu_ps(lanes, top8);
    for (int j = 0; j < 8; j++) top = lanes[j] > top ? lanes[j] : top;
    for (p = body; p < k; p++) {
        float v = fabsf(row[p]);
        top = v > top ? v : top;
    }
    *scale = top / 127.0f;
    float inverse = top > 0 ? 127.0f / top : 0.0f;
    const __m256 inv = _mm256_set1_ps(inverse);
    const __m256i hi = _mm256_set1_epi32(127), lo = _mm256_set1_epi32(-127);
    for (p = 0; p < body; p += 8) {
        __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(row + p), inv));
        v = _mm256_max_epi32(_mm256_min_epi32(v, hi), lo);
        __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(q + p), _mm_packs_epi16(words, words));
    }
    for (p = body; p < k; p++) {
        float v = nearbyintf(row[p] * inverse);
        v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
        q[p] = (int8_t)v;
    }
}

/* 16 columns of b packed in the VNNI layout (two 8-column halves of 32 bytes per group
 * of 4 k) for MR rows of a; MR is a constant at every call, so the 2·MR accumulators stay
 * in registers. */
__attribute__((target("avx2"), always_inline)) static inline void block16_avx2(const int MR, const int8_t *const *ar,
                                                                             long groups, const int8_t *base,
                                                                             __m256i acc[4][2]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (long g = 0; g < groups; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(base + g * 64));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(base + g * 64 + 32));
        for (int i = 0; i < MR; i++) {
            int32_t word;
            memcpy(&word, ar[i] + 4 * g, 4);
            __m256i va = _mm256_set1_epi32(word), magnitude = _mm256_abs_epi8(va);
            __m256i p0 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b0, va));
            __m256i p1 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(b1, va));
            acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(p0, ones));
            acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(p1, ones));
        }
    }
}

/* a: mr ≤ 4 rows of `stride` bytes (k rounded up to 4, zero-padded); packed and sums as
 * for rows_vnni. The sums need no correction (a keeps its sign). */
__attribute__((target("avx2"))) static void rows_avx2_packed(const int8_t *a, long stride, long row0, long mr, long k,
                                                             const int8_t *packed, long n, const sink *s) {
    long groups = (k + 3) / 4, blocks = (n + 15) / 16;
    const int8_t *ar[4];
    for (int i = 0; i < 4; i++) ar[i] = a + (i < mr ? i : 0) * stride;
    for (long jb = 0; jb < blocks; jb++) {
        __m256i acc[4][2];
        const int8_t *base = packed + jb * groups * 64;
        switch (mr) {
        case 4: block16_avx2(4, ar, groups, base, acc); break;
        case 3: block16_avx2(3, ar, groups, base, acc); break;
        case 2: block16_avx2(2, ar, groups, base, acc); break;
        default: block16_avx2(1, ar, groups, base, acc); break;
        }
        for (int c = 0; c < 2; c++) {
            long col0 = jb * 16 + c * 8;
            if (col0 >= n) break;
            for (long i = 0; i < mr; i++) {
                if (n - col0 < 8) {
                    int32_t lanes[8];
                    _mm256_storeu_si256((__m256i *)lanes, acc[i][c]);
                    for (long j = 0; j < n - col0; j++) emit(s, row0 + i, i, col0 + j, lanes[j]);
                    continue;
                }
                if (s->out_i32) {
                    _mm256_storeu_si256((__m256i *)(s->out_i32 + (row0 + i) * s->n + col0), acc[i][c]);
                    continue;
                }
                /* emit's arithmetic, 8 columns at a time: the same operations in the same
                 * order (no fused multiply-add), so the same floats. */
                float *y = s->out + (row0 + i) * s->ldo + col0;
                __m256 scale = _mm256_mul_ps(_mm256_set1_ps(s->a_scales[i]), _mm256_loadu_ps(s->b_scales + col0));
                __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][c]), scale);
                if (s->bias) v = _mm256_add_ps(v, _mm256_loadu_ps(s->bias + col0));
                if (s->accumulate) v = _mm256_add_ps(_mm256_loadu_ps(y), v);
                _mm256_storeu_ps(y, v);
            }
        }
    }
}

/* -------------------------------------------------------------------- VNNI */

/* a: mr ≤ 4 rows of `stride` bytes (k rounded up to 4, zero-padded). */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void rows_vnni(const int8_t *a, long stride, long row0,
                                                                              long mr, long k, const int8_t *packed,
                                                                              const int32_t *sums, long n, const sink *s) {
    long groups = (k + 3) / 4, blocks = qmm_padded_columns(n) / 16;
    const int8_t *ar[4];
    for (int i = 0; i < 4; i++) ar[i] = a + (i < mr ? i : 0) * stride;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (long jb = 0; jb < blocks; jb += 4) {
        __m512i acc[4][4];
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 4; c++) acc[i][c] = _mm512_setzero_si512();
        const int8_t *base = packed + jb * groups * 64;
        for (long g = 0; g < groups; g++) {
            __m512i va[4];
            for (int i = 0; i < 4; i++) {
                int32_t word;
                memcpy(&word, ar[i] + 4 * g, 4);
                va[i] = _mm512_xor_si512(_mm512_set1_epi32(word), flip);
            }
            for (int c = 0; c < 4; c++) {
                __m512i vb = _mm512_loadu_si512((const void *)(base + (c * groups + g) * 64));
                for (int i = 0; i < 4; i++) acc[i][c] = _mm512_dpbusd_epi32(acc[i][c], va[i], vb);
            }
        }
        for (int c = 0; c < 4; c++) {
            long col0 = (jb + c) * 16;
            if (col0 >= n) break;
            __m512i correction = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(sums + col0)), 7);
            long width = n - col0 < 16 ? n - col0 : 16;
            __mmask16 mask = (__mmask16)((1u << width) - 1);
            for (long i = 0; i < mr; i++) {
                __m512i sum = _mm512_sub_epi32(acc[i][c], correction);
                if (s->out_i32) {
                    _mm512_mask_storeu_epi32(s->out_i32 + (row0 + i) * s->n + col0, mask, sum);
                    continue;
                }
                /* emit's arithmetic, 16 columns at a time: the same operations in the same
                 * order (no fused multiply-add), so the same floats. */
                float *y = s->out + (row0 + i) * s->ldo + col0;
                __m512 scale = _mm512_mul_ps(_mm512_set1_ps(s->a_scales[i]), _mm512_maskz_loadu_ps(mask, s->b_scales + col0));
                __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), scale);
                if (s->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, s->bias + col0));
                if (s->accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, y), v);
                _mm512_mask_storeu_ps(y, mask, v);
            }
        }
    }
}
#endif

/* ------------------------------------------------------------ preparation */

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

/* Not cached here: callers keep the answer (QuantizedMatrix.bestPath), and a cache
 * written by whichever thread comes first would be a data race. */
int qmm_best_path(void) {
    return qmm_path_supported(QMM_VNNI) ? QMM_VNNI : qmm_path_supported(QMM_AVX2) ? QMM_AVX2 : QMM_PORTABLE;
}

long qmm_padded_columns(long n) { return (n + 63) / 64 * 64; }

long qmm_packed_bytes(long n, long k) { return qmm_padded_columns(n) * ((k + 3) / 4) * 4; }

void qmm_pack(const int8_t *b, long n, long k, int8_t *packed) {
    long groups = (k + 3) / 4, blocks = qmm_padded_columns(n) / 16;
    for (long jb = 0; jb < blocks; jb++) {
        for (long g = 0; g < groups; g++) {
            int8_t *dst = packed + (jb * groups + g) * 64;
            for (long c = 0; c < 16; c++) {
                for (long r = 0; r < 4; r++) {
                    long row = jb * 16 + c, p = g * 4 + r;
                    dst[c * 4 + r] = row < n && p < k ? b[row * k + p] : 0;
                }
            }
        }
    }
}

void qmm_row_sums(const int8_t *b, long n, long k, int32_t *sums) {
    for (long j = 0; j < n; j++) {
        int32_t sum = 0;
        for (long p = 0; p < k; p++) sum += b[j * k + p];
        sums[j] = sum;
    }
}

/* The path that runs: VNNI needs a packed b (AVX2 runs either way); an unsupported path
 * runs the next one. */
static int path_for(int path, const int8_t *packed) {
    if (path == QMM_VNNI && (!packed || !qmm_path_supported(QMM_VNNI))) path = QMM_AVX2;
    if (path == QMM_AVX2 && !qmm_path_supported(QMM_AVX2)) path = QMM_PORTABLE;
    return path;
}

/* mr ≤ 4 rows of a (each `stride` bytes apart, zero-padded past k to a multiple of 4)
 * times every row of b. */
static void block(int path, const int8_t *a, long stride, long row0, long mr, long k, const int8_t *b,
                  const int8_t *packed, const int32_t *sums, long n, const sink *s) {
#if QMM_X86
    if (path == QMM_VNNI) { rows_vnni(a, stride, row0, mr, k, packed, sums, n, s); return; }
    if (path == QMM_AVX2 && packed) { rows_avx2_packed(a, stride, row0, mr, k, packed, n, s); return; }
    if (path == QMM_AVX2) { rows_avx2(a, stride, row0, mr, k, b, n, s); return; }
#else
    (void)path; (void)packed; (void)sums;
#endif
    rows_portable(a, stride, row0, mr, k, b, n, s);
}

/* Rows of a are copied (int8) or quantized (floats) four at a time into a buffer on
 * the stack, zero-padded to a multiple of 4 bytes; rows wider than it holds use the
 * heap, or, if there is none, run one product at a time without a buffer. */
enum { STACK_BYTES = 16384 };

void qmm_s8_gemm_s32(int path, const int8_t *a, long m, const int8_t *b, const int8_t *packed, const int32_t *sums,
                     long n, long k, int32_t *out) {
    if (m <= 0 || n <= 0) return;
    path = path_for(path, packed);
    sink s = {0};
    s.out_i32 = out;
    s.n = n;
    long stride = (k + 3) / 4 * 4;
    int8_t stack[STACK_BYTES];
    int8_t *buffer = 4 * stride <= STACK_BYTES ? stack : (int8_t *)malloc((size_t)(4 * stride));
    if (!buffer) path = QMM_PORTABLE;
    for (long i0 = 0; i0 < m; i0 += 4) {
        long mr = m - i0 < 4 ? m - i0 : 4;
        if (!buffer) { block(path, a + i0 * k, k, i0, mr, k, b, packed, sums, n, &s); continue; }
        memset(buffer, 0, (size_t)(4 * stride));
        for (long i = 0; i < mr; i++) memcpy(buffer + i * stride, a + (i0 + i) * k, (size_t)k);
        block(path, buffer, stride, i0, mr, k, b, packed, sums, n, &s);
    }
    if (buffer && buffer != stack) free(buffer);
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

void qmm_linear(int path, const float *x, long m, long k, const int8_t *b, const int8_t *packed, const float *b_scales,
                const int32_t *sums, long n, const float *bias, int accumulate, float *out, long ldo) {
    if (m <= 0 || n <= 0) return;
    path = path_for(path, packed);
    float scales[4];
    sink s = {0};
    s.out = out;
    s.n = n;
    s.ldo = ldo;
    s.a_scales = scales;
    s.b_scales = b_scales;
    s.bias = bias;
    s.accumulate = accumulate;
    long stride = (k + 3) / 4 * 4;
    int8_t stack[STACK_BYTES];
    int8_t *buffer = 4 * stride <= STACK_BYTES ? stack : (int8_t *)malloc((size_t)(4 * stride));
    if (!buffer) {
        /* No memory for four wide rows: the same sums and floats, one product at a time. */
        for (long i = 0; i < m; i++) {
            const float *row = x + i * k;
            float top = 0;
            for (long p = 0; p < k; p++) top = fabsf(row[p]) > top ? fabsf(row[p]) : top;
            float inverse = top > 0 ? 127.0f / top : 0.0f;
            scales[0] = top / 127.0f;
            for (long j = 0; j < n; j++) {
                int32_t sum = 0;
                for (long p = 0; p < k; p++) {
                    float v = nearbyintf(row[p] * inverse);
                    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
                    sum += (int32_t)v * b[j * k + p];
                }
                emit(&s, i, 0, j, sum);
            }
        }
        return;
    }
    for (long i0 = 0; i0 < m; i0 += 4) {
        long mr = m - i0 < 4 ? m - i0 : 4;
        if (stride != k) memset(buffer, 0, (size_t)(4 * stride));
        for (long i = 0; i < mr; i++) {
#if QMM_X86
            if (path != QMM_PORTABLE) { quantize_row_avx2(x + (i0 + i) * k, k, buffer + i * stride, scales + i); continue; }
#endif
            qmm_quantize_rows(x + (i0 + i) * k, 1, k, k, buffer + i * stride, scales + i);
        }
        block(path, buffer, stride, i0, mr, k, b, packed, sums, n, &s);
    }
    if (buffer != stack) free(buffer);
}
