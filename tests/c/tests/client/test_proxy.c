/* Proxies, against a real tinyproxy (tests/peers/proxy_front.py) in front of the SG stand-in and
 * its nginx TLS front (tests/peers/peers.py):
 *  - ws through the proxy (`proxy` option): echo; the stand-in saw the origin-form path and no
 *    Proxy-Authorization header; tinyproxy's log shows the CONNECT;
 *  - wss through the proxy (TLS to the origin inside the tunnel);
 *  - an HTTPS proxy (TLS to the proxy, here a Python TLS listener in front of tinyproxy): ws and
 *    wss (TLS inside TLS) through it, HTTPS_PROXY from the environment, and an untrusted proxy
 *    certificate {Network, 11};
 *  - a proxy with BasicAuth: right credentials open (and the stand-in still sees no
 *    Proxy-Authorization), missing ones fail {WebSocket, 407}, a wrong password (tinyproxy: 401)
 *    fails {WebSocket, 407} too;
 *  - CONNECT to a port the proxy does not allow: {WebSocket, 403}; to a closed port (tinyproxy
 *    answers 500): {WebSocket, 502};
 *  - nothing listening on the proxy's port: {Network, 19} naming the proxy; an unknown proxy
 *    host: {Network, 2};
 *  - HTTP_PROXY honoured; NO_PROXY=127.0.0.1 bypasses it; `proxy.type` "none" ignores it; a
 *    malformed HTTP_PROXY fails {LiteCore, 9} naming the variable;
 *  - `proxy.type` SOCKS: {LiteCore, 19}.
 * Every socket ends with exactly one closed and the exact C4Error; no proxy password in the log.
 * argv: python3 path/to/peers.py path/to/proxy_front.py */
#define _POSIX_C_SOURCE 200809L
#include "peer_test.h"

#include <ctype.h>

#define PROXY_USER "alice"
#define PROXY_PASS "pr0xy-pw"
#define PROXY_PASS_B64 "YWxpY2U6cHIweHktcHc=" /* alice:pr0xy-pw */

static uint16_t g_admin;

/* Waits for opened, echoes one message, closes cleanly. */
static void echo_and_close(C4Socket *s, const char *what) {
    if (!fake_wait_opened(s, 15000)) {
        FakeSocketState st = fake_socket_state(s);
        fprintf(stderr, "%s: not opened: HTTP %d, closed {%d, %d} \"%s\"\n", what, st.http_status,
                st.closed_error.domain, st.closed_error.code, st.closed_message);
        exit(1);
    }
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.http_response_calls, 1);
    CHECK_EQ_INT(st.http_status, 101);
    const char msg[] = "through the tunnel";
    fake_socket_write(s, msg, sizeof msg - 1);
    size_t got_size = 0;
    char *got = (char *)fake_socket_next_message(s, 10000, &got_size);
    CHECK(got != NULL);
    CHECK_EQ_INT(got_size, sizeof msg - 1);
    CHECK(memcmp(got, msg, got_size) == 0);
    free(got);
    fake_socket_request_close(s, 1000, "done");
    st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    printf("  %s: echoed and closed cleanly\n", what);
}

/* Waits for the one closed and checks it is {domain, code} with `text` in the message, and
 * that the proxy's answer never reached LiteCore as gotHTTPResponse. */
static void expect_error(C4Socket *s, int domain, int code, const char *text, const char *what) {
    FakeSocketState st = peer_test_finish(s, 20000);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_EQ_INT(st.closed_error.domain, domain);
    CHECK_EQ_INT(st.closed_error.code, code);
    CHECK_CONTAINS(st.closed_message, text);
    printf("  %s: {%d, %d} as expected\n", what, domain, code);
}

/* Occurrences of "CONNECT 127.0.0.1:<port>" / "CONNECT localhost:<port>" in tinyproxy's log. */
static int connects_logged(const char *log_path, const char *host, uint16_t port) {
    size_t size = 0;
    char *log = (char *)fake_read_file(log_path, &size);
    if (!log) return 0;
    char *text = (char *)malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, log, size);
    text[size] = 0;
    free(log);
    char needle[128];
    snprintf(needle, sizeof needle, "CONNECT %s:%u HTTP/1.1", host, (unsigned)port);
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    free(text);
    return n;
}

/* The stand-in's record of upgrade requests since the last reset: every one used the
 * origin-form path and none carried Proxy-Authorization. Returns how many there were. */
static int check_origin_requests(void) {
    int status = 0;
    char *body = fake_http(g_admin, "GET", "/_debug/requests", NULL, &status);
    CHECK(body != NULL);
    CHECK_EQ_INT(status, 200);
    for (char *p = body; *p; p++) *p = (char)tolower((unsigned char)*p);
    CHECK(strstr(body, "proxy-authorization") == NULL);
    CHECK(strstr(body, "\"path\":\"http") == NULL); /* never absolute-form */
    int n = 0;
    for (const char *p = strstr(body, "\"path\":\"/db/_blipsync\""); p; p = strstr(p + 1, "\"path\":\"/db/_blipsync\""))
        n++;
    free(body);
    body = fake_http(g_admin, "DELETE", "/_debug/requests", NULL, &status);
    CHECK(body != NULL);
    free(body);
    return n;
}

static void clear_proxy_env(void) {
    const char *names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                           "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unsetenv(names[i]);
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    clear_proxy_env();
    FakePeer peers, open_proxy, auth_proxy;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--", (char *)"--guest", NULL};
    CHECK(fake_peer_start(&peers, peer_argv, 30000));
    uint16_t ws_port = (uint16_t)fake_peer_int(&peers, "public");
    uint16_t tls_port = (uint16_t)fake_peer_int(&peers, "tls");
    g_admin = (uint16_t)fake_peer_int(&peers, "admin");
    char cert_path[1024], key_path[1024];
    fake_peer_str(&peers, "cert", cert_path, sizeof cert_path);
    fake_peer_str(&peers, "key", key_path, sizeof key_path);
    CHECK(ws_port && tls_port && g_admin && cert_path[0] && key_path[0]);
    size_t ca_size = 0;
    void *ca = peer_test_read_ca(&peers, &ca_size);

    uint16_t closed_port = fake_closed_port();
    CHECK(closed_port != 0);
    char closed_port_s[8];
    snprintf(closed_port_s, sizeof closed_port_s, "%u", (unsigned)closed_port);
    /* Proxy A: no auth, CONNECT allowed to the stand-in's public and TLS ports and to a closed port only; also served
     * over TLS (an HTTPS proxy) with the test CA's localhost/127.0.0.1 certificate. */
    char ws_port_s[8], tls_port_s[8];
    snprintf(ws_port_s, sizeof ws_port_s, "%u", (unsigned)ws_port);
    snprintf(tls_port_s, sizeof tls_port_s, "%u", (unsigned)tls_port);
    char *a_argv[] = {argv[1], argv[3], (char *)"--quiet", (char *)"--connect-port", ws_port_s,
                      (char *)"--connect-port", tls_port_s, (char *)"--connect-port", closed_port_s,
                      (char *)"--tls-cert", cert_path,
                      (char *)"--tls-key", key_path, NULL};
    CHECK(fake_peer_start(&open_proxy, a_argv, 30000));
    uint16_t a_port = (uint16_t)fake_peer_int(&open_proxy, "port");
    uint16_t a_tls_port = (uint16_t)fake_peer_int(&open_proxy, "tls_port");
    CHECK(a_tls_port != 0);
    char a_log[1024];
    fake_peer_str(&open_proxy, "log", a_log, sizeof a_log);
    /* Proxy B: BasicAuth alice:pr0xy-pw. */
    char *b_argv[] = {argv[1], argv[3], (char *)"--quiet", (char *)"--connect-port", ws_port_s,
                      (char *)"--basic-auth", (char *)PROXY_USER ":" PROXY_PASS, NULL};
    CHECK(fake_peer_start(&auth_proxy, b_argv, 30000));
    uint16_t b_port = (uint16_t)fake_peer_int(&auth_proxy, "port");
    char b_log[1024];
    fake_peer_str(&auth_proxy, "log", b_log, sizeof b_log);
    CHECK(a_port && b_port && a_log[0] && b_log[0]);

    peer_test_init();
    lcws_set_log_level(0); /* debug: the CONNECT request (masked) is logged; check no password */
    check_origin_requests(); /* reset the record */

    /* 1. ws through proxy A. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", a_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        int before = connects_logged(a_log, "127.0.0.1", ws_port);
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), "ws via HTTP proxy");
        CHECK_EQ_INT(connects_logged(a_log, "127.0.0.1", ws_port), before + 1);
        CHECK_EQ_INT(check_origin_requests(), 1);
    }
    /* 2. wss through proxy A: TLS with the origin (nginx, name localhost) inside the tunnel. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", a_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy), FL_D("rootCerts", ca, ca_size)};
        echo_and_close(peer_test_open_nowait("wss", "localhost", tls_port, extra, 2), "wss via HTTP proxy");
        CHECK_EQ_INT(connects_logged(a_log, "localhost", tls_port), 1);
        CHECK_EQ_INT(check_origin_requests(), 1);
    }
    /* 2b. HTTPS proxy: ws, then wss (TLS inside TLS); the proxy's certificate is checked against
     * Mozilla's roots plus rootCerts, so without rootCerts it is untrusted. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTPS"), FL_S("host", "127.0.0.1"), FL_I("port", a_tls_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy), FL_D("rootCerts", ca, ca_size)};
        int before = connects_logged(a_log, "127.0.0.1", ws_port);
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 2), "ws via HTTPS proxy");
        CHECK_EQ_INT(connects_logged(a_log, "127.0.0.1", ws_port), before + 1);
        echo_and_close(peer_test_open_nowait("wss", "localhost", tls_port, extra, 2), "wss via HTTPS proxy (TLS in TLS)");
        CHECK_EQ_INT(connects_logged(a_log, "localhost", tls_port), 2);
        CHECK_EQ_INT(check_origin_requests(), 2);
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 5, 11, "HTTPS proxy 127.0.0.1:",
                     "HTTPS proxy with an untrusted certificate");
    }
    /* 3. Proxy B with the right credentials; without; with a wrong password. */
    {
        const FlEntry auth[] = {FL_S("username", PROXY_USER), FL_S("password", PROXY_PASS)};
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", b_port),
                                 FL_DICT_OF("auth", auth)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), "ws via proxy with BasicAuth");
        CHECK_EQ_INT(connects_logged(b_log, "127.0.0.1", ws_port), 1);
        CHECK_EQ_INT(check_origin_requests(), 1); /* and no Proxy-Authorization reached it */
    }
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", b_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 6, 407, "proxy authentication required",
                     "no proxy credentials");
    }
    {
        const FlEntry auth[] = {FL_S("username", PROXY_USER), FL_S("password", "wrong")};
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", b_port),
                                 FL_DICT_OF("auth", auth)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 6, 407, "proxy authentication failed",
                     "wrong proxy password");
    }
    CHECK_EQ_INT(check_origin_requests(), 0); /* failed tunnels never reached the stand-in */
    /* 4. CONNECT to a port proxy A does not allow (the stand-in's admin port). */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", a_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", g_admin, extra, 1), 6, 403, "refused a tunnel",
                     "port not allowed by the proxy");
    }
    /* 4b. The proxy cannot reach the server (tinyproxy: "500 Unable to connect"): reported as a
     * transient 502, which LiteCore retries. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", a_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", closed_port, extra, 1), 6, 502, "500 Unable to connect",
                     "server down behind the proxy");
    }
    /* 5. Nothing listens on the proxy's port. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "127.0.0.1"), FL_I("port", closed_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 5, 19, "HTTP proxy 127.0.0.1:",
                     "proxy port closed");
    }
    /* 5b. The proxy's name does not resolve (.invalid never does, RFC 6761): {Network, 2}, or 1
     * where there is no resolver at all. */
    {
        const FlEntry proxy[] = {FL_S("type", "HTTP"), FL_S("host", "no-such-proxy.invalid"), FL_I("port", 3128)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        FakeSocketState st = peer_test_finish(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 20000);
        CHECK_EQ_INT(st.http_response_calls, 0);
        CHECK_EQ_INT(st.closed_error.domain, 5);
        CHECK(st.closed_error.code == 2 || st.closed_error.code == 1);
        CHECK_CONTAINS(st.closed_message, "HTTP proxy no-such-proxy.invalid:3128");
        printf("  unknown proxy host: {5, %d} as expected\n", st.closed_error.code);
    }
    /* 6. The environment: HTTP_PROXY, NO_PROXY, type none, a malformed value. */
    {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)a_port);
        CHECK(setenv("HTTP_PROXY", url, 1) == 0);
        int before = connects_logged(a_log, "127.0.0.1", ws_port);
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, NULL, 0), "ws via HTTP_PROXY");
        CHECK_EQ_INT(connects_logged(a_log, "127.0.0.1", ws_port), before + 1);

        CHECK(setenv("NO_PROXY", "example.com, 127.0.0.1", 1) == 0);
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, NULL, 0), "NO_PROXY=127.0.0.1 bypasses it");
        CHECK_EQ_INT(connects_logged(a_log, "127.0.0.1", ws_port), before + 1);
        CHECK(unsetenv("NO_PROXY") == 0);

        /* type none ignores the environment: the env proxy is unreachable, yet the open works. */
        snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)closed_port);
        CHECK(setenv("HTTP_PROXY", url, 1) == 0);
        const FlEntry none[] = {FL_S("type", "none")};
        const FlEntry extra[] = {FL_DICT_OF("proxy", none)};
        echo_and_close(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), "proxy type none ignores HTTP_PROXY");
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, NULL, 0), 5, 19, "HTTP proxy 127.0.0.1:",
                     "unreachable HTTP_PROXY");

        /* HTTPS_PROXY (an https:// proxy) for wss; HTTP_PROXY is not used for wss. */
        snprintf(url, sizeof url, "https://127.0.0.1:%u", (unsigned)a_tls_port);
        CHECK(setenv("HTTPS_PROXY", url, 1) == 0);
        const FlEntry trust[] = {FL_D("rootCerts", ca, ca_size)};
        int before_tls = connects_logged(a_log, "localhost", tls_port);
        echo_and_close(peer_test_open_nowait("wss", "localhost", tls_port, trust, 1), "wss via HTTPS_PROXY=https://...");
        CHECK_EQ_INT(connects_logged(a_log, "localhost", tls_port), before_tls + 1);
        CHECK(unsetenv("HTTPS_PROXY") == 0);

        CHECK(setenv("HTTP_PROXY", "gopher://u:" PROXY_PASS "@h:1", 1) == 0);
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, NULL, 0), 1, 9, "HTTP_PROXY", "malformed HTTP_PROXY");
        clear_proxy_env();
    }
    /* 7. SOCKS is not supported. */
    {
        const FlEntry proxy[] = {FL_S("type", "SOCKS"), FL_S("host", "127.0.0.1"), FL_I("port", a_port)};
        const FlEntry extra[] = {FL_DICT_OF("proxy", proxy)};
        expect_error(peer_test_open_nowait("ws", "127.0.0.1", ws_port, extra, 1), 1, 19, "SOCKS", "SOCKS proxy");
    }

    const char *log = fake_captured_log();
    CHECK_CONTAINS(log, "CONNECT 127.0.0.1:");
    CHECK_CONTAINS(log, "with credentials");
    CHECK(strstr(log, PROXY_PASS) == NULL);
    CHECK(strstr(log, PROXY_PASS_B64) == NULL);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    free(ca);
    fake_peer_stop(&auth_proxy);
    fake_peer_stop(&open_proxy);
    fake_peer_stop(&peers);
    puts("proxy ok");
    return 0;
}
