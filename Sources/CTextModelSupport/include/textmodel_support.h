/* Private to libtextmodel: lets the Swift ABI layer see the public C types and
 * reach the thread-local error slot. Not installed. */
#ifndef TEXTMODEL_SUPPORT_H
#define TEXTMODEL_SUPPORT_H

#include "../../../include/textmodel.h"

/* Stores a copy of `message` as this thread's last error ("" clears it). */
__attribute__((visibility("hidden"))) void tm_support_set_last_error(const char *message);

/* The task names tm_model_task hands out, as static strings: 0 single_label,
 * 1 multi_label, 2 regression; NULL for anything else. */
__attribute__((visibility("hidden"))) const char *tm_support_task_name(int task);

#endif
