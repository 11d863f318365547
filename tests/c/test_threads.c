/*
 * test_threads.c - concurrency, batch invariance, progress reports and cancellation.
 *
 *  1. Trains a tiny model in memory (checking every progress report on the way).
 *  2. Predicts a batch with tm_model_set_threads(model, 1): the reference.
 *  3. Predicts the same batch from N threads at once (each call on every core),
 *     several times each, and each text alone; the batches must equal the reference
 *     bit for bit (textmodel.h promises the same results for any thread count), the
 *     lone texts within BATCH_TOL; each thread also checks that tm_last_error() is
 *     its own.
 *  4. Checks a text predicts the same alone and inside batches of other sizes/orders.
 *  4b. Checks tm_model_set_threads: a large batch predicts bit-identically on 1, 2, 3
 *     and all cores, and evaluation agrees.
 *  5. Predicts from other threads while the same model is being retrained (they must
 *     wait, and see the retrained model, identical because the seed is the same).
 *  6. Cancels training from the progress callback (on a step and on an epoch report).
 *  7. Calls tm_model_train, tm_model_train_files and tm_model_free on the model being
 *     trained from its own progress callback: refused (TM_ERR_STATE; free does
 *     nothing), where a non-recursive lock used to deadlock; other calls work there.
 *
 *   test_threads [--quick]     --quick: less data, fewer threads (for valgrind)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define THREAD_TOL 1e-6f /* other models that should be equal (retraining) */
#define BATCH_TOL 1e-5f  /* alone vs. inside other batches */

static struct {
    int quick;
    tu_dataset train, valid, batch_data;
    const char **batch; /* texts to predict: generated + edge cases */
    size_t n;           /* texts in batch */
    tm_model *model;
    size_t labels;        /* L */
    int32_t *ref_labels;  /* n * L, from one thread */
    float *ref_probs;     /* n * L */
    float *ref_full;      /* n * L, predict_proba */
    tu_dataset train2;    /* other training data, for retraining */
    int32_t *ref2_labels; /* reference after retraining on train2 */
    float *ref2_probs;
    const int32_t *cmp_labels; /* what compare_rows compares with: ref or ref2 */
    const float *cmp_probs;
} S;

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void sleep_ms(int ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ comparisons */

/* Compares rows [0, count) of (labels, probs) against the reference rows `rows`
 * (index into the reference for each compared row). Returns the number of mismatching
 * rows; prints the first few with `who`. */
static int compare_rows(const char *who, const int32_t *labels, const float *probs,
                        const size_t *rows, size_t count, size_t k, float tol)
{
    size_t i, j;
    int bad = 0;
    for (i = 0; i < count; i++) {
        size_t r = rows ? rows[i] : i;
        const int32_t *rl = S.cmp_labels + r * S.labels;
        const float *rp = S.cmp_probs + r * S.labels;
        int row_bad = 0;
        for (j = 0; j < k; j++) {
            float d = fabsf(probs[i * k + j] - rp[j]);
            if (!(d <= tol))
                row_bad = 1;
            /* Labels must agree, except between near-equal probabilities. */
            if (labels[i * k + j] != rl[j] && !(j + 1 < S.labels && rp[j] - rp[j + 1] <= tol) &&
                !(j > 0 && rp[j - 1] - rp[j] <= tol))
                row_bad = 1;
        }
        if (labels[i * k] != rl[0] && rp[0] - rp[1] > tol)
            row_bad = 1; /* argmax */
        if (row_bad) {
            if (bad < 3) {
                pthread_mutex_lock(&print_lock);
                fprintf(stderr, "%s: text %zu differs: label %d p=%.9g, reference label %d "
                                "p=%.9g\n", who, r, labels[i * k], (double)probs[i * k], rl[0],
                        (double)rp[0]);
                pthread_mutex_unlock(&print_lock);
            }
            bad++;
        }
    }
    return bad;
}

/* Compares `count` rows of k = L predictions with the single-thread reference bit for
 * bit: identical label indices and memcmp-equal probabilities. Returns the number of
 * differing rows; prints the first few with `who`. */
static int exact_rows(const char *who, const int32_t *labels, const float *probs, size_t count)
{
    size_t i, L = S.labels;
    int bad = 0;
    for (i = 0; i < count; i++) {
        if (memcmp(labels + i * L, S.ref_labels + i * L, sizeof *labels * L) == 0 &&
            memcmp(probs + i * L, S.ref_probs + i * L, sizeof *probs * L) == 0)
            continue;
        if (bad++ < 3) {
            pthread_mutex_lock(&print_lock);
            fprintf(stderr, "%s: text %zu differs from the 1-thread reference: label %d "
                            "p=%a, reference label %d p=%a\n", who, i, labels[i * L],
                    (double)probs[i * L], S.ref_labels[i * L], (double)S.ref_probs[i * L]);
            pthread_mutex_unlock(&print_lock);
        }
    }
    return bad;
}

/* ------------------------------------------------------- progress reports */

typedef struct progress_log {
    int steps, epochs, bad;
    int last_epoch;
    int64_t last_step, total_steps;
    double last_elapsed, first_train_accuracy, last_train_accuracy;
    int has_validation;
    int expected_epochs;
} progress_log;

#define PCHECK(cond, ...)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            if (log->bad++ < 5) {                                                      \
                fprintf(stderr, "progress report %d: ", log->steps + log->epochs);     \
                fprintf(stderr, __VA_ARGS__);                                          \
                fprintf(stderr, "\n");                                                 \
            }                                                                          \
        }                                                                              \
    } while (0)

static int check_progress(const tm_progress *p, void *user_data)
{
    progress_log *log = user_data;

    PCHECK(p->struct_size >= sizeof(tm_progress), "struct_size %zu < %zu", p->struct_size,
           sizeof(tm_progress));
    PCHECK(p->kind == TM_PROGRESS_STEP || p->kind == TM_PROGRESS_EPOCH, "kind %d", (int)p->kind);
    PCHECK(p->epochs == log->expected_epochs, "epochs %d, expected %d", p->epochs,
           log->expected_epochs);
    PCHECK(p->epoch >= 1 && p->epoch <= p->epochs, "epoch %d of %d", p->epoch, p->epochs);
    PCHECK(p->epoch >= log->last_epoch, "epoch went back from %d to %d", log->last_epoch,
           p->epoch);
    PCHECK(p->total_steps > 0, "total_steps %lld", (long long)p->total_steps);
    PCHECK(log->total_steps == 0 || p->total_steps == log->total_steps,
           "total_steps changed from %lld to %lld", (long long)log->total_steps,
           (long long)p->total_steps);
    PCHECK(p->step >= log->last_step && p->step <= p->total_steps, "step %lld (last %lld, of %lld)",
           (long long)p->step, (long long)log->last_step, (long long)p->total_steps);
    PCHECK(p->elapsed_seconds >= log->last_elapsed && isfinite(p->elapsed_seconds),
           "elapsed_seconds %g after %g", p->elapsed_seconds, log->last_elapsed);
    PCHECK(isnan(p->examples_per_sec) || p->examples_per_sec >= 0, "examples_per_sec %g",
           p->examples_per_sec);
    PCHECK(isnan(p->eta_seconds) || p->eta_seconds >= 0, "eta_seconds %g", p->eta_seconds);
    if (p->kind == TM_PROGRESS_STEP) {
        PCHECK(isfinite(p->running_loss) && p->running_loss >= 0, "step running_loss %g",
               p->running_loss);
        PCHECK(isnan(p->train_loss) && isnan(p->valid_loss) && isnan(p->valid_accuracy) &&
                   isnan(p->train_accuracy),
               "step report has epoch-only fields set: train_loss %g valid_loss %g "
               "valid_accuracy %g train_accuracy %g", p->train_loss, p->valid_loss,
               p->valid_accuracy, p->train_accuracy);
        log->steps++;
    } else {
        PCHECK(p->epoch == log->epochs + 1, "epoch report for epoch %d after %d epoch reports",
               p->epoch, log->epochs);
        PCHECK(isfinite(p->train_loss) && p->train_loss >= 0, "train_loss %g", p->train_loss);
        PCHECK(p->train_accuracy >= 0 && p->train_accuracy <= 1, "train_accuracy %g",
               p->train_accuracy);
        if (log->epochs == 0)
            log->first_train_accuracy = p->train_accuracy;
        log->last_train_accuracy = p->train_accuracy;
        if (log->has_validation) {
            PCHECK(isfinite(p->valid_loss) && p->valid_loss >= 0, "valid_loss %g", p->valid_loss);
            PCHECK(p->valid_accuracy >= 0 && p->valid_accuracy <= 1, "valid_accuracy %g",
                   p->valid_accuracy);
        } else {
            PCHECK(isnan(p->valid_loss) && isnan(p->valid_accuracy),
                   "no validation but valid_loss %g valid_accuracy %g", p->valid_loss,
                   p->valid_accuracy);
        }
        if (p->epoch == p->epochs)
            PCHECK(p->step == p->total_steps, "last epoch report at step %lld of %lld",
                   (long long)p->step, (long long)p->total_steps);
        log->epochs++;
        printf("  epoch %d/%d train_loss %.4f train_acc %.3f valid_loss %.4f valid_acc %.3f\n",
               p->epoch, p->epochs, p->train_loss, p->train_accuracy, p->valid_loss,
               p->valid_accuracy);
    }
    log->last_epoch = p->epoch;
    log->last_step = p->step;
    log->total_steps = p->total_steps;
    log->last_elapsed = p->elapsed_seconds;
    return 0;
}

/* -------------------------------------------------------------- setup */

static const char *const edge_texts[] = {
    "",
    "   ",
    "PIZZA!!! pizza... PiZzA",
    "unknownword anotherunknown",
    "caf\xc3\xa9 na\xc3\xafve \xf0\x9f\x8d\x95 goal",
    "invalid \xff\xfe utf-8 \xc3",
    "http://example.com/laptop www.example.org and a goal",
};

static void setup(void)
{
    progress_log log;
    char extra[64];
    size_t i, n_gen, L;
    tm_status st;

    S.train = tu_dataset_make(S.quick ? 150 : 600, 11);
    S.valid = tu_dataset_make(S.quick ? 30 : 100, 12);
    n_gen = S.quick ? 50 : 490;
    S.batch_data = tu_dataset_make(n_gen, 13);
    S.n = n_gen + sizeof edge_texts / sizeof edge_texts[0] + 1;
    S.batch = calloc(S.n, sizeof *S.batch);
    for (i = 0; i < n_gen; i++)
        S.batch[i] = S.batch_data.texts[i];
    for (i = 0; i < sizeof edge_texts / sizeof edge_texts[0]; i++)
        S.batch[n_gen + i] = edge_texts[i];
    {
        /* One text longer than max_length (128 tokens by default). */
        static char long_text[4096];
        size_t len = 0;
        while (len + 16 < sizeof long_text)
            len += (size_t)snprintf(long_text + len, sizeof long_text - len, "the pizza ");
        S.batch[S.n - 1] = long_text;
    }

    memset(&log, 0, sizeof log);
    log.has_validation = 1;
    log.expected_epochs = 3;
    snprintf(extra, sizeof extra, "\"progress_every\": %d", S.quick ? 2 : 5);
    MUST(tm_model_new(tu_tiny_config(extra), &S.model));
    st = tm_model_train(S.model, (const char *const *)S.train.texts, S.train.labels,
                        S.train.count, (const char *const *)S.valid.texts, S.valid.labels,
                        S.valid.count, check_progress, &log, NULL);
    MUST(st);
    CHECK(log.bad == 0, "%d bad progress reports", log.bad);
    CHECK(log.epochs == 3, "%d epoch reports, expected 3", log.epochs);
    CHECK(log.steps >= 1, "no step reports with progress_every %d", S.quick ? 2 : 5);
    printf("trained: %d step reports, %d epoch reports, %lld steps\n", log.steps, log.epochs,
           (long long)log.total_steps);
    CHECK(log.last_train_accuracy > log.first_train_accuracy,
          "training accuracy did not rise while the model learned (%.3f, then %.3f)",
          log.first_train_accuracy, log.last_train_accuracy);

    MUST(tm_model_num_labels(S.model, &S.labels));
    CHECK(S.labels == TU_NUM_CLASSES, "%zu labels", S.labels);
    for (i = 0; i < S.labels; i++) {
        const char *name = NULL;
        MUST(tm_model_label(S.model, i, &name));
        CHECK(strcmp(name, tu_class_names[i]) == 0, "label %zu is %s, expected %s", i, name,
              tu_class_names[i]);
    }
    L = S.labels;
    S.ref_labels = malloc(sizeof *S.ref_labels * S.n * L);
    S.ref_probs = malloc(sizeof *S.ref_probs * S.n * L);
    S.ref_full = malloc(sizeof *S.ref_full * S.n * L);
    /* The reference is computed on the calling thread alone; the default (every core)
     * is restored for the tests that follow. */
    MUST(tm_model_set_threads(S.model, 1));
    MUST(tm_model_predict(S.model, S.batch, S.n, L, S.ref_labels, S.ref_probs));
    MUST(tm_model_predict_proba(S.model, S.batch, S.n, S.ref_full));
    MUST(tm_model_set_threads(S.model, 0));
    S.cmp_labels = S.ref_labels;
    S.cmp_probs = S.ref_probs;

    /* predict(k = L) and predict_proba agree; rows sum to 1 and are sorted. */
    for (i = 0; i < S.n; i++) {
        size_t j;
        double sum = 0;
        for (j = 0; j < L; j++) {
            int32_t lab = S.ref_labels[i * L + j];
            sum += S.ref_full[i * L + j];
            CHECK(lab >= 0 && (size_t)lab < L, "text %zu: label index %d", i, lab);
            if (lab >= 0 && (size_t)lab < L)
                CHECK(fabsf(S.ref_full[i * L + (size_t)lab] - S.ref_probs[i * L + j]) <= 1e-6f,
                      "text %zu: predict p=%.9g but predict_proba p=%.9g", i,
                      (double)S.ref_probs[i * L + j], (double)S.ref_full[i * L + (size_t)lab]);
            if (j > 0)
                CHECK(S.ref_probs[i * L + j] <= S.ref_probs[i * L + j - 1],
                      "text %zu: probabilities not in decreasing order", i);
        }
        CHECK(fabs(sum - 1.0) < 1e-4, "text %zu: probabilities sum to %.7f", i, sum);
    }
    {
        /* tm_model_evaluate agrees with the predictions: same accuracy. */
        char *metrics = NULL;
        const char *acc;
        size_t correct = 0;
        double accuracy = -1;
        for (i = 0; i < S.batch_data.count; i++)
            correct += strcmp(tu_class_names[S.ref_labels[i * L]], S.batch_data.labels[i]) == 0;
        MUST(tm_model_evaluate(S.model, (const char *const *)S.batch_data.texts,
                               S.batch_data.labels, S.batch_data.count, &metrics));
        acc = strstr(metrics, "\"accuracy\"");
        if (acc != NULL && (acc = strchr(acc, ':')) != NULL)
            accuracy = strtod(acc + 1, NULL);
        CHECK(fabs(accuracy - (double)correct / (double)S.batch_data.count) < 1e-6,
              "evaluate says accuracy %g, predictions give %g", accuracy,
              (double)correct / (double)S.batch_data.count);
        tm_string_free(metrics);
    }
    if (!S.quick) {
        size_t correct = 0;
        for (i = 0; i < S.batch_data.count; i++)
            correct += strcmp(tu_class_names[S.ref_labels[i * L]], S.batch_data.labels[i]) == 0;
        printf("held-out accuracy %.3f\n", (double)correct / (double)S.batch_data.count);
        CHECK(correct * 10 > S.batch_data.count * 7,
              "the model did not learn the keyword task (accuracy %.3f)",
              (double)correct / (double)S.batch_data.count);
    }
}

/* ---------------------------------------------------- concurrent predict */

typedef struct worker {
    pthread_t thread;
    int id, reps, mismatches, errors;
    pthread_barrier_t *barrier;
} worker;

static void *predict_worker(void *arg)
{
    worker *w = arg;
    size_t L = S.labels, i;
    int32_t *labels = malloc(sizeof *labels * S.n * L);
    float *probs = malloc(sizeof *probs * S.n * L);
    char who[64], config[96], expect[32];
    tm_model *dummy = NULL;
    int r;

    /* Leave a distinct error on this thread; it must survive the other threads' calls. */
    snprintf(config, sizeof config, "{\"model\": {\"hidden_dim\": -%d}}", 1000 + w->id);
    snprintf(expect, sizeof expect, "-%d", 1000 + w->id);
    if (tm_model_new(config, &dummy) != TM_ERR_CONFIG) {
        w->errors++;
        tm_model_free(dummy);
    }
    pthread_barrier_wait(w->barrier);
    if (strstr(tm_last_error(), expect) == NULL) {
        pthread_mutex_lock(&print_lock);
        fprintf(stderr, "thread %d: tm_last_error() is \"%s\", expected its own error "
                        "mentioning %s\n", w->id, tm_last_error(), expect);
        pthread_mutex_unlock(&print_lock);
        w->errors++;
    }

    for (r = 0; r < w->reps; r++) {
        tm_status st = tm_model_predict(S.model, S.batch, S.n, L, labels, probs);
        if (st != TM_OK) {
            w->errors++;
            continue;
        }
        if (tm_last_error()[0] != '\0')
            w->errors++;
        snprintf(who, sizeof who, "thread %d batch %d", w->id, r);
        w->mismatches += exact_rows(who, labels, probs, S.n);
        /* Top-1 only, as a second shape of output: the same labels exactly. */
        st = tm_model_predict(S.model, S.batch, S.n, 1, labels, NULL);
        if (st != TM_OK)
            w->errors++;
        for (i = 0; i < S.n; i++)
            if (labels[i] != S.ref_labels[i * L])
                w->mismatches++;
    }
    /* Each text alone, in an order of its own. */
    for (i = 0; i < S.n; i++) {
        size_t t = (i * 7 + (size_t)w->id * 13) % S.n;
        tm_status st = tm_model_predict(S.model, S.batch + t, 1, L, labels, probs);
        if (st != TM_OK) {
            w->errors++;
            continue;
        }
        snprintf(who, sizeof who, "thread %d alone", w->id);
        w->mismatches += compare_rows(who, labels, probs, &t, 1, L, BATCH_TOL);
    }
    free(labels);
    free(probs);
    return NULL;
}

static void concurrent_predict(void)
{
    int n_threads = S.quick ? 4 : 8, i;
    worker *w = calloc((size_t)n_threads, sizeof *w);
    pthread_barrier_t barrier;
    double t0 = tu_now();
    int mismatches = 0, errors = 0;

    pthread_barrier_init(&barrier, NULL, (unsigned)n_threads);
    for (i = 0; i < n_threads; i++) {
        w[i].id = i;
        w[i].reps = S.quick ? 1 : 4;
        w[i].barrier = &barrier;
        if (pthread_create(&w[i].thread, NULL, predict_worker, &w[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (i = 0; i < n_threads; i++) {
        pthread_join(w[i].thread, NULL);
        mismatches += w[i].mismatches;
        errors += w[i].errors;
    }
    pthread_barrier_destroy(&barrier);
    printf("concurrent predict: %d threads x %zu texts in %.2f s: %d mismatches, %d errors\n",
           n_threads, S.n, tu_now() - t0, mismatches, errors);
    CHECK(mismatches == 0, "%d predictions from threads differ from the reference", mismatches);
    CHECK(errors == 0, "%d failed calls or wrong last-error messages in threads", errors);
    free(w);
}

/* -------------------------------------------------------- batch invariance */

static void note_difference(float a, float b, int *identical, float *worst)
{
    float d = fabsf(a - b);
    if (a != b)
        *identical = 0;
    if (d > *worst)
        *worst = d;
}

static void batch_invariance(void)
{
    size_t L = S.labels, n = S.n, i, *rows = malloc(sizeof *rows * n);
    const char **texts = malloc(sizeof *texts * n);
    int32_t *labels = malloc(sizeof *labels * n * L);
    float *probs = malloc(sizeof *probs * n * L);
    size_t sizes[] = {1, 2, 3, 7, 64, 100};
    size_t s;
    uint64_t rng = 99;
    int bad = 0, identical = 1;
    float worst = 0;

    /* Reversed, then shuffled, whole batch. */
    for (i = 0; i < n; i++)
        rows[i] = n - 1 - i;
    for (s = 0; s < 2; s++) {
        if (s == 1) {
            for (i = n - 1; i > 0; i--) {
                size_t j = (size_t)(tu_rand(&rng) % (i + 1)), t = rows[i];
                rows[i] = rows[j];
                rows[j] = t;
            }
        }
        for (i = 0; i < n; i++)
            texts[i] = S.batch[rows[i]];
        MUST(tm_model_predict(S.model, texts, n, L, labels, probs));
        bad += compare_rows(s ? "shuffled batch" : "reversed batch", labels, probs, rows, n, L,
                            BATCH_TOL);
        for (i = 0; i < n * L; i++)
            note_difference(probs[i], S.ref_probs[rows[i / L] * L + i % L], &identical, &worst);
    }
    /* Chunks of several sizes, in shuffled order. */
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t start;
        char who[64];
        snprintf(who, sizeof who, "batches of %zu", sizes[s]);
        for (start = 0; start < n; start += sizes[s]) {
            size_t count = n - start < sizes[s] ? n - start : sizes[s];
            for (i = 0; i < count; i++)
                texts[i] = S.batch[rows[start + i]];
            MUST(tm_model_predict(S.model, texts, count, L, labels, probs));
            bad += compare_rows(who, labels, probs, rows + start, count, L, BATCH_TOL);
            for (i = 0; i < count * L; i++)
                note_difference(probs[i], S.ref_probs[rows[start + i / L] * L + i % L],
                                &identical, &worst);
        }
    }
    /* One text repeated in a batch, next to very different texts. */
    for (i = 0; i < n && i < 50; i++) {
        texts[i] = (i % 2) ? S.batch[0] : S.batch[n - 1 - i];
        rows[i] = (i % 2) ? 0 : n - 1 - i;
    }
    MUST(tm_model_predict(S.model, texts, i, L, labels, probs));
    bad += compare_rows("repeated text", labels, probs, rows, i, L, BATCH_TOL);

    printf("batch invariance: %d mismatches; results %s bit-identical across batchings "
           "(largest difference %g)\n", bad, identical ? "are" : "are NOT", (double)worst);
    CHECK(bad == 0, "%d texts predict differently depending on their batch", bad);
    free(rows);
    free((void *)texts);
    free(labels);
    free(probs);
}

/* ------------------------------------------------- per-call thread count */

/* A batch of several inference groups (256 texts each) predicted with 1 thread is the
 * reference; 2, 3 and 0 (every core) threads must give the same bits, since a text's
 * group does not depend on the thread count. */
static void thread_setting(void)
{
    size_t L = S.labels, copies = S.quick ? 6 : 3, n = S.n * copies, i, c;
    const size_t settings[] = {2, 3, 0};
    const char **texts = malloc(sizeof *texts * n);
    const char **labels_in = malloc(sizeof *labels_in * n);
    int32_t *ref_labels = malloc(sizeof *ref_labels * n * L), *labels = malloc(sizeof *labels * n * L);
    float *ref_probs = malloc(sizeof *ref_probs * n * L), *probs = malloc(sizeof *probs * n * L);
    size_t got = 99;
    int bad = 0;
    char *ref_json = NULL, *json = NULL;

    /* Copies in other orders, so equal texts land in different groups. */
    for (c = 0; c < copies; c++)
        for (i = 0; i < S.n; i++)
            texts[c * S.n + i] = S.batch[(i * (2 * c + 1)) % S.n];
    for (i = 0; i < n; i++)
        labels_in[i] = tu_class_names[i % TU_NUM_CLASSES];
    MUST(tm_model_threads(S.model, &got));
    CHECK(got == 0, "a new model's thread setting is %zu, expected 0 (every core)", got);
    MUST(tm_model_set_threads(S.model, 1));
    MUST(tm_model_threads(S.model, &got));
    CHECK(got == 1, "thread setting reads back %zu after setting 1", got);
    MUST(tm_model_predict(S.model, texts, n, L, ref_labels, ref_probs));
    MUST(tm_model_evaluate(S.model, texts, labels_in, n, &ref_json));
    for (i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        MUST(tm_model_set_threads(S.model, settings[i]));
        MUST(tm_model_predict(S.model, texts, n, L, labels, probs));
        if (memcmp(labels, ref_labels, sizeof *labels * n * L) != 0 ||
            memcmp(probs, ref_probs, sizeof *probs * n * L) != 0) {
            bad++;
            fprintf(stderr, "threads %zu: predictions differ from 1 thread's\n", settings[i]);
        }
        MUST(tm_model_evaluate(S.model, texts, labels_in, n, &json));
        if (strcmp(json, ref_json) != 0) {
            bad++;
            fprintf(stderr, "threads %zu: evaluation differs from 1 thread's\n", settings[i]);
        }
        tm_string_free(json);
    }
    printf("thread setting: %zu texts on 1, 2, 3 and all cores: %d differences\n", n, bad);
    CHECK(bad == 0, "predictions depend on the thread setting");
    MUST(tm_model_set_threads(S.model, 0));
    tm_string_free(ref_json);
    free((void *)texts);
    free((void *)labels_in);
    free(ref_labels);
    free(labels);
    free(ref_probs);
    free(probs);
}

/* -------------------------------------------- predict while retraining */

/* Retrains S.model on other data while two threads predict with it. textmodel.h says
 * calls made while tm_model_train* runs use the previous weights until training ends,
 * so each prediction must equal one complete model: the old one, or the retrained one
 * (equal to a separately trained model with the same config and data, since training
 * is deterministic for a seed and thread count), never a mixture. */
#ifndef EXPECT_CALLS_WAIT_FOR_TRAINING
#define EXPECT_CALLS_WAIT_FOR_TRAINING 0
#endif

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int training_started, predictors_ready, n_predictors;
    double training_done; /* tu_now() when tm_model_train returned */
} R = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0.0};

static int retrain_progress(const tm_progress *p, void *user_data)
{
    (void)p;
    (void)user_data;
    pthread_mutex_lock(&R.lock);
    if (!R.training_started) {
        struct timespec deadline;
        R.training_started = 1;
        pthread_cond_broadcast(&R.cond);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        while (R.predictors_ready < R.n_predictors)
            if (pthread_cond_timedwait(&R.cond, &R.lock, &deadline) != 0)
                break;
        pthread_mutex_unlock(&R.lock);
        sleep_ms(100); /* let the predictors reach the library */
        return 0;
    }
    pthread_mutex_unlock(&R.lock);
    return 0;
}

typedef struct retrain_predictor {
    pthread_t thread;
    tm_status status;
    int mismatches, equals_old;
    double returned; /* tu_now() when predict returned */
} retrain_predictor;

static void *predict_during_training(void *arg)
{
    retrain_predictor *rp = arg;
    size_t L = S.labels, i;
    int32_t *labels = malloc(sizeof *labels * S.n * L);
    float *probs = malloc(sizeof *probs * S.n * L);

    pthread_mutex_lock(&R.lock);
    while (!R.training_started)
        pthread_cond_wait(&R.cond, &R.lock);
    R.predictors_ready++;
    pthread_cond_broadcast(&R.cond);
    pthread_mutex_unlock(&R.lock);
    rp->status = tm_model_predict(S.model, S.batch, S.n, L, labels, probs);
    rp->returned = tu_now();
    if (rp->status == TM_OK) {
        rp->equals_old = 1;
        for (i = 0; i < S.n * L; i++)
            if (fabsf(probs[i] - S.ref_probs[i]) > THREAD_TOL || labels[i] != S.ref_labels[i])
                rp->equals_old = 0;
        if (EXPECT_CALLS_WAIT_FOR_TRAINING || !rp->equals_old)
            rp->mismatches = compare_rows("predict during retraining", labels, probs, NULL, S.n,
                                          L, THREAD_TOL);
    }
    free(labels);
    free(probs);
    return NULL;
}

static void predict_while_training(void)
{
    retrain_predictor rp[2];
    int i;
    char extra[64];
    tm_status st;
    size_t L = S.labels;
    tm_model *other = NULL;

    snprintf(extra, sizeof extra, "\"progress_every\": %d", S.quick ? 2 : 5);
    S.train2 = tu_dataset_make(S.train.count, 31);
    MUST(tm_model_new(tu_tiny_config(extra), &other));
    MUST(tm_model_train(other, (const char *const *)S.train2.texts, S.train2.labels,
                        S.train2.count, (const char *const *)S.valid.texts, S.valid.labels,
                        S.valid.count, NULL, NULL, NULL));
    S.ref2_labels = malloc(sizeof *S.ref2_labels * S.n * L);
    S.ref2_probs = malloc(sizeof *S.ref2_probs * S.n * L);
    MUST(tm_model_predict(other, S.batch, S.n, L, S.ref2_labels, S.ref2_probs));
    tm_model_free(other);
    S.cmp_labels = S.ref2_labels;
    S.cmp_probs = S.ref2_probs;

    R.n_predictors = 2;
    for (i = 0; i < 2; i++) {
        rp[i].status = TM_ERR_INTERNAL;
        rp[i].mismatches = rp[i].equals_old = 0;
        pthread_create(&rp[i].thread, NULL, predict_during_training, &rp[i]);
    }
    st = tm_model_train(S.model, (const char *const *)S.train2.texts, S.train2.labels,
                        S.train2.count, (const char *const *)S.valid.texts, S.valid.labels,
                        S.valid.count, retrain_progress, NULL, NULL);
    R.training_done = tu_now();
    CHECK(st == TM_OK, "retraining failed: %s: %s", tm_status_name(st), tm_last_error());
    for (i = 0; i < 2; i++) {
        pthread_join(rp[i].thread, NULL);
        printf("predict during retraining: %s, returned %+.3f s after training%s\n",
               tm_status_name(rp[i].status), rp[i].returned - R.training_done,
               rp[i].equals_old ? ", saw the old model" : ", saw the new model");
        CHECK(rp[i].status == TM_OK, "predict during retraining returned %s",
              tm_status_name(rp[i].status));
        CHECK(rp[i].mismatches == 0,
              EXPECT_CALLS_WAIT_FOR_TRAINING
                  ? "predict during retraining did not wait for training to finish: it saw %s "
                    "(%d texts differ from the retrained model)"
                  : "predict during retraining saw %s (%d texts differ from either model)",
              rp[i].equals_old ? "the old model" : "neither model", rp[i].mismatches);
    }
}

/* ------------------------------------------------- two trainings at once */

typedef struct trainer {
    pthread_t thread;
    const tu_dataset *data;
    tm_status status;
} trainer;

static void *train_thread(void *arg)
{
    trainer *t = arg;
    t->status = tm_model_train(S.model, (const char *const *)t->data->texts, t->data->labels,
                               t->data->count, (const char *const *)S.valid.texts,
                               S.valid.labels, S.valid.count, NULL, NULL, NULL);
    return NULL;
}

/* Two threads train S.model at once (on train and train2). Training is serialised, so
 * the result is exactly one of the two models, never a mixture. */
static void concurrent_training(void)
{
    trainer t[2];
    size_t L = S.labels, i;
    int32_t *labels = malloc(sizeof *labels * S.n * L);
    float *probs = malloc(sizeof *probs * S.n * L);
    int is_first = 1, is_second = 1;

    t[0].data = &S.train;
    t[1].data = &S.train2;
    for (i = 0; i < 2; i++)
        pthread_create(&t[i].thread, NULL, train_thread, &t[i]);
    for (i = 0; i < 2; i++) {
        pthread_join(t[i].thread, NULL);
        CHECK(t[i].status == TM_OK, "concurrent training %zu returned %s", i,
              tm_status_name(t[i].status));
    }
    MUST(tm_model_predict(S.model, S.batch, S.n, L, labels, probs));
    for (i = 0; i < S.n * L; i++) {
        if (fabsf(probs[i] - S.ref_probs[i]) > THREAD_TOL)
            is_first = 0;
        if (fabsf(probs[i] - S.ref2_probs[i]) > THREAD_TOL)
            is_second = 0;
    }
    printf("two trainings at once: the model is %s\n",
           is_first ? "the first data's" : is_second ? "the second data's" : "NEITHER");
    CHECK(is_first || is_second, "two concurrent trainings left a model equal to neither");
    free(labels);
    free(probs);
}

/* ------------------------------------------------------------ cancellation */

typedef struct cancel_log {
    tm_progress_kind cancel_on;
    int cancelled, reports_after;
    int64_t cancel_step, total_steps;
    int cancel_epoch;
} cancel_log;

static int cancelling_progress(const tm_progress *p, void *user_data)
{
    cancel_log *c = user_data;
    if (c->cancelled) {
        c->reports_after++;
        return 1;
    }
    if (p->kind == c->cancel_on) {
        c->cancelled = 1;
        c->cancel_step = p->step;
        c->cancel_epoch = p->epoch;
        c->total_steps = p->total_steps;
        return 1;
    }
    return 0;
}

static void cancellation(tm_progress_kind on, const char *name)
{
    tm_model *m = NULL;
    cancel_log c;
    char *report = NULL;
    int trained = 0;
    size_t L = 0;
    int32_t labels[8];
    float probs[8];
    const char *text = "pizza and a goal";
    tm_status st;
    char message[512];

    memset(&c, 0, sizeof c);
    c.cancel_on = on;
    MUST(tm_model_new(tu_tiny_config("\"progress_every\": 1"), &m));
    st = tm_model_train(m, (const char *const *)S.train.texts, S.train.labels, S.train.count,
                        NULL, NULL, 0, cancelling_progress, &c, &report);
    snprintf(message, sizeof message, "%s", tm_last_error());
    printf("cancel on first %s report: %s (%s) at step %lld of %lld, %d reports after\n", name,
           tm_status_name(st), message, (long long)c.cancel_step, (long long)c.total_steps,
           c.reports_after);
    CHECK(c.cancelled, "no %s report arrived", name);
    CHECK(st == TM_ERR_CANCELLED, "training returned %s, expected TM_ERR_CANCELLED",
          tm_status_name(st));
    CHECK(message[0] != '\0', "TM_ERR_CANCELLED with an empty tm_last_error()");
    CHECK(report != NULL && report[0] == '{', "no JSON report after cancellation");
    CHECK(c.reports_after == 0, "%d progress reports after the callback cancelled",
          c.reports_after);
    CHECK(c.total_steps > c.cancel_step + 1, "cancelled too late to tell (step %lld of %lld)",
          (long long)c.cancel_step, (long long)c.total_steps);
    tm_string_free(report);
    MUST(tm_model_is_trained(m, &trained));
    CHECK(trained == 1, "cancelled model reports is_trained = %d", trained);
    MUST(tm_model_num_labels(m, &L));
    CHECK(L == TU_NUM_CLASSES, "cancelled model has %zu labels", L);
    st = tm_model_predict(m, &text, 1, 1, labels, probs);
    CHECK(st == TM_OK, "predict after cancellation: %s: %s", tm_status_name(st), tm_last_error());
    tm_model_free(m);
}

/* ----------------------------------------------- re-entrant progress calls */

typedef struct reentry_log {
    tm_model *model, *other;
    int reports, train_refused, files_refused, free_refused, other_trained, unexpected;
} reentry_log;

static int reentrant_progress(const tm_progress *p, void *user_data)
{
    reentry_log *r = user_data;
    const char *text = "pizza";
    int32_t label;
    tm_status st;

    if (p->kind != TM_PROGRESS_EPOCH)
        return 0;
    r->reports++;
    st = tm_model_train(r->model, (const char *const *)S.train.texts, S.train.labels,
                        S.train.count, NULL, NULL, 0, NULL, NULL, NULL);
    if (st == TM_ERR_STATE && strstr(tm_last_error(), "already running") != NULL)
        r->train_refused++;
    else
        fprintf(stderr, "re-entrant tm_model_train: %s: %s\n", tm_status_name(st), tm_last_error());
    st = tm_model_train_files(r->model, "/nonexistent/train.csv", NULL, NULL, NULL, NULL);
    if (st == TM_ERR_STATE && strstr(tm_last_error(), "already running") != NULL)
        r->files_refused++;
    else
        fprintf(stderr, "re-entrant tm_model_train_files: %s: %s\n", tm_status_name(st),
                tm_last_error());
    tm_model_free(r->model); /* refused: the training below this callback uses it */
    if (strstr(tm_last_error(), "not freed") != NULL)
        r->free_refused++;
    /* Allowed here: reading this model, which has its previous weights (none: this is
     * its first training, so predicting says it is untrained), and training another. */
    st = tm_model_predict(r->model, &text, 1, 1, &label, NULL);
    if (st != TM_ERR_STATE || strstr(tm_last_error(), "not trained") == NULL)
        r->unexpected++;
    if (!r->other_trained) {
        st = tm_model_train(r->other, (const char *const *)S.train.texts, S.train.labels,
                            S.train.count, NULL, NULL, 0, NULL, NULL, NULL);
        if (st == TM_OK)
            r->other_trained = 1;
        else
            r->unexpected++;
    }
    return 0;
}

static void reentrant_calls(void)
{
    reentry_log r;
    int trained = 0;
    tm_status st;

    memset(&r, 0, sizeof r);
    MUST(tm_model_new(tu_tiny_config(NULL), &r.model)); /* 3 epochs */
    MUST(tm_model_new(tu_tiny_config(NULL), &r.other));
    st = tm_model_train(r.model, (const char *const *)S.train.texts, S.train.labels,
                        S.train.count, NULL, NULL, 0, reentrant_progress, &r, NULL);
    printf("re-entrant calls from the progress callback: training %s; %d epoch reports, "
           "train refused %d, train_files refused %d, free refused %d\n", tm_status_name(st),
           r.reports, r.train_refused, r.files_refused, r.free_refused);
    CHECK(st == TM_OK, "training with re-entrant callback calls returned %s: %s",
          tm_status_name(st), tm_last_error());
    CHECK(r.reports == 3, "%d epoch reports, expected 3", r.reports);
    CHECK(r.train_refused == 3 && r.files_refused == 3,
          "re-entrant training not refused with TM_ERR_STATE (%d, %d of 3)", r.train_refused,
          r.files_refused);
    CHECK(r.free_refused == 3, "re-entrant tm_model_free not refused (%d of 3)", r.free_refused);
    CHECK(r.unexpected == 0 && r.other_trained, "%d unexpected results of allowed calls",
          r.unexpected);
    MUST(tm_model_is_trained(r.model, &trained));
    CHECK(trained == 1, "the model is not trained after its training returned");
    tm_model_free(r.model);
    tm_model_free(r.other);
}

/* ------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    S.quick = tu_quick(argc, argv);
    setup();
    concurrent_predict();
    batch_invariance();
    thread_setting();
    predict_while_training();
    /* The retrained model equals a model trained from scratch on the same data. */
    {
        size_t L = S.labels;
        int32_t *labels = malloc(sizeof *labels * S.n * L);
        float *probs = malloc(sizeof *probs * S.n * L);
        MUST(tm_model_predict(S.model, S.batch, S.n, L, labels, probs));
        CHECK(compare_rows("after retraining", labels, probs, NULL, S.n, L, THREAD_TOL) == 0,
              "retraining gave a different model than training a new one");
        free(labels);
        free(probs);
    }
    concurrent_training();
    cancellation(TM_PROGRESS_STEP, "step");
    cancellation(TM_PROGRESS_EPOCH, "epoch");
    reentrant_calls();

    tm_model_free(S.model);
    free(S.ref_labels);
    free(S.ref_probs);
    free(S.ref_full);
    free(S.ref2_labels);
    free(S.ref2_probs);
    tu_dataset_free(&S.train2);
    free((void *)S.batch);
    tu_dataset_free(&S.train);
    tu_dataset_free(&S.valid);
    tu_dataset_free(&S.batch_data);
    return tu_finish("test_threads");
}
