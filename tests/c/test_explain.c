/*
 * test_explain.c - token attributions and sentence vectors through the C ABI.
 *
 *  1. Explains texts with accented, CJK, emoji and invalid UTF-8 bytes: every token
 *     string is valid UTF-8, offsets lie inside the text in order, the slice of an
 *     ASCII token is the token (lower-cased), integrated gradients are complete.
 *  2. Occlusion with windows, logit output, a fixed target, the <unk> reference.
 *  3. Error cases: NULL model, texts, text, out pointer; bad target index; bad steps,
 *     window, method, output, reference; a struct_size from an older header; an
 *     untrained model. Each returns its status with a message, and leaves the out
 *     pointer alone.
 *  4. Threads: several threads explain with one model at once, each result equal to a
 *     single-threaded call's bit for bit.
 *  5. Sentence vectors: tm_model_feature_dim and tm_model_transform, and their errors.
 *
 *   test_explain [--quick]     --quick: fewer threads and rounds (for valgrind)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *const texts[] = {
    "Pizza and PASTA tonight!",
    "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e, \xc3\x89T\xc3\x89",           /* accents */
    "\xe6\x9d\xb1\xe4\xba\xac \xe3\x81\xaf\xe6\x99\xb4\xe3\x82\x8c",                /* CJK */
    "goal \xf0\x9f\x8e\x89\xf0\x9f\x8e\x89 team \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", /* emoji, ZWJ */
    "bad \xff bytes \xc3 here \xe6\x97 end \xed\xa0\x80",                             /* invalid UTF-8 */
    "",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* 1 if s[0..n) is valid UTF-8 (no surrogates, no overlongs, <= U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min, cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

static void check_explanation(const tm_explanation *e, const char *const *in, size_t count, int integrated)
{
    CHECK(e->count == count, "count %zu, expected %zu", e->count, count);
    for (size_t i = 0; i < e->count && i < count; i++) {
        const tm_text_explanation *t = &e->texts[i];
        size_t length = strlen(in[i]), previous = 0;
        double sum = 0;
        CHECK(t->target >= 0 && t->target < TU_NUM_CLASSES, "text %zu: target %d", i, t->target);
        for (size_t k = 0; k < t->token_count; k++) {
            const tm_token_score *s = &t->tokens[k];
            CHECK(s->token != NULL && valid_utf8((const unsigned char *)s->token, strlen(s->token)),
                  "text %zu token %zu is not valid UTF-8", i, k);
            CHECK(s->start >= previous && s->start < s->end && s->end <= length,
                  "text %zu token %zu: offsets %zu..%zu (text length %zu, previous end %zu)", i, k,
                  s->start, s->end, length, previous);
            previous = s->end;
            CHECK(isfinite(s->score), "text %zu token %zu: score %g", i, k, s->score);
            sum += s->score;
            /* An ASCII token was read from its own letters, case aside. */
            int ascii = 1;
            for (const char *p = s->token; *p; p++) ascii &= (unsigned char)*p < 0x80;
            if (ascii && strcmp(s->token, "<url>") != 0) {
                CHECK(strlen(s->token) == s->end - s->start, "text %zu token %s: span length", i, s->token);
                for (size_t b = 0; b < s->end - s->start && b < strlen(s->token); b++) {
                    char c = in[i][s->start + b];
                    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
                    CHECK(c == s->token[b], "text %zu token %s: the slice differs at byte %zu", i, s->token, b);
                }
            }
        }
        if (integrated) {
            double gap = fabs((double)t->delta), scale = fabs((double)t->output - t->reference_output);
            CHECK(gap <= 1e-2 * scale + 1e-5, "text %zu: delta %g for output %g - reference %g", i, t->delta,
                  t->output, t->reference_output);
            CHECK(fabs(sum - (t->output - t->reference_output) - t->delta) < 1e-4, "text %zu: delta is not the gap", i);
        } else {
            CHECK(isnan(t->delta) && isnan(t->reference_output), "occlusion: delta and reference are NaN");
        }
    }
}

/* The invalid bytes are explained where they are: tokens U+FFFD over them. */
static void check_invalid_bytes(const tm_explanation *e)
{
    const tm_text_explanation *t = &e->texts[4];
    int replacements = 0;
    for (size_t k = 0; k < t->token_count; k++) {
        if (strcmp(t->tokens[k].token, "\xef\xbf\xbd") == 0) {
            unsigned char first = (unsigned char)texts[4][t->tokens[k].start];
            CHECK(first >= 0x80, "a U+FFFD token starts on the byte 0x%02x", first);
            replacements++;
        }
    }
    CHECK(replacements >= 4, "%d U+FFFD tokens for the 4 invalid sequences", replacements);
    CHECK(e->texts[5].token_count == 0, "the empty text has no tokens");
}

static void check_errors(tm_model *model, tm_model *untrained)
{
    static tm_explanation untouched;
    tm_explain_options o;
    tm_explanation *out = &untouched; /* must stay untouched on error */
    tm_explanation *const sentinel = out;
    struct { const char *what; tm_status expected; const char *mentions; } cases[] = {
        {"target = number of labels", TM_ERR_INVALID_ARGUMENT, "target"},
        {"target = -2", TM_ERR_INVALID_ARGUMENT, "target"},
        {"steps = 0", TM_ERR_INVALID_ARGUMENT, "steps"},
        {"steps = 5000", TM_ERR_INVALID_ARGUMENT, "steps"},
        {"window = 0", TM_ERR_INVALID_ARGUMENT, "window"},
        {"method = 7", TM_ERR_INVALID_ARGUMENT, "method"},
        {"output = 3", TM_ERR_INVALID_ARGUMENT, "output"},
        {"reference = 9", TM_ERR_INVALID_ARGUMENT, "reference"},
        {"struct_size too small", TM_ERR_INVALID_ARGUMENT, "struct_size"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tm_explain_options_init(&o);
        switch (c) {
        case 0: o.target = TU_NUM_CLASSES; break;
        case 1: o.target = -2; break;
        case 2: o.steps = 0; break;
        case 3: o.steps = 5000; break;
        case 4: o.method = TM_EXPLAIN_OCCLUSION; o.window = 0; break;
        case 5: o.method = (tm_explain_method)7; break;
        case 6: o.output = (tm_explain_output)3; break;
        case 7: o.reference = (tm_explain_reference)9; break;
        case 8: o.struct_size = sizeof(size_t); break;
        }
        tm_status s = tm_model_explain(model, texts, 2, &o, &out);
        CHECK(s == cases[c].expected, "%s: %s", cases[c].what, tm_status_name(s));
        CHECK(strstr(tm_last_error(), cases[c].mentions) != NULL, "%s: message \"%s\"", cases[c].what, tm_last_error());
        CHECK(out == sentinel, "%s: the out pointer was changed", cases[c].what);
    }
    const char *with_null[] = {"fine", NULL};
    CHECK(tm_model_explain(NULL, texts, 1, NULL, &out) == TM_ERR_INVALID_ARGUMENT, "NULL model");
    CHECK(strstr(tm_last_error(), "model") != NULL, "NULL model: %s", tm_last_error());
    CHECK(tm_model_explain(model, NULL, 1, NULL, &out) == TM_ERR_INVALID_ARGUMENT, "NULL texts");
    CHECK(tm_model_explain(model, with_null, 2, NULL, &out) == TM_ERR_INVALID_ARGUMENT, "NULL text");
    CHECK(strstr(tm_last_error(), "texts[1]") != NULL, "NULL text: %s", tm_last_error());
    CHECK(tm_model_explain(model, texts, 1, NULL, NULL) == TM_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(tm_model_explain(untrained, texts, 1, NULL, &out) == TM_ERR_STATE, "untrained model");
    CHECK(strstr(tm_last_error(), "not trained") != NULL, "untrained: %s", tm_last_error());
    CHECK(out == sentinel, "the out pointer was changed by a failing call");

    size_t dim = 7;
    float v[4];
    CHECK(tm_model_feature_dim(untrained, &dim) == TM_ERR_STATE && dim == 7, "feature_dim untrained");
    CHECK(tm_model_feature_dim(model, NULL) == TM_ERR_INVALID_ARGUMENT, "feature_dim NULL out");
    CHECK(tm_model_feature_dim(NULL, &dim) == TM_ERR_INVALID_ARGUMENT, "feature_dim NULL model");
    CHECK(tm_model_transform(untrained, texts, 1, v) == TM_ERR_STATE, "transform untrained");
    CHECK(tm_model_transform(model, texts, 1, NULL) == TM_ERR_INVALID_ARGUMENT, "transform NULL out");
    CHECK(tm_model_transform(model, with_null, 2, v) == TM_ERR_INVALID_ARGUMENT, "transform NULL text");
    tm_explanation_free(NULL);
    tm_explain_options_init(NULL);
}

typedef struct {
    tm_model *model;
    const tm_explanation *reference;
    int rounds, mismatches;
} worker_args;

static void *worker(void *p)
{
    worker_args *a = p;
    for (int r = 0; r < a->rounds; r++) {
        tm_explanation *e = NULL;
        if (tm_model_explain(a->model, texts, NTEXTS, NULL, &e) != TM_OK) {
            a->mismatches++;
            continue;
        }
        for (size_t i = 0; i < NTEXTS; i++) {
            const tm_text_explanation *x = &e->texts[i], *y = &a->reference->texts[i];
            if (x->token_count != y->token_count || x->target != y->target || x->delta != y->delta) {
                a->mismatches++;
                continue;
            }
            for (size_t k = 0; k < x->token_count; k++) {
                if (x->tokens[k].score != y->tokens[k].score || x->tokens[k].start != y->tokens[k].start ||
                    strcmp(x->tokens[k].token, y->tokens[k].token) != 0)
                    a->mismatches++;
            }
        }
        tm_explanation_free(e);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int quick = tu_quick(argc, argv);
    tu_dataset data = tu_dataset_make(quick ? 150 : 400, 3);
    /* Mean pooling: lstm's default max pooling makes the integrated-gradients path
     * only piecewise smooth (see textmodel.h), and this test checks completeness. */
    tm_model *model = NULL;
    MUST(tm_model_new("{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"lstm\", \"embedding_dim\": 16,"
                      " \"hidden_dim\": 16, \"pooling\": \"mean\"}, \"training\": {\"epochs\": 3, \"threads\": 1,"
                      " \"batch_size\": 16, \"learning_rate\": 0.01}}", &model));
    MUST(tm_model_train(model, (const char *const *)data.texts, (const char *const *)data.labels, data.count,
                        NULL, NULL, 0, NULL, NULL, NULL));
    tm_model *untrained = NULL;
    MUST(tm_model_new(tu_tiny_config(NULL), &untrained));
    MUST(tm_model_set_threads(model, 1));

    /* 1. integrated gradients, defaults */
    tm_explanation *ig = NULL;
    MUST(tm_model_explain(model, texts, NTEXTS, NULL, &ig));
    check_explanation(ig, texts, NTEXTS, 1);
    check_invalid_bytes(ig);

    /* 2. the other options */
    tm_explain_options o;
    tm_explain_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.steps == 50 && o.window == 1 && o.target == -1, "defaults");
    o.output = TM_EXPLAIN_LOGIT;
    o.target = 2;
    o.reference = TM_EXPLAIN_UNKNOWN;
    o.steps = 20;
    tm_explanation *logit = NULL;
    MUST(tm_model_explain(model, texts, NTEXTS, &o, &logit));
    check_explanation(logit, texts, NTEXTS, 1);
    for (size_t i = 0; i < NTEXTS; i++) CHECK(logit->texts[i].target == 2, "text %zu: the given target", i);
    tm_explanation_free(logit);
    for (int window = 1; window <= 3; window += 2) {
        tm_explain_options_init(&o);
        o.method = TM_EXPLAIN_OCCLUSION;
        o.window = window;
        tm_explanation *occ = NULL;
        MUST(tm_model_explain(model, texts, NTEXTS, &o, &occ));
        check_explanation(occ, texts, NTEXTS, 0);
        tm_explanation_free(occ);
    }
    tm_explanation *none = NULL;
    MUST(tm_model_explain(model, NULL, 0, NULL, &none));
    CHECK(none != NULL && none->count == 0, "count 0: an empty result");
    tm_explanation_free(none);

    /* 3. errors */
    check_errors(model, untrained);

    /* 4. threads */
    MUST(tm_model_set_threads(model, 0));
    int nthreads = quick ? 2 : 4;
    pthread_t threads[4];
    worker_args args[4];
    for (int t = 0; t < nthreads; t++) {
        args[t] = (worker_args){model, ig, quick ? 1 : 3, 0};
        pthread_create(&threads[t], NULL, worker, &args[t]);
    }
    for (int t = 0; t < nthreads; t++) {
        pthread_join(threads[t], NULL);
        CHECK(args[t].mismatches == 0, "thread %d: %d results differ from the single-threaded call", t,
              args[t].mismatches);
    }

    /* 5. sentence vectors */
    size_t dim = 0;
    MUST(tm_model_feature_dim(model, &dim));
    CHECK(dim == 16, "feature dim %zu (hidden_dim 16)", dim);
    float *vectors = calloc(NTEXTS * dim, sizeof(float));
    MUST(tm_model_transform(model, texts, NTEXTS, vectors));
    int nonzero = 0;
    for (size_t k = 0; k < NTEXTS * dim; k++) nonzero += vectors[k] != 0 && isfinite(vectors[k]);
    CHECK(nonzero > (int)dim, "sentence vectors are written (%d nonzero)", nonzero);
    free(vectors);

    tm_explanation_free(ig);
    tm_model_free(untrained);
    tm_model_free(model);
    tu_dataset_free(&data);
    return tu_finish("test_explain");
}
