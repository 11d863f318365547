/* header_c.c - textmodel.h must compile on its own as C99 with -pedantic -Werror. */
#include "textmodel.h"

int tm_header_c_compiles(void);
int tm_header_c_compiles(void)
{
    return (int)sizeof(tm_progress) + TEXTMODEL_VERSION_MAJOR;
}
