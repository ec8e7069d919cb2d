/* litecore_ws.h compiles as C11 with -Wall -Wextra -Werror -pedantic and its types have
 * LiteCore's layouts. */
#include "litecore_ws.h"
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(LcwsSlice) == 2 * sizeof(void *), "C4Slice layout");
_Static_assert(sizeof(LcwsSliceResult) == 2 * sizeof(void *), "C4SliceResult layout");
_Static_assert(offsetof(LcwsAddress, hostname) == 2 * sizeof(void *), "C4Address.hostname");
_Static_assert(offsetof(LcwsAddress, port) == 4 * sizeof(void *), "C4Address.port");
_Static_assert(offsetof(LcwsAddress, path) == 5 * sizeof(void *), "C4Address.path");
_Static_assert(sizeof(LcwsAddress) == 7 * sizeof(void *), "C4Address size");
_Static_assert(sizeof(LcwsError) == 12 && alignof(LcwsError) == 4, "C4Error layout");
_Static_assert(offsetof(LcwsError, code) == 4 && offsetof(LcwsError, internal_info) == 8, "C4Error fields");
_Static_assert(LCWS_FRAMING == 1, "kC4NoFraming");

int main(void) {
    const char *v = lcws_version();
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", LCWS_VERSION_MAJOR, LCWS_VERSION_MINOR, LCWS_VERSION_PATCH);
    if (strcmp(v, expected) != 0) {
        fprintf(stderr, "lcws_version() %s != header macros %s\n", v, expected);
        return 1;
    }
    printf("header C11 ok, version %s\n", v);
    return 0;
}
