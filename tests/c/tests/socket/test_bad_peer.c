/* A peer that breaks the protocol: garbage frames after the 101 end the socket with
 * {WebSocket, 1002}; a message over LCWS_MAX_MESSAGE_SIZE with {WebSocket, 1009}; an empty
 * message is never passed to LiteCore (it would read it as a shutdown). */
#include "peer_test.h"

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    peer_test_command(s, "!cmd empty");
    peer_test_command(s, "after-empty");
    size_t size = 0;
    char *m = (char *)fake_socket_next_message(s, 5000, &size);
    CHECK(m != NULL);
    CHECK(size == 11 && memcmp(m, "after-empty", 11) == 0); /* the empty one was dropped */
    free(m);
    peer_test_command(s, "!cmd garbage");
    FakeSocketState st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 1002);

    s = peer_test_open(port);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "!cmd flood 1 %llu", (unsigned long long)LCWS_MAX_MESSAGE_SIZE + 1);
    peer_test_command(s, cmd);
    st = peer_test_finish(s, 20000);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 1009);
    fake_peer_stop(&sg);
    puts("bad_peer ok");
    return 0;
}
