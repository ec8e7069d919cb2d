/* auth.challengeAuth: no credentials on the first request; a 401 whose Www-Authenticate asks for
 * Basic is answered once with them, on a new connection (LiteCore's built-in does the same). A
 * second 401 ends the attempt (never a loop); a 401 without a Basic challenge is final at once.
 * LiteCore sees exactly one gotHTTPResponse: the answer that ended the attempts, and over wss one
 * gotPeerCertificate (both connections present the same certificate). Over ws and wss.
 * argv: python3 path/to/peers.py */
#include "sg_admin.h"

static uint16_t g_admin;

/* Over wss both connections present the same certificate: the app is asked once. */
static int g_want_peer_cert_calls;
static void peer_cert_asked_once(C4Socket *s) {
    CHECK_EQ_INT(fake_socket_state(s).peer_cert_calls, g_want_peer_cert_calls);
}

static Outcome challenge(const char *scheme, const char *host, uint16_t port, const void *ca, size_t ca_size,
                         const char *password) {
    const FlEntry auth[] = {FL_S("username", "alice"), FL_S("password", password), FL_B("challengeAuth", 1)};
    const FlEntry opts[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_DICT_OF("auth", auth),
                            FL_D("rootCerts", ca, ca_size)};
    sg_clear_requests(g_admin);
    g_want_peer_cert_calls = ca ? 1 : 0;
    return attempt_ex(scheme, host, port, "/db/_blipsync", opts, ca ? 3 : 2, NULL, peer_cert_asked_once);
}

static void run(const char *scheme, const char *host, uint16_t port, const void *ca, size_t ca_size) {
    printf("-- %s\n", scheme);
    /* Right password: 401 challenge, then 101. */
    CHECK_OPENED(challenge(scheme, host, port, ca, ca_size, "pw1"));
    char *log = sg_requests(g_admin);
    CHECK_EQ_INT(sg_request_count(log), 2);
    free(log);
    CHECK(!sg_request_has(g_admin, 0, "Authorization", NULL));
    CHECK(sg_request_has(g_admin, 1, "Authorization", "Basic YWxpY2U6cHcx"));

    /* Wrong password: answered once, then the second 401 is LiteCore's error. */
    Outcome o = challenge(scheme, host, port, ca, ca_size, "wrong");
    CHECK_FAILED(o, 6, 401, "Invalid login");
    CHECK_EQ_INT(o.http_status, 401);
    log = sg_requests(g_admin);
    CHECK_EQ_INT(sg_request_count(log), 2);
    free(log);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--", (char *)"--user", (char *)"alice:pw1", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    size_t ca_size = 0;
    void *ca = peer_test_read_ca(&peers, &ca_size);
    peer_test_init();
    run("ws", "127.0.0.1", (uint16_t)fake_peer_int(&peers, "public"), NULL, 0);
    run("wss", "localhost", (uint16_t)fake_peer_int(&peers, "tls"), ca, ca_size);
    free(ca);
    fake_peer_stop(&peers);

    /* SG configured not to send Www-Authenticate: nothing asks for Basic, so nothing is retried. */
    char *plain_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--no-tls", (char *)"--", (char *)"--user",
                          (char *)"alice:pw1", (char *)"--no-www-authenticate", NULL};
    CHECK(fake_peer_start(&peers, plain_argv, 30000));
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    Outcome o = challenge("ws", "127.0.0.1", (uint16_t)fake_peer_int(&peers, "public"), NULL, 0, "pw1");
    CHECK_FAILED(o, 6, 401, "Login required");
    char *log = sg_requests(g_admin);
    CHECK_EQ_INT(sg_request_count(log), 1);
    free(log);
    fake_peer_stop(&peers);
    puts("challenge_auth ok");
    return 0;
}
