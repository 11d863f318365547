/*
 * leak_probe.c - leaks on purpose, to prove that the sanitizer runs of run.sh catch
 * leaks: a model created by the library and never freed (memory the uninstrumented
 * libtextmodel.so allocated) and a string the library returned and was never freed.
 * Built only by `make asan`; run.sh expects it to FAIL with a LeakSanitizer report.
 */
#include <stdio.h>

#include "textmodel.h"

static tm_model *leaked_model; /* overwritten below, so unreachable at exit */

int main(void)
{
    char *json = NULL;
    if (tm_model_new("{\"model\": {\"hidden_dim\": 8}}", &leaked_model) != TM_OK)
        return 2;
    if (tm_model_config_json(leaked_model, &json) != TM_OK)
        return 2;
    printf("leak_probe: created a model and a %s string and dropped both\n",
           json[0] == '{' ? "JSON" : "?");
    leaked_model = NULL;
    json = NULL;
    return 0;
}
