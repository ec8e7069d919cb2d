/* Sync Gateway's HTTP answers reach LiteCore as SG sends them: gotHTTPResponse(status, headers)
 * exactly once, then closed({WebSocket, status}, reason from the JSON or text body). Basic
 * credentials (UTF-8) are accepted; a wrong password, no credentials, an unknown database and a
 * subprotocol SG does not speak are refused with SG's own status and reason. */
#include "peer_test.h"

static FakeSocketState open_fail(uint16_t port, const char *path, const FlEntry *opts, size_t n,
                                 C4Socket **keep) {
    size_t size = 0;
    unsigned char *o = fl_encode(opts, n, &size);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "ws", "127.0.0.1", port, path, o, size);
    free(o);
    CHECK(fake_wait_closed(s, 10000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_EQ_INT(st.http_response_calls, 1);
    printf("  %s -> HTTP %d, closed {%d, %d} \"%s\"\n", path, st.http_status, st.closed_error.domain,
           st.closed_error.code, st.closed_message);
    *keep = s;
    return st;
}

static void done(C4Socket *s) {
    CHECK(fake_wait_refcount(s, 1, 2000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 2000));
    CHECK_NO_VIOLATIONS(fake_socket_state(s));
    fake_socket_free(s);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer sg;
    peer_test_start_sg(&sg, argv + 1, "--user", "al\xc3\xaf" "ce:p\xc3\xa4ss w0rd");
    uint16_t port = (uint16_t)fake_peer_int(&sg, "public");
    peer_test_init();
    C4Socket *s;

    /* Right credentials (non-ASCII name and password): opened, 101 with SG's headers. */
    const FlEntry good_auth[] = {FL_S("type", "Basic"), FL_S("username", "al\xc3\xaf" "ce"),
                                 FL_S("password", "p\xc3\xa4ss w0rd")};
    const FlEntry good[] = {FL_DICT_OF("auth", good_auth)};
    s = peer_test_open_with(port, good, 1);
    CHECK_EQ_INT(fake_socket_state(s).http_status, 101);
    CHECK(fake_socket_headers_contain(s, "Sec-Websocket-Protocol"));
    CHECK(fake_socket_headers_contain(s, PEER_TEST_PROTOCOL));
    CHECK(fake_socket_headers_contain(s, "X-Correlation-Id"));
    fake_socket_request_close(s, 1000, "");
    CHECK_EQ_INT(peer_test_finish(s, 10000).closed_error.code, 0);

    /* Wrong password: 401 "Invalid login" with Www-Authenticate, delivered before closed. */
    const FlEntry bad_auth[] = {FL_S("username", "al\xc3\xaf" "ce"), FL_S("password", "nope")};
    const FlEntry bad[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_DICT_OF("auth", bad_auth)};
    FakeSocketState st = open_fail(port, "/db/_blipsync", bad, 2, &s);
    CHECK_EQ_INT(st.http_status, 401);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 401);
    CHECK_CONTAINS(st.closed_message, "Invalid login");
    CHECK(fake_socket_headers_contain(s, "Www-Authenticate"));
    CHECK(fake_socket_headers_contain(s, "Basic realm=\"Couchbase Sync Gateway\""));
    done(s);

    /* No credentials and no guest: 401 "Login required". */
    const FlEntry anon[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL)};
    st = open_fail(port, "/db/_blipsync", anon, 1, &s);
    CHECK_EQ_INT(st.closed_error.code, 401);
    CHECK_CONTAINS(st.closed_message, "Login required");
    done(s);

    /* Unknown database: SG 3.1+ answers 401 too (names do not leak). */
    st = open_fail(port, "/nosuchdb/_blipsync", anon, 1, &s);
    CHECK_EQ_INT(st.closed_error.code, 401);
    done(s);

    /* A subprotocol SG does not speak: 500 with SG's text/plain reason. */
    const FlEntry alien[] = {FL_S("WS-Protocols", "BLIP_3+CBMobile_99"), FL_DICT_OF("auth", good_auth)};
    st = open_fail(port, "/db/_blipsync", alien, 2, &s);
    CHECK_EQ_INT(st.http_status, 500);
    CHECK_EQ_INT(st.closed_error.code, 500);
    CHECK_CONTAINS(st.closed_message, "I only speak");
    done(s);
    fake_peer_stop(&sg);

    /* SG 3.0 answers 404 with a JSON reason for an unknown database. */
    peer_test_start_sg(&sg, argv + 1, "--sg-version", "3.0");
    port = (uint16_t)fake_peer_int(&sg, "public");
    st = open_fail(port, "/nosuchdb/_blipsync", anon, 1, &s);
    CHECK_EQ_INT(st.http_status, 404);
    CHECK_EQ_INT(st.closed_error.code, 404);
    CHECK_CONTAINS(st.closed_message, "no such database");
    done(s);
    fake_peer_stop(&sg);
    puts("http_errors ok");
    return 0;
}
