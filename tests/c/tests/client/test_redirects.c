/* Redirects before the upgrade (a proxy or load balancer in front of SG may answer them): 301,
 * 302, 307, 308 to a path or an absolute URL are followed on a new connection; credentials and
 * the cookies option go only to the replicator's own origin; more than 10 redirects end with
 * {Network, 5 TooManyRedirects}; wss → ws and unusable Locations with {Network, 12
 * InvalidRedirect}. LiteCore gets one gotHTTPResponse: the final answer.
 * argv: python3 path/to/peers.py */
#include "sg_admin.h"

static uint16_t g_admin, g_public, g_tls;
static void *g_ca;
static size_t g_ca_size;

static void redirect(const char *from, int status, const char *location) {
    char body[512];
    snprintf(body, sizeof body, "{\"path\":\"%s\",\"status\":%d,\"location\":\"%s\"}", from, status, location);
    sg_admin_do(g_admin, "POST", "/_debug/redirect", body);
}

static Outcome go(const char *scheme, const char *host, uint16_t port, const char *path) {
    const FlEntry auth[] = {FL_S("username", "alice"), FL_S("password", "pw1")};
    const FlEntry opts[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_DICT_OF("auth", auth),
                            FL_S("cookies", "app=1"), FL_D("rootCerts", g_ca, g_ca_size)};
    sg_clear_requests(g_admin);
    return attempt_ex(scheme, host, port, path, opts, 4, NULL, NULL);
}

static int requests(void) {
    char *log = sg_requests(g_admin);
    int n = sg_request_count(log);
    free(log);
    return n;
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--",     (char *)"--user",
                         (char *)"alice:pw1", (char *)"--guest", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    g_public = (uint16_t)fake_peer_int(&peers, "public");
    g_tls = (uint16_t)fake_peer_int(&peers, "tls");
    char url[256];
    g_ca = peer_test_read_ca(&peers, &g_ca_size);
    peer_test_init();

    /* Same origin, a chain of three statuses: credentials and cookies follow. */
    redirect("/a/_blipsync", 301, "/b/_blipsync");
    redirect("/b/_blipsync", 308, "/c/_blipsync");
    redirect("/c/_blipsync", 307, "/db/_blipsync");
    CHECK_OPENED(go("ws", "127.0.0.1", g_public, "/a/_blipsync"));
    CHECK_EQ_INT(requests(), 4);
    CHECK(sg_request_has(g_admin, 3, "Authorization", "Basic YWxpY2U6cHcx"));
    CHECK(sg_request_has(g_admin, 3, "Cookie", "app=1"));
    /* The same over wss, through nginx. */
    CHECK_OPENED(go("wss", "localhost", g_tls, "/a/_blipsync"));
    CHECK_EQ_INT(requests(), 4);

    /* An absolute http URL on the same origin counts as ws. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/db/_blipsync", g_public);
    redirect("/abs/_blipsync", 302, url);
    CHECK_OPENED(go("ws", "127.0.0.1", g_public, "/abs/_blipsync"));
    CHECK(sg_request_has(g_admin, 1, "Authorization", "Basic YWxpY2U6cHcx"));

    /* Another origin (host localhost instead of 127.0.0.1): no credentials, no cookies there; the
     * guest-enabled SG lets the anonymous request in. */
    snprintf(url, sizeof url, "ws://localhost:%u/db/_blipsync", g_public);
    redirect("/away/_blipsync", 302, url);
    CHECK_OPENED(go("ws", "127.0.0.1", g_public, "/away/_blipsync"));
    CHECK_EQ_INT(requests(), 2);
    CHECK(sg_request_has(g_admin, 0, "Authorization", "Basic YWxpY2U6cHcx"));
    CHECK(sg_request_has(g_admin, 0, "Cookie", "app=1"));
    CHECK(!sg_request_has(g_admin, 1, "Authorization", NULL));
    CHECK(!sg_request_has(g_admin, 1, "Cookie", NULL));
    char host[64];
    snprintf(host, sizeof host, "localhost:%u", g_public);
    CHECK(sg_request_has(g_admin, 1, "Host", host));

    /* A loop: 10 redirects followed, the 11th answer ends it. */
    redirect("/loop/_blipsync", 307, "/loop/_blipsync");
    Outcome o = go("ws", "127.0.0.1", g_public, "/loop/_blipsync");
    CHECK_FAILED(o, 5, 5, "redirects");
    CHECK_EQ_INT(o.http_status, 307);
    CHECK_EQ_INT(requests(), 11);

    /* wss → ws would drop TLS: refused, nothing sent to the plain port. */
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/db/_blipsync", g_public);
    redirect("/down/_blipsync", 302, url);
    CHECK_FAILED(go("wss", "localhost", g_tls, "/down/_blipsync"), 5, 12, "not encrypted");
    CHECK_EQ_INT(requests(), 1);

    /* Locations that cannot be followed. */
    redirect("/ftp/_blipsync", 302, "ftp://127.0.0.1/x");
    CHECK_FAILED(go("ws", "127.0.0.1", g_public, "/ftp/_blipsync"), 5, 12, "redirect");
    redirect("/empty/_blipsync", 302, "");
    CHECK_FAILED(go("ws", "127.0.0.1", g_public, "/empty/_blipsync"), 5, 12, "Location");

    free(g_ca);
    fake_peer_stop(&peers);
    puts("redirects ok");
    return 0;
}
