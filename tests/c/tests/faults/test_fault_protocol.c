#define _POSIX_C_SOURCE 200809L
/* A peer's Close frame with a status code that may not appear on the wire (RFC 6455 §7.4:
 * below 1000, the reserved 1004/1005/1006/1015, 1016–2999, 5000 and above) is a protocol error:
 * LiteCore is told once (closeRequested, answered by its requestClose) and the socket ends with
 * one closed {WebSocket, 1002}. Legal codes next to them (1003, 3000, 4999) are passed on as
 * {WebSocket, code}. (Garbage frames → 1002 and a message
 * over 16 MiB → 1009 are test_bad_peer.) */
#include "fault_util.h"

static void one(uint16_t port, int code, int want) {
    C4Socket *s = peer_test_open(port);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "!cmd close %d bad code", code);
    peer_test_command(s, cmd);
    printf("close %d:", code);
    FakeSocketState st = peer_test_finish(s, 10000);
    FAULT_CHECK_ERROR(st, 6, want);
    CHECK_EQ_INT(st.close_requested_calls, 1);
}

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);
    const int invalid[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) one(port, invalid[i], 1002);
    const int legal[] = {1003, 3000, 4999};
    for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++) one(port, legal[i], legal[i]);
    fault_check_buffers_released(5000);
    fake_peer_stop(&sg);
    puts("fault_protocol ok");
    return 0;
}
