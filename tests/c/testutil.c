/* testutil.c - see testutil.h. */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int tu_failures = 0;

void tu_fail(const char *file, int line, const char *format, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    tu_failures++;
}

void tu_must(tm_status status, const char *call, const char *file, int line)
{
    if (status == TM_OK)
        return;
    fprintf(stderr, "FATAL %s:%d: %s returned %s: %s\n", file, line, call,
            tm_status_name(status), tm_last_error());
    exit(1);
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

const char *const tu_class_names[TU_NUM_CLASSES] = {"food", "sports", "tech"};

static const char *const keywords[TU_NUM_CLASSES][6] = {
    {"pizza", "pasta", "salad", "bread", "cheese", "soup"},
    {"football", "tennis", "goal", "match", "team", "score"},
    {"laptop", "software", "compiler", "server", "phone", "code"},
};

static const char *const filler[] = {
    "the", "a", "today", "really", "my", "friend", "said", "that", "this", "was",
    "very", "and", "then", "we", "had", "some", "about", "new", "great", "!",
};

tu_dataset tu_dataset_make(size_t count, uint64_t seed)
{
    tu_dataset d;
    size_t i;
    uint64_t rng = seed * 2654435761u + 1;

    d.count = count;
    d.texts = calloc(count, sizeof *d.texts);
    d.labels = calloc(count, sizeof *d.labels);
    if (d.texts == NULL || d.labels == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (i = 0; i < count; i++) {
        int cls = (int)(tu_rand(&rng) % TU_NUM_CLASSES);
        int words = 5 + (int)(tu_rand(&rng) % 8);
        int kw_at = (int)(tu_rand(&rng) % (uint64_t)words);
        int kw2_at = (int)(tu_rand(&rng) % (uint64_t)(words * 2)); /* half the time none */
        char buf[512];
        size_t len = 0;
        int w;
        for (w = 0; w < words; w++) {
            const char *word;
            if (w == kw_at || w == kw2_at)
                word = keywords[cls][tu_rand(&rng) % 6];
            else
                word = filler[tu_rand(&rng) % (sizeof filler / sizeof filler[0])];
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", w ? " " : "", word);
        }
        d.texts[i] = malloc(len + 1);
        if (d.texts[i] == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        memcpy(d.texts[i], buf, len + 1);
        d.labels[i] = tu_class_names[cls];
    }
    return d;
}

void tu_dataset_free(tu_dataset *d)
{
    size_t i;
    for (i = 0; i < d->count; i++)
        free(d->texts[i]);
    free(d->texts);
    free((void *)d->labels);
    d->texts = NULL;
    d->labels = NULL;
    d->count = 0;
}

int tu_dataset_write(const tu_dataset *d, const char *path, int csv)
{
    FILE *f = fopen(path, "wb");
    size_t i;
    if (f == NULL)
        return -1;
    if (csv)
        fprintf(f, "label,text\r\n");
    for (i = 0; i < d->count; i++) {
        if (csv)
            fprintf(f, "%s,\"%s\"\r\n", d->labels[i], d->texts[i]);
        else
            fprintf(f, "__label__%s %s\n", d->labels[i], d->texts[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

const char *tu_tiny_config(const char *extra_training)
{
    static char buf[1024];
    int own_threads = extra_training && strstr(extra_training, "\"threads\"") != NULL;
    snprintf(buf, sizeof buf,
             "{\"tokenizer\": {\"min_freq\": 1},"
             " \"model\": {\"type\": \"lstm\", \"embedding_dim\": 16, \"hidden_dim\": 16},"
             " \"training\": {\"epochs\": 3, %s\"batch_size\": 16,"
             " \"learning_rate\": 0.01%s%s}}",
             own_threads ? "" : "\"threads\": 1, ", extra_training ? ", " : "",
             extra_training ? extra_training : "");
    return buf;
}

tm_model *tu_train_tiny(const tu_dataset *d, const char *extra_training)
{
    tm_model *model = NULL;
    MUST(tm_model_new(tu_tiny_config(extra_training), &model));
    MUST(tm_model_train(model, (const char *const *)d->texts, (const char *const *)d->labels,
                        d->count, NULL, NULL, 0, NULL, NULL, NULL));
    return model;
}

char *tu_tempdir_make(void)
{
    const char *base = getenv("TMPDIR");
    char *dir;
    size_t n;
    if (base == NULL || *base == '\0')
        base = "/tmp";
    n = strlen(base) + 32;
    dir = malloc(n);
    if (dir == NULL)
        exit(1);
    snprintf(dir, n, "%s/tmtest-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    return dir;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *e;
        if (dir != NULL) {
            while ((e = readdir(dir)) != NULL) {
                char *child;
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                child = tu_path(path, e->d_name);
                remove_tree(child);
                free(child);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

void tu_tempdir_remove(char *dir)
{
    if (dir == NULL)
        return;
    if (getenv("TM_KEEP_TEMP") == NULL)
        remove_tree(dir);
    else
        fprintf(stderr, "keeping %s\n", dir);
    free(dir);
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        exit(1);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int tu_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL)
        return -1;
    ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int tu_write_text(const char *path, const char *text)
{
    return tu_write_file(path, text, strlen(text));
}

unsigned char *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0, n;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (len == cap) {
            unsigned char *grown;
            cap = cap ? cap * 2 : 65536;
            grown = realloc(buf, cap);
            if (grown == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    *size = len;
    return buf;
}

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int tu_quick(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0)
            return 1;
    return 0;
}

int tu_finish(const char *name)
{
    if (tu_failures == 0) {
        printf("%s: all passed\n", name);
        return 0;
    }
    printf("%s: %d failure%s\n", name, tu_failures, tu_failures == 1 ? "" : "s");
    return 1;
}
