/* The upgrade request's headers and the cookies around it:
 *  - the `headers` option reaches SG byte-exact, User-Agent may be replaced (default
 *    litecore-ws/<version>); injection attempts (CR/LF, bad names, the handshake's own headers,
 *    Host) fail the open with {LiteCore, 9} before anything is sent;
 *  - several Set-Cookie lines of a 101 all reach LiteCore (gotHTTPResponse);
 *  - with a database in the factory's context, every Set-Cookie is stored (c4db_setCookie) and
 *    the stored cookies are sent on the next connection (c4db_getCookies). LiteCore's store
 *    lower-cases names; the session cookie goes out under its real name again, once, so a session
 *    SG refreshed survives an app restart.
 * argv: python3 path/to/peers.py */
#include "sg_admin.h"

static uint16_t g_admin, g_public;

static Outcome guest(const FlEntry *extra, size_t n, void *db) {
    FlEntry all[8];
    size_t k = 0;
    all[k++] = (FlEntry)FL_S("WS-Protocols", PEER_TEST_PROTOCOL);
    for (size_t i = 0; i < n; i++) all[k++] = extra[i];
    sg_clear_requests(g_admin);
    return attempt_ex("ws", "127.0.0.1", g_public, "/db/_blipsync", all, k, db, NULL);
}

static void refused(const char *what, const FlEntry *extra, size_t n) {
    Outcome o = guest(extra, n, NULL);
    CHECK_FAILED(o, 1, 9, what);
    CHECK_EQ_INT(o.http_calls, 0);
    char *log = sg_requests(g_admin);
    CHECK_EQ_INT(sg_request_count(log), 0);
    free(log);
}

static void two_cookies_delivered(C4Socket *s) {
    CHECK(fake_socket_headers_contain(s, "Set-Cookie"));
    CHECK(fake_socket_headers_contain(s, "a=1; Path=/db"));
    CHECK(fake_socket_headers_contain(s, "b=2; Path=/db; HttpOnly"));
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--no-tls", (char *)"--", (char *)"--user",
                         (char *)"alice:pw1", (char *)"--guest", (char *)"--refresh-sessions-always", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    g_public = (uint16_t)fake_peer_int(&peers, "public");
    peer_test_init();

    /* Extra headers, byte-exact; the default User-Agent; then a replaced one. */
    const FlEntry hdrs[] = {FL_S("X-Test-Bed", "1"), FL_S("X-Spaces", "a  b\tc"), FL_S("X-Empty", "")};
    const FlEntry o1[] = {FL_DICT_OF("headers", hdrs)};
    CHECK_OPENED(guest(o1, 1, NULL));
    CHECK(sg_request_has(g_admin, 0, "X-Test-Bed", "1"));
    CHECK(sg_request_has(g_admin, 0, "X-Spaces", "a  b\\tc"));
    CHECK(sg_request_has(g_admin, 0, "X-Empty", ""));
    char ua[64];
    snprintf(ua, sizeof ua, "litecore-ws/%s", lcws_version());
    CHECK(sg_request_has(g_admin, 0, "User-Agent", ua));
    const FlEntry ua_hdr[] = {FL_S("User-Agent", "MyApp/2.0 (Qt)")};
    const FlEntry o2[] = {FL_DICT_OF("headers", ua_hdr)};
    CHECK_OPENED(guest(o2, 1, NULL));
    CHECK(sg_request_has(g_admin, 0, "User-Agent", "MyApp/2.0 (Qt)"));
    CHECK(!sg_request_has(g_admin, 0, "User-Agent", ua));

    /* Injection attempts. */
    const FlEntry crlf[] = {FL_S("X-Evil", "a\r\nX-Injected: 1")};
    const FlEntry e1[] = {FL_DICT_OF("headers", crlf)};
    refused("X-Evil", e1, 1);
    const FlEntry bad_name[] = {FL_S("Bad Name", "x")};
    const FlEntry e2[] = {FL_DICT_OF("headers", bad_name)};
    refused("Bad Name", e2, 1);
    const FlEntry key[] = {FL_S("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA==")};
    const FlEntry e3[] = {FL_DICT_OF("headers", key)};
    refused("sec-websocket-key", e3, 1);
    const FlEntry host[] = {FL_S("Host", "elsewhere")};
    const FlEntry e4[] = {FL_DICT_OF("headers", host)};
    refused("Host", e4, 1);
    const FlEntry e5[] = {FL_S("cookies", "a=1\r\nX-Injected: 1")};
    refused("cookies", e5, 1);
    const FlEntry tok[] = {FL_S("type", "Session"), FL_S("token", "abc\ndef")};
    const FlEntry e6[] = {FL_DICT_OF("auth", tok)};
    refused("auth.token", e6, 1);

    /* Several Set-Cookie lines on the 101: all delivered. */
    sg_admin_do(g_admin, "PUT", "/_debug/set-cookies", "{\"cookies\":[\"a=1; Path=/db\",\"b=2; Path=/db; HttpOnly\"]}");
    const FlEntry proto[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL)};
    Outcome o = attempt_ex("ws", "127.0.0.1", g_public, "/db/_blipsync", proto, 1, NULL, two_cookies_delivered);
    CHECK_OPENED(o);

    /* The database cookie store. A session login; SG refreshes the session (Set-Cookie). */
    static int database; /* any non-NULL pointer stands for the C4Database* */
    fake_cookies_clear();
    char sid[128], cookie[256];
    sg_new_session(g_admin, "alice", sid, sizeof sid);
    const FlEntry sess[] = {FL_S("type", "Session"), FL_S("token", sid)};
    const FlEntry o3[] = {FL_DICT_OF("auth", sess)};
    CHECK_OPENED(guest(o3, 1, &database));
    CHECK_EQ_INT(fake_cookies_set_calls(), 3); /* the session and the two extra cookies */
    snprintf(cookie, sizeof cookie, "syncgatewaysession=%s", sid);
    CHECK_CONTAINS(fake_cookies_text(), cookie); /* lower-cased by the store, as LiteCore does */
    /* Without a database nothing is stored. */
    CHECK_OPENED(guest(o3, 1, NULL));
    CHECK_EQ_INT(fake_cookies_set_calls(), 3);

    /* "After a restart": no auth option at all, only the store. SG sees its own cookie name. */
    sg_admin_do(g_admin, "PUT", "/_debug/set-cookies", "{\"cookies\":[]}");
    sg_admin_do(g_admin, "PUT", "/db/_config", "{\"guest\":false}");
    CHECK_OPENED(guest(NULL, 0, &database));
    snprintf(cookie, sizeof cookie, "SyncGatewaySession=%s; a=1; b=2", sid);
    CHECK(sg_request_has(g_admin, 0, "Cookie", cookie));
    /* The cookies option comes before the store; the same name is sent once. */
    const FlEntry o4[] = {FL_S("cookies", "b=option; c=3")};
    CHECK_OPENED(guest(o4, 1, &database));
    snprintf(cookie, sizeof cookie, "b=option; c=3; SyncGatewaySession=%s; a=1", sid);
    CHECK(sg_request_has(g_admin, 0, "Cookie", cookie));
    /* Without the store the same request is anonymous: 401. */
    CHECK_FAILED(guest(NULL, 0, NULL), 6, 401, "Login required");

    fake_peer_stop(&peers);
    puts("headers_cookies ok");
    return 0;
}
