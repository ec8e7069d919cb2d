/* Who gets in, through the listener (ws), litecore-ws's client and the fake LiteCore on both ends.
 * Proves:
 *  - Basic auth (check_password set): the right password replicates (accept sees the user);
 *    a wrong or missing password ends the client with {WebSocket, 401} (gotHTTPResponse(401)
 *    first) and NO socket reaches LiteCore on the server (accept is never called); a client
 *    with challengeAuth (no credentials until a 401 with WWW-Authenticate: Basic) gets in with
 *    one retry;
 *  - an unknown database → {WebSocket, 404}; no common subprotocol → {WebSocket, 403} (what
 *    the listener answers; LiteCore stops for good on both), accept not called;
 *  - accept returning NULL (the host could not start a replicator; it frees the socket it made,
 *    which disposes it) → the client gets {WebSocket, 503}, transient;
 *  - max_connections: one over the limit → {WebSocket, 503}, and once a connection is gone a new
 *    client gets in again.
 * argv: none */
#include "listener_test.h"

static const FlEntry basic_ok[] = {FL_S("password", "pw1"), FL_S("type", "Basic"), FL_S("username", "alice")};
static const FlEntry basic_bad[] = {FL_S("password", "nope"), FL_S("type", "Basic"), FL_S("username", "alice")};
static const FlEntry basic_challenge[] = {FL_B("challengeAuth", 1), FL_S("password", "pw1"), FL_S("type", "Basic"),
                                          FL_S("username", "alice")};

/* Echo through a client and its server socket, then the client closes. */
static void use_and_close(C4Socket *cl, int server_index) {
    fake_socket_write(cl, "hello", 5);
    size_t n = 0;
    char *echo = (char *)fake_socket_next_message(cl, 10000, &n);
    CHECK(echo != NULL && n == 5 && memcmp(echo, "hello", 5) == 0);
    free(echo);
    fake_socket_request_close(cl, 1000, "");
    FakeSocketState st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    lt_finish_server(server_index, 10000);
}

int main(void) {
    lt_init();
    lt.password = "pw1";
    LcwsListenerConfig c = lt_config();
    c.check_password = lt_check_password;
    LcwsListener *l = lt_start(&c);
    static int db;
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);

    /* Right password. */
    const FlEntry ok[] = {FL_DICT_OF("auth", basic_ok)};
    C4Socket *cl = lt_client("ws", port, "db", ok, 1);
    CHECK_EQ_INT(lt_count(&lt.password_checks), 1);
    CHECK(lt_wait_count(&lt.accepted, 1, 5000));
    CHECK(strcmp(lt.users[0], "alice") == 0);
    use_and_close(cl, 0);

    /* Wrong and missing passwords: 401, nothing handed to LiteCore. */
    const FlEntry bad[] = {FL_DICT_OF("auth", basic_bad)};
    FakeSocketState st = lt_client_fails("ws", port, "db", bad, 1, NULL);
    CHECK_ERROR(st, 6, 401);
    CHECK_EQ_INT(st.http_status, 401);
    CHECK_EQ_INT(lt_count(&lt.password_checks), 2);
    st = lt_client_fails("ws", port, "db", NULL, 0, NULL);
    CHECK_ERROR(st, 6, 401);
    CHECK_EQ_INT(lt_count(&lt.password_checks), 2); /* no credentials: nothing to check */
    CHECK_EQ_INT(lt_count(&lt.accepted), 1);

    /* challengeAuth: the first request has no credentials, the 401's challenge brings them. */
    const FlEntry challenge[] = {FL_DICT_OF("auth", basic_challenge)};
    cl = lt_client("ws", port, "db", challenge, 1);
    CHECK_EQ_INT(lt_count(&lt.password_checks), 3);
    CHECK_EQ_INT(lt_count(&lt.accepted), 2);
    use_and_close(cl, 1);

    /* Unknown database, no common subprotocol. */
    st = lt_client_fails("ws", port, "nosuchdb", ok, 1, NULL);
    CHECK_ERROR(st, 6, 404);
    st = lt_client_fails("ws", port, "db", ok, 1, "BLIP_3+CBMobile_2");
    CHECK_ERROR(st, 6, 403);
    CHECK_EQ_INT(lt_count(&lt.accepted), 2);

    /* The host refuses (accept returns NULL): 503. */
    lt.refuse = true;
    st = lt_client_fails("ws", port, "db", ok, 1, NULL);
    CHECK_ERROR(st, 6, 503);
    CHECK_EQ_INT(lt_count(&lt.refused), 1);
    lt_finish_refused(2);
    lt.refuse = false;
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* max_connections 1 (no password here). */
    LcwsListenerConfig c1 = lt_config();
    c1.max_connections = 1;
    l = lt_start(&c1);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    cl = lt_client("ws", port, "db", NULL, 0);
    st = lt_client_fails("ws", port, "db", NULL, 0, NULL);
    CHECK_ERROR(st, 6, 503);
    CHECK_EQ_INT(lt_count(&lt.accepted), 4);
    use_and_close(cl, 3);
    /* The slot is free once the connection was released. */
    CHECK(lt_wait_status(l, 0, 5000));
    cl = lt_client("ws", port, "db", NULL, 0);
    use_and_close(cl, 4);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    lt_check_all_finished();
    CHECK_EQ_INT(lt.released, 4);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_auth ok");
    return 0;
}
