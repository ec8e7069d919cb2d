/* wss through nginx terminating TLS (certificates generated at test time): with the test CA as
 * rootCerts the upgrade succeeds and messages of 1 B ... 4 MiB are echoed byte-exact; without it
 * (Mozilla's roots only) the handshake fails with {Network, 11 TLSCertUnknownRoot}; a malformed
 * rootCerts fails the open with {LiteCore, 9}.
 * argv: python3 path/to/peers.py */
#include "peer_test.h"

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--", (char *)"--guest", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    uint16_t tls_port = (uint16_t)fake_peer_int(&peers, "tls");
    CHECK(tls_port != 0);
    size_t ca_size = 0;
    void *ca = peer_test_read_ca(&peers, &ca_size);
    peer_test_init();

    const FlEntry trusted[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_D("rootCerts", ca, ca_size)};
    size_t size = 0;
    unsigned char *opts = fl_encode(trusted, 2, &size);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "wss", "localhost", tls_port, "/db/_blipsync", opts, size);
    free(opts);
    CHECK(fake_wait_opened(s, 10000));
    CHECK_EQ_INT(fake_socket_state(s).http_status, 101);
    const size_t sizes[] = {1, 1000, 65536, 4 * 1024 * 1024};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *msg = (unsigned char *)malloc(sizes[k]);
        CHECK(msg != NULL);
        for (size_t i = 0; i < sizes[k]; i++) msg[i] = (unsigned char)((i * 7 + k) % 253);
        fake_socket_write(s, msg, sizes[k]);
        size_t got_size = 0;
        unsigned char *got = (unsigned char *)fake_socket_next_message(s, 20000, &got_size);
        CHECK(got != NULL && got_size == sizes[k] && memcmp(got, msg, got_size) == 0);
        printf("  wss echoed %zu bytes\n", got_size);
        free(got);
        free(msg);
    }
    fake_socket_request_close(s, 1000, "");
    CHECK_EQ_INT(peer_test_finish(s, 10000).closed_error.code, 0);

    /* Default trust (webpki roots) does not know the test CA. */
    const FlEntry plain[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL)};
    opts = fl_encode(plain, 1, &size);
    s = fake_socket_new();
    fake_socket_open(s, "wss", "localhost", tls_port, "/db/_blipsync", opts, size);
    free(opts);
    FakeSocketState st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK_EQ_INT(st.closed_error.code, 11);

    /* Garbage in rootCerts. */
    const FlEntry garbage[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_D("rootCerts", "not a cert", 10)};
    opts = fl_encode(garbage, 2, &size);
    s = fake_socket_new();
    fake_socket_open(s, "wss", "localhost", tls_port, "/db/_blipsync", opts, size);
    free(opts);
    st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.closed_error.domain, 1);
    CHECK_EQ_INT(st.closed_error.code, 9);
    CHECK_CONTAINS(st.closed_message, "rootCerts");
    free(ca);
    fake_peer_stop(&peers);
    puts("wss ok");
    return 0;
}
