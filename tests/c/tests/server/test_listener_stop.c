/* The listener ending with live sockets, litecore-ws's client and the fake LiteCore on both ends.
 * Proves:
 *  - unshare closes only the sockets of the database it unshares: their clients get
 *    {WebSocket, 4001} (transient: LiteCore clients retry), the server sockets one closed each,
 *    release_database is called once; the other database's clients go on echoing; a new client
 *    for the unshared name gets 404;
 *  - lcws_listener_free with 6 live sockets over two databases, opened concurrently: every client
 *    gets {WebSocket, 4001}, every server socket exactly one closed (then Stopped, release,
 *    dispose), free returns OK only after all that, release_database for each share;
 *  - a connection handed to the host but not yet opened by LiteCore when the listener stops is
 *    answered 503 (transient); LiteCore opening its socket during the stop gets its one closed
 *    (never opened), and free waits for that replicator's release too.
 * argv: none */
#include "listener_test.h"

static void echo_once(C4Socket *cl, const char *text) {
    size_t len = strlen(text), n = 0;
    fake_socket_write(cl, text, len);
    char *echo = (char *)fake_socket_next_message(cl, 10000, &n);
    CHECK(echo != NULL && n == len && memcmp(echo, text, len) == 0);
    free(echo);
}

/* What the listener's 4001 looks like to a client. */
static void check_going_away(C4Socket *cl) {
    FakeSocketState st = peer_test_finish(cl, 20000);
    CHECK_ERROR(st, 6, 4001);
    CHECK_EQ_INT(st.close_requested_calls, 1);
}

/* LiteCore opening the not-yet-opened socket while the listener stops: once its client had the
 * 503 (the listener refuses it first thing when stopping). */
static C4Socket *g_late_client, *g_late_server;
static void *open_late(void *unused) {
    (void)unused;
    CHECK(fake_wait_closed(g_late_client, 20000));
    fake_passive_open_now(g_late_server);
    return NULL;
}

int main(void) {
    lt_init();
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    static int db_a, db_b;
    lt_share(l, "a", &db_a);
    lt_share(l, "b", &db_b);
    uint16_t port = lcws_listener_port(l);

    /* Unshare: two clients on "a", one on "b". */
    C4Socket *a1 = lt_client("ws", port, "a", NULL, 0);
    C4Socket *a2 = lt_client("ws", port, "a", NULL, 0);
    C4Socket *b1 = lt_client("ws", port, "b", NULL, 0);
    CHECK(lt_wait_count(&lt.accepted, 3, 5000));
    echo_once(a1, "a1");
    echo_once(b1, "b1");
    CHECK_EQ_INT(lcws_listener_unshare(l, &db_a), 1);
    CHECK_EQ_INT(lt.databases_released, 1);
    check_going_away(a1);
    check_going_away(a2);
    for (int i = 0; i < 2; i++) {
        FakeSocketState st = lt_finish_server(i, 10000);
        CHECK(strcmp(lt.databases[i], "a") == 0);
        CHECK_ERROR(st, 6, 4001);
    }
    echo_once(b1, "still here");
    FakeSocketState st = lt_client_fails("ws", port, "a", NULL, 0, NULL);
    CHECK_ERROR(st, 6, 404);
    CHECK_EQ_INT(lcws_listener_unshare(l, &db_a), 0);

    /* Stop: six clients over two databases, opened at once. */
    lt_share(l, "a", &db_a);
    C4Socket *clients[7];
    clients[0] = b1;
    for (int i = 1; i < 6; i++) clients[i] = lt_client_nowait("ws", port, i % 2 ? "a" : "b", NULL, 0, NULL);
    for (int i = 1; i < 6; i++) {
        CHECK(fake_wait_opened(clients[i], 20000));
        echo_once(clients[i], "hi");
    }
    CHECK(lt_wait_count(&lt.accepted, 8, 5000));
    /* One more that LiteCore will not open before the listener stops. */
    lt.open_mode = FAKE_OPEN_LATER;
    clients[6] = lt_client_nowait("ws", port, "a", NULL, 0, NULL);
    C4Socket *late = lt_server(8);
    g_late_client = clients[6];
    g_late_server = late;
    pthread_t opener;
    CHECK(pthread_create(&opener, NULL, open_late, NULL) == 0);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    pthread_join(opener, NULL);
    /* free returned: every live socket already had its closed, every replicator its release. */
    for (int i = 2; i < 8; i++) {
        C4Socket *sv = lt_server(i);
        FakeSocketState s = fake_socket_state(sv);
        CHECK_EQ_INT(s.closed_calls, 1);
        CHECK(lt_wait_released(i, 0));
    }
    for (int i = 0; i < 6; i++) check_going_away(clients[i]);
    for (int i = 2; i < 8; i++) {
        st = lt_finish_server(i, 1000);
        CHECK_ERROR(st, 6, 4001);
    }
    /* The connection LiteCore had not opened: its client got 503; its socket, opened by LiteCore
     * during the stop, was closed (never opened) and released before free returned. */
    st = peer_test_finish(clients[6], 10000);
    CHECK_ERROR(st, 6, 503);
    st = lt_finish_server(8, 1000);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK(st.closed_error.code != 0);
    CHECK_EQ_INT(lt.databases_released, 3);
    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_stop ok");
    return 0;
}
