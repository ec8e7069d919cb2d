/* lcws_listener_free under load, litecore-ws's client and raw clients against the listener, the
 * fake LiteCore on both ends.
 *
 *   test_fault_listener_stop transfers
 *       50 litecore-ws clients stream to the listener (16 KiB messages within LiteCore's 64 KiB
 *       window; the passive replicators echo them), and keep writing while lcws_listener_free
 *       runs. Proves: free returns OK within 8 s; when it returns every server socket already had
 *       its one closed and every replicator was released; every client ends with the transient
 *       {WebSocket, 4001} (or a reset: {WebSocket, 1006} / {Network, 18}), exactly one closed;
 *       every socket disposed, every write buffer released, a "closing with 4001" log line per
 *       server socket.
 *   test_fault_listener_stop race ROUNDS
 *       ROUNDS times: a listener with password authentication; two threads connect raw clients in
 *       a loop (some close with a Close frame after the 101, some drop TCP after it, some give up
 *       half way through the request) and 4 litecore-ws clients are open; lcws_listener_free runs
 *       while the loop goes on. Proves: free returns OK within 8 s; every socket handed to
 *       LiteCore had its one closed and its release before free returned; no host callback
 *       (accept, release, check_password, release_database) after free returned, checked for
 *       300 ms of clients still connecting; every socket disposed, every buffer released; the
 *       process has no more fds or threads after the rounds than after the first one. */
#define LT_MAX_SOCKETS 1024
#include "fault_listener_util.h"

#include <stdatomic.h>

static int g_db;

/* ---- transfers ---- */

#define CLIENTS 50
#define MSG (16 * 1024)
#define WINDOW (64 * 1024)

static C4Socket *g_clients[CLIENTS];
static size_t g_written[CLIENTS];
static atomic_int g_pump_run = 1;

/* LiteCore's writers on the client side: 16 KiB messages within the window, until each client
 * is closed or the pump is stopped. */
static void *pump(void *unused) {
    (void)unused;
    unsigned char *buf = (unsigned char *)malloc(MSG);
    CHECK(buf != NULL);
    fault_fill(buf, 2, MSG);
    while (atomic_load(&g_pump_run)) {
        int wrote = 0;
        for (int i = 0; i < CLIENTS; i++) {
            FakeSocketState st = fake_socket_state(g_clients[i]);
            if (st.closed_calls) continue;
            if (g_written[i] - st.bytes_written_acked + MSG <= WINDOW) {
                fake_socket_write(g_clients[i], buf, MSG);
                g_written[i] += MSG;
                wrote = 1;
            }
        }
        if (!wrote) fault_sleep_ms(1);
    }
    free(buf);
    return NULL;
}

static void mode_transfers(void) {
    lcws_set_log_level(2); /* the listener's closes are info lines */
    fake_reset_log();
    lt.keep_messages = false;
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &g_db);
    uint16_t port = lcws_listener_port(l);
    for (int i = 0; i < CLIENTS; i++) {
        g_clients[i] = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
        fake_socket_keep_messages(g_clients[i], false);
    }
    for (int i = 0; i < CLIENTS; i++) CHECK(fake_wait_opened(g_clients[i], 30000));
    CHECK(lt_wait_count(&lt.accepted, CLIENTS, 10000));
    pthread_t pumper;
    CHECK(pthread_create(&pumper, NULL, pump, NULL) == 0);
    /* Every client well under way: 256 KiB echoed back. */
    double deadline = fake_now_s() + 60;
    for (int i = 0; i < CLIENTS; i++) {
        while (fake_socket_state(g_clients[i]).bytes_received < 256 * 1024) {
            CHECK(fake_now_s() < deadline);
            fault_sleep_ms(5);
        }
    }
    size_t total = 0;
    for (int i = 0; i < CLIENTS; i++) total += fake_socket_state(g_clients[i]).bytes_received;
    printf("  %d clients streaming, %zu bytes echoed so far; lcws_listener_free\n", CLIENTS, total);

    double t0 = fake_now_s();
    LcwsStatus st = lt_free(l);
    double took = fake_now_s() - t0;
    printf("  lcws_listener_free returned %d after %.2f s\n", st, took);
    CHECK_EQ_INT(st, LCWS_STATUS_OK);
    CHECK(took < 8);
    /* Already done when free returned: one closed per server socket, every release. */
    for (int i = 0; i < CLIENTS; i++) {
        CHECK_EQ_INT(fake_socket_state(lt_server(i)).closed_calls, 1);
        CHECK(lt_wait_released(i, 0));
    }
    /* The clients go on writing until their closed comes. */
    int by_4001 = 0, by_reset = 0;
    for (int i = 0; i < CLIENTS; i++) CHECK(fake_wait_closed(g_clients[i], 20000));
    atomic_store(&g_pump_run, 0);
    pthread_join(pumper, NULL);
    for (int i = 0; i < CLIENTS; i++) {
        FakeSocketState cs = peer_test_finish(g_clients[i], 10000);
        if (cs.closed_error.domain == 6 && cs.closed_error.code == 4001) {
            by_4001++;
            CHECK_EQ_INT(cs.close_requested_calls, 1);
        } else {
            LF_CHECK_LOST(cs);
            by_reset++;
        }
    }
    int server_4001 = 0;
    for (int i = 0; i < CLIENTS; i++) {
        FakeSocketState ss = lt_finish_server(i, 1000);
        if (ss.closed_error.domain == 6 && ss.closed_error.code == 4001) server_4001++;
        else LF_CHECK_LOST(ss);
    }
    printf("  clients: %d closed with {WebSocket, 4001}, %d by a reset; server sockets: %d with 4001\n", by_4001,
           by_reset, server_4001);
    CHECK_EQ_INT(lf_log_count("closing with 4001: the listener is stopping"), CLIENTS);
    lf_check_log("closing with 4001: the listener is stopping");
    lf_check_log("stopped");
}

/* ---- race ---- */

static atomic_int g_port;
static atomic_int g_run = 1;
static atomic_long g_connects, g_refused_tcp, g_upgraded, g_answered_other, g_no_answer;

static void *connector(void *arg) {
    long k = (long)(intptr_t)arg;
    char req[2048];
    while (atomic_load(&g_run)) {
        int port = atomic_load(&g_port);
        if (!port) {
            fault_sleep_ms(1);
            continue;
        }
        int fd = lf_connect((uint16_t)port);
        if (fd < 0) {
            atomic_fetch_add(&g_refused_tcp, 1);
            fault_sleep_ms(1);
            continue;
        }
        atomic_fetch_add(&g_connects, 1);
        /* alice:pw1 */
        int n = lf_request(req, sizeof req, (uint16_t)port, "db", "Authorization: Basic YWxpY2U6cHcx\r\n");
        LfRaw *r = lf_raw_new(fd);
        int kind = (int)(k++ % 3);
        if (kind == 2) {
            /* Half a request, then gone. */
            lf_send_all(fd, req, (size_t)n / 2);
            lf_raw_free(r);
            continue;
        }
        int status = lf_send_all(fd, req, (size_t)n) ? lf_read_head(r, 5000, NULL, 0, NULL) : 0;
        if (status == 101) {
            atomic_fetch_add(&g_upgraded, 1);
            if (kind == 0) lf_send_frame(fd, 1, 0x8, "\x03\xe8", 2, 1); /* Close 1000, then TCP */
        } else if (status) {
            atomic_fetch_add(&g_answered_other, 1);
        } else {
            atomic_fetch_add(&g_no_answer, 1);
        }
        lf_raw_free(r);
    }
    return NULL;
}

static const FlEntry basic_ok[] = {FL_S("password", "pw1"), FL_S("type", "Basic"), FL_S("username", "alice")};

static void race_round(int round) {
    LcwsListenerConfig c = lt_config();
    c.check_password = lt_check_password;
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &g_db);
    uint16_t port = lcws_listener_port(l);
    atomic_store(&g_port, port);
    /* Four clients that stay open (and answer the listener's Close). */
    const FlEntry auth[] = {FL_DICT_OF("auth", basic_ok)};
    C4Socket *held[4];
    for (int i = 0; i < 4; i++) held[i] = lt_client("ws", port, "db", auth, 1);
    /* The loop is under way: some raw clients went through. */
    CHECK(lt_wait_count(&lt.accepted, 14 + round, 20000));
    fault_sleep_ms(round % 4);
    int accepted_before = lt_count(&lt.accepted);
    double t0 = fake_now_s();
    LcwsStatus st = lt_free(l);
    double took = fake_now_s() - t0;
    atomic_store(&g_port, 0);
    CHECK_EQ_INT(st, LCWS_STATUS_OK);
    CHECK(took < 8);
    /* When free returned: every socket handed over had its closed and its release. */
    pthread_mutex_lock(&lt.mu);
    int accepted = lt.accepted, released = lt.released;
    pthread_mutex_unlock(&lt.mu);
    for (int i = 0; i < accepted; i++) {
        FakeSocketState s = fake_socket_state(lt_server(i));
        if (s.closed_calls != 1 || !lt_wait_released(i, 0)) {
            fprintf(stderr, "round %d: server socket %d: %d closed, %sreleased when free returned\n", round, i,
                    s.closed_calls, lt_wait_released(i, 0) ? "" : "not ");
            exit(1);
        }
    }
    CHECK_EQ_INT(released, accepted);
    /* Clients keep trying (refused by the kernel now): no host callback comes any more. */
    fault_sleep_ms(300);
    CHECK_EQ_INT(lt_count(&lt.calls_after_free), 0);
    CHECK_EQ_INT(lt_count(&lt.accepted), accepted);
    for (int i = 0; i < 4; i++) {
        FakeSocketState cs = peer_test_finish(held[i], 10000);
        CHECK_ERROR(cs, 6, 4001);
    }
    int codes[8] = {0};
    for (int i = 0; i < accepted; i++) {
        FakeSocketState s = lt_finish_server(i, 5000);
        if (s.closed_error.code == 0) codes[0]++;
        else if (s.closed_error.domain == 6 && s.closed_error.code == 4001) codes[1]++;
        else if (s.closed_error.domain == 6 && s.closed_error.code == 1006) codes[2]++;
        else codes[3]++;
    }
    printf("  round %d: %d accepted (%d before free), free took %.3f s; server sockets closed: %d clean, %d 4001, "
           "%d 1006, %d other\n",
           round, accepted, accepted_before, took, codes[0], codes[1], codes[2], codes[3]);
    lt_forget_finished();
    fault_check_buffers_released(5000);
}

static void mode_race(int rounds) {
    lt.keep_messages = false;
    lt.password = "pw1";
    pthread_t threads[2];
    for (long i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, connector, (void *)(intptr_t)i) == 0);
    int fds0 = 0;
    long threads0 = 0;
    for (int round = 0; round < rounds; round++) {
        race_round(round);
        if (round == 0) {
            fds0 = fault_count_fds();
            threads0 = fault_status_field("Threads");
        }
    }
    atomic_store(&g_run, 0);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    printf("  raw clients: %ld connected, %ld refused by the kernel, %ld upgraded, %ld answered otherwise, %ld "
           "without an answer\n",
           (long)g_connects, (long)g_refused_tcp, (long)g_upgraded, (long)g_answered_other, (long)g_no_answer);
    CHECK(g_upgraded > 0);
    /* The connector threads are gone: no more fds or threads than after the first round (the
     * runtime's threads may still be winding down: wait, bounded). */
    int fds1;
    long threads1;
    fault_wait_settled(fds0, threads0 - 2, &fds1, &threads1);
    printf("  after round 1: %d fds, %ld threads (2 connectors); at the end: %d fds, %ld threads\n", fds0, threads0,
           fds1, threads1);
    if (fds1 > fds0) fault_list_fds("at the end");
    CHECK(fds1 <= fds0);
    CHECK(threads1 <= threads0 - 2);
}

int main(int argc, char **argv) {
    CHECK(argc >= 2);
    signal(SIGPIPE, SIG_IGN);
    lt_init();
    if (strcmp(argv[1], "transfers") == 0) {
        mode_transfers();
    } else if (strcmp(argv[1], "race") == 0 && argc == 3) {
        mode_race(atoi(argv[2]));
    } else {
        fprintf(stderr, "usage: %s transfers | race ROUNDS\n", argv[0]);
        return 2;
    }
    lf_check_nothing_left();
    CHECK_EQ_INT(lt_count(&lt.calls_after_free), 0);
    printf("fault_listener_stop %s ok\n", argv[1]);
    return 0;
}
