/*
 * test_autotune.c - tm_autotune and tm_autotune_files: every bad argument and option is
 * a status with a message; a small search returns a usable model and its table; a
 * seeded search repeats itself; a model-size limit holds for the saved file; the trial
 * callback sees every trial and can end the search.
 *
 *   test_autotune [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#define T(d) ((const char *const *)(d)->texts)
#define L(d) ((const char *const *)(d)->labels)

/* The model types the searches try. --quick (the valgrind run) searches bags only: under
 * valgrind a CNN trial's OpenBLAS products ran ~150x slower than natively (2.5 minutes for
 * the test), and the CNN's own memory is checked by the other valgrind tests. */
static const char *search_types = "[\"bag\", \"cnn\"]";

/* A quick search: `trials` trials of 2 epochs on one thread, plus `extra` options. */
static const char *quick_options(int trials, const char *extra)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"max_trials\": %d, \"time_budget\": 100000, \"threads\": 1,"
             " \"model_types\": %s,"
             " \"config\": {\"training\": {\"epochs\": 2}}%s%s}",
             trials, search_types, extra ? ", " : "", extra ? extra : "");
    return buf;
}

/* Calls tm_autotune with options `options`, expects `status` and a message containing
 * `needle`, and that *out_model stays untouched. */
static void expect_error(const char *options, const tu_dataset *train, const tu_dataset *valid,
                         tm_status status, const char *needle)
{
    tm_model *sentinel = (tm_model *)0x1;
    tm_model *model = sentinel;
    char *trials = NULL;
    tm_status got = tm_autotune(options, T(train), L(train), train->count, T(valid), L(valid),
                                valid->count, NULL, NULL, &model, &trials);
    CHECK(got == status, "options %s: %s, expected %s (%s)", options ? options : "NULL",
          tm_status_name(got), tm_status_name(status), tm_last_error());
    CHECK(strstr(tm_last_error(), needle) != NULL, "options %s: message \"%s\" lacks \"%s\"",
          options ? options : "NULL", tm_last_error(), needle);
    CHECK(model == sentinel, "out_model changed on error");
    CHECK(trials == NULL, "out_trials_json set on error");
}

/* The table without its timings ("seconds": ...), which alone may differ between runs. */
static char *without_seconds(const char *json)
{
    char *out = malloc(strlen(json) + 1), *w = out;
    const char *r = json;
    const char *key = "\"seconds\":";
    size_t k = strlen(key);
    while (*r) {
        if (strncmp(r, key, k) == 0) {
            r += k;
            while (*r && *r != ',' && *r != '}')
                r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return out;
}

static int count_calls_and_stop_at_2(const char *trial_json, void *user_data)
{
    int *calls = user_data;
    CHECK(strstr(trial_json, "\"status\"") != NULL, "trial row %s", trial_json);
    (*calls)++;
    return *calls == 2;
}

static void test_errors(const tu_dataset *train, const tu_dataset *valid)
{
    tm_model *model = NULL;
    char *trials = NULL;
    tm_status s;

    s = tm_autotune(NULL, T(train), L(train), train->count, T(valid), L(valid), valid->count,
                    NULL, NULL, NULL, &trials);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "out_model"), "NULL out_model: %s", tm_last_error());
    s = tm_autotune(NULL, NULL, L(train), train->count, T(valid), L(valid), valid->count,
                    NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "texts"), "NULL texts: %s", tm_last_error());
    s = tm_autotune(NULL, T(train), L(train), 0, T(valid), L(valid), valid->count, NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "count"), "count 0: %s", tm_last_error());
    s = tm_autotune(NULL, T(train), L(train), train->count, NULL, NULL, 0, NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "validation"), "no validation: %s", tm_last_error());
    s = tm_autotune(NULL, T(train), L(train), train->count, NULL, L(valid), valid->count, NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "valid_texts"), "NULL valid_texts: %s", tm_last_error());
    CHECK(model == NULL, "out_model set on error");

    expect_error("{", train, valid, TM_ERR_CONFIG, "autotune options");
    expect_error("{\"max_trials\": 1,}", train, valid, TM_ERR_CONFIG, "not valid JSON");
    expect_error("[]", train, valid, TM_ERR_CONFIG, "JSON object");
    expect_error("  ", train, valid, TM_ERR_CONFIG, "autotune options");
    expect_error("{\"budget\": 10}", train, valid, TM_ERR_CONFIG, "budget is not a known autotune option");
    expect_error("{\"metric\": \"auc\"}", train, valid, TM_ERR_CONFIG, "metric must be");
    expect_error("{\"metric\": \"r2\", \"task\": \"single_label\"}", train, valid, TM_ERR_CONFIG, "regression error");
    expect_error("{\"metric\": \"f1:nosuchlabel\", \"max_trials\": 1}", train, valid, TM_ERR_CONFIG, "nosuchlabel");
    expect_error("{\"time_budget\": 0}", train, valid, TM_ERR_CONFIG, "time_budget");
    expect_error("{\"time_budget\": -1}", train, valid, TM_ERR_CONFIG, "time_budget");
    expect_error("{\"max_trials\": 0}", train, valid, TM_ERR_CONFIG, "max_trials");
    expect_error("{\"max_model_mb\": -2}", train, valid, TM_ERR_CONFIG, "max_model_mb");
    expect_error("{\"model_types\": []}", train, valid, TM_ERR_CONFIG, "model_types");
    expect_error("{\"config\": {\"training\": {\"epoch\": 2}}}", train, valid, TM_ERR_CONFIG, "training.epoch");
    expect_error("{\"max_model_mb\": 0.001}", train, valid, TM_ERR_RESOURCE, "cannot be met");

    /* A validation label absent from training is the data's fault: an error. */
    {
        const char *vt[] = {"some text"}, *vl[] = {"unseen"};
        s = tm_autotune(quick_options(1, NULL), T(train), L(train), train->count, vt, vl, 1, NULL, NULL, &model, NULL);
        CHECK(s == TM_ERR_DATA && strstr(tm_last_error(), "unseen"), "unseen validation label: %s %s",
              tm_status_name(s), tm_last_error());
    }
    /* Files: NULL and missing paths. */
    s = tm_autotune_files(NULL, NULL, "v.csv", NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "train_path"), "NULL train_path: %s", tm_last_error());
    s = tm_autotune_files(NULL, "t.csv", NULL, NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_INVALID_ARGUMENT && strstr(tm_last_error(), "valid_path"), "NULL valid_path: %s", tm_last_error());
    s = tm_autotune_files(NULL, "/nonexistent/t.csv", "/nonexistent/v.csv", NULL, NULL, &model, NULL);
    CHECK(s == TM_ERR_IO, "missing file: %s %s", tm_status_name(s), tm_last_error());
    CHECK(model == NULL, "out_model set on error");
}

static void test_search(const tu_dataset *train, const tu_dataset *valid, const tu_dataset *test)
{
    tm_model *model = NULL, *again = NULL;
    char *trials = NULL, *trials_again = NULL;
    int32_t labels[4];
    const char *texts[] = {test->texts[0], test->texts[1]};
    int calls = 0;

    MUST(tm_autotune(quick_options(3, "\"seed\": 7"), T(train), L(train), train->count, T(valid),
                     L(valid), valid->count, NULL, NULL, &model, &trials));
    CHECK(model != NULL && trials != NULL, "no model or table");
    CHECK(strstr(trials, "\"best_trial\":") && strstr(trials, "\"stopped_by\":\"max_trials\""), "table %s", trials);
    CHECK(strstr(trials, "\"trial\":2") && !strstr(trials, "\"trial\":3"), "3 trials expected: %s", trials);
    MUST(tm_model_predict(model, texts, 2, 2, labels, NULL));

    /* The same seed: the same table, timings aside. */
    MUST(tm_autotune(quick_options(3, "\"seed\": 7"), T(train), L(train), train->count, T(valid),
                     L(valid), valid->count, NULL, NULL, &again, &trials_again));
    {
        char *a = without_seconds(trials), *b = without_seconds(trials_again);
        CHECK(strcmp(a, b) == 0, "a seeded search differs:\n%s\n%s", a, b);
        free(a);
        free(b);
    }
    tm_model_free(again);
    tm_string_free(trials_again);

    /* The callback sees each trial and stops the search at the second. */
    MUST(tm_autotune(quick_options(5, NULL), T(train), L(train), train->count, T(valid), L(valid),
                     valid->count, count_calls_and_stop_at_2, &calls, &again, NULL));
    CHECK(calls == 2, "callback called %d times", calls);
    tm_model_free(again);

    tm_model_free(model);
    tm_string_free(trials);
}

static void test_size_limit_and_files(const tu_dataset *train, const tu_dataset *valid)
{
    char *dir = tu_tempdir_make();
    char *train_path = tu_path(dir, "train.csv"), *valid_path = tu_path(dir, "valid.csv");
    char *model_path = tu_path(dir, "best.tmmodel");
    tm_model *model = NULL;
    char *trials = NULL;
    struct stat st;

    CHECK(tu_dataset_write(train, train_path, 1) == 0 && tu_dataset_write(valid, valid_path, 1) == 0, "write data");
    /* 0.2 MB: the default bag (200,000 buckets x 100 dims) must be shrunk a lot. */
    MUST(tm_autotune_files(quick_options(3, "\"max_model_mb\": 0.2"), train_path, valid_path, NULL, NULL,
                           &model, &trials));
    MUST(tm_model_save(model, model_path));
    CHECK(stat(model_path, &st) == 0 && st.st_size <= 200000, "model file %lld bytes > 200000",
          (long long)st.st_size);
    CHECK(strstr(trials, "shrunk to fit max_model_mb") != NULL, "no trial was shrunk: %s", trials);
    tm_model_free(model);
    tm_string_free(trials);

    tu_tempdir_remove(dir);
    free(train_path);
    free(valid_path);
    free(model_path);
}

int main(int argc, char **argv)
{
    int quick = tu_quick(argc, argv);
    if (quick)
        search_types = "[\"bag\"]";
    tu_dataset train = tu_dataset_make(quick ? 120 : 300, 1);
    tu_dataset valid = tu_dataset_make(60, 2);
    tu_dataset test = tu_dataset_make(10, 3);

    test_errors(&train, &valid);
    test_search(&train, &valid, &test);
    test_size_limit_and_files(&train, &valid);

    tu_dataset_free(&train);
    tu_dataset_free(&valid);
    tu_dataset_free(&test);
    return tu_finish("test_autotune");
}
