/*
 * classify.c - end-to-end example of the libtextmodel C API.
 *
 *   classify [--set SECTION.KEY=VALUE]... CONFIG.json TRAIN VALID TEST MODEL_OUT [TEXT...]
 *
 * 1. checks that the header this program was compiled with matches the library;
 * 2. reads CONFIG.json with json-c, applies the --set overrides and hands the
 *    resulting JSON to tm_model_new;
 * 3. trains on TRAIN (validating on VALID after each epoch; pass "-" for no
 *    validation), printing one line per epoch and an occasional step line;
 * 4. evaluates on TEST and prints accuracy, macro-F1, per-class precision / recall /
 *    F1 / support and the confusion matrix, all read from the metrics JSON with json-c;
 * 5. saves the model to MODEL_OUT, loads it back and checks that the reloaded model
 *    predicts exactly what the original does;
 * 6. batch-predicts the TEXT arguments (or a few built-in samples) and prints the two
 *    most probable labels of each.
 *
 * Every libtextmodel call is checked; on failure the program prints the status name
 * and tm_last_error() and exits with status 1. Everything allocated is freed.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "textmodel.h"

/* ------------------------------------------------------------ error helpers */

/* Prints a failed call's status and the library's message. */
static void report_failure(const char *what, tm_status status)
{
    fflush(stdout);
    fprintf(stderr, "classify: %s failed: %s: %s\n", what, tm_status_name(status),
            tm_last_error());
}

/* Runs a libtextmodel call; on failure reports it and jumps to `done`. */
#define TM_TRY(call)                                                                   \
    do {                                                                               \
        tm_status tm_try_status_ = (call);                                             \
        if (tm_try_status_ != TM_OK) {                                                 \
            report_failure(#call, tm_try_status_);                                     \
            goto done;                                                                 \
        }                                                                              \
    } while (0)

/* ---------------------------------------------------------------- versions */

/* The header and the library must agree: same major version, and before 1.0 the same
 * minor version too; a library with a different patch level only earns a warning. */
static int check_version(void)
{
    const char *lib = tm_version();
    int lib_number = tm_version_number();
    int header_number = TEXTMODEL_VERSION_MAJOR * 10000 + TEXTMODEL_VERSION_MINOR * 100 +
                        TEXTMODEL_VERSION_PATCH;
    int lib_major = lib_number / 10000, lib_minor = lib_number / 100 % 100;
    char lib_number_text[32];

    snprintf(lib_number_text, sizeof lib_number_text, "%d.%d.%d", lib_major, lib_minor,
             lib_number % 100);
    if (strcmp(lib, lib_number_text) != 0) {
        fprintf(stderr, "classify: library is inconsistent: tm_version() = \"%s\" but "
                        "tm_version_number() = %d\n", lib, lib_number);
        return -1;
    }
    if (lib_major != TEXTMODEL_VERSION_MAJOR ||
        (TEXTMODEL_VERSION_MAJOR == 0 && lib_minor != TEXTMODEL_VERSION_MINOR) ||
        lib_minor < TEXTMODEL_VERSION_MINOR) {
        fprintf(stderr, "classify: compiled against textmodel.h %s but the loaded library "
                        "is %s\n", TEXTMODEL_VERSION_STRING, lib);
        return -1;
    }
    if (lib_number != header_number)
        fprintf(stderr, "classify: warning: header %s, library %s\n",
                TEXTMODEL_VERSION_STRING, lib);
    printf("libtextmodel %s (header %s)\n", lib, TEXTMODEL_VERSION_STRING);
    return 0;
}

/* ------------------------------------------------------------------ config */

/* Sets `path` ("model.hidden_dim") in `root` to `value_text`, parsed as JSON when it is
 * valid JSON (16, 0.5, true, "adam") and taken as a plain string otherwise (adam).
 * Creates intermediate objects. Returns 0 on success. */
static int config_set(json_object *root, const char *path, const char *value_text)
{
    char *copy = strdup(path);
    char *key = copy, *dot;
    json_object *object = root;
    json_object *value;
    int rc = -1;

    if (copy == NULL)
        return -1;
    while ((dot = strchr(key, '.')) != NULL) {
        json_object *child;
        *dot = '\0';
        if (*key == '\0')
            goto bad_path;
        if (!json_object_object_get_ex(object, key, &child)) {
            child = json_object_new_object();
            if (child == NULL || json_object_object_add(object, key, child) != 0)
                goto done;
        } else if (!json_object_is_type(child, json_type_object)) {
            fprintf(stderr, "classify: --set %s: \"%s\" is not an object in the config\n",
                    path, key);
            goto done;
        }
        object = child;
        key = dot + 1;
    }
    if (*key == '\0')
        goto bad_path;
    value = json_tokener_parse(value_text);
    if (value == NULL)
        value = json_object_new_string(value_text);
    if (value == NULL || json_object_object_add(object, key, value) != 0)
        goto done;
    rc = 0;
    goto done;
bad_path:
    fprintf(stderr, "classify: --set %s: empty key in the path\n", path);
done:
    free(copy);
    return rc;
}

/* Reads CONFIG.json and applies the overrides ("KEY=VALUE" strings). Returns the JSON
 * text to give tm_model_new (caller frees it) or NULL after printing why. */
static char *build_config(const char *config_path, char **overrides, int n_overrides)
{
    json_object *root = json_object_from_file(config_path);
    char *text = NULL;
    int i;

    if (root == NULL) {
        const char *why = json_util_get_last_err();
        int len = why ? (int)strcspn(why, "\n") : 0;
        fprintf(stderr, "classify: cannot read %s: %.*s\n", config_path, len, why ? why : "");
        return NULL;
    }
    if (!json_object_is_type(root, json_type_object)) {
        fprintf(stderr, "classify: %s must hold a JSON object\n", config_path);
        goto done;
    }
    for (i = 0; i < n_overrides; i++) {
        char *eq = strchr(overrides[i], '=');
        int failed;
        if (eq == NULL) {
            fprintf(stderr, "classify: --set needs KEY=VALUE (got \"%s\")\n", overrides[i]);
            goto done;
        }
        *eq = '\0';
        failed = config_set(root, overrides[i], eq + 1);
        *eq = '=';
        if (failed)
            goto done;
    }
    text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
done:
    json_object_put(root);
    return text;
}

/* -------------------------------------------------------------- training */

/* State the progress callback keeps between reports. */
typedef struct progress_state {
    double last_step_print; /* elapsed_seconds of the last step line, or -1 */
} progress_state;

static void print_value(const char *name, double value, const char *format)
{
    printf("  %s ", name);
    if (isnan(value))
        printf("n/a");
    else
        printf(format, value);
}

static void print_duration(double seconds)
{
    long s;
    if (isnan(seconds) || seconds < 0) {
        printf("?");
        return;
    }
    s = (long)(seconds + 0.5);
    if (s >= 3600)
        printf("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        printf("%ld:%02ld", s / 60, s % 60);
}

/* One line per epoch; step lines at most every two seconds. Never cancels. */
static int on_progress(const tm_progress *p, void *user_data)
{
    progress_state *state = user_data;

    if (p->kind == TM_PROGRESS_EPOCH) {
        printf("epoch %d/%d", p->epoch, p->epochs);
        print_value("train_loss", p->train_loss, "%.4f");
        print_value("train_acc", p->train_accuracy, "%.4f");
        print_value("valid_loss", p->valid_loss, "%.4f");
        print_value("valid_acc", p->valid_accuracy, "%.4f");
        printf("  [");
        print_duration(p->elapsed_seconds);
        printf("]\n");
    } else if (state->last_step_print < 0 || p->elapsed_seconds - state->last_step_print >= 2.0) {
        state->last_step_print = p->elapsed_seconds;
        printf("  step %lld/%lld (epoch %d)", (long long)p->step, (long long)p->total_steps,
               p->epoch);
        print_value("loss", p->running_loss, "%.4f");
        print_value("ex/s", p->examples_per_sec, "%.0f");
        printf("  ETA ");
        print_duration(p->eta_seconds);
        printf("\n");
    }
    fflush(stdout);
    return 0;
}

/* Prints the scalar members of the training report (examples used and skipped,
 * vocabulary size, ...); nested values (per-epoch lists, labels) are summarised. */
static int print_training_report(const char *report_json)
{
    json_object *report = json_tokener_parse(report_json);
    if (report == NULL || !json_object_is_type(report, json_type_object)) {
        fprintf(stderr, "classify: the training report is not a JSON object: %s\n",
                report_json);
        json_object_put(report);
        return -1;
    }
    printf("training report:");
    {
        json_object_object_foreach(report, key, value)
        {
            switch (json_object_get_type(value)) {
            case json_type_array:
                printf(" %s=[%zu]", key, json_object_array_length(value));
                break;
            case json_type_object:
                printf(" %s={...}", key);
                break;
            default:
                printf(" %s=%s", key, json_object_to_json_string(value));
                break;
            }
        }
    }
    printf("\n");
    json_object_put(report);
    return 0;
}

/* ------------------------------------------------------------- evaluation */

/* Numeric member `key` of `object`, or NaN (with a message) if it is missing. */
static double get_number(json_object *object, const char *key, int *ok)
{
    json_object *value;
    if (!json_object_object_get_ex(object, key, &value) ||
        !(json_object_is_type(value, json_type_double) ||
          json_object_is_type(value, json_type_int))) {
        fprintf(stderr, "classify: metrics JSON has no number \"%s\"\n", key);
        *ok = 0;
        return NAN;
    }
    return json_object_get_double(value);
}

/* Prints accuracy, macro-F1, the per-class table and the confusion matrix, and checks
 * that they agree with each other (matrix total = examples, row sums = supports,
 * diagonal / total = accuracy). Returns 0, or -1 if the metrics JSON does not have the
 * documented shape or is inconsistent. */
static int print_metrics(const char *metrics_json)
{
    json_object *metrics = json_tokener_parse(metrics_json);
    json_object *labels, *per_class, *matrix;
    size_t n, i, j;
    int ok = 1;
    double examples, accuracy, total = 0, diagonal = 0;

    if (metrics == NULL || !json_object_is_type(metrics, json_type_object) ||
        !json_object_object_get_ex(metrics, "labels", &labels) ||
        !json_object_is_type(labels, json_type_array) ||
        !json_object_object_get_ex(metrics, "per_class", &per_class) ||
        !json_object_is_type(per_class, json_type_object) ||
        !json_object_object_get_ex(metrics, "confusion_matrix", &matrix) ||
        !json_object_is_type(matrix, json_type_array)) {
        fprintf(stderr, "classify: metrics JSON lacks labels/per_class/confusion_matrix: %s\n",
                metrics_json);
        json_object_put(metrics);
        return -1;
    }
    n = json_object_array_length(labels);

    examples = get_number(metrics, "examples", &ok);
    accuracy = get_number(metrics, "accuracy", &ok);
    printf("test: %.0f examples (%.0f skipped)  accuracy %.4f  macro-F1 %.4f  "
           "weighted-F1 %.4f  loss %.4f\n",
           examples, get_number(metrics, "skipped", &ok), accuracy,
           get_number(metrics, "macro_f1", &ok), get_number(metrics, "weighted_f1", &ok),
           get_number(metrics, "loss", &ok));

    printf("%-16s %9s %9s %9s %9s\n", "label", "precision", "recall", "f1", "support");
    for (i = 0; i < n; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(labels, i));
        json_object *row;
        if (name == NULL || !json_object_object_get_ex(per_class, name, &row)) {
            fprintf(stderr, "classify: metrics JSON has no per_class entry for label %zu\n", i);
            ok = 0;
            continue;
        }
        printf("%-16.16s %9.4f %9.4f %9.4f %9.0f\n", name, get_number(row, "precision", &ok),
               get_number(row, "recall", &ok), get_number(row, "f1", &ok),
               get_number(row, "support", &ok));
    }

    printf("confusion matrix (rows = true, columns = predicted):\n%-16s", "");
    for (j = 0; j < n; j++)
        printf(" %9.9s", json_object_get_string(json_object_array_get_idx(labels, j)));
    printf("\n");
    if (json_object_array_length(matrix) != n) {
        fprintf(stderr, "classify: confusion matrix has %zu rows for %zu labels\n",
                json_object_array_length(matrix), n);
        ok = 0;
    }
    for (i = 0; i < n && i < json_object_array_length(matrix); i++) {
        json_object *row = json_object_array_get_idx(matrix, i);
        printf("%-16.16s", json_object_get_string(json_object_array_get_idx(labels, i)));
        if (!json_object_is_type(row, json_type_array) || json_object_array_length(row) != n) {
            fprintf(stderr, "classify: confusion matrix row %zu is not %zu numbers\n", i, n);
            ok = 0;
            printf("\n");
            continue;
        }
        {
            double row_sum = 0, support = NAN;
            json_object *stats;
            for (j = 0; j < n; j++) {
                int64_t count = json_object_get_int64(json_object_array_get_idx(row, j));
                printf(" %9" PRId64, count);
                row_sum += (double)count;
                if (i == j)
                    diagonal += (double)count;
            }
            printf("\n");
            total += row_sum;
            if (json_object_object_get_ex(
                    per_class, json_object_get_string(json_object_array_get_idx(labels, i)),
                    &stats))
                support = get_number(stats, "support", &ok);
            if (row_sum != support) {
                fprintf(stderr, "classify: confusion matrix row %zu sums to %.0f but the "
                                "support is %.0f\n", i, row_sum, support);
                ok = 0;
            }
        }
    }
    if (ok && (total != examples || fabs(diagonal / total - accuracy) > 1e-6)) {
        fprintf(stderr, "classify: inconsistent metrics: matrix total %.0f (examples %.0f), "
                        "diagonal / total %.6f (accuracy %.6f)\n", total, examples,
                diagonal / total, accuracy);
        ok = 0;
    }
    json_object_put(metrics);
    return ok ? 0 : -1;
}

/* -------------------------------------------------------------- prediction */

static const char *const sample_texts[] = {
    "@united thank you, the crew was wonderful and we landed early!",
    "@AmericanAir my bag is lost AGAIN and nobody answers the phone. Worst airline ever",
    "@JetBlue what time does the first flight to Boston leave tomorrow?",
    "@SouthwestAir vol annulé 😡 encore une fois",
    "",
};

/* 1 if models a and b have the same n label names in the same order. */
static int same_labels(const tm_model *a, const tm_model *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const char *la, *lb;
        tm_status status = tm_model_label(a, i, &la);
        if (status == TM_OK)
            status = tm_model_label(b, i, &lb);
        if (status != TM_OK) {
            report_failure("tm_model_label", status);
            return 0;
        }
        if (strcmp(la, lb) != 0) {
            fprintf(stderr, "classify: label %zu is \"%s\" before saving, \"%s\" after\n", i,
                    la, lb);
            return 0;
        }
    }
    return 1;
}

/* Prints the probability of a label as "name 0.812". */
static void print_label(const tm_model *model, int32_t index, float prob)
{
    const char *name = "?";
    if (tm_model_label(model, (size_t)index, &name) != TM_OK)
        name = "?";
    printf("%s %.3f", name, prob);
}

/* ------------------------------------------------------------------- main */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: classify [--set SECTION.KEY=VALUE]... CONFIG.json TRAIN VALID TEST "
            "MODEL_OUT [TEXT...]\n"
            "  VALID may be \"-\" for no validation. VALUE is JSON (16, 0.5, true, \"x\") or a\n"
            "  bare string. With no TEXT, a few built-in sample texts are predicted.\n");
}

int main(int argc, char **argv)
{
    char **overrides = NULL;
    int n_overrides = 0, argi = 1, exit_code = 1;
    char *config = NULL, *resolved = NULL, *resolved2 = NULL, *report = NULL, *metrics = NULL;
    tm_model *model = NULL, *reloaded = NULL;
    const char *const *texts;
    size_t n_texts, n_labels = 0, n_labels2 = 0, vocab = 0, k, i;
    float *probs = NULL, *probs2 = NULL, *top_probs = NULL;
    int32_t *top_labels = NULL;
    progress_state progress = {-1.0};
    const char *config_path, *train_path, *valid_path, *test_path, *model_path;

    overrides = malloc(sizeof *overrides * (size_t)argc);
    if (overrides == NULL)
        return 1;
    while (argi < argc && argv[argi][0] == '-' && argv[argi][1] != '\0') {
        if (strcmp(argv[argi], "--") == 0) {
            argi++;
            break;
        } else if (strcmp(argv[argi], "-h") == 0 || strcmp(argv[argi], "--help") == 0) {
            usage(stdout);
            free(overrides);
            return 0;
        } else if ((strcmp(argv[argi], "--set") == 0 || strcmp(argv[argi], "-s") == 0) &&
                   argi + 1 < argc) {
            overrides[n_overrides++] = argv[argi + 1];
            argi += 2;
        } else {
            usage(stderr);
            free(overrides);
            return 2;
        }
    }
    if (argc - argi < 5) {
        usage(stderr);
        free(overrides);
        return 2;
    }
    config_path = argv[argi];
    train_path = argv[argi + 1];
    valid_path = strcmp(argv[argi + 2], "-") == 0 ? NULL : argv[argi + 2];
    test_path = argv[argi + 3];
    model_path = argv[argi + 4];
    if (argc - argi > 5) {
        texts = (const char *const *)(argv + argi + 5);
        n_texts = (size_t)(argc - argi - 5);
    } else {
        texts = sample_texts;
        n_texts = sizeof sample_texts / sizeof sample_texts[0];
    }
    if (check_version() != 0)
        goto done;

    /* Config: the file, the overrides, then what the library resolved from them. */
    config = build_config(config_path, overrides, n_overrides);
    if (config == NULL)
        goto done;
    printf("config: %s\n", config);
    TM_TRY(tm_model_new(config, &model));
    TM_TRY(tm_model_config_json(model, &resolved));
    printf("resolved config: %s\n", resolved);

    /* Training. */
    TM_TRY(tm_model_train_files(model, train_path, valid_path, on_progress, &progress,
                                &report));
    if (print_training_report(report) != 0)
        goto done;
    TM_TRY(tm_model_num_labels(model, &n_labels));
    TM_TRY(tm_model_vocab_size(model, &vocab));
    printf("trained: %zu labels, vocabulary of %zu\n", n_labels, vocab);

    /* Evaluation. */
    TM_TRY(tm_model_evaluate_file(model, test_path, &metrics));
    if (print_metrics(metrics) != 0)
        goto done;

    /* Save, reload, and compare the two models' predictions. */
    TM_TRY(tm_model_save(model, model_path));
    TM_TRY(tm_model_load(model_path, &reloaded));
    printf("saved to %s and reloaded\n", model_path);
    TM_TRY(tm_model_config_json(reloaded, &resolved2));
    if (strcmp(resolved, resolved2) != 0) {
        fprintf(stderr, "classify: the reloaded model has another config: %s\n", resolved2);
        goto done;
    }
    TM_TRY(tm_model_num_labels(reloaded, &n_labels2));
    if (n_labels2 != n_labels || !same_labels(model, reloaded, n_labels)) {
        fprintf(stderr, "classify: the reloaded model has different labels (%zu vs %zu)\n",
                n_labels2, n_labels);
        goto done;
    }
    probs = malloc(sizeof *probs * n_texts * n_labels);
    probs2 = malloc(sizeof *probs2 * n_texts * n_labels);
    if (probs == NULL || probs2 == NULL) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    TM_TRY(tm_model_predict_proba(model, texts, n_texts, probs));
    TM_TRY(tm_model_predict_proba(reloaded, texts, n_texts, probs2));
    for (i = 0; i < n_texts * n_labels; i++) {
        if (probs[i] != probs2[i]) {
            fprintf(stderr, "classify: the reloaded model predicts differently: text %zu, "
                            "label %zu: %.9g before saving, %.9g after\n",
                    i / n_labels, i % n_labels, probs[i], probs2[i]);
            goto done;
        }
    }
    printf("reloaded model predicts identically on %zu texts\n", n_texts);
    tm_model_free(model);
    model = NULL;

    /* Batch prediction with the reloaded model: top-2 labels of each text. */
    k = n_labels < 2 ? n_labels : 2;
    top_labels = malloc(sizeof *top_labels * n_texts * k);
    top_probs = malloc(sizeof *top_probs * n_texts * k);
    if (top_labels == NULL || top_probs == NULL) {
        fprintf(stderr, "classify: out of memory\n");
        goto done;
    }
    TM_TRY(tm_model_predict(reloaded, texts, n_texts, k, top_labels, top_probs));
    for (i = 0; i < n_texts; i++) {
        size_t j;
        printf("\"%s\" ->", texts[i]);
        for (j = 0; j < k; j++) {
            printf(j == 0 ? " " : ", ");
            print_label(reloaded, top_labels[i * k + j], top_probs[i * k + j]);
        }
        printf("\n");
    }
    exit_code = 0;

done:
    free(top_labels);
    free(top_probs);
    free(probs);
    free(probs2);
    tm_string_free(metrics);
    tm_string_free(report);
    tm_string_free(resolved);
    tm_string_free(resolved2);
    tm_model_free(reloaded);
    tm_model_free(model);
    free(config);
    free(overrides);
    return exit_code;
}
