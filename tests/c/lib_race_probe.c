/*
 * lib_race_probe.c - makes the library race on purpose, to prove that ThreadSanitizer
 * sees libtextmodel's own memory accesses when the library is the TSan-instrumented
 * build (run.sh, "tsan-lib"): Hogwild training (training.hogwild) updates the shared
 * weights from several threads without locks by design. Built only by `make tsan-lib`;
 * run.sh expects it to FAIL with a ThreadSanitizer report inside libtextmodel. With the
 * normal library it would pass: TSan cannot see uninstrumented code.
 */
#include <stdio.h>

#include "textmodel.h"

int main(void)
{
    static const char *const texts[] = {"pizza and pasta", "a late goal", "fresh bread",
                                        "the team won", "cheese and wine", "a penalty kick"};
    static const char *const labels[] = {"food", "sports", "food", "sports", "food", "sports"};
    const char *texts_many[600], *labels_many[600];
    tm_model *m = NULL;
    int i;
    for (i = 0; i < 600; i++) {
        texts_many[i] = texts[i % 6];
        labels_many[i] = labels[i % 6];
    }
    if (tm_model_new("{\"tokenizer\": {\"min_freq\": 1}, \"model\": {\"type\": \"bag\","
                     " \"embedding_dim\": 8}, \"training\": {\"hogwild\": true, \"optimizer\":"
                     " \"sgd\", \"batch_size\": 1, \"threads\": 2, \"epochs\": 2}}", &m) != TM_OK)
        return 2;
    if (tm_model_train(m, texts_many, labels_many, 600, NULL, NULL, 0, NULL, NULL, NULL) != TM_OK) {
        fprintf(stderr, "lib_race_probe: %s\n", tm_last_error());
        return 2;
    }
    tm_model_free(m);
    printf("lib_race_probe: trained with Hogwild on 2 threads\n");
    return 0;
}
