/* A program built against an *installed* litecore-ws: the header's version macros must match
 * the library it runs with, and the library must answer through its C ABI. */
#include <litecore_ws.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", LCWS_VERSION_MAJOR, LCWS_VERSION_MINOR, LCWS_VERSION_PATCH);
    const char *actual = lcws_version();
    if (!actual || strcmp(actual, expected) != 0) {
        fprintf(stderr, "consumer: header says %s, library says %s\n", expected, actual ? actual : "(null)");
        return 1;
    }
    lcws_set_log_level(5);
    printf("consumer: litecore-ws %s\n", actual);
    return 0;
}
