/* The machine's SGEMM peak and the recurrent step products, measured in one run.
 *
 *   bench/kernels/run.sh            (builds this with clang and runs it)
 *
 * Prints GFLOP/s (2·m·n·k per product, counted analytically) of
 *   - OpenBLAS cblas_sgemm on 2048³, on 1 thread and on 2 (openblas_set_num_threads):
 *     the peak every other figure is compared with;
 *   - the step products of lstm.json (H = 128; m = the rows still running, ≤ 32 per
 *     worker at batch 64 on 2 workers): the forward W_hh product [m × H]·[H × 4H] and the
 *     backward one [m × 4H]·[4H × H], through cblas_sgemm (as the engine at c59ddd2 calls
 *     it) and through the packed kernel (CKernels, the weights packed once per pass:
 *     tm_gemm_packed_avx512 where the CPU has AVX-512, else tm_gemm_packed_avx2; KERNEL=avx2
 *     in the environment measures the AVX2 one on an AVX-512 CPU),
 *     and the fused LSTM step (product + gate math), on 1 thread and on 2 threads each
 *     running its own products (as two training workers do);
 *   - the once-per-batch products (input projection, weight and input gradients, m·n·k
 *     large) through cblas_sgemm and through the engine's kernels.
 * OpenBLAS picks its kernel by CPU: OPENBLAS_CORETYPE=SkylakeX bench/kernels/run.sh
 * shows its AVX-512 kernel (the default on this AMD EPYC is Haswell, AVX2).
 * Each figure is the median of 7 timed repetitions, the compared kernels alternating;
 * TIMER=cpu times them by CPU time (see `now`). Then dense.c: the CNN's and the
 * Transformer's products against the same peak. */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textmodel_kernels.h"

void dense_products_report(const double peak[2]);
/* The packed kernel measured (main chooses it): its step product, unpacked product and
 * fused LSTM step. */
static const char *kernel_name;
static void (*packed_product)(long, long, long, const float *, long, const float *, float *, long);
static void (*plain_product)(int, long, long, long, const float *, long, const float *, long, float *, long);
static void (*fused_step)(long, long, const float *, const float *, float *, float *, float *, const float *);

/* TIMER=cpu in the environment times by the process's CPU time instead of the wall clock:
 * on a machine shared with other work, the seconds this process ran rather than the
 * seconds it waited too (spans of work on T threads are divided by T). */
static int cpu_timer;

static double now(void) {
    struct timespec t;
    clock_gettime(cpu_timer ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Seconds since `started` of work running on `threads` threads. */
static double span(double started, int threads) { return (now() - started) / (cpu_timer ? threads : 1); }

static float *filled(long count) {
    float *p = aligned_alloc(64, ((count * sizeof(float) + 63) / 64) * 64);
    for (long i = 0; i < count; i++) p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return p;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { REPS = 7 };

/* One workload: `run` performs `calls` products of `flops` each. */
typedef struct {
    int kind; /* 0 cblas NT forward, 1 packed forward, 2 cblas NN backward, 3 packed backward, 4 fused step */
    long m, h, calls;
    float *a, *w, *packed, *c, *cells, *hidden;
} Work;

static void run_work(Work *w) {
    long m = w->m, h = w->h, g4 = 4 * h;
    for (long i = 0; i < w->calls; i++) {
        switch (w->kind) {
        case 0: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, g4, h, 1, w->a, h, w->w, h, 1, w->c, g4); break;
        case 1: packed_product(m, g4, h, w->a, h, w->packed, w->c, g4); break;
        case 2: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, h, g4, 1, w->c, g4, w->w, h, 1, w->a, h); break;
        case 3: packed_product(m, h, g4, w->c, g4, w->packed, w->a, h); break;
        case 4: fused_step(m, h, w->a, w->packed, w->c, w->cells, w->hidden, w->cells); break;
        }
        /* Keep values bounded: the gates are overwritten by the next call anyway. */
        if (w->kind != 4 && (i & 63) == 63) memset(w->kind < 2 ? w->c : w->a, 0, sizeof(float) * m * (w->kind < 2 ? g4 : h));
    }
}

static void *thread_main(void *p) { run_work(p); return NULL; }

static Work make_work(int kind, long m, long h, long calls) {
    Work w = {kind, m, h, calls, filled(m * 4 * h), filled(4 * h * h), NULL, filled(m * 4 * h), filled(m * h), filled(m * h)};
    w.packed = filled(tm_packed_panels_floats(4 * h, 4 * h));
    if (kind == 1 || kind == 4) tm_pack_panels(h, 4 * h, w.w, h, 1, w.packed);
    if (kind == 3) tm_pack_panels(4 * h, h, w.w, h, 0, w.packed);
    return w;
}

/* Median GFLOP/s of each of `kinds` kinds on `threads` threads at once (each its own
 * buffers), the kinds alternating within every repetition so that a loaded machine's
 * swings hit them alike. */
static void measure(const int *kinds, int count, long m, long h, long calls, int threads, double *out) {
    Work works[5][2];
    for (int q = 0; q < count; q++)
        for (int t = 0; t < threads; t++) works[q][t] = make_work(kinds[q], m, h, calls);
    double rates[5][REPS];
    for (int r = 0; r < REPS; r++) {
        for (int q = 0; q < count; q++) {
            double started = now();
            pthread_t other;
            if (threads == 2) pthread_create(&other, NULL, thread_main, &works[q][1]);
            run_work(&works[q][0]);
            if (threads == 2) pthread_join(other, NULL);
            double seconds = span(started, threads);
            rates[q][r] = threads * 2.0 * m * 4 * h * h * calls / seconds / 1e9;
        }
    }
    for (int q = 0; q < count; q++) {
        for (int t = 0; t < threads; t++) {
            Work *w = &works[q][t];
            free(w->a); free(w->w); free(w->packed); free(w->c); free(w->cells); free(w->hidden);
        }
        qsort(rates[q], REPS, sizeof rates[q][0], compare);
        out[q] = rates[q][REPS / 2];
    }
}

static double sgemm_rate(long m, long n, long k, int threads, int transA) {
    openblas_set_num_threads(threads);
    float *a = filled(m * k), *b = filled(k * n), *c = filled(m * n);
    double rates[REPS];
    long calls = 1 + (long)(2e9 / (2.0 * m * n * k));
    for (int r = 0; r < REPS; r++) {
        double started = now();
        for (long i = 0; i < calls; i++)
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1,
                        a, transA ? m : k, b, n, 0, c, n);
        rates[r] = 2.0 * m * n * k * calls / span(started, threads) / 1e9;
    }
    free(a); free(b); free(c);
    openblas_set_num_threads(1);
    qsort(rates, REPS, sizeof rates[0], compare);
    return rates[REPS / 2];
}

/* Median GFLOP/s of the unpacked product (beta 1) on one thread, A transposed or not. */
static double kernel_rate(long m, long n, long k, int transA) {
    float *a = filled(m * k), *b = filled(k * n), *c = filled(m * n);
    double rates[REPS];
    long calls = 1 + (long)(2e9 / (2.0 * m * n * k));
    for (int r = 0; r < REPS; r++) {
        double started = now();
        for (long i = 0; i < calls; i++) plain_product(transA, m, n, k, a, transA ? m : k, b, n, c, n);
        rates[r] = 2.0 * m * n * k * calls / span(started, 1) / 1e9;
    }
    free(a); free(b); free(c);
    qsort(rates, REPS, sizeof rates[0], compare);
    return rates[REPS / 2];
}

/* Median GFLOP/s of the input projection through the packed kernel (W [n × k] packed
 * transposed once per call, as InputProjection does), one thread. */
static double projection_rate(long m, long n, long k) {
    float *a = filled(m * k), *w = filled(n * k), *c = filled(m * n), *packed = filled(tm_packed_panels_floats(k, n));
    double rates[REPS];
    long calls = 1 + (long)(2e9 / (2.0 * m * n * k));
    for (int r = 0; r < REPS; r++) {
        double started = now();
        for (long i = 0; i < calls; i++) {
            tm_pack_panels(k, n, w, k, 1, packed);
            packed_product(m, n, k, a, k, packed, c, n);
        }
        rates[r] = 2.0 * m * n * k * calls / span(started, 1) / 1e9;
    }
    free(a); free(w); free(c); free(packed);
    qsort(rates, REPS, sizeof rates[0], compare);
    return rates[REPS / 2];
}

int main(int argc, char **argv) {
    long h = argc > 1 ? atol(argv[1]) : 128;
    cpu_timer = getenv("TIMER") && strcmp(getenv("TIMER"), "cpu") == 0;
    if (cpu_timer) printf("(timed by process CPU time, TIMER=cpu)\n");
    double peak1 = sgemm_rate(2048, 2048, 2048, 1, 0), peak2 = sgemm_rate(2048, 2048, 2048, 2, 0);
    printf("SGEMM peak (OpenBLAS cblas_sgemm 2048^3): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n", peak1, peak2);
    openblas_set_num_threads(1);
    const char *wanted = getenv("KERNEL");
    if (tm_kernels_avx512() && tm_kernels_fma() && !(wanted && strcmp(wanted, "avx2") == 0)) {
        kernel_name = "AVX-512";
        packed_product = tm_gemm_packed_avx512; plain_product = tm_gemm_avx512; fused_step = tm_lstm_step_fused_avx512;
    } else if (tm_kernels_fma()) {
        kernel_name = "AVX2";
        packed_product = tm_gemm_packed_avx2; plain_product = tm_gemm_avx2; fused_step = tm_lstm_step_fused_avx2;
    } else {
        printf("this CPU has neither AVX-512 nor AVX2 with FMA: the packed recurrent kernels are not used\n");
        double peaks[2] = {peak1, peak2};
        dense_products_report(peaks);
        double end1 = sgemm_rate(2048, 2048, 2048, 1, 0), end2 = sgemm_rate(2048, 2048, 2048, 2, 0);
        printf("\nSGEMM peak again at the end (the machine's load moves): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n",
               end1, end2);
        return 0;
    }
    printf("\nrecurrent step products, H = %ld (GFLOP/s; %% of the same-thread-count peak)\n", h);
    printf("| product | rows m | threads | OpenBLAS | packed %s | fused step (product + gates) |\n|---|---:|---:|---:|---:|---:|\n",
           kernel_name);
    long ms[] = {32, 20, 8};
    for (int mi = 0; mi < 3; mi++) {
        long m = ms[mi];
        long calls = 1 + (long)(4e8 / (2.0 * m * 4 * h * h));
        for (int threads = 1; threads <= 2; threads++) {
            double peak = threads == 1 ? peak1 : peak2;
            static const int kinds[] = {0, 1, 4, 2, 3};
            double f[5];
            measure(kinds, 5, m, h, calls, threads, f);
            printf("| forward [m×H]·[H×4H] | %ld | %d | %.1f (%.0f%%) | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", m, threads,
                   f[0], 100 * f[0] / peak, f[1], 100 * f[1] / peak, f[2], 100 * f[2] / peak);
            printf("| backward [m×4H]·[4H×H] | %ld | %d | %.1f (%.0f%%) | %.1f (%.0f%%) | |\n", m, threads,
                   f[3], 100 * f[3] / peak, f[4], 100 * f[4] / peak);
        }
    }
    printf("\nonce-per-batch products, 1 thread (N = 700 rows of a shard, E = 100): OpenBLAS vs the %s kernel\n",
           kernel_name);
    printf("| product | OpenBLAS | %s kernel |\n|---|---:|---:|\n", kernel_name);
    double ip0 = sgemm_rate(700, 4 * h, 100, 1, 0), ip1 = projection_rate(700, 4 * h, 100);
    printf("| input projection [N×E]·[E×4H] (W_ih packed) | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", ip0, 100 * ip0 / peak1,
           ip1, 100 * ip1 / peak1);
    double dw0 = sgemm_rate(4 * h, h, 700, 1, 1), dw1 = kernel_rate(4 * h, h, 700, 1);
    printf("| weight gradient [4H×N]·[N×H] | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", dw0, 100 * dw0 / peak1, dw1, 100 * dw1 / peak1);
    double dx0 = sgemm_rate(700, 100, 4 * h, 1, 0), dx1 = kernel_rate(700, 100, 4 * h, 0);
    printf("| input gradient [N×4H]·[4H×E] | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", dx0, 100 * dx0 / peak1, dx1, 100 * dx1 / peak1);
    double peaks[2] = {peak1, peak2};
    dense_products_report(peaks);
    double end1 = sgemm_rate(2048, 2048, 2048, 1, 0), end2 = sgemm_rate(2048, 2048, 2048, 2, 0);
    printf("\nSGEMM peak again at the end (the machine's load moves): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n",
           end1, end2);
    return 0;
}
