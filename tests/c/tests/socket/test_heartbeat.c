/* With heartbeat 2 s, litecore-ws pings the idle peer; a peer that stops reading never answers,
 * so after the pong timeout (min(20 s, heartbeat - 1 s) = 1 s) the socket closes with
 * {Network, 3 Timeout}. A responsive peer keeps the connection open across several heartbeats:
 * the stand-in received a Ping every 2 s (it counts them, `!cmd stats`) and answered each, or the
 * socket would have closed 1 s after the first. */
#define _POSIX_C_SOURCE 200809L
#include "peer_test.h"
#include <time.h>

static const FlEntry heartbeat_2[] = {FL_I("heartbeat", 2)};

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    /* Responsive peer: still open after 2.5 heartbeats, during which it got two pings (at 2 s and
       4 s of silence; at most one more for timing slack) and answered them. */
    C4Socket *s = peer_test_open_with(port, heartbeat_2, 1);
    CHECK(!fake_wait_closed(s, 5000));
    long pings = peer_test_stat(s, "pings");
    printf("  the stand-in received %ld ping(s) in 5 s\n", pings);
    CHECK(pings >= 2 && pings <= 3);
    fake_socket_request_close(s, 1000, "");
    FakeSocketState st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);

    /* Frozen peer. */
    s = peer_test_open_with(port, heartbeat_2, 1);
    peer_test_command(s, "!cmd freeze");
    double t0 = fake_now_s();
    st = peer_test_finish(s, 15000);
    double took = fake_now_s() - t0;
    printf("  timed out after %.2f s\n", took);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK_EQ_INT(st.closed_error.code, 3);
    CHECK(took > 2.5 && took < 6.0);
    fake_peer_stop(&sg);
    puts("heartbeat ok");
    return 0;
}
