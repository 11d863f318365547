/*
 * latency_textmodel.c - p50/p99 of one-text calls through the C ABI (bench/latency.py).
 *
 *   latency_textmodel MODEL TEXTS_FILE CALLS
 *
 * Loads MODEL, reads one text per line of TEXTS_FILE, then times CALLS single-text
 * calls (after 200 warm-up calls), each alone with clock_gettime(CLOCK_MONOTONIC), for
 * tm_model_predict_one and for tm_model_predict with count 1 (one pass over the
 * texts each); the model predicts on 1 thread. Prints one JSON object.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textmodel.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU seconds of this process: on a loaded machine, the work itself, whatever share
 * of a core the calls got. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void percentiles(double *ns, size_t n, double *p50, double *p99)
{
    qsort(ns, n, sizeof *ns, by_value);
    *p50 = ns[n / 2] / 1000.0;
    *p99 = ns[(size_t)(0.99 * (double)n)] / 1000.0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL TEXTS_FILE CALLS\n", argv[0]);
        return 2;
    }
    tm_model *model = NULL;
    if (tm_model_load(argv[1], &model) != TM_OK || tm_model_set_threads(model, 1) != TM_OK) {
        fprintf(stderr, "%s\n", tm_last_error());
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) { perror(argv[2]); return 1; }
    size_t cap = 1024, count = 0;
    char **texts = malloc(cap * sizeof *texts);
    char *line = NULL;
    size_t size = 0;
    ssize_t got;
    while ((got = getline(&line, &size, f)) >= 0) {
        if (got > 0 && line[got - 1] == '\n') line[got - 1] = 0;
        if (count == cap) texts = realloc(texts, (cap *= 2) * sizeof *texts);
        texts[count++] = strdup(line);
    }
    free(line);
    fclose(f);
    size_t calls = (size_t)atol(argv[3]);
    double *one = malloc(calls * sizeof *one), *batch = malloc(calls * sizeof *batch);
    int32_t label = 0;
    float prob = 0;
    long checksum = 0;
    for (size_t i = 0; i < 200; i++) {
        tm_model_predict_one(model, texts[i % count], &label, &prob);
        tm_model_predict(model, (const char *const *)&texts[i % count], 1, 1, &label, &prob);
    }
    /* Two passes over the same texts, one per call: timing both calls on each text in
     * turn would let the second find the first's embedding rows in cache. */
    double cpu0 = cpu_ns();
    for (size_t i = 0; i < calls; i++) {
        double t0 = now_ns();
        if (tm_model_predict_one(model, texts[i % count], &label, &prob) != TM_OK) { fprintf(stderr, "%s\n", tm_last_error()); return 1; }
        one[i] = now_ns() - t0;
        checksum += label;
    }
    double cpu1 = cpu_ns();
    for (size_t i = 0; i < calls; i++) {
        const char *text = texts[i % count];
        double t0 = now_ns();
        if (tm_model_predict(model, &text, 1, 1, &label, &prob) != TM_OK) { fprintf(stderr, "%s\n", tm_last_error()); return 1; }
        batch[i] = now_ns() - t0;
        checksum -= label;
    }
    double cpu2 = cpu_ns();
    double p50, p99, b50, b99;
    percentiles(one, calls, &p50, &p99);
    percentiles(batch, calls, &b50, &b99);
    printf("{\"calls\": %zu, \"predict_one_p50_us\": %.3f, \"predict_one_p99_us\": %.3f, "
           "\"predict_count1_p50_us\": %.3f, \"predict_count1_p99_us\": %.3f, \"label_mismatches\": %ld, "
           "\"predict_one_cpu_us\": %.3f, \"predict_count1_cpu_us\": %.3f}\n",
           calls, p50, p99, b50, b99, checksum, (cpu1 - cpu0) / 1000.0 / (double)calls,
           (cpu2 - cpu1) / 1000.0 / (double)calls);
    for (size_t i = 0; i < count; i++) free(texts[i]);
    free(texts);
    free(one);
    free(batch);
    tm_model_free(model);
    return 0;
}
