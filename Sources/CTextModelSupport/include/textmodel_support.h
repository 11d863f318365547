/* Private to libtextmodel: lets the Swift ABI layer see the public C types and
 * reach the thread-local error slot. Not installed. */
#ifndef TEXTMODEL_SUPPORT_H
#define TEXTMODEL_SUPPORT_H

#include "../../../include/textmodel.h"

/* Stores a copy of `message` as this thread's last error ("" clears it). */
__attribute__((visibility("hidden"))) void tm_support_set_last_error(const char *message);

#endif
