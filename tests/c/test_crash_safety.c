/*
 * test_crash_safety.c - a model file survives a process killed while saving, a failed
 * save and a cancelled training.
 *
 *  1. SIGKILL during save. Model A is saved to F; model B (a larger model, saved to
 *     another file beforehand) is loaded by a forked child that then saves it over F
 *     again and again. The parent kills the child with SIGKILL after a random delay,
 *     spread over three windows measured first: before the child has loaded B, during
 *     its first save, and during later saves. After each kill F must load and predict
 *     exactly A's or B's probabilities for a fixed probe set: A if the child was killed
 *     before it started saving, B once it had reported its first save complete (the
 *     child reports progress through a pipe). Counts of A and B are printed; both must
 *     be seen. A killed child may leave one temporary file (.tm-save-<pid>-<hex>.tmp,
 *     with its own pid) behind; they are counted, checked and removed; nothing else may
 *     appear in the directory.
 *     The child only calls tm_model_load and tm_model_save, which use no threads and no
 *     BLAS: fork() copies only the calling thread, and although the parent starts no
 *     threads of its own (training here runs with threads = 1, on the calling thread),
 *     OpenBLAS keeps an idle thread pool from the moment the library is loaded.
 *  2. A failed save leaves the previous file intact: with RLIMIT_FSIZE (works for root,
 *     unlike permissions) at several sizes below B's file size, saving B over F fails
 *     with TM_ERR_IO, F still loads as A and no temporary file is left; with the limit
 *     at exactly B's file size, the save succeeds.
 *  3. Cancelling training through the progress callback leaves a usable model: trained,
 *     predicting rows that sum to 1, evaluable, and saving/loading to an identical model;
 *     also when a trained model is retrained and the retraining is cancelled.
 *
 *   test_crash_safety [--quick] [--kills N]
 *     --quick    20 kills instead of 150, smaller models and data (for valgrind and
 *                the sanitizers)
 *     --kills N  number of kills
 *
 * Note: SIGKILL tests the write-temp-then-rename protocol, not power loss (that would
 * need the page cache dropped, which a test cannot do; the library fsyncs for that).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Model B: a fastText-style bag model with hashed bigrams, a few MB on disk, so that
 * its save takes long enough for kills to land in the middle of it. */
static const char b_config[] =
    "{\"tokenizer\": {\"min_freq\": 1, \"word_ngrams\": 2, \"buckets\": %d},"
    " \"model\": {\"type\": \"bag\", \"embedding_dim\": 16},"
    " \"training\": {\"epochs\": 2, \"batch_size\": 16, \"learning_rate\": 0.05,"
    " \"threads\": 1, \"seed\": 3}}";

static struct {
    int quick, kills;
    char *dir;
    char *f;          /* the file being overwritten */
    char *b_path;     /* model B's own file, loaded by the children */
    size_t b_size;    /* bytes of b_path */
    unsigned char *a_bytes; /* A's file */
    size_t a_size;
    tm_model *a, *b;  /* as loaded from their files */
    size_t labels;
    float *ref_a, *ref_b; /* predict_proba of the probe set */
} S;

static const char *const probe[] = {
    "pizza and pasta today", "a great goal in the match", "my new laptop and phone",
    "the friend said that", "", "cheese server tennis", "unknownword",
};
#define N_PROBE (sizeof probe / sizeof probe[0])

static void sleep_us(long us)
{
    struct timespec ts;
    ts.tv_sec = us / 1000000L;
    ts.tv_nsec = (us % 1000000L) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static float *probabilities(const tm_model *m)
{
    size_t labels = 0;
    float *p;
    MUST(tm_model_num_labels(m, &labels));
    p = malloc(sizeof *p * N_PROBE * (labels ? labels : 1));
    if (p == NULL)
        exit(1);
    MUST(tm_model_predict_proba(m, probe, N_PROBE, p));
    return p;
}

/* 'A' or 'B' if the model at `path` loads and predicts exactly like A or B; 'L' if it
 * does not load (message printed), '?' if it predicts like neither. */
static char identify(const char *path)
{
    tm_model *m = NULL;
    size_t labels = 0, i;
    float *p;
    int is_a = 1, is_b = 1;
    tm_status st = tm_model_load(path, &m);
    if (st != TM_OK) {
        printf("    %s does not load: %s: %s\n", path, tm_status_name(st), tm_last_error());
        return 'L';
    }
    MUST(tm_model_num_labels(m, &labels));
    if (labels != S.labels) {
        printf("    %s has %zu labels\n", path, labels);
        tm_model_free(m);
        return '?';
    }
    p = probabilities(m);
    for (i = 0; i < N_PROBE * labels; i++) {
        if (p[i] != S.ref_a[i])
            is_a = 0;
        if (p[i] != S.ref_b[i])
            is_b = 0;
    }
    free(p);
    tm_model_free(m);
    return is_a ? 'A' : is_b ? 'B' : '?';
}

/* Temporary save files in S.dir: counts them, checks that each carries the pid of a
 * child that was killed (`pid`, or any if 0), removes them. Also reports any other
 * unexpected file. Returns the number of temporary files, or -1 on a bad file. */
static int sweep_temp_files(pid_t pid, int *foreign)
{
    DIR *d = opendir(S.dir);
    struct dirent *e;
    int found = 0;
    char mark[64];
    snprintf(mark, sizeof mark, ".tm-save-%ld-", (long)pid);
    if (d == NULL) {
        perror(S.dir);
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        char *path;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "f.tmmodel") == 0 || strcmp(e->d_name, "b.tmmodel") == 0)
            continue;
        path = tu_path(S.dir, e->d_name);
        if (strncmp(e->d_name, ".tm-save-", 9) == 0 &&
            strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".tmp") == 0) {
            found++;
            if (pid != 0 && strncmp(e->d_name, mark, strlen(mark)) != 0) {
                printf("    temporary file %s is not the killed child's (pid %ld)\n",
                       e->d_name, (long)pid);
                (*foreign)++;
            }
        } else {
            printf("    unexpected file %s\n", e->d_name);
            (*foreign)++;
        }
        unlink(path);
        free(path);
    }
    closedir(d);
    return found;
}

/* Puts A's bytes back in F (write a side file and rename it over F: cheaper than
 * tm_model_save, which also fsyncs, and independent of the library). */
static void restore_a(void)
{
    char *side = tu_path(S.dir, "a.restore");
    if (tu_write_file(side, S.a_bytes, S.a_size) != 0 || rename(side, S.f) != 0) {
        perror(S.f);
        exit(1);
    }
    free(side);
}

/* ------------------------------------------------------------------ setup */

static void setup(void)
{
    tu_dataset da = tu_dataset_make(S.quick ? 60 : 300, 41);
    tu_dataset db = tu_dataset_make(S.quick ? 60 : 300, 42);
    tm_model *m = NULL;
    struct stat st;
    size_t i;
    int differ = 0;
    char config[512];
    double t0 = tu_now();

    S.dir = tu_tempdir_make();
    S.f = tu_path(S.dir, "f.tmmodel");
    S.b_path = tu_path(S.dir, "b.tmmodel");

    m = tu_train_tiny(&da, NULL);
    MUST(tm_model_save(m, S.f));
    tm_model_free(m);
    snprintf(config, sizeof config, b_config, S.quick ? 3000 : 12000);
    MUST(tm_model_new(config, &m));
    MUST(tm_model_train(m, (const char *const *)db.texts, db.labels, db.count, NULL, NULL, 0,
                        NULL, NULL, NULL));
    MUST(tm_model_save(m, S.b_path));
    tm_model_free(m);
    tu_dataset_free(&da);
    tu_dataset_free(&db);

    /* References from the files, as every later check loads them. */
    MUST(tm_model_load(S.f, &S.a));
    MUST(tm_model_load(S.b_path, &S.b));
    MUST(tm_model_num_labels(S.a, &S.labels));
    {
        size_t lb = 0;
        MUST(tm_model_num_labels(S.b, &lb));
        if (lb != S.labels || S.labels != TU_NUM_CLASSES) {
            fprintf(stderr, "models A and B have %zu and %zu labels\n", S.labels, lb);
            exit(1);
        }
    }
    S.a_bytes = tu_read_file(S.f, &S.a_size);
    if (S.a_bytes == NULL) {
        perror(S.f);
        exit(1);
    }
    S.ref_a = probabilities(S.a);
    S.ref_b = probabilities(S.b);
    for (i = 0; i < N_PROBE * S.labels; i++)
        if (S.ref_a[i] != S.ref_b[i])
            differ = 1;
    if (!differ) {
        fprintf(stderr, "models A and B predict the same: the test cannot tell them apart\n");
        exit(1);
    }
    if (stat(S.b_path, &st) != 0) {
        perror(S.b_path);
        exit(1);
    }
    S.b_size = (size_t)st.st_size;
    printf("setup: model A %zu bytes, model B %zu bytes (%.2f s)\n", S.a_size, S.b_size,
           tu_now() - t0);
}

/* -------------------------------------------------------- kill during save */

/* The child: load B, report 'L', then save B over F again and again, reporting 'S'
 * after each completed save. Exits 2/3 on a library error (the parent then fails). */
static void child(int fd)
{
    tm_model *m = NULL;
    int i;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (tm_model_load(S.b_path, &m) != TM_OK)
        _exit(2);
    if (write(fd, "L", 1) != 1)
        _exit(4);
    for (i = 0; i < 100000; i++) {
        if (tm_model_save(m, S.f) != TM_OK)
            _exit(3);
        if (write(fd, "S", 1) != 1)
            _exit(4);
    }
    _exit(0);
}

static pid_t spawn(int *read_fd)
{
    int fds[2];
    pid_t pid;
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1]);
    }
    close(fds[1]);
    *read_fd = fds[0];
    return pid;
}

/* Reads what a dead child wrote: 0 nothing, 1 loaded, 2 at least one save completed. */
static int child_phase(int fd)
{
    char buf[256];
    ssize_t n;
    int phase = 0, i;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        for (i = 0; i < n; i++)
            if (buf[i] == 'L' && phase < 1)
                phase = 1;
            else if (buf[i] == 'S')
                phase = 2;
    close(fd);
    return phase;
}

/* Time from fork to the child's 'L' and to its first 'S' (median of 5 runs). */
static void calibrate(double *t_load, double *t_save)
{
    double loads[5], saves[5], t;
    int i, j;
    for (i = 0; i < 5; i++) {
        int fd, status;
        char c;
        pid_t pid;
        restore_a();
        t = tu_now();
        pid = spawn(&fd);
        loads[i] = saves[i] = -1;
        while (read(fd, &c, 1) == 1) {
            if (c == 'L')
                loads[i] = tu_now() - t;
            if (c == 'S') {
                saves[i] = tu_now() - t;
                break;
            }
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        close(fd);
        if (loads[i] < 0 || saves[i] < 0) {
            fprintf(stderr, "calibration child failed (%s %d)\n",
                    WIFSIGNALED(status) ? "signal" : "exit",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            exit(1);
        }
    }
    for (i = 0; i < 5; i++) /* sort both */
        for (j = i + 1; j < 5; j++) {
            if (loads[j] < loads[i]) {
                t = loads[i], loads[i] = loads[j], loads[j] = t;
            }
            if (saves[j] < saves[i]) {
                t = saves[i], saves[i] = saves[j], saves[j] = t;
            }
        }
    *t_load = loads[2];
    *t_save = saves[2];
    {
        int foreign = 0;
        sweep_temp_files(0, &foreign); /* calibration kills may leave some */
    }
}

static void kill_during_save(void)
{
    double t_load, t_save;
    long window_us[3];
    uint64_t rng = 20240601;
    int i, seen[3] = {0, 0, 0}, phases[3] = {0, 0, 0}, temp_total = 0, foreign = 0;
    int wrong = 0, unloadable = 0, not_killed = 0, max_temp = 0;
    double t0 = tu_now();
    static const char *const phase_names[3] = {"before the save started",
                                               "during the first save",
                                               "after the first save"};

    calibrate(&t_load, &t_save);
    /* Three equal shares of kills: [0, t_load), [t_load, t_save), [t_save, 2 t_save). */
    window_us[0] = (long)(t_load * 1e6) + 1;
    window_us[1] = (long)((t_save - t_load) * 1e6) + 1;
    window_us[2] = (long)(t_save * 1e6) + 1;
    printf("kill during save: child loads B after %.2f ms and completes its first save after "
           "%.2f ms; %d kills, seed %llu\n", t_load * 1e3, t_save * 1e3, S.kills,
           (unsigned long long)rng);

    for (i = 0; i < S.kills; i++) {
        int fd, status, phase, temps, w = i % 3;
        long delay;
        pid_t pid;
        char got;

        restore_a(); /* F = A again */
        delay = (w == 0 ? 0 : w == 1 ? window_us[0] : window_us[0] + window_us[1]) +
                (long)(tu_rand(&rng) % (uint64_t)window_us[w]);
        pid = spawn(&fd);
        sleep_us(delay);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        phase = child_phase(fd);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                not_killed++; /* finished every save: still a valid outcome */
            } else {
                CHECK(0, "kill %d: the child failed by itself (%s %d) before the kill", i,
                      WIFSIGNALED(status) ? "signal" : "exit",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                continue;
            }
        }
        phases[phase]++;
        got = identify(S.f);
        if (got == 'L') {
            unloadable++;
            CHECK(0, "kill %d (%s, after %ld us): %s does not load", i, phase_names[phase],
                  delay, S.f);
        } else if (got == '?') {
            wrong++;
            CHECK(0, "kill %d (%s, after %ld us): %s is neither model A nor model B", i,
                  phase_names[phase], delay, S.f);
        } else {
            seen[got == 'A' ? 0 : 1]++;
            if (phase == 0 && got != 'A') {
                wrong++;
                CHECK(0, "kill %d: the child had not loaded B yet, but %s holds B", i, S.f);
            }
            if (phase == 2 && got != 'B') {
                wrong++;
                CHECK(0, "kill %d: the child had completed a save, but %s still holds A", i,
                      S.f);
            }
        }
        temps = sweep_temp_files(pid, &foreign);
        temp_total += temps;
        if (temps > max_temp)
            max_temp = temps;
        CHECK(temps <= 1, "kill %d left %d temporary files (at most 1 save was in progress)",
              i, temps);
        CHECK(temps == 0 || phase >= 1, "kill %d: a temporary file before the child saved", i);
    }
    printf("  kills by phase: %d %s, %d %s, %d %s%s\n", phases[0], phase_names[0], phases[1],
           phase_names[1], phases[2], phase_names[2],
           not_killed ? " (some children finished all their saves)" : "");
    printf("  F afterwards: %d times model A (old), %d times model B (new), %d neither, "
           "%d unloadable\n", seen[0], seen[1], wrong, unloadable);
    printf("  temporary files left by killed children: %d (at most %d per kill), removed; "
           "%d unexpected files\n", temp_total, max_temp, foreign);
    printf("  %.2f s\n", tu_now() - t0);
    CHECK(foreign == 0, "%d unexpected files appeared next to %s", foreign, S.f);
    if (S.quick) {
        if (seen[0] == 0 || seen[1] == 0)
            printf("  note: only one of the models was seen in this short run\n");
    } else {
        CHECK(seen[0] > 0, "model A (kill before the rename) was never seen");
        CHECK(seen[1] > 0, "model B (kill after the rename) was never seen");
    }
}

/* ------------------------------------------------------ failed save (EFBIG) */

static void failed_saves(void)
{
    struct rlimit old, lim;
    size_t limits[6];
    size_t i;
    void (*old_handler)(int);
    int foreign = 0;

    limits[0] = 0;
    limits[1] = 1;
    limits[2] = 8;
    limits[3] = 4096;
    limits[4] = S.b_size / 2;
    limits[5] = S.b_size - 1;
    printf("failed saves (RLIMIT_FSIZE below B's %zu bytes):\n", S.b_size);
    MUST(tm_model_save(S.a, S.f));
    if (getrlimit(RLIMIT_FSIZE, &old) != 0) {
        perror("getrlimit");
        exit(1);
    }
    old_handler = signal(SIGXFSZ, SIG_IGN);
    for (i = 0; i <= sizeof limits / sizeof limits[0]; i++) {
        size_t limit = i < sizeof limits / sizeof limits[0] ? limits[i] : S.b_size;
        int expect_ok = i == sizeof limits / sizeof limits[0];
        char msg[512], got;
        int temps;
        tm_status st;
        lim = old;
        lim.rlim_cur = (rlim_t)limit;
        if (old.rlim_max != RLIM_INFINITY && lim.rlim_cur > old.rlim_max)
            lim.rlim_cur = old.rlim_max;
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
            perror("setrlimit");
            exit(1);
        }
        st = tm_model_save(S.b, S.f);
        snprintf(msg, sizeof msg, "%s", tm_last_error());
        setrlimit(RLIMIT_FSIZE, &old);
        got = identify(S.f);
        temps = sweep_temp_files(0, &foreign);
        printf("  limit %8zu: %s%s%s -> file is %s, %d temporary files\n", limit,
               tm_status_name(st), msg[0] ? ": " : "", msg,
               got == 'A' ? "A (old)" : got == 'B' ? "B (new)" : "BROKEN", temps);
        if (expect_ok) {
            CHECK(st == TM_OK, "save with the limit at the file size failed: %s", msg);
            CHECK(got == 'B', "after a successful save F is not model B");
        } else {
            CHECK(st == TM_ERR_IO || st == TM_ERR_RESOURCE,
                  "save with limit %zu returned %s, expected TM_ERR_IO", limit,
                  tm_status_name(st));
            CHECK(st == TM_OK || msg[0] != '\0', "failed save with an empty message");
            CHECK(got == 'A', "a failed save (limit %zu) did not leave the old file intact",
                  limit);
        }
        CHECK(temps == 0, "a %s save left %d temporary files", expect_ok ? "successful" :
              "failed", temps);
    }
    signal(SIGXFSZ, old_handler);
    CHECK(foreign == 0, "%d unexpected files next to %s", foreign, S.f);
}

/* ----------------------------------------------------------- cancellation */

typedef struct cancel_at {
    tm_progress_kind kind;
    int nth;      /* cancel on the nth report of `kind` (1-based) */
    int seen;     /* reports of `kind` so far */
    int after;    /* reports after cancelling */
    int cancelled;
    int64_t step, total;
} cancel_at;

static int cancelling(const tm_progress *p, void *user_data)
{
    cancel_at *c = user_data;
    if (c->cancelled) {
        c->after++;
        return 1;
    }
    if (p->kind == c->kind && ++c->seen == c->nth) {
        c->cancelled = 1;
        c->step = p->step;
        c->total = p->total_steps;
        return 1;
    }
    return 0;
}

/* m must be trained, predict rows that sum to 1, evaluate, and save/load to an
 * identical model. */
static void check_usable(tm_model *m, const char *what, const tu_dataset *eval)
{
    int trained = 0;
    size_t labels = 0, i, j;
    float *p, *q;
    char *metrics = NULL;
    tm_model *loaded = NULL;
    char *path = tu_path(S.dir, "cancelled.tmmodel");
    tm_status st;

    MUST(tm_model_is_trained(m, &trained));
    CHECK(trained == 1, "%s: is_trained = %d", what, trained);
    MUST(tm_model_num_labels(m, &labels));
    CHECK(labels == TU_NUM_CLASSES, "%s: %zu labels", what, labels);
    if (!trained || labels == 0)
        return;
    p = probabilities(m);
    for (i = 0; i < N_PROBE; i++) {
        double sum = 0;
        for (j = 0; j < labels; j++) {
            CHECK(isfinite(p[i * labels + j]) && p[i * labels + j] >= 0, "%s: probability %g",
                  what, (double)p[i * labels + j]);
            sum += p[i * labels + j];
        }
        CHECK(fabs(sum - 1) < 1e-4, "%s: probabilities sum to %g", what, sum);
    }
    st = tm_model_evaluate(m, (const char *const *)eval->texts, eval->labels, eval->count,
                           &metrics);
    CHECK(st == TM_OK, "%s: evaluate: %s: %s", what, tm_status_name(st), tm_last_error());
    tm_string_free(metrics);
    st = tm_model_save(m, path);
    CHECK(st == TM_OK, "%s: save: %s: %s", what, tm_status_name(st), tm_last_error());
    if (st == TM_OK) {
        st = tm_model_load(path, &loaded);
        CHECK(st == TM_OK, "%s: load: %s: %s", what, tm_status_name(st), tm_last_error());
        if (st == TM_OK) {
            q = probabilities(loaded);
            CHECK(memcmp(p, q, sizeof *p * N_PROBE * labels) == 0,
                  "%s: the saved and loaded model predicts differently", what);
            free(q);
            tm_model_free(loaded);
        }
    }
    unlink(path);
    free(path);
    free(p);
}

static void cancel_case(const char *what, tm_progress_kind kind, int nth, int retrain)
{
    tu_dataset d = tu_dataset_make(S.quick ? 60 : 240, 51);
    tu_dataset other = tu_dataset_make(60, 52);
    tm_model *m = NULL;
    cancel_at c;
    char *report = NULL;
    tm_status st;
    float *before = NULL;

    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.nth = nth;
    MUST(tm_model_new(tu_tiny_config("\"progress_every\": 2"), &m));
    if (retrain) {
        MUST(tm_model_train(m, (const char *const *)other.texts, other.labels, other.count,
                            NULL, NULL, 0, NULL, NULL, NULL));
        before = probabilities(m);
    }
    st = tm_model_train(m, (const char *const *)d.texts, d.labels, d.count, NULL, NULL, 0,
                        cancelling, &c, &report);
    printf("  %-44s %s at step %lld of %lld, %d reports after\n", what, tm_status_name(st),
           (long long)c.step, (long long)c.total, c.after);
    CHECK(c.cancelled, "%s: the callback never cancelled", what);
    CHECK(st == TM_ERR_CANCELLED, "%s: training returned %s: %s", what, tm_status_name(st),
          tm_last_error());
    CHECK(c.after == 0, "%s: %d progress reports after cancelling", what, c.after);
    CHECK(c.total > c.step, "%s: cancelled at the last step: nothing to tell", what);
    CHECK(report != NULL && strstr(report, "\"cancelled\":true") != NULL,
          "%s: the report does not say cancelled: %s", what, report ? report : "(none)");
    tm_string_free(report);
    check_usable(m, what, &d);
    if (retrain && before != NULL) {
        /* The cancelled retraining replaced the old weights (the header: the model keeps
         * the weights learned so far, of the new training). */
        float *after = probabilities(m);
        CHECK(memcmp(before, after, sizeof *before * N_PROBE * S.labels) != 0,
              "%s: the model still predicts like before the cancelled retraining", what);
        free(after);
    }
    free(before);
    tm_model_free(m);
    tu_dataset_free(&d);
    tu_dataset_free(&other);
}

/* tm_model_train_files reports its reading (TM_PROGRESS_LOADING, before any step, the
 * bytes of both passes); a cancel on such a report returns TM_ERR_CANCELLED at once,
 * trains nothing and leaves the model as it was (untrained, or its old weights). */
typedef struct reading_log {
    int loading, others, after, cancel_on; /* cancel_on: nth loading report, 0: never */
    int64_t last_read, total;
} reading_log;

static int reading(const tm_progress *p, void *user_data)
{
    reading_log *r = user_data;
    if (r->cancel_on && r->loading >= r->cancel_on) {
        r->after++;
        return 1;
    }
    if (p->struct_size <= offsetof(tm_progress, bytes_total))
        return 0;
    if (p->kind != TM_PROGRESS_LOADING) {
        r->others++;
        return 0;
    }
    CHECK(r->others == 0, "a loading report after %d step or epoch reports", r->others);
    CHECK(p->bytes_read > r->last_read && p->bytes_read <= p->bytes_total && p->epoch == 0 &&
              p->step == 0 && isnan(p->running_loss),
          "loading report: %lld of %lld bytes (last %lld), epoch %d, step %lld",
          (long long)p->bytes_read, (long long)p->bytes_total, (long long)r->last_read, p->epoch,
          (long long)p->step);
    r->last_read = p->bytes_read;
    r->total = p->bytes_total;
    r->loading++;
    return r->cancel_on && r->loading >= r->cancel_on;
}

static void reading_cancel(void)
{
    tu_dataset d = tu_dataset_make(240, 53);
    char *path = tu_path(S.dir, "reading.csv"), *report = NULL;
    tm_model *m = NULL;
    reading_log r;
    struct stat st_file;
    float *before, *after;
    int trained = -1, retrain;
    tm_status st;

    CHECK(tu_dataset_write(&d, path, 1) == 0 && stat(path, &st_file) == 0, "write %s", path);
    MUST(tm_model_new(tu_tiny_config(NULL), &m));
    memset(&r, 0, sizeof r);
    MUST(tm_model_train_files(m, path, NULL, reading, &r, NULL));
    CHECK(r.loading == 2 && r.last_read == r.total && r.total == 2 * (int64_t)st_file.st_size &&
              r.others > 0,
          "an uncancelled reading: %d loading reports, %lld of %lld bytes (file %lld), %d others",
          r.loading, (long long)r.last_read, (long long)r.total, (long long)st_file.st_size,
          r.others);
    before = probabilities(m);
    for (retrain = 0; retrain < 2; retrain++) {
        tm_model *target = m;
        if (!retrain)
            MUST(tm_model_new(tu_tiny_config(NULL), &target));
        memset(&r, 0, sizeof r);
        r.cancel_on = 1;
        st = tm_model_train_files(target, path, NULL, reading, &r, &report);
        printf("  %-44s %s, %d reports after\n",
               retrain ? "cancel a retraining while reading" : "cancel while reading",
               tm_status_name(st), r.after);
        CHECK(st == TM_ERR_CANCELLED && strstr(tm_last_error(), "while the training file was read"),
              "cancel while reading returned %s: %s", tm_status_name(st), tm_last_error());
        CHECK(r.after == 0, "%d progress reports after cancelling the reading", r.after);
        CHECK(report != NULL && strstr(report, "\"cancelled_while_reading\":true") != NULL,
              "the report does not say cancelled while reading: %s", report ? report : "(none)");
        tm_string_free(report);
        report = NULL;
        MUST(tm_model_is_trained(target, &trained));
        CHECK(trained == retrain, "after a cancelled reading is_trained = %d", trained);
        if (!retrain)
            tm_model_free(target);
    }
    after = probabilities(m);
    CHECK(memcmp(before, after, sizeof *before * N_PROBE * S.labels) == 0,
          "a cancelled reading changed the trained model's predictions");
    free(before);
    free(after);
    tm_model_free(m);
    unlink(path);
    free(path);
    tu_dataset_free(&d);
}

/* ------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    int i;
    double t0;
    S.quick = tu_quick(argc, argv);
    S.kills = S.quick ? 20 : 150;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--kills") == 0)
            S.kills = atoi(argv[i + 1]);

    setup();
    kill_during_save();
    failed_saves();
    t0 = tu_now();
    printf("cancellation:\n");
    cancel_case("cancel on the first step report", TM_PROGRESS_STEP, 1, 0);
    cancel_case("cancel on the third step report", TM_PROGRESS_STEP, 3, 0);
    cancel_case("cancel on the first epoch report", TM_PROGRESS_EPOCH, 1, 0);
    cancel_case("cancel a retraining on its first step report", TM_PROGRESS_STEP, 1, 1);
    reading_cancel();
    printf("  %.2f s\n", tu_now() - t0);
    {
        int foreign = 0;
        CHECK(sweep_temp_files(0, &foreign) == 0 && foreign == 0, "files left behind");
    }

    tm_model_free(S.a);
    tm_model_free(S.b);
    free(S.ref_a);
    free(S.ref_b);
    free(S.a_bytes);
    free(S.f);
    free(S.b_path);
    tu_tempdir_remove(S.dir);
    return tu_finish("test_crash_safety");
}
