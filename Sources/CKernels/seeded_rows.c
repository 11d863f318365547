/* Which rows of a table still hold their seeded uniform initial values (BagQuantizer's
 * untouched rows): four rows at once, each lane redrawing its own range of rows from its
 * own xoshiro256** state, the generator's draws and floats bit for bit
 * (SeededGenerator.next and .uniform: Float(next() >> 40) · 2⁻²⁴, then low + (high − low) · unit). */
#include "textmodel_kernels.h"

#include <stdint.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2"), always_inline)) static inline __m256i rotl(__m256i x, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

__attribute__((target("avx2")))
void tm_untouched_rows4_avx2(unsigned long long *states, const float *const *rows, long count, long dim, float low, float high,
                             unsigned char *const *out) {
    /* states [4 words × 4 lanes]: word w of lane l at states[4w + l]. */
    __m256i s0 = _mm256_loadu_si256((const __m256i *)(states + 0)), s1 = _mm256_loadu_si256((const __m256i *)(states + 4));
    __m256i s2 = _mm256_loadu_si256((const __m256i *)(states + 8)), s3 = _mm256_loadu_si256((const __m256i *)(states + 12));
    const __m128 vlow = _mm_set1_ps(low), span = _mm_set1_ps(high - low), scale = _mm_set1_ps(1.0f / 16777216.0f);
    const __m256i low_dwords = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    for (long r = 0; r < count; r++) {
        const float *r0 = rows[0] + r * dim, *r1 = rows[1] + r * dim, *r2 = rows[2] + r * dim, *r3 = rows[3] + r * dim;
        __m128 differ = _mm_setzero_ps();
        for (long j = 0; j < dim; j++) {
            __m256i five = _mm256_add_epi64(_mm256_slli_epi64(s1, 2), s1);
            __m256i rotated = rotl(five, 7);
            __m256i result = _mm256_add_epi64(_mm256_slli_epi64(rotated, 3), rotated);
            __m256i t = _mm256_slli_epi64(s1, 17);
            s2 = _mm256_xor_si256(s2, s0);
            s3 = _mm256_xor_si256(s3, s1);
            s1 = _mm256_xor_si256(s1, s2);
            s0 = _mm256_xor_si256(s0, s3);
            s2 = _mm256_xor_si256(s2, t);
            s3 = rotl(s3, 45);
            /* next() >> 40 < 2²⁴: its low 32 bits, as an exact float. */
            __m128i top = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_srli_epi64(result, 40), low_dwords));
            __m128 unit = _mm_mul_ps(_mm_cvtepi32_ps(top), scale);
            __m128 drawn = _mm_add_ps(vlow, _mm_mul_ps(span, unit));
            __m128 stored = _mm_setr_ps(r0[j], r1[j], r2[j], r3[j]);
            differ = _mm_or_ps(differ, _mm_cmpneq_ps(drawn, stored));
        }
        int mask = _mm_movemask_ps(differ);
        for (int l = 0; l < 4; l++) out[l][r] = (mask >> l & 1) ? 0 : 1;
    }
    _mm256_storeu_si256((__m256i *)(states + 0), s0);
    _mm256_storeu_si256((__m256i *)(states + 4), s1);
    _mm256_storeu_si256((__m256i *)(states + 8), s2);
    _mm256_storeu_si256((__m256i *)(states + 12), s3);
}

#else

void tm_untouched_rows4_avx2(unsigned long long *states, const float *const *rows, long count, long dim, float low, float high,
                             unsigned char *const *out) {
    (void)states; (void)rows; (void)count; (void)dim; (void)low; (void)high; (void)out;
}

#endif
