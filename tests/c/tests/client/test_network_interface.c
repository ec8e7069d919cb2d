/* networkInterface: an interface name ("lo") or a local address binds the connection to it and
 * the socket opens; an unknown name or an address this host does not have ends with
 * {Network, 27 UnknownInterface} before any request is sent.
 * argv: python3 path/to/sg_standin.py */
#include "sg_admin.h"

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer sg;
    peer_test_start_sg(&sg, argv + 1, "--guest", NULL);
    uint16_t port = (uint16_t)fake_peer_int(&sg, "public");
    uint16_t admin = (uint16_t)fake_peer_int(&sg, "admin");
    peer_test_init();
    const char *good[] = {"lo", "127.0.0.1"};
    for (size_t i = 0; i < 2; i++) {
        const FlEntry opts[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_S("networkInterface", good[i])};
        CHECK_OPENED(attempt("ws", "127.0.0.1", port, opts, 2));
    }
    sg_clear_requests(admin);
    const char *bad[] = {"nosuchif0", "192.0.2.1"};
    for (size_t i = 0; i < 2; i++) {
        const FlEntry opts[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_S("networkInterface", bad[i])};
        Outcome o = attempt("ws", "127.0.0.1", port, opts, 2);
        CHECK_FAILED(o, 5, 27, "networkInterface");
        CHECK_EQ_INT(o.http_calls, 0);
    }
    char *log = sg_requests(admin);
    CHECK_EQ_INT(sg_request_count(log), 0);
    free(log);
    fake_peer_stop(&sg);
    puts("network_interface ok");
    return 0;
}
