/* The few public functions that need C itself: thread-local error storage (Swift has
 * no _Thread_local) and constant strings with static lifetime. */
#include "textmodel_support.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local char *last_error;

void tm_support_set_last_error(const char *message) {
    free(last_error);
    last_error = NULL;
    if (message && *message) last_error = strdup(message);
}

const char *tm_last_error(void) { return last_error ? last_error : ""; }

const char *tm_version(void) { return TEXTMODEL_VERSION_STRING; }

int tm_version_number(void) {
    return TEXTMODEL_VERSION_MAJOR * 10000 + TEXTMODEL_VERSION_MINOR * 100 + TEXTMODEL_VERSION_PATCH;
}

const char *tm_status_name(tm_status status) {
    switch (status) {
    case TM_OK: return "TM_OK";
    case TM_ERR_INVALID_ARGUMENT: return "TM_ERR_INVALID_ARGUMENT";
    case TM_ERR_CONFIG: return "TM_ERR_CONFIG";
    case TM_ERR_IO: return "TM_ERR_IO";
    case TM_ERR_DATA: return "TM_ERR_DATA";
    case TM_ERR_MODEL_FORMAT: return "TM_ERR_MODEL_FORMAT";
    case TM_ERR_STATE: return "TM_ERR_STATE";
    case TM_ERR_CANCELLED: return "TM_ERR_CANCELLED";
    case TM_ERR_RESOURCE: return "TM_ERR_RESOURCE";
    case TM_ERR_DIVERGED: return "TM_ERR_DIVERGED";
    case TM_ERR_INTERNAL: return "TM_ERR_INTERNAL";
    }
    return "TM_ERR_UNKNOWN";
}

void tm_string_free(char *s) { free(s); }

const char *tm_support_task_name(int task) {
    static const char *const names[] = {"single_label", "multi_label", "regression"};
    return task >= 0 && task < 3 ? names[task] : NULL;
}
