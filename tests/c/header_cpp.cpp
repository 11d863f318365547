// header_cpp.cpp - textmodel.h must compile as C++17 (-Wall -Wextra -pedantic -Werror),
// on its own, and its declarations must link from C++.
#include "textmodel.h"

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_standard_layout<tm_progress>::value, "tm_progress is a C struct");
static_assert(offsetof(tm_progress, struct_size) == 0, "struct_size comes first");
static_assert(sizeof(tm_status) == sizeof(int), "tm_status is an int-sized enum");
static_assert(TM_ERR_INTERNAL == 99, "status values are part of the ABI");

int main()
{
    // A capture-less lambda converts to the callback type.
    tm_progress_fn fn = [](const tm_progress *p, void *user_data) -> int {
        return p == nullptr && user_data == nullptr;
    };
    tm_model *model = nullptr;
    tm_status st = tm_model_new(nullptr, &model);
    int trained = -1;
    if (st == TM_OK)
        st = tm_model_is_trained(model, &trained);
    tm_model_free(model);
    std::printf("C++: libtextmodel %s (header %s), defaults model: %s, trained %d, fn %s\n",
                tm_version(), TEXTMODEL_VERSION_STRING, tm_status_name(st), trained,
                fn ? "ok" : "null");
    return std::strcmp(tm_version(), TEXTMODEL_VERSION_STRING) == 0 && st == TM_OK &&
                   trained == 0
               ? 0
               : 1;
}
