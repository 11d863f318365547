/*
 * test_memory.c - models as bytes: tm_model_save_to_memory gives exactly the bytes
 * tm_model_save writes; tm_model_load_from_memory of them (or of a file's bytes) is the
 * same model, probabilities and values bit for bit; every truncation and a flipped byte
 * at positions across the buffer are TM_ERR_MODEL_FORMAT with a message, never a crash;
 * NULL arguments and an untrained model are refused with outputs untouched.
 *
 *   test_memory [--quick]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char MAGIC[] = "{\"__metadata__\":{\"format\":\"libtextmodel\",";

static int same_floats(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* The model saved to memory and to a file: the same bytes, and the magic at byte 8. */
static void check_memory_equals_file(const tm_model *m, const char *dir, const char *name)
{
    uint8_t *bytes = NULL;
    size_t size = 0, file_size = 0;
    char *path = tu_path(dir, name);
    unsigned char *file;

    MUST(tm_model_save_to_memory(m, &bytes, &size));
    CHECK(bytes != NULL && size > 8 + sizeof MAGIC, "%s: %zu bytes", name, size);
    CHECK(memcmp(bytes + 8, MAGIC, sizeof MAGIC - 1) == 0, "%s: no magic at byte 8", name);
    MUST(tm_model_save(m, path));
    file = tu_read_file(path, &file_size);
    CHECK(file != NULL && file_size == size && memcmp(file, bytes, size) == 0,
          "%s: the memory bytes (%zu) differ from the file (%zu)", name, size, file_size);
    free(file);
    free(path);
    tm_bytes_free(bytes);
}

static void check_classifier_roundtrip(const tu_dataset *test, const char *dir)
{
    tu_dataset data = tu_dataset_make(120, 5);
    tm_model *m = tu_train_tiny(&data, NULL), *loaded = NULL, *from_file = NULL;
    uint8_t *bytes = NULL;
    size_t size = 0, n = test->count * TU_NUM_CLASSES, file_size = 0;
    float *pa = malloc(sizeof *pa * n), *pb = malloc(sizeof *pb * n);
    char *ca = NULL, *cb = NULL, *path = tu_path(dir, "c.tmmodel");
    unsigned char *file;

    check_memory_equals_file(m, dir, "classifier.tmmodel");
    MUST(tm_model_save_to_memory(m, &bytes, &size));
    MUST(tm_model_load_from_memory(bytes, size, &loaded));
    tm_bytes_free(bytes); /* the loaded model keeps its own copy */
    MUST(tm_model_predict_proba(m, (const char *const *)test->texts, test->count, pa));
    MUST(tm_model_predict_proba(loaded, (const char *const *)test->texts, test->count, pb));
    CHECK(same_floats(pa, pb, n), "probabilities differ after a memory round trip");
    MUST(tm_model_config_json(m, &ca));
    MUST(tm_model_config_json(loaded, &cb));
    CHECK(strcmp(ca, cb) == 0, "configs differ after a memory round trip");

    /* The bytes of a file tm_model_save wrote load from memory too. */
    MUST(tm_model_save(m, path));
    file = tu_read_file(path, &file_size);
    MUST(tm_model_load_from_memory(file, file_size, &from_file));
    MUST(tm_model_predict_proba(from_file, (const char *const *)test->texts, test->count, pb));
    CHECK(same_floats(pa, pb, n), "probabilities differ after loading a file's bytes");

    free(file);
    free(path);
    tm_string_free(ca);
    tm_string_free(cb);
    free(pa);
    free(pb);
    tm_model_free(from_file);
    tm_model_free(loaded);
    tm_model_free(m);
    tu_dataset_free(&data);
}

static void check_regression_roundtrip(const tu_dataset *test, const char *dir)
{
    /* Targets: the class index plus a little, so the scaling is not the identity. */
    tu_dataset data = tu_dataset_make(90, 9);
    const char **targets = malloc(sizeof *targets * data.count);
    tm_model *m = NULL, *loaded = NULL;
    uint8_t *bytes = NULL;
    size_t size = 0, i;
    float *va = malloc(sizeof *va * test->count), *vb = malloc(sizeof *vb * test->count);
    char config[1200];

    for (i = 0; i < data.count; i++)
        targets[i] = strcmp(data.labels[i], tu_class_names[0]) == 0   ? "10.5"
                     : strcmp(data.labels[i], tu_class_names[1]) == 0 ? "20"
                                                                      : "31.25";
    snprintf(config, sizeof config, "%s", tu_tiny_config(NULL));
    /* Splice the task into the tiny config's model section. */
    {
        char *model = strstr(config, "\"model\": {");
        char rest[1200];
        model += strlen("\"model\": {");
        snprintf(rest, sizeof rest, "%s", model);
        snprintf(model, sizeof config - (size_t)(model - config), "\"task\": \"regression\", %s", rest);
    }
    MUST(tm_model_new(config, &m));
    MUST(tm_model_train(m, (const char *const *)data.texts, targets, data.count, NULL, NULL, 0,
                        NULL, NULL, NULL));
    check_memory_equals_file(m, dir, "regression.tmmodel");
    MUST(tm_model_save_to_memory(m, &bytes, &size));
    MUST(tm_model_load_from_memory(bytes, size, &loaded));
    MUST(tm_model_predict_values(m, (const char *const *)test->texts, test->count, va));
    MUST(tm_model_predict_values(loaded, (const char *const *)test->texts, test->count, vb));
    CHECK(same_floats(va, vb, test->count), "regression values differ after a memory round trip");

    tm_bytes_free(bytes);
    free(va);
    free(vb);
    free(targets);
    tm_model_free(loaded);
    tm_model_free(m);
    tu_dataset_free(&data);
}

/* Loading `size` bytes must fail with TM_ERR_MODEL_FORMAT and a message, leaving the
 * output alone. */
static void expect_format_error(const uint8_t *bytes, size_t size, const char *what, size_t at)
{
    tm_model *sentinel = (tm_model *)&sentinel, *out = sentinel;
    tm_status st = tm_model_load_from_memory(bytes, size, &out);
    const char *message = tm_last_error();
    CHECK(st == TM_ERR_MODEL_FORMAT, "%s at %zu: %s (%s)", what, at, tm_status_name(st),
          message ? message : "");
    CHECK(message != NULL && strstr(message, "tm_model_load_from_memory") != NULL,
          "%s at %zu: the message does not name the buffer: %s", what, at, message ? message : "");
    CHECK(out == sentinel, "%s at %zu: out_model changed", what, at);
    if (st == TM_OK && out != sentinel)
        tm_model_free(out);
}

static void check_damaged_bytes(int quick)
{
    tu_dataset data = tu_dataset_make(60, 3);
    tm_model *m = tu_train_tiny(&data, NULL);
    uint8_t *bytes = NULL, *copy;
    size_t size = 0, len, pos, stride;
    int flips = 0, cuts = 0;

    MUST(tm_model_save_to_memory(m, &bytes, &size));
    copy = malloc(size);

    /* Every prefix in the first 256 bytes (length, magic, header start), then a stride
     * through the rest: each is a truncated model. */
    stride = quick ? size / 40 + 1 : size / 400 + 1;
    for (len = 0; len < size; len += (len < 256 ? 1 : stride)) {
        memcpy(copy, bytes, len);
        expect_format_error(copy, len, "truncated", len);
        cuts++;
    }
    expect_format_error(bytes, size - 1, "truncated", size - 1);

    /* One byte flipped, at positions across the header and the weights. */
    stride = quick ? size / 60 + 1 : size / 600 + 1;
    for (pos = 0; pos < size; pos += stride) {
        memcpy(copy, bytes, size);
        copy[pos] ^= 0xFF;
        expect_format_error(copy, size, "flipped byte", pos);
        flips++;
    }
    /* A byte appended: the weights' length no longer matches. */
    {
        uint8_t *longer = malloc(size + 1);
        memcpy(longer, bytes, size);
        longer[size] = 0;
        expect_format_error(longer, size + 1, "one byte appended", size);
        free(longer);
    }
    printf("damaged bytes: %d truncations, %d flipped bytes of a %zu-byte model refused\n", cuts,
           flips, size);

    free(copy);
    tm_bytes_free(bytes);
    tm_model_free(m);
    tu_dataset_free(&data);
}

static void check_bad_arguments(void)
{
    tm_model *untrained = NULL, *sentinel = (tm_model *)&sentinel, *out = sentinel;
    uint8_t marker = 7, *bytes = &marker;
    size_t size = 12345;
    tm_status st;

    MUST(tm_model_new(NULL, &untrained));
    st = tm_model_save_to_memory(NULL, &bytes, &size);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "save model NULL: %s", tm_status_name(st));
    st = tm_model_save_to_memory(untrained, NULL, &size);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "save out_bytes NULL: %s", tm_status_name(st));
    st = tm_model_save_to_memory(untrained, &bytes, NULL);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "save out_size NULL: %s", tm_status_name(st));
    st = tm_model_save_to_memory(untrained, &bytes, &size);
    CHECK(st == TM_ERR_STATE, "save untrained: %s", tm_status_name(st));
    CHECK(strstr(tm_last_error(), "not trained") != NULL, "untrained message: %s", tm_last_error());
    CHECK(bytes == &marker && size == 12345, "outputs changed on error");

    st = tm_model_load_from_memory(NULL, 10, &out);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "load bytes NULL: %s", tm_status_name(st));
    st = tm_model_load_from_memory(NULL, 0, &out);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "load bytes NULL, size 0: %s", tm_status_name(st));
    st = tm_model_load_from_memory(&marker, 1, NULL);
    CHECK(st == TM_ERR_INVALID_ARGUMENT, "load out_model NULL: %s", tm_status_name(st));
    st = tm_model_load_from_memory(&marker, 0, &out);
    CHECK(st == TM_ERR_MODEL_FORMAT, "load 0 bytes: %s", tm_status_name(st));
    st = tm_model_load_from_memory(&marker, (size_t)-1, &out);
    CHECK(st == TM_ERR_RESOURCE, "load SIZE_MAX bytes: %s", tm_status_name(st));
    CHECK(out == sentinel, "out_model changed on error");

    tm_bytes_free(NULL);
    tm_model_free(untrained);
}

int main(int argc, char **argv)
{
    int quick = tu_quick(argc, argv);
    char *dir = tu_tempdir_make();
    tu_dataset test = tu_dataset_make(40, 77);

    check_bad_arguments();
    check_classifier_roundtrip(&test, dir);
    check_regression_roundtrip(&test, dir);
    check_damaged_bytes(quick);

    tu_dataset_free(&test);
    tu_tempdir_remove(dir);
    return tu_finish("test_memory");
}
