/* Adam's update of a parameter range (Adam.update in Optimizer.swift), 16 lanes at a time
 * on CPUs with AVX-512, 8 on CPUs with AVX2. The Swift loop is compiled for the x86-64
 * baseline (4 lanes) and an LSTM's embedding table makes it a fifth of a training step;
 * this file does the same IEEE operations in the same order (contraction off: no fused
 * multiply-adds), so every float equals the Swift loop's and results do not depend on
 * the CPU. RecurrentKernelTests checks this. */
#include "textmodel_kernels.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)

#include <immintrin.h>

/* Written with intrinsics: the compiler keeps scalar sqrtf calls (errno) out of its
 * vectorizer. Each lane does exactly the scalar operations below, the tail under a mask. */
__attribute__((target("avx512f")))
void tm_adam_update_avx512(float *restrict params, float *restrict grads, float *restrict m, float *restrict v, long count,
                           float b1, float b2, float eps, float step_size, float inv_root, float decay, float l2) {
    const __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), vc1 = _mm512_set1_ps(1 - b1),
                 vc2 = _mm512_set1_ps(1 - b2), veps = _mm512_set1_ps(eps), vstep = _mm512_set1_ps(step_size),
                 vroot = _mm512_set1_ps(inv_root), vdecay = _mm512_set1_ps(decay), vl2 = _mm512_set1_ps(l2);
    for (long i = 0; i < count; i += 16) {
        __mmask16 k = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m512 p = _mm512_maskz_loadu_ps(k, params + i);
        /* g = grads + l2 · params */
        __m512 g = _mm512_add_ps(_mm512_maskz_loadu_ps(k, grads + i), _mm512_mul_ps(vl2, p));
        /* m = b1 · m + (1 − b1) · g */
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(vb1, _mm512_maskz_loadu_ps(k, m + i)), _mm512_mul_ps(vc1, g));
        /* v = b2 · v + ((1 − b2) · g) · g */
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(vb2, _mm512_maskz_loadu_ps(k, v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(vc2, g), g));
        /* params = params · decay − (stepSize · m) / (√v · invRoot + eps) */
        __m512 denominator = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), vroot), veps);
        p = _mm512_sub_ps(_mm512_mul_ps(p, vdecay), _mm512_div_ps(_mm512_mul_ps(vstep, mi), denominator));
        _mm512_mask_storeu_ps(m + i, k, mi);
        _mm512_mask_storeu_ps(v + i, k, vi);
        _mm512_mask_storeu_ps(params + i, k, p);
        _mm512_mask_storeu_ps(grads + i, k, _mm512_setzero_ps());
    }
}

/* 8 lanes at p, or with MASKED only the lanes under `k` (the tail; the others read as 0). */
__attribute__((target("avx2"), always_inline))
static inline __m256 load8(const int MASKED, const float *p, __m256i k) {
    return MASKED ? _mm256_maskload_ps(p, k) : _mm256_loadu_ps(p);
}

__attribute__((target("avx2"), always_inline))
static inline void store8(const int MASKED, float *p, __m256i k, __m256 x) {
    if (MASKED) _mm256_maskstore_ps(p, k, x);
    else _mm256_storeu_ps(p, x);
}

/* tm_adam_update_avx512's lanes, 8 at a time. */
__attribute__((target("avx2"), always_inline))
static inline void adam_lanes_avx2(const int MASKED, __m256i k, float *params, float *grads, float *m, float *v, __m256 vb1,
                                   __m256 vb2, __m256 vc1, __m256 vc2, __m256 veps, __m256 vstep, __m256 vroot,
                                   __m256 vdecay, __m256 vl2) {
    __m256 p = load8(MASKED, params, k);
    __m256 g = _mm256_add_ps(load8(MASKED, grads, k), _mm256_mul_ps(vl2, p));
    __m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, load8(MASKED, m, k)), _mm256_mul_ps(vc1, g));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, load8(MASKED, v, k)), _mm256_mul_ps(_mm256_mul_ps(vc2, g), g));
    __m256 denominator = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), vroot), veps);
    p = _mm256_sub_ps(_mm256_mul_ps(p, vdecay), _mm256_div_ps(_mm256_mul_ps(vstep, mi), denominator));
    store8(MASKED, m, k, mi);
    store8(MASKED, v, k, vi);
    store8(MASKED, params, k, p);
    store8(MASKED, grads, k, _mm256_setzero_ps());
}

__attribute__((target("avx2")))
void tm_adam_update_avx2(float *restrict params, float *restrict grads, float *restrict m, float *restrict v, long count,
                         float b1, float b2, float eps, float step_size, float inv_root, float decay, float l2) {
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), vc1 = _mm256_set1_ps(1 - b1),
                 vc2 = _mm256_set1_ps(1 - b2), veps = _mm256_set1_ps(eps), vstep = _mm256_set1_ps(step_size),
                 vroot = _mm256_set1_ps(inv_root), vdecay = _mm256_set1_ps(decay), vl2 = _mm256_set1_ps(l2);
    const __m256i all = _mm256_set1_epi32(-1);
    long i = 0;
    for (; i + 8 <= count; i += 8)
        adam_lanes_avx2(0, all, params + i, grads + i, m + i, v + i, vb1, vb2, vc1, vc2, veps, vstep, vroot, vdecay, vl2);
    if (i < count) {
        __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        adam_lanes_avx2(1, k, params + i, grads + i, m + i, v + i, vb1, vb2, vc1, vc2, veps, vstep, vroot, vdecay, vl2);
    }
}

#else

void tm_adam_update_avx2(float *params, float *grads, float *m, float *v, long count,
                         float b1, float b2, float eps, float step_size, float inv_root, float decay, float l2) {
    (void)params; (void)grads; (void)m; (void)v; (void)count; (void)b1; (void)b2; (void)eps; (void)step_size;
    (void)inv_root; (void)decay; (void)l2;
}

void tm_adam_update_avx512(float *params, float *grads, float *m, float *v, long count,
                           float b1, float b2, float eps, float step_size, float inv_root, float decay, float l2) {
    (void)params; (void)grads; (void)m; (void)v; (void)count; (void)b1; (void)b2; (void)eps; (void)step_size;
    (void)inv_root; (void)decay; (void)l2;
}

#endif
