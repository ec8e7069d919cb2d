// litecore_ws.h compiles as C++17 with -Wall -Wextra -Werror -pedantic.
#include "litecore_ws.h"
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(sizeof(LcwsSlice) == 2 * sizeof(void *), "C4Slice layout");
static_assert(sizeof(LcwsError) == 12 && alignof(LcwsError) == 4, "C4Error layout");
static_assert(std::is_standard_layout<LcwsHostTable>::value, "host table is plain C");
// The factory callbacks have exactly C4SocketFactory's parameter lists (with mirrored types).
static_assert(std::is_same<decltype(&lcws_socket_open), void (*)(C4Socket *, const LcwsAddress *, LcwsSlice, void *)>::value, "open");
static_assert(std::is_same<decltype(&lcws_socket_write), void (*)(C4Socket *, LcwsSliceResult)>::value, "write");
static_assert(std::is_same<decltype(&lcws_socket_completed_receive), void (*)(C4Socket *, size_t)>::value, "completedReceive");
static_assert(std::is_same<decltype(&lcws_socket_request_close), void (*)(C4Socket *, int, LcwsSlice)>::value, "requestClose");
static_assert(std::is_same<decltype(&lcws_socket_close), void (*)(C4Socket *)>::value, "close");
static_assert(std::is_same<decltype(&lcws_socket_dispose), void (*)(C4Socket *)>::value, "dispose");
static_assert(std::is_same<decltype(&lcws_socket_attached), void (*)(C4Socket *)>::value, "attached");

int main() {
    std::printf("header C++17 ok, version %s\n", lcws_version());
    return std::strlen(lcws_version()) > 0 ? 0 : 1;
}
