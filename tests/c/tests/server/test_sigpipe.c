/* A peer that vanishes while litecore-ws writes to it must not kill the host with SIGPIPE:
 * this program keeps SIGPIPE's default action (terminate), as C and C++ apps do unless they
 * ignore it.
 *  1. ws: a raw client upgrades, then closes (FIN) or resets while the served socket's LiteCore
 *     side keeps writing; writes fail with EPIPE/ECONNRESET.
 *  2. wss: `openssl s_client` sends the upgrade and leaves at once, before the 101 arrives;
 *     TLS records go out with writev, which (unlike send with MSG_NOSIGNAL) raises SIGPIPE.
 * Each socket must end in one `closed` with a transient error, and the process must still be
 * alive to check it.
 * argv: none (the wss half is skipped without the openssl CLI) */
#include "listener_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connects to 127.0.0.1:port, sends an upgrade for /db/_blipsync, reads the 101; returns the fd. */
static int raw_upgrade(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    const char *req = "GET /db/_blipsync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Protocol: " LT_PROTOCOL "\r\n\r\n";
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    char buf[1024];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        CHECK(n > 0);
        got += (size_t)n;
        buf[got] = 0;
        if (strstr(buf, "\r\n\r\n")) break;
    }
    CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0);
    return fd;
}

int main(void) {
    struct sigaction sa;
    CHECK(sigaction(SIGPIPE, NULL, &sa) == 0);
    CHECK(sa.sa_handler == SIG_DFL); /* the point of the test */
    lt_init();
    lt.echo = false;
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &lt);
    uint16_t port = lcws_listener_port(l);

    for (int round = 0; round < 20; round++) {
        int fd = raw_upgrade(port);
        C4Socket *s = lt_server(round);
        CHECK(fake_wait_opened(s, 10000));
        /* LiteCore has plenty queued when the peer goes: an ordinary close (FIN), after which
           our next write draws the peer's RST and the one after it EPIPE, the error that comes
           with SIGPIPE; on odd rounds a reset right away (ECONNRESET). */
        static unsigned char chunk[16 * 1024];
        for (int i = 0; i < 32; i++) fake_socket_write(s, chunk, sizeof chunk);
        if (round % 2) {
            struct linger lg = {1, 0};
            CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
        }
        close(fd);
        for (int i = 0; i < 500 && !fake_socket_state(s).closed_calls; i++) {
            fake_socket_write(s, chunk, sizeof chunk);
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        FakeSocketState st = lt_finish_server(round, 10000);
        /* A connection lost without a Close: transient for LiteCore (1006, or a reset). */
        CHECK(st.closed_error.domain == 6 || st.closed_error.domain == 5);
        if (st.closed_error.domain == 6) CHECK_EQ_INT(st.closed_error.code, 1006);
    }
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 2. wss, the client gone before the 101. */
    char out[8192];
    char *version[] = {(char *)"openssl", (char *)"version", NULL};
    if (lt_run(version, out, sizeof out) != 0) {
        puts("sigpipe: ws ok; wss skipped (no openssl CLI)");
        lt_check_all_finished();
        return 0;
    }
    c = lt_config();
    c.disable_tls = false;
    l = lt_start(&c);
    lt_share(l, "db", &lt);
    port = lcws_listener_port(l);
    int first = lt_count(&lt.accepted);
    for (int round = 0; round < 10; round++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "(printf 'GET /db/_blipsync HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: %s\r\n\r\n'; sleep 0.%d) | "
                 "openssl s_client -connect 127.0.0.1:%u -quiet -no_ign_eof 2>/dev/null",
                 LT_PROTOCOL, round % 5, (unsigned)port);
        lt_sh(cmd, out, sizeof out);
        C4Socket *s = lt_server(first + round);
        static unsigned char chunk[16 * 1024];
        if (fake_wait_opened(s, 10000)) {
            for (int i = 0; i < 500 && !fake_socket_state(s).closed_calls; i++) {
                fake_socket_write(s, chunk, sizeof chunk);
                struct timespec ts = {0, 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
        FakeSocketState st = lt_finish_server(first + round, 10000);
        CHECK(st.closed_error.domain == 6 || st.closed_error.domain == 5);
    }
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("sigpipe ok: the process survived writes to closed and reset connections, ws and wss");
    return 0;
}
