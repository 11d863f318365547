/* The bag model's mean row: ns per row of the f32 kernel (tm_bag_mean_avx2) and the
 * int8 one (tm_bag_mean_int8_avx2, integer sums), dim 100 as the default bag config,
 * texts of 20 tokens at random ids, with the table in cache (200 rows) and out of it
 * (232,434 rows, the tweets model's table: nearly every row a miss).
 *
 *   bench/kernels/bag_mean_bench.sh     (builds this with clang and runs it)
 *
 * Each figure is the median of 9 timed repetitions, f32 and int8 alternating, by CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: this process's seconds, not the seconds it waited on a
 * shared machine). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "textmodel_kernels.h"

enum { DIM = 100, LENGTH = 20, TEXTS = 20000, REPS = 9 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned long long state = 88172645463325252ull;
static unsigned next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 11);
}

static void run(long rows) {
    float *table = malloc(sizeof(float) * rows * DIM);
    signed char *values = malloc((size_t)rows * DIM);
    short *multipliers = malloc(sizeof(short) * rows);
    for (long i = 0; i < rows * DIM; i++) {
        values[i] = (signed char)((int)(next() % 255) - 127);
        table[i] = values[i] * 0.001f;
    }
    for (long r = 0; r < rows; r++) multipliers[r] = (short)(1000 + next() % 3000);
    /* One packed batch of TEXTS texts of LENGTH tokens: token t of text b at ids[t·TEXTS + b]. */
    int *ids = malloc(sizeof(int) * TEXTS * LENGTH);
    long *offsets = malloc(sizeof(long) * LENGTH);
    for (long i = 0; i < (long)TEXTS * LENGTH; i++) ids[i] = (int)(next() % rows);
    for (long t = 0; t < LENGTH; t++) offsets[t] = t * TEXTS;
    float *out = malloc(sizeof(float) * DIM);
    double f32[REPS], int8[REPS], check = 0;
    for (int rep = -1; rep < REPS; rep++) {   /* rep −1: warm-up, not timed */
        double t0 = now();
        for (long b = 0; b < TEXTS; b++) {
            tm_bag_mean_avx2(table, DIM, ids, offsets, b, LENGTH, 8, out);
            check += out[b % DIM];
        }
        double t1 = now();
        for (long b = 0; b < TEXTS; b++) {
            tm_bag_mean_int8_avx2(values, multipliers, 0.001f / 2000, DIM, ids, offsets, b, LENGTH, 16, out);
            check += out[b % DIM];
        }
        double t2 = now();
        if (rep >= 0) {
            f32[rep] = (t1 - t0) * 1e9 / ((double)TEXTS * LENGTH);
            int8[rep] = (t2 - t1) * 1e9 / ((double)TEXTS * LENGTH);
        }
    }
    qsort(f32, REPS, sizeof(double), compare);
    qsort(int8, REPS, sizeof(double), compare);
    printf("%7ld rows: f32 %.1f ns/row, int8 %.1f ns/row, int8/f32 %.2f (check %.3g)\n", rows, f32[REPS / 2],
           int8[REPS / 2], int8[REPS / 2] / f32[REPS / 2], check);
    free(table); free(values); free(multipliers); free(ids); free(offsets); free(out);
}

int main(void) {
    if (!tm_kernels_avx2()) {
        printf("this CPU has no AVX2: nothing to measure\n");
        return 0;
    }
    run(200);
    run(232434);
    return 0;
}
