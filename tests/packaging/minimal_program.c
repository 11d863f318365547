/* A minimal correct C program over libtextmodel: every call checked, everything freed.
 * tests/packaging/test_valgrind.py runs it under
 *   valgrind --leak-check=full --error-exitcode=1 --suppressions=bindings/c/valgrind.supp
 * which must report no error and no leak: what bindings/c/README.md promises. */
#include <stdio.h>
#include <stdlib.h>

#include "textmodel.h"

static int fail(const char *what)
{
    fprintf(stderr, "minimal_program: %s: %s\n", what, tm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *texts[] = {"my parcel never came", "refund my money", "parcel lost again",
                           "charged twice, refund please", "where is my parcel", "money back now"};
    const char *labels[] = {"delivery", "billing", "delivery", "billing", "delivery", "billing"};
    tm_model *model = NULL, *loaded = NULL, *refused = NULL;
    char *report = NULL, *metrics = NULL;
    int32_t top[2];
    float probs[2];
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: minimal_program MODEL_PATH\n");
        return 2;
    }
    if (tm_model_new("{\"model\": {\"type\": \"bag\", \"embedding_dim\": 8}, \"training\": {\"epochs\": 2}}",
                     &model) != TM_OK) {
        rc = fail("tm_model_new");
        goto done;
    }
    if (tm_model_train(model, texts, labels, 6, NULL, NULL, 0, NULL, NULL, &report) != TM_OK) {
        rc = fail("tm_model_train");
        goto done;
    }
    if (tm_model_evaluate(model, texts, labels, 6, &metrics) != TM_OK) {
        rc = fail("tm_model_evaluate");
        goto done;
    }
    if (tm_model_save(model, argv[1]) != TM_OK || tm_model_load(argv[1], &loaded) != TM_OK) {
        rc = fail("save/load");
        goto done;
    }
    if (tm_model_predict(loaded, texts, 1, 2, top, probs) != TM_OK) {
        rc = fail("tm_model_predict");
        goto done;
    }
    if (tm_model_new("{\"model\": {\"hidden_dim\": -1}}", &refused) == TM_OK) { /* an error path too */
        fprintf(stderr, "minimal_program: a bad config was accepted\n");
        goto done;
    }
    printf("top label %d p=%.3f\n", (int)top[0], probs[0]);
    rc = 0;
done:
    tm_string_free(report);
    tm_string_free(metrics);
    tm_model_free(model);
    tm_model_free(loaded);
    tm_model_free(refused);
    return rc;
}
