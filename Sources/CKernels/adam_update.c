/* Adam's update of a parameter range (Adam.update in Optimizer.swift), 16 lanes at a time
 * on CPUs with AVX-512. The Swift loop is compiled for the x86-64 baseline (4 lanes) and
 * an LSTM's embedding table makes it a fifth of a training step; this file does the same
 * IEEE operations in the same order (contraction off: no fused multiply-adds), so every
 * float equals the Swift loop's and results do not depend on the CPU.
 * AdamKernelTests checks this. */
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

#else

void tm_adam_update_avx512(float *params, float *grads, float *m, float *v, long count,
                           float b1, float b2, float eps, float step_size, float inv_root, float decay, float l2) {
    (void)params; (void)grads; (void)m; (void)v; (void)count; (void)b1; (void)b2; (void)eps; (void)step_size;
    (void)inv_root; (void)decay; (void)l2;
}

#endif
