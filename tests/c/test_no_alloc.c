/*
 * test_no_alloc.c - once warm, tm_model_predict_one allocates nothing: no malloc,
 * calloc, realloc or aligned allocation by the library, the Swift runtime inside it or
 * anything it calls, for the bag, CNN, LSTM, GRU and Transformer models in f32, f16 and
 * int8 (the promise of the header's tm_model_predict_one comment, counted for real).
 * Neither does a warm one-thread batch tm_model_predict_proba of ASCII texts (read in
 * place as UTF-8, into the pooled batch buffers).
 *
 * The counter is the Swift tests' (tests/swift/CAllocationCounter, linked in): it
 * defines malloc and its relatives in this executable, which take the place of libc's
 * for every shared library it loads, libtextmodel.so included. Sanitizer builds bring
 * their own malloc, so there the test says it is skipped and passes.
 *
 *   test_no_alloc [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "allocation_counter.h"

static const char *const configs[][2] = {
    {"bag (default subwords)", "{\"tokenizer\": {\"buckets\": 20000}, \"training\": {\"threads\": 1, \"epochs\": 1}}"},
    {"cnn", "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"cnn\", \"embedding_dim\": 8, \"filters\": 4,"
            " \"kernel_sizes\": [2, 3]}, \"training\": {\"threads\": 1, \"epochs\": 1}}"},
    {"lstm", "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"lstm\", \"embedding_dim\": 8, \"hidden_dim\": 8,"
             " \"bidirectional\": true}, \"training\": {\"threads\": 1, \"epochs\": 1}}"},
    {"gru", "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"gru\", \"embedding_dim\": 8, \"hidden_dim\": 8},"
            " \"training\": {\"threads\": 1, \"epochs\": 1}}"},
    {"transformer", "{\"tokenizer\": {\"min_freq\": 1, \"max_length\": 32}, \"model\": {\"type\": \"transformer\","
                    " \"embedding_dim\": 8, \"heads\": 2, \"layers\": 1, \"hidden_dim\": 16},"
                    " \"training\": {\"threads\": 1, \"epochs\": 1}}"},
};
static const char *const dtypes[] = {"f32", "f16", "int8"};

/* Allocations made by `rounds` passes of tm_model_predict_one over `test`, once warm. */
static size_t predict_one_allocations(tm_model *m, const tu_dataset *test, int rounds)
{
    int32_t label;
    float prob;
    for (size_t i = 0; i < test->count; i++)
        MUST(tm_model_predict_one(m, test->texts[i], &label, &prob));   /* warm */
    tm_test_allocations_begin();
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < test->count; i++)
            if (tm_model_predict_one(m, test->texts[i], &label, &prob) != TM_OK)
                break;
    return tm_test_allocations_end();
}

/* Allocations made by `rounds` one-thread tm_model_predict_proba calls on all of `test`, once warm. */
static size_t predict_proba_allocations(tm_model *m, const tu_dataset *test, float *rows, int rounds)
{
    MUST(tm_model_set_threads(m, 1));
    MUST(tm_model_predict_proba(m, (const char *const *)test->texts, test->count, rows));   /* warm */
    tm_test_allocations_begin();
    for (int r = 0; r < rounds; r++)
        if (tm_model_predict_proba(m, (const char *const *)test->texts, test->count, rows) != TM_OK)
            break;
    return tm_test_allocations_end();
}

int main(int argc, char **argv)
{
    if (!tm_test_allocation_counting_available()) {
        printf("test_no_alloc: skipped (a sanitizer build has its own malloc)\n");
        return 0;
    }
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    tu_dataset train_set = tu_dataset_make(quick ? 150 : 300, 31);
    tu_dataset test = tu_dataset_make(quick ? 20 : 60, 32);
    int32_t *label_rows = malloc(test.count * sizeof *label_rows);
    float *prob_rows = malloc(test.count * TU_NUM_CLASSES * sizeof *prob_rows);   /* every model has the 3 classes */
    if (label_rows == NULL || prob_rows == NULL)
        return 1;

    /* The counter counts: one call that must allocate (a model's config text). */
    tm_model *probe = NULL;
    MUST(tm_model_new(NULL, &probe));
    char *json = NULL;
    tm_test_allocations_begin();
    MUST(tm_model_config_json(probe, &json));
    CHECK(tm_test_allocations_end() > 0, "the counter saw no allocation in tm_model_config_json");
    tm_string_free(json);
    tm_model_free(probe);

    for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
        tm_model *trained = NULL;
        MUST(tm_model_new(configs[c][1], &trained));
        MUST(tm_model_train(trained, (const char *const *)train_set.texts, (const char *const *)train_set.labels,
                            train_set.count, NULL, NULL, 0, NULL, NULL, NULL));
        for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++) {
            uint8_t *bytes = NULL;
            size_t size = 0;
            tm_model *m = NULL;
            MUST(tm_model_save_to_memory_as(trained, dtypes[d], &bytes, &size));
            MUST(tm_model_load_from_memory(bytes, size, &m));
            tm_bytes_free(bytes);
            size_t n = predict_one_allocations(m, &test, 3);
            CHECK(n == 0, "%s %s: %zu allocations in %zu warm tm_model_predict_one calls", configs[c][0], dtypes[d],
                  n, 3 * test.count);
            size_t proba = predict_proba_allocations(m, &test, prob_rows, 3);
            CHECK(proba == 0, "%s %s: %zu allocations in 3 warm one-thread tm_model_predict_proba calls",
                  configs[c][0], dtypes[d], proba);
            /* The counter sees the library's own allocations: a top-k call allocates its
             * probability matrix and each row's label order, warm or not. */
            tm_test_allocations_begin();
            MUST(tm_model_predict(m, (const char *const *)test.texts, test.count, 1, &label_rows[0], NULL));
            size_t counted = tm_test_allocations_end();
            CHECK(counted > 0, "%s %s: no allocation seen in a batch tm_model_predict", configs[c][0], dtypes[d]);
            if (getenv("TM_TEST_VERBOSE"))
                printf("%s %s: %zu allocations in warm predict_one calls, %zu in warm predict_proba calls, %zu in one "
                       "top-k call\n", configs[c][0], dtypes[d], n, proba, counted);
            tm_model_free(m);
        }
        tm_model_free(trained);
    }

    free(label_rows);
    free(prob_rows);
    tu_dataset_free(&test);
    tu_dataset_free(&train_set);
    if (tu_failures == 0) printf("test_no_alloc: ok\n");
    return tu_failures == 0 ? 0 : 1;
}
