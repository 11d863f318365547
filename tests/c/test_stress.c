/*
 * test_stress.c - concurrency stress test of libtextmodel.
 *
 * For a fixed time, at the same time:
 *
 *  - 16 predictor threads (4 with --quick) predict from one trained model, shared
 *    model A: whole batches (k = labels and k = 1), predict_proba, random sub-batches
 *    and single texts. Every result must equal, bit for bit, a reference computed with
 *    tm_model_set_threads(model, 1) (README: results are bit-identical for every
 *    prediction thread count): whole batches the reference computed before any thread
 *    started, sub-batches and single texts the same texts predicted by the thread's
 *    own single-thread copy of A (a text's result may depend on the other texts in its
 *    group of 256, so only the same call is comparable). No error message is left behind.
 *  - a saver thread saves model A over a file again and again (tm_model_save is
 *    read-only work on the model; the file is replaced atomically each time),
 *  - 2 loader threads load that file, check the labels, predict the batch once with the
 *    loaded model (must equal the reference) and free it; the file must always load
 *    even while it is being replaced,
 *  - a trainer thread trains its own models (tm_model_new + tm_model_train with a
 *    progress callback that checks every report), each equal to a reference trained
 *    before the threads started (training is deterministic for a seed and a thread
 *    count, docs/config.md),
 *  - a retrainer thread retrains a second shared model, model B, alternately on two
 *    datasets while 3 threads predict from it: each batch prediction must be entirely
 *    the model of one dataset or the other (textmodel.h: predictions use the previous
 *    weights until training ends, then the new ones at once), never a mixture.
 *
 * Afterwards: no temporary file is left next to the saved file, model A still predicts
 * the reference, and model B equals the model of the dataset it was trained on last.
 *
 *   test_stress [--quick] [--seconds S]
 *     --quick      less data, 1 epoch, 4 predictor threads, 0.5 s (valgrind, sanitizers);
 *                  every thread still does at least one round
 *     --seconds S  length of the stress phase (default 10; 0.5 with --quick)
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Results must be bit-identical (see the top); labels may swap only between exactly
 * tied probabilities. */
#define TOL 0.0f

/* ------------------------------------------------------------------ state */

static struct {
    int quick;
    int epochs;             /* of every training: 3, or 1 with --quick */
    double seconds;
    char *t_config;         /* config of the trainer thread's models */
    char *dir;
    char *shared_path;      /* model A saved here (and re-saved by the saver thread) */
    tu_dataset train_a;     /* model A's data */
    tu_dataset batch_data;  /* generated texts to predict */
    const char **batch;     /* batch_data + edge cases */
    size_t n;               /* texts in batch */
    size_t L;               /* labels of every model here (3) */
    tm_model *a;            /* shared model A */
    int32_t *ref_labels;    /* A: n * L, k = L */
    float *ref_probs;       /* A: n * L, k = L */
    float *ref_full;        /* A: n * L, predict_proba */

    tm_model *b;            /* shared model B, retrained while predicted from */
    tu_dataset train_b1, train_b2;
    int32_t *b1_labels, *b2_labels; /* B trained on train_b1 / train_b2 */
    float *b1_probs, *b2_probs;

    tu_dataset train_t;     /* the trainer thread's data */
    int32_t *t_labels;      /* model trained on train_t, before the threads */
    float *t_probs;

    int stop;               /* set by main when the time is up (under `lock`) */
    pthread_mutex_t lock;
} S = {0};

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static int stopping(void)
{
    int s;
    pthread_mutex_lock(&S.lock);
    s = S.stop;
    pthread_mutex_unlock(&S.lock);
    return s;
}

/* Thread-safe failure report: at most `limit` lines per counter. */
static void report(int *count, int limit, const char *format, ...)
{
    va_list ap;
    (*count)++;
    if (*count > limit)
        return;
    pthread_mutex_lock(&print_lock);
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&print_lock);
}

/* ------------------------------------------------------------ comparisons */

/* Compares rows [0, count) of a top-k result with reference rows (k = L layout) at
 * indices rows[i] (or i). Returns the number of rows that differ: a probability off by
 * more than TOL, or a label that differs where the reference probabilities are not
 * tied within TOL. */
static size_t diff_rows(const int32_t *labels, const float *probs, const size_t *rows,
                        size_t count, size_t k, const int32_t *ref_labels,
                        const float *ref_probs, char *why, size_t why_size)
{
    size_t i, j, bad = 0, L = S.L;
    for (i = 0; i < count; i++) {
        size_t r = rows ? rows[i] : i;
        const int32_t *rl = ref_labels + r * L;
        const float *rp = ref_probs + r * L;
        int row_bad = 0;
        for (j = 0; j < k; j++) {
            if (probs != NULL && !(fabsf(probs[i * k + j] - rp[j]) <= TOL))
                row_bad = 1;
            if (labels[i * k + j] != rl[j] && !(j + 1 < L && rp[j] - rp[j + 1] <= TOL) &&
                !(j > 0 && rp[j - 1] - rp[j] <= TOL))
                row_bad = 1;
        }
        if (row_bad) {
            if (bad == 0 && why != NULL)
                snprintf(why, why_size, "text %zu: label %d p=%.9g, reference label %d p=%.9g",
                         r, labels[i * k], probs ? (double)probs[i * k] : -1.0, rl[0],
                         (double)rp[0]);
            bad++;
        }
    }
    return bad;
}

/* Compares a predict_proba result (n * L, label order) with A's reference. */
static size_t diff_full(const float *probs, size_t count, char *why, size_t why_size)
{
    size_t i, bad = 0;
    for (i = 0; i < count; i++) {
        size_t j;
        for (j = 0; j < S.L; j++) {
            if (!(fabsf(probs[i * S.L + j] - S.ref_full[i * S.L + j]) <= TOL)) {
                if (bad == 0)
                    snprintf(why, why_size, "text %zu label %zu: p=%.9g, reference %.9g", i, j,
                             (double)probs[i * S.L + j], (double)S.ref_full[i * S.L + j]);
                bad++;
                break;
            }
        }
    }
    return bad;
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

static char long_text[4096]; /* longer than max_length tokens */

/* Predictions of the batch by `m` on one thread; `m` then goes back to the default
 * (every core), which the stress phase uses. */
static void reference(tm_model *m, int32_t **labels, float **probs)
{
    *labels = malloc(sizeof **labels * S.n * S.L);
    *probs = malloc(sizeof **probs * S.n * S.L);
    if (*labels == NULL || *probs == NULL)
        exit(1);
    MUST(tm_model_set_threads(m, 1));
    MUST(tm_model_predict(m, S.batch, S.n, S.L, *labels, *probs));
    MUST(tm_model_set_threads(m, 0));
}

/* Extra "training" keys for every model: with --quick, one epoch instead of 3. */
static const char *extra_config(const char *extra)
{
    static char buf[4][128];
    static int next;
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%s%s%s", extra ? extra : "", extra ? ", " : "",
             S.quick ? "\"epochs\": 1" : "\"epochs\": 3");
    return out;
}

static tm_model *train_model(const tu_dataset *d, const char *extra)
{
    return tu_train_tiny(d, extra_config(extra));
}

static void setup(void)
{
    size_t i, n_gen, len = 0;
    tm_model *tmp;
    int differ = 0;

    S.dir = tu_tempdir_make();
    S.shared_path = tu_path(S.dir, "shared.tmmodel");
    S.train_a = tu_dataset_make(S.quick ? 60 : 600, 21);
    S.train_b1 = tu_dataset_make(S.quick ? 60 : 400, 22);
    S.train_b2 = tu_dataset_make(S.quick ? 60 : 400, 23);
    S.train_t = tu_dataset_make(S.quick ? 45 : 300, 24);
    n_gen = S.quick ? 24 : 200;
    S.batch_data = tu_dataset_make(n_gen, 25);
    S.n = n_gen + sizeof edge_texts / sizeof edge_texts[0] + 1;
    S.batch = calloc(S.n, sizeof *S.batch);
    if (S.batch == NULL)
        exit(1);
    for (i = 0; i < n_gen; i++)
        S.batch[i] = S.batch_data.texts[i];
    for (i = 0; i < sizeof edge_texts / sizeof edge_texts[0]; i++)
        S.batch[n_gen + i] = edge_texts[i];
    while (len + 16 < sizeof long_text)
        len += (size_t)snprintf(long_text + len, sizeof long_text - len, "the goal ");
    S.batch[S.n - 1] = long_text;

    S.a = train_model(&S.train_a, NULL);
    MUST(tm_model_num_labels(S.a, &S.L));
    CHECK(S.L == TU_NUM_CLASSES, "model A has %zu labels", S.L);
    if (S.L < 2)
        exit(1);
    reference(S.a, &S.ref_labels, &S.ref_probs);
    S.ref_full = malloc(sizeof *S.ref_full * S.n * S.L);
    MUST(tm_model_set_threads(S.a, 1));
    MUST(tm_model_predict_proba(S.a, S.batch, S.n, S.ref_full));
    MUST(tm_model_set_threads(S.a, 0));
    MUST(tm_model_save(S.a, S.shared_path));

    /* B on its second dataset (reference only), then B for real on the first. */
    tmp = train_model(&S.train_b2, "\"seed\": 5");
    reference(tmp, &S.b2_labels, &S.b2_probs);
    tm_model_free(tmp);
    S.b = train_model(&S.train_b1, "\"seed\": 5");
    reference(S.b, &S.b1_labels, &S.b1_probs);
    for (i = 0; i < S.n * S.L; i++)
        if (fabsf(S.b1_probs[i] - S.b2_probs[i]) > 1e-4f)
            differ = 1;
    CHECK(differ, "model B's two datasets give the same predictions: the test cannot tell");

    tmp = train_model(&S.train_t, "\"seed\": 9, \"progress_every\": 3");
    S.t_config = malloc(strlen(tu_tiny_config(extra_config("\"seed\": 9, \"progress_every\": 3"))) + 1);
    if (S.t_config == NULL)
        exit(1);
    strcpy(S.t_config, tu_tiny_config(extra_config("\"seed\": 9, \"progress_every\": 3")));
    reference(tmp, &S.t_labels, &S.t_probs);
    tm_model_free(tmp);
    printf("setup: %zu texts per batch, %zu labels\n", S.n, S.L);
}

/* ------------------------------------------------------ predictors of A */

typedef struct predictor {
    pthread_t thread;
    int id;
    tm_model *solo; /* A loaded from its file, predicting on 1 thread: the reference of
                       sub-batches and single texts */
    long calls, texts, rounds;
    int mismatches, errors;
} predictor;

static void *predict_a(void *arg)
{
    predictor *p = arg;
    size_t L = S.L, n = S.n, i;
    int32_t *labels = malloc(sizeof *labels * n * L), *solo_labels = malloc(sizeof *labels * n * L);
    float *probs = malloc(sizeof *probs * n * L), *solo_probs = malloc(sizeof *probs * n * L);
    size_t *rows = malloc(sizeof *rows * n);
    const char **texts = malloc(sizeof *texts * n);
    uint64_t rng = 1000 + (uint64_t)p->id;
    char why[256];

    if (labels == NULL || probs == NULL || rows == NULL || texts == NULL ||
        solo_labels == NULL || solo_probs == NULL)
        exit(1);
    do {
        int mode;
        for (mode = 0; mode < 5; mode++) {
            tm_status st;
            size_t count = n, k = L, bad = 0;
            const char *what = "";
            switch (mode) {
            case 0: /* whole batch, every label */
                what = "batch k=L";
                st = tm_model_predict(S.a, S.batch, n, L, labels, probs);
                if (st == TM_OK)
                    bad = diff_rows(labels, probs, NULL, n, L, S.ref_labels, S.ref_probs, why,
                                    sizeof why);
                break;
            case 1: /* whole batch, top-1 labels only */
                what = "batch k=1, no probabilities";
                k = 1;
                st = tm_model_predict(S.a, S.batch, n, 1, labels, NULL);
                if (st == TM_OK)
                    bad = diff_rows(labels, NULL, NULL, n, 1, S.ref_labels, S.ref_probs, why,
                                    sizeof why);
                break;
            case 2: /* full probability matrix */
                what = "batch predict_proba";
                st = tm_model_predict_proba(S.a, S.batch, n, probs);
                if (st == TM_OK)
                    bad = diff_full(probs, n, why, sizeof why);
                break;
            case 3: /* a random sub-batch in random order, k = 2 */
                what = "random sub-batch k=2";
                count = 1 + (size_t)(tu_rand(&rng) % (n < 64 ? n : 64));
                k = 2;
                for (i = 0; i < count; i++) {
                    rows[i] = (size_t)(tu_rand(&rng) % n);
                    texts[i] = S.batch[rows[i]];
                }
                st = tm_model_predict(S.a, texts, count, k, labels, probs);
                MUST(tm_model_predict(p->solo, texts, count, L, solo_labels, solo_probs));
                if (st == TM_OK)
                    bad = diff_rows(labels, probs, NULL, count, k, solo_labels, solo_probs,
                                    why, sizeof why);
                break;
            default: /* single texts */
                what = "single text";
                count = 0;
                st = TM_OK;
                for (i = 0; i < 16 && st == TM_OK; i++) {
                    size_t r = (size_t)(tu_rand(&rng) % n);
                    st = tm_model_predict(S.a, &S.batch[r], 1, L, labels, probs);
                    MUST(tm_model_predict(p->solo, &S.batch[r], 1, L, solo_labels, solo_probs));
                    if (st == TM_OK)
                        bad += diff_rows(labels, probs, NULL, 1, L, solo_labels, solo_probs,
                                         why, sizeof why);
                    count++;
                }
                p->calls += (long)count - 1; /* one more below */
                break;
            }
            p->calls++;
            p->texts += (long)count;
            if (st != TM_OK) {
                report(&p->errors, 3, "predictor %d, %s: %s: %s", p->id, what,
                       tm_status_name(st), tm_last_error());
            } else if (tm_last_error()[0] != '\0') {
                report(&p->errors, 3, "predictor %d, %s: succeeded but tm_last_error() is "
                                      "\"%s\"", p->id, what, tm_last_error());
            }
            if (bad) {
                p->mismatches += (int)bad;
                pthread_mutex_lock(&print_lock);
                if (p->mismatches <= (int)bad)
                    fprintf(stderr, "predictor %d, %s: %zu texts differ from the reference; "
                                    "first: %s\n", p->id, what, bad, why);
                pthread_mutex_unlock(&print_lock);
            }
        }
        p->rounds++;
    } while (!stopping());
    free(labels);
    free(probs);
    free(solo_labels);
    free(solo_probs);
    free(rows);
    free((void *)texts);
    return NULL;
}

/* --------------------------------------------------- saver and loaders */

typedef struct file_worker {
    pthread_t thread;
    int id;
    long rounds;
    int mismatches, errors;
} file_worker;

static void *save_a(void *arg)
{
    file_worker *w = arg;
    do {
        tm_status st = tm_model_save(S.a, S.shared_path);
        if (st != TM_OK)
            report(&w->errors, 3, "saver: %s: %s", tm_status_name(st), tm_last_error());
        w->rounds++;
    } while (!stopping());
    return NULL;
}

static void *load_a(void *arg)
{
    file_worker *w = arg;
    size_t L = S.L, n = S.n;
    int32_t *labels = malloc(sizeof *labels * n * L);
    float *probs = malloc(sizeof *probs * n * L);
    char why[256];

    do {
        tm_model *m = NULL;
        size_t count = 0, i, bad;
        int trained = 0;
        tm_status st = tm_model_load(S.shared_path, &m);
        w->rounds++;
        if (st != TM_OK) {
            report(&w->errors, 3, "loader %d: load %s: %s: %s", w->id, S.shared_path,
                   tm_status_name(st), tm_last_error());
            continue;
        }
        if (tm_model_is_trained(m, &trained) != TM_OK || !trained ||
            tm_model_num_labels(m, &count) != TM_OK || count != L) {
            report(&w->errors, 3, "loader %d: loaded model: trained %d, %zu labels", w->id,
                   trained, count);
            tm_model_free(m);
            continue;
        }
        for (i = 0; i < L; i++) {
            const char *name = NULL;
            if (tm_model_label(m, i, &name) != TM_OK || strcmp(name, tu_class_names[i]) != 0)
                report(&w->errors, 3, "loader %d: label %zu is %s", w->id, i,
                       name ? name : "(error)");
        }
        st = tm_model_predict(m, S.batch, n, L, labels, probs);
        if (st != TM_OK) {
            report(&w->errors, 3, "loader %d: predict with the loaded model: %s: %s", w->id,
                   tm_status_name(st), tm_last_error());
        } else if ((bad = diff_rows(labels, probs, NULL, n, L, S.ref_labels, S.ref_probs, why,
                                    sizeof why)) != 0) {
            w->mismatches += (int)bad;
            report(&w->errors, 3, "loader %d: the loaded model predicts %zu texts differently; "
                                  "first: %s", w->id, bad, why);
        }
        tm_model_free(m);
    } while (!stopping());
    free(labels);
    free(probs);
    return NULL;
}

/* ------------------------------------------------------ trainer thread */

typedef struct progress_check {
    int reports, epoch_reports, bad;
    int64_t last_step, total_steps;
    int last_epoch;
} progress_check;

static int check_progress(const tm_progress *p, void *user_data)
{
    progress_check *c = user_data;
    int ok = p->struct_size >= sizeof(tm_progress) &&
             (p->kind == TM_PROGRESS_STEP || p->kind == TM_PROGRESS_EPOCH) &&
             p->epochs == S.epochs && p->epoch >= 1 && p->epoch <= S.epochs &&
             p->epoch >= c->last_epoch &&
             p->total_steps > 0 && (c->total_steps == 0 || p->total_steps == c->total_steps) &&
             p->step >= c->last_step && p->step <= p->total_steps &&
             isfinite(p->elapsed_seconds);
    if (p->kind == TM_PROGRESS_STEP)
        ok = ok && isfinite(p->running_loss) && p->running_loss >= 0;
    else
        ok = ok && isfinite(p->train_loss) && p->epoch == c->epoch_reports + 1;
    if (!ok && c->bad++ < 3) {
        pthread_mutex_lock(&print_lock);
        fprintf(stderr, "trainer: bad progress report: kind %d epoch %d/%d step %lld/%lld "
                        "(previous step %lld) loss %g\n", (int)p->kind, p->epoch, p->epochs,
                (long long)p->step, (long long)p->total_steps, (long long)c->last_step,
                p->kind == TM_PROGRESS_STEP ? p->running_loss : p->train_loss);
        pthread_mutex_unlock(&print_lock);
    }
    c->reports++;
    if (p->kind == TM_PROGRESS_EPOCH)
        c->epoch_reports++;
    c->last_step = p->step;
    c->last_epoch = p->epoch;
    c->total_steps = p->total_steps;
    return 0;
}

typedef struct trainer {
    pthread_t thread;
    long rounds, reports;
    int mismatches, errors;
} trainer;

static void *train_own(void *arg)
{
    trainer *t = arg;
    size_t L = S.L, n = S.n;
    int32_t *labels = malloc(sizeof *labels * n * L);
    float *probs = malloc(sizeof *probs * n * L);
    char why[256];

    do {
        tm_model *m = NULL;
        progress_check c;
        char *report_json = NULL;
        size_t bad;
        tm_status st;
        memset(&c, 0, sizeof c);
        st = tm_model_new(S.t_config, &m);
        if (st == TM_OK)
            st = tm_model_train(m, (const char *const *)S.train_t.texts, S.train_t.labels,
                                S.train_t.count, NULL, NULL, 0, check_progress, &c,
                                &report_json);
        t->rounds++;
        t->reports += c.reports;
        if (st != TM_OK) {
            report(&t->errors, 3, "trainer: %s: %s", tm_status_name(st), tm_last_error());
        } else {
            if (c.bad || c.epoch_reports != S.epochs || c.last_step != c.total_steps)
                report(&t->errors, 3, "trainer: %d bad progress reports, %d epoch reports, "
                                      "last step %lld of %lld", c.bad, c.epoch_reports,
                       (long long)c.last_step, (long long)c.total_steps);
            if (report_json == NULL || report_json[0] != '{')
                report(&t->errors, 3, "trainer: no JSON report");
            st = tm_model_predict(m, S.batch, n, L, labels, probs);
            if (st != TM_OK)
                report(&t->errors, 3, "trainer: predict: %s: %s", tm_status_name(st),
                       tm_last_error());
            else if ((bad = diff_rows(labels, probs, NULL, n, L, S.t_labels, S.t_probs, why,
                                      sizeof why)) != 0) {
                t->mismatches += (int)bad;
                report(&t->errors, 3, "trainer: training under load gave another model than "
                                      "the same training before the threads (%zu texts "
                                      "differ; first: %s)", bad, why);
            }
        }
        tm_string_free(report_json);
        tm_model_free(m);
    } while (!stopping());
    free(labels);
    free(probs);
    return NULL;
}

/* --------------------------------------- model B: retrain while predicting */

static struct {
    pthread_mutex_t lock;
    int last_trained; /* 1 or 2: dataset of B's most recent completed training */
} B = {PTHREAD_MUTEX_INITIALIZER, 1};

typedef struct retrainer {
    pthread_t thread;
    long rounds;
    int errors;
} retrainer;

static void *retrain_b(void *arg)
{
    retrainer *r = arg;
    int next = 2;
    do {
        const tu_dataset *d = next == 2 ? &S.train_b2 : &S.train_b1;
        progress_check c;
        tm_status st;
        memset(&c, 0, sizeof c);
        st = tm_model_train(S.b, (const char *const *)d->texts, d->labels, d->count, NULL,
                            NULL, 0, check_progress, &c, NULL);
        if (st != TM_OK) {
            report(&r->errors, 3, "retrainer: %s: %s", tm_status_name(st), tm_last_error());
        } else {
            pthread_mutex_lock(&B.lock);
            B.last_trained = next;
            pthread_mutex_unlock(&B.lock);
            next = 3 - next;
        }
        r->rounds++;
    } while (!stopping());
    return NULL;
}

typedef struct b_predictor {
    pthread_t thread;
    int id;
    long calls, saw1, saw2;
    int mixtures, errors;
} b_predictor;

static void *predict_b(void *arg)
{
    b_predictor *p = arg;
    size_t L = S.L, n = S.n;
    int32_t *labels = malloc(sizeof *labels * n * L);
    float *probs = malloc(sizeof *probs * n * L);
    do {
        size_t bad1, bad2;
        tm_status st = tm_model_predict(S.b, S.batch, n, L, labels, probs);
        p->calls++;
        if (st != TM_OK) {
            report(&p->errors, 3, "B predictor %d: %s: %s", p->id, tm_status_name(st),
                   tm_last_error());
            continue;
        }
        bad1 = diff_rows(labels, probs, NULL, n, L, S.b1_labels, S.b1_probs, NULL, 0);
        bad2 = diff_rows(labels, probs, NULL, n, L, S.b2_labels, S.b2_probs, NULL, 0);
        if (bad1 == 0)
            p->saw1++;
        else if (bad2 == 0)
            p->saw2++;
        else
            report(&p->mixtures, 3, "B predictor %d: a prediction during retraining is "
                                    "neither model (%zu texts differ from the first, %zu from "
                                    "the second)", p->id, bad1, bad2);
    } while (!stopping());
    free(labels);
    free(probs);
    return NULL;
}

/* ------------------------------------------------------------------- main */

static int stray_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".tm-save-", 9) == 0) {
            printf("stray temporary file: %s\n", e->d_name);
            found++;
        }
    closedir(d);
    return found;
}

static void start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    if (pthread_create(thread, NULL, fn, arg) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int n_pred, n_loaders = 2, n_bpred = 3, i;
    predictor *pred;
    file_worker saver, *loaders;
    trainer tr;
    retrainer rt;
    b_predictor *bp;
    double t0, t_stop, elapsed;
    long calls = 0, texts = 0, rounds = 0, loads = 0, bcalls = 0, saw1 = 0, saw2 = 0;
    int mismatches = 0, errors = 0, mixtures = 0, last;

    S.quick = tu_quick(argc, argv);
    S.seconds = S.quick ? 0.5 : 10.0;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--seconds") == 0)
            S.seconds = atof(argv[i + 1]);
    n_pred = S.quick ? 4 : 16;
    S.epochs = S.quick ? 1 : 3;
    pthread_mutex_init(&S.lock, NULL);

    t0 = tu_now();
    setup();
    printf("setup took %.2f s; stress phase: %.1f s with %d predictors of A, a saver, %d "
           "loaders, a trainer, a retrainer of B and %d predictors of B\n", tu_now() - t0,
           S.seconds, n_pred, n_loaders, n_bpred);
    fflush(stdout);

    pred = calloc((size_t)n_pred, sizeof *pred);
    loaders = calloc((size_t)n_loaders, sizeof *loaders);
    bp = calloc((size_t)n_bpred, sizeof *bp);
    memset(&saver, 0, sizeof saver);
    memset(&tr, 0, sizeof tr);
    memset(&rt, 0, sizeof rt);

    t0 = tu_now();
    for (i = 0; i < n_pred; i++) {
        pred[i].id = i;
        MUST(tm_model_load(S.shared_path, &pred[i].solo));
        MUST(tm_model_set_threads(pred[i].solo, 1));
    }
    for (i = 0; i < n_pred; i++)
        start(&pred[i].thread, predict_a, &pred[i]);
    start(&saver.thread, save_a, &saver);
    for (i = 0; i < n_loaders; i++) {
        loaders[i].id = i;
        start(&loaders[i].thread, load_a, &loaders[i]);
    }
    start(&tr.thread, train_own, &tr);
    start(&rt.thread, retrain_b, &rt);
    for (i = 0; i < n_bpred; i++) {
        bp[i].id = i;
        start(&bp[i].thread, predict_b, &bp[i]);
    }

    /* Sleep until the time is up, in short naps. */
    while (tu_now() - t0 < S.seconds) {
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
    }
    pthread_mutex_lock(&S.lock);
    S.stop = 1;
    pthread_mutex_unlock(&S.lock);
    t_stop = tu_now();

    for (i = 0; i < n_pred; i++) {
        pthread_join(pred[i].thread, NULL);
        tm_model_free(pred[i].solo);
        calls += pred[i].calls;
        texts += pred[i].texts;
        rounds += pred[i].rounds;
        mismatches += pred[i].mismatches;
        errors += pred[i].errors;
    }
    pthread_join(saver.thread, NULL);
    errors += saver.errors;
    for (i = 0; i < n_loaders; i++) {
        pthread_join(loaders[i].thread, NULL);
        loads += loaders[i].rounds;
        mismatches += loaders[i].mismatches;
        errors += loaders[i].errors;
    }
    pthread_join(tr.thread, NULL);
    mismatches += tr.mismatches;
    errors += tr.errors;
    pthread_join(rt.thread, NULL);
    errors += rt.errors;
    for (i = 0; i < n_bpred; i++) {
        pthread_join(bp[i].thread, NULL);
        bcalls += bp[i].calls;
        saw1 += bp[i].saw1;
        saw2 += bp[i].saw2;
        mixtures += bp[i].mixtures;
        errors += bp[i].errors;
    }
    elapsed = tu_now() - t0;

    printf("model A: %d threads made %ld predict calls (%ld texts, %ld rounds): %d mismatches\n",
           n_pred, calls, texts, rounds, mismatches);
    printf("files:   %ld saves of A, %ld loads by %d loaders\n", saver.rounds, loads, n_loaders);
    printf("trainer: %ld trainings of its own model, %ld progress reports\n", tr.rounds,
           tr.reports);
    printf("model B: %ld retrainings; %d threads made %ld predict calls: %ld saw the first "
           "dataset's model, %ld the second's, %d neither\n", rt.rounds, n_bpred, bcalls, saw1,
           saw2, mixtures);
    printf("stress phase: %.2f s (threads finished %.2f s after the stop)\n", elapsed,
           tu_now() - t_stop);
    CHECK(mismatches == 0, "%d predictions differ from the single-thread reference", mismatches);
    CHECK(errors == 0, "%d calls failed or left an error message", errors);
    CHECK(mixtures == 0, "%d predictions of B during retraining were neither model", mixtures);
    CHECK(rt.rounds >= 1 && tr.rounds >= 1 && saver.rounds >= 1 && loads >= 1 && rounds >= 1,
          "some thread did no work");
    if (!S.quick)
        CHECK(rt.rounds >= 2 && saw1 + saw2 >= 2,
              "the retrainer/B predictors did too little work to test anything");

    /* After the storm: nothing left behind, A unchanged, B the last trained model. */
    CHECK(stray_temp_files(S.dir) == 0, "temporary files left next to %s", S.shared_path);
    {
        size_t L = S.L, n = S.n;
        int32_t *labels = malloc(sizeof *labels * n * L);
        float *probs = malloc(sizeof *probs * n * L);
        char why[256];
        MUST(tm_model_predict(S.a, S.batch, n, L, labels, probs));
        CHECK(diff_rows(labels, probs, NULL, n, L, S.ref_labels, S.ref_probs, why, sizeof why) ==
                  0, "model A changed during the stress test: %s", why);
        pthread_mutex_lock(&B.lock);
        last = B.last_trained;
        pthread_mutex_unlock(&B.lock);
        MUST(tm_model_predict(S.b, S.batch, n, L, labels, probs));
        CHECK(diff_rows(labels, probs, NULL, n, L, last == 1 ? S.b1_labels : S.b2_labels,
                        last == 1 ? S.b1_probs : S.b2_probs, why, sizeof why) == 0,
              "model B is not the model of its last training (dataset %d): %s", last, why);
        free(labels);
        free(probs);
    }

    tm_model_free(S.a);
    tm_model_free(S.b);
    free(pred);
    free(loaders);
    free(bp);
    free(S.ref_labels);
    free(S.ref_probs);
    free(S.ref_full);
    free(S.b1_labels);
    free(S.b1_probs);
    free(S.b2_labels);
    free(S.b2_probs);
    free(S.t_labels);
    free(S.t_probs);
    free((void *)S.batch);
    tu_dataset_free(&S.train_a);
    tu_dataset_free(&S.train_b1);
    tu_dataset_free(&S.train_b2);
    tu_dataset_free(&S.train_t);
    tu_dataset_free(&S.batch_data);
    tu_tempdir_remove(S.dir);
    free(S.shared_path);
    free(S.t_config);
    pthread_mutex_destroy(&S.lock);
    return tu_finish("test_stress");
}
