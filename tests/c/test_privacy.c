/*
 * test_privacy.c - differentially private training (training.privacy) through the C ABI.
 *
 *  1. A DP-SGD run with target_epsilon: the epoch progress reports carry ε (rising, and
 *     the last at most the target), the report JSON has "privacy", and
 *     tm_model_privacy_json gives the record, also after a save and load.
 *  2. A model trained without privacy gives "null"; an untrained model TM_ERR_STATE;
 *     NULL arguments TM_ERR_INVALID_ARGUMENT, with a message each.
 *  3. Configs that would take the vocabulary or the labels from the private data are
 *     refused with TM_ERR_CONFIG naming the key to set.
 *
 *   test_privacy [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *const private_config =
    "{\"model\": {\"type\": \"bag\", \"embedding_dim\": 8, \"labels\": [\"food\", \"sports\", \"tech\"]},"
    " \"tokenizer\": {\"vocabulary\": \"hashed\", \"buckets\": 2000, \"word_ngrams\": 1,"
    "                 \"char_ngrams_min\": 0, \"char_ngrams_max\": 0},"
    " \"training\": {\"epochs\": 3, \"batch_size\": 16, \"threads\": 2, \"optimizer\": \"sgd\","
    "              \"learning_rate\": 0.5, \"lr_schedule\": \"constant\","
    "              \"privacy\": {\"target_epsilon\": 4, \"max_grad_norm\": 1, \"delta\": 1e-5}}}";

typedef struct { int epochs; double eps[8]; } seen_t;

static int on_progress(const tm_progress *p, void *user)
{
    seen_t *s = user;
    if (p->kind == TM_PROGRESS_EPOCH && s->epochs < 8 &&
        p->struct_size > offsetof(tm_progress, epsilon))
        s->eps[s->epochs++] = p->epsilon;
    return 0;
}

int main(int argc, char **argv)
{
    (void)tu_quick(argc, argv);
    tu_dataset data = tu_dataset_make(300, 17);
    char *dir = tu_tempdir_make();
    char *path = tu_path(dir, "private.tmmodel");
    tm_model *m = NULL, *loaded = NULL, *untrained = NULL;
    char *report = NULL, *record = NULL, *record2 = NULL, *json = NULL;
    seen_t seen = {0, {0}};

    /* 1. a private run */
    MUST(tm_model_new(private_config, &m));
    MUST(tm_model_train(m, (const char *const *)data.texts, data.labels, data.count, NULL, NULL, 0,
                        on_progress, &seen, &report));
    CHECK(strstr(report, "\"privacy\":{\"epsilon\":") != NULL, "the report lacks the privacy record: %s", report);
    CHECK(seen.epochs == 3, "%d epoch reports with ε, expected 3", seen.epochs);
    for (int i = 1; i < seen.epochs; i++)
        CHECK(seen.eps[i] > seen.eps[i - 1], "ε does not rise: %g then %g", seen.eps[i - 1], seen.eps[i]);
    CHECK(seen.epochs == 3 && seen.eps[2] <= 4.0 && seen.eps[2] >= 0.95 * 4.0,
          "final ε %g is not within [0.95, 1] × the target 4", seen.eps[2]);
    MUST(tm_model_privacy_json(m, &record));
    CHECK(strstr(record, "\"delta\":1e-05") != NULL || strstr(record, "\"delta\":1.0e-05") != NULL,
          "record without δ 1e-5: %s", record);
    CHECK(strstr(record, "\"accountant\":\"rdp\"") != NULL, "record without the accountant: %s", record);
    CHECK(strstr(record, "\"covered_by_accountant\":true") != NULL, "poisson run not covered: %s", record);
    MUST(tm_model_save(m, path));
    MUST(tm_model_load(path, &loaded));
    MUST(tm_model_privacy_json(loaded, &record2));
    CHECK(strcmp(record, record2) == 0, "the loaded record differs: %s vs %s", record, record2);

    /* 2. no privacy, untrained, NULLs */
    tm_model *plain = tu_train_tiny(&data, NULL);
    MUST(tm_model_privacy_json(plain, &json));
    CHECK(strcmp(json, "null") == 0, "a model without privacy gives %s", json);
    tm_string_free(json);
    json = NULL;
    MUST(tm_model_new(NULL, &untrained));
    CHECK(tm_model_privacy_json(untrained, &json) == TM_ERR_STATE && json == NULL, "untrained: not TM_ERR_STATE");
    CHECK(strstr(tm_last_error(), "not trained") != NULL, "message: %s", tm_last_error());
    CHECK(tm_model_privacy_json(NULL, &json) == TM_ERR_INVALID_ARGUMENT, "NULL model accepted");
    CHECK(tm_model_privacy_json(m, NULL) == TM_ERR_INVALID_ARGUMENT, "NULL out_json accepted");
    CHECK(strstr(tm_last_error(), "out_json") != NULL, "message: %s", tm_last_error());

    /* 3. refusals */
    tm_model *bad = NULL;
    CHECK(tm_model_new("{\"model\": {\"labels\": [\"a\", \"b\"]}, \"training\": {\"privacy\": {\"noise_multiplier\": 1}}}",
                       &bad) == TM_ERR_CONFIG && bad == NULL, "a data vocabulary was accepted");
    CHECK(strstr(tm_last_error(), "tokenizer.vocabulary") != NULL, "message: %s", tm_last_error());
    CHECK(tm_model_new("{\"tokenizer\": {\"vocabulary\": \"hashed\"}, \"training\": {\"privacy\": {\"noise_multiplier\": 1}}}",
                       &bad) == TM_ERR_CONFIG && bad == NULL, "labels from the data were accepted");
    CHECK(strstr(tm_last_error(), "model.labels") != NULL, "message: %s", tm_last_error());

    tm_string_free(report);
    tm_string_free(record);
    tm_string_free(record2);
    tm_model_free(m);
    tm_model_free(loaded);
    tm_model_free(plain);
    tm_model_free(untrained);
    free(path);
    tu_tempdir_remove(dir);
    tu_dataset_free(&data);
    return tu_finish("test_privacy");
}
