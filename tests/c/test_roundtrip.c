/*
 * test_roundtrip.c - for a range of configs: train, save, load, and check the loaded
 * model is the same model (config, labels, vocabulary size, probabilities bit for bit);
 * the vocabulary respects tokenizer.max_size; and training from a CSV file, a fastText
 * file and memory (same rows, same order) gives the same model.
 *
 *   test_roundtrip [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *dir;
static tu_dataset data, test;

/* Probabilities of the test texts (caller frees). */
static float *probs_of(const tm_model *m)
{
    float *p = malloc(sizeof *p * test.count * TU_NUM_CLASSES);
    MUST(tm_model_predict_proba(m, (const char *const *)test.texts, test.count, p));
    return p;
}

static int same_model(const char *what, const tm_model *a, const tm_model *b)
{
    char *ca = NULL, *cb = NULL;
    size_t la, lb, va, vb, i;
    float *pa, *pb;
    int same = 1;

    MUST(tm_model_config_json(a, &ca));
    MUST(tm_model_config_json(b, &cb));
    if (strcmp(ca, cb) != 0) {
        fprintf(stderr, "%s: configs differ:\n  %s\n  %s\n", what, ca, cb);
        same = 0;
    }
    MUST(tm_model_num_labels(a, &la));
    MUST(tm_model_num_labels(b, &lb));
    MUST(tm_model_vocab_size(a, &va));
    MUST(tm_model_vocab_size(b, &vb));
    if (la != lb || va != vb) {
        fprintf(stderr, "%s: %zu vs %zu labels, vocabulary %zu vs %zu\n", what, la, lb, va, vb);
        same = 0;
    }
    for (i = 0; same && i < la; i++) {
        const char *na, *nb;
        MUST(tm_model_label(a, i, &na));
        MUST(tm_model_label(b, i, &nb));
        if (strcmp(na, nb) != 0) {
            fprintf(stderr, "%s: label %zu is %s vs %s\n", what, i, na, nb);
            same = 0;
        }
    }
    if (same) {
        pa = probs_of(a);
        pb = probs_of(b);
        if (memcmp(pa, pb, sizeof *pa * test.count * la) != 0) {
            fprintf(stderr, "%s: probabilities differ\n", what);
            same = 0;
        }
        free(pa);
        free(pb);
    }
    tm_string_free(ca);
    tm_string_free(cb);
    return same;
}

static void roundtrip(const char *name, const char *config, size_t max_size)
{
    tm_model *m = NULL, *loaded = NULL;
    char *path = tu_path(dir, "rt.tmmodel"), *metrics = NULL;
    size_t vocab = 0;
    int trained = 0;
    tm_status st;

    MUST(tm_model_new(config, &m));
    st = tm_model_train(m, (const char *const *)data.texts, data.labels, data.count, NULL, NULL,
                        0, NULL, NULL, NULL);
    CHECK(st == TM_OK, "%s: training failed: %s: %s", name, tm_status_name(st), tm_last_error());
    if (st != TM_OK) {
        tm_model_free(m);
        free(path);
        return;
    }
    MUST(tm_model_vocab_size(m, &vocab));
    CHECK(max_size == 0 || vocab <= max_size, "%s: vocabulary %zu > max_size %zu", name, vocab,
          max_size);
    MUST(tm_model_evaluate(m, (const char *const *)test.texts, test.labels, test.count,
                           &metrics));
    CHECK(strstr(metrics, "\"confusion_matrix\"") != NULL, "%s: metrics without a matrix", name);
    MUST(tm_model_save(m, path));
    MUST(tm_model_load(path, &loaded));
    MUST(tm_model_is_trained(loaded, &trained));
    CHECK(trained == 1, "%s: loaded model is not trained", name);
    CHECK(same_model(name, m, loaded), "%s: the loaded model differs", name);
    printf("  %-36s vocabulary %zu\n", name, vocab);
    tm_string_free(metrics);
    tm_model_free(m);
    tm_model_free(loaded);
    free(path);
}

/* CSV, fastText and memory: the same rows give the same model. */
static void readers_agree(void)
{
    const char *config = tu_tiny_config(NULL);
    char *csv = tu_path(dir, "train.csv"), *ft = tu_path(dir, "train.txt");
    tm_model *mem = NULL, *from_csv = NULL, *from_ft = NULL;

    CHECK(tu_dataset_write(&data, csv, 1) == 0, "cannot write %s", csv);
    CHECK(tu_dataset_write(&data, ft, 0) == 0, "cannot write %s", ft);
    MUST(tm_model_new(config, &mem));
    MUST(tm_model_new(config, &from_csv));
    MUST(tm_model_new(config, &from_ft));
    MUST(tm_model_train(mem, (const char *const *)data.texts, data.labels, data.count, NULL, NULL,
                        0, NULL, NULL, NULL));
    MUST(tm_model_train_files(from_csv, csv, NULL, NULL, NULL, NULL));
    MUST(tm_model_train_files(from_ft, ft, NULL, NULL, NULL, NULL));
    CHECK(same_model("csv vs memory", from_csv, mem), "CSV and in-memory training differ");
    CHECK(same_model("fasttext vs memory", from_ft, mem), "fastText and in-memory training differ");
    printf("  CSV, fastText and memory give the same model\n");
    tm_model_free(mem);
    tm_model_free(from_csv);
    tm_model_free(from_ft);
    free(csv);
    free(ft);
}

int main(int argc, char **argv)
{
    int quick = tu_quick(argc, argv);
    static const struct {
        const char *name, *config;
        size_t max_size;
    } configs[] = {
        {"tiny defaults", NULL, 0},
        {"two layers",
         "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"embedding_dim\": 8, \"hidden_dim\": 12,"
         " \"layers\": 2}, \"training\": {\"epochs\": 2, \"threads\": 1}}", 0},
        {"sgd with momentum",
         "{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"embedding_dim\": 8, \"hidden_dim\": 8},"
         " \"training\": {\"optimizer\": \"sgd\", \"learning_rate\": 0.1, \"momentum\": 0.9,"
         " \"epochs\": 2, \"threads\": 1}}", 0},
        {"max_size 3, max_length 1, batch 1",
         "{\"tokenizer\": {\"min_freq\": 1, \"max_size\": 3, \"max_length\": 1,"
         " \"lowercase\": false, \"replace_urls\": false}, \"model\": {\"embedding_dim\": 4,"
         " \"hidden_dim\": 4}, \"training\": {\"batch_size\": 1, \"epochs\": 1, \"threads\": 1}}",
         3},
        {"max_size 10, two threads",
         "{\"tokenizer\": {\"min_freq\": 1, \"max_size\": 10}, \"model\": {\"embedding_dim\": 8,"
         " \"hidden_dim\": 8}, \"training\": {\"epochs\": 1, \"threads\": 2,"
         " \"batch_size\": 1000}}", 10},
        {"hidden_dim 1, embedding_dim 1",
         "{\"model\": {\"embedding_dim\": 1, \"hidden_dim\": 1}, \"training\": {\"epochs\": 1,"
         " \"threads\": 1}}", 0},
    };
    size_t i;

    dir = tu_tempdir_make();
    data = tu_dataset_make(quick ? 60 : 300, 41);
    test = tu_dataset_make(quick ? 10 : 50, 42);
    printf("configs:\n");
    for (i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        const char *config = configs[i].config ? configs[i].config : tu_tiny_config(NULL);
        if (quick && i == 4)
            continue; /* threads 2 under valgrind is slow and adds nothing */
        roundtrip(configs[i].name, config, configs[i].max_size);
    }
    printf("readers:\n");
    readers_agree();
    tu_dataset_free(&data);
    tu_dataset_free(&test);
    tu_tempdir_remove(dir);
    return tu_finish("test_roundtrip");
}
