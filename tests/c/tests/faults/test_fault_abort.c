#define _POSIX_C_SOURCE 200809L
/* Peers that give up before the WebSocket exists (tests/peers/fault_servers.py):
 *   - a TLS server that reads the ClientHello and closes / answers bytes that are not TLS /
 *     resets the connection;
 *   - an HTTP proxy that answers CONNECT with 200 and closes the tunnel at once (ws and wss);
 *   - a wss host name that does not resolve (*.invalid, RFC 6761).
 * Each ends with exactly one closed and the documented C4Error, no gotHTTPResponse, no opened.
 *
 *   test_fault_abort PYTHON FAULT_SERVERS */
#include "fault_util.h"

static FakeSocketState run(const char *what, const char *scheme, const char *host, uint16_t port,
                           const FlEntry *extra, size_t n) {
    C4Socket *s = peer_test_open_nowait(scheme, host, port, extra, n);
    printf("%s:", what);
    FakeSocketState st = peer_test_finish(s, 20000);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_EQ_INT(st.http_response_calls, 0);
    return st;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer fs;
    char *pargv[] = {argv[1], argv[2], NULL};
    CHECK(fake_peer_start(&fs, pargv, 20000));
    peer_test_init();
    FakeSocketState st;

    /* TLS: the server closes after the ClientHello → the connection ended: {Network, 18}. */
    st = run("TLS peer closes after ClientHello", "wss", "localhost", (uint16_t)fake_peer_int(&fs, "tls_close"), NULL, 0);
    FAULT_CHECK_ERROR(st, 5, 18);
    CHECK_CONTAINS(st.closed_message, "TLS");
    /* TLS: an answer that is not TLS → handshake failure {Network, 6}. */
    st = run("TLS peer answers garbage", "wss", "localhost", (uint16_t)fake_peer_int(&fs, "tls_garbage"), NULL, 0);
    FAULT_CHECK_ERROR(st, 5, 6);
    CHECK_CONTAINS(st.closed_message, "TLS");
    /* TLS: RST after the ClientHello → {Network, 18 ConnectionReset}. */
    st = run("TLS peer resets", "wss", "localhost", (uint16_t)fake_peer_int(&fs, "tls_rst"), NULL, 0);
    FAULT_CHECK_ERROR(st, 5, 18);

    /* A proxy that closes the tunnel right after its 200: {Network, 18}, naming the proxy. */
    uint16_t pport = (uint16_t)fake_peer_int(&fs, "proxy_close");
    const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", pport)};
    const FlEntry popt[] = {FL_DICT_OF("proxy", proxy)};
    st = run("proxy closes after CONNECT 200 (ws)", "ws", "sg.example", 4984, popt, 1);
    FAULT_CHECK_ERROR(st, 5, 18);
    st = run("proxy closes after CONNECT 200 (wss)", "wss", "sg.example", 4984, popt, 1);
    FAULT_CHECK_ERROR(st, 5, 18);

    /* DNS: a name that cannot resolve → {Network, 2 UnknownHost} (1 without any resolver). */
    st = run("wss host does not resolve", "wss", "no-such-sg.invalid", 4984, NULL, 0);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK(st.closed_error.code == 2 || st.closed_error.code == 1);

    fault_check_buffers_released(5000);
    fake_peer_stop(&fs);
    puts("fault_abort ok");
    return 0;
}
