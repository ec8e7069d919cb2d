/* Every authentication type against the SG stand-in, over ws and over wss (nginx in front):
 * Basic, session cookie (default and configured name, unknown and expired session), bearer
 * (OpenID Connect), SG 4.1's one-time session; each accepted and refused with SG's own 401 and
 * reason, delivered to LiteCore (gotHTTPResponse) before closed. The stand-in's request log
 * shows the exact header each type put on the wire; litecore-ws's log (at debug level) never
 * shows a password, token or session id.
 * argv: python3 path/to/peers.py */
#include "sg_admin.h"

typedef struct Target {
    const char *scheme, *host;
    uint16_t port;
    const void *ca;
    size_t ca_size;
} Target;

static uint16_t g_admin;

/* Opens with `opts` (+ WS-Protocols, + rootCerts for wss). */
static Outcome try_auth(const Target *t, const FlEntry *opts, size_t n) {
    FlEntry all[12];
    size_t k = 0;
    all[k++] = (FlEntry)FL_S("WS-Protocols", PEER_TEST_PROTOCOL);
    for (size_t i = 0; i < n; i++) all[k++] = opts[i];
    if (t->ca) all[k++] = (FlEntry)FL_D("rootCerts", t->ca, t->ca_size);
    sg_clear_requests(g_admin);
    return attempt(t->scheme, t->host, t->port, all, k);
}

static void run(const Target *t, char secrets_seen[][128], int *n_secrets) {
    printf("-- %s\n", t->scheme);
    char sid[128];

    /* Basic: right, wrong, missing. */
    const FlEntry basic_ok[] = {FL_S("type", "Basic"), FL_S("username", "alice"), FL_S("password", "pw1")};
    const FlEntry o1[] = {FL_DICT_OF("auth", basic_ok)};
    CHECK_OPENED(try_auth(t, o1, 1));
    CHECK(sg_request_has(g_admin, 0, "Authorization", "Basic YWxpY2U6cHcx")); /* alice:pw1 */
    /* No type means Basic, as in LiteCore. */
    const FlEntry basic_untyped[] = {FL_S("username", "alice"), FL_S("password", "pw1")};
    const FlEntry o1b[] = {FL_DICT_OF("auth", basic_untyped)};
    CHECK_OPENED(try_auth(t, o1b, 1));
    const FlEntry basic_bad[] = {FL_S("username", "alice"), FL_S("password", "wrong")};
    const FlEntry o2[] = {FL_DICT_OF("auth", basic_bad)};
    Outcome o = try_auth(t, o2, 1);
    CHECK_FAILED(o, 6, 401, "Invalid login");
    CHECK_EQ_INT(o.http_status, 401);
    CHECK_FAILED(try_auth(t, NULL, 0), 6, 401, "Login required");

    /* Session, default cookie name. */
    sg_new_session(g_admin, "alice", sid, sizeof sid);
    snprintf(secrets_seen[(*n_secrets)++], 128, "%s", sid);
    const FlEntry sess[] = {FL_S("type", "Session"), FL_S("token", sid)};
    const FlEntry o3[] = {FL_DICT_OF("auth", sess)};
    CHECK_OPENED(try_auth(t, o3, 1));
    char cookie[256];
    snprintf(cookie, sizeof cookie, "SyncGatewaySession=%s", sid);
    CHECK(sg_request_has(g_admin, 0, "Cookie", cookie));
    CHECK(!sg_request_has(g_admin, 0, "Authorization", NULL));

    /* The session wins over a stale one in the cookies option; other cookies stay; one header. */
    const FlEntry o3b[] = {FL_DICT_OF("auth", sess), FL_S("cookies", "SyncGatewaySession=stale; app=1")};
    CHECK_OPENED(try_auth(t, o3b, 2));
    snprintf(cookie, sizeof cookie, "SyncGatewaySession=%s; app=1", sid);
    CHECK(sg_request_has(g_admin, 0, "Cookie", cookie));

    /* Expired, then unknown session: SG's "Session Invalid". */
    char path[256];
    snprintf(path, sizeof path, "/db/_session/%s/_expire", sid);
    sg_admin_do(g_admin, "POST", path, NULL);
    CHECK_FAILED(try_auth(t, o3, 1), 6, 401, "Session Invalid");
    const FlEntry sess_unknown[] = {FL_S("type", "Session"), FL_S("token", "0123456789abcdef")};
    const FlEntry o4[] = {FL_DICT_OF("auth", sess_unknown)};
    CHECK_FAILED(try_auth(t, o4, 1), 6, 401, "Session Invalid");

    /* A configured cookie name (SG's session_cookie_name; `cookie_name` of POST /_session). */
    sg_admin_do(g_admin, "PUT", "/db/_config", "{\"session_cookie_name\":\"MySession\"}");
    sg_new_session(g_admin, "alice", sid, sizeof sid);
    snprintf(secrets_seen[(*n_secrets)++], 128, "%s", sid);
    const FlEntry sess_named[] = {FL_S("type", "Session"), FL_S("token", sid), FL_S("cookieName", "MySession")};
    const FlEntry o5[] = {FL_DICT_OF("auth", sess_named)};
    CHECK_OPENED(try_auth(t, o5, 1));
    snprintf(cookie, sizeof cookie, "MySession=%s", sid);
    CHECK(sg_request_has(g_admin, 0, "Cookie", cookie));
    /* Without cookieName the id goes out as SyncGatewaySession, which this SG ignores. */
    const FlEntry sess_unnamed[] = {FL_S("type", "Session"), FL_S("token", sid)};
    const FlEntry o6[] = {FL_DICT_OF("auth", sess_unnamed)};
    CHECK_FAILED(try_auth(t, o6, 1), 6, 401, "Login required");
    sg_admin_do(g_admin, "PUT", "/db/_config", "{\"session_cookie_name\":\"SyncGatewaySession\"}");

    /* Bearer (OpenID Connect): right and wrong token; SG's bad-bearer 401 has no challenge. */
    const FlEntry bearer[] = {FL_S("type", "OpenID Connect"), FL_S("token", "tok123")};
    const FlEntry o7[] = {FL_DICT_OF("auth", bearer)};
    CHECK_OPENED(try_auth(t, o7, 1));
    CHECK(sg_request_has(g_admin, 0, "Authorization", "Bearer tok123"));
    const FlEntry bearer_bad[] = {FL_S("type", "OpenID Connect"), FL_S("token", "nottok")};
    const FlEntry o8[] = {FL_DICT_OF("auth", bearer_bad)};
    CHECK_FAILED(try_auth(t, o8, 1), 6, 401, "Invalid login");

    /* SG 4.1's one-time session: an extra subprotocol item, accepted once. */
    char *json = sg_admin(g_admin, "POST", "/db/_session?one_time=true", "{\"name\":\"alice\"}", 1);
    char ots[128];
    fake_json_str(json, "one_time_session_id", ots, sizeof ots);
    if (!ots[0]) fake_json_str(json, "session_id", ots, sizeof ots);
    free(json);
    CHECK(ots[0] != 0);
    snprintf(secrets_seen[(*n_secrets)++], 128, "%s", ots);
    const FlEntry one_time[] = {FL_S("type", "Session"), FL_S("oneTimeSession", ots)};
    const FlEntry o9[] = {FL_DICT_OF("auth", one_time)};
    CHECK_OPENED(try_auth(t, o9, 1));
    char protos[256];
    snprintf(protos, sizeof protos, "%s,SyncGatewaySession_%s", PEER_TEST_PROTOCOL, ots);
    CHECK(sg_request_has(g_admin, 0, "Sec-WebSocket-Protocol", protos));
    CHECK_FAILED(try_auth(t, o9, 1), 6, 401, "Session Invalid");

    /* An auth type litecore-ws does not know: refused before any I/O, naming the type. */
    const FlEntry fb[] = {FL_S("type", "Facebook"), FL_S("token", "x")};
    const FlEntry o10[] = {FL_DICT_OF("auth", fb)};
    o = try_auth(t, o10, 1);
    CHECK_FAILED(o, 1, 9, "Facebook");
    CHECK_EQ_INT(o.http_calls, 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--", (char *)"--user", (char *)"alice:pw1",
                         (char *)"--bearer", (char *)"tok123:bob", (char *)"--sg-version", (char *)"4.1", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    size_t ca_size = 0;
    void *ca = peer_test_read_ca(&peers, &ca_size);
    peer_test_init();
    lcws_set_log_level(0); /* debug: request and response headers are logged (masked) */
    fake_reset_log();

    char secrets_seen[8][128];
    int n_secrets = 0;
    const Target ws = {"ws", "127.0.0.1", (uint16_t)fake_peer_int(&peers, "public"), NULL, 0};
    const Target wss = {"wss", "localhost", (uint16_t)fake_peer_int(&peers, "tls"), ca, ca_size};
    run(&ws, secrets_seen, &n_secrets);
    run(&wss, secrets_seen, &n_secrets);

    /* The log saw every request and answer, masked. */
    const char *log = fake_captured_log();
    CHECK_CONTAINS(log, "Authorization: Basic ***");
    CHECK(strstr(log, "pw1") == NULL);
    CHECK(strstr(log, "YWxpY2U6cHcx") == NULL);
    CHECK(strstr(log, "tok123") == NULL);
    for (int i = 0; i < n_secrets; i++) {
        if (strstr(log, secrets_seen[i])) {
            fprintf(stderr, "secret %d reached the log\n", i);
            return 1;
        }
    }
    free(ca);
    fake_peer_stop(&peers);
    puts("auth ok");
    return 0;
}
