/* Clients of the listener SIGKILLed in the middle of a transfer. Each client is this program
 * run again as a child process (`child MODE PORT`, started with posix_spawn: a separate process
 * the kernel cleans up after when it dies) that upgrades by hand, then writes masked 16 KiB binary
 * messages as fast as the socket takes them and
 *   stream: reads (and drops) everything the server sends: both directions busy;
 *   stall:  never reads: the server's writes stall once the socket buffers are full (its
 *           completedWrite stops, LiteCore's 64 KiB window stays closed).
 * Meanwhile the server side (the fake LiteCore's passive replicator) writes 16 KiB messages
 * within LiteCore's 64 KiB window and receives the client's. Once at least 1 MiB came in and the
 * writes either flowed (256 KiB acknowledged) or stalled, the children are SIGKILLed; LiteCore
 * keeps writing until closed comes.
 * Proves, per server socket: exactly one closed, with a transient "connection lost" error
 * ({WebSocket, 1006} or {Network, 18}, never a permanent one such as EPIPE's Network 26) within
 * 5 s of the kill; the replicator reported Stopped and was released; the socket disposed; every
 * write buffer released; a "closed with error" log line for each. Rounds: one stream client, one
 * stalled client, then 4 + 4 at once.
 * argv: none (the program runs itself as the clients). */
#include "fault_listener_util.h"

#include <fcntl.h>
#include <spawn.h>

#define MSG (16 * 1024)
#define WINDOW (64 * 1024)

/* ---- the child: a raw client that writes forever (and reads, in stream mode) ---- */

static int child_main(const char *mode, uint16_t port) {
    int status = 0;
    LfRaw *r = lf_upgrade(port, "db", NULL, 20000, &status);
    if (!r) {
        fprintf(stderr, "child: upgrade failed (HTTP %d)\n", status);
        return 3;
    }
    int reads = strcmp(mode, "stream") == 0;
    /* One masked binary frame of MSG bytes, sent over and over. */
    static unsigned char frame[MSG + 8];
    const unsigned char key[4] = {1, 2, 3, 4};
    frame[0] = 0x82;
    frame[1] = 0x80 | 126;
    frame[2] = (unsigned char)(MSG >> 8);
    frame[3] = (unsigned char)(MSG & 0xFF);
    memcpy(frame + 4, key, 4);
    for (size_t i = 0; i < MSG; i++) frame[8 + i] = (unsigned char)(((i * 31) & 0xFF) ^ key[i % 4]);
    int fd = r->fd;
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    size_t off = 0;
    static unsigned char sink[65536];
    for (;;) {
        struct pollfd p = {fd, (short)(POLLOUT | (reads ? POLLIN : 0)), 0};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR) return 4;
        if (p.revents & POLLIN) {
            ssize_t got = recv(fd, sink, sizeof sink, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return 0;
        }
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, frame + off, sizeof frame - off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) return 0;
            if (w > 0) off = (off + (size_t)w) % sizeof frame;
        }
        if (p.revents & (POLLERR | POLLHUP)) return 0;
    }
}

/* ---- the test ---- */

extern char **environ;

static pid_t spawn_child(const char *self, const char *mode, uint16_t port) {
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%u", port);
    char *argv[] = {(char *)self, (char *)"child", (char *)mode, port_s, NULL};
    pid_t pid;
    CHECK(posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0);
    return pid;
}

typedef struct Server {
    C4Socket *s;
    size_t written;
    size_t last_acked;
    double last_progress;
} Server;

/* LiteCore's writer for every server socket not yet closed: 16 KiB messages while less than
 * 64 KiB is unacknowledged. Returns how many are closed. */
static int pump(Server *sv, int n, const unsigned char *buf) {
    int closed = 0;
    for (int i = 0; i < n; i++) {
        FakeSocketState st = fake_socket_state(sv[i].s);
        if (st.closed_calls) {
            closed++;
            continue;
        }
        if (st.bytes_written_acked != sv[i].last_acked) {
            sv[i].last_acked = st.bytes_written_acked;
            sv[i].last_progress = fake_now_s();
        }
        while (sv[i].written - st.bytes_written_acked + MSG <= WINDOW) {
            fake_socket_write(sv[i].s, buf, MSG);
            sv[i].written += MSG;
        }
    }
    return closed;
}

/* Whether server socket i is where the kill should come: 1 MiB received and its writes flowing
 * (256 KiB acknowledged) or, for a stalled client, stalled (no progress for 300 ms). */
static int under_way(const Server *sv, int stall) {
    FakeSocketState st = fake_socket_state(sv->s);
    if (st.bytes_received < (1u << 20)) return 0;
    if (!stall) return st.bytes_written_acked >= 256 * 1024;
    return sv->written > st.bytes_written_acked && fake_now_s() - sv->last_progress > 0.3;
}

static void round_of(const char *self, uint16_t port, int streams, int stalls) {
    int n = streams + stalls, base = lt_count(&lt.accepted);
    int logged = lf_log_count("closed with error");
    pid_t pids[16];
    Server sv[16];
    CHECK(n <= 16);
    for (int i = 0; i < n; i++) pids[i] = spawn_child(self, i < streams ? "stream" : "stall", port);
    for (int i = 0; i < n; i++) {
        memset(&sv[i], 0, sizeof sv[i]);
        sv[i].s = lt_server(base + i);
        CHECK(fake_wait_opened(sv[i].s, 20000));
        sv[i].last_progress = fake_now_s();
    }
    /* Which server socket is whose: the child's port is the peer's; a stalled child is one whose
     * writes stall. The kill waits until every socket is either flowing or stalled, and the
     * count of stalled ones must match. */
    unsigned char *buf = (unsigned char *)malloc(MSG);
    CHECK(buf != NULL);
    fault_fill(buf, 5, MSG);
    double deadline = fake_now_s() + 60;
    int ready = 0;
    while (fake_now_s() < deadline) {
        CHECK_EQ_INT(pump(sv, n, buf), 0);
        int flowing = 0, stalled = 0;
        for (int i = 0; i < n; i++) {
            int is_stalled = under_way(&sv[i], 1);
            stalled += is_stalled;
            flowing += !is_stalled && under_way(&sv[i], 0);
        }
        if (flowing == streams && stalled == stalls) {
            ready = 1;
            break;
        }
        fault_sleep_ms(1);
    }
    if (!ready) {
        for (int i = 0; i < n; i++) {
            FakeSocketState st = fake_socket_state(sv[i].s);
            fprintf(stderr, "server socket %d: %zu received, %zu written, %zu acknowledged, last progress %.1f s ago\n",
                    base + i, st.bytes_received, sv[i].written, st.bytes_written_acked, fake_now_s() - sv[i].last_progress);
        }
    }
    CHECK(ready);
    for (int i = 0; i < n; i++) {
        FakeSocketState st = fake_socket_state(sv[i].s);
        printf("  server socket %d: %zu bytes received, %zu written (%zu acknowledged)\n", base + i,
               st.bytes_received, sv[i].written, st.bytes_written_acked);
    }
    double t0 = fake_now_s();
    for (int i = 0; i < n; i++) CHECK_EQ_INT(kill(pids[i], SIGKILL), 0);
    printf("  %d stream + %d stalled client(s) SIGKILLed\n", streams, stalls);
    /* LiteCore keeps writing until closed comes. */
    while (pump(sv, n, buf) < n && fake_now_s() - t0 < 15) fault_sleep_ms(1);
    double took = fake_now_s() - t0;
    free(buf);
    for (int i = 0; i < n; i++) {
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    for (int i = 0; i < n; i++) {
        FakeSocketState st = lt_finish_server(base + i, 10000);
        LF_CHECK_LOST(st);
        CHECK_EQ_INT(st.close_requested_calls, 0);
    }
    printf("  every server socket closed within %.2f s of the kill\n", took);
    CHECK(took < 5);
    fault_check_buffers_released(5000);
    CHECK_EQ_INT(lf_log_count("closed with error") - logged, n);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) return child_main(argv[2], (uint16_t)atoi(argv[3]));
    CHECK(argc == 1);
    signal(SIGPIPE, SIG_IGN);
    lt_init();
    lt.echo = false;
    lt.keep_messages = false;
    fake_reset_log();
    static int db;
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);

    round_of(argv[0], port, 1, 0);
    round_of(argv[0], port, 0, 1);
    round_of(argv[0], port, 4, 4);
    lf_check_log("closed with error");
    CHECK(lt_wait_status(l, 0, 5000));
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
    lf_check_nothing_left();
    CHECK_EQ_INT(lt.calls_after_free, 0);
    puts("fault_listener_kill ok");
    return 0;
}
