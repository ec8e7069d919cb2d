/* Half-open clients found by the listener's heartbeat (heartbeat_seconds 2, so the Pong deadline
 * is min(20 s, 2 s - 1 s) = 1 s): a client that stops answering without closing TCP.
 *
 *   test_fault_listener_freeze raw
 *       a raw client (a plain socket in this process) upgrades, then neither reads nor writes
 *       while LiteCore streams to it: the server's writes stall (completedWrite stops, LiteCore's
 *       64 KiB window stays closed), its Ping cannot even be sent.
 *   test_fault_listener_freeze PYTHON WS_CLIENT
 *       tests/peers/ws_client.py (Python websockets, which answers Pings) sends a message, reads
 *       one, then is stopped with SIGSTOP: the kernel still takes what the server sends, nothing
 *       answers.
 *
 * Proves: the server socket ends with exactly one closed {Network, 3 Timeout}, 3 s (heartbeat +
 * Pong deadline) after the client was last heard, bounded [2.7 s, 4.5 s]; the replicator reported
 * Stopped and was released; every write buffer released; a "no Pong within" log line. */
#include "fault_listener_util.h"

#define HEARTBEAT_S 2
#define EXPECTED_S 3.0 /* heartbeat + min(20 s, heartbeat - 1 s) */

static int g_db;

/* Checks how the frozen client's server socket ended, `took` seconds after it was last heard. */
static void check_timeout(int index, double took) {
    FakeSocketState st = lt_finish_server(index, 10000);
    printf("  closed %.2f s after the client was last heard (heartbeat %d s + Pong deadline 1 s)\n", took,
           HEARTBEAT_S);
    CHECK_ERROR(st, 5, 3);
    CHECK(took >= EXPECTED_S - 0.3 && took <= EXPECTED_S + 1.5);
    lf_check_log("no Pong within");
}

static void mode_raw(uint16_t port) {
    int status = 0;
    LfRaw *r = lf_upgrade(port, "db", NULL, 10000, &status);
    CHECK(r != NULL);
    C4Socket *sv = lt_server(0);
    CHECK(fake_wait_opened(sv, 10000));
    double heard = fake_now_s(); /* the upgrade: the last the server heard of it */
    /* LiteCore streams to it until closed. */
    const size_t msg = 16 * 1024, window = 64 * 1024;
    unsigned char *buf = (unsigned char *)malloc(msg);
    CHECK(buf != NULL);
    fault_fill(buf, 9, msg);
    size_t written = 0, last_acked = 0;
    double last_progress = fake_now_s();
    for (;;) {
        FakeSocketState st = fake_socket_state(sv);
        if (st.closed_calls) break;
        if (st.bytes_written_acked != last_acked) {
            last_acked = st.bytes_written_acked;
            last_progress = fake_now_s();
        }
        if (written - st.bytes_written_acked + msg <= window) {
            fake_socket_write(sv, buf, msg);
            written += msg;
        } else {
            fault_sleep_ms(2);
        }
        CHECK(fake_now_s() - heard < 15);
    }
    double took = fake_now_s() - heard;
    free(buf);
    printf("  LiteCore wrote %zu bytes, %zu acknowledged; the writes stalled %.2f s before closed\n", written,
           last_acked, fake_now_s() - last_progress);
    CHECK(fake_now_s() - last_progress > 0.5); /* the writes had stalled: the Ping could not go out */
    check_timeout(0, took);
    fault_check_buffers_released(5000);
    lf_raw_free(r);
}

static FakePeer g_client;

static const char *cmd(const char *line) {
    static char out[4096];
    CHECK(fake_peer_send(&g_client, line));
    if (!fake_peer_read_line(&g_client, out, sizeof out, 30000)) {
        fprintf(stderr, "ws_client.py did not answer \"%s\"\n", line);
        exit(1);
    }
    printf("  %s -> %s\n", line, out);
    return out;
}

static void mode_python(uint16_t port, char **argv) {
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", NULL};
    CHECK(fake_peer_start_piped(&g_client, peer_argv, 20000));
    char line[256];
    snprintf(line, sizeof line, "connect ws://127.0.0.1:%u/db/_blipsync %s", port, LT_PROTOCOL);
    CHECK(strncmp(cmd(line), "OPEN " LT_PROTOCOL, 5 + strlen(LT_PROTOCOL)) == 0);
    C4Socket *sv = lt_server(0);
    CHECK(fake_wait_opened(sv, 10000));
    /* Alive both ways: a message from it, one to it. */
    CHECK(strcmp(cmd("send binary 1000 3"), "SENT") == 0);
    size_t n = 0;
    void *m = fake_socket_next_message(sv, 10000, &n);
    CHECK(m != NULL && n == 1000);
    free(m);
    double heard = fake_now_s();
    fake_socket_write(sv, "ping me", 7);
    CHECK(strncmp(cmd("recv 10"), "MSG binary 7 ", 13) == 0);
    CHECK_EQ_INT(kill(g_client.pid, SIGSTOP), 0);
    printf("  ws_client.py (pid %d) stopped (SIGSTOP)\n", g_client.pid);
    /* The kernel still takes what LiteCore sends. */
    unsigned char *big = lt_message(64 * 1024, 1);
    fake_socket_write(sv, big, 64 * 1024);
    free(big);
    CHECK(fake_wait_closed(sv, 15000));
    check_timeout(0, fake_now_s() - heard);
    fault_check_buffers_released(5000);
    CHECK_EQ_INT(kill(g_client.pid, SIGKILL), 0);
    fake_peer_stop(&g_client);
}

int main(int argc, char **argv) {
    CHECK(argc == 2 || argc == 3);
    signal(SIGPIPE, SIG_IGN);
    lt_init();
    lt.echo = false;
    lcws_set_log_level(3);
    fake_reset_log();
    LcwsListenerConfig c = lt_config();
    c.heartbeat_seconds = HEARTBEAT_S;
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &g_db);
    uint16_t port = lcws_listener_port(l);
    if (argc == 2 && strcmp(argv[1], "raw") == 0) mode_raw(port);
    else if (argc == 3) mode_python(port, argv);
    else {
        fprintf(stderr, "usage: %s raw | PYTHON WS_CLIENT\n", argv[0]);
        return 2;
    }
    CHECK(lt_wait_status(l, 0, 5000));
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
    lf_check_nothing_left();
    CHECK_EQ_INT(lt.calls_after_free, 0);
    puts(argc == 2 ? "fault_listener_freeze raw ok" : "fault_listener_freeze python ok");
    return 0;
}
