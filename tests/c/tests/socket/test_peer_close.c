/* The peer closes: c4socket_closeRequested(status, reason) (1005 for a Close without status),
 * LiteCore's synchronous requestClose echoes the Close, then one closed: clean for 1000, else
 * {WebSocket, status, reason}. The server dropping TCP without a Close gives an abnormal close
 * (transient for LiteCore: WebSocket 1006 or Network 18 ConnectionReset). */
#include "peer_test.h"

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    peer_test_command(s, "!cmd close 4001 try later");
    FakeSocketState st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 4001);
    CHECK_CONTAINS(st.closed_message, "try later");

    s = peer_test_open(port);
    peer_test_command(s, "!cmd close 1000 bye");
    st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.code, 0);

    s = peer_test_open(port);
    peer_test_command(s, "!cmd close-nocode");
    st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 1005);

    s = peer_test_open(port);
    peer_test_command(s, "!cmd vanish");
    st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 0);
    CHECK((st.closed_error.domain == 6 && st.closed_error.code == 1006) ||
          (st.closed_error.domain == 5 && st.closed_error.code == 18));

    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    fake_peer_stop(&sg);
    puts("peer_close ok");
    return 0;
}
