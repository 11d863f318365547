/*
 * test_quantize.c - tm_model_quantize, tm_model_quantize_files and tm_model_is_quantized:
 * a compressed bag model predicts like its f32 model on most texts, is over 10x smaller,
 * round-trips through a file and through memory with identical probabilities, is
 * reproducible, and retraining keeps its accuracy. Bad arguments and corrupted files
 * are in test_errors.c.
 *
 *   test_quantize [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define TX(d) ((const char *const *)(d)->texts)
#define LB(d) ((const char *const *)(d)->labels)

static const char *const bag_config =
    "{\"model\": {\"type\": \"bag\", \"embedding_dim\": 16}, \"tokenizer\": {\"buckets\": 5000},"
    " \"training\": {\"epochs\": 5, \"threads\": 1}}";

static float *probabilities(tm_model *m, const tu_dataset *d, size_t labels)
{
    float *p = malloc(d->count * labels * sizeof *p);
    if (p == NULL)
        exit(1);
    MUST(tm_model_predict_proba(m, TX(d), d->count, p));
    return p;
}

static size_t argmax(const float *row, size_t n)
{
    size_t best = 0, j;
    for (j = 1; j < n; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

static size_t saved_size(tm_model *m)
{
    unsigned char *bytes = NULL;
    size_t size = 0;
    MUST(tm_model_save_to_memory(m, &bytes, &size));
    tm_bytes_free(bytes);
    return size;
}

int main(int argc, char **argv)
{
    int quick = tu_quick(argc, argv);
    tu_dataset data = tu_dataset_make(quick ? 120 : 400, 3), test = tu_dataset_make(100, 4);
    tm_model *bag = NULL, *q = NULL, *again = NULL, *loaded = NULL, *fromfile = NULL;
    tm_quantize_options o;
    size_t labels = 0, i, agree = 0, same = 0, f32_size, q_size;
    float *pf, *pq, *pl;
    char *dir = tu_tempdir_make(), *model_path = tu_path(dir, "q.tmmodel"), *csv = tu_path(dir, "train.csv");
    int flag = -1;
    unsigned char *bytes = NULL;
    size_t size = 0;

    MUST(tm_model_new(bag_config, &bag));
    MUST(tm_model_train(bag, TX(&data), LB(&data), data.count, NULL, NULL, 0, NULL, NULL, NULL));
    MUST(tm_model_num_labels(bag, &labels));
    MUST(tm_model_is_quantized(bag, &flag));
    CHECK(flag == 0, "an f32 model says it is quantized");

    tm_quantize_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.dsub == 2 && o.cutoff == 0 && o.qnorm == 0 && o.retrain == 0,
          "unexpected defaults");
    o.qnorm = 1;
    o.cutoff = 200;
    MUST(tm_model_quantize(bag, &o, NULL, NULL, 0, &q));
    MUST(tm_model_is_quantized(q, &flag));
    CHECK(flag == 1, "a quantized model says it is not");
    f32_size = saved_size(bag);
    q_size = saved_size(q);
    printf("f32 %zu bytes, quantized %zu bytes\n", f32_size, q_size);
    CHECK(q_size * 10 < f32_size, "the quantized file (%zu) is not 10x smaller than %zu", q_size, f32_size);

    pf = probabilities(bag, &test, labels);
    pq = probabilities(q, &test, labels);
    for (i = 0; i < test.count; i++)
        agree += argmax(pf + i * labels, labels) == argmax(pq + i * labels, labels);
    printf("quantized and f32 agree on %zu of %zu texts\n", agree, test.count);
    /* --quick trains on 120 texts only, whose model is less sure of itself. */
    CHECK(agree * 100 >= test.count * (quick ? 80 : 90), "only %zu of %zu predictions agree", agree, test.count);

    /* Round trips: file and memory, same probabilities to the bit. */
    MUST(tm_model_save(q, model_path));
    MUST(tm_model_load(model_path, &loaded));
    MUST(tm_model_is_quantized(loaded, &flag));
    CHECK(flag == 1, "a loaded quantized model says it is not");
    pl = probabilities(loaded, &test, labels);
    CHECK(memcmp(pl, pq, test.count * labels * sizeof *pl) == 0, "the loaded model predicts differently");
    free(pl);
    MUST(tm_model_save_to_memory(q, &bytes, &size));
    tm_model_free(loaded);
    loaded = NULL;
    MUST(tm_model_load_from_memory(bytes, size, &loaded));
    tm_bytes_free(bytes);
    pl = probabilities(loaded, &test, labels);
    CHECK(memcmp(pl, pq, test.count * labels * sizeof *pl) == 0, "the model from memory predicts differently");
    free(pl);

    /* Reproducible: the same options give the same model, whatever the thread count. */
    o.threads = 2;
    MUST(tm_model_quantize(bag, &o, NULL, NULL, 0, &again));
    pl = probabilities(again, &test, labels);
    CHECK(memcmp(pl, pq, test.count * labels * sizeof *pl) == 0, "quantizing again on 2 threads differs");
    free(pl);
    tm_model_free(again);
    again = NULL;

    /* Retraining from memory and from a file: same data, same model; accuracy kept. */
    o.retrain = 1;
    MUST(tm_model_quantize(bag, &o, TX(&data), LB(&data), data.count, &again));
    CHECK(tu_dataset_write(&data, csv, 1) == 0, "cannot write %s", csv);
    MUST(tm_model_quantize_files(bag, &o, csv, &fromfile));
    pl = probabilities(again, &test, labels);
    free(pq);
    pq = probabilities(fromfile, &test, labels);
    CHECK(memcmp(pl, pq, test.count * labels * sizeof *pl) == 0, "retraining from a file differs from memory");
    for (i = 0; i < test.count; i++) {
        const char *truth = test.labels[i];
        const char *name = NULL;
        MUST(tm_model_label(again, argmax(pl + i * labels, labels), &name));
        same += strcmp(name, truth) == 0;
    }
    printf("retrained quantized model: %zu of %zu test texts right\n", same, test.count);
    CHECK(same * 100 >= test.count * (quick ? 70 : 80), "retrained accuracy %zu/%zu", same, test.count);

    free(pl);
    free(pq);
    free(pf);
    tm_model_free(fromfile);
    tm_model_free(again);
    tm_model_free(loaded);
    tm_model_free(q);
    tm_model_free(bag);
    tu_dataset_free(&data);
    tu_dataset_free(&test);
    free(model_path);
    free(csv);
    tu_tempdir_remove(dir);
    return tu_finish("test_quantize");
}
