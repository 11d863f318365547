/*
 * test_predict_one.c - tm_model_predict_one gives the label and probability of
 * tm_model_predict with count 1, bit for bit, for a bag (the default model, Hogwild on
 * one thread), an LSTM and a CNN; the same label as within a batch; its errors.
 *
 *   test_predict_one [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void compare(tm_model *m, const tu_dataset *test, const char *name)
{
    size_t n = test->count;
    int32_t *batch_labels = malloc(n * sizeof *batch_labels);
    float *batch_probs = malloc(n * sizeof *batch_probs);
    MUST(tm_model_predict(m, (const char *const *)test->texts, n, 1, batch_labels, batch_probs));
    for (size_t i = 0; i < n; i++) {
        const char *text = test->texts[i];
        int32_t one_label = -1, alone_label = -1;
        float one_prob = -1, alone_prob = -1;
        MUST(tm_model_predict_one(m, text, &one_label, &one_prob));
        MUST(tm_model_predict(m, &text, 1, 1, &alone_label, &alone_prob));
        CHECK(one_label == alone_label, "%s text %zu: label %d alone %d", name, i, one_label, alone_label);
        CHECK(memcmp(&one_prob, &alone_prob, sizeof one_prob) == 0,
              "%s text %zu: probability %.9g, alone %.9g", name, i, one_prob, alone_prob);
        CHECK(one_label == batch_labels[i], "%s text %zu: label %d, in the batch %d", name, i,
              one_label, batch_labels[i]);
        int32_t label_only = -1;
        MUST(tm_model_predict_one(m, text, &label_only, NULL));   /* out_prob may be NULL */
        CHECK(label_only == one_label, "%s text %zu: label without out_prob", name, i);
    }
    free(batch_labels);
    free(batch_probs);
}

static tm_model *train(const tu_dataset *d, const char *config)
{
    tm_model *m = NULL;
    MUST(tm_model_new(config, &m));
    MUST(tm_model_train(m, (const char *const *)d->texts, (const char *const *)d->labels, d->count,
                        NULL, NULL, 0, NULL, NULL, NULL));
    return m;
}

static void expect(tm_status got, tm_status wanted, const char *what)
{
    CHECK(got == wanted, "%s: status %s, wanted %s (%s)", what, tm_status_name(got),
          tm_status_name(wanted), tm_last_error());
    CHECK(got == TM_OK || strlen(tm_last_error()) > 0, "%s: no tm_last_error message", what);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    tu_dataset train_set = tu_dataset_make(quick ? 150 : 400, 21);
    tu_dataset test = tu_dataset_make(quick ? 20 : 80, 22);

    tm_model *bag = train(&train_set, "{\"training\": {\"threads\": 1, \"epochs\": 2}}");
    compare(bag, &test, "default bag");
    tm_model *lstm = tu_train_tiny(&train_set, NULL);
    compare(lstm, &test, "lstm");
    tm_model *cnn = train(&train_set, "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"cnn\","
                                      " \"embedding_dim\": 8, \"filters\": 4, \"kernel_sizes\": [2]},"
                                      " \"training\": {\"threads\": 1, \"epochs\": 1}}");
    compare(cnn, &test, "cnn");

    /* Texts a batch holds too: empty, non-ASCII, invalid UTF-8. */
    const char *edge[] = {"", "   ", "caf\xc3\xa9 \xf0\x9f\x8e\x89", "bad \xff\xc3 bytes"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        int32_t a = -1, b = -1;
        float pa = 0, pb = 1;
        MUST(tm_model_predict_one(bag, edge[i], &a, &pa));
        MUST(tm_model_predict(bag, &edge[i], 1, 1, &b, &pb));
        CHECK(a == b && memcmp(&pa, &pb, sizeof pa) == 0, "edge text %zu differs", i);
    }

    int32_t label;
    float prob;
    expect(tm_model_predict_one(NULL, "a", &label, &prob), TM_ERR_INVALID_ARGUMENT, "NULL model");
    expect(tm_model_predict_one(bag, NULL, &label, &prob), TM_ERR_INVALID_ARGUMENT, "NULL text");
    expect(tm_model_predict_one(bag, "a", NULL, &prob), TM_ERR_INVALID_ARGUMENT, "NULL out_label");
    tm_model *untrained = NULL;
    MUST(tm_model_new(NULL, &untrained));
    expect(tm_model_predict_one(untrained, "a", &label, &prob), TM_ERR_STATE, "untrained");
    tm_model_free(untrained);

    const char *values[] = {"1.5", "2", "-1", "0.25"};
    const char *texts[] = {"one two", "two three", "three four", "four five"};
    tu_dataset regression_set = {4, (char **)texts, values};
    tm_model *regression = train(&regression_set, "{\"model\": {\"task\": \"regression\"}, \"training\": {\"threads\": 1, \"epochs\": 1}}");
    expect(tm_model_predict_one(regression, "a", &label, &prob), TM_ERR_INVALID_ARGUMENT, "regression model");

    tm_model_free(regression);
    tm_model_free(cnn);
    tm_model_free(lstm);
    tm_model_free(bag);
    tu_dataset_free(&test);
    tu_dataset_free(&train_set);
    if (tu_failures == 0) printf("test_predict_one: ok\n");
    return tu_failures == 0 ? 0 : 1;
}
