/* The LSTM gate non-linearities, 8 lanes at a time on CPUs with AVX2.
 *
 * The Swift loops in LSTMLayer and Activations.swift are compiled for the x86-64
 * baseline (SSE, 4 lanes), since the library must run on any x86-64 CPU; this file
 * compiles the same arithmetic for AVX2 and is used only when the CPU has it. It does
 * the same IEEE operations in the same order (no FMA: contraction is off, and the
 * target does not enable it), so every float equals the Swift loop's, bit for bit:
 * training and inference give the same results on any x86-64 CPU.
 * LSTMStepKernelTests checks this. */
#include "textmodel_kernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__)

/* fastExp in Activations.swift, operation for operation. */
static inline float fast_exp(float x) {
    float clamped = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float t = clamped * 1.44269504f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = clamped - n * 0.69314575f - n * 1.4286068e-6f;
    float p = 1.9875691e-4f;
    p = p * r + 1.3981999e-3f;
    p = p * r + 8.333452e-3f;
    p = p * r + 4.1665796e-2f;
    p = p * r + 0.16666666f;
    p = p * r + 0.5f;
    p = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
static inline float tanh_float(float x) { return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f); }

/* Stateless: the Swift side asks once and keeps the answer (a thread-safe global).
 * FMA too: the int8 bag mean (bag_mean.c) fuses its multiply-adds; every AVX2 CPU
 * made has it, so this rules out no real one. */
int tm_kernels_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

__attribute__((target("avx2")))
void tm_lstm_step_avx2(float *gates, float *cells, float *hidden, const float *previous_cells, long rows, long h) {
    for (long b = 0; b < rows; b++) {
        float *restrict gate = gates + b * 4 * h;
        float *restrict c = cells + b * h;
        float *restrict out = hidden + b * h;
        for (long j = 0; j < 2 * h; j++) gate[j] = sigmoid(gate[j]);                 /* input and forget gates */
        for (long j = 2 * h; j < 3 * h; j++) gate[j] = tanh_float(gate[j]);         /* candidate */
        for (long j = 3 * h; j < 4 * h; j++) gate[j] = sigmoid(gate[j]);            /* output gate */
        const float *restrict i = gate, *restrict f = gate + h, *restrict g = gate + 2 * h, *restrict o = gate + 3 * h;
        if (previous_cells) {
            const float *restrict c_prev = previous_cells + b * h;
            for (long j = 0; j < h; j++) c[j] = f[j] * c_prev[j] + i[j] * g[j];
        } else {
            for (long j = 0; j < h; j++) c[j] = i[j] * g[j];
        }
        for (long j = 0; j < h; j++) out[j] = o[j] * tanh_float(c[j]);
    }
}

/* One row of LSTMLayer.backwardStep, operation for operation; c_prev NULL reads as
 * zeros. Inlined twice, so that each copy is a straight loop the compiler vectorizes
 * (a load under a condition inside the loop kept it scalar). */
__attribute__((target("avx2"), always_inline))
static inline void lstm_backward_row(const float *restrict gate, const float *restrict c, const float *restrict c_prev,
                                     const float *restrict dh, float *restrict dc, float *restrict d_gate, long h) {
    for (long j = 0; j < h; j++) {
        float i = gate[j], f = gate[h + j], gg = gate[2 * h + j], o = gate[3 * h + j];
        float tc = tanh_float(c[j]);
        float d_out = dh[j];
        float d_cell = dc[j] + d_out * o * (1 - tc * tc);
        float cp = c_prev ? c_prev[j] : 0.0f;
        d_gate[j] = d_cell * gg * i * (1 - i);
        d_gate[h + j] = d_cell * cp * f * (1 - f);
        d_gate[2 * h + j] = d_cell * i * (1 - gg * gg);
        d_gate[3 * h + j] = d_out * tc * o * (1 - o);
        dc[j] = d_cell * f;
    }
}

/* LSTMLayer.backwardStep (see there). */
__attribute__((target("avx2")))
void tm_lstm_backward_step_avx2(const float *gates, const float *cells, const float *previous_cells,
                                const float *d_hidden, float *carry, float *d_gates, long rows, long h) {
    for (long b = 0; b < rows; b++) {
        if (previous_cells) {
            lstm_backward_row(gates + b * 4 * h, cells + b * h, previous_cells + b * h, d_hidden + b * h, carry + b * h,
                              d_gates + b * 4 * h, h);
        } else {
            lstm_backward_row(gates + b * 4 * h, cells + b * h, NULL, d_hidden + b * h, carry + b * h,
                              d_gates + b * 4 * h, h);
        }
    }
}

#else

int tm_kernels_avx2(void) { return 0; }

void tm_lstm_backward_step_avx2(const float *gates, const float *cells, const float *previous_cells,
                                const float *d_hidden, float *carry, float *d_gates, long rows, long h) {
    (void)gates; (void)cells; (void)previous_cells; (void)d_hidden; (void)carry; (void)d_gates; (void)rows; (void)h;
}

void tm_lstm_step_avx2(float *gates, float *cells, float *hidden, const float *previous_cells, long rows, long h) {
    (void)gates; (void)cells; (void)hidden; (void)previous_cells; (void)rows; (void)h;
}

#endif
