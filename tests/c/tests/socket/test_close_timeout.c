/* LiteCore closes while the peer has stopped reading: litecore-ws sends its Close, waits up to
 * 5 s for the peer's, then drops TCP and reports {Network, 3 Timeout}. Writes LiteCore makes
 * after requestClose are released, never sent. A second requestClose is harmless. */
#define _POSIX_C_SOURCE 200809L
#include "peer_test.h"
#include <time.h>

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    peer_test_freeze(s);
    double t0 = fake_now_s();
    fake_socket_request_close(s, 1000, "stopping");
    fake_socket_write(s, "late", 4);
    fake_socket_request_close(s, 1000, "again");
    FakeSocketState st = peer_test_finish(s, 10000);
    double took = fake_now_s() - t0;
    printf("  closed after %.2f s\n", took);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK_EQ_INT(st.closed_error.code, 3);
    CHECK(took > 4.5 && took < 7.0);
    CHECK_EQ_INT(st.bytes_written_acked, strlen("!cmd freeze ack"));
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    fake_peer_stop(&sg);
    puts("close_timeout ok");
    return 0;
}
