/* A product-quantized row with dsub = 2 added into a sum (QuantizedBagInput.bagMean):
 * out[2s + j] += weight × codebooks[2·(s·ksub + code[s]) + j], each product rounded, then
 * added (no contraction): ProductQuantizer.addDecoded's floats, four sub-spaces (eight
 * floats) per vector. */
#include "textmodel_kernels.h"

#include <stdint.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

/* One centroid: its two floats as the low 64 bits (an unaligned load that may alias). */
__attribute__((target("avx2"), always_inline)) static inline __m128i pair(const float *codebooks, long ksub, long s,
                                                                          const unsigned char *code) {
    return _mm_loadl_epi64((const __m128i *)(codebooks + 2 * (s * ksub + code[s])));
}

__attribute__((target("avx2")))
void tm_pq2_add_row_avx2(const unsigned char *code, const float *codebooks, long m, long ksub, float weight, float *out) {
    __m256 w = _mm256_set1_ps(weight);
    long s = 0;
    for (; s + 4 <= m; s += 4) {
        __m128i low = _mm_unpacklo_epi64(pair(codebooks, ksub, s, code), pair(codebooks, ksub, s + 1, code));
        __m128i high = _mm_unpacklo_epi64(pair(codebooks, ksub, s + 2, code), pair(codebooks, ksub, s + 3, code));
        __m256 centroids = _mm256_castsi256_ps(_mm256_set_m128i(high, low));
        _mm256_storeu_ps(out + 2 * s, _mm256_add_ps(_mm256_loadu_ps(out + 2 * s), _mm256_mul_ps(w, centroids)));
    }
    for (; s < m; s++) {
        const float *centroid = codebooks + 2 * (s * ksub + code[s]);
        out[2 * s] += weight * centroid[0];
        out[2 * s + 1] += weight * centroid[1];
    }
}

#else

void tm_pq2_add_row_avx2(const unsigned char *code, const float *codebooks, long m, long ksub, float weight, float *out) {
    for (long s = 0; s < m; s++) {
        const float *centroid = codebooks + 2 * (s * ksub + code[s]);
        out[2 * s] += weight * centroid[0];
        out[2 * s + 1] += weight * centroid[1];
    }
}

#endif
