/* One row through the output layer (Linear.forward of a one-text batch): out [outputs]
 * = bias + x [inputs] · Wᵀ, W [outputs × inputs] row-major, without OpenBLAS.
 *
 * Why: for one text the head is ~300 multiply-adds, and cblas_sgemm's argument
 * checks, buffer handling and packing of both operands cost several times that
 * (about a tenth of a bag model's single-text call).
 *
 * The floats are those of OpenBLAS's sgemm kernels for Haswell and Zen (the
 * sgemm_kernel_16x4_haswell kernel this machine's OpenBLAS runs): each output's
 * products accumulated in input order by fused multiply-adds, starting from +0, then
 * added to the bias already in C (alpha = 1, beta = 1: OpenBLAS skips the beta pass
 * and adds alpha · sum). Callers use it only where a whole row fits one of OpenBLAS's
 * k blocks (inputs ≤ 256; the kernel's Q is 320 or more), so OpenBLAS forms the same
 * single sum. LinearRowKernelTests compares it with BLAS.gemm bit for bit. */
#include "textmodel_kernels.h"

#pragma clang fp contract(off)

#if defined(__x86_64__)

__attribute__((target("avx2,fma")))
void tm_linear_row_fma(const float *restrict x, const float *restrict w, const float *restrict bias, long inputs,
                       long outputs, float *restrict out) {
    /* Four outputs at a time: four independent chains hide the FMA latency; each chain
     * is still one output's sum in input order. A last group of fewer than four reuses
     * its last row for the missing ones (their sums are dropped), so a 3-class head
     * runs three chains at once rather than one after another. */
    for (long j = 0; j < outputs; j += 4) {
        long last = outputs - 1;
        const float *w0 = w + j * inputs;
        const float *w1 = w + (j + 1 <= last ? j + 1 : last) * inputs;
        const float *w2 = w + (j + 2 <= last ? j + 2 : last) * inputs;
        const float *w3 = w + (j + 3 <= last ? j + 3 : last) * inputs;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (long k = 0; k < inputs; k++) {
            float xk = x[k];
            a0 = __builtin_fmaf(xk, w0[k], a0);
            a1 = __builtin_fmaf(xk, w1[k], a1);
            a2 = __builtin_fmaf(xk, w2[k], a2);
            a3 = __builtin_fmaf(xk, w3[k], a3);
        }
        out[j] = bias[j] + a0;
        if (j + 1 <= last) out[j + 1] = bias[j + 1] + a1;
        if (j + 2 <= last) out[j + 2] = bias[j + 2] + a2;
        if (j + 3 <= last) out[j + 3] = bias[j + 3] + a3;
    }
}

#else

void tm_linear_row_fma(const float *x, const float *w, const float *bias, long inputs, long outputs, float *out) {
    (void)x; (void)w; (void)bias; (void)inputs; (void)outputs; (void)out;
}

#endif
