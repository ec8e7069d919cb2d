/* The listener against clients that misbehave before or right after the upgrade. Raw clients on
 * plain sockets (fault_listener_util.h) and litecore-ws's own client; the server side is the
 * fake LiteCore (c4socket_fromNative + a passive replicator), which checks the incoming-socket
 * contract on every call.
 *
 *   test_fault_listener_peer MODE [HANDSHAKE_TIMEOUT_MS]
 *
 *   slowloris  handshake_timeout_ms 2500 (6000 under valgrind, where a wss handshake takes
 *              seconds): 12 clients trickle a valid upgrade request one byte every 200 ms, 4
 *              connect and send nothing; on a wss listener 6 connect and send nothing and 6 trickle
 *              a ClientHello. Each is dropped (EOF or reset) within [timeout, timeout + 2 s] of its
 *              connect, none reaches accept, a "did not finish
 *              its handshake" line is logged for each; meanwhile a normal ws client and a normal
 *              wss client (pinning the generated certificate) open, echo and close. The same
 *              timeout bounds LiteCore's open of a handed-over socket: a replicator that never
 *              opens it has its client answered 503; its late open gets one closed (never opened).
 *   garbage    bytes that are not WebSocket frames right after the 101 (a second HTTP request,
 *              0xFF bytes, a TLS ClientHello, zero bytes) and garbage sent in the same write as
 *              the upgrade request: the client gets Close 1002, the server socket exactly one
 *              closed {WebSocket, 1002}, nothing delivered to LiteCore.
 *   head       max_request_head_bytes 4096: heads of 4097 bytes and 64 KiB sent whole, an endless
 *              header line sent whole and trickled (512 bytes every 20 ms): 431 each, nothing
 *              handed over; a head of exactly 4096 bytes is upgraded.
 *   limit      max_connections 4: 7 litecore-ws clients at once: exactly 4 open and echo, 3 get
 *              {WebSocket, 503} without reaching accept; once one closes and its replicator is
 *              released, a new client gets in. Raw connections idling in the handshake count too:
 *              with 2 open and 2 idle, a client gets 503; once the idle ones timed out, one opens.
 *              A connection in its hand-over (the host's accept running) counts once: with 2 open
 *              and one held in accept, a fourth client is admitted, a fifth gets 503.
 */
#define LT_MAX_SOCKETS 64
#include "fault_listener_util.h"

static int g_db;

static LcwsListener *start(LcwsListenerConfig *c) {
    LcwsListener *l = lt_start(c);
    lt_share(l, "db", &g_db);
    return l;
}

/* A client that must get in: echo, close, finish both ends. `at_open` (when given) is called
 * once it opened. */
static void normal_client(const char *scheme, uint16_t port, const FlEntry *opts, size_t n, void (*at_open)(void)) {
    double t0 = fake_now_s();
    C4Socket *cl = lt_client(scheme, port, "db", opts, n);
    if (at_open) at_open();
    int i = lt_count(&lt.accepted) - 1;
    fake_socket_write(cl, "hello", 5);
    size_t got = 0;
    char *echo = (char *)fake_socket_next_message(cl, 10000, &got);
    CHECK(echo != NULL && got == 5 && memcmp(echo, "hello", 5) == 0);
    free(echo);
    fake_socket_request_close(cl, 1000, "");
    FakeSocketState st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    st = lt_finish_server(i, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    printf("  normal %s client: opened, echoed, closed in %.2f s\n", scheme, fake_now_s() - t0);
}

/* ---- slowloris ---- */

#define SLOW_MAX 32
typedef struct Slow {
    int fd;
    const char *bytes; /* what it trickles */
    size_t len, sent;
    double connected, dropped; /* dropped: 0 while connected */
    int how;                   /* LF_EOF or LF_RESET */
} Slow;

static Slow g_slow[SLOW_MAX];
static int g_nslow;
static pthread_mutex_t g_slow_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int g_slow_run = 1;

static void slow_add(uint16_t port, const char *bytes, size_t len) {
    int fd = lf_connect(port);
    CHECK(fd >= 0);
    pthread_mutex_lock(&g_slow_mu);
    CHECK(g_nslow < SLOW_MAX);
    Slow *s = &g_slow[g_nslow++];
    s->fd = fd;
    s->bytes = bytes;
    s->len = len;
    s->sent = 0;
    s->connected = fake_now_s();
    s->dropped = 0;
    pthread_mutex_unlock(&g_slow_mu);
}

static int slow_connected(void) {
    pthread_mutex_lock(&g_slow_mu);
    int n = 0;
    for (int i = 0; i < g_nslow; i++) n += g_slow[i].dropped == 0;
    pthread_mutex_unlock(&g_slow_mu);
    return n;
}

/* Every 200 ms: one more byte from each client that still has some; notices drops (EOF/reset)
 * at once in between. */
static void *slow_driver(void *unused) {
    (void)unused;
    double next_tick = fake_now_s();
    while (g_slow_run) {
        struct pollfd p[SLOW_MAX];
        int idx[SLOW_MAX], n = 0;
        pthread_mutex_lock(&g_slow_mu);
        for (int i = 0; i < g_nslow; i++) {
            if (g_slow[i].dropped) continue;
            p[n].fd = g_slow[i].fd;
            p[n].events = POLLIN;
            p[n].revents = 0;
            idx[n++] = i;
        }
        pthread_mutex_unlock(&g_slow_mu);
        int wait = (int)((next_tick - fake_now_s()) * 1000);
        if (wait > 20) wait = 20;
        if (poll(p, (nfds_t)n, wait > 0 ? wait : 0) > 0) {
            for (int k = 0; k < n; k++) {
                if (!p[k].revents) continue;
                char b[256];
                ssize_t got = recv(p[k].fd, b, sizeof b, MSG_DONTWAIT);
                if (got > 0) {
                    fprintf(stderr, "slow client %d got %zd bytes: %.*s\n", idx[k], got, (int)got, b);
                    exit(1); /* nothing is ever answered to a handshake that did not finish */
                }
                if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    pthread_mutex_lock(&g_slow_mu);
                    g_slow[idx[k]].dropped = fake_now_s();
                    g_slow[idx[k]].how = got == 0 ? LF_EOF : LF_RESET;
                    pthread_mutex_unlock(&g_slow_mu);
                }
            }
        }
        if (fake_now_s() >= next_tick) {
            next_tick += 0.2;
            pthread_mutex_lock(&g_slow_mu);
            for (int i = 0; i < g_nslow; i++) {
                Slow *s = &g_slow[i];
                if (s->dropped || s->sent >= s->len) continue;
                if (send(s->fd, s->bytes + s->sent, 1, MSG_NOSIGNAL) == 1) s->sent++;
            }
            pthread_mutex_unlock(&g_slow_mu);
        }
    }
    return NULL;
}

static int g_still_ws, g_still_wss;
static void note_ws_open(void) { g_still_ws = slow_connected(); }
static void note_wss_open(void) { g_still_wss = slow_connected(); }

static void mode_slowloris(int timeout_ms) {
    lcws_set_log_level(2); /* the drop is an info line */
    fake_reset_log();
    LcwsListenerConfig c = lt_config();
    c.handshake_timeout_ms = timeout_ms;
    LcwsListener *plain = start(&c);
    c.disable_tls = false;
    LcwsListener *tls = start(&c);
    uint16_t plain_port = lcws_listener_port(plain), tls_port = lcws_listener_port(tls);
    static char request[1024];
    size_t request_len = (size_t)lf_request(request, sizeof request, plain_port, "db", NULL);
    /* A TLS record header (handshake, TLS 1.0 record version, 512 bytes), a ClientHello's
     * header and version, its 32 random bytes: a handshake that never completes (43 bytes take
     * 8.6 s to trickle). */
    static const char tls_start[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                    "0123456789abcdef0123456789abcdef";

    pthread_t driver;
    CHECK(pthread_create(&driver, NULL, slow_driver, NULL) == 0);
    for (int i = 0; i < 12; i++) slow_add(plain_port, request, request_len);
    for (int i = 0; i < 4; i++) slow_add(plain_port, "", 0);
    for (int i = 0; i < 6; i++) slow_add(tls_port, "", 0);
    for (int i = 0; i < 6; i++) slow_add(tls_port, tls_start, sizeof tls_start - 1);
    int total = g_nslow;
    printf("  %d slow clients connected (handshake timeout %d ms)\n", total, timeout_ms);

    /* Meanwhile normal clients get in. */
    const FlEntry pinned[] = {FL_D("pinnedCert", lcws_listener_certificate(tls).buf, lcws_listener_certificate(tls).size)};
    normal_client("ws", plain_port, NULL, 0, note_ws_open);
    normal_client("wss", tls_port, pinned, 1, note_wss_open);
    printf("  slow clients still connected when the normal ws client opened: %d, the wss one: %d\n", g_still_ws,
           g_still_wss);
    /* The normal clients got in while the slow ones were still waiting. */
    CHECK_EQ_INT(g_still_ws, total);
    CHECK_EQ_INT(g_still_wss, total);

    /* Each slow client is dropped after the handshake timeout, bounded. */
    double deadline = fake_now_s() + timeout_ms / 1000.0 + 10;
    while (slow_connected() > 0 && fake_now_s() < deadline) fault_sleep_ms(20);
    g_slow_run = 0;
    pthread_join(driver, NULL);
    double min_after = 1e9, max_after = 0;
    for (int i = 0; i < total; i++) {
        Slow *s = &g_slow[i];
        if (!s->dropped) {
            fprintf(stderr, "slow client %d was never dropped\n", i);
            exit(1);
        }
        double after = s->dropped - s->connected;
        if (after < min_after) min_after = after;
        if (after > max_after) max_after = after;
        CHECK(s->sent < s->len || s->len == 0); /* it never finished */
        close(s->fd);
    }
    printf("  every slow client dropped %.2f .. %.2f s after connecting\n", min_after, max_after);
    CHECK(min_after >= timeout_ms / 1000.0 - 0.05);
    CHECK(max_after <= timeout_ms / 1000.0 + 2.0);
    /* Only the two normal clients reached LiteCore. */
    CHECK_EQ_INT(lt_count(&lt.accepted), 2);
    CHECK_EQ_INT(lf_log_count("LiteCore did not open the socket in time"), 0);
    CHECK(lt_wait_status(plain, 0, 5000));
    CHECK(lt_wait_status(tls, 0, 5000));
    lf_check_log("did not finish its handshake within");
    int lines = lf_log_count("did not finish its handshake within");
    printf("  %d drop lines logged\n", lines);
    CHECK_EQ_INT(lines, total);
    /* The same clock bounds LiteCore's open of a socket handed over: a replicator that never
     * opens its socket gets its client 503 after the timeout; its late open, one closed. */
    lt.open_mode = FAKE_OPEN_LATER;
    double t0 = fake_now_s();
    C4Socket *cl = lt_client_nowait("ws", plain_port, "db", NULL, 0, NULL);
    C4Socket *sv = lt_server(2);
    FakeSocketState st = peer_test_finish(cl, 10000);
    double took = fake_now_s() - t0;
    printf("  LiteCore never opened its socket: the client got HTTP %d after %.2f s\n", st.closed_error.code, took);
    CHECK_ERROR(st, 6, 503);
    CHECK(took >= timeout_ms / 1000.0 - 0.05 && took <= timeout_ms / 1000.0 + 2.0);
    fake_passive_open_now(sv);
    st = lt_finish_server(2, 10000);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_ERROR(st, 6, 4001);
    lt.open_mode = FAKE_OPEN_THREAD;
    lf_check_log("LiteCore did not open the socket in time");

    /* Two listeners, one host: only the second free marks the host (the first's callbacks are
     * all over by then; the second's release_database comes during its own free). */
    CHECK_EQ_INT(lcws_listener_free(plain), LCWS_STATUS_OK);
    CHECK_EQ_INT(lt_free(tls), LCWS_STATUS_OK);
}

/* ---- garbage after the upgrade ---- */

static void garbage_case(uint16_t port, const char *what, const void *bytes, size_t n, int pipelined) {
    int before = lt_count(&lt.accepted);
    LfRaw *r;
    if (pipelined) {
        int fd = lf_connect(port);
        CHECK(fd >= 0);
        char buf[4096];
        int len = lf_request(buf, sizeof buf - n, port, "db", NULL);
        memcpy(buf + len, bytes, n);
        CHECK(lf_send_all(fd, buf, (size_t)len + n));
        r = lf_raw_new(fd);
        CHECK_EQ_INT(lf_read_head(r, 10000, NULL, 0, NULL), 101);
    } else {
        int status = 0;
        r = lf_upgrade(port, "db", NULL, 10000, &status);
        CHECK(r != NULL);
        C4Socket *sv = lt_server(before);
        CHECK(fake_wait_opened(sv, 10000));
        CHECK(lf_send_all(r->fd, bytes, n));
    }
    int code = 0;
    int end = lf_wait_end(r, 10000, &code);
    lf_raw_free(r);
    FakeSocketState st = lt_finish_server(before, 10000);
    printf("  %s: the client got Close %d, then %s\n", what, code, end == LF_EOF ? "EOF" : end == LF_RESET ? "a reset" : "nothing");
    CHECK_EQ_INT(code, 1002);
    CHECK(end == LF_EOF || end == LF_RESET);
    CHECK_ERROR(st, 6, 1002);
    CHECK_EQ_INT(st.messages_received, 0);
    CHECK_EQ_INT(lt_count(&lt.accepted), before + 1);
}

static void mode_garbage(void) {
    fake_reset_log();
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = start(&c);
    uint16_t port = lcws_listener_port(l);
    static const char http[] = "GET /db/_blipsync HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    unsigned char ff[64], zeros[64];
    memset(ff, 0xFF, sizeof ff);
    memset(zeros, 0, sizeof zeros);
    /* A TLS 1.2 ClientHello's first bytes. */
    static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
                                          0x5a, 0x5b, 0x5c, 0x5d, 0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00};
    garbage_case(port, "a second HTTP request", http, sizeof http - 1, 0);
    garbage_case(port, "0xFF bytes", ff, sizeof ff, 0);
    garbage_case(port, "a TLS ClientHello", hello, sizeof hello, 0);
    garbage_case(port, "zero bytes", zeros, sizeof zeros, 0);
    garbage_case(port, "0xFF bytes in the request's write", ff, sizeof ff, 1);
    garbage_case(port, "an HTTP request in the request's write", http, sizeof http - 1, 1);
    lf_check_log("closed with error {WebSocket, 1002}");
    CHECK_EQ_INT(lf_log_count("closed with error {WebSocket, 1002}"), 6);
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
}

/* ---- oversized heads ---- */

/* An upgrade request of exactly `size` bytes (an X-Pad header fills it); `complete`: ends with
 * the blank line, else the X-Pad line never ends. Caller frees. */
static char *head_of(uint16_t port, size_t size, int complete) {
    char start[1024];
    int n = lf_request(start, sizeof start, port, "db", "X-Pad: ");
    n -= 2; /* without the final blank line: the X-Pad value follows */
    char *h = (char *)malloc(size + 1);
    CHECK(h != NULL && size > (size_t)n + 8);
    memcpy(h, start, (size_t)n);
    size_t tail = complete ? 4 : 0;
    memset(h + n, 'a', size - (size_t)n - tail);
    if (complete) memcpy(h + size - 4, "\r\n\r\n", 4);
    h[size] = 0;
    return h;
}

/* Sends the bytes (whole, or `step` bytes every 20 ms until the answer comes) and returns the
 * HTTP status answered (the connection must end after it). */
static int head_case(uint16_t port, const char *what, const char *bytes, size_t n, size_t step) {
    int fd = lf_connect(port);
    CHECK(fd >= 0);
    LfRaw *r = lf_raw_new(fd);
    size_t sent = 0;
    if (!step) {
        CHECK(lf_send_all(fd, bytes, n));
        sent = n;
    } else {
        while (sent < n) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 20) > 0) break; /* answered */
            size_t k = n - sent < step ? n - sent : step;
            if (!lf_send_all(fd, bytes + sent, k)) break;
            sent += k;
        }
    }
    char head[4096];
    int why = 0;
    int status = lf_read_head(r, 10000, head, sizeof head, &why);
    printf("  %s (%zu bytes sent): HTTP %d\n", what, sent, status);
    if (status == 0) fprintf(stderr, "no answer: %s\n", why == LF_EOF ? "EOF" : why == LF_RESET ? strerror(errno) : "timeout");
    if (status == 431) {
        CHECK_CONTAINS(head, "431 Request Header Fields Too Large");
        /* Then the connection ends. */
        int end = LF_TIMEOUT;
        for (double t = fake_now_s(); end != LF_EOF && end != LF_RESET && fake_now_s() - t < 5;) {
            r->len = 0;
            end = lf_read_more(r, 5000);
        }
        CHECK(end == LF_EOF || end == LF_RESET);
    }
    if (status == 101) {
        /* The control case: close it properly. */
        CHECK(lf_send_frame(fd, 1, 0x8, "\x03\xe8", 2, 1));
        int code = 0;
        lf_wait_end(r, 10000, &code);
        CHECK_EQ_INT(code, 1000);
    }
    lf_raw_free(r);
    return status;
}

static void mode_head(void) {
    lcws_set_log_level(2); /* refusals are info lines */
    fake_reset_log();
    const size_t limit = 4096;
    LcwsListenerConfig c = lt_config();
    c.max_request_head_bytes = (uint32_t)limit;
    LcwsListener *l = start(&c);
    uint16_t port = lcws_listener_port(l);

    char *h = head_of(port, limit + 1, 1);
    CHECK_EQ_INT(head_case(port, "a whole head of limit + 1 bytes", h, limit + 1, 0), 431);
    free(h);
    h = head_of(port, 64 * 1024, 1);
    CHECK_EQ_INT(head_case(port, "a whole head of 64 KiB", h, 64 * 1024, 0), 431);
    free(h);
    h = head_of(port, 2 * limit, 0);
    CHECK_EQ_INT(head_case(port, "an endless header line, 2 x limit at once", h, 2 * limit, 0), 431);
    free(h);
    h = head_of(port, 1 << 20, 0);
    CHECK_EQ_INT(head_case(port, "an endless header line, trickled", h, 1 << 20, 512), 431);
    free(h);
    CHECK_EQ_INT(lt_count(&lt.accepted), 0);
    CHECK_EQ_INT(lf_log_count("HTTP 431"), 4);
    lf_check_log("HTTP 431");

    /* A head of exactly the limit is upgraded. */
    h = head_of(port, limit, 1);
    CHECK_EQ_INT(head_case(port, "a whole head of exactly the limit", h, limit, 0), 101);
    free(h);
    FakeSocketState st = lt_finish_server(0, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK_EQ_INT(lt_count(&lt.accepted), 1);
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
}

/* ---- too many connections ---- */

static void echo_once(C4Socket *cl, const char *text) {
    size_t len = strlen(text), n = 0;
    fake_socket_write(cl, text, len);
    char *echo = (char *)fake_socket_next_message(cl, 10000, &n);
    CHECK(echo != NULL && n == len && memcmp(echo, text, len) == 0);
    free(echo);
}

static void mode_limit(void) {
    lcws_set_log_level(2);
    fake_reset_log();
    enum { N = 4, K = 3 };
    LcwsListenerConfig c = lt_config();
    c.max_connections = N;
    c.handshake_timeout_ms = 1500;
    LcwsListener *l = start(&c);
    uint16_t port = lcws_listener_port(l);

    /* N + K at once. */
    C4Socket *cl[N + K];
    for (int i = 0; i < N + K; i++) cl[i] = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
    C4Socket *open[N];
    int opened = 0, refused = 0;
    for (int i = 0; i < N + K; i++) {
        if (fake_wait_opened(cl[i], 20000)) {
            CHECK(opened < N);
            open[opened++] = cl[i];
            continue;
        }
        FakeSocketState st = peer_test_finish(cl[i], 10000);
        CHECK_ERROR(st, 6, 503);
        refused++;
    }
    printf("  %d clients at once, max_connections %d: %d opened, %d got 503\n", N + K, N, opened, refused);
    CHECK_EQ_INT(opened, N);
    CHECK_EQ_INT(refused, K);
    CHECK_EQ_INT(lt_count(&lt.accepted), N);
    CHECK_EQ_INT(lf_log_count("HTTP 503 too many connections"), K);
    lf_check_log("HTTP 503 too many connections");
    for (int i = 0; i < N; i++) echo_once(open[i], "still working");
    /* The first accepted closes (from the server side): once its replicator is released, a new
     * client gets in. */
    C4Socket *first_server = lt_server(0);
    fake_socket_request_close(first_server, 1000, "");
    FakeSocketState st = lt_finish_server(0, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    int closed_client = -1;
    for (int i = 0; i < N && closed_client < 0; i++)
        if (fake_wait_closed(open[i], 0)) closed_client = i;
    for (int i = 0; i < N && closed_client < 0; i++)
        if (fake_wait_closed(open[i], 5000)) closed_client = i;
    CHECK(closed_client >= 0);
    st = peer_test_finish(open[closed_client], 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK(lt_wait_status(l, N - 1, 5000));
    C4Socket *late = lt_client("ws", port, "db", NULL, 0);
    echo_once(late, "room again");
    open[closed_client] = late;

    /* N open again: the clients close; then their server sockets are finished (by index). */
    for (int i = 0; i < N; i++) {
        fake_socket_request_close(open[i], 1000, "");
        st = peer_test_finish(open[i], 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    for (int i = 1; i <= N; i++) {
        st = lt_finish_server(i, 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    CHECK(lt_wait_status(l, 0, 5000));

    /* Connections in the handshake count: 2 open, 2 raw connections that send nothing. */
    C4Socket *two[2];
    for (int i = 0; i < 2; i++) two[i] = lt_client("ws", port, "db", NULL, 0);
    int idle[2];
    for (int i = 0; i < 2; i++) {
        idle[i] = lf_connect(port);
        CHECK(idle[i] >= 0);
    }
    /* The idle ones are accepted by the listener's loop before the next client: wait until a
     * probe is refused (the idle connections' accept is asynchronous). */
    st = lt_client_fails("ws", port, "db", NULL, 0, NULL);
    CHECK_ERROR(st, 6, 503);
    printf("  2 open + 2 idle in the handshake: the next client got 503\n");
    /* Once the idle ones timed out (1.5 s), a client gets in. */
    for (int i = 0; i < 2; i++) {
        LfRaw *r = lf_raw_new(idle[i]);
        CHECK_EQ_INT(lf_read_more(r, 10000), LF_EOF);
        lf_raw_free(r);
    }
    C4Socket *after = lt_client("ws", port, "db", NULL, 0);
    echo_once(after, "the idle ones are gone");
    printf("  after the idle ones timed out: a client got in\n");
    C4Socket *all[3] = {two[0], two[1], after};
    for (int i = 0; i < 3; i++) {
        fake_socket_request_close(all[i], 1000, "");
        st = peer_test_finish(all[i], 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    for (int i = N + 1; i < N + 4; i++) {
        st = lt_finish_server(i, 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    CHECK_EQ_INT(lt_count(&lt.accepted), N + 4);
    CHECK(lt_wait_status(l, 0, 5000));

    /* A connection being handed over (accept running) counts once: with 2 open and one held in
     * accept, a fourth client is admitted; a fifth is not. */
    C4Socket *pair[2];
    for (int i = 0; i < 2; i++) pair[i] = lt_client("ws", port, "db", NULL, 0);
    pthread_mutex_lock(&lt.mu);
    lt.hold_accept = true;
    pthread_mutex_unlock(&lt.mu);
    C4Socket *third = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
    CHECK(lt_wait_count(&lt.holding, 1, 10000));
    C4Socket *fourth = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
    /* The fourth reaches accept too, or is refused. */
    double until = fake_now_s() + 10;
    while (lt_count(&lt.holding) < 2 && !fake_wait_closed(fourth, 0) && fake_now_s() < until) fault_sleep_ms(2);
    int fourth_refused = fake_wait_closed(fourth, 0);
    printf("  2 open + 1 in its hand-over, max_connections %d: the next client was %s\n", N,
           fourth_refused ? "refused" : "admitted");
    lt_release_held();
    if (fourth_refused) {
        FakeSocketState fs = fake_socket_state(fourth);
        fprintf(stderr, "a client refused with {%d, %d} \"%s\" while 3 of %d connections were in use\n",
                fs.closed_error.domain, fs.closed_error.code, fs.closed_message, N);
        exit(1);
    }
    CHECK(fake_wait_opened(third, 10000));
    CHECK(fake_wait_opened(fourth, 10000));
    st = lt_client_fails("ws", port, "db", NULL, 0, NULL);
    CHECK_ERROR(st, 6, 503);
    C4Socket *four[4] = {pair[0], pair[1], third, fourth};
    for (int i = 0; i < 4; i++) {
        echo_once(four[i], "four");
        fake_socket_request_close(four[i], 1000, "");
        st = peer_test_finish(four[i], 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    for (int i = N + 4; i < N + 8; i++) {
        st = lt_finish_server(i, 10000);
        CHECK_EQ_INT(st.closed_error.code, 0);
    }
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
}

int main(int argc, char **argv) {
    CHECK(argc == 2 || argc == 3);
    signal(SIGPIPE, SIG_IGN);
    lt_init();
    const char *mode = argv[1];
    if (strcmp(mode, "slowloris") == 0) mode_slowloris(argc > 2 ? atoi(argv[2]) : 2500);
    else if (strcmp(mode, "garbage") == 0) mode_garbage();
    else if (strcmp(mode, "head") == 0) mode_head();
    else if (strcmp(mode, "limit") == 0) mode_limit();
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    lf_check_nothing_left();
    CHECK_EQ_INT(lt.calls_after_free, 0);
    printf("fault_listener_%s ok\n", mode);
    return 0;
}
