/* The few public functions that need C itself: thread-local error storage (Swift has
 * no _Thread_local) and constant strings with static lifetime. */
#include "textmodel_support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* This thread's message. The same pointer is also this thread's value of
 * last_error_key, whose destructor (free, which is never unloaded) frees it when the
 * thread exits: a _Thread_local alone leaked it, 56 bytes a thread, without bound in a
 * service that starts threads. The key is made once and never deleted. */
static _Thread_local char *last_error;
static pthread_key_t last_error_key;
static int last_error_key_made;
static pthread_once_t last_error_once = PTHREAD_ONCE_INIT;

static void make_last_error_key(void) {
    last_error_key_made = pthread_key_create(&last_error_key, free) == 0;
}

/* Messages longer than this are cut (at a UTF-8 character boundary) and end in "…":
 * the Swift side already shortens every echo of a caller's key or value, so this only
 * bounds what nothing else did. */
enum { MAX_MESSAGE_BYTES = 4096 };

static char *bounded_copy(const char *message) {
    size_t n = strlen(message), keep;
    char *copy;
    if (n <= MAX_MESSAGE_BYTES) return strdup(message);
    keep = MAX_MESSAGE_BYTES - 3;
    while (keep > 0 && ((unsigned char)message[keep] & 0xC0) == 0x80) keep--;
    copy = malloc(keep + 4);
    if (copy == NULL) return NULL;
    memcpy(copy, message, keep);
    memcpy(copy + keep, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    return copy;
}

void tm_support_set_last_error(const char *message) {
    char *copy = message && *message ? bounded_copy(message) : NULL;
    pthread_once(&last_error_once, make_last_error_key);
    if (last_error_key_made && pthread_setspecific(last_error_key, copy) != 0) {
        /* Out of memory for this thread's key slots: whatever pointer the key still
         * holds is freed at thread exit, so never free that one here. */
        if (pthread_getspecific(last_error_key) != last_error) free(last_error);
        last_error = copy;
        return;
    }
    free(last_error);
    last_error = copy;
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
