/*
 * test_errors.c - a catalogue of bad inputs to the libtextmodel C API.
 *
 * Each case is one call plus the tm_status it must return and substrings its
 * tm_last_error() message must contain ("a|b" means a or b; case-insensitive).
 * Every case also checks that the message is not empty and that output parameters
 * are left unchanged. Each case prints its name; the test fails if any case fails.
 *
 *   test_errors [--quick]    --quick: smaller data and no memory-limit subprocesses
 *                            (for running under valgrind)
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* A status no call returns: "no second acceptable status". */
#define NONE ((tm_status)-1)

/* ------------------------------------------------------------------ state */

static struct {
    int quick;
    char *dir;               /* temporary directory for every file */
    tu_dataset data;         /* training data of `trained` */
    tm_model *untrained;     /* tiny config, never trained */
    tm_model *trained;       /* tiny model trained on `data` (3 labels) */
    char *model_path;        /* `trained` saved here */
    unsigned char *model;    /* bytes of model_path */
    size_t model_size;
    size_t header_end;       /* 8 + safetensors header length = first data byte */
} T;

static char last_message[8192]; /* tm_last_error() right after the call under test */
static int message_was_null;
static int out_changed;          /* a call saw an output parameter modified on error */
static int cases_run, cases_failed;

/* Copies tm_last_error() before any other library call can replace it. */
static tm_status snap(tm_status status)
{
    const char *m = tm_last_error();
    message_was_null = m == NULL;
    snprintf(last_message, sizeof last_message, "%s", m ? m : "");
    return status;
}

static const char *status_name(tm_status s)
{
    return s == NONE ? "(none)" : tm_status_name(s);
}

/* Case-insensitive substring search. */
static int contains(const char *haystack, const char *needle, size_t needle_len)
{
    size_t i, j, n = strlen(haystack);
    if (needle_len == 0)
        return 1;
    for (i = 0; i + needle_len <= n; i++) {
        for (j = 0; j < needle_len; j++)
            if (tolower((unsigned char)haystack[i + j]) != tolower((unsigned char)needle[j]))
                break;
        if (j == needle_len)
            return 1;
    }
    return 0;
}

/* 1 if `message` contains one of the '|'-separated alternatives of `spec`. */
static int matches(const char *message, const char *spec)
{
    for (;;) {
        const char *bar = strchr(spec, '|');
        size_t len = bar ? (size_t)(bar - spec) : strlen(spec);
        if (contains(message, spec, len))
            return 1;
        if (bar == NULL)
            return 0;
        spec = bar + 1;
    }
}

typedef tm_status (*call_fn)(const void *arg);

/* Runs one case and prints its verdict. */
static void run_case(const char *name, call_fn call, const void *arg, tm_status expect,
                     tm_status also, const char *const must[3])
{
    tm_status got;
    int ok = 1, i;
    char why[512] = "";

    out_changed = 0;
    last_message[0] = '\0';
    got = call(arg);
    cases_run++;
    if (got != expect && got != also) {
        ok = 0;
        snprintf(why, sizeof why, "returned %s, expected %s%s%s", status_name(got),
                 status_name(expect), also == NONE ? "" : " or ", also == NONE ? "" :
                 status_name(also));
    } else if (message_was_null) {
        ok = 0;
        snprintf(why, sizeof why, "tm_last_error() returned NULL");
    } else if (got == TM_OK) {
        if (last_message[0] != '\0') {
            ok = 0;
            snprintf(why, sizeof why, "succeeded but tm_last_error() is not empty");
        }
    } else if (last_message[0] == '\0') {
        ok = 0;
        snprintf(why, sizeof why, "failed with an empty tm_last_error()");
    } else if (must == NULL || must[0] == NULL) {
        /* Every failure a row expects must also name its problem. */
        ok = 0;
        snprintf(why, sizeof why, "an error row without a message check (must)");
    } else {
        for (i = 0; i < 3 && must && must[i]; i++) {
            if (!matches(last_message, must[i])) {
                ok = 0;
                snprintf(why, sizeof why, "message lacks \"%s\"", must[i]);
                break;
            }
        }
    }
    if (ok && out_changed) {
        ok = 0;
        snprintf(why, sizeof why, "an output parameter was modified on error");
    }
    if (ok) {
        printf("  ok    %-40s %s: %s\n", name, status_name(got), last_message);
    } else {
        cases_failed++;
        printf("  FAIL  %-40s %s\n        message: %s\n", name, why, last_message);
    }
    fflush(stdout);
}

/* Same, with the expectation given inline. */
#define RUN(name, call, arg, expect, also, ...)                                        \
    do {                                                                               \
        const char *const must_[3] = {__VA_ARGS__};                                    \
        run_case(name, call, arg, expect, also, must_);                                \
    } while (0)

/* Sentinels for output parameters. */
static char sentinel_object;
#define SENTINEL_MODEL ((tm_model *)(void *)&sentinel_object)
#define SENTINEL_STRING (&sentinel_object)
#define SENTINEL_LABEL ((const char *)&sentinel_object)
#define SENTINEL_SIZE ((size_t)0x5EED)
#define SENTINEL_INT 0x5EED

/* ---------------------------------------------------- small-argument calls */

static const char *const three_texts[] = {"pizza and pasta", "a great goal", "my laptop"};
static const char *const three_labels[] = {"food", "sports", "tech"};
static const char *const null_inside[] = {"pizza", NULL, "goal"};

static tm_status c_new_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_new("{}", NULL));
}

static tm_status c_config_json(const void *a)
{
    char *s = SENTINEL_STRING;
    tm_status st = snap(tm_model_config_json(a ? T.trained : NULL, &s));
    if (st != TM_OK && s != SENTINEL_STRING)
        out_changed = 1;
    if (st == TM_OK)
        tm_string_free(s);
    return st;
}

static tm_status c_config_json_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_config_json(T.trained, NULL));
}

static tm_status c_is_trained(const void *a)
{
    int v = SENTINEL_INT;
    tm_status st = snap(tm_model_is_trained(a ? T.trained : NULL, &v));
    if (st != TM_OK && v != SENTINEL_INT)
        out_changed = 1;
    return st;
}

static tm_status c_is_trained_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_is_trained(T.trained, NULL));
}

static tm_status c_num_labels(const void *a)
{
    size_t v = SENTINEL_SIZE;
    tm_status st = snap(tm_model_num_labels(a ? T.trained : NULL, &v));
    if (st != TM_OK && v != SENTINEL_SIZE)
        out_changed = 1;
    return st;
}

static tm_status c_num_labels_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_num_labels(T.trained, NULL));
}

static tm_status c_vocab_size(const void *a)
{
    size_t v = SENTINEL_SIZE;
    tm_status st = snap(tm_model_vocab_size(a ? T.trained : NULL, &v));
    if (st != TM_OK && v != SENTINEL_SIZE)
        out_changed = 1;
    return st;
}

static tm_status c_vocab_size_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_vocab_size(T.trained, NULL));
}

/* arg: NULL for a NULL model, else the thread count to set on the trained model. The
 * setting must be unchanged after a refused call. */
static tm_status c_set_threads(const void *a)
{
    size_t before = SENTINEL_SIZE, after = SENTINEL_SIZE;
    tm_status st;
    if (!a)
        return snap(tm_model_set_threads(NULL, 1));
    MUST(tm_model_threads(T.trained, &before));
    st = snap(tm_model_set_threads(T.trained, *(const size_t *)a));
    MUST(tm_model_threads(T.trained, &after));
    if (st != TM_OK && after != before)
        out_changed = 1;
    return st;
}

static tm_status c_threads(const void *a)
{
    size_t v = SENTINEL_SIZE;
    tm_status st = snap(tm_model_threads(a ? T.trained : NULL, &v));
    if (st != TM_OK && v != SENTINEL_SIZE)
        out_changed = 1;
    return st;
}

static tm_status c_threads_null_out(const void *a)
{
    (void)a;
    return snap(tm_model_threads(T.trained, NULL));
}

/* arg: index as size_t; NULL model when index is SIZE_MAX - 1 */
typedef struct label_arg {
    int model; /* 0 NULL, 1 trained, 2 untrained */
    size_t index;
    int null_out;
} label_arg;

static tm_status c_label(const void *a)
{
    const label_arg *la = a;
    const tm_model *m = la->model == 0 ? NULL : la->model == 1 ? T.trained : T.untrained;
    const char *v = SENTINEL_LABEL;
    tm_status st = snap(tm_model_label(m, la->index, la->null_out ? NULL : &v));
    if (st != TM_OK && v != SENTINEL_LABEL)
        out_changed = 1;
    return st;
}

/* Training from memory with one argument broken. */
typedef struct train_arg {
    int null_model, null_texts, null_labels;
    size_t count;            /* rows of three_texts used (0 allowed) */
    size_t null_valid_count; /* if not 0: valid_texts/labels NULL with this valid_count */
    const char *const *texts; /* overrides three_texts when not NULL */
    const char *const *labels;
} train_arg;

static tm_status c_train(const void *a)
{
    const train_arg *ta = a;
    tm_model *m = NULL;
    char *report = SENTINEL_STRING;
    tm_status st;
    const char *const *texts = ta->texts ? ta->texts : three_texts;
    const char *const *labels = ta->labels ? ta->labels : three_labels;

    MUST(tm_model_new(tu_tiny_config(NULL), &m));
    st = snap(tm_model_train(ta->null_model ? NULL : m, ta->null_texts ? NULL : texts,
                             ta->null_labels ? NULL : labels, ta->count,
                             ta->null_valid_count ? NULL : three_texts,
                             ta->null_valid_count ? NULL : three_labels,
                             ta->null_valid_count, NULL, NULL, &report));
    if (st != TM_OK && st != TM_ERR_CANCELLED && report != SENTINEL_STRING)
        out_changed = 1;
    if (report != SENTINEL_STRING)
        tm_string_free(report);
    tm_model_free(m);
    return st;
}

static tm_status c_train_files_null(const void *a)
{
    tm_model *m = NULL;
    tm_status st;
    char *path = tu_path(T.dir, "good.csv");
    MUST(tm_model_new(tu_tiny_config(NULL), &m));
    st = snap(a ? tm_model_train_files(NULL, path, NULL, NULL, NULL, NULL)
                : tm_model_train_files(m, NULL, NULL, NULL, NULL, NULL));
    tm_model_free(m);
    free(path);
    return st;
}

/* Evaluation from memory with one argument broken. */
typedef struct eval_arg {
    int model; /* 0 NULL, 1 trained, 2 untrained */
    int null_texts, null_labels, null_out;
    size_t count;
    const char *const *texts;
    const char *const *labels;
} eval_arg;

static tm_status c_evaluate(const void *a)
{
    const eval_arg *ea = a;
    const tm_model *m = ea->model == 0 ? NULL : ea->model == 1 ? T.trained : T.untrained;
    char *metrics = SENTINEL_STRING;
    tm_status st = snap(tm_model_evaluate(
        m, ea->null_texts ? NULL : ea->texts ? ea->texts : three_texts,
        ea->null_labels ? NULL : ea->labels ? ea->labels : three_labels, ea->count,
        ea->null_out ? NULL : &metrics));
    if (st != TM_OK && metrics != SENTINEL_STRING)
        out_changed = 1;
    if (st == TM_OK)
        tm_string_free(metrics);
    return st;
}

/* Prediction with one argument broken. */
typedef struct predict_arg {
    int model; /* 0 NULL, 1 trained, 2 untrained */
    int proba; /* tm_model_predict_proba instead of tm_model_predict */
    const char *const *texts;
    size_t count, k;
    int null_labels, null_probs;
} predict_arg;

static tm_status c_predict(const void *a)
{
    const predict_arg *pa = a;
    const tm_model *m = pa->model == 0 ? NULL : pa->model == 1 ? T.trained : T.untrained;
    int32_t labels[64];
    float probs[64];
    size_t i;
    tm_status st;

    for (i = 0; i < 64; i++) {
        labels[i] = -7;
        probs[i] = 42.0f;
    }
    if (pa->proba)
        st = snap(tm_model_predict_proba(m, pa->texts, pa->count, pa->null_probs ? NULL : probs));
    else
        st = snap(tm_model_predict(m, pa->texts, pa->count, pa->k,
                                   pa->null_labels ? NULL : labels,
                                   pa->null_probs ? NULL : probs));
    if (st != TM_OK)
        for (i = 0; i < 64; i++)
            if (labels[i] != -7 || probs[i] != 42.0f)
                out_changed = 1;
    return st;
}

static tm_status c_save(const void *a)
{
    /* a: NULL -> NULL model; "untrained" -> the untrained model; "NULL path",
     * "empty path", "DIR" (T.dir itself); otherwise a path relative to T.dir. */
    const char *which = a;
    tm_status st;
    char *path;
    if (which == NULL) {
        path = tu_path(T.dir, "nullmodel.tmmodel");
        st = snap(tm_model_save(NULL, path));
    } else if (strcmp(which, "untrained") == 0) {
        path = tu_path(T.dir, "untrained.tmmodel");
        st = snap(tm_model_save(T.untrained, path));
    } else if (strcmp(which, "NULL path") == 0) {
        path = NULL;
        st = snap(tm_model_save(T.trained, NULL));
    } else if (strcmp(which, "empty path") == 0) {
        path = NULL;
        st = snap(tm_model_save(T.trained, ""));
    } else if (strcmp(which, "DIR") == 0) {
        path = NULL;
        st = snap(tm_model_save(T.trained, T.dir));
    } else {
        path = tu_path(T.dir, which);
        st = snap(tm_model_save(T.trained, path));
    }
    free(path);
    return st;
}

/* Loads a file in T.dir (arg: its name; NULL: NULL path; "-": NULL out_model). */
static tm_status c_load(const void *a)
{
    const char *name = a;
    tm_model *m = SENTINEL_MODEL;
    tm_status st;
    char *path = NULL;
    if (name == NULL) {
        st = snap(tm_model_load(NULL, &m));
    } else if (strcmp(name, "-") == 0) {
        st = snap(tm_model_load(T.model_path, NULL));
    } else {
        path = strcmp(name, ".") == 0 ? tu_path(T.dir, "") : tu_path(T.dir, name);
        st = snap(tm_model_load(path, &m));
    }
    if (st != TM_OK && m != SENTINEL_MODEL)
        out_changed = 1;
    if (st == TM_OK && m != SENTINEL_MODEL)
        tm_model_free(m);
    free(path);
    return st;
}

static tm_status c_load_empty_path(const void *a)
{
    tm_model *m = SENTINEL_MODEL;
    tm_status st = snap(tm_model_load("", &m));
    (void)a;
    if (st != TM_OK && m != SENTINEL_MODEL)
        out_changed = 1;
    if (st == TM_OK && m != SENTINEL_MODEL)
        tm_model_free(m);
    return st;
}

/* Loads bytes written to a scratch file. */
typedef struct bytes_arg {
    const unsigned char *bytes;
    size_t size;
} bytes_arg;

static tm_status c_load_bytes(const void *a)
{
    const bytes_arg *ba = a;
    char *path = tu_path(T.dir, "case.tmmodel");
    tm_status st;
    if (tu_write_file(path, ba->bytes, ba->size) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    st = c_load("case.tmmodel");
    unlink(path);
    free(path);
    return st;
}

/* ----------------------------------------------------------------- configs */

typedef struct config_case {
    const char *name;
    const char *json;
    tm_status expect, also;
    const char *must[3];
} config_case;

static tm_status c_new(const void *a)
{
    tm_model *m = SENTINEL_MODEL;
    tm_status st = snap(tm_model_new(a, &m));
    if (st != TM_OK && m != SENTINEL_MODEL)
        out_changed = 1;
    if (st == TM_OK)
        tm_model_free(m);
    return st;
}

#define CFG TM_ERR_CONFIG
static const config_case config_cases[] = {
    /* Malformed JSON. */
    {"config: unclosed object", "{", CFG, NONE, {"json|config"}},
    {"config: truncated", "{\"training\": {\"epochs\": 3", CFG, NONE, {"json|config"}},
    {"config: truncated string", "{\"model\": {\"type\": \"ls", CFG, NONE, {"json|config"}},
    {"config: trailing comma", "{\"model\": {\"hidden_dim\": 16,}}", CFG, NONE, {"json|config"}},
    {"config: unquoted key", "{model: {}}", CFG, NONE, {"json|config"}},
    {"config: not JSON", "hidden_dim=16", CFG, NONE, {"json|config"}},
    {"config: trailing garbage", "{\"model\": {}} xyz", CFG, NONE, {"json|config"}},
    {"config: two objects", "{} {}", CFG, NONE, {"json|config"}},
    {"config: single-quoted string", "{\"model\": {\"type\": 'lstm'}}", CFG, NONE,
     {"json|config"}},
    {"config: comment", "/* defaults */ {}", CFG, NONE, {"json|config"}},
    {"config: NaN", "{\"training\": {\"learning_rate\": NaN}}", CFG, NONE,
     {"json|training.learning_rate"}},
    /* Valid JSON that is not an object, or sections that are not objects. */
    {"config: array", "[1, 2]", CFG, NONE, {"object"}},
    {"config: number", "42", CFG, NONE, {"object"}},
    {"config: string", "\"lstm\"", CFG, NONE, {"object"}},
    {"config: null literal", "null", CFG, NONE, {"object"}},
    {"config: model is a number", "{\"model\": 5}", CFG, NONE, {"model", "object"}},
    {"config: training is an array", "{\"training\": []}", CFG, NONE, {"training", "object"}},
    /* Unknown keys, at the top and in every section. */
    {"config: unknown top-level key", "{\"modle\": {}}", CFG, NONE, {"modle"}},
    {"config: unknown tokenizer key", "{\"tokenizer\": {\"lowercas\": true}}", CFG, NONE,
     {"tokenizer.lowercas"}},
    {"config: unknown model key", "{\"model\": {\"hidden_sizee\": 8}}", CFG, NONE,
     {"model.hidden_sizee"}},
    {"config: unknown training key", "{\"training\": {\"learnin_rate\": 0.1}}", CFG, NONE,
     {"training.learnin_rate"}},
    {"config: unknown data key", "{\"data\": {\"formatt\": \"csv\"}}", CFG, NONE,
     {"data.formatt"}},
    {"config: unknown key after valid ones",
     "{\"model\": {\"hidden_dim\": 8, \"extra\": {\"y\": 1}}}", CFG, NONE, {"model.extra"}},
    /* Wrong types. */
    {"config: hidden_dim is a string", "{\"model\": {\"hidden_dim\": \"16\"}}", CFG, NONE,
     {"model.hidden_dim"}},
    {"config: hidden_dim has a fraction", "{\"model\": {\"hidden_dim\": 16.5}}", CFG, NONE,
     {"model.hidden_dim"}},
    {"config: hidden_dim is a bool", "{\"model\": {\"hidden_dim\": true}}", CFG, NONE,
     {"model.hidden_dim"}},
    {"config: lowercase is a number", "{\"tokenizer\": {\"lowercase\": 1}}", CFG, NONE,
     {"tokenizer.lowercase"}},
    {"config: lowercase is a string", "{\"tokenizer\": {\"lowercase\": \"yes\"}}", CFG, NONE,
     {"tokenizer.lowercase"}},
    {"config: learning_rate is a string", "{\"training\": {\"learning_rate\": \"fast\"}}", CFG,
     NONE, {"training.learning_rate"}},
    {"config: epochs is an array", "{\"training\": {\"epochs\": [3]}}", CFG, NONE,
     {"training.epochs"}},
    {"config: model.type is a number", "{\"model\": {\"type\": 5}}", CFG, NONE, {"model.type"}},
    {"config: text_column is a number", "{\"data\": {\"text_column\": 3}}", CFG, NONE,
     {"data.text_column"}},
    {"config: text_column is empty", "{\"data\": {\"text_column\": \"\"}}", CFG, NONE,
     {"data.text_column"}},
    {"config: seed has a fraction", "{\"training\": {\"seed\": 1.5}}", CFG, NONE,
     {"training.seed"}},
    /* Zero, negative and out-of-range values. */
    {"config: hidden_dim 0", "{\"model\": {\"hidden_dim\": 0}}", CFG, NONE,
     {"model.hidden_dim"}},
    {"config: hidden_dim -3", "{\"model\": {\"hidden_dim\": -3}}", CFG, NONE,
     {"model.hidden_dim", "-3"}},
    {"config: embedding_dim 0", "{\"model\": {\"embedding_dim\": 0}}", CFG, NONE,
     {"model.embedding_dim"}},
    {"config: layers 0", "{\"model\": {\"layers\": 0}}", CFG, NONE, {"model.layers"}},
    {"config: layers 17", "{\"model\": {\"layers\": 17}}", CFG, NONE, {"model.layers"}},
    {"config: embedding_dim 4097", "{\"model\": {\"embedding_dim\": 4097}}", CFG, NONE,
     {"model.embedding_dim"}},
    {"config: max_length 0", "{\"tokenizer\": {\"max_length\": 0}}", CFG, NONE,
     {"tokenizer.max_length"}},
    {"config: min_freq 0", "{\"tokenizer\": {\"min_freq\": 0}}", CFG, NONE,
     {"tokenizer.min_freq"}},
    {"config: max_size 2", "{\"tokenizer\": {\"max_size\": 2}}", CFG, NONE,
     {"tokenizer.max_size"}},
    {"config: batch_size 0", "{\"training\": {\"batch_size\": 0}}", CFG, NONE,
     {"training.batch_size"}},
    {"config: epochs 0", "{\"training\": {\"epochs\": 0}}", CFG, NONE, {"training.epochs"}},
    {"config: epochs -1", "{\"training\": {\"epochs\": -1}}", CFG, NONE, {"training.epochs"}},
    {"config: learning_rate 0", "{\"training\": {\"learning_rate\": 0}}", CFG, NONE,
     {"training.learning_rate"}},
    {"config: learning_rate -0.5", "{\"training\": {\"learning_rate\": -0.5}}", CFG, NONE,
     {"training.learning_rate"}},
    {"config: learning_rate 1000", "{\"training\": {\"learning_rate\": 1000}}", CFG, NONE,
     {"training.learning_rate"}},
    {"config: momentum 1", "{\"training\": {\"momentum\": 1}}", CFG, NONE,
     {"training.momentum"}},
    {"config: momentum -0.1", "{\"training\": {\"momentum\": -0.1}}", CFG, NONE,
     {"training.momentum"}},
    {"config: beta1 1.0", "{\"training\": {\"beta1\": 1.0}}", CFG, NONE, {"training.beta1"}},
    {"config: beta2 -1", "{\"training\": {\"beta2\": -1}}", CFG, NONE, {"training.beta2"}},
    {"config: epsilon 0", "{\"training\": {\"epsilon\": 0}}", CFG, NONE, {"training.epsilon"}},
    {"config: seed -1", "{\"training\": {\"seed\": -1}}", CFG, NONE, {"training.seed"}},
    {"config: threads -1", "{\"training\": {\"threads\": -1}}", CFG, NONE, {"training.threads"}},
    {"config: threads 5000", "{\"training\": {\"threads\": 5000}}", CFG, NONE,
     {"training.threads"}},
    {"config: progress_every 0", "{\"training\": {\"progress_every\": 0}}", CFG, NONE,
     {"training.progress_every"}},
    /* Absurd sizes: rejected by range checks or as too much memory, never attempted. */
    {"config: hidden_dim 100000000", "{\"model\": {\"hidden_dim\": 100000000}}", CFG,
     NONE, {"model.hidden_dim"}},
    {"config: embedding_dim 10^12", "{\"model\": {\"embedding_dim\": 1000000000000}}", CFG,
     NONE, {"model.embedding_dim"}},
    {"config: hidden_dim 1e20", "{\"model\": {\"hidden_dim\": 1e20}}", CFG, NONE,
     {"model.hidden_dim"}},
    {"config: hidden_dim INT64_MAX", "{\"model\": {\"hidden_dim\": 9223372036854775807}}", CFG,
     NONE, {"model.hidden_dim"}},
    {"config: hidden_dim 2^64", "{\"model\": {\"hidden_dim\": 18446744073709551616}}", CFG,
     NONE, {"model.hidden_dim"}},
    {"config: max_size 1e300", "{\"tokenizer\": {\"max_size\": 1e300}}", CFG, NONE,
     {"tokenizer.max_size"}},
    {"config: batch_size INT64_MIN", "{\"training\": {\"batch_size\": -9223372036854775808}}", CFG,
     NONE, {"training.batch_size"}},
    /* Unknown enumerated values. */
    {"config: model.type xlnet", "{\"model\": {\"type\": \"xlnet\"}}", CFG, NONE,
     {"model.type", "xlnet"}},
    {"config: model.type LSTM (case)", "{\"model\": {\"type\": \"LSTM\"}}", CFG, NONE,
     {"model.type"}},
    {"config: optimizer adagrad", "{\"training\": {\"optimizer\": \"adagrad\"}}", CFG, NONE,
     {"training.optimizer", "adagrad"}},
    {"config: data.format xml", "{\"data\": {\"format\": \"xml\"}}", CFG, NONE,
     {"data.format"}},
    /* Valid configs: must succeed with an empty message. */
    {"config: empty string (defaults)", "", TM_OK, NONE, {NULL}},
    /* Only "" (and NULL) mean the defaults; whitespace alone is malformed JSON. */
    {"config: blank string", " \n\t", CFG, NONE, {"not valid JSON", "whitespace"}},
    {"config: one space", " ", CFG, NONE, {"not valid JSON"}},
    {"config: empty object", "{}", TM_OK, NONE, {NULL}},
    {"config: every documented key",
     "{\"tokenizer\": {\"lowercase\": false, \"replace_urls\": false, \"min_freq\": 1,"
     " \"max_size\": 3, \"max_length\": 1},"
     " \"model\": {\"type\": \"lstm\", \"embedding_dim\": 4096, \"hidden_dim\": 1,"
     " \"layers\": 16},"
     " \"training\": {\"optimizer\": \"sgd\", \"learning_rate\": 100, \"momentum\": 0.99,"
     " \"beta1\": 0, \"beta2\": 0.5, \"epsilon\": 1, \"batch_size\": 1000000,"
     " \"epochs\": 100000, \"seed\": 9007199254740992, \"threads\": 1024,"
     " \"progress_every\": 2147483647},"
     " \"data\": {\"format\": \"fasttext\", \"text_column\": \"t\", \"label_column\": \"l\"}}",
     TM_OK, NONE, {NULL}},
    /* docs/config.md: progress_every is 1 … 2147483647. */
    {"config: progress_every 2^31 - 1 (documented maximum)",
     "{\"training\": {\"progress_every\": 2147483647}}", TM_OK, NONE, {NULL}},
    {"config: progress_every 2^31 (one past the maximum)",
     "{\"training\": {\"progress_every\": 2147483648}}", TM_ERR_CONFIG, NONE, {"training.progress_every", NULL}},
    {"config: integers written as 16.0", "{\"model\": {\"hidden_dim\": 16.0}}", TM_OK, NONE,
     {NULL}},
    /* Tasks. */
    {"config: model.task unknown", "{\"model\": {\"task\": \"ranking\"}}", CFG, NONE,
     {"model.task", "ranking"}},
    {"config: model.threshold 1", "{\"model\": {\"threshold\": 1}}", CFG, NONE,
     {"model.threshold"}},
    {"config: model.threshold a string", "{\"model\": {\"threshold\": \"high\"}}", CFG, NONE,
     {"model.threshold"}},
    {"config: empty data.label_separator", "{\"data\": {\"label_separator\": \"\"}}", CFG,
     NONE, {"data.label_separator"}},
    {"config: label smoothing, multi-label",
     "{\"model\": {\"task\": \"multi_label\"}, \"training\": {\"label_smoothing\": 0.1}}",
     CFG, NONE, {"label_smoothing", "multi_label"}},
    {"config: class weights, regression",
     "{\"model\": {\"task\": \"regression\"}, \"training\": {\"class_weights\": \"balanced\"}}",
     CFG, NONE, {"class_weights", "regression"}},
    {"config: regression stopping on accuracy",
     "{\"model\": {\"task\": \"regression\"}, \"training\": {\"early_stopping\": \"valid_accuracy\"}}",
     CFG, NONE, {"early_stopping", "valid_loss"}},
    /* An escaped NUL: json-c keeps keys as C strings, so "epochs\u0000zzz" was read as
     * "epochs"; in a value it would cut a file path short. */
    {"config: NUL in a key", "{\"training\": {\"epochs\\u0000zzz\": 3}}", CFG, NONE,
     {"NUL", "key"}},
    {"config: NUL in a section name", "{\"training\\u0000\": {}}", CFG, NONE, {"NUL"}},
    {"config: NUL alone as a key", "{\"\\u0000\": 1}", CFG, NONE, {"NUL"}},
    {"config: NUL in a class weight label",
     "{\"training\": {\"class_weights\": {\"a\\u0000b\": 2}}}", CFG, NONE, {"NUL"}},
    {"config: NUL in a file path", "{\"model\": {\"pretrained_vectors\": \"v.vec\\u0000x\"}}",
     CFG, NONE, {"model.pretrained_vectors", "NUL", "v.vec\\u{0}x"}},
    {"config: NUL in a column name", "{\"data\": {\"text_column\": \"te\\u0000xt\"}}", CFG,
     NONE, {"data.text_column", "NUL"}},
    {"config: \\u0000 escaped but not NUL (\\u00000)", "{\"data\": {\"text_column\": \"\\u00410\"}}",
     TM_OK, NONE, {NULL}},
};

/* ------------------------------------------------------------- data files */

/* A training file: written to T.dir/name unless content is NULL (then name must be
 * missing, or be the directory created in setup). */
typedef struct file_arg {
    const char *name;
    const char *content;
    const char *valid_name;    /* NULL: no validation file; for c_evaluate_file, not NULL
                                  means "evaluate the untrained model" */
    const char *valid_content; /* NULL: valid_name is not written */
} file_arg;

static char *write_case_file(const char *name, const char *content)
{
    char *path = tu_path(T.dir, name);
    if (content != NULL && tu_write_text(path, content) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

static tm_status c_train_file(const void *a)
{
    const file_arg *fa = a;
    char *path = write_case_file(fa->name, fa->content);
    char *valid = fa->valid_name ? write_case_file(fa->valid_name, fa->valid_content) : NULL;
    char *report = SENTINEL_STRING;
    tm_model *m = NULL;
    tm_status st;

    MUST(tm_model_new(tu_tiny_config(NULL), &m));
    st = snap(tm_model_train_files(m, path, valid, NULL, NULL, &report));
    if (st != TM_OK && report != SENTINEL_STRING)
        out_changed = 1;
    if (st == TM_OK)
        tm_string_free(report);
    tm_model_free(m);
    free(path);
    free(valid);
    return st;
}

static tm_status c_evaluate_file(const void *a)
{
    const file_arg *fa = a;
    char *path = fa->name ? write_case_file(fa->name, fa->content) : NULL;
    char *metrics = SENTINEL_STRING;
    tm_status st = snap(tm_model_evaluate_file(fa->valid_name ? T.untrained : T.trained, path,
                                               &metrics));
    if (st != TM_OK && metrics != SENTINEL_STRING)
        out_changed = 1;
    if (st == TM_OK)
        tm_string_free(metrics);
    free(path);
    return st;
}

#define GOOD_CSV "label,text\nfood,pizza and pasta\nsports,a goal\ntech,my laptop\n"

typedef struct file_case {
    const char *name;
    call_fn call;
    file_arg arg;
    tm_status expect, also;
    const char *must[3];
} file_case;

#define DATA TM_ERR_DATA
static const file_case file_cases[] = {
    {"train: missing file", c_train_file, {"missing.csv", NULL, NULL, NULL}, TM_ERR_IO, NONE,
     {"missing.csv"}},
    {"train: path is a directory", c_train_file, {"adir.csv", NULL, NULL, NULL}, TM_ERR_IO, NONE,
     {"directory"}},
    {"train: missing validation file", c_train_file, {"v1.csv", GOOD_CSV, "nov.csv", NULL},
     TM_ERR_IO, NONE, {"nov.csv"}},
    {"train: validation file is malformed", c_train_file,
     {"v2.csv", GOOD_CSV, "badv.csv", "label,text\nfood,\"pizza\n"}, DATA, NONE,
     {"badv.csv"}},
    {"train: csv unbalanced quote", c_train_file,
     {"quote.csv", "label,text\nfood,pizza time\nsports,\"goal scored\nfood,bread\n", NULL, NULL},
     DATA, NONE, {"quote|unbalanced|never closed", "quote.csv", ":3|line 3"}},
    {"train: csv missing text column", c_train_file,
     {"notext.csv", "label,body\nfood,pizza\nsports,goal\n", NULL, NULL}, DATA, NONE,
     {"\"text\"|'text'|text column", "column"}},
    {"train: csv missing label column", c_train_file,
     {"nolabel.csv", "category,text\nfood,pizza\nsports,goal\n", NULL, NULL}, DATA, NONE,
     {"\"label\"|'label'|label column", "column"}},
    {"train: csv ragged row (too many)", c_train_file,
     {"ragged.csv", "label,text\nfood,pizza\nsports,goal,extra\ntech,laptop\n", NULL, NULL}, DATA,
     NONE, {"field|column", ":3|line 3"}},
    {"train: csv ragged row (too few)", c_train_file,
     {"ragged2.csv", "label,text\nfood,pizza\nsports,goal\ntech\n", NULL, NULL}, DATA, NONE,
     {"field|column", ":4|line 4"}},
    {"train: csv header only", c_train_file, {"header.csv", "label,text\r\n", NULL, NULL}, DATA,
     NONE, {"row|example|empty"}},
    {"train: csv empty file", c_train_file, {"empty.csv", "", NULL, NULL}, DATA, NONE,
     {"empty|header"}},
    {"train: csv every row skipped", c_train_file,
     {"skipped.csv", "label,text\nfood,\n,pizza\nsports,\n", NULL, NULL}, DATA, NONE,
     {"row|example"}},
    {"train: csv one class", c_train_file,
     {"oneclass.csv", "label,text\nfood,pizza\nfood,pasta\nfood,bread\n", NULL, NULL}, DATA, NONE,
     {"class|label"}},
    {"train: fasttext one class", c_train_file,
     {"oneclass.txt", "__label__food pizza\n__label__food pasta\n", NULL, NULL}, DATA, NONE,
     {"class|label"}},
    {"train: fasttext without labels", c_train_file,
     {"nolabels.txt", "pizza and pasta\na great goal\n", NULL, NULL}, DATA, NONE,
     {"row|example|label"}},
    {"train: fasttext empty file", c_train_file, {"empty.txt", "", NULL, NULL}, DATA, NONE,
     {"row|example|empty"}},
    {"train: jsonl malformed line", c_train_file,
     {"bad.jsonl", "{\"label\": \"food\", \"text\": \"pizza\"}\n{\"label\": \"sports\", \"text\":\n",
      NULL, NULL}, DATA, NONE, {"bad.jsonl:2", "incomplete"}},
    {"train: jsonl line not an object", c_train_file,
     {"array.jsonl", "{\"label\": \"food\", \"text\": \"pizza\"}\n[\"sports\", \"goal\"]\n", NULL,
      NULL}, DATA, NONE, {"array.jsonl:2", "must be a JSON object"}},
    {"train: jsonl label list, single-label", c_train_file,
     {"list.jsonl", "{\"label\": [\"food\", \"tech\"], \"text\": \"pizza\"}\n", NULL, NULL},
     DATA, NONE, {"list.jsonl:1", "is a list"}},
    {"evaluate: label unseen in training", c_evaluate_file,
     {"unseen.csv", "label,text\nfood,pizza\nweather,rain today\n", NULL, NULL}, DATA, NONE,
     {"weather"}},
    {"evaluate: missing file", c_evaluate_file, {"nothere.csv", NULL, NULL, NULL}, TM_ERR_IO,
     NONE, {"nothere.csv"}},
    {"evaluate: path is a directory", c_evaluate_file, {"adir.csv", NULL, NULL, NULL}, TM_ERR_IO,
     NONE, {"directory"}},
    {"evaluate: NULL path", c_evaluate_file, {NULL, NULL, NULL, NULL}, TM_ERR_INVALID_ARGUMENT,
     NONE, {"path"}},
    {"evaluate: csv unbalanced quote", c_evaluate_file,
     {"quote2.csv", "label,text\nfood,\"pizza\n", NULL, NULL}, DATA, NONE,
     {"quote|unbalanced|never closed"}},
    {"evaluate: header only", c_evaluate_file, {"header2.csv", "label,text\n", NULL, NULL}, DATA,
     NONE, {"row|example|empty"}},
    {"evaluate: untrained model", c_evaluate_file, {"good2.csv", GOOD_CSV, "untrained", NULL},
     TM_ERR_STATE, NONE, {"train"}},
};

/* ------------------------------------------------------- model-file helpers */

/* Index of the first data byte of a safetensors file: 8 + little-endian u64 header
 * length; 0 if the file is too short or the length does not fit. */
static size_t safetensors_data_start(const unsigned char *b, size_t n)
{
    uint64_t len = 0;
    int i;
    if (n < 8)
        return 0;
    for (i = 7; i >= 0; i--)
        len = len << 8 | b[i];
    if (len > n - 8)
        return 0;
    return (size_t)(8 + len);
}

/* What every refused model file's message starts with (ModelFile.load). */
#define NOT_A_MODEL "is not a usable libtextmodel model file"

/* Loads `bytes`; the message must contain NOT_A_MODEL and `why` (the check that caught
 * it; '|' separates alternatives where one byte flip can trip several checks). */
static void run_bytes_case(const char *name, const unsigned char *bytes, size_t size,
                           tm_status expect, const char *why)
{
    bytes_arg arg;
    arg.bytes = bytes;
    arg.size = size;
    RUN(name, c_load_bytes, &arg, expect, NONE, NOT_A_MODEL, why);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Truncated copies of the good model file at lengths around its structure. */
static void truncated_model_cases(void)
{
    size_t n = T.model_size, h = T.header_end, lengths[16], count = 0, i;
    size_t candidates[] = {1, 7, 8, 9, 20, h / 2, h - 1, h, h + 1, h + 4, h + (n - h) / 2,
                           n - 4, n - 1};
    for (i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (candidates[i] > 0 && candidates[i] < n)
            lengths[count++] = candidates[i];
    qsort(lengths, count, sizeof lengths[0], cmp_size);
    for (i = 0; i < count; i++) {
        char name[96];
        if (i > 0 && lengths[i] == lengths[i - 1])
            continue;
        snprintf(name, sizeof name, "load: truncated to %zu of %zu bytes", lengths[i], n);
        run_bytes_case(name, T.model, lengths[i], TM_ERR_MODEL_FORMAT,
                       "(truncated or empty)|(truncated or corrupted)");
    }
}

/* Copies of the good model file with one byte changed, in the header and the data. */
static void flipped_model_cases(void)
{
    size_t n = T.model_size, h = T.header_end, i;
    size_t offsets[] = {0, 1, 7, 8, 9, 8 + (h - 8) / 4, 8 + (h - 8) / 2, 8 + 3 * (h - 8) / 4,
                        h - 2, h - 1, h, h + 1, h + (n - h) / 3, h + (n - h) / 2, n - 4, n - 1};
    unsigned char *copy = malloc(n);
    if (copy == NULL)
        exit(1);
    /* Which check catches a flip depends on where it is: the length (the header no
     * longer ends where the JSON does), the magic bytes at the header's start, the JSON
     * header (its syntax, or the metadata checksum or a tensor entry when it stays
     * valid JSON, or a metadata key's name: "the metadata has no labels"), or the
     * weights. */
    static const char *const length_why = "header claims|not valid JSON|header is incomplete";
    static const char *const header_why =
        "no magic|not valid JSON|header is incomplete|metadata checksum|wrong type, shape or position|metadata has no";
    static const char *const data_why = "weights checksum does not match";
    for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        char name[96];
        size_t at = offsets[i];
        const char *why = at < 8 ? length_why : at < h ? header_why : data_why;
        if (at >= n || (i > 0 && at == offsets[i - 1]))
            continue;
        memcpy(copy, T.model, n);
        copy[at] ^= 0x01;
        snprintf(name, sizeof name, "load: byte %zu xor 0x01 (%s)", at,
                 at < 8 ? "length" : at < h ? "header" : "data");
        run_bytes_case(name, copy, n, TM_ERR_MODEL_FORMAT, why);
        memcpy(copy, T.model, n);
        copy[at] ^= 0x80;
        snprintf(name, sizeof name, "load: byte %zu xor 0x80 (%s)", at,
                 at < 8 ? "length" : at < h ? "header" : "data");
        run_bytes_case(name, copy, n, TM_ERR_MODEL_FORMAT, why);
    }
    free(copy);
}

/* Copies with one byte of a meaningful header field changed (xor 0x01 keeps ASCII
 * letters and digits printable, so the header stays valid JSON): only the metadata
 * checksum or consistency checks can catch these. */
static void semantic_flip_cases(void)
{
    static const struct {
        const char *what, *needle;
        size_t at;       /* byte of needle to flip */
        const char *why; /* the check that must catch it */
    } targets[] = {
        {"format name", "libtextmodel", 3, "no magic"},
        {"config hidden_dim", "hidden_dim\\\":16", 13, "metadata checksum"},
        {"config seed", "seed\\\":", 7, "metadata checksum"},
        {"config lowercase", "lowercase\\\":true", 13, "metadata checksum"},
        {"a label", "sports", 1, "metadata checksum"},
        {"a vocabulary word", "pizza", 2, "metadata checksum"},
        {"metadata checksum", "checksum_metadata\":\"", 20, "metadata checksum"},
        {"data checksum", "checksum_data\":\"", 16, "weights checksum"},
        {"a tensor shape", "\"shape\":[", 9, "wrong type, shape or position"},
        {"a data offset", "\"data_offsets\":[0,", 18, "wrong type, shape or position"},
        {"a dtype", "\"F32\"", 1, "wrong type, shape or position"},
        {"a tensor name", "output.bias", 0, "output.bias is missing"},
    };
    size_t n = T.model_size, h = T.header_end, i;
    unsigned char *copy = malloc(n);
    char *header = malloc(h - 8 + 1);
    if (copy == NULL || header == NULL)
        exit(1);
    memcpy(header, T.model + 8, h - 8);
    header[h - 8] = '\0';
    for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char name[96];
        const char *found = strstr(header, targets[i].needle);
        snprintf(name, sizeof name, "load: flipped %s", targets[i].what);
        if (found == NULL) {
            printf("  skip  %-40s (\"%s\" not in the header)\n", name, targets[i].needle);
            continue;
        }
        memcpy(copy, T.model, n);
        copy[8 + (size_t)(found - header) + targets[i].at] ^= 0x01;
        run_bytes_case(name, copy, n, TM_ERR_MODEL_FORMAT, targets[i].why);
    }
    free(header);
    free(copy);
}

/* Hand-made files that are not (valid) libtextmodel files. */
static void foreign_model_cases(void)
{
    unsigned char buf[4096];
    uint64_t rng = 12345;
    size_t i;
    static const char other_header[] =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    size_t hl = sizeof other_header - 1;

    for (i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)tu_rand(&rng);
    run_bytes_case("load: 4 KiB of random bytes", buf, sizeof buf, TM_ERR_MODEL_FORMAT,
                   "no magic");
    run_bytes_case("load: a CSV file", (const unsigned char *)GOOD_CSV, strlen(GOOD_CSV),
                   TM_ERR_MODEL_FORMAT, "no magic");

    /* Header length far beyond the file (must not allocate it). */
    memset(buf, 0, 64);
    for (i = 0; i < 8; i++)
        buf[i] = 0xFF;
    buf[7] = 0x7F;
    memcpy(buf + 8, "{}", 2);
    run_bytes_case("load: header length 2^63", buf, 10, TM_ERR_MODEL_FORMAT,
                   "header claims 9223372036854775807 bytes");
    buf[0] = 0x00;
    buf[1] = 0x10;
    for (i = 2; i < 8; i++)
        buf[i] = 0;
    run_bytes_case("load: header length beyond the file", buf, 10, TM_ERR_MODEL_FORMAT,
                   "header claims 4096 bytes");

    /* A valid safetensors file from another program. */
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + 8, other_header, hl);
    memset(buf + 8 + hl, 0, 4);
    run_bytes_case("load: safetensors file of another program", buf, 8 + hl + 4,
                   TM_ERR_MODEL_FORMAT, "no magic");

    /* Header JSON is an array. */
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)(i == 0 ? 2 : 0);
    memcpy(buf + 8, "[]", 2);
    run_bytes_case("load: header is a JSON array", buf, 10, TM_ERR_MODEL_FORMAT,
                   "no __metadata__");
}

/* Raises every number in a metadata member whose name mentions "version" to 999 and
 * writes the result; expects TM_ERR_MODEL_FORMAT naming the version. */
static void newer_version_case(void)
{
    size_t h = T.header_end, n = T.model_size, i, hl = h - 8;
    char *header = malloc(hl + 1);
    unsigned char *copy = malloc(n);
    char *p;
    int changed = 0;
    if (header == NULL || copy == NULL)
        exit(1);
    memcpy(header, T.model + 8, hl);
    header[hl] = '\0';
    memcpy(copy, T.model, n);
    /* Find "...version...": <digits> or "...version...":"<digits>" and set the first
     * digit to 9 (same length, so every offset stays valid). */
    for (p = header; (p = strstr(p, "version")) != NULL; p++) {
        char *q = strchr(p, ':');
        if (q == NULL)
            break;
        q++;
        while (*q == ' ' || *q == '"')
            q++;
        if (*q >= '0' && *q <= '9') {
            *q = '9';
            changed = 1;
        }
    }
    if (!changed) {
        printf("  FAIL  %-40s no \"version\" member found in the model metadata\n",
               "load: newer format version");
        cases_run++;
        cases_failed++;
    } else {
        for (i = 0; i < hl; i++)
            copy[8 + i] = (unsigned char)header[i];
        /* Not NOT_A_MODEL: a newer file is usable, by a newer library. */
        RUN("load: newer format version", c_load_bytes,
            (&(bytes_arg){copy, n}), TM_ERR_MODEL_FORMAT, NONE, "newer libtextmodel",
            "format version 9");
    }
    free(header);
    free(copy);
}

/* ------------------------------------------------- bag-model compression */

/* A quantized bag model trained on T.data: its file bytes and where its data start. */
static struct {
    tm_model *bag, *quantized;
    unsigned char *bytes;
    size_t size, header_end;
} PQ;

#define PQ_BAG_CONFIG                                                                    \
    "{\"model\": {\"type\": \"bag\", \"embedding_dim\": 8}, \"tokenizer\": {\"buckets\": 500},"  \
    " \"training\": {\"epochs\": 3, \"threads\": 1}}"

typedef struct quantize_arg {
    int model;          /* 0 NULL, 1 T.trained (lstm), 2 untrained bag, 3 PQ.bag, 4 PQ.quantized */
    int options;        /* 0 NULL (defaults), 1 given */
    size_t struct_size; /* 0: sizeof */
    int32_t dsub, retrain;
    int data;           /* pass T.data */
    int null_out;
} quantize_arg;

static tm_status c_quantize(const void *a)
{
    const quantize_arg *q = a;
    tm_quantize_options o;
    tm_model *out = SENTINEL_MODEL, *untrained = NULL, *model = NULL;
    tm_status st;
    tm_quantize_options_init(&o);
    if (q->struct_size)
        o.struct_size = q->struct_size;
    if (q->dsub)
        o.dsub = q->dsub;
    o.retrain = q->retrain;
    if (q->model == 2)
        MUST(tm_model_new(PQ_BAG_CONFIG, &untrained));
    model = q->model == 1 ? T.trained : q->model == 2 ? untrained : q->model == 3 ? PQ.bag
          : q->model == 4 ? PQ.quantized : NULL;
    st = snap(tm_model_quantize(model, q->options ? &o : NULL,
                                q->data ? (const char *const *)T.data.texts : NULL,
                                q->data ? (const char *const *)T.data.labels : NULL,
                                q->data ? T.data.count : 0, q->null_out ? NULL : &out));
    if (st != TM_OK && out != SENTINEL_MODEL)
        out_changed = 1;
    if (st == TM_OK)
        tm_model_free(out);
    tm_model_free(untrained);
    return st;
}

static tm_status c_explain_quantized(const void *a)
{
    const char *texts[] = {"pizza"};
    tm_explanation *out = NULL;
    tm_status st;
    (void)a;
    st = snap(tm_model_explain(PQ.quantized, texts, 1, NULL, &out));
    if (st != TM_OK && out != NULL)
        out_changed = 1;
    tm_explanation_free(out);
    return st;
}

/* CRC-32 (zlib polynomial), to rewrite checksum_data after a deliberate change so
 * that only the consistency checks behind the checksum can catch it. */
static uint32_t crc32_of(const unsigned char *b, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= b[i];
        for (k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void pq_fix_data_checksum(unsigned char *copy)
{
    char *header = malloc(PQ.header_end - 8 + 1), hex[9];
    char *at;
    if (header == NULL)
        exit(1);
    memcpy(header, copy + 8, PQ.header_end - 8);
    header[PQ.header_end - 8] = '\0';
    at = strstr(header, "checksum_data\":\"");
    if (at == NULL) {
        fprintf(stderr, "no checksum_data in the quantized model\n");
        exit(1);
    }
    snprintf(hex, sizeof hex, "%08x", crc32_of(copy + PQ.header_end, PQ.size - PQ.header_end));
    memcpy(copy + 8 + (size_t)(at - header) + 16, hex, 8);
    free(header);
}

/* The first data byte of tensor `name` (its data_offsets' start) in the quantized file. */
static size_t pq_tensor_start(const char *name)
{
    char *header = malloc(PQ.header_end - 8 + 1), needle[64];
    char *at;
    unsigned long begin = 0;
    if (header == NULL)
        exit(1);
    memcpy(header, PQ.bytes + 8, PQ.header_end - 8);
    header[PQ.header_end - 8] = '\0';
    snprintf(needle, sizeof needle, "\"%s\":", name);
    at = strstr(header, needle);
    if (at == NULL || (at = strstr(at, "data_offsets\":[")) == NULL ||
        sscanf(at + 15, "%lu", &begin) != 1) {
        fprintf(stderr, "no tensor %s in the quantized model\n", name);
        exit(1);
    }
    free(header);
    return PQ.header_end + (size_t)begin;
}

/* Replaces the first `needle` in the header with `replacement` (same length). */
static int pq_edit_header(unsigned char *copy, const char *needle, const char *replacement)
{
    size_t hl = PQ.header_end - 8, n = strlen(needle), i;
    for (i = 0; i + n <= hl; i++) {
        if (memcmp(copy + 8 + i, needle, n) == 0) {
            memcpy(copy + 8 + i, replacement, n);
            return 1;
        }
    }
    return 0;
}

static void pq_cases(void)
{
    static const char *const wanted = "100";
    unsigned char *copy;
    size_t n, h, codes, books, ids, i;
    tm_quantize_options o;
    float nan_value = NAN;
    int32_t id;
    printf("bag-model compression:\n");
    MUST(tm_model_new(PQ_BAG_CONFIG, &PQ.bag));
    MUST(tm_model_train(PQ.bag, (const char *const *)T.data.texts, (const char *const *)T.data.labels,
                        T.data.count, NULL, NULL, 0, NULL, NULL, NULL));
    tm_quantize_options_init(&o);
    o.qnorm = 1;
    o.cutoff = (size_t)atoi(wanted); /* fewer than 256 rows: fewer than 256 centroids */
    o.threads = 1;
    MUST(tm_model_quantize(PQ.bag, &o, NULL, NULL, 0, &PQ.quantized));
    MUST(tm_model_save_to_memory(PQ.quantized, &PQ.bytes, &PQ.size));
    PQ.header_end = safetensors_data_start(PQ.bytes, PQ.size);
    n = PQ.size;
    h = PQ.header_end;

    RUN("quantize: NULL model", c_quantize, (&(quantize_arg){0, 0, 0, 0, 0, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("quantize: NULL out_model", c_quantize, (&(quantize_arg){3, 0, 0, 0, 0, 0, 1}),
        TM_ERR_INVALID_ARGUMENT, NONE, "out_model");
    RUN("quantize: an lstm model", c_quantize, (&(quantize_arg){1, 0, 0, 0, 0, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "bag models only", "lstm");
    RUN("quantize: untrained", c_quantize, (&(quantize_arg){2, 0, 0, 0, 0, 0, 0}),
        TM_ERR_STATE, NONE, "not trained");
    RUN("quantize: already quantized", c_quantize, (&(quantize_arg){4, 0, 0, 0, 0, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "already quantized");
    RUN("quantize: struct_size too small", c_quantize, (&(quantize_arg){3, 1, 8, 0, 0, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "struct_size", "tm_quantize_options_init");
    RUN("quantize: dsub 3 of embedding_dim 8", c_quantize, (&(quantize_arg){3, 1, 0, 3, 0, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "dsub", "embedding_dim (8)");
    RUN("quantize: retrain without data", c_quantize, (&(quantize_arg){3, 1, 0, 0, 1, 0, 0}),
        TM_ERR_INVALID_ARGUMENT, NONE, "retrain needs training data");
    RUN("quantize: retrain on the data", c_quantize, (&(quantize_arg){3, 1, 0, 0, 1, 1, 0}),
        TM_OK, NONE, NULL);
    RUN("explain: a quantized model", c_explain_quantized, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
        "product-quantized");

    copy = malloc(n);
    if (copy == NULL)
        exit(1);
    {
        bytes_arg good = {PQ.bytes, n};
        RUN("load pq: the good file", c_load_bytes, &good, TM_OK, NONE, NULL);
    }
    {
        size_t lengths[] = {9, h / 2, h - 1, h + 1, h + (n - h) / 2, n - 1};
        for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
            char name[96];
            snprintf(name, sizeof name, "load pq: truncated to %zu of %zu bytes", lengths[i], n);
            run_bytes_case(name, PQ.bytes, lengths[i], TM_ERR_MODEL_FORMAT,
                           "truncated|not valid JSON|header is incomplete|header claims");
        }
    }
    codes = pq_tensor_start("pq.codes");
    books = pq_tensor_start("pq.codebooks");
    ids = pq_tensor_start("pq.kept_ids");
    {
        size_t at[] = {h + 1, books + 5, codes, n - 1};
        for (i = 0; i < sizeof at / sizeof at[0]; i++) {
            char name[96];
            memcpy(copy, PQ.bytes, n);
            copy[at[i]] ^= 0x10;
            snprintf(name, sizeof name, "load pq: data byte %zu xor 0x10", at[i]);
            run_bytes_case(name, copy, n, TM_ERR_MODEL_FORMAT, "weights checksum does not match");
        }
    }
    memcpy(copy, PQ.bytes, n);
    if (!pq_edit_header(copy, "\"compression\":\"pq\"", "\"compression\":\"pr\""))
        exit(1);
    run_bytes_case("load pq: unknown compression", copy, n, TM_ERR_MODEL_FORMAT, "compression \"pr\"");
    memcpy(copy, PQ.bytes, n);
    if (!pq_edit_header(copy, "\"shape\":[4,100,2]", "\"shape\":[8,100,1]"))
        exit(1);
    run_bytes_case("load pq: codebook of the wrong shape", copy, n, TM_ERR_MODEL_FORMAT,
                   "pq.codebooks is missing or has the wrong type, shape");
    memcpy(copy, PQ.bytes, n);
    if (!pq_edit_header(copy, "\"dsub\\\":2", "\"dsub\\\":4"))
        exit(1);
    run_bytes_case("load pq: dsub changed in the metadata", copy, n, TM_ERR_MODEL_FORMAT,
                   "compression metadata checksum");
    memcpy(copy, PQ.bytes, n);
    copy[codes + 3] = 200; /* 100 centroids */
    pq_fix_data_checksum(copy);
    run_bytes_case("load pq: a code out of range", copy, n, TM_ERR_MODEL_FORMAT,
                   "pq.codes[3] = 200 is out of range");
    memcpy(copy, PQ.bytes, n);
    memcpy(copy + books + 4 * 7, &nan_value, 4);
    pq_fix_data_checksum(copy);
    run_bytes_case("load pq: a NaN centroid", copy, n, TM_ERR_MODEL_FORMAT,
                   "pq.codebooks centroid is not a finite number");
    memcpy(copy, PQ.bytes, n);
    memcpy(&id, copy + ids, 4);
    memcpy(copy + ids + 4, &id, 4); /* a repeated id */
    pq_fix_data_checksum(copy);
    run_bytes_case("load pq: kept ids not increasing", copy, n, TM_ERR_MODEL_FORMAT,
                   "pq.kept_ids[1] = ");
    memcpy(copy, PQ.bytes, n);
    id = 100000000;
    memcpy(copy + ids + 4 * 99, &id, 4); /* the last of the 100 */
    pq_fix_data_checksum(copy);
    run_bytes_case("load pq: a kept id past the rows", copy, n, TM_ERR_MODEL_FORMAT,
                   "pq.kept_ids[99] = 100000000");
    free(copy);
    tm_bytes_free(PQ.bytes);
    tm_model_free(PQ.quantized);
    tm_model_free(PQ.bag);
}

/* ------------------------------------------------------ save-failure cases */

/* 1 if dir has files besides the expected ones (a temporary file left behind). */
static int stray_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if ((strncmp(e->d_name, prefix, strlen(prefix)) == 0 || strncmp(e->d_name, ".tm-save-", 9) == 0) &&
            strstr(e->d_name, ".tmp") != NULL) {
            printf("        stray file: %s\n", e->d_name);
            found = 1;
        }
    closedir(d);
    return found;
}

/* Probabilities of `texts` under `m` (caller frees). */
static float *probabilities(const tm_model *m, const char *const *texts, size_t count)
{
    size_t labels;
    float *p;
    MUST(tm_model_num_labels(m, &labels));
    p = malloc(sizeof *p * count * labels);
    if (p == NULL)
        exit(1);
    MUST(tm_model_predict_proba(m, texts, count, p));
    return p;
}

/* The file at `path` loads and predicts exactly like T.trained. */
static int loads_like_trained(const char *path)
{
    tm_model *m = NULL;
    float *a, *b;
    size_t labels, i;
    int same = 1;
    tm_status st = tm_model_load(path, &m);
    if (st != TM_OK) {
        printf("        %s no longer loads: %s: %s\n", path, tm_status_name(st), tm_last_error());
        return 0;
    }
    MUST(tm_model_num_labels(T.trained, &labels));
    a = probabilities(T.trained, three_texts, 3);
    b = probabilities(m, three_texts, 3);
    for (i = 0; i < 3 * labels; i++)
        if (a[i] != b[i])
            same = 0;
    if (!same)
        printf("        %s loads but predicts differently\n", path);
    free(a);
    free(b);
    tm_model_free(m);
    return same;
}

/* Saves with a file-size limit below the model size, so writing fails like a full
 * disk. RLIMIT_FSIZE works even for root, unlike permissions. */
static tm_status c_save_disk_full(const void *a)
{
    struct rlimit old, small;
    tm_status st;
    void (*old_handler)(int);
    (void)a;
    if (getrlimit(RLIMIT_FSIZE, &old) != 0)
        return TM_OK;
    small = old;
    small.rlim_cur = (rlim_t)(T.model_size / 2);
    old_handler = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &small) != 0) {
        signal(SIGXFSZ, old_handler);
        return TM_OK;
    }
    st = snap(tm_model_save(T.trained, T.model_path));
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    return st;
}

static void save_failure_cases(void)
{
    char *sub = tu_path(T.dir, "keep");
    char *keep;
    mkdir(sub, 0755);
    keep = tu_path(sub, "good.tmmodel");

    MUST(tm_model_save(T.trained, keep));
    RUN("save: over an existing file", c_save, "keep/good.tmmodel", TM_OK, NONE, NULL);
    {
        char *old_model_path = T.model_path;
        T.model_path = keep;
        RUN("save: write fails (file size limit) over an existing file", c_save_disk_full, NULL,
            TM_ERR_IO, NONE, "cannot write", "File too large");
        T.model_path = old_model_path;
    }
    cases_run++;
    if (!loads_like_trained(keep) || stray_files(sub, "good.tmmodel")) {
        cases_failed++;
        printf("  FAIL  %-40s\n", "save: existing file intact after failed save");
    } else {
        printf("  ok    %-40s\n", "save: existing file intact after failed save");
    }
    {
        tm_status st = snap(tm_model_save(T.untrained, keep));
        cases_run++;
        if (st != TM_ERR_STATE || !contains(last_message, "not trained", 11) ||
            !loads_like_trained(keep)) {
            cases_failed++;
            printf("  FAIL  %-40s got %s: %s\n", "save: untrained over existing file",
                   tm_status_name(st), last_message);
        } else {
            printf("  ok    %-40s %s: %s\n", "save: untrained over existing file",
                   tm_status_name(st), last_message);
        }
    }
    free(keep);
    free(sub);
}

/* ----------------------------------------------------- memory-limit cases */

/* A config whose ranges are all valid but whose model needs tens of gigabytes must fail
 * with TM_ERR_RESOURCE (at tm_model_new or at training), not try to allocate. */
static const char *huge_config;
static tm_status new_and_train_huge(void)
{
    tm_model *m = NULL;
    tm_status st = tm_model_new(huge_config, &m);
    if (st == TM_OK)
        st = tm_model_train(m, three_texts, three_labels, 3, NULL, NULL, 0, NULL, NULL, NULL);
    tm_model_free(m);
    return st;
}

/* Runs body() in a child process with a 4 GiB address-space limit, so that a missing
 * check shows up as a failure instead of exhausting the machine; the child must return
 * TM_ERR_RESOURCE with a message containing `must`, not die. Must run before this
 * process starts threads. */
static void capped_case(const char *name, tm_status (*body)(void), const char *must)
{
    int fds[2];
    pid_t pid;
    char buf[2048];
    ssize_t got;
    int status;
    tm_status st;

    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct rlimit lim;
        char out[2048];
        close(fds[0]);
        lim.rlim_cur = lim.rlim_max = (rlim_t)4 << 30;
        setrlimit(RLIMIT_AS, &lim);
        st = body();
        snprintf(out, sizeof out, "%d %s", (int)st, tm_last_error());
        if (write(fds[1], out, strlen(out)) < 0)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    waitpid(pid, &status, 0);
    cases_run++;
    if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cases_failed++;
        printf("  FAIL  %-40s child died (%s %d) instead of returning an error\n", name,
               WIFSIGNALED(status) ? "signal" : "exit",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return;
    }
    buf[got] = '\0';
    st = (tm_status)atoi(buf);
    if (st == TM_ERR_RESOURCE && strchr(buf, ' ')[1] != '\0' && matches(buf, must)) {
        printf("  ok    %-40s %s:%s\n", name, tm_status_name(st), strchr(buf, ' '));
    } else {
        cases_failed++;
        printf("  FAIL  %-40s expected TM_ERR_RESOURCE with \"%s\", got %s\n", name, must, buf);
    }
}

/* ------------------------------------------------- odd but valid data files */

/* The integer member `key` of a report or metrics JSON text; -1 if absent. */
static long json_int(const char *json, const char *key)
{
    char pattern[64];
    const char *p;
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    p = strstr(json, pattern);
    if (p == NULL)
        return -1;
    p += strlen(pattern);
    while (*p == ' ')
        p++;
    return strtol(p, NULL, 10);
}

/* A file that must train (documented: invalid UTF-8 becomes U+FFFD, an over-long line
 * is cut to tokenizer.max_length, a JSONL row without a usable text or label is
 * skipped): the report must show `examples` examples, `skipped` skipped rows and
 * `labels` labels, the first being `first_label`. */
typedef struct trains_arg {
    const char *name;
    const char *content; /* NULL: built by the case (10 MB lines) */
    long examples, skipped, labels;
    const char *first_label;
} trains_arg;

static char *ten_mb_content; /* set by the 10 MB cases before running */

static tm_status c_file_trains(const void *a)
{
    const trains_arg *ta = a;
    char *path = write_case_file(ta->name, ta->content ? ta->content : ten_mb_content);
    char *report = NULL;
    tm_model *m = NULL;
    const char *first = NULL;
    size_t labels = 0;
    tm_status st;

    MUST(tm_model_new(tu_tiny_config("\"epochs\": 1"), &m));
    st = snap(tm_model_train_files(m, path, NULL, NULL, NULL, &report));
    if (st == TM_OK) {
        long examples = json_int(report, "train_examples");
        long skipped = json_int(report, "skipped_empty_text") +
                       json_int(report, "skipped_missing_label");
        MUST(tm_model_num_labels(m, &labels));
        MUST(tm_model_label(m, 0, &first));
        if (examples != ta->examples || skipped != ta->skipped || (long)labels != ta->labels ||
            strcmp(first, ta->first_label) != 0) {
            snprintf(last_message, sizeof last_message,
                     "trained, but %ld examples, %ld skipped, %zu labels, first \"%s\"; expected "
                     "%ld, %ld, %ld, \"%s\"", examples, skipped, labels, first, ta->examples,
                     ta->skipped, ta->labels, ta->first_label);
            st = TM_ERR_INTERNAL;
        }
        tm_string_free(report);
    }
    tm_model_free(m);
    unlink(path);
    free(path);
    return st;
}

/* Texts with invalid UTF-8 predict a valid label with a probability in [0, 1]. */
static tm_status c_predict_invalid_utf8(const void *a)
{
    static const char *const texts[] = {"pizza \xff\xfe", "\xc3", "caf\xe9 \xe2\x82", "\xed\xa0\x80"};
    int32_t labels[4];
    float probs[4];
    size_t i;
    tm_status st = snap(tm_model_predict(T.trained, texts, 4, 1, labels, probs));
    (void)a;
    for (i = 0; st == TM_OK && i < 4; i++)
        if (labels[i] < 0 || labels[i] >= 3 || !(probs[i] >= 0.0f && probs[i] <= 1.0f)) {
            snprintf(last_message, sizeof last_message, "text %zu: label %d, probability %g",
                     i, (int)labels[i], (double)probs[i]);
            st = TM_ERR_INTERNAL;
        }
    return st;
}

/* A 10 MB line, as the text of one CSV row or one fastText line. */
static void ten_mb_line_cases(void)
{
    static const char words[] = "pizza goal laptop the and a ";
    static const trains_arg csv = {"long.csv", NULL, 4, 0, 3, "food"},
                            ft = {"long.txt", NULL, 4, 0, 3, "food"};
    const size_t ten_mb = 10u << 20;
    char *line = malloc(ten_mb + 1);
    size_t i, n;
    if (line == NULL)
        exit(1);
    for (i = 0; i < ten_mb; i++)
        line[i] = words[i % (sizeof words - 1)];
    line[ten_mb] = '\0';
    n = ten_mb + 256;
    ten_mb_content = malloc(n);
    if (ten_mb_content == NULL)
        exit(1);
    snprintf(ten_mb_content, n, "label,text\nfood,pizza and pasta\nsports,a late goal\n"
             "tech,\"%s\"\nfood,fresh bread\n", line);
    RUN("train: csv with a 10 MB line (cut to max_length)", c_file_trains, &csv, TM_OK, NONE,
        NULL);
    snprintf(ten_mb_content, n, "__label__food pizza and pasta\n__label__sports a late goal\n"
             "__label__tech %s\n__label__food fresh bread\n", line);
    RUN("train: fasttext with a 10 MB line (cut to max_length)", c_file_trains, &ft, TM_OK, NONE,
        NULL);
    free(ten_mb_content);
    ten_mb_content = NULL;
    free(line);
}

static void odd_valid_file_cases(void)
{
    static const trains_arg
        csv_utf8 = {"utf8.csv", "label,text\nf\xffood,pizza \xfe pasta\nsports,goal \xc3\n"
                                "sports,a match\xe2\x82\n", 3, 0, 2, "f\xef\xbf\xbdood"},
        ft_utf8 = {"utf8.txt", "__label__f\xffood pizza \xfe\n__label__sports goal\xc3\n"
                               "__label__sports \xed\xa0\x80 match\n", 3, 0, 2, "f\xef\xbf\xbdood"},
        jsonl_utf8 = {"utf8.jsonl", "{\"label\": \"food\", \"text\": \"pizza \xff\"}\n"
                                    "{\"label\": \"sports\", \"text\": \"goal \xc3\"}\n", 2, 0, 2,
                      "food"},
        jsonl_missing = {"missing.jsonl", "{\"label\": \"food\", \"text\": \"pizza\"}\n"
                                          "{\"label\": \"sports\"}\n"
                                          "{\"text\": \"a late goal\"}\n"
                                          "{\"label\": \"sports\", \"text\": \"goal\"}\n",
                         2, 2, 2, "food"},
        jsonl_types = {"types.jsonl", "{\"label\": \"food\", \"text\": \"pizza\"}\n"
                                      "{\"label\": \"sports\", \"text\": {\"words\": \"goal\"}}\n"
                                      "{\"label\": {\"name\": \"tech\"}, \"text\": \"laptop\"}\n"
                                      "{\"label\": 7, \"text\": \"seven\"}\n"
                                      "{\"label\": \"sports\", \"text\": null}\n",
                       2, 3, 2, "7"};
    RUN("train: csv with invalid UTF-8 (U+FFFD)", c_file_trains, &csv_utf8, TM_OK, NONE, NULL);
    RUN("train: fasttext with invalid UTF-8 (U+FFFD)", c_file_trains, &ft_utf8, TM_OK, NONE,
        NULL);
    RUN("train: jsonl with invalid UTF-8 (U+FFFD)", c_file_trains, &jsonl_utf8, TM_OK, NONE, NULL);
    RUN("train: jsonl rows missing a field are skipped", c_file_trains, &jsonl_missing, TM_OK,
        NONE, NULL);
    RUN("train: jsonl object or null fields are skipped", c_file_trains, &jsonl_types, TM_OK, NONE,
        NULL);
    RUN("predict: texts with invalid UTF-8", c_predict_invalid_utf8, NULL, TM_OK, NONE, NULL);
    if (T.quick)
        printf("  skip  10 MB lines (--quick)\n");
    else
        ten_mb_line_cases();
}

/* ------------------------------------------------- endless and huge inputs */

/* /dev/zero as training data: read until training.max_memory_mb, then refused. */
static tm_status c_train_dev_zero(const void *a)
{
    tm_model *m = NULL;
    tm_status st;
    (void)a;
    MUST(tm_model_new(tu_tiny_config("\"max_memory_mb\": 16"), &m));
    st = snap(tm_model_train_files(m, "/dev/zero", NULL, NULL, NULL, NULL));
    tm_model_free(m);
    return st;
}

/* /dev/zero as the pretrained vectors file: the same limit. */
static tm_status c_vectors_dev_zero(const void *a)
{
    tm_model *m = NULL;
    tm_status st;
    char *path = tu_path(T.dir, "good.csv");
    (void)a;
    MUST(tm_model_new("{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"bag\","
                      " \"embedding_dim\": 8, \"pretrained_vectors\": \"/dev/zero\"},"
                      " \"training\": {\"epochs\": 1, \"threads\": 1, \"max_memory_mb\": 48}}",
                      &m));
    st = snap(tm_model_train_files(m, path, NULL, NULL, NULL, NULL));
    tm_model_free(m);
    free(path);
    return st;
}

/* /dev/zero as a model (child of capped_case): the read stops when memory runs out. */
static tm_status load_dev_zero(void)
{
    tm_model *m = NULL;
    tm_status st = tm_model_load("/dev/zero", &m);
    tm_model_free(m);
    return st;
}

/* ------------------------------------------- saving without write permission */

/* Child mode (--as-nobody DIR): drops root to nobody (65534), then saves the model
 * DIR/closed/m.tmmodel holds into DIR/closed (a directory it cannot write), over
 * DIR/closed/m.tmmodel, and over DIR/open/m.tmmodel (a read-only file in a directory
 * it can write). Prints "<status> <message>" per save. */
static int as_nobody(const char *dir)
{
    char path[4096];
    tm_model *m = NULL;
    const char *targets[] = {"closed/new.tmmodel", "closed/m.tmmodel", "open/m.tmmodel"};
    size_t i;
    if (setgid(65534) != 0 || setuid(65534) != 0 || geteuid() != 65534) {
        perror("dropping privileges");
        return 2;
    }
    snprintf(path, sizeof path, "%s/closed/m.tmmodel", dir);
    MUST(tm_model_load(path, &m));
    for (i = 0; i < 3; i++) {
        tm_status st;
        snprintf(path, sizeof path, "%s/%s", dir, targets[i]);
        st = tm_model_save(m, path);
        printf("%d %s\n", (int)st, tm_last_error());
    }
    tm_model_free(m);
    return 0;
}

static void unwritable_save_cases(const char *self)
{
    static const char *const names[] = {"save as nobody: into an unwritable directory",
                                        "save as nobody: over a file in it",
                                        "save as nobody: over a read-only file"};
    static const char *const musts[] = {"cannot create a temporary file", "cannot save over",
                                        "cannot save over"};
    char *dir = tu_path(T.dir, "perm"), *closed, *open_dir, *closed_model, *open_model;
    char cmd[8192], line[8192];
    FILE *child;
    size_t i = 0;
    int status;

    if (geteuid() != 0) {
        printf("  skip  %-40s (needs root to drop to nobody)\n", "save as nobody");
        free(dir);
        return;
    }
    closed = tu_path(dir, "closed");
    open_dir = tu_path(dir, "open");
    closed_model = tu_path(closed, "m.tmmodel");
    open_model = tu_path(open_dir, "m.tmmodel");
    mkdir(dir, 0755);
    mkdir(closed, 0755);
    mkdir(open_dir, 0777);
    chmod(open_dir, 0777); /* past the umask */
    MUST(tm_model_save(T.trained, closed_model));
    MUST(tm_model_save(T.trained, open_model));
    chmod(open_model, 0444);
    chmod(T.dir, 0711); /* nobody may pass through the test directory, not list it */
    snprintf(cmd, sizeof cmd, "'%s' --as-nobody '%s' 2>&1", self, dir);
    child = popen(cmd, "r");
    while (child != NULL && i < 3 && fgets(line, sizeof line, child) != NULL) {
        tm_status st = (tm_status)atoi(line);
        const char *msg = strchr(line, ' ') ? strchr(line, ' ') + 1 : "";
        int ok = st == TM_ERR_IO && matches(msg, musts[i]) &&
                 contains(msg, "Permission denied", 17);
        line[strcspn(line, "\n")] = '\0';
        cases_run++;
        if (!ok)
            cases_failed++;
        printf("  %s  %-40s %s\n", ok ? "ok  " : "FAIL", names[i], line);
        i++;
    }
    status = child ? pclose(child) : -1;
    chmod(T.dir, 0700);
    cases_run++;
    if (i != 3 || status != 0 || !loads_like_trained(closed_model) ||
        !loads_like_trained(open_model) || stray_files(closed, "m.tmmodel") ||
        stray_files(open_dir, "m.tmmodel")) {
        cases_failed++;
        printf("  FAIL  %-40s %zu results, child status %d\n",
               "save as nobody: files intact", i, status);
    } else {
        printf("  ok    %-40s\n", "save as nobody: files intact, no temporary files");
    }
    free(open_model);
    free(closed_model);
    free(open_dir);
    free(closed);
    free(dir);
}

/* ------------------------------------------------------------ misc checks */

static void status_name_cases(void)
{
    static const struct {
        tm_status s;
        const char *name;
    } names[] = {
        {TM_OK, "TM_OK"},
        {TM_ERR_INVALID_ARGUMENT, "TM_ERR_INVALID_ARGUMENT"},
        {TM_ERR_CONFIG, "TM_ERR_CONFIG"},
        {TM_ERR_IO, "TM_ERR_IO"},
        {TM_ERR_DATA, "TM_ERR_DATA"},
        {TM_ERR_MODEL_FORMAT, "TM_ERR_MODEL_FORMAT"},
        {TM_ERR_STATE, "TM_ERR_STATE"},
        {TM_ERR_CANCELLED, "TM_ERR_CANCELLED"},
        {TM_ERR_RESOURCE, "TM_ERR_RESOURCE"},
        {TM_ERR_INTERNAL, "TM_ERR_INTERNAL"},
        {TM_ERR_DIVERGED, "TM_ERR_DIVERGED"},
    };
    size_t i;
    const char *unknown;
    int ok = 1;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = tm_status_name(names[i].s);
        if (got == NULL || strcmp(got, names[i].name) != 0) {
            printf("        tm_status_name(%d) = %s, expected %s\n", (int)names[i].s,
                   got ? got : "NULL", names[i].name);
            ok = 0;
        }
    }
    unknown = tm_status_name((tm_status)12345);
    if (unknown == NULL || unknown[0] == '\0') {
        printf("        tm_status_name(12345) is NULL or empty\n");
        ok = 0;
    }
    cases_run++;
    if (!ok)
        cases_failed++;
    printf("  %s  %-40s tm_status_name(12345) = %s\n", ok ? "ok  " : "FAIL",
           "status names", unknown ? unknown : "NULL");
}

/* After a failure, the next successful call clears tm_last_error(). */
static void last_error_cleared_case(void)
{
    tm_model *m = NULL;
    int trained = -1, ok;
    const char *msg;
    (void)tm_model_new("{", &m);
    ok = tm_last_error()[0] != '\0';
    MUST(tm_model_is_trained(T.trained, &trained));
    msg = tm_last_error();
    ok = ok && msg != NULL && msg[0] == '\0' && trained == 1;
    cases_run++;
    if (!ok)
        cases_failed++;
    printf("  %s  %-40s\n", ok ? "ok  " : "FAIL", "last error cleared by a successful call");
}

/* A failed training leaves an already trained model exactly as it was. */
static void failed_training_keeps_model_case(void)
{
    char *bad = tu_path(T.dir, "keep_bad.csv");
    float *before, *after;
    size_t labels_before, labels_after, vocab_before, vocab_after, i;
    int trained = 0, ok = 1;
    tm_status st;

    tu_write_text(bad, "label,text\nfood,pizza\nsports,\"goal\n");
    MUST(tm_model_num_labels(T.trained, &labels_before));
    MUST(tm_model_vocab_size(T.trained, &vocab_before));
    before = probabilities(T.trained, three_texts, 3);
    st = tm_model_train_files(T.trained, bad, NULL, NULL, NULL, NULL);
    snap(st);
    MUST(tm_model_is_trained(T.trained, &trained));
    MUST(tm_model_num_labels(T.trained, &labels_after));
    MUST(tm_model_vocab_size(T.trained, &vocab_after));
    after = probabilities(T.trained, three_texts, 3);
    if (st != TM_ERR_DATA || !contains(last_message, "keep_bad.csv:3", 14) || !trained ||
        labels_after != labels_before ||
        vocab_after != vocab_before)
        ok = 0;
    for (i = 0; ok && i < 3 * labels_before; i++)
        if (before[i] != after[i])
            ok = 0;
    cases_run++;
    if (!ok)
        cases_failed++;
    printf("  %s  %-40s %s: %s\n", ok ? "ok  " : "FAIL", "failed training keeps the model",
           tm_status_name(st), last_message);
    free(before);
    free(after);
    free(bad);
}

/* Invalid UTF-8 in labels is replaced by U+FFFD, never rejected (header). */
static void invalid_utf8_labels_case(void)
{
    static const char *const texts[] = {"pizza", "goal", "pasta", "match"};
    static const char *const labels[] = {"f\xff", "s\xc3", "f\xff", "s\xc3"};
    tm_model *m = NULL;
    size_t n = 0, i;
    int ok = 1;
    MUST(tm_model_new(tu_tiny_config(NULL), &m));
    MUST(tm_model_train(m, texts, labels, 4, NULL, NULL, 0, NULL, NULL, NULL));
    MUST(tm_model_num_labels(m, &n));
    ok = n == 2;
    for (i = 0; ok && i < n; i++) {
        const char *name = NULL;
        MUST(tm_model_label(m, i, &name));
        if (strcmp(name, i == 0 ? "f\xef\xbf\xbd" : "s\xef\xbf\xbd") != 0) {
            printf("        label %zu is not its name with U+FFFD: ", i);
            for (; *name; name++)
                printf("%02x ", (unsigned char)*name);
            printf("\n");
            ok = 0;
        }
    }
    cases_run++;
    if (!ok)
        cases_failed++;
    printf("  %s  %-40s %zu labels\n", ok ? "ok  " : "FAIL", "invalid UTF-8 labels become U+FFFD",
           n);
    tm_model_free(m);
}

/* ------------------------------------------------------- bounded messages */

/* A message echoes a caller's key or value shortened: a 1 MB unknown key, a 1 MB
 * model.type and a 1 MB label make messages of at most 1 kB (the echo is 64 bytes; an
 * unknown key's message also lists its section's known keys, ~450 bytes for
 * "training"), cut with "…" (UTF-8 E2 80 A6) at a character boundary (the key is made
 * of 3-byte characters, so a cut inside one would show). */
static void bounded_message_cases(void)
{
    enum { BIG = 1 << 20 };
    static const char *const formats[] = {
        "{\"training\": {\"%s\": 1}}",
        "{\"model\": {\"type\": \"%s\"}}",
        "{\"training\": {\"class_weights\": {\"%s\": -1}}}",
    };
    static const char *const names[] = {"1 MB unknown key", "1 MB model.type", "1 MB class weight label"};
    char *big = malloc(BIG + 1), *json = malloc(BIG + 128);
    size_t i, k;
    for (i = 0; i + 3 <= BIG; i += 3)
        memcpy(big + i, "\xE2\x82\xAC", 3); /* € */
    big[i] = '\0';
    for (k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        tm_model *m = NULL;
        tm_status st;
        size_t n;
        int ok, utf8_ok = 1;
        const unsigned char *p;
        snprintf(json, BIG + 128, formats[k], big);
        st = snap(tm_model_new(json, &m));
        n = strlen(last_message);
        for (p = (const unsigned char *)last_message; *p; p++) {
            int extra = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC0 ? 1 : 0, j;
            if ((*p & 0xC0) == 0x80) { utf8_ok = 0; break; }
            for (j = 1; j <= extra; j++)
                if ((p[j] & 0xC0) != 0x80) utf8_ok = 0;
            p += extra;
        }
        ok = st == TM_ERR_CONFIG && m == NULL && n > 0 && n <= 1024 && utf8_ok &&
             strstr(last_message, "\xE2\x82\xAC\xE2\x80\xA6") != NULL;
        cases_run++;
        if (!ok)
            cases_failed++;
        printf("  %s  %-40s %s, %zu bytes%s: %.120s...\n", ok ? "ok  " : "FAIL", names[k],
               tm_status_name(st), n, utf8_ok ? "" : " (cut inside a character)", last_message);
        tm_model_free(m);
    }
    free(big);
    free(json);
}

/* ------------------------------------------------------------- divergence */

/* Training whose loss overflows is TM_ERR_DIVERGED naming the epoch, the step and the
 * key to change, and the model stays untrained (0.3.0 reported success and predicted
 * NaN): the bag regressor at the classifiers' learning rate 1, on one- and two-word
 * texts whose target is a sum of word weights. */
static tm_status c_diverging_training(const void *a)
{
    enum { N = 200 };
    static char texts_buf[N][32], targets_buf[N][32];
    const char *texts[N], *targets[N];
    tm_model *m = NULL;
    char *report = SENTINEL_STRING;
    unsigned seed = 7;
    int i, trained = 1;
    tm_status st;
    (void)a;
    for (i = 0; i < N; i++) {
        int w1, w2, two;
        seed = seed * 1103515245u + 12345u;
        w1 = (int)(seed >> 16) % 200;
        seed = seed * 1103515245u + 12345u;
        w2 = (int)(seed >> 16) % 200;
        two = (seed >> 8) & 1;
        if (two)
            snprintf(texts_buf[i], sizeof texts_buf[i], "w%d w%d", w1, w2);
        else
            snprintf(texts_buf[i], sizeof texts_buf[i], "w%d", w1);
        snprintf(targets_buf[i], sizeof targets_buf[i], "%d", (w1 % 7) - 3 + (two ? (w2 % 7) - 3 : 0));
        texts[i] = texts_buf[i];
        targets[i] = targets_buf[i];
    }
    MUST(tm_model_new("{\"model\": {\"task\": \"regression\"}, \"tokenizer\": {\"char_ngrams_max\": 0,"
                      " \"buckets\": 1000}, \"training\": {\"learning_rate\": 1, \"threads\": 1}}", &m));
    st = snap(tm_model_train(m, texts, targets, N, NULL, NULL, 0, NULL, NULL, &report));
    if (st != TM_OK && report != SENTINEL_STRING)
        out_changed = 1;
    if (st == TM_OK)
        tm_string_free(report);
    MUST(tm_model_is_trained(m, &trained));
    if (trained) {
        printf("        the diverged model claims to be trained\n");
        out_changed = 1;
    }
    tm_model_free(m);
    return st;
}

/* ------------------------------------------------------------------ tasks */

/* A regression model (T.regressor) and the calls that mix up the tasks. */
static const char *const reg_texts[] = {"up", "up up", "down", "up down", "the", "up up up"};
static const char *const reg_targets[] = {"12", "14", "9", "11", "10", "16"};

static const char *task_config(const char *task)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"bag\","
             " \"embedding_dim\": 8, \"task\": \"%s\"}, \"training\": {\"epochs\": 2,"
             " \"threads\": 1}}", task);
    return buf;
}

typedef struct task_arg {
    int which;   /* see c_task */
    const char *const *labels;
} task_arg;

static tm_model *task_regressor;

static tm_status c_task(const void *a)
{
    const task_arg *ta = a;
    const char *task = SENTINEL_LABEL;
    float values[8];
    int32_t labels[8];
    tm_model *m = NULL;
    tm_status st = TM_OK;
    size_t i;
    for (i = 0; i < 8; i++)
        values[i] = 42.0f;
    switch (ta->which) {
    case 0: st = snap(tm_model_task(NULL, &task)); break;
    case 1: st = snap(tm_model_task(T.trained, NULL)); break;
    case 2:
        st = snap(tm_model_task(task_regressor, &task));
        if (st == TM_OK && strcmp(task, "regression") != 0)
            st = TM_ERR_INTERNAL;
        break;
    case 3: st = snap(tm_model_predict_values(T.trained, three_texts, 3, values)); break;
    case 4: st = snap(tm_model_predict_values(task_regressor, three_texts, 3, NULL)); break;
    case 5: st = snap(tm_model_predict_values(T.untrained, three_texts, 3, values)); break;
    case 6: st = snap(tm_model_predict_values(NULL, three_texts, 3, values)); break;
    case 7: st = snap(tm_model_predict_values(task_regressor, NULL, 3, values)); break;
    case 8: st = snap(tm_model_predict(task_regressor, three_texts, 3, 1, labels, NULL)); break;
    case 9: st = snap(tm_model_predict_proba(task_regressor, three_texts, 3, values)); break;
    case 10: /* training a regressor on ta->labels */
    case 11: /* training a multi-label model on ta->labels */
        MUST(tm_model_new(task_config(ta->which == 10 ? "regression" : "multi_label"), &m));
        st = snap(tm_model_train(m, reg_texts, ta->labels, 6, NULL, NULL, 0, NULL, NULL, NULL));
        tm_model_free(m);
        return st;
    case 12: st = snap(tm_model_predict_values(task_regressor, reg_texts, 6, values)); break;
    }
    if (st != TM_OK)
        for (i = 0; i < 8; i++)
            if (values[i] != 42.0f)
                out_changed = 1;
    if (st != TM_OK && task != SENTINEL_LABEL)
        out_changed = 1;
    return st;
}

static void task_cases(void)
{
    static const char *const words[] = {"12", "lots", "9", "11", "10", "16"};
    static const char *const constant[] = {"3", "3", "3", "3", "3", "3"};
    static const char *const huge[] = {"12", "1e999", "9", "11", "10", "16"};
    static const char *const sets[] = {"a|b", "b", "a", "|", "c|a", "b|c"};
    static const task_arg cases[] = {{0, NULL}, {1, NULL}, {2, NULL}, {3, NULL}, {4, NULL},
                                     {5, NULL}, {6, NULL}, {7, NULL}, {8, NULL}, {9, NULL},
                                     {10, words}, {10, constant}, {10, huge}, {11, sets},
                                     {12, NULL}};
    MUST(tm_model_new(task_config("regression"), &task_regressor));
    MUST(tm_model_train(task_regressor, reg_texts, reg_targets, 6, NULL, NULL, 0, NULL, NULL,
                        NULL));
    RUN("task: NULL model", c_task, &cases[0], TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("task: NULL out_task", c_task, &cases[1], TM_ERR_INVALID_ARGUMENT, NONE, "out_task");
    RUN("task: a regressor says regression", c_task, &cases[2], TM_OK, NONE, NULL);
    RUN("predict_values: a classifier", c_task, &cases[3], TM_ERR_INVALID_ARGUMENT, NONE,
        "regression model");
    RUN("predict_values: NULL out_values", c_task, &cases[4], TM_ERR_INVALID_ARGUMENT, NONE,
        "out_values");
    RUN("predict_values: untrained model", c_task, &cases[5], TM_ERR_STATE, NONE, "train");
    RUN("predict_values: NULL model", c_task, &cases[6], TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("predict_values: NULL texts", c_task, &cases[7], TM_ERR_INVALID_ARGUMENT, NONE, "texts");
    RUN("predict: a regressor", c_task, &cases[8], TM_ERR_INVALID_ARGUMENT, NONE,
        "tm_model_predict_values");
    RUN("predict_proba: a regressor", c_task, &cases[9], TM_ERR_INVALID_ARGUMENT, NONE,
        "regression");
    RUN("train regression: a word as target", c_task, &cases[10], TM_ERR_DATA, NONE, "lots",
        "number");
    RUN("train regression: constant targets", c_task, &cases[11], TM_ERR_DATA, NONE, "vary");
    RUN("train regression: target 1e999", c_task, &cases[12], TM_ERR_DATA, NONE, "1e999");
    RUN("train multi-label: label sets", c_task, &cases[13], TM_OK, NONE, NULL);
    RUN("predict_values: a regressor", c_task, &cases[14], TM_OK, NONE, NULL);
    tm_model_free(task_regressor);
    task_regressor = NULL;
}

/* ------------------------------------------------ weight precision (issue 12) */

/* Arguments of the f16/int8 calls: which model (0 NULL, 1 trained, 2 untrained), the
 * dtype, whether the path and outputs are NULL, and which call. */
typedef struct precision_arg {
    int which;
    const char *dtype;
    int null_path, null_out;
    int call; /* 0 save_as, 1 save_to_memory_as, 2 precision */
} precision_arg;

static tm_status c_precision(const void *a)
{
    const precision_arg *p = a;
    tm_model *m = p->which == 0 ? NULL : p->which == 1 ? T.trained : T.untrained;
    tm_status st;
    if (p->call == 0) {
        char *path = tu_path(T.dir, "compact.tmmodel");
        st = snap(tm_model_save_as(m, p->null_path ? NULL : path, p->dtype));
        free(path);
        return st;
    }
    if (p->call == 1) {
        uint8_t *bytes = NULL;
        size_t size = 0;
        st = snap(tm_model_save_to_memory_as(m, p->dtype, p->null_out ? NULL : &bytes, &size));
        if (st != TM_OK && (bytes != NULL || size != 0))
            out_changed = 1;
        tm_bytes_free(bytes);
        return st;
    }
    {
        const char *dtype = NULL;
        st = snap(tm_model_precision(m, p->null_out ? NULL : &dtype));
        if (st == TM_OK && (dtype == NULL || strcmp(dtype, "f32") != 0))
            return TM_ERR_INTERNAL;
        return st;
    }
}

/* The trained model as an int8 or f16 file in memory (the caller frees it). */
static unsigned char *compact_bytes(const char *dtype, size_t *size)
{
    uint8_t *bytes = NULL;
    unsigned char *copy;
    MUST(tm_model_save_to_memory_as(T.trained, dtype, &bytes, size));
    copy = malloc(*size);
    if (copy == NULL)
        exit(1);
    memcpy(copy, bytes, *size);
    tm_bytes_free(bytes);
    return copy;
}

/* Flips byte `at` of `needle`'s first occurrence in the header of `file` and loads it;
 * `why` is the check that must catch it. */
static void compact_header_flip(const char *name, unsigned char *file, size_t n, const char *needle,
                                size_t at, unsigned char mask, const char *why)
{
    size_t h = safetensors_data_start(file, n), nl = strlen(needle), i;
    for (i = 8; i + nl <= h; i++) {
        if (memcmp(file + i, needle, nl) == 0) {
            file[i + at] ^= mask;
            run_bytes_case(name, file, n, TM_ERR_MODEL_FORMAT, why);
            file[i + at] ^= mask;
            return;
        }
    }
    printf("  skip  %-40s (\"%s\" not in the header)\n", name, needle);
}

static void precision_cases(void)
{
    static const precision_arg args[] = {
        {0, "int8", 0, 0, 0}, {1, NULL, 0, 0, 0}, {1, "int4", 0, 0, 0}, {1, "INT8", 0, 0, 0},
        {1, "int8", 1, 0, 0}, {2, "int8", 0, 0, 0}, {0, "f16", 0, 0, 1}, {1, "bf16", 0, 0, 1},
        {1, "f16", 0, 1, 1}, {2, "f16", 0, 0, 1}, {0, NULL, 0, 0, 2}, {1, NULL, 0, 1, 2},
        {2, NULL, 0, 0, 2}, {1, NULL, 0, 0, 2}, {1, "int8", 0, 0, 0}, {1, "f16", 0, 0, 1},
    };
    const char *dtypes[] = {"int8", "f16"};
    size_t d;
    printf("weight precision:\n");
    RUN("save_as: NULL model", c_precision, &args[0], TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("save_as: NULL dtype", c_precision, &args[1], TM_ERR_INVALID_ARGUMENT, NONE, "dtype");
    RUN("save_as: dtype int4", c_precision, &args[2], TM_ERR_INVALID_ARGUMENT, NONE, "int4", "f16");
    RUN("save_as: dtype INT8 (names are lower case)", c_precision, &args[3], TM_ERR_INVALID_ARGUMENT,
        NONE, "INT8");
    RUN("save_as: NULL path", c_precision, &args[4], TM_ERR_INVALID_ARGUMENT, NONE, "path");
    RUN("save_as: untrained model", c_precision, &args[5], TM_ERR_STATE, NONE, "train");
    RUN("save_to_memory_as: NULL model", c_precision, &args[6], TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("save_to_memory_as: dtype bf16", c_precision, &args[7], TM_ERR_INVALID_ARGUMENT, NONE, "bf16");
    RUN("save_to_memory_as: NULL out_bytes", c_precision, &args[8], TM_ERR_INVALID_ARGUMENT, NONE,
        "out_bytes");
    RUN("save_to_memory_as: untrained model", c_precision, &args[9], TM_ERR_STATE, NONE, "train");
    RUN("precision: NULL model", c_precision, &args[10], TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("precision: NULL out_dtype", c_precision, &args[11], TM_ERR_INVALID_ARGUMENT, NONE, "out_dtype");
    RUN("precision: untrained model", c_precision, &args[12], TM_ERR_STATE, NONE, "train");
    RUN("precision: a trained model is f32", c_precision, &args[13], TM_OK, NONE, NULL);
    RUN("save_as: int8", c_precision, &args[14], TM_OK, NONE, NULL);
    RUN("save_to_memory_as: f16", c_precision, &args[15], TM_OK, NONE, NULL);

    for (d = 0; d < 2; d++) {
        size_t n, h, i;
        unsigned char *file = compact_bytes(dtypes[d], &n);
        char name[128];
        size_t cuts[] = {1, 8, 0, 0, 0, 0, 0};
        h = safetensors_data_start(file, n);
        cuts[2] = h - 1;
        cuts[3] = h;
        cuts[4] = h + (n - h) / 2;
        cuts[5] = n - 4;
        cuts[6] = n - 1;
        for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            snprintf(name, sizeof name, "load %s: truncated to %zu of %zu bytes", dtypes[d], cuts[i], n);
            run_bytes_case(name, file, cuts[i], TM_ERR_MODEL_FORMAT,
                           "(truncated or empty)|(truncated or corrupted)");
        }
        for (i = 1; i <= 5; i++) {
            size_t at = h + (n - h) * i / 6;
            snprintf(name, sizeof name, "load %s: weights byte %zu xor 0x40", dtypes[d], at);
            file[at] ^= 0x40;
            run_bytes_case(name, file, n, TM_ERR_MODEL_FORMAT, "weights checksum does not match");
            file[at] ^= 0x40;
        }
        /* The dtype string, the scales' shape and dtype: header edits that stay valid JSON. */
        snprintf(name, sizeof name, "load %s: weights_dtype flipped", dtypes[d]);
        compact_header_flip(name, file, n, d == 0 ? "\"weights_dtype\":\"int8\"" : "\"weights_dtype\":\"f16\"",
                            18, 0x01, "metadata checksum|weights_dtype");
        /* Format 5's vocabulary tensor: its dtype (checked before any checksum), its count. */
        snprintf(name, sizeof name, "load %s: vocabulary tensor dtype", dtypes[d]);
        compact_header_flip(name, file, n, "\"vocabulary\":{\"dtype\":\"U8\"", 23, 0x02, "tensor vocabulary");
        snprintf(name, sizeof name, "load %s: vocabulary_tokens changed", dtypes[d]);
        compact_header_flip(name, file, n, "\"vocabulary_tokens\":\"", 21, 0x01, "metadata checksum");
        if (d == 0) {
            compact_header_flip("load int8: a scale tensor's shape", file, n, ".scale\":{\"dtype\":\"F32\",\"shape\":[",
                                32, 0x01, "wrong type, shape or position");
            compact_header_flip("load int8: a scale tensor's dtype", file, n, ".scale\":{\"dtype\":\"F32\"", 18, 0x02,
                                "wrong type, shape or position");
            compact_header_flip("load int8: an I8 dtype", file, n, "\"dtype\":\"I8\"", 9, 0x01,
                                "wrong type, shape or position");
            compact_header_flip("load int8: a scale tensor's name", file, n, ".scale\"", 2, 0x01,
                                "missing|other tensors");
        } else {
            compact_header_flip("load f16: an F16 dtype", file, n, "\"dtype\":\"F16\"", 10, 0x01,
                                "wrong type, shape or position");
        }
        free(file);
    }
}

/* ------------------------------------------------------------------- main */

static void setup(void)
{
    char *adir, *good;
    T.dir = tu_tempdir_make();
    T.data = tu_dataset_make(T.quick ? 90 : 300, 1);
    T.trained = tu_train_tiny(&T.data, NULL);
    MUST(tm_model_new(tu_tiny_config(NULL), &T.untrained));
    T.model_path = tu_path(T.dir, "good.tmmodel");
    MUST(tm_model_save(T.trained, T.model_path));
    T.model = tu_read_file(T.model_path, &T.model_size);
    if (T.model == NULL) {
        fprintf(stderr, "cannot read %s\n", T.model_path);
        exit(1);
    }
    T.header_end = safetensors_data_start(T.model, T.model_size);
    if (T.header_end == 0 || T.header_end >= T.model_size) {
        fprintf(stderr, "%s is not a safetensors file (%zu bytes)\n", T.model_path,
                T.model_size);
        exit(1);
    }
    printf("setup: model file %zu bytes, header %zu bytes\n", T.model_size, T.header_end - 8);
    adir = tu_path(T.dir, "adir.csv");
    mkdir(adir, 0755);
    free(adir);
    good = tu_path(T.dir, "good.csv");
    tu_write_text(good, GOOD_CSV);
    free(good);
    {
        char *empty = tu_path(T.dir, "empty.tmmodel");
        tu_write_text(empty, "");
        free(empty);
    }
}

static void teardown(void)
{
    tm_model_free(T.trained);
    tm_model_free(T.untrained);
    tu_dataset_free(&T.data);
    free(T.model);
    free(T.model_path);
    tu_tempdir_remove(T.dir);
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc == 3 && strcmp(argv[1], "--as-nobody") == 0)
        return as_nobody(argv[2]);
    T.quick = tu_quick(argc, argv);

    printf("memory-limit cases:\n");
    if (T.quick) {
        printf("  skip  (--quick)\n");
    } else {
        /* Before any thread exists in this process (fork). */
        /* The default bag at 4096 dims; fit_buckets false keeps its 200,000 buckets
         * (fitted to the tiny data they would fit in the cap). */
        huge_config = "{\"model\": {\"embedding_dim\": 4096, \"hidden_dim\": 4096,"
                      " \"layers\": 16}, \"tokenizer\": {\"min_freq\": 1, \"fit_buckets\": false},"
                      " \"training\": {\"threads\": 1, \"epochs\": 1}}";
        capped_case("new/train: 4096x4096x16 LSTM", new_and_train_huge,
                    "training.max_memory_mb");
        capped_case("load: /dev/zero as the model path", load_dev_zero,
                    "out of memory reading /dev/zero");
    }

    setup();

    printf("arguments:\n");
    RUN("new: NULL out_model", c_new_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "out_model");
    RUN("config_json: NULL model", c_config_json, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("config_json: NULL out_json", c_config_json_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
        "out_json");
    RUN("is_trained: NULL model", c_is_trained, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("is_trained: NULL out", c_is_trained_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
        "out_trained");
    RUN("num_labels: NULL model", c_num_labels, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("num_labels: NULL out", c_num_labels_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
        "out_count");
    RUN("vocab_size: NULL model", c_vocab_size, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("vocab_size: NULL out", c_vocab_size_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
        "out_size");
    {
        static const size_t too_many = 1025, huge = (size_t)-1, one = 1;
        RUN("set_threads: NULL model", c_set_threads, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
            "model");
        RUN("set_threads: 1025", c_set_threads, &too_many, TM_ERR_INVALID_ARGUMENT, NONE,
            "1024");
        RUN("set_threads: SIZE_MAX", c_set_threads, &huge, TM_ERR_INVALID_ARGUMENT, NONE,
            "threads");
        RUN("threads: NULL model", c_threads, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
        RUN("threads: NULL out", c_threads_null_out, NULL, TM_ERR_INVALID_ARGUMENT, NONE,
            "out_threads");
        /* The trained model is shared by later cases: restore the default. */
        CHECK(tm_model_set_threads(T.trained, one) == TM_OK, "set_threads 1 refused");
        CHECK(tm_model_set_threads(T.trained, 0) == TM_OK, "set_threads 0 refused");
    }
    {
        static const label_arg null_model = {0, 0, 0}, null_out = {1, 0, 1},
                               past_end = {1, 3, 0}, huge = {1, (size_t)-1, 0},
                               untrained = {2, 0, 0};
        RUN("label: NULL model", c_label, &null_model, TM_ERR_INVALID_ARGUMENT, NONE, "model");
        RUN("label: NULL out", c_label, &null_out, TM_ERR_INVALID_ARGUMENT, NONE, "out_label");
        RUN("label: index == num_labels", c_label, &past_end, TM_ERR_INVALID_ARGUMENT, NONE,
            "index", "3");
        RUN("label: index SIZE_MAX", c_label, &huge, TM_ERR_INVALID_ARGUMENT, NONE, "index");
        RUN("label: untrained model", c_label, &untrained, TM_ERR_INVALID_ARGUMENT, NONE,
            "index 0 is out of range", "0 labels");
    }
    {
        static const train_arg null_model = {1, 0, 0, 3, 0, NULL, NULL},
                               null_texts = {0, 1, 0, 3, 0, NULL, NULL},
                               null_labels = {0, 0, 1, 3, 0, NULL, NULL},
                               zero = {0, 0, 0, 0, 0, NULL, NULL},
                               null_valid = {0, 0, 0, 3, 3, NULL, NULL},
                               null_valid_huge = {0, 0, 0, 3, (size_t)-1, NULL, NULL};
        static const char *const one_class_labels[] = {"food", "food", "food"};
        static const char *const empty_texts[] = {"", "", NULL};
        static const char *const bad_utf8_labels[] = {"f\xff", "s\xc3", "t\xe2\x82"};
        static const train_arg one_class = {0, 0, 0, 3, 0, NULL, one_class_labels},
                               all_skipped = {0, 0, 0, 3, 0, empty_texts, NULL},
                               bad_utf8 = {0, 0, 0, 3, 0, NULL, bad_utf8_labels};
        RUN("train: NULL model", c_train, &null_model, TM_ERR_INVALID_ARGUMENT, NONE, "model");
        RUN("train: NULL texts", c_train, &null_texts, TM_ERR_INVALID_ARGUMENT, NONE, "texts");
        RUN("train: NULL labels", c_train, &null_labels, TM_ERR_INVALID_ARGUMENT, NONE, "labels");
        RUN("train: count 0", c_train, &zero, TM_ERR_INVALID_ARGUMENT, NONE,
            "count is 0");
        RUN("train: NULL valid arrays, count 3", c_train, &null_valid, TM_ERR_INVALID_ARGUMENT,
            NONE, "valid");
        RUN("train: NULL valid arrays, count SIZE_MAX", c_train, &null_valid_huge,
            TM_ERR_INVALID_ARGUMENT, NONE, "valid");
        RUN("train: one class (memory)", c_train, &one_class, TM_ERR_DATA, NONE, "class|label");
        RUN("train: every row skipped (memory)", c_train, &all_skipped, TM_ERR_DATA, NONE,
            "row|example");
        RUN("train: invalid UTF-8 labels accepted", c_train, &bad_utf8, TM_OK, NONE, NULL);
        RUN("train_files: NULL model", c_train_files_null, "x", TM_ERR_INVALID_ARGUMENT, NONE,
            "model");
        RUN("train_files: NULL train_path", c_train_files_null, NULL, TM_ERR_INVALID_ARGUMENT,
            NONE, "path");
    }
    {
        static const char *const unseen[] = {"pizza", "sunny and warm", "goal"};
        static const char *const unseen_labels[] = {"food", "zebra", "sports"};
        static const char *const empty[] = {"", "", ""};
        static const eval_arg null_model = {0, 0, 0, 0, 3, NULL, NULL},
                              null_texts = {1, 1, 0, 0, 3, NULL, NULL},
                              null_labels = {1, 0, 1, 0, 3, NULL, NULL},
                              null_out = {1, 0, 0, 1, 3, NULL, NULL},
                              zero = {1, 0, 0, 0, 0, NULL, NULL},
                              untrained = {2, 0, 0, 0, 3, NULL, NULL},
                              unseen_label = {1, 0, 0, 0, 3, unseen, unseen_labels},
                              no_rows = {1, 0, 0, 0, 3, empty, NULL};
        RUN("evaluate: NULL model", c_evaluate, &null_model, TM_ERR_INVALID_ARGUMENT, NONE,
            "model");
        RUN("evaluate: NULL texts", c_evaluate, &null_texts, TM_ERR_INVALID_ARGUMENT, NONE,
            "texts");
        RUN("evaluate: NULL labels", c_evaluate, &null_labels, TM_ERR_INVALID_ARGUMENT, NONE,
            "labels");
        RUN("evaluate: NULL out_metrics_json", c_evaluate, &null_out, TM_ERR_INVALID_ARGUMENT,
            NONE, "out_metrics_json");
        RUN("evaluate: count 0", c_evaluate, &zero, TM_ERR_INVALID_ARGUMENT, NONE,
            "count is 0");
        RUN("evaluate: untrained model", c_evaluate, &untrained, TM_ERR_STATE, NONE, "train");
        RUN("evaluate: label unseen in training", c_evaluate, &unseen_label, TM_ERR_DATA, NONE,
            "zebra");
        RUN("evaluate: every text empty", c_evaluate, &no_rows, TM_ERR_DATA, NONE,
            "row|example");
    }
    {
        static const predict_arg null_model = {0, 0, three_texts, 3, 1, 0, 0},
                                 null_texts = {1, 0, NULL, 3, 1, 0, 0},
                                 null_text = {1, 0, null_inside, 3, 1, 0, 0},
                                 null_labels = {1, 0, three_texts, 3, 1, 1, 0},
                                 k0 = {1, 0, three_texts, 3, 0, 0, 0},
                                 k4 = {1, 0, three_texts, 3, 4, 0, 0},
                                 kmax = {1, 0, three_texts, 3, (size_t)-1, 0, 0},
                                 untrained = {2, 0, three_texts, 3, 1, 0, 0},
                                 proba_null_model = {0, 1, three_texts, 3, 0, 0, 0},
                                 proba_null_texts = {1, 1, NULL, 3, 0, 0, 0},
                                 proba_null_text = {1, 1, null_inside, 3, 0, 0, 0},
                                 proba_null_out = {1, 1, three_texts, 3, 0, 0, 1},
                                 proba_untrained = {2, 1, three_texts, 3, 0, 0, 0},
                                 null_probs_ok = {1, 0, three_texts, 3, 2, 0, 1},
                                 count0 = {1, 0, three_texts, 0, 1, 0, 0},
                                 count_huge = {1, 0, NULL, (size_t)-1, 1, 0, 0};
        RUN("predict: NULL model", c_predict, &null_model, TM_ERR_INVALID_ARGUMENT, NONE, "model");
        RUN("predict: NULL texts", c_predict, &null_texts, TM_ERR_INVALID_ARGUMENT, NONE, "texts");
        RUN("predict: NULL text inside the array", c_predict, &null_text, TM_ERR_INVALID_ARGUMENT,
            NONE, "text", "1");
        RUN("predict: NULL out_labels", c_predict, &null_labels, TM_ERR_INVALID_ARGUMENT, NONE,
            "out_labels");
        RUN("predict: k == 0", c_predict, &k0, TM_ERR_INVALID_ARGUMENT, NONE, "k");
        RUN("predict: k > labels", c_predict, &k4, TM_ERR_INVALID_ARGUMENT, NONE, "k", "3");
        RUN("predict: k == SIZE_MAX", c_predict, &kmax, TM_ERR_INVALID_ARGUMENT, NONE, "k",
            "label");
        RUN("predict: untrained model", c_predict, &untrained, TM_ERR_STATE, NONE, "train");
        RUN("predict: NULL out_probs is allowed", c_predict, &null_probs_ok, TM_OK, NONE, NULL);
        RUN("predict: count 0 is a no-op", c_predict, &count0, TM_OK, NONE, NULL);
        RUN("predict: NULL texts, count SIZE_MAX", c_predict, &count_huge,
            TM_ERR_INVALID_ARGUMENT, NONE, "texts|count");
        RUN("predict_proba: NULL model", c_predict, &proba_null_model, TM_ERR_INVALID_ARGUMENT,
            NONE, "model");
        RUN("predict_proba: NULL texts", c_predict, &proba_null_texts, TM_ERR_INVALID_ARGUMENT,
            NONE, "texts");
        RUN("predict_proba: NULL text inside", c_predict, &proba_null_text,
            TM_ERR_INVALID_ARGUMENT, NONE, "text", "1");
        RUN("predict_proba: NULL out_probs", c_predict, &proba_null_out, TM_ERR_INVALID_ARGUMENT,
            NONE, "out_probs");
        RUN("predict_proba: untrained model", c_predict, &proba_untrained, TM_ERR_STATE, NONE,
            "train");
    }

    printf("configs:\n");
    for (i = 0; i < sizeof config_cases / sizeof config_cases[0]; i++) {
        const config_case *cc = &config_cases[i];
        run_case(cc->name, c_new, cc->json, cc->expect, cc->also, cc->must);
    }
    RUN("config: NULL (defaults)", c_new, NULL, TM_OK, NONE, NULL);

    printf("data files:\n");
    for (i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
        const file_case *fc = &file_cases[i];
        run_case(fc->name, fc->call, &fc->arg, fc->expect, fc->also, fc->must);
    }
    RUN("train: /dev/zero (stops at max_memory_mb)", c_train_dev_zero, NULL, TM_ERR_RESOURCE,
        NONE, "/dev/zero", "training.max_memory_mb");
    RUN("train: /dev/zero as pretrained vectors", c_vectors_dev_zero, NULL, TM_ERR_RESOURCE,
        NONE, "/dev/zero", "training.max_memory_mb");
    odd_valid_file_cases();
    failed_training_keeps_model_case();

    printf("model files:\n");
    RUN("load: NULL path", c_load, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "path");
    RUN("load: NULL out_model", c_load, "-", TM_ERR_INVALID_ARGUMENT, NONE, "out_model");
    RUN("load: missing file", c_load, "nope.tmmodel", TM_ERR_IO, NONE, "nope.tmmodel");
    RUN("load: empty path", c_load_empty_path, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "path is an empty string");
    RUN("load: a directory", c_load, "adir.csv", TM_ERR_IO, NONE, "directory");
    RUN("load: empty file", c_load, "empty.tmmodel", TM_ERR_MODEL_FORMAT, NONE, NOT_A_MODEL,
        "only 0 bytes long");
    RUN("load: the good file", c_load, "good.tmmodel", TM_OK, NONE, NULL);
    foreign_model_cases();
    truncated_model_cases();
    flipped_model_cases();
    semantic_flip_cases();
    newer_version_case();
    pq_cases();

    printf("saving:\n");
    RUN("save: NULL model", c_save, NULL, TM_ERR_INVALID_ARGUMENT, NONE, "model");
    RUN("save: NULL path", c_save, "NULL path", TM_ERR_INVALID_ARGUMENT, NONE, "path");
    RUN("save: empty path", c_save, "empty path", TM_ERR_INVALID_ARGUMENT, NONE, "path is an empty string");
    RUN("save: untrained model", c_save, "untrained", TM_ERR_STATE, NONE, "train");
    RUN("save: into a missing directory", c_save, "nodir/m.tmmodel", TM_ERR_IO, NONE, "nodir");
    RUN("save: path is a directory", c_save, "DIR", TM_ERR_IO, NONE, "directory");
    RUN("save: parent is a file", c_save, "good.csv/m.tmmodel", TM_ERR_IO, NONE, "good.csv");
    save_failure_cases();
    unwritable_save_cases(argv[0]);

    printf("tasks:\n");
    task_cases();
    precision_cases();
    RUN("train: diverging regression (lr 1)", c_diverging_training, NULL, TM_ERR_DIVERGED, NONE,
        "training diverged", "epoch 1, step", "training.learning_rate (now 1");

    printf("other:\n");
    bounded_message_cases();
    status_name_cases();
    last_error_cleared_case();
    invalid_utf8_labels_case();

    teardown();
    printf("test_errors: %d cases, %d failed\n", cases_run, cases_failed);
    return cases_failed == 0 && tu_failures == 0 ? 0 : 1;
}
