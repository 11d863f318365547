/*
 * testutil.h - helpers shared by the C tests of libtextmodel: a generated keyword
 * dataset, temporary directories, small file utilities and a failure counter.
 */
#ifndef TM_TESTUTIL_H
#define TM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "textmodel.h"

/* Failures recorded by CHECK; a test exits non-zero if it is not 0 at the end. */
extern int tu_failures;

/* Records a failure with its location when `cond` is false. */
#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond))                                                                   \
            tu_fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)

/* Runs a libtextmodel call that must succeed; on failure prints the status name and
 * tm_last_error() and exits (there is no point going on). */
#define MUST(call) tu_must((call), #call, __FILE__, __LINE__)

void tu_fail(const char *file, int line, const char *format, ...);
void tu_must(tm_status status, const char *call, const char *file, int line);

/* Deterministic pseudo-random numbers (xorshift64*). */
uint64_t tu_rand(uint64_t *state);

/* A labelled keyword dataset: each text is filler words with one or two keywords of
 * its class mixed in, so a small model learns it quickly. Free with tu_dataset_free. */
typedef struct tu_dataset {
    size_t count;
    char **texts;
    const char **labels; /* point to static label names */
} tu_dataset;

#define TU_NUM_CLASSES 3
extern const char *const tu_class_names[TU_NUM_CLASSES]; /* sorted by UTF-8 bytes */

tu_dataset tu_dataset_make(size_t count, uint64_t seed);
void tu_dataset_free(tu_dataset *d);
/* Writes the dataset as CSV (header "label,text") or fastText lines. 0 on success. */
int tu_dataset_write(const tu_dataset *d, const char *path, int csv);

/* Config text of a tiny, fast model (threads 1 unless `extra_training` sets threads);
 * `extra_training` is spliced into the "training"
 * section (e.g. "\"seed\": 3") or NULL. Returns a static buffer. */
const char *tu_tiny_config(const char *extra_training);

/* Trains a fresh tiny model on `d` in memory with threads = 1, epochs 3. */
tm_model *tu_train_tiny(const tu_dataset *d, const char *extra_training);

/* Temporary directory (mkdtemp); tu_tempdir_remove deletes it with its contents. */
char *tu_tempdir_make(void);
void tu_tempdir_remove(char *dir);
/* dir + "/" + name into a malloc'ed string. */
char *tu_path(const char *dir, const char *name);

int tu_write_file(const char *path, const void *data, size_t size);
int tu_write_text(const char *path, const char *text);
/* Reads a whole file; *size receives its length. NULL on failure. Caller frees. */
unsigned char *tu_read_file(const char *path, size_t *size);

/* Monotonic seconds. */
double tu_now(void);

/* 1 if argv has "--quick". */
int tu_quick(int argc, char **argv);

/* Prints "<name>: N failure(s)" or "<name>: all passed" and returns the exit code. */
int tu_finish(const char *name);

#endif
