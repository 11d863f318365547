/*
 * test_distributed.c - the calls for training across processes: corpus counts merged
 * over disjoint rows equal the counts of all of them; epochs trained one range at a
 * time from the returned state give the one-call model bit for bit; parameters read,
 * replaced and given to a continuation round-trip; every bad argument (NULLs, bad
 * counts JSON, a corrupted state or one of other rows, a wrong parameter count, a NaN
 * weight, an epoch out of range) is a status with a message and changes no output.
 * tm_model_train_exchanging: an identity exchange trains the tm_model_train weights
 * bit for bit; a failing callback, a NaN written back and bad arguments are statuses.
 *
 *   test_distributed [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T(d) ((const char *const *)(d)->texts)
#define L(d) ((const char *const *)(d)->labels)

static void expect(tm_status got, tm_status want, const char *needle, const char *what)
{
    CHECK(got == want, "%s: %s, expected %s (%s)", what, tm_status_name(got), tm_status_name(want),
          tm_last_error());
    CHECK(strstr(tm_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what,
          tm_last_error(), needle);
}

static float *parameters_of(const tm_model *m, size_t *count)
{
    MUST(tm_model_parameter_count(m, count));
    float *p = malloc(*count * sizeof *p);
    if (p == NULL)
        exit(1);
    MUST(tm_model_get_parameters(m, p, *count));
    return p;
}

/* Exchange callbacks: ctx counts the calls; `fail_at` returns 3 at that step. */
typedef struct {
    int calls;
    int64_t fail_at;
    int poison;
} exchange_probe;

static int probe_exchange(void *ctx, float *parameters, size_t count, int64_t step)
{
    exchange_probe *probe = ctx;
    probe->calls++;
    if (probe->poison && count > 0)
        parameters[count - 1] = NAN;
    return step == probe->fail_at ? 3 : 0;
}

static void check_exchanging(const char *config, const tu_dataset *d, const float *plain, size_t n)
{
    tm_model *m = NULL;
    MUST(tm_model_new(config, &m));
    exchange_probe probe = {0, -1, 0};
    char *report = NULL;
    MUST(tm_model_train_exchanging(m, T(d), L(d), d->count, NULL, NULL, 0, NULL, 2, probe_exchange, &probe, NULL,
                                   NULL, &report));
    CHECK(report != NULL && strstr(report, "\"epochs\"") != NULL, "no exchanging report");
    tm_string_free(report);
    CHECK(probe.calls > 0, "the exchange was never called");
    size_t count = 0;
    float *p = parameters_of(m, &count);
    CHECK(count == n && memcmp(p, plain, n * sizeof *p) == 0, "identity exchange differs from tm_model_train");
    free(p);

    tm_model *fresh = NULL;
    MUST(tm_model_new(config, &fresh));
    exchange_probe failing = {0, 2, 0};
    expect(tm_model_train_exchanging(fresh, T(d), L(d), d->count, NULL, NULL, 0, NULL, 1, probe_exchange, &failing,
                                     NULL, NULL, NULL),
           TM_ERR_CANCELLED, "returned 3 at step 2", "failing exchange");
    expect(tm_model_parameter_count(fresh, &count), TM_ERR_STATE, "not trained", "trained after a failed exchange");
    exchange_probe poison = {0, -1, 1};
    expect(tm_model_train_exchanging(fresh, T(d), L(d), d->count, NULL, NULL, 0, NULL, 1, probe_exchange, &poison,
                                     NULL, NULL, NULL),
           TM_ERR_INVALID_ARGUMENT, "finite", "NaN written back");
    expect(tm_model_train_exchanging(fresh, T(d), L(d), d->count, NULL, NULL, 0, NULL, 1, NULL, &probe, NULL, NULL,
                                     NULL),
           TM_ERR_INVALID_ARGUMENT, "exchange is NULL", "NULL exchange");
    expect(tm_model_train_exchanging(fresh, T(d), L(d), d->count, NULL, NULL, 0, NULL, -1, probe_exchange, &probe,
                                     NULL, NULL, NULL),
           TM_ERR_INVALID_ARGUMENT, "sync_every", "negative sync_every");
    expect(tm_model_train_exchanging(fresh, T(d), L(d), 0, NULL, NULL, 0, NULL, 1, probe_exchange, &probe, NULL,
                                     NULL, NULL),
           TM_ERR_INVALID_ARGUMENT, "nothing to train", "no rows");
    expect(tm_model_train_exchanging(NULL, T(d), L(d), d->count, NULL, NULL, 0, NULL, 1, probe_exchange, &probe,
                                     NULL, NULL, NULL),
           TM_ERR_INVALID_ARGUMENT, "NULL", "NULL model");
    expect(tm_model_train_exchanging(fresh, NULL, L(d), d->count, NULL, NULL, 0, NULL, 1, probe_exchange, &probe,
                                     NULL, NULL, NULL),
           TM_ERR_INVALID_ARGUMENT, "texts", "NULL texts");
    tm_model_free(fresh);
    tm_model_free(m);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    tu_dataset d = tu_dataset_make(quick ? 60 : 300, 11);
    const char *config = tu_tiny_config("\"seed\": 5");
    size_t half = d.count / 2;

    /* Counts of two halves merged = counts of the whole (tokens and labels). */
    char *a = NULL, *b = NULL, *whole = NULL, *merged = NULL;
    MUST(tm_corpus_counts(config, T(&d), L(&d), half, &a));
    MUST(tm_corpus_counts(config, T(&d) + half, L(&d) + half, d.count - half, &b));
    MUST(tm_corpus_counts(config, T(&d), L(&d), d.count, &whole));
    const char *parts[2] = {a, b};
    MUST(tm_corpus_counts_merge(parts, 2, &merged));
    CHECK(strstr(merged, "\"rows\":") != NULL, "merged counts lack rows: %.80s", merged);
    CHECK(strlen(merged) == strlen(whole), "merged counts (%zu bytes) differ from the whole's (%zu)",
          strlen(merged), strlen(whole));

    /* One call of all epochs vs epoch 0, then 1, then 2..3 from the returned states. */
    tm_model *one = NULL, *split = NULL;
    MUST(tm_model_new(config, &one));
    MUST(tm_model_train(one, T(&d), L(&d), d.count, NULL, NULL, 0, NULL, NULL, NULL));
    MUST(tm_model_new(config, &split));
    uint8_t *state = NULL, *next = NULL;
    size_t state_size = 0, next_size = 0;
    MUST(tm_model_train_epochs(split, T(&d), L(&d), d.count, merged, NULL, 0, NULL, 0, 0, &state,
                               &state_size, NULL));
    int epochs[2] = {1, 3};
    for (int i = 0; i < 2; i++) {
        char *report = NULL;
        MUST(tm_model_train_epochs(split, T(&d), L(&d), d.count, merged, state, state_size, NULL, 0,
                                   epochs[i], &next, &next_size, &report));
        CHECK(report != NULL && strstr(report, "\"epochs\"") != NULL, "no report");
        tm_string_free(report);
        tm_bytes_free(state);
        state = next;
        state_size = next_size;
    }
    size_t n1 = 0, n2 = 0;
    float *p1 = parameters_of(one, &n1), *p2 = parameters_of(split, &n2);
    CHECK(n1 == n2 && memcmp(p1, p2, n1 * sizeof *p1) == 0, "split epochs differ from one run");

    check_exchanging(config, &d, p1, n1);

    /* Replacing the weights: read back exactly; NaN and wrong counts refused. */
    for (size_t i = 0; i < n2; i++)
        p2[i] *= 0.5f;
    MUST(tm_model_set_parameters(split, p2, n2));
    size_t n3 = 0;
    float *p3 = parameters_of(split, &n3);
    CHECK(n3 == n2 && memcmp(p2, p3, n2 * sizeof *p2) == 0, "set parameters not read back");
    p3[0] = NAN;
    expect(tm_model_set_parameters(split, p3, n3), TM_ERR_INVALID_ARGUMENT, "finite", "NaN weight");
    expect(tm_model_set_parameters(split, p3, n3 - 1), TM_ERR_INVALID_ARGUMENT, "parameters", "count");
    expect(tm_model_get_parameters(split, p3, n3 + 1), TM_ERR_INVALID_ARGUMENT, "parameters", "get count");
    expect(tm_model_set_parameters(split, NULL, n3), TM_ERR_INVALID_ARGUMENT, "NULL", "NULL values");
    expect(tm_model_parameter_count(NULL, &n3), TM_ERR_INVALID_ARGUMENT, "NULL", "NULL model");

    /* Bad arguments leave the outputs alone. */
    tm_model *fresh = NULL;
    MUST(tm_model_new(config, &fresh));
    expect(tm_model_parameter_count(fresh, &n3), TM_ERR_STATE, "not trained", "untrained");
    uint8_t *untouched = (uint8_t *)0x1;
    size_t untouched_size = 7;
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, "{", NULL, 0, NULL, 0, 1, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "not valid JSON", "bad counts");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, NULL, 0, NULL, 0, 99, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "last epoch", "epoch out of range");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, NULL, 0, NULL, 0, -1, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "last epoch", "negative epoch");
    uint8_t junk[64] = {0};
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, junk, sizeof junk, NULL, 0, 1,
                                 &untouched, &untouched_size, NULL),
           TM_ERR_MODEL_FORMAT, "checkpoint", "junk state");
    uint8_t *corrupt = malloc(state_size);
    if (corrupt == NULL)
        exit(1);
    memcpy(corrupt, state, state_size);
    corrupt[state_size - 3] ^= 0x40;
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, corrupt, state_size, NULL, 0, 3,
                                 &untouched, &untouched_size, NULL),
           TM_ERR_MODEL_FORMAT, "corrupted", "corrupted state");
    free(corrupt);
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), half, merged, state, state_size, NULL, 0, 3,
                                 &untouched, &untouched_size, NULL),
           TM_ERR_DATA, "other training data", "state of other rows");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, state, state_size, p1, n1 - 1, 3,
                                 &untouched, &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "parameters", "short parameters");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, NULL, 5, NULL, 0, 1, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "state is NULL", "NULL state with a size");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), d.count, merged, NULL, 0, NULL, 0, 1, NULL,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "out_state", "NULL out_state");
    expect(tm_model_train_epochs(fresh, T(&d), L(&d), 0, merged, NULL, 0, NULL, 0, 1, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_INVALID_ARGUMENT, "nothing to train", "no rows");
    CHECK(untouched == (uint8_t *)0x1 && untouched_size == 7, "outputs changed on error");
    char *out = NULL;
    const char *bad_parts[2] = {a, "{\"format\": \"x\"}"};
    expect(tm_corpus_counts_merge(bad_parts, 2, &out), TM_ERR_INVALID_ARGUMENT, "counts_json[1]", "bad part");
    const char *null_parts[1] = {NULL};
    expect(tm_corpus_counts_merge(null_parts, 1, &out), TM_ERR_INVALID_ARGUMENT, "NULL", "NULL part");
    expect(tm_corpus_counts("{\"model\": {\"typo\": 1}}", T(&d), L(&d), d.count, &out), TM_ERR_CONFIG,
           "typo", "bad config");
    expect(tm_corpus_counts(config, T(&d), L(&d), d.count, NULL), TM_ERR_INVALID_ARGUMENT, "NULL", "NULL out");
    CHECK(out == NULL, "out set on error");
    char validation[256];
    snprintf(validation, sizeof validation, "%s", tu_tiny_config("\"validation_fraction\": 0.2"));
    tm_model *held = NULL;
    MUST(tm_model_new(validation, &held));
    expect(tm_model_train_epochs(held, T(&d), L(&d), d.count, merged, NULL, 0, NULL, 0, 1, &untouched,
                                 &untouched_size, NULL),
           TM_ERR_CONFIG, "validation_fraction", "validation_fraction with counts");

    tm_model_free(held);
    tm_model_free(fresh);
    free(p1);
    free(p2);
    free(p3);
    tm_bytes_free(state);
    tm_model_free(one);
    tm_model_free(split);
    tm_string_free(a);
    tm_string_free(b);
    tm_string_free(whole);
    tm_string_free(merged);
    tu_dataset_free(&d);
    if (tu_failures == 0)
        printf("test_distributed: ok\n");
    return tu_failures == 0 ? 0 : 1;
}
