/* litecore-ws's client <-> litecore-ws's listener over ws, the fake LiteCore on both ends: the
 * client socket through the usual path (open, gotHTTPResponse(101), opened), the server socket
 * through c4socket_fromNative + a passive replicator (fake_passive_start).
 * Proves:
 *  - accept gets the connection (database name, the agreed subprotocol, no user without
 *    authentication, the peer's address ws://127.0.0.1:<client port>/db/_blipsync);
 *  - the server socket follows the incoming-socket contract (checked by the fake on every call:
 *    open before opened, opened once and never inside open, never gotHTTPResponse, one closed,
 *    nothing after closed but release, retain/release balanced, dispose at the last release);
 *  - messages of 1 B .. 16 MiB arrive byte-exact in both directions, completedWrite adds up to
 *    what was written on both ends;
 *  - the 101 goes out only once LiteCore opened the socket: with the replicator's open delayed
 *    (FAKE_OPEN_LATER) the client stays unopened until it comes; open inside accept
 *    (FAKE_OPEN_INLINE) and from another thread (FAKE_OPEN_THREAD) both work;
 *  - a factory with `attached` (LiteCore 3.4/4.1 call it for fromNative sockets) is harmless;
 *  - a clean close started by either end: the other end gets closeRequested(1000), both get
 *    closed without error, the replicator reports Stopped, the host releases it once;
 *  - lcws_listener_status counts connections until they are released.
 * argv: none */
#include "listener_test.h"

static void check_status(LcwsListener *l, size_t want) {
    size_t connections = 99, active = 99;
    CHECK_EQ_INT(lcws_listener_status(l, &connections, &active), LCWS_STATUS_OK);
    CHECK_EQ_INT(connections, want);
}

int main(void) {
    lt_init();
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    static int db;
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);
    check_status(l, 0);

    /* 1. Open from the replicator's own thread; messages both ways, the client closes. */
    lt.echo = false;
    C4Socket *cl = lt_client("ws", port, "db", NULL, 0);
    C4Socket *sv = lt_server(0);
    CHECK(fake_wait_opened(sv, 10000));
    FakeSocketState st = fake_socket_state(sv);
    CHECK_EQ_INT(st.opened_calls, 1);
    CHECK_EQ_INT(st.refcount, 2); /* the replicator's and litecore-ws's own */
    FakeIncomingState in = fake_incoming_state(sv);
    CHECK(strncmp(in.peer_address, "ws://127.0.0.1:", 15) == 0);
    CHECK(strstr(in.peer_address, "/db/_blipsync") != NULL);
    CHECK(strcmp(lt.databases[0], "db") == 0);
    CHECK(strcmp(lt.protocols[0], LT_PROTOCOL) == 0);
    CHECK(strcmp(lt.users[0], "") == 0);
    check_status(l, 1);
    CHECK_EQ_INT(fake_socket_state(cl).http_status, 101);

    const size_t sizes[] = {1, 2, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 * 1024 * 1024};
    size_t total = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *m = lt_message(sizes[k], k);
        lt_transfer(cl, sv, m, sizes[k]);
        lt_transfer(sv, cl, m, sizes[k]);
        free(m);
        total += sizes[k];
        printf("  %zu bytes both ways\n", sizes[k]);
    }
    CHECK(fake_wait_written(cl, total, 10000));
    CHECK(fake_wait_written(sv, total, 10000));
    CHECK_EQ_INT(fake_socket_state(cl).bytes_written_acked, total);
    CHECK_EQ_INT(fake_socket_state(sv).bytes_written_acked, total);
    CHECK_EQ_INT(fake_socket_state(sv).bytes_received, total);

    fake_socket_request_close(cl, 1000, "done");
    st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    st = lt_finish_server(0, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK(lt_wait_count(&lt.released, 1, 5000));
    CHECK(lt_wait_status(l, 0, 5000));

    /* 2. Open inside accept, a factory with `attached`, the echoing replicator; the server
     *    closes. */
    lt.echo = true;
    lt.open_mode = FAKE_OPEN_INLINE;
    lt.attached = true;
    cl = lt_client("ws", port, "db", NULL, 0);
    sv = lt_server(1);
    CHECK(fake_wait_opened(sv, 10000));
    CHECK_EQ_INT(fake_incoming_state(sv).attached_calls, 1);
    unsigned char *m = lt_message(70000, 3);
    fake_socket_write(cl, m, 70000);
    size_t n = 0;
    unsigned char *echo = (unsigned char *)fake_socket_next_message(cl, 10000, &n);
    CHECK(echo != NULL && n == 70000 && memcmp(echo, m, n) == 0);
    free(echo);
    free(m);
    fake_socket_request_close(sv, 1000, "bye");
    st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.code, 0);
    st = lt_finish_server(1, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 0);
    CHECK_EQ_INT(st.closed_error.code, 0);

    /* 3. The replicator opens late: no 101 before its open. */
    lt.open_mode = FAKE_OPEN_LATER;
    lt.attached = false;
    cl = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
    sv = lt_server(2);
    CHECK(!fake_wait_opened(cl, 500)); /* accept returned, LiteCore has not opened: no answer */
    CHECK_EQ_INT(fake_socket_state(cl).http_response_calls, 0);
    CHECK_EQ_INT(fake_socket_state(sv).opened_calls, 0);
    fake_passive_open_now(sv);
    CHECK(fake_wait_opened(cl, 10000));
    CHECK(fake_wait_opened(sv, 10000));
    fake_socket_write(cl, "ping", 4);
    echo = (unsigned char *)fake_socket_next_message(cl, 10000, &n);
    CHECK(echo != NULL && n == 4 && memcmp(echo, "ping", 4) == 0);
    free(echo);
    fake_socket_request_close(cl, 1000, "");
    st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    lt_finish_server(2, 10000);

    CHECK(lt_wait_count(&lt.released, 3, 5000));
    CHECK(lt_wait_status(l, 0, 5000));
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    CHECK_EQ_INT(lt.databases_released, 1);
    CHECK_EQ_INT(lt.accepted, 3);
    CHECK_EQ_INT(lt.released, 3);
    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_echo ok");
    return 0;
}
