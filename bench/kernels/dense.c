/* The CNN's and the Transformer's products at the example configs' shapes, through
 * OpenBLAS and through the engine's AVX-512 kernels (recurrent_gemm.c), beside the
 * SGEMM peak that kernels.c measured in the same run.
 *
 * Shapes are one training worker's shard of a batch of 64 texts on 2 workers: 32 texts
 * of the tweets' mean length (629,279 tokens / 29,794 texts = 21.1), so N = 675 packed
 * rows; attention runs per text and head at L = 21 tokens (and L = 48 for a long text).
 *   transformer.json: D = 128, 4 heads (d = 32), feed-forward H = 256
 *   cnn.json:         E = 100, F = 100 filters, widths K = 3, 4, 5; a width's output
 *                     positions P = N − 32·(K − 1) (each text loses K − 1)
 * Every product is C += op(A)·op(B) (2·m·n·k FLOPs), with the strides the engine uses,
 * through OpenBLAS (what the engine runs) and, on CPUs with AVX-512, through the packed
 * kernels of recurrent_gemm.c for comparison (B packed once per call when it is
 * transposed, tm_pack_panels counted in its time). 2-thread figures run two copies at
 * once, each on its own buffers (two workers), and count both. Medians of 7, the two
 * columns alternating within every repetition. */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textmodel_kernels.h"

typedef struct {
    const char *name;
    int ta, tb;
    long m, n, k, lda, ldb, ldc;
    const char *group;
} Product;

typedef struct {
    const Product *p;
    int kernel;
    long calls;
    float *a, *b, *c, *packed;
} Job;

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *buffer(long count) {
    float *p = aligned_alloc(64, ((count * sizeof(float) + 63) / 64) * 64);
    for (long i = 0; i < count; i++) p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* Rows × stride of an operand stored [rows × cols] with row stride ld. */
static long stored(long rows, long ld) { return rows * ld; }

static void run_job(Job *j) {
    const Product *p = j->p;
    for (long i = 0; i < j->calls; i++) {
        if (!j->kernel) {
            cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans, p->m, p->n,
                        p->k, 1, j->a, p->lda, j->b, p->ldb, 1, j->c, p->ldc);
        } else if (p->tb) {
            tm_pack_panels(p->k, p->n, j->b, p->ldb, 1, j->packed);
            tm_gemm_packed_avx512(p->m, p->n, p->k, j->a, p->lda, j->packed, j->c, p->ldc);
        } else {
            tm_gemm_avx512(p->ta, p->m, p->n, p->k, j->a, p->lda, j->b, p->ldb, j->c, p->ldc);
        }
        /* Keep C bounded without touching it in the timed path too often. */
        if ((i & 255) == 255) memset(j->c, 0, sizeof(float) * stored(p->m, p->ldc));
    }
}

static void *job_thread(void *j) { run_job(j); return NULL; }

static Job make_job(const Product *p, int kernel, long calls) {
    Job j = {p, kernel, calls, NULL, NULL, NULL, NULL};
    j.a = buffer(p->ta ? stored(p->k, p->lda) : stored(p->m, p->lda));
    j.b = buffer(p->tb ? stored(p->n, p->ldb) : stored(p->k, p->ldb));
    j.c = buffer(stored(p->m, p->ldc));
    j.packed = buffer(tm_packed_panels_floats(p->k, p->n));
    return j;
}

static void free_job(Job *j) { free(j->a); free(j->b); free(j->c); free(j->packed); }

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { REPETITIONS = 7 };

/* Median seconds per call of OpenBLAS (out[0]) and the kernel (out[1]; only when `kinds`
 * is 2) on `threads` threads. */
static void time_product(const Product *p, int threads, int kinds, double out[2]) {
    double flops = 2.0 * p->m * p->n * p->k;
    long calls = 1 + (long)(3e8 / flops);
    Job jobs[2][2];
    for (int q = 0; q < kinds; q++)
        for (int t = 0; t < threads; t++) jobs[q][t] = make_job(p, q, calls);
    double times[2][REPETITIONS];
    for (int r = 0; r < REPETITIONS; r++) {
        for (int q = 0; q < kinds; q++) {
            double started = seconds_now();
            pthread_t other;
            if (threads == 2) pthread_create(&other, NULL, job_thread, &jobs[q][1]);
            run_job(&jobs[q][0]);
            if (threads == 2) pthread_join(other, NULL);
            times[q][r] = (seconds_now() - started) / calls;
        }
    }
    for (int q = 0; q < kinds; q++) {
        for (int t = 0; t < threads; t++) free_job(&jobs[q][t]);
        qsort(times[q], REPETITIONS, sizeof times[q][0], by_value);
        out[q] = times[q][REPETITIONS / 2];
    }
}

#define N 675L
#define SHARD 32L

static const Product products[] = {
    /* Transformer block, the four Linear layers: forward y = x·Wᵀ, dW += dyᵀ·x, dx = dy·W. */
    {"in_proj forward [N×D]·[D×3D]", 0, 1, N, 384, 128, 128, 128, 384, "transformer linear forward"},
    {"out_proj forward [N×D]·[D×D]", 0, 1, N, 128, 128, 128, 128, 128, "transformer linear forward"},
    {"ff1 forward [N×D]·[D×H]", 0, 1, N, 256, 128, 128, 128, 256, "transformer linear forward"},
    {"ff2 forward [N×H]·[H×D]", 0, 1, N, 128, 256, 256, 256, 128, "transformer linear forward"},
    {"in_proj dW [3D×N]·[N×D]", 1, 0, 384, 128, N, 384, 128, 128, "transformer linear backward"},
    {"out_proj dW [D×N]·[N×D]", 1, 0, 128, 128, N, 128, 128, 128, "transformer linear backward"},
    {"ff1 dW [H×N]·[N×D]", 1, 0, 256, 128, N, 256, 128, 128, "transformer linear backward"},
    {"ff2 dW [D×N]·[N×H]", 1, 0, 128, 256, N, 128, 256, 256, "transformer linear backward"},
    {"in_proj dx [N×3D]·[3D×D]", 0, 0, N, 128, 384, 384, 128, 128, "transformer linear backward"},
    {"out_proj dx [N×D]·[D×D]", 0, 0, N, 128, 128, 128, 128, 128, "transformer linear backward"},
    {"ff1 dx [N×H]·[H×D]", 0, 0, N, 128, 256, 256, 128, 128, "transformer linear backward"},
    {"ff2 dx [N×D]·[D×H]", 0, 0, N, 256, 128, 128, 256, 256, "transformer linear backward"},
    /* Attention, one text and head (L = 21, d = 32; q|k|v gathered [L × 3D]). */
    {"scores Q·Kᵀ [L×d]·[d×L], L=21", 0, 1, 21, 21, 32, 384, 384, 21, "attention forward"},
    {"P·V [L×L]·[L×d], L=21", 0, 0, 21, 32, 21, 21, 384, 128, "attention forward"},
    {"dV = Pᵀ·dO, L=21", 1, 0, 21, 32, 21, 21, 128, 384, "attention backward"},
    {"dP = dO·Vᵀ, L=21", 0, 1, 21, 21, 32, 128, 384, 21, "attention backward"},
    {"dQ = dS·K, L=21", 0, 0, 21, 32, 21, 21, 384, 384, "attention backward"},
    {"dK = dSᵀ·Q, L=21", 1, 0, 21, 32, 21, 21, 384, 384, "attention backward"},
    {"scores Q·Kᵀ, L=48", 0, 1, 48, 48, 32, 384, 384, 48, "attention, long text"},
    {"P·V, L=48", 0, 0, 48, 32, 48, 48, 384, 128, "attention, long text"},
    /* CNN, one width each: forward conv = unfolded·Wᵀ, dW += dConvᵀ·unfolded, dUnfolded = dConv·W. */
    {"K=3 forward [P×KE]·[KE×F]", 0, 1, N - 2 * SHARD, 100, 300, 300, 300, 100, "cnn forward"},
    {"K=4 forward", 0, 1, N - 3 * SHARD, 100, 400, 400, 400, 100, "cnn forward"},
    {"K=5 forward", 0, 1, N - 4 * SHARD, 100, 500, 500, 500, 100, "cnn forward"},
    {"K=3 dW [F×P]·[P×KE]", 1, 0, 100, 300, N - 2 * SHARD, 100, 300, 300, "cnn backward"},
    {"K=4 dW", 1, 0, 100, 400, N - 3 * SHARD, 100, 400, 400, "cnn backward"},
    {"K=5 dW", 1, 0, 100, 500, N - 4 * SHARD, 100, 500, 500, "cnn backward"},
    {"K=3 dUnfolded [P×F]·[F×KE]", 0, 0, N - 2 * SHARD, 300, 100, 100, 300, 300, "cnn backward"},
    {"K=4 dUnfolded", 0, 0, N - 3 * SHARD, 400, 100, 100, 400, 400, "cnn backward"},
    {"K=5 dUnfolded", 0, 0, N - 4 * SHARD, 500, 100, 100, 500, 500, "cnn backward"},
};

/* Prints the table; peak[0], peak[1]: the 1- and 2-thread SGEMM peaks of this run. */
void dense_products_report(const double peak[2]) {
    int count = (int)(sizeof products / sizeof products[0]);
    int kinds = tm_kernels_avx512() ? 2 : 1;
    printf("\nCNN and Transformer products, one worker's shard (N = %ld rows; GFLOP/s, %% of the same-thread-count peak)\n", N);
    printf("| product | m×n×k | OpenBLAS 1 thread | AVX-512 kernel 1 thread | OpenBLAS 2 threads | AVX-512 kernel 2 threads |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    const char *group = "";
    double group_flops = 0, group_time[2][2] = {{0, 0}, {0, 0}};
    for (int i = 0; i <= count; i++) {
        if (i == count || strcmp(products[i].group, group) != 0) {
            if (group_flops > 0) {
                printf("| **%s, all** | |", group);
                for (int t = 0; t < 2; t++)
                    for (int q = 0; q < 2; q++) {
                        double rate = (t + 1) * group_flops / group_time[t][q] / 1e9;
                        if (q < kinds) printf(" **%.1f (%.0f%%)** |", rate, 100 * rate / peak[t]);
                        else printf(" (no AVX-512) |");
                    }
                printf("\n");
            }
            if (i == count) break;
            group = products[i].group;
            group_flops = 0;
            memset(group_time, 0, sizeof group_time);
        }
        const Product *p = &products[i];
        double flops = 2.0 * p->m * p->n * p->k;
        group_flops += flops;
        printf("| %s | %ld×%ld×%ld |", p->name, p->m, p->n, p->k);
        for (int t = 1; t <= 2; t++) {
            double s[2] = {0, 0};
            time_product(p, t, kinds, s);
            for (int q = 0; q < 2; q++) {
                group_time[t - 1][q] += s[q];
                double rate = t * flops / s[q] / 1e9;
                if (q < kinds) printf(" %.1f (%.0f%%) |", rate, 100 * rate / peak[t - 1]);
                else printf(" |");
            }
        }
        printf("\n");
        fflush(stdout);
    }
}
