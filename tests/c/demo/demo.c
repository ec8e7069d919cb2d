/* The demo behind README's first command: the C harness plays LiteCore, registers litecore-ws
 * and replicates-in-miniature against the bundled Sync Gateway stand-in, over ws and over wss
 * (nginx terminating TLS), printing each step. litecore-ws's own log lines (credentials masked)
 * are shown as "[lcws N] ...".
 * usage: lcws_demo PYTHON3 PEERS_PY */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* usleep */
#include "fake_litecore.h"
#include "fleece_build.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL "BLIP_3+CBMobile_3"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void fail(const char *what) {
    printf("   !! %s\n", what);
    exit(1);
}

static void finish(C4Socket *s, double t0) {
    if (!fake_wait_closed(s, 20000)) fail("no closed within 20 s");
    fake_wait_refcount(s, 1, 2000);
    fake_socket_drop(s);
    fake_wait_disposed(s, 2000);
    FakeSocketState st = fake_socket_state(s);
    printf("   <- closed({domain %d, code %d}, \"%s\") after %.1f ms; closed calls: %d, disposed: %s, "
           "contract violations: %d\n",
           st.closed_error.domain, st.closed_error.code, st.closed_message, now_ms() - t0, st.closed_calls,
           st.disposed ? "yes" : "no", st.violations);
    fake_socket_free(s);
    if (st.violations || st.closed_calls != 1) exit(1);
}

static C4Socket *open_socket(const char *scheme, const char *host, uint16_t port, const FlEntry *opts, size_t n) {
    size_t size = 0;
    unsigned char *o = fl_encode(opts, n, &size);
    C4Socket *s = fake_socket_new();
    printf("   -> open %s://%s:%u/db/_blipsync (%zu bytes of Fleece options)\n", scheme, host, port, size);
    fake_socket_open(s, scheme, host, port, "/db/_blipsync", o, size);
    free(o);
    return s;
}

static void exchange(C4Socket *s) {
    if (!fake_wait_opened(s, 10000)) fail("not opened");
    printf("   <- gotHTTPResponse(%d), opened\n", fake_socket_state(s).http_status);
    const char *messages[] = {"hello, Sync Gateway", "a BLIP frame would go here", "bye"};
    for (int i = 0; i < 3; i++) {
        fake_socket_write(s, messages[i], strlen(messages[i]));
        size_t size = 0;
        char *got = (char *)fake_socket_next_message(s, 5000, &size);
        if (!got || size != strlen(messages[i]) || memcmp(got, messages[i], size) != 0) fail("echo mismatch");
        printf("   -> write \"%s\"  <- received the echo (%zu bytes), completedWrite so far: %zu\n", messages[i],
               size, fake_socket_state(s).bytes_written_acked);
        free(got);
    }
    printf("   -> requestClose(1000, \"done\")\n");
    fake_socket_request_close(s, 1000, "done");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: lcws_demo PYTHON3 PEERS_PY\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0); /* interleave with the log lines on stderr */
    setenv("FAKE_LITECORE_ECHO_LOG", "1", 1);
    lcws_set_log_level(1); /* verbose: shows the request headers (masked) */
    printf("litecore-ws %s demo: the C harness plays LiteCore; the peer is the Sync Gateway stand-in\n\n",
           lcws_version());

    printf("0. Start the SG stand-in (user demo/s3cret, guest off) and nginx terminating TLS in front of it\n");
    FakePeer peers;
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--", (char *)"--user",
                         (char *)"demo:s3cret", NULL};
    if (!fake_peer_start(&peers, peer_argv, 30000)) fail("peers did not start");
    uint16_t ws_port = (uint16_t)fake_peer_int(&peers, "public");
    uint16_t wss_port = (uint16_t)fake_peer_int(&peers, "tls");
    char ca_path[1024];
    fake_peer_str(&peers, "ca", ca_path, sizeof ca_path);
    printf("   ws on 127.0.0.1:%u, wss on localhost:%u (test CA %s)\n\n", ws_port, wss_port, ca_path);

    printf("1. Install the host table (LiteCore's c4socket_* functions) and register the factory\n");
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    if (lcws_set_host(&t) != LCWS_STATUS_OK) fail("lcws_set_host");
    fake_use_lcws_factory(NULL);
    printf("   ok: framing kC4NoFraming, close = NULL, requestClose = lcws_socket_request_close\n\n");

    const FlEntry auth[] = {FL_S("type", "Basic"), FL_S("username", "demo"), FL_S("password", "s3cret")};
    const FlEntry ws_opts[] = {FL_S("WS-Protocols", PROTOCOL), FL_DICT_OF("auth", auth)};
    printf("2. ws: Basic auth, three messages, clean close\n");
    double t0 = now_ms();
    C4Socket *s = open_socket("ws", "127.0.0.1", ws_port, ws_opts, 2);
    exchange(s);
    finish(s, t0);

    size_t ca_size = 0;
    void *ca = fake_read_file(ca_path, &ca_size);
    if (!ca) fail("cannot read the CA");
    const FlEntry wss_opts[] = {FL_S("WS-Protocols", PROTOCOL), FL_DICT_OF("auth", auth),
                                FL_D("rootCerts", ca, ca_size)};
    printf("\n3. wss through nginx, trusting the test CA (rootCerts)\n");
    t0 = now_ms();
    s = open_socket("wss", "localhost", wss_port, wss_opts, 3);
    exchange(s);
    finish(s, t0);
    free(ca);

    const FlEntry wrong[] = {FL_S("type", "Basic"), FL_S("username", "demo"), FL_S("password", "wrong")};
    const FlEntry bad_opts[] = {FL_S("WS-Protocols", PROTOCOL), FL_DICT_OF("auth", wrong)};
    printf("\n4. ws with a wrong password: SG's 401 reaches LiteCore (headers, then closed)\n");
    t0 = now_ms();
    s = open_socket("ws", "127.0.0.1", ws_port, bad_opts, 2);
    if (!fake_wait_closed(s, 10000)) fail("no closed");
    printf("   <- gotHTTPResponse(%d) with Www-Authenticate: %s\n", fake_socket_state(s).http_status,
           fake_socket_headers_contain(s, "Www-Authenticate") ? "yes" : "no");
    finish(s, t0);

    int fds[2];
    uint16_t hole = fake_blackhole_port(fds);
    printf("\n5. A server that never answers the TCP connect; LiteCore's connect timeout fires: requestClose(504)\n");
    t0 = now_ms();
    const FlEntry plain[] = {FL_S("WS-Protocols", PROTOCOL)};
    s = open_socket("ws", "127.0.0.1", hole, plain, 1);
    usleep(300 * 1000);
    printf("   -> requestClose(504, \"Timed out\")\n");
    fake_socket_request_close(s, 504, "Timed out");
    finish(s, t0);
    close(fds[0]);
    close(fds[1]);

    printf("\n6. lcws_shutdown() -> %d (0 = ok)\n", (int)lcws_shutdown());
    fake_peer_stop(&peers);
    printf("\ndemo ok: every socket ended in exactly one closed, with no contract violation\n");
    return 0;
}
